// The output options: the reference's (--output-format text|json|json-pretty|yaml,
// --noborder, --noheader, --quiet, --human-readable) on the lists, and
// `status` and `config` as JSON or YAML in the schema docs/CLI.md
// documents; and the command line's syntax (single-dash options,
// --name=value, help).

import { describe, expect, it } from 'vitest';

import { toYaml } from '../../src/cli/ha-manager/output.js';
import { PATHS } from '../../src/env/node/layout.js';
import { createHarness, NOW, type Harness } from './harness.js';

async function cluster(): Promise<Harness> {
  const h = createHarness();
  await h.guest('node1', 'vm:100');
  await h.guest('node2', 'vm:101');
  await h.run('add', 'vm:100', '--comment', 'web: front', '--max_restart', '2');
  await h.run('add', 'vm:101', '--state', 'stopped');
  await h.managerStatus({
    master_node: 'node1',
    timestamp: NOW - 5,
    node_status: { node1: 'online', node2: 'online', node3: 'online' },
    service_status: { 'vm:100': { node: 'node1', state: 'started', running: 1 } },
  });
  await h.lrmStatus('node1', { state: 'active', mode: 'active', timestamp: NOW - 5 });
  await h.run('rules', 'add', 'node-affinity', 'pin', '--resources', 'vm:100', '--nodes', 'node1:2,node2');
  return h;
}

