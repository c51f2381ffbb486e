// bin/ha-manager as a process against a plain directory store: exit codes,
// stdout and stderr. It runs the built tree (see built.ts).

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { builtSkipReason, runCli as run } from './built.js';

const reason = builtSkipReason();

describe('bin/ha-manager', () => {
  if (reason !== undefined) {
    it.skip(reason, () => undefined);
    return;
  }

  let root = '';
  const store = (): string[] => ['--store', `dir:${root}`];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ha-manager-cli-'));
    for (const node of ['node1', 'node2', 'node3']) mkdirSync(join(root, 'nodes', node, 'qemu-server'), { recursive: true });
    writeFileSync(join(root, 'nodes', 'node2', 'qemu-server', '100.conf'), 'memory: 1024\n');
    writeFileSync(join(root, 'nodes', 'node3', 'qemu-server', '101.conf'), 'memory: 1024\n');
  });
  // Fresh heartbeats make the nodes online members of the plain directory store.
  beforeEach(() => {
    for (const node of ['node1', 'node2', 'node3']) writeFileSync(join(root, 'nodes', node, 'ha-heartbeat'), `${Date.now()}\n`);
  });
  afterAll(() => {
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });

  it('adds resources and refuses a second add with exit status 1', async () => {
    expect(await run([...store(), 'add', '100', '--max_restart', '2'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await run(['add', 'vm:101'], { HA_MANAGER_STORE: root })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(root, 'ha', 'resources.cfg'), 'utf8')).toBe('vm: 100\n\tmax_restart 2\n\nvm: 101\n\n');
    expect(await run([...store(), 'add', 'vm:100'])).toEqual({
      code: 1,
      stdout: '',
      stderr: "create resource failed: resource ID 'vm:100' already defined\n",
    });
  });

  it('prints the status and the config', async () => {
    const status = await run([...store(), 'status']);
    expect(status).toEqual({
      code: 0,
      stdout: 'quorum OK\nfencing standby (CRM watchdog standby)\nservice vm:100 (node2, queued)\nservice vm:101 (node3, queued)\n',
      stderr: '',
    });
    expect((await run([`--store=dir:${root}`, 'config'])).stdout).toBe('vm:100\n\tmax_restart 2\n\nvm:101\n\n');
  });

  it('queues commands and lists rules', async () => {
    expect((await run([...store(), 'rules', 'add', 'resource-affinity', 'apart', '--resources', 'vm:100,vm:101', '--affinity', 'negative'])).code).toBe(0);
    expect(await run([...store(), 'migrate', 'vm:100', 'node3'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(root, 'ha', 'crm_commands'), 'utf8')).toBe('migrate vm:100 node3\n');
    expect(await run([...store(), 'rules', 'list', '--noborder'])).toEqual({ code: 0, stdout: 'rule\napart\n', stderr: '' });
  });

  it('exits with 2 on a wrong call, and 0 for help even without a store', async () => {
    const wrong = await run([...store(), 'add', 'vm:100', '--state', 'up']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("state: value 'up' does not have a value in the enumeration");
    const help = await run(['--store', join(root, 'missing'), 'help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('USAGE: ha-manager <COMMAND> [ARGS] [OPTIONS]');
  });

  it('reports a store it cannot open', async () => {
    const missing = join(root, 'missing');
    const r = await run(['--store', missing, 'status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `store directory '${missing}' does not exist: create it first (the store does not, so a mistyped path cannot start a second, empty cluster)\n`,
    );
  });
});
