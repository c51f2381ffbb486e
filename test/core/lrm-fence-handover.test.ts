// An LRM that holds its agent lock and watchdog and reads a fence request for
// its own node. The reference stops renewing the lock and waits for its
// watchdog to reset the node; the master fences only once the lease ran out.
// Under the safe policy the LRM hands the node over at once: it hard stops
// every local service and, only when each stop is confirmed, releases its
// lock and closes its watchdog cleanly. Real LRM core (and, in the last test,
// a real master) over the node environment, an in-memory store, a clock the
// test moves and a recording watchdog; the exec driver is a fake whose
// answers the test sets.

import { describe, expect, it } from 'vitest';

import { createCrm, crmIteration } from '../../src/core/crm.js';
import { createLrm, lrmIteration } from '../../src/core/lrm.js';
import type { Policy } from '../../src/core/policy.js';
import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import type { ManagerStatus } from '../../src/core/types.js';
import type { HaEnv, LogLevel, RunState } from '../../src/env/env.js';
import type { NodeResourceDriver } from '../../src/env/node/drivers.js';
import { createNodeEnv } from '../../src/env/node/env.js';
import { createMemoryStore, type MemoryStore } from '../../src/env/node/memory-store.js';
import { recordingWatchdog } from '../../src/env/node/watchdog.js';
import { DEFAULT_PROFILE } from '../../src/env/timing.js';
import { manualClock, type ManualClock } from '../env/manual-clock.js';

const AGENT_LOCK = 'ha_agent_node1_lock';
const L = DEFAULT_PROFILE.lockLifetimeMs / 1000; // 120 s

/** A fake exec driver: `web` runs until stopped; what a hard stop reports is the test's. */
function fakeExec() {
  const fake = { running: new Set(['web']), afterHardStop: 'stopped' as RunState, hardStops: [] as string[], starts: [] as string[] };
  const driver: NodeResourceDriver = {
    runState: async (name) => (fake.running.has(name) ? 'running' : 'stopped'),
    start: async (name) => {
      fake.starts.push(name);
      fake.running.add(name);
    },
    shutdown: async (name) => void fake.running.delete(name),
    hardStop: async (name) => {
      fake.hardStops.push(name);
      if (fake.afterHardStop === 'stopped') fake.running.delete(name);
      return fake.afterHardStop;
    },
    migrate: async () => false,
    removeLocks: async () => undefined,
  };
  return { fake, driver };
}

function nodeEnv(store: MemoryStore, clock: ManualClock, node: string, daemon: 'crm' | 'lrm', exec?: NodeResourceDriver) {
  const watchdog = recordingWatchdog();
  const logs: string[] = [];
  const env = createNodeEnv({
    node,
    daemon,
    store,
    clock,
    log: (level: LogLevel, msg: string) => logs.push(`${level}: ${msg}`),
    watchdog,
    drivers: exec !== undefined ? { exec } : {},
    scoringKernel: typescriptScoringKernel,
    isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
  });
  return { env, watchdog, logs };
}

/** The node environment binds 'safe'; the same environment as the reference would see it. */
function withPolicy(env: HaEnv, policy: Policy): HaEnv {
  return policy === env.policy ? env : (Object.create(env, { policy: { value: policy } }) as HaEnv);
}

function managerStatus(clock: ManualClock, node1: 'online' | 'fence', web: 'started' | 'fence'): string {
  const ms: ManagerStatus = {
    master_node: 'node2',
    node_status: { node1, node2: 'online' },
    service_status: { 'exec:web': { node: 'node1', state: web, uid: web === 'started' ? 'u1' : 'u2' } },
    timestamp: clock.seconds(),
  };
  return JSON.stringify(ms);
}

/** node1's LRM, active with `exec:web` running and its watchdog armed; node2 is the (absent) master. */
async function activeLrm(policy: Policy) {
  const clock = manualClock();
  const store = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2'] });
  await store.write('ha/resources.cfg', 'exec: web\n\tstate started\n');
  await store.write('nodes/node1/ha-resources/exec:web', '');
  await store.write('ha/manager_status', managerStatus(clock, 'online', 'started'));
  const { fake, driver } = fakeExec();
  const { env, watchdog, logs } = nodeEnv(store, clock, 'node1', 'lrm', driver);
  const lrm = createLrm(withPolicy(env, policy));
  for (let i = 0; i < 3 && lrm.status.state !== 'active'; i++) await lrmIteration(lrm);
  expect(lrm.status.state).toBe('active');
  expect(watchdog.armed).toBe(true);
  expect(fake.running.has('web')).toBe(true);
  /** The master put node1 in `fence` (and its service with it). */
  const requestFence = () => store.write('ha/manager_status', managerStatus(clock, 'fence', 'fence'));
  return { clock, store, fake, watchdog, logs, lrm, requestFence };
}

