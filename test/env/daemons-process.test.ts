// The daemons as processes: three nodes' ha-crm and ha-lrm, started from
// bin/ over a plain directory store on a clock running 20 times faster,
// with a script service. The service starts on its node; when that node's
// daemons are killed (SIGKILL: a crash) the others fence it through its
// agent lock and recover the service; SIGTERM then ends every daemon
// cleanly. Needs the build (dist/); reported as skipped without it.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../simulator/scenario-dirs.js';

const BUILT = existsSync(join(REPO_ROOT, 'dist/cli/daemon-main.js'));
const NODES = ['node1', 'node2', 'node3'];
const SCALE = 20;

interface Daemon {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

let daemons: Daemon[] = [];
let base: string | undefined;

afterEach(async () => {
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL');
  await Promise.all(daemons.map((d) => d.exited));
  daemons = [];
  if (base !== undefined) rmSync(base, { recursive: true, force: true });
  base = undefined;
});

function startDaemon(kind: 'crm' | 'lrm', node: string, store: string, scripts: string, epoch: number): Daemon {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bin', `ha-${kind}`), '--node', node, '--store', `dir:${store}`, '--no-watchdog', '--scripts', scripts,
      '--time-scale', String(SCALE), '--epoch', String(epoch), '--log-format', 'text'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name: `${node}/${kind}`, child, output, exited };
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}\n${daemons.map((d) => `== ${d.name}\n${d.output.join('')}`).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('daemon processes over a directory store', () => {
  if (!BUILT) {
    it.skip('skipped: dist/ is not built (run `npm run build`)', () => undefined);
    return;
  }
  it('recover a crashed node’s service on another node, then shut down cleanly', async () => {
    base = mkdtempSync(join(tmpdir(), 'ha-daemons-'));
    const store = join(base, 'store');
    const scripts = join(base, 'scripts');
    const state = join(base, 'state');
    for (const dir of [store, scripts, state, join(store, 'ha'), ...NODES.map((n) => join(store, 'nodes', n))]) {
      mkdirSync(dir, { recursive: true });
    }
    writeFileSync(
      join(scripts, 'web'),
      `#!/bin/sh\nstate="${state}/web.$HA_MANAGER_NODE"\ncase "$1" in start) touch "$state";; stop) rm -f "$state";; status) [ -e "$state" ] || exit 3;; *) exit 2;; esac\n`,
    );
    chmodSync(join(scripts, 'web'), 0o755);
    writeFileSync(join(store, 'ha/resources.cfg'), 'exec: web\n\tstate started\n');
    mkdirSync(join(store, 'nodes/node1/ha-resources'));
    writeFileSync(join(store, 'nodes/node1/ha-resources/exec:web'), '');

    const epoch = Date.now();
    for (const node of NODES) for (const kind of ['crm', 'lrm'] as const) daemons.push(startDaemon(kind, node, store, scripts, epoch));
    const runningOn = (): string[] => readdirSync(state).map((f) => f.slice('web.'.length));
    const managerStatus = (): { service_status?: Record<string, { state: string; node: string }> } => {
      const path = join(store, 'ha/manager_status');
      return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
    };

    await until('exec:web to run on node1', () => runningOn().join() === 'node1' && managerStatus().service_status?.['exec:web']?.state === 'started');

    for (const d of daemons.filter((x) => x.name.startsWith('node1/'))) d.child.kill('SIGKILL');
    rmSync(join(state, 'web.node1'));

    await until(
      'exec:web to be recovered',
      () => {
        const sd = managerStatus().service_status?.['exec:web'];
        return sd?.state === 'started' && sd.node !== 'node1' && runningOn().join() === sd.node;
      },
      60_000,
    );
    const node = managerStatus().service_status?.['exec:web']?.node ?? '';
    expect(['node2', 'node3']).toContain(node);
    expect(existsSync(join(store, `nodes/${node}/ha-resources/exec:web`))).toBe(true);
    const logs = daemons.map((d) => d.output.join('')).join('');
    expect(logs).toContain("fencing: acknowledged - got agent lock for node 'node1'");

    // As systemd stops them: the LRMs first (their services get frozen by the
    // master), then the CRMs.
    const survivors = daemons.filter((d) => !d.name.startsWith('node1/'));
    for (const kind of ['lrm', 'crm']) {
      const group = survivors.filter((d) => d.name.endsWith(`/${kind}`));
      for (const d of group) d.child.kill('SIGTERM');
      expect(await Promise.all(group.map((d) => d.exited))).toEqual(group.map(() => 0));
    }
    const recoveredLrm = survivors.find((d) => d.name === `${node}/lrm`);
    expect(recoveredLrm?.output.join('')).toContain('restart LRM, freeze all services');
  }, 120_000);
});
