// `rules add|set|remove|config|list`: the rules.cfg written, the checks a
// rule must pass (managed resources, existing nodes, feasibility against
// the other rules), and the tables and JSON printed.

import { describe, expect, it } from 'vitest';

import { PATHS } from '../../src/env/node/layout.js';
import { createHarness, paramError, type Harness, type HarnessOptions } from './harness.js';

const ADD = 'ha-manager rules add <type> <rule> [OPTIONS]';
const SET = 'ha-manager rules set <type> <rule> [OPTIONS]';

async function cluster(options: HarnessOptions = {}): Promise<Harness> {
  const h = createHarness(options);
  for (const [node, sid] of [
    ['node1', 'vm:100'],
    ['node1', 'vm:101'],
    ['node2', 'vm:102'],
    ['node3', 'vm:103'],
  ]) {
    await h.guest(node, sid);
    await h.run('add', sid);
  }
  await h.managerStatus({ master_node: 'node1', timestamp: h.now, node_status: { node1: 'online', node2: 'online', node3: 'online' } });
  return h;
}

describe('rules add', () => {
  it('writes a node affinity rule', async () => {
    const h = await cluster();
    const r = await h.run('rules', 'add', 'node-affinity', 'prefer-1', '--resources', 'vm:101,vm:100', '--nodes', 'node2,node1:2', '--strict', '--comment', 'keep: on node1');
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await h.read(PATHS.rules)).toBe(
      'node-affinity: prefer-1\n\tcomment keep%3A on node1\n\tnodes node1:2,node2\n\tresources vm:100,vm:101\n\tstrict 1\n\n',
    );
  });

  it('writes a resource affinity rule, disabled when asked', async () => {
    const h = await cluster();
    expect((await h.run('rules', 'add', 'resource-affinity', 'apart', '--resources', 'vm:100', '--resources', 'vm:102', '--affinity', 'negative', '--disable')).code).toBe(0);
    expect(await h.read(PATHS.rules)).toBe('resource-affinity: apart\n\tdisable\n\taffinity negative\n\tresources vm:100,vm:102\n\n');
  });

  it('stores no `disable` for --disable 0', async () => {
    const h = await cluster();
    await h.run('rules', 'add', 'resource-affinity', 'pair', '--resources', 'vm:100,vm:101', '--affinity', 'positive', '--disable', '0');
    expect(await h.read(PATHS.rules)).toBe('resource-affinity: pair\n\taffinity positive\n\tresources vm:100,vm:101\n\n');
  });

  it("places a new rule right after the first one, as the reference's next ordinal does", async () => {
    const h = await cluster();
    await h.run('rules', 'add', 'resource-affinity', 'ra', '--resources', 'vm:100,vm:101', '--affinity', 'positive');
    await h.run('rules', 'add', 'resource-affinity', 'rc', '--resources', 'vm:102,vm:103', '--affinity', 'positive');
    expect((await h.run('rules', 'add', 'node-affinity', 'rb', '--resources', 'vm:102', '--nodes', 'node2')).code).toBe(0);
    const text = (await h.read(PATHS.rules)) ?? '';
    expect([...text.matchAll(/^\S+: (\S+)$/gm)].map((m) => m[1])).toEqual(['ra', 'rb', 'rc']);
  });

  it('accepts the local node even when it is no cluster member', async () => {
    const h = await cluster({ nodename: 'solo' });
    expect((await h.run('rules', 'add', 'node-affinity', 'here', '--resources', 'vm:100', '--nodes', 'solo')).code).toBe(0);
  });

  it.each([
    [['node-affinity', 'r1', '--resources', 'vm:100,vm:109,ct:5', '--nodes', 'node1'], 'create ha rule failed: cannot use unmanaged resource(s) ct:5, vm:109.\n'],
    [['node-affinity', 'r1', '--resources', 'vm:100', '--nodes', 'node9,node1,node8:3'], 'create ha rule failed: cannot use non-existent node(s) node8, node9.\n'],
    [['resource-affinity', 'r1', '--resources', 'vm:100', '--affinity', 'positive'], "create ha rule failed: rule 'r1' is invalid:\nresources: rule is ineffective as there are less than two resources\n"],
    [['resource-affinity', 'r1', '--resources', 'vm:100,vm:101,vm:102,vm:103', '--affinity', 'negative'], "create ha rule failed: rule 'r1' is invalid:\nresources: rule defines more resources than available nodes\n"],
  ])('refuses %j', async (args, message) => {
    const h = await cluster();
    expect(await h.run('rules', 'add', ...args)).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await h.read(PATHS.rules)).toBeUndefined();
  });

  it('refuses a rule conflicting with the existing rules, and an existing name', async () => {
    const h = await cluster();
    await h.run('rules', 'add', 'resource-affinity', 'together', '--resources', 'vm:100,vm:101', '--affinity', 'positive');
    await h.run('rules', 'add', 'node-affinity', 'pin', '--resources', 'vm:102', '--nodes', 'node2');
    const written = await h.read(PATHS.rules);

    expect((await h.run('rules', 'add', 'resource-affinity', 'apart', '--resources', 'vm:100,vm:101', '--affinity', 'negative')).stderr).toBe(
      "create ha rule failed: rule 'apart' is invalid:\nresources: rule shares two or more resources with a positive resource affinity rule\n",
    );
    expect((await h.run('rules', 'add', 'node-affinity', 'pin2', '--resources', 'vm:102', '--nodes', 'node3')).stderr).toBe(
      "create ha rule failed: rule 'pin2' is invalid:\nresources: resource 'vm:102' is already used in another node affinity rule\n",
    );
    expect((await h.run('rules', 'add', 'node-affinity', 'prio', '--resources', 'vm:100', '--nodes', 'node1:2,node2')).stderr).toBe(
      "create ha rule failed: rule 'prio' is invalid:\nresources: resources are in a resource affinity rule and cannot be in a node affinity rule with multiple priorities\n",
    );
    expect((await h.run('rules', 'add', 'node-affinity', 'pin', '--resources', 'vm:103', '--nodes', 'node3')).stderr).toBe(
      "create ha rule failed: HA rule 'pin' already defined\n",
    );
    expect(await h.read(PATHS.rules)).toBe(written);
  });

  it('checks a negative rule against the cluster members before any master ran', async () => {
    const h = await cluster();
    await h.managerStatus({});
    expect((await h.run('rules', 'add', 'resource-affinity', 'apart', '--resources', 'vm:100,vm:102,vm:103', '--affinity', 'negative')).code).toBe(0);
  });

  it('lets a disabled rule through the feasibility checks', async () => {
    const h = await cluster();
    expect((await h.run('rules', 'add', 'resource-affinity', 'later', '--resources', 'vm:100', '--affinity', 'positive', '--disable')).code).toBe(0);
  });

  it.each([
    [['resource-affinity', 'r1', '--resources', 'vm:100,vm:101', '--nodes', 'node1'], { nodes: 'not valid for resource-affinity rules (expected resources, affinity, disable, comment)' }],
    [['node-affinity', 'r1', '--resources', 'vm:100', '--nodes', 'node1', '--affinity', 'positive'], { affinity: 'not valid for node-affinity rules (expected resources, nodes, strict, disable, comment)' }],
    [['node-affinity', 'r1', '--strict'], { nodes: 'property is missing and it is required for node-affinity rules', resources: 'property is missing and it is required for node-affinity rules' }],
    [['resource-affinity', 'r1', '--resources', 'vm:100,vm:101'], { affinity: 'property is missing and it is required for resource-affinity rules' }],
    [['location', 'r1'], { type: "value 'location' does not have a value in the enumeration 'node-affinity, resource-affinity'" }],
    [['node-affinity', '9r', '--resources', 'vm:100', '--nodes', 'node1'], { rule: "'9r' is not a valid id (expected a letter followed by at least one letter, digit, '_' or '-')" }],
    [['node-affinity', 'r1', '--resources', '100', '--nodes', 'node1'], { resources: "'100' is not a valid resource id (expected <type>:<name>, e.g. vm:100)" }],
    [['node-affinity', 'r1', '--resources', 'vm:100,vm:100', '--nodes', 'node1'], { resources: "'vm:100' is listed twice" }],
    [['node-affinity', 'r1', '--resources', 'vm:100', '--nodes', 'node1:2,node1'], { nodes: "'node1' is listed twice" }],
    [['node-affinity', 'r1', '--resources', 'vm:100', '--nodes', 'node1:99999999999999999999999'], { nodes: "'node1:99999999999999999999999' has a priority above the maximum of 9007199254740991" }],
    [['node-affinity', 'r1', '--resources', ',', '--nodes', 'node1'], { resources: 'expected a non-empty list' }],
  ])('refuses the parameters of %j, naming each', async (args, errors) => {
    const h = await cluster();
    expect(await h.run('rules', 'add', ...args)).toEqual({ code: 2, stdout: '', stderr: paramError(ADD, errors) });
    expect(await h.read(PATHS.rules)).toBeUndefined();
  });

  it('refuses while HA groups are in use', async () => {
    const h = await cluster();
    await h.write(PATHS.groups, 'group: g1\n\tnodes node1\n\n');
    expect((await h.run('rules', 'add', 'node-affinity', 'r1', '--resources', 'vm:100', '--nodes', 'node1')).stderr).toBe(
      'cannot create ha rule: ha groups have not been migrated yet\n',
    );
  });
});

