// `add`, `set`, `remove` and `config`: the resources.cfg each writes, and
// every refusal.

import { describe, expect, it } from 'vitest';

import { adminResourceTypes } from '../../src/admin/context.js';
import { NODE_RESOURCE_TYPES } from '../../src/env/node/resource-types.js';
import { PATHS } from '../../src/env/node/layout.js';
import { createHarness, paramError, usageError, type Harness } from './harness.js';

const ADD = 'ha-manager add <sid> [OPTIONS]';
const SET = 'ha-manager set <sid> [OPTIONS]';

async function cluster(): Promise<Harness> {
  const h = createHarness();
  await h.guest('node1', 'vm:100');
  await h.guest('node2', 'ct:101');
  await h.guest('node2', 'vm:102');
  return h;
}

describe('add', () => {
  it('adds a VM by guest id with its settings', async () => {
    const h = await cluster();
    const r = await h.run('add', '100', '--max_restart', '2', '--comment', 'web front', '--failback', '0');
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await h.read(PATHS.resources)).toBe('vm: 100\n\tcomment web front\n\tfailback 0\n\tmax_restart 2\n\n');
  });

  it('resolves a bare id of a container to ct:<id> and appends after existing sections', async () => {
    const h = await cluster();
    await h.run('add', 'vm:102', '--state', 'stopped');
    expect((await h.run('add', '101', '--max_relocate', '0', '--failback')).code).toBe(0);
    expect(await h.read(PATHS.resources)).toBe('vm: 102\n\tstate stopped\n\nct: 101\n\tfailback 1\n\tmax_relocate 0\n\n');
  });

  it('refuses a resource that is already configured', async () => {
    const h = await cluster();
    await h.run('add', 'vm:100');
    const r = await h.run('add', '100', '--state', 'stopped');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("create resource failed: resource ID 'vm:100' already defined\n");
    expect(await h.read(PATHS.resources)).toBe('vm: 100\n\n');
  });

  it.each([
    [['add', '103'], 'unable to detect SID from VMID - VM/CT 103 does not exist\n'],
    [['add', 'vm:103'], "resource 'vm:103' does not exist in cluster\n"],
    [['add', 'ct:102'], "resource 'ct:102' - guest with ID 102 is not a container\n"],
    [['add', 'vm:101'], "resource 'vm:101' - guest with ID 101 is not a VM\n"],
    [['add', 'vm:100', '--group', 'g1'], "invalid parameter 'group': ha groups have been migrated to rules\n"],
  ])('refuses %j', async (args, message) => {
    const h = await cluster();
    const r = await h.run(...args);
    expect(r).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await h.read(PATHS.resources)).toBeUndefined();
  });

  it.each([
    [['add', 'x'], { sid: "'x' does not look like a valid ha resource id (expected <type>:<name>, e.g. vm:100, or a guest id, e.g. 100)" }],
    [['add', 'vm:7'], { sid: "invalid VMID '7' (expected a number from 10 up)" }],
    [['add', 'foo:1'], { sid: "unknown resource type 'foo' (expected one of vm, ct)" }],
    [['add', 'vm:100', '--type', 'ct'], { type: "types does not match: 'ct' given for 'vm:100'" }],
    [['add', 'vm:100', '--node', 'node1'], { node: "only for resource types that are not guests; 'vm:100' runs where its guest config is (node 'node1')" }],
    [['add', 'vm:100', '--max_restart', '-1'], { max_restart: 'value must have a minimum value of 0' }],
    [['add', 'vm:100', '--max_relocate', 'two'], { max_relocate: "type check ('integer') failed - got 'two'" }],
    [['add', 'vm:100', '--state', 'running'], { state: "value 'running' does not have a value in the enumeration 'started, stopped, enabled, disabled, ignored'" }],
    [['add', 'vm:100', '--failback', 'maybe'], { failback: "type check ('boolean') failed - got 'maybe' (expected 1/0, yes/no, on/off or true/false)" }],
    [['add', 'vm:100', '--group', '1x'], { group: "'1x' is not a valid id (expected a letter followed by at least one letter, digit, '_' or '-')" }],
    [['add'], { sid: 'property is missing and it is not optional' }],
    [['add', 'vm:100', '--max_restart', '9999999999999999999999', '--comment', 'a\nb'], { max_restart: 'value must have a maximum value of 9007199254740991', comment: 'value must fit on one line (no line breaks)' }],
  ])('refuses the parameters of %j, naming each', async (args, errors) => {
    const h = await cluster();
    expect(await h.run(...args)).toEqual({ code: 2, stdout: '', stderr: paramError(ADD, errors) });
    expect(await h.read(PATHS.resources)).toBeUndefined();
  });

  it.each([
    [['add', 'vm:100', '--bogus'], "unknown option '--bogus' (options: --comment, --failback, --group, --max_relocate, --max_restart, --node, --state, --type)"],
    [['add', 'vm:100', 'vm:101'], "too many arguments: 'vm:101'"],
    [['add', 'vm:100', '--state', 'started', '--state', 'stopped'], "option '--state' given twice"],
    [['add', 'vm:100', '--state'], "option '--state' needs a value (<string>)"],
  ])('rejects the command line %j', async (args, message) => {
    const h = await cluster();
    expect(await h.run(...args)).toEqual({ code: 2, stdout: '', stderr: usageError(ADD, message) });
    expect(await h.read(PATHS.resources)).toBeUndefined();
  });

  it('refuses without quorum', async () => {
    const h = await cluster();
    h.store.setMembership({ nodes: { node1: { online: true }, node2: { online: false }, node3: { online: false } }, quorate: false });
    expect(await h.run('add', 'vm:100')).toEqual({ code: 3, stdout: '', stderr: 'cluster not ready - no quorum?\n' });
  });

  it('takes a group while groups are still in use', async () => {
    const h = await cluster();
    await h.write(PATHS.groups, 'group: g1\n\tnodes node1\n\n');
    expect((await h.run('add', 'vm:100', '--group', 'g1')).code).toBe(0);
    expect(await h.read(PATHS.resources)).toBe('vm: 100\n\tgroup g1\n\n');
  });

  it('refuses to rewrite a resources.cfg it cannot fully read', async () => {
    const h = await cluster();
    await h.write(PATHS.resources, 'vm: 102\n\tstate bogus\n\n');
    const r = await h.run('add', 'vm:100');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'create resource failed: ha/resources.cfg has errors; fix them before changing it (writing it back would drop them):\n' +
        "ha/resources.cfg line 2, field 'state': value 'bogus' is not one of started, stopped, enabled, disabled, ignored\n",
    );
    expect(await h.read(PATHS.resources)).toBe('vm: 102\n\tstate bogus\n\n');
  });
});

