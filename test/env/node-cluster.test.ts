// The real daemons, end to end: three nodes' CRMs and LRMs run the core
// through the node environment over one shared store, with script services
// on this machine and a scaled clock (60 simulated seconds per real second).
// A service starts where it is configured; when its node dies (its daemons
// stop dead, it leaves the membership), the others fence it by taking its
// agent lock and recover the service on a surviving node.

import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import type { ManagerStatus } from '../../src/core/types.js';
import type { LogLevel } from '../../src/env/env.js';
import { createClock } from '../../src/env/node/clock.js';
import { startDaemon, type RunningDaemon } from '../../src/env/node/daemon.js';
import { createMemoryStore, type MemoryStore } from '../../src/env/node/memory-store.js';
import { recordingWatchdog, type RecordingWatchdog } from '../../src/env/node/watchdog.js';
import { createWorkerPool } from '../../src/native/worker-pool.js';

const NODES = ['node1', 'node2', 'node3'];
const SCALE = 60;

interface Cluster {
  store: MemoryStore;
  stateDir: string;
  daemons: Map<string, RunningDaemon>;
  watchdogs: Map<string, RecordingWatchdog>;
  log: string[];
}

let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** A script service: one marker file per node it runs on. */
function writeScript(dir: string, stateDir: string, name: string): void {
  const path = join(dir, name);
  writeFileSync(
    path,
    `#!/bin/sh
state="${stateDir}/${name}.$HA_MANAGER_NODE"
case "$1" in
  start) touch "$state" ;;
  stop) rm -f "$state" ;;
  status) [ -e "$state" ] || exit 3 ;;
  *) exit 2 ;;
esac
`,
  );
  chmodSync(path, 0o755);
}

async function startCluster(): Promise<Cluster> {
  const base = mkdtempSync(join(tmpdir(), 'ha-node-cluster-'));
  const scriptsDir = join(base, 'scripts');
  const stateDir = join(base, 'state');
  for (const dir of [scriptsDir, stateDir]) rmSync(dir, { recursive: true, force: true });
  writeFileSync(join(base, '.keep'), '');
  await import('node:fs/promises').then((fs) => Promise.all([fs.mkdir(scriptsDir), fs.mkdir(stateDir)]));
  writeScript(scriptsDir, stateDir, 'web');

  const clock = createClock({ scale: SCALE, epochMs: Date.now() });
  const store = createMemoryStore({ clock: clock.millis, nodes: NODES });
  await store.write('ha/resources.cfg', 'exec: web\n\tstate started\n');
  await store.write('nodes/node1/ha-resources/exec:web', '');

  const pool = createWorkerPool({ maxWorkers: 8, implementation: 'typescript' });
  const log: string[] = [];
  const daemons = new Map<string, RunningDaemon>();
  const watchdogs = new Map<string, RecordingWatchdog>();
  for (const node of NODES) {
    for (const daemon of ['crm', 'lrm'] as const) {
      const watchdog = recordingWatchdog();
      watchdogs.set(`${node}/${daemon}`, watchdog);
      daemons.set(
        `${node}/${daemon}`,
        await startDaemon({
          daemon,
          node,
          store,
          clock,
          log: (level: LogLevel, msg: string) => log.push(`${clock.seconds()} ${level} ${node}/${daemon}: ${msg}`),
          watchdog,
          pool,
          scoringKernel: typescriptScoringKernel,
          scriptsDir,
          pveAgent: '/bin/false',
          isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
        }),
      );
    }
  }
  cleanup = async () => {
    for (const d of daemons.values()) d.halt();
    await Promise.all([...daemons.values()].map((d) => d.done));
    await pool.close();
    rmSync(base, { recursive: true, force: true });
  };
  return { store, stateDir, daemons, watchdogs, log };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, cluster: Cluster, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${cluster.log.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function managerStatus(store: MemoryStore): Promise<ManagerStatus> {
  return JSON.parse((await store.read('ha/manager_status')) ?? '{}') as ManagerStatus;
}

function runningOn(stateDir: string): string[] {
  return readdirSync(stateDir)
    .filter((f) => f.startsWith('web.'))
    .map((f) => f.slice('web.'.length))
    .sort();
}

describe('daemons over a shared store', () => {
  it('start a service where configured, then fence its failed node and recover it elsewhere', async () => {
    const cluster = await startCluster();
    const { store, stateDir, daemons } = cluster;

    const first = await until(
      'exec:web to start on node1',
      async () => {
        const ss = (await managerStatus(store)).service_status?.['exec:web'];
        return ss?.state === 'started' && runningOn(stateDir).join() === 'node1' ? ss : undefined;
      },
      cluster,
    );
    expect(first.node).toBe('node1');
    // the LRM holding services armed its watchdog and keeps it fed
    const events = cluster.watchdogs.get('node1/lrm')?.events ?? [];
    await until('node1/lrm to feed its watchdog', async () => (events.includes('update') ? true : undefined), cluster);
    expect(events[0]).toBe('open');

    // node1 dies: its daemons stop dead, its service with it, and it drops out of the membership
    daemons.get('node1/crm')?.halt();
    daemons.get('node1/lrm')?.halt();
    await Promise.all([daemons.get('node1/crm')?.done, daemons.get('node1/lrm')?.done]);
    rmSync(join(stateDir, 'web.node1'), { force: true });
    store.setMembership({
      nodes: { node1: { online: false }, node2: { online: true }, node3: { online: true } },
      quorate: true,
    });

    const recovered = await until(
      'exec:web to be recovered on a surviving node',
      async () => {
        const ss = (await managerStatus(store)).service_status?.['exec:web'];
        const where = runningOn(stateDir);
        return ss?.state === 'started' && ss.node !== 'node1' && where.length === 1 && where[0] === ss.node ? ss : undefined;
      },
      cluster,
      30_000,
    );
    expect(['node2', 'node3']).toContain(recovered.node);
    // the service's location moved with it
    expect(await store.read(`nodes/${recovered.node}/ha-resources/exec:web`)).toBe('');
    expect(await store.read('nodes/node1/ha-resources/exec:web')).toBeUndefined();
    const log = cluster.log.join('\n');
    expect(log).toMatch(/fencing: acknowledged - got agent lock for node 'node1'/);
    expect(log).toMatch(new RegExp(`recover service 'exec:web' from fenced node 'node1' to node '${recovered.node}'`));
    expect(existsSync(join(stateDir, "web.node1"))).toBe(false);
    if (process.env.SHOW_LOG) console.log(log);
  }, 60_000);
});