describe('LRM asked to be fenced while holding its lock', () => {
  it('safe policy: hard stops its services, releases its lock and closes its watchdog cleanly', async () => {
    const { store, fake, watchdog, logs, lrm, requestFence } = await activeLrm('safe');
    await requestFence();
    await lrmIteration(lrm);
    expect(fake.hardStops).toEqual(['web']);
    expect(fake.running.has('web')).toBe(false);
    expect(logs).toContain('crit: node needs to be fenced - handing it over to the master: hard stopping 1 service(s)');
    expect(logs).toContain(
      'crit: every service here is confirmed stopped and no worker runs - released the agent lock and closed the watchdog, so the master fences this node at once, without a reset',
    );
    // Disarmed on purpose, not left to fire.
    expect(watchdog.armed).toBe(false);
    expect(watchdog.events.at(-1)).toBe('close clean');
    expect(watchdog.events).not.toContain('close unclean');
    // The master's next attempt is granted at once, without waiting for the lease.
    expect(await store.acquireLock(AGENT_LOCK, 'node2')).toBe('granted');
    expect(lrm.status.state).toBe('wait_for_agent_lock');
    // No new lease while the fence request stands.
    for (let i = 0; i < 3; i++) {
      await lrmIteration(lrm);
      expect(lrm.status.state).toBe('wait_for_agent_lock');
    }
    expect(watchdog.armed).toBe(false);
  });

  it('safe policy, during maintenance: hands over the same way', async () => {
    const { clock, store, watchdog, lrm, fake } = await activeLrm('safe');
    const ms = JSON.parse(managerStatus(clock, 'online', 'started')) as ManagerStatus;
    await store.write('ha/manager_status', JSON.stringify({ ...ms, node_request: { node1: { maintenance: 1 } } }));
    await lrmIteration(lrm);
    expect(lrm.status.state).toBe('maintenance');
    const fenced = JSON.parse(managerStatus(clock, 'fence', 'fence')) as ManagerStatus;
    await store.write('ha/manager_status', JSON.stringify({ ...fenced, node_request: { node1: { maintenance: 1 } } }));
    await lrmIteration(lrm);
    expect(fake.running.has('web')).toBe(false);
    expect(watchdog.events.at(-1)).toBe('close clean');
    expect(await store.acquireLock(AGENT_LOCK, 'node2')).toBe('granted');
    expect(lrm.status.state).toBe('wait_for_agent_lock');
  });

  it('safe policy, a stop not confirmed: keeps the lock to run out and the watchdog armed', async () => {
    const { store, fake, watchdog, logs, lrm, requestFence } = await activeLrm('safe');
    fake.afterHardStop = 'unknown';
    const events = watchdog.events.length;
    await requestFence();
    await lrmIteration(lrm);
    expect(fake.hardStops.length).toBeGreaterThan(0);
    expect(lrm.unconfirmedStops.has('exec:web')).toBe(true);
    expect(logs).toContain('crit: leaving the agent lock to run out and the watchdog armed: service(s) exec:web may still run');
    expect(lrm.status.state).toBe('lost_agent_lock');
    // Not released: the master still has to wait for the lease.
    expect(await store.acquireLock(AGENT_LOCK, 'node2')).toBe('refused');
    // Not closed, not fed any more: it fires.
    expect(watchdog.armed).toBe(true);
    expect(watchdog.events.slice(events)).toEqual([]);
  });

  it('reference policy: stops nothing, releases nothing, waits for the reset', async () => {
    const { store, fake, watchdog, logs, lrm, requestFence } = await activeLrm('reference');
    const events = watchdog.events.length;
    await requestFence();
    await lrmIteration(lrm);
    expect(logs).toContain('err: node needs to be fenced - releasing agent_lock');
    expect(lrm.status.state).toBe('lost_agent_lock');
    expect(fake.hardStops).toEqual([]);
    expect(fake.running.has('web')).toBe(true);
    expect(await store.acquireLock(AGENT_LOCK, 'node2')).toBe('refused');
    expect(watchdog.armed).toBe(true);
    expect(watchdog.events.slice(events)).toEqual([]);
  });
});

