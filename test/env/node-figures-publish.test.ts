// The LRM daemon's published node figures: host figures always, per-service
// figures only for the schedulers that read them (static, dynamic), and never
// more than a bounded number of services probed per publication, since each
// probe runs processes through the pool the LRM's own commands need.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import { createClock } from '../../src/env/node/clock.js';
import { startDaemon, type RunningDaemon } from '../../src/env/node/daemon.js';
import { parseNodeFigures, type NodeFigures } from '../../src/env/node/node-figures.js';
import { createMemoryStore, type MemoryStore } from '../../src/env/node/memory-store.js';
import { recordingWatchdog } from '../../src/env/node/watchdog.js';
import { createWorkerPool, type WorkerPool } from '../../src/native/worker-pool.js';

const SERVICES = 30;
let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function startLrm(datacenter: string): Promise<{ store: MemoryStore; probes: () => number }> {
  const base = mkdtempSync(join(tmpdir(), 'ha-figures-'));
  const probesLog = join(base, 'probes');
  writeFileSync(probesLog, '');
  // Every service is running; each status call leaves a line behind.
  const script = join(base, 'svc');
  writeFileSync(script, `#!/bin/sh\necho "$1" >> ${probesLog}\ncase "$1" in status) exit 0;; stats) echo '{"maxcpu":2,"maxmem":1024}';; esac\n`);
  chmodSync(script, 0o755);
  const clock = createClock({ scale: 20, epochMs: Date.now() });
  const store = createMemoryStore({ clock: clock.millis, nodes: ['node1'] });
  await store.write('datacenter.cfg', datacenter);
  let resources = '';
  for (let i = 0; i < SERVICES; i++) {
    writeFileSync(join(base, `s${i}`), `#!/bin/sh\nexec ${script} "$@"\n`);
    chmodSync(join(base, `s${i}`), 0o755);
    resources += `exec: s${i}\n\tstate stopped\n\n`;
    await store.write(`nodes/node1/ha-resources/exec:s${i}`, '');
  }
  await store.write('ha/resources.cfg', resources);
  const pool: WorkerPool = createWorkerPool({ maxWorkers: 4, implementation: 'typescript' });
  const daemon: RunningDaemon = await startDaemon({
    daemon: 'lrm',
    node: 'node1',
    store,
    clock,
    log: () => undefined,
    watchdog: recordingWatchdog(),
    pool,
    scoringKernel: typescriptScoringKernel,
    scriptsDir: base,
    pveAgent: '/bin/false',
    isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
  });
  cleanup = async () => {
    daemon.halt();
    await daemon.done;
    await pool.close();
    rmSync(base, { recursive: true, force: true });
  };
  const { readFileSync } = await import('node:fs');
  return { store, probes: () => readFileSync(probesLog, 'utf8').split('\n').filter((l) => l === 'status').length };
}

async function nextFigures(store: MemoryStore, after: number): Promise<NodeFigures> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const figures = parseNodeFigures(await store.read('nodes/node1/ha-node-stats'));
    if (figures !== undefined && figures.time > after) return figures;
    if (Date.now() > deadline) throw new Error('no new node figures within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('published node figures', () => {
  it('probe at most 20 services per publication for the static scheduler, the stalest first', async () => {
    const { store, probes } = await startLrm('crs: ha=static\n');
    const first = await nextFigures(store, 0);
    expect(first.maxcpu).toBeGreaterThan(0);
    expect(Object.keys(first.guests)).toHaveLength(20);
    expect(first.guests['exec:s0']).toEqual({ running: true, usage: { maxcpu: 2, maxmem: 1024 } });
    const second = await nextFigures(store, first.time);
    // the 10 not probed yet, plus 10 of the oldest again
    expect(Object.keys(second.guests)).toHaveLength(SERVICES);
    expect(probes()).toBeLessThanOrEqual(40);
  });

  it('publish no per-service figures for the basic scheduler, and probe nothing', async () => {
    const { store, probes } = await startLrm('');
    const first = await nextFigures(store, 0);
    expect(first.guests).toEqual({});
    await nextFigures(store, first.time);
    expect(probes()).toBe(0);
  });
});