describe('add of a resource that is not a guest', () => {
  const types = adminResourceTypes(NODE_RESOURCE_TYPES);

  it('writes the location marker on the given node', async () => {
    const h = createHarness({ resourceTypes: types });
    expect(await h.run('add', 'exec:web', '--node', 'node2', '--state', 'stopped')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await h.read(PATHS.resources)).toBe('exec: web\n\tstate stopped\n\n');
    expect(await h.read('nodes/node2/ha-resources/exec:web')).toBe('');
  });

  it('uses an existing marker when no node is given, or the same node is', async () => {
    const h = createHarness({ resourceTypes: types });
    await h.write('nodes/node3/ha-resources/exec:db', '');
    expect((await h.run('add', 'exec:db')).code).toBe(0);
    await h.run('remove', 'exec:db');
    expect((await h.run('add', 'exec:db', '--node', 'node3')).code).toBe(0);
    expect(await h.store.list('nodes')).toEqual(['node3']);
  });

  it.each([
    [[], "resource 'exec:web' has no location yet: give the node it runs on (--node <node>)\n"],
    [['--node', 'node9'], "no such cluster node 'node9'\n"],
  ])('refuses without a usable location %j', async (extra, message) => {
    const h = createHarness({ resourceTypes: types });
    expect(await h.run('add', 'exec:web', ...extra)).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await h.read(PATHS.resources)).toBeUndefined();
  });

  it('refuses a node other than the one the marker is on', async () => {
    const h = createHarness({ resourceTypes: types });
    await h.write('nodes/node1/ha-resources/exec:web', '');
    const r = await h.run('add', 'exec:web', '--node', 'node2');
    expect(r.stderr).toBe("resource 'exec:web' is already located on node 'node1', not 'node2'\n");
    expect(await h.read('nodes/node2/ha-resources/exec:web')).toBeUndefined();
  });

  it('refuses markers on several nodes', async () => {
    const h = createHarness({ resourceTypes: types });
    await h.write('nodes/node1/ha-resources/exec:web', '');
    await h.write('nodes/node2/ha-resources/exec:web', '');
    expect((await h.run('add', 'exec:web')).stderr).toBe(
      "resource 'exec:web' is marked on several nodes (node1, node2); remove all markers but one\n",
    );
  });

  it('refuses an invalid script name', async () => {
    const h = createHarness({ resourceTypes: types });
    expect(await h.run('add', 'exec:.hidden', '--node', 'node1')).toEqual({
      code: 2,
      stdout: '',
      stderr: paramError(ADD, { sid: "invalid script name '.hidden' (letters, digits, '.', '_', '-')" }),
    });
  });
});

