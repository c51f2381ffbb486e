// An LRM that finds its agent lock's lease lapsed acts as the reset it
// missed: it hard stops its services, lets go of its watchdog *without*
// disarming it (a real watchdog must still fire), and takes its lock again
// only once every hard stop is confirmed by a status check. Real LRM core
// over the node environment, an in-memory store, a clock the test moves and
// a recording watchdog; the exec driver is a fake whose answers the test sets.

import { describe, expect, it } from 'vitest';

import { createLrm, execResourceAgent, lrmIteration } from '../../src/core/lrm.js';
import { EXIT } from '../../src/core/types.js';
import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import type { LogLevel, RunState } from '../../src/env/env.js';
import type { NodeResourceDriver } from '../../src/env/node/drivers.js';
import { createNodeEnv } from '../../src/env/node/env.js';
import { createMemoryStore } from '../../src/env/node/memory-store.js';
import { recordingWatchdog } from '../../src/env/node/watchdog.js';
import { manualClock } from '../env/manual-clock.js';

interface SetupOptions {
  name: string;
  onStatus: () => void;
  /** Starts of these services hang until the test ends them (a `start` in flight). */
  hangingStarts?: Map<string, () => void>;
  abortWorkerCommands?: (settled: Promise<void>) => Promise<void>;
  events?: string[];
}

async function setup(extra: SetupOptions | undefined = undefined) {
  const clock = manualClock();
  const store = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2'] });
  await store.write('ha/resources.cfg', 'exec: web\n\tstate started\n');
  await store.write('nodes/node1/ha-resources/exec:web', '');
  await store.write('datacenter.cfg', 'max_workers: 1\n');
  await store.write(
    'ha/manager_status',
    JSON.stringify({
      master_node: 'node2',
      node_status: { node1: 'online', node2: 'online' },
      service_status: { 'exec:web': { node: 'node1', state: 'started', uid: 'u1' } },
      timestamp: clock.seconds(),
    }),
  );
  const fake = { running: true, afterHardStop: 'stopped' as RunState, hardStops: 0, starts: [] as string[] };
  const exec: NodeResourceDriver = {
    runState: async (name) => {
      if (name === extra?.name) extra.onStatus();
      return name === 'web' && fake.running ? 'running' : 'stopped';
    },
    start: async (name) => {
      fake.starts.push(name);
      extra?.events?.push(`start ${name}`);
      if (extra?.hangingStarts?.has(name)) {
        await new Promise<void>((resolve) => extra.hangingStarts?.set(name, resolve));
        extra.events?.push(`start ${name} ended`);
      }
      if (name === 'web') fake.running = true;
    },
    shutdown: async () => {
      fake.running = false;
    },
    hardStop: async (name) => {
      extra?.events?.push(`hard stop ${name}`);
      fake.hardStops++;
      if (fake.afterHardStop === 'stopped') fake.running = false;
      return fake.afterHardStop;
    },
    migrate: async () => false,
    removeLocks: async () => undefined,
  };
  const watchdog = recordingWatchdog();
  const logs: string[] = [];
  const env = createNodeEnv({
    node: 'node1',
    daemon: 'lrm',
    store,
    clock,
    log: (level: LogLevel, msg: string) => logs.push(`${level}: ${msg}`),
    watchdog,
    drivers: { exec },
    scoringKernel: typescriptScoringKernel,
    isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
    ...(extra?.abortWorkerCommands !== undefined ? { abortWorkerCommands: extra.abortWorkerCommands } : {}),
  });
  const lrm = createLrm(env);
  // The service is queued and started inline-free (max_workers 4): run rounds until active and fed.
  for (let i = 0; i < 3 && lrm.status.state !== 'active'; i++) await lrmIteration(lrm);
  expect(lrm.status.state).toBe('active');
  expect(watchdog.events[0]).toBe('open');
  return { clock, store, fake, watchdog, logs, lrm, env };
}

describe('LRM acting as fenced', () => {
  it('lets go of the watchdog without a magic close', async () => {
    const { clock, watchdog, logs, lrm, fake } = await setup();
    // A pause longer than the lock lifetime (120 s with `default`).
    clock.advance(130);
    await lrmIteration(lrm);
    expect(logs.some((l) => l.includes('acting as fenced'))).toBe(true);
    expect(fake.running).toBe(false);
    expect(watchdog.events).not.toContain('close clean');
    expect(watchdog.events).toContain('close unclean');
    // Confirmed stopped, and still assigned here: it starts over with a new lease (a real mux would refuse it).
    expect(watchdog.events.slice(watchdog.events.indexOf('close unclean'))).toEqual(['close unclean', 'open']);
  });

  it('takes no agent lock while a hard stop is not confirmed, and retries it', async () => {
    const { clock, fake, logs, lrm } = await setup();
    fake.afterHardStop = 'unknown';
    clock.advance(130);
    await lrmIteration(lrm);
    const fencedAt = logs.length;
    // Retried (three times) in the fence, and again before the lock is taken in the same round.
    expect(fake.hardStops).toBe(6);
    expect(logs.some((l) => l.includes('exec:web may still run after the hard stop'))).toBe(true);
    // The service is still assigned here, but no new lease while it may run.
    for (let i = 0; i < 3; i++) {
      await lrmIteration(lrm);
      expect(lrm.status.state).toBe('wait_for_agent_lock');
    }
    expect(logs.some((l) => l.startsWith('crit: not taking the agent lock: service(s) exec:web'))).toBe(true);
    expect(logs.slice(fencedAt).some((l) => l.includes('successfully acquired lock'))).toBe(false);
    expect(fake.hardStops).toBeGreaterThan(3);
  });

  it('takes the lock again once the hard stop is confirmed', async () => {
    const { clock, fake, lrm } = await setup();
    fake.afterHardStop = 'unknown';
    clock.advance(130);
    await lrmIteration(lrm);
    await lrmIteration(lrm);
    expect(lrm.status.state).toBe('wait_for_agent_lock');
    fake.afterHardStop = 'stopped';
    await lrmIteration(lrm);
    expect(lrm.status.state).toBe('active');
    expect(lrm.unconfirmedStops.size).toBe(0);
  });
});