describe('rules set', () => {
  async function withRules(): Promise<Harness> {
    const h = await cluster();
    await h.run('rules', 'add', 'node-affinity', 'pin', '--resources', 'vm:100', '--nodes', 'node1', '--comment', 'first');
    await h.run('rules', 'add', 'resource-affinity', 'apart', '--resources', 'vm:102,vm:103', '--affinity', 'negative');
    return h;
  }
  const PIN = 'node-affinity: pin\n\tcomment first\n\tnodes node1\n\tresources vm:100\n\n';
  const APART = 'resource-affinity: apart\n\taffinity negative\n\tresources vm:102,vm:103\n\n';

  it('changes settings and deletes optional ones', async () => {
    const h = await withRules();
    expect(await h.run('rules', 'set', 'node-affinity', 'pin', '--nodes', 'node2:1,node3:1', '--strict', '--delete', 'comment')).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
    expect(await h.read(PATHS.rules)).toBe(`node-affinity: pin\n\tnodes node2:1,node3:1\n\tresources vm:100\n\tstrict 1\n\n${APART}`);
  });

  it('disables with --disable and enables with --delete disable (not with --disable 0)', async () => {
    const h = await withRules();
    await h.run('rules', 'set', 'resource-affinity', 'apart', '--disable');
    const disabled = 'resource-affinity: apart\n\tdisable\n\taffinity negative\n\tresources vm:102,vm:103\n\n';
    expect(await h.read(PATHS.rules)).toBe(PIN + disabled);
    await h.run('rules', 'set', 'resource-affinity', 'apart', '--disable', '0');
    expect(await h.read(PATHS.rules)).toBe(PIN + disabled);
    await h.run('rules', 'set', 'resource-affinity', 'apart', '--delete', 'disable');
    expect(await h.read(PATHS.rules)).toBe(PIN + APART);
  });

  it.each([
    [['node-affinity', 'nope', '--strict'], "update HA rules failed: HA rule 'nope' does not exist\n"],
    [['resource-affinity', 'pin', '--affinity', 'positive'], "update HA rules failed: HA rule 'pin' is a node-affinity rule, not resource-affinity\n"],
    [['node-affinity', 'pin', '--resources', 'vm:100,vm:104'], 'update HA rules failed: cannot use unmanaged resource(s) vm:104.\n'],
    [['node-affinity', 'pin', '--nodes', 'node4'], 'update HA rules failed: cannot use non-existent node(s) node4.\n'],
    [['node-affinity', 'pin', '--strict', '--digest', 'ffff'], 'update HA rules failed: detected modified configuration - file changed by other user? Try again.\n'],
    [['resource-affinity', 'apart', '--resources', 'vm:100,vm:101,vm:102,vm:103'], "update HA rules failed: rule 'apart' is invalid:\nresources: rule defines more resources than available nodes\n"],
  ])('refuses %j', async (args, message) => {
    const h = await withRules();
    expect(await h.run('rules', 'set', ...args)).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await h.read(PATHS.rules)).toBe(PIN + APART);
  });

  it.each([
    [['node-affinity', 'pin', '--delete', 'nodes'], { delete: "unable to delete required option 'nodes'" }],
    [['node-affinity', 'pin', '--delete', 'affinity'], { delete: "no such option 'affinity' (deletable: strict, disable, comment)" }],
    [['node-affinity', 'pin', '--comment', 'x', '--delete', 'comment'], { delete: "cannot set and delete property 'comment' at the same time!" }],
  ])('refuses the parameters of %j', async (args, errors) => {
    const h = await withRules();
    expect(await h.run('rules', 'set', ...args)).toEqual({ code: 2, stdout: '', stderr: paramError(SET, errors) });
    expect(await h.read(PATHS.rules)).toBe(PIN + APART);
  });

  it('accepts the digest of the current file', async () => {
    const h = await withRules();
    const digest = (JSON.parse((await h.run('rules', 'list', '--output-format', 'json')).stdout) as Array<{ digest: string }>)[0].digest;
    expect((await h.run('rules', 'set', 'node-affinity', 'pin', '--strict', '--digest', digest)).code).toBe(0);
  });
});

