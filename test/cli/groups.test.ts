// The deprecated group commands: what they write, and that they refuse once
// the groups are migrated to rules (no group left).

import { describe, expect, it } from 'vitest';

import { PATHS } from '../../src/env/node/layout.js';
import { createHarness, paramError, type Harness } from './harness.js';

const G1 = 'group: g1\n\tnodes node1:2,node2\n\trestricted 1\n\n';

async function withGroup(): Promise<Harness> {
  const h = createHarness();
  await h.write(PATHS.groups, G1);
  return h;
}

describe('once groups are migrated', () => {
  it.each([
    [['groupconfig'], 'cannot index groups: ha groups have been migrated to rules\n'],
    [['grouplist'], 'cannot index groups: ha groups have been migrated to rules\n'],
    [['groupadd', 'g2', '--nodes', 'node1'], 'cannot create group: ha groups have been migrated to rules\n'],
    [['groupset', 'g1', '--nofailback'], 'cannot update group: ha groups have been migrated to rules\n'],
    [['groupremove', 'g1'], 'cannot delete group: ha groups have been migrated to rules\n'],
  ])('%j refuses', async (args, message) => {
    const h = createHarness();
    expect(await h.run(...args)).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await h.read(PATHS.groups)).toBeUndefined();
  });
});

describe('groupconfig and grouplist', () => {
  it('prints each group with its settings', async () => {
    const h = await withGroup();
    await h.run('groupadd', 'a-first', '--nodes', 'node3', '--comment', 'spare');
    expect(await h.run('groupconfig')).toEqual({
      code: 0,
      stdout: 'group: a-first\n\tcomment spare\n\tnodes node3\n\ngroup: g1\n\tnodes node1:2,node2\n\trestricted 1\n\n',
      stderr: '',
    });
  });

  it('lists the names as a table, or as JSON', async () => {
    const h = await withGroup();
    await h.run('groupadd', 'a-first', '--nodes', 'node3');
    expect((await h.run('grouplist')).stdout).toBe(
      '+---------+\n| group   |\n+=========\n| a-first |\n+---------+\n| g1      |\n+---------+\n',
    );
    const json = JSON.parse((await h.run('grouplist', '--output-format', 'json')).stdout) as Array<{ group: string }>;
    expect(json.map((g) => g.group)).toEqual(['a-first', 'g1']);
  });
});

describe('groupadd', () => {
  it('writes the new group after the existing ones', async () => {
    const h = await withGroup();
    const r = await h.run('groupadd', 'g2', '--nodes', 'node3,node2:1', '--nofailback', '--restricted', '0', '--comment', 'two');
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await h.read(PATHS.groups)).toBe(`${G1}group: g2\n\tcomment two\n\tnodes node2:1,node3\n\tnofailback 1\n\trestricted 0\n\n`);
  });

  it.each([
    [['groupadd', 'g1', '--nodes', 'node3'], 1, "create ha group failed: ha group ID 'g1' already defined\n"],
  ])('refuses %j', async (args, code, message) => {
    const h = await withGroup();
    const r = await h.run(...args);
    expect(r.code).toBe(code);
    expect(r.stderr.startsWith(message)).toBe(true);
    expect(await h.read(PATHS.groups)).toBe(G1);
  });

  it.each([
    [['groupadd', 'g2', '--nodes', 'node3', '--type', 'rule'], { type: "value 'rule' does not have a value in the enumeration 'group'" }],
    [['groupadd', 'g2'], { nodes: 'property is missing and it is not optional' }],
    [['groupadd', 'g2', '--nodes', 'node_1'], { nodes: "'node_1' is not a valid node entry (expected <node>[:<priority>], e.g. node1:2)" }],
    [['groupadd', 'g2', '--nodes', ''], { nodes: 'expected a non-empty list' }],
  ])('refuses the parameters of %j', async (args, errors) => {
    const h = await withGroup();
    expect(await h.run(...args)).toEqual({
      code: 2,
      stdout: '',
      stderr: paramError('ha-manager groupadd <group> --nodes <node>[:<pri>]{,<node>[:<pri>]}* [OPTIONS]', errors),
    });
    expect(await h.read(PATHS.groups)).toBe(G1);
  });
});

describe('groupset', () => {
  it('changes and deletes settings', async () => {
    const h = await withGroup();
    expect((await h.run('groupset', 'g1', '--nodes', 'node3', '--comment', 'moved', '--delete', 'restricted')).code).toBe(0);
    expect(await h.read(PATHS.groups)).toBe('group: g1\n\tcomment moved\n\tnodes node3\n\n');
  });

  it.each([
    [['groupset', 'g2', '--comment', 'x'], "update ha group failed: no such ha group 'g2'\n"],
    [['groupset', 'g1', '--comment', 'x', '--digest', 'abc'], 'update ha group failed: detected modified configuration - file changed by other user? Try again.\n'],
  ])('refuses %j', async (args, message) => {
    const h = await withGroup();
    expect(await h.run(...args)).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await h.read(PATHS.groups)).toBe(G1);
  });
});

describe('groupset parameters', () => {
  it.each([
    [['groupset', 'g1', '--delete', 'nodes'], { delete: "unable to delete required option 'nodes'" }],
    [['groupset', 'g1', '--delete', 'priority'], { delete: "no such option 'priority' (deletable: comment, nofailback, restricted)" }],
  ])('refuses %j', async (args, errors) => {
    const h = await withGroup();
    expect(await h.run(...args)).toEqual({ code: 2, stdout: '', stderr: paramError('ha-manager groupset <group> [OPTIONS]', errors) });
    expect(await h.read(PATHS.groups)).toBe(G1);
  });
});

describe('groupremove', () => {
  it('deletes an unused group', async () => {
    const h = await withGroup();
    await h.run('groupadd', 'g2', '--nodes', 'node3');
    expect(await h.run('groupremove', 'g2')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await h.read(PATHS.groups)).toBe(G1);
  });

  it('refuses a group a resource uses, and an unknown one', async () => {
    const h = await withGroup();
    await h.guest('node1', 'vm:100');
    await h.run('add', 'vm:100', '--group', 'g1');
    expect((await h.run('groupremove', 'g1')).stderr).toBe("delete ha group failed: ha group is used by service 'vm:100'\n");
    expect((await h.run('groupremove', 'g9')).stderr).toBe("delete ha group failed: no such ha group 'g9'\n");
    expect(await h.read(PATHS.groups)).toBe(G1);
  });

  it('removing the last group migrates the groups: rules can be created, groups no longer', async () => {
    const h = await withGroup();
    await h.guest('node1', 'vm:100');
    await h.guest('node2', 'vm:102');
    await h.run('add', 'vm:100');
    await h.run('add', 'vm:102');
    const before = await h.run('rules', 'add', 'resource-affinity', 'pair', '--resources', 'vm:100,vm:102', '--affinity', 'positive');
    expect(before.stderr).toBe('cannot create ha rule: ha groups have not been migrated yet\n');
    expect((await h.run('groupremove', 'g1')).code).toBe(0);
    expect(await h.read(PATHS.groups)).toBe('');
    const after = await h.run('rules', 'add', 'resource-affinity', 'pair', '--resources', 'vm:100,vm:102', '--affinity', 'positive');
    expect(after.code).toBe(0);
    expect((await h.run('groupadd', 'g1', '--nodes', 'node1')).code).toBe(1);
  });
});
