// Where the checker's facts come from, without any HA daemon: the lab's own
// service process reports its life over a socket the kernel closes when it
// dies (SIGKILL included), and --scripts services are found in /proc by the
// marks the lab's wrapper leaves in their environment, in the namespace
// (node) they really run in.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { Instance } from '../../src/lab/checker.js';
import { firstChild, labHostProblems, pidNamespace } from '../../src/lab/host.js';
import { listenForServices, scanForServices, type LifetimeSource } from '../../src/lab/lifetimes.js';
import { REPO_ROOT } from '../simulator/scenario-dirs.js';
import { requirePrerequisite, skipped } from '../prerequisites.js';

const SERVICE = join(REPO_ROOT, 'share', 'lab', 'ha-lab-service');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('service lifetimes over the lab socket', () => {
  it('records start and end of each instance, on the node its namespace belongs to, SIGKILL included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-lab-life-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const socket = join(dir, 'lab.sock');
    const ownNamespace = readlinkSync('/proc/self/ns/pid');
    let clock = 0;
    const changes: string[] = [];
    const source: LifetimeSource = await listenForServices(socket, {
      now: () => clock,
      nodeOf: (ns) => (ns === ownNamespace ? { node: 'node7', boot: 3 } : undefined),
      onChange: ({ change, instance }) => changes.push(`${change} ${instance.sid} ${instance.node}`),
    });
    cleanup.push(() => source.stop());

    const start = (sid: string): ChildProcess => {
      const child = spawn('perl', [SERVICE, sid], { env: { ...process.env, HA_LAB_SOCKET: socket, HA_MANAGER_NODE: 'claimed' }, stdio: 'ignore' });
      cleanup.push(() => {
        child.kill('SIGKILL');
      });
      return child;
    };
    clock = 1000;
    const a = start('exec:a');
    await until('exec:a to report', () => source.instances().length === 1);
    clock = 2000;
    const b = start('exec:b');
    await until('exec:b to report', () => source.instances().length === 2);

    clock = 5000;
    a.kill('SIGKILL');
    await exited(a);
    await until('exec:a to end', () => source.instances().some((i) => i.endMs !== undefined));
    clock = 6000;
    b.kill('SIGTERM');
    await exited(b);
    await until('exec:b to end', () => source.instances().every((i) => i.endMs !== undefined));

    expect(source.instances()).toEqual<Instance[]>([
      { sid: 'exec:a', node: 'node7', boot: 3, startMs: 1000, endMs: 5000 },
      { sid: 'exec:b', node: 'node7', boot: 3, startMs: 2000, endMs: 6000 },
    ]);
    expect(changes).toEqual(['started exec:a node7', 'started exec:b node7', 'ended exec:a node7', 'ended exec:b node7']);
  });

  it('makes a service instance fail to start when the lab is not listening', async () => {
    const child = spawn('perl', [SERVICE, 'exec:a'], { env: { ...process.env, HA_LAB_SOCKET: '/nonexistent/lab.sock' }, stdio: 'ignore' });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
  });
});

const hostProblems = labHostProblems();
const noNamespaces = requirePrerequisite('unshare', hostProblems.length === 0, `the lab cannot run here: ${hostProblems.join('; ')}`);

describe('service lifetimes from /proc (--scripts)', () => {
  if (noNamespaces !== undefined) return skipped(noNamespaces);
  it('sees what a start action leaves running in a node namespace, not the script or its helpers', async () => {
    // A node namespace whose init reaps, and a "start" that daemonizes a
    // sleep and runs a helper, through the same marks the lab's wrapper sets.
    const init = spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', 'perl', '-e', 'for (;;) { sleep 1 if wait() == -1 }'], { stdio: 'ignore' });
    cleanup.push(async () => {
      init.kill('SIGKILL');
      await exited(init);
    });
    const initPid = await firstChild(init.pid ?? 0);
    const namespace = initPid === undefined ? undefined : pidNamespace(initPid);
    expect(namespace).toBeDefined();

    let clock = 0;
    const source = scanForServices(
      { now: () => clock, nodeOf: (ns) => (ns === namespace ? { node: 'node2', boot: 1 } : undefined), onChange: () => undefined },
      20,
    );
    cleanup.push(() => source.stop());
    // As the lab's wrapper does: mark, then exec the service's script (so the marks are in its /proc environ).
    const service = 'setsid sleep 300 </dev/null >/dev/null 2>&1 & sleep 0.3'; // still running: its daemon does not count yet
    const script = [
      'HA_LAB_SERVICE=exec:web HA_LAB_ACTION=start HA_LAB_INVOCATION=$$',
      'export HA_LAB_SERVICE HA_LAB_ACTION HA_LAB_INVOCATION',
      `exec sh -c '${service}'`,
    ].join('\n');
    clock = 100;
    const start = spawn('nsenter', ['--target', String(initPid), '--pid', '--mount', '--', 'sh', '-c', script], { stdio: 'ignore' });
    await sleep(150);
    expect(source.instances(), 'nothing counts while the start script runs').toEqual([]);
    clock = 500;
    await exited(start);
    await until('the daemonized sleep to count', () => source.instances().length === 1);
    expect(source.instances()).toEqual([{ sid: 'exec:web', node: 'node2', boot: 1, startMs: 500, endMs: undefined }]);

    // A node reset: the namespace dies with everything in it.
    clock = 900;
    init.kill('SIGKILL');
    await exited(init);
    await until('the instance to end with its node', () => source.instances()[0]?.endMs !== undefined);
    expect(source.instances()[0].endMs).toBe(900);
  });
});
