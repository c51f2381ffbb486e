// Failover without waits on top of the lock lifetime (safe policy, the real
// daemons' environment over a memory store and a clock the test moves):
//
// - a new master counts a node's fence delay from the last moment the store
//   counted it online (its latest heartbeat plus the heartbeat timeout), not
//   from its own first round;
// - a master whose fence waits for the node's agent lock to expire takes it
//   within about a second of expiry, not at its next round;
// - an LRM starts work the master assigns to it during its pause within
//   about a second, not at its next round, and does not wake without news.
//
// The clock is the test's: a sleep moves it as soon as everything else
// under way has had its turn, and events scheduled on it run when a sleep
// passes their time, so "about a second" is exact
// here and nothing depends on the machine's speed.

import { describe, expect, it } from 'vitest';

import { createCrm, crmIteration } from '../../src/core/crm.js';
import { createLrm, lrmIteration } from '../../src/core/lrm.js';
import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import type { ManagerStatus } from '../../src/core/types.js';
import { writeManagerStatus } from '../../src/config/manager-status.js';
import type { LogLevel } from '../../src/env/env.js';
import type { Clock } from '../../src/env/node/clock.js';
import type { NodeResourceDriver } from '../../src/env/node/drivers.js';
import { createNodeEnv } from '../../src/env/node/env.js';
import { createMemoryStore, type MemoryStore } from '../../src/env/node/memory-store.js';
import { recordingWatchdog } from '../../src/env/node/watchdog.js';
import { DEFAULT_PROFILE } from '../../src/env/timing.js';

const L = DEFAULT_PROFILE.lockLifetimeMs / 1000; // 120 s
const H = DEFAULT_PROFILE.heartbeatTimeoutMs / 1000; // 30 s
const F = DEFAULT_PROFILE.fenceDelayMs / 1000; // 60 s
const R_C = DEFAULT_PROFILE.crmRoundMs / 1000; // 10 s
const R_L = DEFAULT_PROFILE.lrmRoundMs / 1000; // 10 s

/** A clock the test owns: sleeps pass at once (after a turn for everything else), and events due by then run first. */
function eventClock(startMs = 1_000_000_000): Clock & { at(seconds: number, event: () => Promise<void> | void): void } {
  let now = startMs;
  const events: Array<{ atMs: number; event: () => Promise<void> | void }> = [];
  return {
    millis: () => now,
    seconds: () => Math.floor(now / 1000),
    monotonicMillis: () => now,
    async sleep(seconds) {
      // Let whatever else is under way (a worker, say) run first, at the current time.
      await new Promise((resolve) => setImmediate(resolve));
      const until = now + seconds * 1000;
      for (;;) {
        events.sort((a, b) => a.atMs - b.atMs);
        const next = events[0];
        if (next === undefined || next.atMs > until) break;
        events.shift();
        now = Math.max(now, next.atMs);
        await next.event();
      }
      now = until;
    },
    at(seconds, event) {
      events.push({ atMs: seconds * 1000, event });
    },
  };
}

function nodeEnv(store: MemoryStore, clock: Clock, node: string, daemon: 'crm' | 'lrm', drivers: Record<string, NodeResourceDriver> = {}) {
  const logs: Array<{ at: number; line: string }> = [];
  const env = createNodeEnv({
    node,
    daemon,
    store,
    clock,
    log: (level: LogLevel, msg: string) => logs.push({ at: clock.millis() / 1000, line: `${level}: ${msg}` }),
    watchdog: recordingWatchdog(),
    drivers,
    scoringKernel: typescriptScoringKernel,
    isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
  });
  return { env, logs };
}

/** A script-like service type that only records when it was started. */
function recordingDriver(clock: Clock, started: Map<string, number>): NodeResourceDriver {
  const running = new Set<string>();
  return {
    runState: async (name) => (running.has(name) ? 'running' : 'stopped'),
    async start(name) {
      running.add(name);
      if (!started.has(name)) started.set(name, clock.millis() / 1000);
    },
    shutdown: async (name) => void running.delete(name),
    hardStop: async (name) => {
      running.delete(name);
      return 'stopped';
    },
    migrate: async () => false,
    removeLocks: async () => undefined,
  };
}

/**
 * Three nodes; node2 died with the old master (node3): the old master's
 * status still shows everything online and `exec:web` started on node2.
 * node2's agent lock was last renewed `lockAgeS` ago, its heartbeat is
 * `beatAgeS` old; node1's CRM is about to take over.
 */