describe('a master and an LRM that hands its node over (safe policy)', () => {
  // node2's CRM is master; node1's LRM runs exec:web. node1 drops out of the
  // membership while its LRM goes on (what the master sees of a node that
  // rebooted and came back just too late); the master puts it in `fence`.
  async function cluster(lrmPolicy: Policy) {
    const clock = manualClock();
    const store = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2'] });
    await store.write('ha/resources.cfg', 'exec: web\n\tstate started\n');
    await store.write('nodes/node1/ha-resources/exec:web', '');
    const { fake, driver } = fakeExec();
    fake.running.clear();
    const n1 = nodeEnv(store, clock, 'node1', 'lrm', driver);
    const lrm = createLrm(withPolicy(n1.env, lrmPolicy));
    const n2 = nodeEnv(store, clock, 'node2', 'crm', fakeExec().driver);
    const crm = await createCrm(n2.env);
    const status = async () => JSON.parse((await store.read('ha/manager_status')) ?? '{}') as ManagerStatus;
    const both = async () => {
      await crmIteration(crm);
      await lrmIteration(lrm);
    };
    for (let i = 0; i < 10 && !(lrm.status.state === 'active' && fake.running.has('web')); i++) await both();
    expect(crm.status.state).toBe('master');
    expect(lrm.status.state).toBe('active');
    expect(fake.running.has('web')).toBe(true);
    return { clock, store, fake, n1, n2, lrm, status, both };
  }

  function dropNode1(store: MemoryStore, clock: ManualClock): void {
    store.setMembership({
      nodes: { node1: { online: false, lastHeartbeatMs: clock.millis() }, node2: { online: true, lastHeartbeatMs: clock.millis() } },
      quorate: true,
    });
  }

  it('the master fences at once, recovers the service, and the LRM rejoins once its node is back', async () => {
    const { clock, store, fake, n1, n2, lrm, status, both } = await cluster('safe');
    dropNode1(store, clock);
    let fencedAt: number | undefined;
    for (let i = 0; i < 30 && fencedAt === undefined; i++) {
      await both();
      if ((await status()).node_status?.node1 === 'fence') fencedAt = clock.seconds();
    }
    expect(fencedAt).toBeDefined();
    for (let i = 0; i < 10 && !n2.logs.some((l) => l.includes('fencing: acknowledged')); i++) await both();
    expect(n2.logs).toContain("info: fencing: acknowledged - got agent lock for node 'node1'");
    // Within a few rounds of the fence request, long before node1's lease would have run out.
    expect(clock.seconds() - (fencedAt ?? 0)).toBeLessThan(L / 2);
    expect(fake.running.has('web')).toBe(false);
    expect(n1.watchdog.events).not.toContain('close unclean');
    expect(n1.watchdog.armed).toBe(false);
    await both();
    const recovered = (await status()).service_status?.['exec:web'];
    expect(recovered?.node).toBe('node2');
    expect(recovered?.state).toBe('started');

    // node1 is back; a new service is placed on it: its LRM takes its lock again and runs it.
    store.setMembership({
      nodes: { node1: { online: true, lastHeartbeatMs: clock.millis() }, node2: { online: true, lastHeartbeatMs: clock.millis() } },
      quorate: true,
    });
    await store.write('ha/resources.cfg', 'exec: web\n\tstate started\n\nexec: db\n\tstate started\n');
    await store.write('nodes/node1/ha-resources/exec:db', '');
    for (let i = 0; i < 20 && !fake.running.has('db'); i++) await both();
    expect((await status()).node_status?.node1).toBe('online');
    expect(lrm.status.state).toBe('active');
    expect(fake.running.has('db')).toBe(true);
    expect(n1.watchdog.armed).toBe(true);
  });

  it('with the reference LRM, the master waits for the lease to run out', async () => {
    const { clock, store, n2, status, both } = await cluster('reference');
    dropNode1(store, clock);
    let fencedAt: number | undefined;
    for (let i = 0; i < 30 && fencedAt === undefined; i++) {
      await both();
      if ((await status()).node_status?.node1 === 'fence') fencedAt = clock.seconds();
    }
    expect(fencedAt).toBeDefined();
    for (let i = 0; i < 20 && !n2.logs.some((l) => l.includes('fencing: acknowledged')); i++) await both();
    expect(n2.logs).toContain("info: fencing: acknowledged - got agent lock for node 'node1'");
    expect(clock.seconds() - (fencedAt ?? 0)).toBeGreaterThanOrEqual(L / 2);
  });
});
