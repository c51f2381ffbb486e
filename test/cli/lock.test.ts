// The HA config lock with real ha-manager processes on a plain directory
// store: a `remove` racing a `rules add` never leaves a rule behind that
// names a resource no longer managed; a hundred `add`s at once all get
// their turn; a waiter that gives up names who holds the lock; a store it
// may not write to is said to be so. Runs the built tree (see built.ts).

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { parseResourcesConfig } from '../../src/config/resources-config.js';
import { parseRulesConfig } from '../../src/config/rules-config.js';
import { builtSkipReason, runCli } from './built.js';

const reason = builtSkipReason();
const NODES = ['node1', 'node2', 'node3'];

describe.skipIf(reason !== undefined)(`the HA config lock between processes${reason === undefined ? '' : ` (${reason})`}`, () => {
  let root = '';
  let beats: NodeJS.Timeout | undefined;
  const children: ChildProcess[] = [];
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(['--store', `dir:${root}`, ...args], env);
  const read = (path: string): string => {
    try {
      return readFileSync(join(root, path), 'utf8');
    } catch {
      return '';
    }
  };
  const guests = (ids: number[]): void => {
    ids.forEach((id, i) => writeFileSync(join(root, 'nodes', NODES[i % NODES.length], 'qemu-server', `${id}.conf`), ''));
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ha-manager-lock-'));
    for (const node of NODES) mkdirSync(join(root, 'nodes', node, 'qemu-server'), { recursive: true });
    mkdirSync(join(root, 'ha'));
    writeFileSync(
      join(root, 'ha', 'manager_status'),
      JSON.stringify({ master_node: 'node1', timestamp: Math.floor(Date.now() / 1000), node_status: Object.fromEntries(NODES.map((n) => [n, 'online'])) }),
    );
    // Fresh heartbeats keep the three nodes online (quorate) however long a test takes.
    // Written aside and renamed, as the store writes them: a reader never sees a half-written beat.
    const beat = () =>
      NODES.forEach((node) => {
        const file = join(root, 'nodes', node, 'ha-heartbeat');
        writeFileSync(`${file}.new`, `${Date.now()}\n`);
        renameSync(`${file}.new`, file);
      });
    beat();
    beats = setInterval(beat, 2_000);
  });
  afterEach(() => {
    clearInterval(beats);
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    chmodSync(root, 0o755);
    rmSync(root, { recursive: true, force: true });
  });

  it('never leaves a rule naming a resource that a concurrent remove took out (50 races)', async () => {
    guests([100, 101]);
    let rulesKept = 0;
    for (let trial = 0; trial < 50; trial++) {
      writeFileSync(join(root, 'ha', 'resources.cfg'), 'vm: 100\n\nvm: 101\n\n');
      writeFileSync(join(root, 'ha', 'rules.cfg'), '');
      const [removed, added] = await Promise.all([
        cli(['remove', 'vm:100']),
        cli(['rules', 'add', 'node-affinity', `r${trial}`, '--resources', 'vm:100,vm:101', '--nodes', 'node1']),
      ]);
      expect(removed).toMatchObject({ code: 0, stderr: '' });
      const resources = parseResourcesConfig(read('ha/resources.cfg'), 'resources.cfg');
      const rules = parseRulesConfig(read('ha/rules.cfg'), 'rules.cfg');
      for (const [id, rule] of Object.entries(rules.ids)) {
        for (const sid of Object.keys(rule.resources)) expect({ rule: id, sid, managed: sid in resources.ids }).toEqual({ rule: id, sid, managed: true });
      }
      if (added.code === 0) {
        // Added first: the remove purged vm:100 from it, leaving vm:101.
        expect(Object.keys(rules.ids[`r${trial}`]?.resources ?? {})).toEqual(['vm:101']);
        rulesKept++;
      } else {
        expect(added).toMatchObject({ code: 1, stderr: 'create ha rule failed: cannot use unmanaged resource(s) vm:100.\n' });
      }
    }
    console.log(`remove/rules add races: the rule came first in ${rulesKept} of 50`);
  }, 180_000);

  it('serves a hundred concurrent adds, every one of them', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => 1000 + i);
    guests(ids);
    const started = Date.now();
    const outcomes = await Promise.all(ids.map((id) => cli(['add', `vm:${id}`])));
    const failed = outcomes.filter((outcome) => outcome.code !== 0);
    expect(failed).toEqual([]);
    const resources = parseResourcesConfig(read('ha/resources.cfg'), 'resources.cfg');
    expect(Object.keys(resources.ids).sort()).toEqual(ids.map((id) => `vm:${id}`));
    console.log(`100 concurrent adds: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 180_000);

  it('names the holder to a waiter that gives up, not the lock files', async () => {
    guests([100]);
    const holder = spawn(process.execPath, [join(__dirname, 'hold-lock.mjs'), root], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(holder);
    await once(holder.stdout as NodeJS.ReadableStream, 'data');
    const started = Date.now();
    const waiter = await cli(['add', 'vm:100'], { HA_MANAGER_LOCK_TIMEOUT: '0.5' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(waiter.code).toBe(3);
    expect(waiter.stderr).toMatch(
      new RegExp(`^create resource failed: cannot get the HA config lock within 0\\.5 s: held by node9 \\(pid ${holder.pid}: ha-manager add vm:999\\) for \\d+ s\\n$`),
    );
    expect(read('ha/resources.cfg')).toBe('');
    holder.stdin?.end();
    await once(holder, 'exit');
    expect(await cli(['add', 'vm:100'])).toEqual({ code: 0, stdout: '', stderr: '' });
  }, 60_000);

  it('says so when the store may not be written, without naming its lock files', async () => {
    guests([100]);
    // As root, permissions do not stop writes: run as nobody instead.
    const asNobody = process.getuid?.() === 0;
    chmodSync(root, asNobody ? 0o755 : 0o555); // readable, not writable
    const outcome = await runCli(['--store', `dir:${root}`, 'add', 'vm:100'], {}, asNobody ? { uid: 65534, gid: 65534 } : {});
    expect(outcome).toEqual({
      code: 1,
      stdout: '',
      stderr: `create resource failed: cannot get the HA config lock: directory ${root} is not writable by this user (EACCES)\n`,
    });
  });

  it('reads the chapter\'s single-dash options', async () => {
    writeFileSync(join(root, 'ha', 'groups.cfg'), 'group: existing\n\tnodes node1\n\n');
    expect(await cli(['groupadd', 'mygroup1', '-nodes', 'node1:2,node2:1,node3:1,node4'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(read('ha/groups.cfg')).toBe('group: existing\n\tnodes node1\n\ngroup: mygroup1\n\tnodes node1:2,node2:1,node3:1,node4\n\n');
  });
});