describe('rules remove', () => {
  it('deletes the rule, and refuses an unknown one', async () => {
    const h = await cluster();
    await h.run('rules', 'add', 'node-affinity', 'pin', '--resources', 'vm:100', '--nodes', 'node1');
    await h.run('rules', 'add', 'node-affinity', 'pin2', '--resources', 'vm:101', '--nodes', 'node2');
    expect(await h.run('rules', 'remove', 'pin')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await h.read(PATHS.rules)).toBe('node-affinity: pin2\n\tnodes node2\n\tresources vm:101\n\n');
    expect(await h.run('rules', 'remove', 'pin')).toEqual({
      code: 1,
      stdout: '',
      stderr: "delete ha rule failed: HA rule 'pin' does not exist\n",
    });
  });
});

describe('rules config and list', () => {
  // Written by hand: the conflicting pair could not be added with the CLI.
  const RULES =
    'resource-affinity: together\n\taffinity positive\n\tresources vm:100,vm:101\n\n' +
    'resource-affinity: apart\n\taffinity negative\n\tresources vm:100,vm:101\n\n' +
    'node-affinity: pin\n\tcomment web tier\n\tdisable\n\tnodes node2\n\tresources vm:102\n\n' +
    'node-affinity: spare\n\tnodes node3\n\tresources vm:103\n\n';

  async function withRules(options: HarnessOptions = {}): Promise<Harness> {
    const h = await cluster(options);
    await h.write(PATHS.rules, RULES);
    return h;
  }

  it('shows each rule enabled or not, in use or ignored for conflicts; disabled rules first', async () => {
    const h = await withRules();
    expect(await h.run('rules', 'config')).toEqual({
      code: 0,
      stdout: [
        '+---------+---------------------+----------+-------------------+---------------+----------+',
        '| enabled | state               | rule     | type              | resources     | comment  |',
        '+=========+=====================+==========+===================+===============+==========+',
        '| 0       | in use              | pin      | node-affinity     | vm:102        | web tier |',
        '+---------+---------------------+----------+-------------------+---------------+----------+',
        '| 1       | ignored (conflicts) | together | resource-affinity | vm:100,vm:101 |          |',
        '+---------+---------------------+----------+-------------------+---------------+----------+',
        '| 1       | ignored (conflicts) | apart    | resource-affinity | vm:100,vm:101 |          |',
        '+---------+---------------------+----------+-------------------+---------------+----------+',
        '| 1       | in use              | spare    | node-affinity     | vm:103        |          |',
        '+---------+---------------------+----------+-------------------+---------------+----------+',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('lists rule names sorted, filtered by type or resource', async () => {
    const h = await withRules({ utf8: true });
    expect((await h.run('rules', 'list')).stdout).toBe(
      ['┌──────────┐', '│ rule     │', '╞══════════╡', '│ apart    │', '├──────────┤', '│ pin      │', '├──────────┤', '│ spare    │', '├──────────┤', '│ together │', '└──────────┘', ''].join('\n'),
    );
    expect((await h.run('rules', 'list', '--type', 'node-affinity', '--noborder', '--noheader')).stdout).toBe('pin\nspare\n');
    expect((await h.run('rules', 'list', '--resource', 'vm:101', '--noborder')).stdout).toBe('rule\napart\ntogether\n');
    expect((await h.run('rules', 'list', '--resource', 'vm:109')).stdout).toBe('');
  });

  it('prints the API records as JSON: encoded lists, order, digest and the conflicts', async () => {
    const h = await withRules();
    const r = await h.run('rules', 'config', '--output-format', 'json', '--type', 'resource-affinity');
    const digest = 'd0b5e1a0a1c7f1f5c54e4e3b0cfb26f1f5c9a5c2';
    const records = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(records.map((rec) => ({ ...rec, digest }))).toEqual([
      {
        affinity: 'positive',
        digest,
        enabled: 1,
        errors: { resources: ['rule shares two or more resources with a negative resource affinity rule'] },
        order: 1,
        resources: 'vm:100,vm:101',
        rule: 'together',
        state: 'ignored (conflicts)',
        type: 'resource-affinity',
      },
      {
        affinity: 'negative',
        digest,
        enabled: 1,
        errors: { resources: ['rule shares two or more resources with a positive resource affinity rule'] },
        order: 2,
        resources: 'vm:100,vm:101',
        rule: 'apart',
        state: 'ignored (conflicts)',
        type: 'resource-affinity',
      },
    ]);
    expect(r.stdout.startsWith('[{"affinity":"positive","digest":"')).toBe(true);
  });

  it('prints pretty JSON with the reference layout', async () => {
    const h = await cluster();
    await h.write(PATHS.rules, 'node-affinity: spare\n\tnodes node3:2\n\tresources vm:103\n\tstrict 0\n\n');
    const out = (await h.run('rules', 'list', '--output-format', 'json-pretty')).stdout;
    expect(out.replace(/"[0-9a-f]{40}"/, '"<digest>"')).toBe(
      '[\n   {\n      "digest" : "<digest>",\n      "nodes" : "node3:2",\n      "order" : 1,\n      "resources" : "vm:103",\n      "rule" : "spare",\n      "strict" : 0,\n      "type" : "node-affinity"\n   }\n]\n',
    );
  });

  it('shows HA groups still in use as the rules they become', async () => {
    const h = await cluster();
    await h.write(PATHS.groups, 'group: web\n\tnodes node1:2,node2\n\trestricted 1\n\n');
    await h.run('set', 'vm:100', '--group', 'web');
    expect((await h.run('rules', 'config', '--noborder')).stdout).toBe(
      'enabled state  rule         type          resources comment\n' +
        "1       in use ha-group-web node-affinity vm:100    Generated from HA group 'web'.\n",
    );
  });

  it('cuts lines to the terminal width', async () => {
    const h = await withRules({ columns: 20 });
    const lines = (await h.run('rules', 'config')).stdout.split('\n');
    expect(lines[1]).toBe('| enabled | state   ');
  });

  it('prints nothing with --quiet or without rules', async () => {
    const h = await withRules();
    expect((await h.run('rules', 'config', '--quiet')).stdout).toBe('');
    await h.write(PATHS.rules, '');
    expect(await h.run('rules', 'config')).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