describe('LRM arming on a slow lock renewal', () => {
  it('counts a lease too old to arm on as no lock, and arms on the next one', async () => {
    const { clock, store, watchdog, lrm } = await setup();
    clock.advance(130);
    // The renewal after acting as fenced takes 45 s: its lease is past the feed deadline when it returns.
    const acquireLock = store.acquireLock.bind(store);
    let slow = true;
    store.acquireLock = async (name, holder) => {
      const got = await acquireLock(name, holder);
      if (slow) clock.advance(45);
      slow = false;
      return got;
    };
    await lrmIteration(lrm);
    expect(lrm.status.state).toBe('wait_for_agent_lock');
    expect(watchdog.events.slice(watchdog.events.indexOf('close unclean'))).toEqual(['close unclean', 'open', 'close clean']);
    await lrmIteration(lrm);
    expect(lrm.status.state).toBe('active');
    expect(watchdog.armed).toBe(true);
  });
});

describe('LRM workers and a lapsed lease', () => {
  it('checks the lease right before starting each worker', async () => {
    let stall = false;
    const { clock, store, fake, logs, lrm } = await setup({
      name: 'a',
      onStatus: () => {
        // The first worker stalls past the lock lifetime (synchronously, as a paused process would).
        if (stall) clock.advance(130);
        stall = false;
      },
    });
    await store.write('ha/resources.cfg', 'exec: a\n\tstate started\n\nexec: b\n\tstate started\n\nexec: web\n\tstate started\n');
    // Room for both: only the lease check can keep b from starting.
    await store.write('datacenter.cfg', 'max_workers: 2\n');
    await store.write('nodes/node1/ha-resources/exec:a', '');
    await store.write('nodes/node1/ha-resources/exec:b', '');
    await store.write(
      'ha/manager_status',
      JSON.stringify({
        master_node: 'node2',
        node_status: { node1: 'online', node2: 'online' },
        service_status: {
          'exec:a': { node: 'node1', state: 'started', uid: 'ua' },
          'exec:b': { node: 'node1', state: 'started', uid: 'ub' },
          'exec:web': { node: 'node1', state: 'started', uid: 'u1' },
        },
        timestamp: clock.seconds(),
      }),
    );
    stall = true;
    fake.starts.length = 0;
    await lrmIteration(lrm);
    // a started (then stalled); b was not started on the lapsed lease.
    expect(fake.starts).toEqual(['a']);
    expect(logs).toContain('crit: agent lock lease lapsed - not starting further workers');
  });
});

describe('LRM workers running when it acts as fenced', () => {
  it('aborts them first, then hard stops their services with the rest, and reports no result for them', async () => {
    const events: string[] = [];
    const hangingStarts = new Map<string, () => void>([['a', () => {}]]);
    const { clock, store, lrm } = await setup({
      name: '',
      onStatus: () => {},
      hangingStarts,
      events,
      abortWorkerCommands: async (settled) => {
        events.push('abort');
        // What killing its process does: the hanging start returns.
        hangingStarts.get('a')?.();
        await settled;
        events.push('aborted workers settled');
      },
    });
    await store.write('ha/resources.cfg', 'exec: a\n\tstate started\n\nexec: web\n\tstate started\n');
    await store.write('nodes/node1/ha-resources/exec:a', '');
    await store.write(
      'ha/manager_status',
      JSON.stringify({
        master_node: 'node2',
        node_status: { node1: 'online', node2: 'online' },
        service_status: {
          'exec:a': { node: 'node1', state: 'started', uid: 'ua' },
          'exec:web': { node: 'node1', state: 'started', uid: 'u1' },
        },
        timestamp: clock.seconds(),
      }),
    );
    await lrmIteration(lrm);
    // The start of a is in flight when the round ends.
    expect(events).toEqual(['start a']);
    expect(lrm.workers.get('exec:a')?.started).toBeDefined();
    clock.advance(130);
    await lrmIteration(lrm);
    const fenced = events.indexOf('abort');
    expect(fenced).toBeGreaterThan(0);
    expect(events.slice(fenced, fenced + 3)).toEqual(['abort', 'start a ended', 'aborted workers settled']);
    expect(events.slice(fenced + 3).filter((e) => e.startsWith('hard stop')).sort()).toEqual(['hard stop a', 'hard stop web']);
    // Its result was for the lapsed lease.
    expect(lrm.results.ua).toBeUndefined();
  });
});

describe('LRM commands with a status that cannot tell', () => {
  it('a stop is not reported done while the status is unknown', async () => {
    const { lrm, fake } = await setup();
    const driver = lrm.env.resourceDriver('exec');
    if (driver === undefined) throw new Error('no exec driver');
    driver.runState = async () => 'unknown';
    const cd = (await lrm.env.readServiceConfig()).services['exec:web'];
    expect(await execResourceAgent(lrm, 'exec:web', cd, 'stopped', undefined)).toBe(EXIT.ERROR);
    expect(await execResourceAgent(lrm, 'exec:web', cd, 'started', undefined)).toBe(EXIT.ERROR);
    expect(fake.running).toBe(true);
  });
});