describe('set', () => {
  it('changes and deletes settings', async () => {
    const h = await cluster();
    await h.run('add', 'vm:100', '--max_restart', '3', '--comment', 'old');
    expect(await h.run('set', '100', '--state', 'disabled', '--comment', 'new', '--delete', 'max_restart')).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
    expect(await h.read(PATHS.resources)).toBe('vm: 100\n\tcomment new\n\tstate disabled\n\n');
  });

  it('accepts --delete repeated and as a list', async () => {
    const h = await cluster();
    await h.run('add', 'vm:100', '--max_restart', '3', '--max_relocate', '2', '--failback', '0');
    expect((await h.run('set', 'vm:100', '--delete', 'max_restart,failback', '--delete', 'max_relocate')).code).toBe(0);
    expect(await h.read(PATHS.resources)).toBe('vm: 100\n\n');
  });

  it('checks the digest', async () => {
    const h = await cluster();
    await h.run('add', 'vm:100');
    const r = await h.run('set', 'vm:100', '--state', 'stopped', '--digest', '0000');
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'update resources config failed: detected modified configuration - file changed by other user? Try again.\n',
    });
  });

  it.each([
    [['set', 'vm:102', '--state', 'stopped'], "update resources config failed: no such resource 'vm:102'\n"],
    [['set', 'vm:100', '--group', 'g1'], "invalid parameter 'group': ha groups have been migrated to rules\n"],
    [['set', '104', '--state', 'stopped'], 'unable to detect SID from VMID - VM/CT 104 does not exist\n'],
  ])('refuses %j', async (args, message) => {
    const h = await cluster();
    await h.run('add', 'vm:100');
    expect(await h.run(...args)).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await h.read(PATHS.resources)).toBe('vm: 100\n\n');
  });

  it.each([
    [['set', 'vm:100', '--delete', 'node'], { delete: "no such option 'node' (deletable: state, group, failback, max_restart, max_relocate, comment)" }],
    [['set', 'vm:100', '--comment', 'x', '--delete', 'comment'], { delete: "cannot set and delete property 'comment' at the same time!" }],
    [['set', 'vm:100', '--digest', 'f'.repeat(65)], { digest: 'value may only be 64 characters long (got 65)' }],
  ])('refuses the parameters of %j', async (args, errors) => {
    const h = await cluster();
    await h.run('add', 'vm:100');
    expect(await h.run(...args)).toEqual({ code: 2, stdout: '', stderr: paramError(SET, errors) });
    expect(await h.read(PATHS.resources)).toBe('vm: 100\n\n');
  });

  it('refuses an unknown group while groups are in use', async () => {
    const h = await cluster();
    await h.write(PATHS.groups, 'group: g1\n\tnodes node1\n\n');
    await h.run('add', 'vm:100');
    expect((await h.run('set', 'vm:100', '--group', 'g2')).stderr).toBe("HA group 'g2' does not exist\n");
    expect((await h.run('set', 'vm:100', '--group', 'g1')).code).toBe(0);
  });

  it('takes only `disabled` for a resource in the error state', async () => {
    const h = await cluster();
    await h.run('add', 'vm:100');
    await h.managerStatus({ service_status: { 'vm:100': { node: 'node1', state: 'error' } } });
    expect(await h.run('set', 'vm:100', '--state', 'started')).toEqual({
      code: 1,
      stdout: '',
      stderr: "service 'vm:100' in error state, must be disabled and fixed first\n",
    });
    expect((await h.run('set', 'vm:100', '--state', 'disabled')).code).toBe(0);
    expect(await h.read(PATHS.resources)).toBe('vm: 100\n\tstate disabled\n\n');
  });
});

