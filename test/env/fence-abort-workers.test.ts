// An LRM acting as fenced aborts its workers' commands: the daemon's runners
// end every command of the workers' pool (not the hard stops' pool) and
// refuse the aborted workers' next commands until they have settled, so a
// worker whose `status` was aborted does not go on to `start`. Real
// processes, through both worker pools.

import { describe, expect, it } from 'vitest';

import { workerCommandRunners } from '../../src/env/node/daemon.js';
import { createWorkerPool } from '../../src/native/worker-pool.js';
import { skipped } from '../prerequisites.js';
import { addonMissing } from '../native/addon.js';

const missing = addonMissing();

describe.each(['native', 'typescript'] as const)('worker commands aborted through the %s pool', (implementation) => {
  if (implementation === 'native' && missing !== undefined) return skipped(missing);

  it('ends running commands, refuses new ones until the workers settled, and leaves hard stops alone', async () => {
    const pool = createWorkerPool({ maxWorkers: 2, implementation });
    const urgent = createWorkerPool({ maxWorkers: 2, implementation });
    try {
      const runners = workerCommandRunners(pool, urgent, 'node1');
      const start = runners.run('/bin/sh', ['-c', 'sleep 30'], 60_000);
      const queuedBehind = runners.run('/bin/sh', ['-c', 'sleep 30'], 60_000);
      const third = runners.run('/bin/sh', ['-c', 'exit 0'], 60_000);
      while (pool.activeCount < 2) await new Promise((r) => setTimeout(r, 2));
      let settle!: () => void;
      const settled = new Promise<void>((resolve) => (settle = resolve));
      const aborting = runners.abortWorkerCommands(settled);
      expect(await start).toMatchObject({ aborted: true, signal: 'SIGTERM', exitCode: null });
      expect(await queuedBehind).toMatchObject({ aborted: true, signal: 'SIGTERM' });
      // Queued when the abort came: never ran.
      expect(await third).toMatchObject({ aborted: true, signal: null, exitCode: null });
      // A worker's next command, while it settles: refused, not run.
      expect(await runners.run('/bin/sh', ['-c', 'exit 0'], 60_000)).toMatchObject({ aborted: true, exitCode: null });
      // Hard stops run meanwhile.
      expect(await runners.runNow('/bin/sh', ['-c', 'exit 0'], 10_000)).toMatchObject({ aborted: false, exitCode: 0 });
      settle();
      await aborting;
      expect(await runners.run('/bin/sh', ['-c', 'exit 0'], 60_000)).toMatchObject({ aborted: false, exitCode: 0 });
    } finally {
      await pool.close();
      await urgent.close();
    }
  });
});
