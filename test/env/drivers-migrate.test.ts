// A guest migration is bounded: the agent's `migrate` runs with a timeout
// derived from the timing profile, and one that times out (killed part way)
// is reported failed, with the guest's status checked afterwards.

import { describe, expect, it } from 'vitest';

import { TIMING_PROFILES } from '../../src/env/timing.js';
import type { CommandOutcome, DriverContext } from '../../src/env/node/drivers.js';
import { migrateTimeoutMs, pveGuestDriver } from '../../src/env/node/drivers.js';
import { guestConfigPath } from '../../src/env/node/layout.js';
import { createMemoryStore } from '../../src/env/node/memory-store.js';

const exit = (exitCode: number): CommandOutcome => ({ exitCode, signal: null, timedOut: false, aborted: false, stdout: '', stderr: '', spawnError: null });

function context(migrate: CommandOutcome, moveConfig: boolean) {
  const calls: string[] = [];
  const logs: string[] = [];
  const store = createMemoryStore();
  const ctx: DriverContext = {
    node: 'node1',
    store,
    migrateTimeoutMs: 123_000,
    run: async (_command, args, timeoutMs) => {
      calls.push(`${args.join(' ')} (${timeoutMs} ms)`);
      if (args[1] === 'migrate') {
        if (moveConfig) await store.rename(guestConfigPath('node1', 'vm:100'), guestConfigPath('node2', 'vm:100'));
        return migrate;
      }
      return exit(0);
    },
    runNow: async () => exit(0),
    log: (level, msg) => logs.push(`${level}: ${msg}`),
  };
  return { ctx, calls, logs, store };
}

describe('guest migration', () => {
  it('runs the agent with the bounded timeout, and succeeds when the config moved', async () => {
    const { ctx, calls, store } = context(exit(0), true);
    await store.write(guestConfigPath('node1', 'vm:100'), 'memory: 512\n');
    expect(await pveGuestDriver(ctx, 'vm', '/a').migrate('100', 'node2', true)).toBe(true);
    expect(calls).toEqual(['vm migrate 100 node2 1 (123000 ms)']);
  });

  it('reports a timed-out migration as failed and checks the guest afterwards, even if its config moved', async () => {
    const { ctx, calls, logs, store } = context({ ...exit(0), exitCode: null, signal: 'SIGTERM', timedOut: true }, true);
    await store.write(guestConfigPath('node1', 'vm:100'), 'memory: 512\n');
    expect(await pveGuestDriver(ctx, 'vm', '/a').migrate('100', 'node2', true)).toBe(false);
    expect(calls).toEqual(['vm migrate 100 node2 1 (123000 ms)', 'vm status 100 (30000 ms)']);
    expect(logs).toEqual([
      'err: migration of vm:100 to node2 timed out after 123 s and was killed - failed; status here afterwards: running',
    ]);
  });

  it('bounds a migration relative to the timing profile and the time scale', () => {
    expect(migrateTimeoutMs(TIMING_PROFILES.default)).toBe(3_600_000);
    expect(migrateTimeoutMs(TIMING_PROFILES.fast)).toBe(1_800_000);
    expect(migrateTimeoutMs(TIMING_PROFILES.default, 10)).toBe(360_000);
  });
});