describe('remove', () => {
  it('removes the resource and purges it from rules, deleting rules left empty', async () => {
    const h = await cluster();
    await h.run('add', 'vm:100');
    await h.run('add', 'vm:102');
    await h.write(
      PATHS.rules,
      'node-affinity: alone\n\tnodes node1\n\tresources vm:100\n\n' +
        'resource-affinity: pair\n\taffinity positive\n\tresources vm:100,vm:102\n\n',
    );
    expect(await h.run('remove', '100')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await h.read(PATHS.resources)).toBe('vm: 102\n\n');
    expect(await h.read(PATHS.rules)).toBe('resource-affinity: pair\n\taffinity positive\n\tresources vm:102\n\n');
  });

  it('leaves the rules alone with --purge 0', async () => {
    const h = await cluster();
    await h.run('add', 'vm:100');
    const rules = 'node-affinity: alone\n\tnodes node1\n\tresources vm:100\n\n';
    await h.write(PATHS.rules, rules);
    expect((await h.run('remove', 'vm:100', '--purge', '0')).code).toBe(0);
    expect(await h.read(PATHS.resources)).toBe('');
    expect(await h.read(PATHS.rules)).toBe(rules);
  });

  it('removes an ignored resource', async () => {
    const h = await cluster();
    await h.run('add', 'vm:100', '--state', 'ignored');
    expect((await h.run('remove', 'vm:100')).code).toBe(0);
    expect(await h.read(PATHS.resources)).toBe('');
  });

  it('refuses a resource that is not configured', async () => {
    const h = await cluster();
    expect(await h.run('remove', 'vm:102')).toEqual({
      code: 1,
      stdout: '',
      stderr: "cannot delete service 'vm:102', not HA managed!\n",
    });
  });

  it('refuses before changing anything when its rules cannot be rewritten', async () => {
    const h = await cluster();
    await h.run('add', 'vm:100');
    const rules = 'node-affinity: alone\n\tnodes node1\n\tresources vm:100\n\tbogus 1\n\n';
    await h.write(PATHS.rules, rules);
    const r = await h.run('remove', 'vm:100');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "warning: ha/rules.cfg line 4, field 'bogus': unknown property for type 'node-affinity' (expected one of comment, disable, nodes, resources, strict)\n" +
        "delete resource failed: ha/rules.cfg has errors; fix them before 'vm:100' can be removed from its rules:\n" +
        "ha/rules.cfg line 4, field 'bogus': unknown property for type 'node-affinity' (expected one of comment, disable, nodes, resources, strict)\n",
    );
    expect(await h.read(PATHS.resources)).toBe('vm: 100\n\n');
    expect(await h.read(PATHS.rules)).toBe(rules);
  });
});

describe('config', () => {
  it('prints every resource with the settings it has, sorted by id', async () => {
    const h = await cluster();
    await h.run('add', 'vm:102', '--state', 'stopped', '--comment', 'db');
    await h.run('add', 'ct:101', '--max_restart', '0');
    await h.run('add', 'vm:100');
    expect(await h.run('config')).toEqual({
      code: 0,
      stdout: 'ct:101\n\tmax_restart 0\n\nvm:100\n\nvm:102\n\tcomment db\n\tstate stopped\n\n',
      stderr: '',
    });
    expect((await h.run('config', '--type', 'ct')).stdout).toBe('ct:101\n\tmax_restart 0\n\n');
  });

  it('hides group settings once groups are migrated, and flags groups that do not exist', async () => {
    const h = await cluster();
    await h.write(PATHS.resources, 'vm: 100\n\tgroup gone\n\nvm: 102\n\tgroup g1\n\n');
    expect((await h.run('config')).stdout).toBe('vm:100\n\nvm:102\n\n');
    await h.write(PATHS.groups, 'group: g1\n\tnodes node1\n\n');
    expect(await h.run('config')).toEqual({
      code: 0,
      stdout: 'vm:100\n\tgroup gone\n\nvm:102\n\tgroup g1\n\n',
      stderr: "error: property 'group' - group 'gone' does not exist\n",
    });
  });

  it('warns about lines it cannot read and shows the rest', async () => {
    const h = await cluster();
    await h.write(PATHS.resources, 'vm: 100\n\tmax_restart x\n\tstate stopped\n\n');
    expect(await h.run('config')).toEqual({
      code: 0,
      stdout: 'vm:100\n\tstate stopped\n\n',
      stderr: "warning: ha/resources.cfg line 2, field 'max_restart': value 'x' is not an integer\n",
    });
  });

  it('rejects an unknown type filter', async () => {
    const h = await cluster();
    expect(await h.run('config', '--type', 'exec')).toEqual({
      code: 2,
      stdout: '',
      stderr: paramError('ha-manager config [OPTIONS]', { type: "unknown resource type 'exec' (expected one of vm, ct)" }),
    });
  });
});