async function takeover(beatAgeS: number, lockAgeS: number) {
  const clock = eventClock();
  const store = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2', 'node3'] });
  // node2's LRM renewed its agent lock, then died; lockAgeS pass.
  expect(await store.lock('ha_agent_node2_lock', 'node2')).toBe(true);
  await clock.sleep(lockAgeS);
  const nowMs = clock.millis();
  store.setMembership({
    nodes: {
      node1: { online: true, lastHeartbeatMs: nowMs },
      node2: { online: false, lastHeartbeatMs: nowMs - beatAgeS * 1000 },
      node3: { online: true, lastHeartbeatMs: nowMs },
    },
    quorate: true,
  });
  await store.write('ha/resources.cfg', 'exec: web\n\tstate started\n');
  await store.write('nodes/node2/ha-resources/exec:web', '');
  const old: ManagerStatus = {
    master_node: 'node3',
    node_status: { node1: 'online', node2: 'online', node3: 'online' },
    service_status: { 'exec:web': { state: 'started', node: 'node2', uid: 'old-uid' } },
    timestamp: Math.floor(nowMs / 1000) - L,
  };
  await store.write('ha/manager_status', writeManagerStatus(old));
  const { env, logs } = nodeEnv(store, clock, 'node1', 'crm', { exec: recordingDriver(clock, new Map()) });
  const crm = await createCrm(env);
  return { clock, store, crm, logs, startS: nowMs / 1000 };
}

async function status(store: MemoryStore): Promise<ManagerStatus> {
  return JSON.parse((await store.read('ha/manager_status')) ?? '{}') as ManagerStatus;
}