describe('status and config in JSON', () => {
  it('status: one entry per line of the text, with the fields of the API', async () => {
    const h = await cluster();
    const text = (await h.run('status')).stdout;
    const entries = JSON.parse((await h.run('status', '--output-format', 'json')).stdout) as Array<Record<string, unknown>>;
    expect(entries.map((e) => `${e.type} ${e.status}\n`).join('')).toBe(text);
    expect(entries).toEqual([
      { id: 'quorum', type: 'quorum', node: 'node1', status: 'OK', quorate: 1 },
      { id: 'master', type: 'master', node: 'node1', status: 'node1 (active, Tue Mar  5 11:59:55 2024)', timestamp: NOW - 5, state: 'active' },
      { id: 'fencing', type: 'fencing', node: 'node1', status: 'armed (CRM watchdog active)', 'armed-state': 'armed' },
      { id: 'lrm:node1', type: 'lrm', node: 'node1', status: 'node1 (active, watchdog active, Tue Mar  5 11:59:55 2024)', timestamp: NOW - 5, state: 'active', mode: 'active' },
      { id: 'lrm:node2', type: 'lrm', node: 'node2', status: 'node2 (unable to read lrm status)', state: 'unable to read lrm status' },
      { id: 'lrm:node3', type: 'lrm', node: 'node3', status: 'node3 (unable to read lrm status)', state: 'unable to read lrm status' },
      {
        id: 'service:vm:100',
        type: 'service',
        sid: 'vm:100',
        node: 'node1',
        crm_state: 'started',
        state: 'started',
        status: 'vm:100 (node1, started)',
        request_state: 'started',
        max_restart: 2,
        comment: 'web: front',
      },
      { id: 'service:vm:101', type: 'service', sid: 'vm:101', node: 'node2', state: 'queued', status: 'vm:101 (node2, queued)', request_state: 'stopped' },
    ]);
  });

  it('status --verbose: the entries and the full manager status in one document', async () => {
    const h = await cluster();
    const doc = JSON.parse((await h.run('status', '--verbose', '--output-format', 'json')).stdout) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(['current', 'manager_status']);
    expect((doc.manager_status as Record<string, unknown>).quorum).toEqual({ node: 'node1', quorate: 1 });
  });

  it('config: the resources as the API lists them, digest included', async () => {
    const h = await cluster();
    const digest = (JSON.parse((await h.run('config', '--output-format', 'json')).stdout) as Array<{ digest: string }>)[0].digest;
    expect(digest).toMatch(/^[0-9a-f]{40}$/);
    expect((await h.run('config', '--output-format', 'json-pretty')).stdout).toBe(
      '[\n' +
        '   {\n      "comment" : "web: front",\n' +
        `      "digest" : "${digest}",\n      "max_restart" : 2,\n      "sid" : "vm:100",\n      "type" : "vm"\n   },\n` +
        `   {\n      "digest" : "${digest}",\n      "sid" : "vm:101",\n      "state" : "stopped",\n      "type" : "vm"\n   }\n` +
        ']\n',
    );
    // A digest starting with a digit is quoted: YAML could read some such strings as numbers.
    const yamlDigest = /^[a-f]/.test(digest) ? digest : `"${digest}"`;
    expect((await h.run('config', '--output-format', 'yaml')).stdout).toBe(
      `---\n- comment: "web: front"\n  digest: ${yamlDigest}\n  max_restart: 2\n  sid: vm:100\n  type: vm\n` +
        `- digest: ${yamlDigest}\n  sid: vm:101\n  state: stopped\n  type: vm\n`,
    );
    expect(await h.run('config', '--quiet')).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('list output options', () => {
  it('rules config: table, no border, no header, JSON, YAML, quiet', async () => {
    const h = await cluster();
    expect((await h.run('rules', 'config', '--noborder')).stdout).toBe(
      'enabled state  rule type          resources comment\n1       in use pin  node-affinity vm:100    \n',
    );
    expect((await h.run('rules', 'config', '--noborder', '--noheader')).stdout).toBe('1       in use pin  node-affinity vm:100    \n');
    expect((await h.run('rules', 'list', '-noborder', '-human-readable', '0')).stdout).toBe('rule\npin\n');
    const rules = JSON.parse((await h.run('rules', 'list', '--output-format=json')).stdout) as Array<Record<string, unknown>>;
    expect(rules).toEqual([
      expect.objectContaining({ rule: 'pin', type: 'node-affinity', resources: 'vm:100', nodes: 'node1:2,node2', order: 1 }),
    ]);
    expect((await h.run('rules', 'list', '--output-format', 'yaml')).stdout).toMatch(/^---\n- digest: ("[0-9][0-9a-f]{39}"|[a-f][0-9a-f]{39})\n  nodes: node1:2,node2\n  order: 1\n  resources: vm:100\n  rule: pin\n  type: node-affinity\n$/);
    expect(await h.run('rules', 'config', '--quiet')).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('YAML', () => {
  it('quotes what would not read back as the same string', () => {
    expect(toYaml([])).toBe('--- []\n');
    expect(toYaml({ a: 'yes', b: '1', c: '', d: 'x #y', e: 'plain text', f: { g: [1, 'two'] }, h: null, i: {} })).toBe(
      '---\na: "yes"\nb: "1"\nc: ""\nd: "x #y"\ne: plain text\nf:\n  g:\n    - 1\n    - two\nh: null\ni: {}\n',
    );
  });
});

describe('command-line syntax', () => {
  it('takes options with one dash or two, and as name=value', async () => {
    const h = await cluster();
    expect(await h.run('set', 'vm:101', '-max_relocate', '3', '--comment=a=b', '-failback=0')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await h.read(PATHS.resources)).toContain('vm: 101\n\tcomment a=b\n\tfailback 0\n\tmax_relocate 3\n\tstate stopped\n');
  });

  it('takes a value that starts with a dash for an option that needs one, and `--` ends the options', async () => {
    const h = await cluster();
    expect((await h.run('set', 'vm:101', '--comment', '-x')).code).toBe(0);
    expect((await h.run('set', '--', 'vm:101')).code).toBe(0);
    expect(await h.read(PATHS.resources)).toContain('\tcomment -x\n');
  });

  it('prints help for the program and for each command, without a store', async () => {
    const h = await cluster();
    const program = await h.run('help');
    expect(program.code).toBe(0);
    expect(program.stdout).toContain('       ha-manager groupadd <group> --nodes <node>[:<pri>]{,<node>[:<pri>]}* [OPTIONS]\n');
    const add = await h.run('add', '--help');
    expect(add.stdout).toContain('USAGE: ha-manager add <sid> [OPTIONS]\n');
    expect(add.stdout).toContain('  --max_restart <integer> (0 - N)\n');
    expect((await h.run('help', 'rules', 'add')).stdout).toBe((await h.run('rules', 'add', '-h')).stdout);
    expect((await h.run('help', 'crm-command')).stdout).toContain('USAGE: ha-manager crm-command stop <sid> <timeout>\n');
    expect(await h.run('frobnicate')).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command 'frobnicate'") });
  });
});