describe('failover under the safe policy, through the node environment', () => {
  it('a new master fences a node whose last heartbeat is older than the heartbeat timeout plus the fence delay in its first round', async () => {
    // The lock has expired (renewed L + 1 s ago); the heartbeat is H + F + 1 s old, stale for F + 1 s.
    const { crm, store, logs } = await takeover(H + F + 1, L + 1);
    await crmIteration(crm);
    expect(crm.status.state).toBe('master');
    const lines = logs.map((l) => l.line);
    expect(lines).toContain("info: fencing: acknowledged - got agent lock for node 'node2'");
    const ms = await status(store);
    expect(ms.service_status?.['exec:web']?.node).not.toBe('node2');
    expect(['recovery', 'started']).toContain(ms.service_status?.['exec:web']?.state);
  });

  it('still waits out the fence delay from the last moment the node counted online', async () => {
    // Stale for 10 s only: a short outage, not yet a fence.
    const { crm, store, logs, startS } = await takeover(H + 10, L + 1);
    await crmIteration(crm);
    expect(crm.status.state).toBe('master');
    expect((await status(store)).service_status?.['exec:web']?.state).toBe('started');
    // From the beat: fenced once H + F have passed since it, i.e. F - 10 s after the takeover, give or take a round.
    for (let i = 0; i < 20 && !logs.some((l) => l.line.includes('fencing: acknowledged')); i++) await crmIteration(crm);
    const fencedAt = logs.find((l) => l.line.includes('fencing: acknowledged'))?.at;
    expect(fencedAt).toBeDefined();
    expect((fencedAt ?? 0) - startS).toBeGreaterThanOrEqual(F - 10);
    expect((fencedAt ?? 0) - startS).toBeLessThanOrEqual(F - 10 + R_C);
  });

  it("a master waiting for a failed node's agent lock takes it within about a second of its expiry, not at its next round", async () => {
    // The fence is due (old heartbeat), but node2's LRM renewed its lock
    // 86.5 s ago: it expires 33.5 s into the new master's term, in the
    // middle of a round (rounds start at 0, 10, 20, 30, 40 s).
    const { crm, logs, startS } = await takeover(H + F + 1, L - 33.5);
    for (let i = 0; i < 10 && !logs.some((l) => l.line.includes('fencing: acknowledged')); i++) await crmIteration(crm);
    const taken = logs.find((l) => l.line === "info: successfully acquired lock 'ha_agent_node2_lock'")?.at;
    const acknowledged = logs.find((l) => l.line.includes("fencing: acknowledged - got agent lock for node 'node2'"))?.at;
    expect(taken).toBeDefined();
    expect(acknowledged).toBeDefined();
    const expiry = startS + 33.5;
    // Taken at the first look after expiry (looks are a second apart);
    // the reference's next round would be at 40 s.
    expect((taken ?? 0) - expiry).toBeGreaterThan(0);
    expect((taken ?? 0) - expiry).toBeLessThanOrEqual(1.5);
    // The round that acknowledges it starts right away.
    expect((acknowledged ?? 0) - (taken ?? 0)).toBeLessThan(1);
  });

  it('an LRM starts a service assigned to it during its pause within about a second, and sleeps whole rounds without news', async () => {
    const clock = eventClock();
    const store = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2'] });
    await store.write('ha/resources.cfg', 'exec: a\n\tstate started\n\nexec: b\n\tstate started\n');
    await store.write('nodes/node2/ha-resources/exec:a', '');
    await store.write('nodes/node2/ha-resources/exec:b', '');
    const ms = (services: ManagerStatus['service_status']): string =>
      writeManagerStatus({ master_node: 'node1', node_status: { node1: 'online', node2: 'online' }, service_status: services, timestamp: clock.seconds() });
    await store.write('ha/manager_status', ms({ 'exec:a': { state: 'started', node: 'node2', uid: 'a1' } }));
    const started = new Map<string, number>();
    const { env } = nodeEnv(store, clock, 'node2', 'lrm', { exec: recordingDriver(clock, started) });
    const lrm = createLrm(env);

    const iterationStarts: number[] = [];
    const iterate = async (): Promise<void> => {
      iterationStarts.push(clock.millis() / 1000);
      expect(await lrmIteration(lrm)).toBe(true);
    };
    for (let i = 0; i < 30 && !started.has('a'); i++) await iterate();
    expect(lrm.status.state).toBe('active');
    // The master renews uids of unchanged services every round: no news.
    const t0 = clock.millis() / 1000;
    clock.at(t0 + 2.5, () => store.write('ha/manager_status', ms({ 'exec:a': { state: 'started', node: 'node2', uid: 'a2' } })));
    const before = iterationStarts.length;
    await iterate();
    await iterate();
    const pauses = iterationStarts.slice(before);
    expect(clock.millis() / 1000 - pauses[0]).toBeGreaterThanOrEqual(2 * R_L - 1);

    // A recovered service arrives 3.5 s into a pause.
    const assignedAt = clock.millis() / 1000 + 3.5;
    clock.at(assignedAt, () =>
      store.write(
        'ha/manager_status',
        ms({ 'exec:a': { state: 'started', node: 'node2', uid: 'a3' }, 'exec:b': { state: 'started', node: 'node2', uid: 'b1' } }),
      ),
    );
    for (let i = 0; i < 5 && !started.has('b'); i++) await iterate();
    const startedAt = started.get('b');
    expect(startedAt).toBeDefined();
    // The next look (a second apart) wakes the LRM; the reference would start it at its next round, 6.5 s later.
    expect((startedAt ?? 0) - assignedAt).toBeGreaterThan(0);
    expect((startedAt ?? 0) - assignedAt).toBeLessThanOrEqual(1.5);
  });

  it('an idle LRM waiting for its lock takes it for a newly assigned service within about a second', async () => {
    const clock = eventClock();
    const store = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2'] });
    await store.write('ha/resources.cfg', 'exec: b\n\tstate started\n');
    await store.write('nodes/node2/ha-resources/exec:b', '');
    const write = (services: ManagerStatus['service_status']) =>
      store.write(
        'ha/manager_status',
        writeManagerStatus({ master_node: 'node1', node_status: { node1: 'online', node2: 'online' }, service_status: services, timestamp: clock.seconds() }),
      );
    await write({});
    const started = new Map<string, number>();
    const { env, logs } = nodeEnv(store, clock, 'node2', 'lrm', { exec: recordingDriver(clock, started) });
    const lrm = createLrm(env);
    for (let i = 0; i < 3; i++) await lrmIteration(lrm);
    expect(lrm.status.state).toBe('wait_for_agent_lock');
    const assignedAt = clock.millis() / 1000 + 2.5;
    clock.at(assignedAt, () => write({ 'exec:b': { state: 'started', node: 'node2', uid: 'b1' } }));
    for (let i = 0; i < 5 && !started.has('b'); i++) await lrmIteration(lrm);
    const lockedAt = logs.find((l) => l.line === "info: successfully acquired lock 'ha_agent_node2_lock'")?.at;
    expect(lockedAt).toBeDefined();
    // The lock retry P is 5 s: without waking, the lock would come 2.5 s after the assignment at best.
    expect((lockedAt ?? 0) - assignedAt).toBeLessThanOrEqual(1.5);
    expect(started.has('b')).toBe(true);
  });
});
