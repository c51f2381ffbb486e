// The node environment's own behaviour, over the in-memory store with a
// clock the test moves: locks and their log lines, the watchdog lease guard,
// config and status reading, the crm command queue, stealing a guest.

import { describe, expect, it } from 'vitest';

import { createCrm, crmIteration } from '../../src/core/crm.js';
import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import type { HaEnv, LogLevel, WatchdogHandle } from '../../src/env/env.js';
import { createClock } from '../../src/env/node/clock.js';
import { createNodeEnv } from '../../src/env/node/env.js';
import { createMemoryStore } from '../../src/env/node/memory-store.js';
import { recordingWatchdog, type RecordingWatchdog, type WatchdogPort } from '../../src/env/node/watchdog.js';
import type { WatchdogMuxStatus } from '../../src/native/watchdog.js';
import { manualClock } from './manual-clock.js';

/** A watchdog port that answers status queries as watchdog-mux would. */
/** Arms the watchdog, which must accept. */
async function arm(env: HaEnv): Promise<WatchdogHandle> {
  const handle = await env.watchdogOpen();
  if (handle === undefined) throw new Error('the watchdog refused to arm');
  return handle;
}

function muxLikeWatchdog(status: WatchdogMuxStatus): RecordingWatchdog {
  return Object.assign(recordingWatchdog(), { status: () => status });
}

function setup(daemon: 'crm' | 'lrm' = 'lrm', node = 'node1', options: { watchdog?: WatchdogPort; timeScale?: number } = {}) {
  const clock = manualClock();
  const store = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2', 'node3'] });
  const recording = recordingWatchdog();
  const watchdog = options.watchdog ?? recording;
  const logs: string[] = [];
  const env = createNodeEnv({
    node,
    daemon,
    store,
    clock,
    log: (level: LogLevel, msg: string) => logs.push(`${level}: ${msg}`),
    watchdog,
    drivers: {},
    scoringKernel: typescriptScoringKernel,
    isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
  });
  return { env, store, clock, watchdog: recording, logs };
}

describe('node environment', () => {
  it('logs a lock only when it is gained or lost', async () => {
    const { env, store, logs } = setup('lrm');
    expect(await env.getHaAgentLock()).toBe(true);
    expect(await env.getHaAgentLock()).toBe(true);
    expect(logs).toEqual(["info: successfully acquired lock 'ha_agent_node1_lock'"]);
    // someone else holds it now (after a release), so ours fails
    await env.releaseHaAgentLock();
    expect(await store.lock('ha_agent_node1_lock', 'node2')).toBe(true);
    expect(await env.getHaAgentLock()).toBe(false);
    expect(await env.getHaAgentLock()).toBe(false);
    expect(logs.filter((l) => l.startsWith('err'))).toEqual([]);
  });

  it('reports a lock lost while held', async () => {
    const { env, store, clock, logs } = setup('crm');
    expect(await env.getHaManagerLock()).toBe(true);
    clock.advance(121);
    expect(await store.lock('ha_manager_lock', 'node2')).toBe(true);
    expect(await env.getHaManagerLock()).toBe(false);
    expect(logs).toContain("err: lost lock 'ha_manager_lock");
  });

  it('treats a renewal that the store calls a new grant as a lapsed lease, never as an unbroken hold', async () => {
    const { env, store, clock, logs } = setup('crm');
    expect(await env.getHaManagerLock()).toBe(true);
    expect(env.leaseLapsed()).toBe(false);
    // The store's clock runs past the lease while this daemon's monotonic
    // clock does not (another node could have held the lock in between).
    clock.stepWall(121);
    expect(await env.getHaManagerLock()).toBe(true);
    expect(env.leaseLapsed()).toBe(true);
    expect(logs).toContain("crit: lock 'ha_manager_lock' was lost since its last renewal and granted anew - treating it as a lapsed lease");
    await expect(env.writeManagerStatus({ master_node: 'node1' })).rejects.toThrow(/^lock lost:/);
    // Renewed without a break since: a lease again.
    expect(await env.getHaManagerLock()).toBe(true);
    expect(env.leaseLapsed()).toBe(false);
    expect(await store.acquireLock('ha_manager_lock', 'node1')).toBe('renewed');
  });

  it('makes a master whose renewal the store calls a new grant leave the master state', async () => {
    const { env, store, clock, logs } = setup('crm');
    await store.write('ha/resources.cfg', 'vm: 100\n\tstate started\n'); // a master with nothing to manage would go idle
    await store.write('nodes/node1/qemu-server/100.conf', '');
    await store.write('ha/manager_status', '{}');
    const crm = await createCrm(env);
    for (let i = 0; i < 10 && crm.status.state !== 'master'; i++) await crmIteration(crm);
    expect(crm.status.state).toBe('master');
    await crmIteration(crm);
    expect(crm.status.state).toBe('master');
    clock.stepWall(121); // the store's lease runs out; this daemon's monotonic clock does not notice
    await crmIteration(crm);
    expect(crm.status.state).not.toBe('master');
    expect(logs).toContain("crit: lock 'ha_manager_lock' was lost since its last renewal and granted anew - treating it as a lapsed lease");
  });

  it("conditions the master's writes on the manager lock: a deposed master cannot overwrite its successor", async () => {
    const { env, store, clock, logs } = setup('crm');
    expect(await env.getHaManagerLock()).toBe(true);
    await env.writeManagerStatus({ master_node: 'node1' });
    // node1 stalls past its lease; node2 takes over and writes.
    clock.advance(121);
    expect(await store.lock('ha_manager_lock', 'node2')).toBe(true);
    const successor = { fence: { lock: 'ha_manager_lock', holder: 'node2' } };
    await store.write('ha/manager_status', '{"master_node":"node2"}', successor);
    await expect(env.writeManagerStatus({ master_node: 'node1' })).rejects.toThrow(/^lock lost:/);
    await expect(env.writeRulesConfig({ ids: {}, order: {}, digest: '' })).rejects.toThrow(/^lock lost:/);
    await expect(env.updateServiceConfig({})).rejects.toThrow(/^lock lost:/);
    expect(await store.read('ha/manager_status')).toBe('{"master_node":"node2"}');
    expect(await store.read('ha/rules.cfg')).toBeUndefined();
    expect(await env.getHaManagerLock()).toBe(false);
    expect(logs).toContain("err: lost lock 'ha_manager_lock");
  });

  it("conditions the LRM's status on its agent lock while it holds it, and writes it freely while it waits for it", async () => {
    const { env, store, clock } = setup('lrm');
    await env.writeLrmStatus({ state: 'wait_for_agent_lock', mode: 'active', results: {}, timestamp: 1 });
    expect(await env.getHaAgentLock()).toBe(true);
    await env.writeLrmStatus({ state: 'active', mode: 'active', results: {}, timestamp: 2 });
    expect((await env.readLrmStatus()).timestamp).toBe(2);
    // Its lease runs out; the master fences the node by taking its agent lock.
    clock.advance(121);
    expect(await store.lock('ha_agent_node1_lock', 'node2')).toBe(true);
    await expect(env.writeLrmStatus({ state: 'active', mode: 'active', results: {}, timestamp: 3 })).rejects.toThrow(
      /^lock lost: 'node1' no longer holds 'ha_agent_node1_lock'/,
    );
    expect((await env.readLrmStatus()).timestamp).toBe(2);
    // Having noticed the loss, it writes as one that waits for its lock.
    expect(await env.getHaAgentLock()).toBe(false);
    await env.writeLrmStatus({ state: 'lost_agent_lock', mode: 'active', results: {}, timestamp: 4 });
    expect((await env.readLrmStatus()).timestamp).toBe(4);
  });

  it('feeds the watchdog only while the lock lease is safely ahead of expiry', async () => {
    const { env, clock, watchdog, logs } = setup('lrm');
    expect(await env.getHaAgentLock()).toBe(true);
    const handle = await arm(env);
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open', 'update']);
    // 120 s lease minus a 76 s fence window: feeding stops after 44 s without renewal
    clock.advance(45);
    await env.watchdogUpdate(handle);
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open', 'update']);
    expect(logs.filter((l) => l.includes('watchdog not updated'))).toHaveLength(1);
    // a renewal makes it safe again
    expect(await env.getHaAgentLock()).toBe(true);
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open', 'update', 'update']);
    await env.watchdogClose(handle);
    expect(watchdog.events.at(-1)).toBe('close clean');
  });

  it('issues distinct 22-character uids, across refills of its random block', () => {
    const { env } = setup('crm');
    const uids = Array.from({ length: 1000 }, () => env.newUid());
    expect(new Set(uids).size).toBe(1000);
    for (const uid of uids) expect(uid).toMatch(/^[A-Za-z0-9+/]{22}$/);
  });

  it('times the lease on the monotonic clock: wall-clock steps neither extend nor cut it', async () => {
    const { env, clock, watchdog } = setup('lrm');
    expect(await env.getHaAgentLock()).toBe(true);
    const handle = await arm(env);
    // A wall clock stepped forward by an hour: 10 s really passed, the lease is fine.
    clock.advance(10);
    clock.stepWall(3600);
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open', 'update']);
    // A wall clock stepped back by an hour: 45 s really passed since the
    // renewal, past the feed deadline (120 s - 76 s), so no feed, although
    // the wall clock says the lease is brand new.
    clock.advance(35);
    clock.stepWall(-3600);
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open', 'update']);
    // Renewed (the store runs on the stepped wall clock and grants it): safe again.
    expect(await env.getHaAgentLock()).toBe(true);
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open', 'update', 'update']);
  });

  it('scales the monotonic clock like the wall clock', async () => {
    const real = createClock();
    const scaled = createClock({ scale: 10, epochMs: Date.now() });
    const [r0, s0] = [real.monotonicMillis(), scaled.monotonicMillis()];
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [r1, s1] = [real.monotonicMillis(), scaled.monotonicMillis()];
    expect(s1 - s0).toBeGreaterThan(8 * (r1 - r0) - 5);
    expect(s1 - s0).toBeLessThan(12 * (r1 - r0) + 5);
  });

  it('never feeds the watchdog for a lock it does not hold', async () => {
    const { env, store, watchdog } = setup('lrm');
    await store.lock('ha_agent_node1_lock', 'node2');
    expect(await env.getHaAgentLock()).toBe(false);
    // No lease at all: not armed, and not fed.
    expect(await env.watchdogOpen()).toBeUndefined();
    await env.watchdogUpdate('node1:watchdog');
    expect(watchdog.events).toEqual(['open', 'close clean']);
  });

  it('reads a missing lrm_status as mode unknown, and the services with their guests’ nodes', async () => {
    const { env, store } = setup('crm');
    expect(await env.readLrmStatus('node9')).toEqual({ mode: 'unknown' });
    await store.write('ha/resources.cfg', 'vm: 100\n\tstate stopped\n\nexec: web\n\nct: 101\n');
    await store.write('nodes/node2/qemu-server/100.conf', 'memory: 1024\n');
    await store.write('nodes/node3/ha-resources/exec:web', '');
    const { services } = await env.readServiceConfig();
    expect(Object.keys(services)).toEqual(['exec:web', 'vm:100']);
    expect(services['vm:100']).toMatchObject({ node: 'node2', state: 'stopped', failback: true, max_restart: 1, max_relocate: 1 });
    expect(services['exec:web']).toMatchObject({ node: 'node3', state: 'started', type: 'exec', name: 'web' });
  });

  it('queues crm commands and hands them out once', async () => {
    const { env } = setup('crm');
    expect(await env.anyPendingCrmCommand()).toBe(false);
    await env.queueCrmCommand('migrate vm:100 node2');
    await env.queueCrmCommand('arm-ha\n');
    expect(await env.anyPendingCrmCommand()).toBe(true);
    // Taking the commands is the master's: not without the manager lock.
    await expect(env.readCrmCommands()).rejects.toThrow(/^lock lost: 'node1' no longer holds 'ha_manager_lock'/);
    expect(await env.anyPendingCrmCommand()).toBe(true);
    expect(await env.getHaManagerLock()).toBe(true);
    expect(await env.readCrmCommands()).toBe('migrate vm:100 node2\narm-ha\n');
    expect(await env.readCrmCommands()).toBe('');
  });

  it('moves a fenced guest to its recovery node and updates the resources config', async () => {
    const { env, store } = setup('crm');
    await store.write('ha/resources.cfg', 'vm: 100\n\tgroup g1\n');
    await store.write('nodes/node1/qemu-server/100.conf', 'lock: backup\n');
    env.loopStartHook();
    await expect(env.stealService('vm:100', 'node1', 'node3')).rejects.toThrow(/^lock lost:/);
    expect(await store.read('nodes/node1/qemu-server/100.conf')).toBe('lock: backup\n');
    expect(await env.getHaManagerLock()).toBe(true);
    await env.stealService('vm:100', 'node1', 'node3');
    expect(await store.read('nodes/node3/qemu-server/100.conf')).toBe('lock: backup\n');
    expect((await env.readServiceConfig()).services['vm:100'].node).toBe('node3');
    await env.updateServiceConfig({ 'vm:100': { param: { state: 'stopped', failback: false }, delete: ['group'] } });
    expect(await store.read('ha/resources.cfg')).toBe('vm: 100\n\tfailback 0\n\tstate stopped\n\n');
  });

  it('takes max_workers from datacenter.cfg', async () => {
    const { env, store } = setup('lrm');
    expect(env.getMaxWorkers()).toBe(4);
    await store.write('datacenter.cfg', 'keyboard: en-us\nmax_workers: 7\nha: shutdown_policy=migrate\n');
    expect((await env.getDatacenterSettings()).ha.shutdown_policy).toBe('migrate');
    expect(env.getMaxWorkers()).toBe(7);
  });

  it('times rounds on the monotonic clock, to the millisecond', async () => {
    const { env, clock } = setup('lrm');
    const start = env.roundStart();
    clock.advance(0.3);
    // NTP steps the wall clock back an hour, then forward two: the round still ends 1 s after its start.
    clock.stepWall(-3600);
    let before = clock.monotonicMillis();
    await env.sleepUntilRoundEnd(start, 1);
    expect(clock.monotonicMillis() - before).toBe(700);
    const next = env.roundStart();
    clock.stepWall(7200);
    before = clock.monotonicMillis();
    await env.sleepUntilRoundEnd(next, 1);
    expect(clock.monotonicMillis() - before).toBe(1000);
    // A round that overran does not sleep.
    clock.advance(2);
    before = clock.monotonicMillis();
    await env.sleepUntilRoundEnd(next, 1);
    expect(clock.monotonicMillis() - before).toBe(0);
  });

  it('tells a lapsed lease: past its lifetime, or no feed within the client timeout', async () => {
    const { env, clock } = setup('lrm');
    expect(env.leaseLapsed()).toBe(false); // nothing held
    expect(await env.getHaAgentLock()).toBe(true);
    const handle = await arm(env);
    clock.advance(59);
    expect(env.leaseLapsed()).toBe(false);
    // renewed, but not fed for over 60 s: the watchdog would have fired
    expect(await env.getHaAgentLock()).toBe(true);
    clock.advance(2);
    expect(env.leaseLapsed()).toBe(true);
    // and no feed can make that undone
    await env.watchdogUpdate(handle);
    expect(env.leaseLapsed()).toBe(true);
    // giving up the watchdog ends the protection; a new lease starts clean
    await env.watchdogClose(handle);
    expect(env.leaseLapsed()).toBe(false);
    expect(await env.getHaAgentLock()).toBe(true);
    await env.watchdogOpen();
    expect(env.leaseLapsed()).toBe(false);
    // without renewal, the lease itself runs out (fed or not)
    clock.advance(121);
    expect(env.leaseLapsed()).toBe(true);
  });

  it('refuses to arm on a lease already too old to feed, and arms on a fresh one', async () => {
    for (const daemon of ['lrm', 'crm'] as const) {
      const { env, clock, watchdog, logs } = setup(daemon);
      const lock = daemon === 'lrm' ? () => env.getHaAgentLock() : () => env.getHaManagerLock();
      expect(await lock()).toBe(true);
      // A renewal that took 45 s: past the feed deadline (120 s lease minus a 76 s fence window).
      clock.advance(45);
      expect(await env.watchdogOpen()).toBeUndefined();
      // Released cleanly: nothing depended on it.
      expect(watchdog.events).toEqual(['open', 'close clean']);
      expect(logs.some((l) => l.includes('not arming the watchdog - the lock lease is already too close to expiry'))).toBe(true);
      expect(await lock()).toBe(true);
      expect(await env.watchdogOpen()).toBeDefined();
      expect(watchdog.armed).toBe(true);
    }
  });

  it('keeps a lapsed master from writing the manager status', async () => {
    const { env, clock, store } = setup('crm');
    expect(await env.getHaManagerLock()).toBe(true);
    await env.watchdogOpen();
    await env.writeManagerStatus({ master_node: 'node1' });
    clock.advance(121);
    await expect(env.writeManagerStatus({ master_node: 'node1', timestamp: 1 })).rejects.toThrow(
      "lock lost: the lease of 'ha_manager_lock' lapsed, not writing the manager status",
    );
    expect(await store.read('ha/manager_status')).toContain('"master_node":"node1"');
    expect(await store.read('ha/manager_status')).not.toContain('timestamp');
  });

  it('arms a real watchdog only when the running mux gives a fence window shorter than the lock lifetime', async () => {
    const safe = { remainingMs: 30_000, timeoutMs: 30_000, feeding: true, tickMs: 1_000, deviceTimeoutMs: 10_000 };
    {
      // measured: 30 + 1 + 10 + 5 (the profile's margin) = 46 s, so feeding is safe until 74 s after renewal
      const watchdog = muxLikeWatchdog(safe);
      const { env, clock } = setup('lrm', 'node1', { watchdog });
      expect(await env.getHaAgentLock()).toBe(true);
      const handle = await arm(env);
      clock.advance(29);
      await env.watchdogUpdate(handle);
      clock.advance(29);
      // 58 s after the renewal: the profile's 76 s window would stop at 44 s
      await env.watchdogUpdate(handle);
      expect(watchdog.events).toEqual(['open', 'update', 'update']);
      clock.advance(17);
      await env.watchdogUpdate(handle); // 75 s: past the measured deadline
      expect(watchdog.events).toEqual(['open', 'update', 'update']);
    }
    const refused = async (status: WatchdogMuxStatus, timeScale = 1): Promise<string> => {
      const watchdog = muxLikeWatchdog(status);
      const { env } = setup('lrm', 'node1', { watchdog, timeScale });
      expect(await env.getHaAgentLock()).toBe(true);
      const error = await env.watchdogOpen().then(
        () => 'armed',
        (err: unknown) => (err as Error).message,
      );
      // refused connections are released cleanly: nothing depended on them
      expect(watchdog.events).toEqual(['open', 'close clean']);
      return error;
    };
    expect(await refused({ ...safe, timeoutMs: 110_000 })).toBe(
      'refusing to arm the watchdog: fence window client 110s + tick 1s + device 10s + margin 5s = 126s is not shorter than ' +
        'the lock lifetime 120s: a lock could expire before the watchdog has fired, so another node could recover services still running here',
    );
    expect(await refused({ remainingMs: 60_000, timeoutMs: 60_000, feeding: true })).toBe(
      "refusing to arm the watchdog: watchdog-mux reports its client timeout (60s) but not its tick and device timeout, so the fence window cannot be measured: run this project's watchdog-mux",
    );
    {
      const watchdog = Object.assign(recordingWatchdog(), {
        status: (): WatchdogMuxStatus => {
          throw new Error('no answer to the status query (the original watchdog-mux does not support it)');
        },
      });
      const { env } = setup('lrm', 'node1', { watchdog });
      expect(await env.getHaAgentLock()).toBe(true);
      await expect(env.watchdogOpen()).rejects.toThrow(
        'refusing to arm the watchdog: its fence window cannot be measured - no answer to the status query (the original watchdog-mux does not support it)',
      );
      expect(watchdog.events).toEqual(['open', 'close clean']);
    }
    expect(await refused({ ...safe, device: 'real' }, 20)).toBe(
      'refusing to arm the watchdog: the cluster runs at time-scale 20, so its 120s lock lifetime lasts 6s of real time, ' +
        'but watchdog-mux feeds a real watchdog device, which resets the node on real time (client timeout 30s): ' +
        'a scaled cluster must run with --no-watchdog, or with watchdog-mux --fake-device (the cluster lab)',
    );
    expect(await refused(safe, 20)).toContain('but watchdog-mux does not say that its device is simulated');
    // simulated, but its real-time window is not scaled down: 41 s × 20 is far beyond the lock
    expect(await refused({ ...safe, device: 'simulated' }, 20)).toContain(
      'in cluster time: fence window client 600s + tick 20s + device 200s + margin 5s = 825s is not shorter than the lock lifetime 120s',
    );
  });

  it('on a scaled clock, arms a simulated watchdog and times feeding by its window in cluster time', async () => {
    // 4 s + 0.1 s + 2 s of real time at 10x: 40 + 1 + 20 + 5 (margin) = 66 s of cluster time, so feeding is safe until 54 s after renewal
    const watchdog = muxLikeWatchdog({ remainingMs: 4_000, timeoutMs: 4_000, feeding: true, tickMs: 100, deviceTimeoutMs: 2_000, device: 'simulated' });
    const { env, clock } = setup('lrm', 'node1', { watchdog, timeScale: 10 });
    expect(await env.getHaAgentLock()).toBe(true);
    const handle = await arm(env);
    clock.advance(39);
    await env.watchdogUpdate(handle);
    expect(env.leaseLapsed()).toBe(false);
    clock.advance(12);
    // 51 s after the renewal: past the profile's 44 s, within the measured 54 s
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open', 'update', 'update']);
    clock.advance(4);
    await env.watchdogUpdate(handle); // 55 s
    expect(watchdog.events).toEqual(['open', 'update', 'update']);
    // no feed for more than the client timeout in cluster time (40 s): the watchdog would have fired
    expect(env.leaseLapsed()).toBe(false);
    clock.advance(37);
    expect(env.leaseLapsed()).toBe(true);
  });
  describe('a store that does not answer', () => {
    /** The memory store behind a switch: while `silent`, lock calls get no answer (`unknown`, or an error) and membership reads fail. */
    function silencing(store: ReturnType<typeof createMemoryStore>, mode: 'unknown' | 'throw') {
      const state = { silent: false };
      return {
        state,
        store: new Proxy(store, {
          get(target, prop, receiver) {
            if (state.silent && prop === 'acquireLock') {
              return async () => {
                if (mode === 'throw') throw new Error('no answer within 1000 ms');
                return 'unknown';
              };
            }
            // As the etcd store reports a read it could not make: nobody online, no quorum.
            if (state.silent && prop === 'membership') return async () => ({ nodes: { node1: { online: false }, node2: { online: false }, node3: { online: false } }, quorate: false });
            return Reflect.get(target, prop, receiver) as unknown;
          },
        }),
      };
    }

    function silentSetup(daemon: 'crm' | 'lrm', mode: 'unknown' | 'throw') {
      const clock = manualClock();
      const memory = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2', 'node3'] });
      const { store, state } = silencing(memory, mode);
      const logs: string[] = [];
      const env = createNodeEnv({
        node: 'node1',
        daemon,
        store,
        clock,
        log: (level: LogLevel, msg: string) => logs.push(`${level}: ${msg}`),
        watchdog: recordingWatchdog(),
        drivers: {},
        scoringKernel: typescriptScoringKernel,
        isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
      });
      return { env, store: memory, clock, state, logs };
    }

    for (const mode of ['unknown', 'throw'] as const) {
      it(`keeps a held lock for what is left of its lease, and not a moment longer (${mode})`, async () => {
        const { env, clock, state, logs } = silentSetup('crm', mode);
        expect(await env.getHaManagerLock()).toBe(true);
        clock.advance(60);
        expect(await env.getHaManagerLock()).toBe(true); // renewed at 60
        state.silent = true;
        clock.advance(100);
        // No answer: still held, on the lease of the renewal at 60 (20 s left).
        expect(await env.getHaManagerLock()).toBe(true);
        expect(env.leaseLapsed()).toBe(false);
        expect(logs.at(-1)).toMatch(/^warning: could not renew lock 'ha_manager_lock'.* - still held for the 20000 ms left of its lease$/);
        expect(logs.some((l) => l.startsWith('err'))).toBe(false);
        clock.advance(20);
        expect(await env.getHaManagerLock()).toBe(false);
        expect(env.leaseLapsed()).toBe(true);
        expect(logs.at(-1)).toMatch(/^err: lost lock 'ha_manager_lock/);
        await expect(env.writeManagerStatus({ master_node: 'node1' })).rejects.toThrow(/^lock lost:/);
      });
    }

    it('with the watchdog armed, lets go before the mux would declare the daemon dead, so a master can close it cleanly', async () => {
      const { env, clock, state, logs } = silentSetup('crm', 'unknown');
      expect(await env.getHaManagerLock()).toBe(true);
      const handle = await arm(env); // fed now (t = 0); default profile: client timeout 60 s, margin 5 s
      state.silent = true;
      clock.advance(10);
      expect(await env.getHaManagerLock()).toBe(true);
      expect(logs.at(-1)).toMatch(/still held for the 45000 ms left of its lease$/); // 0 + 60 - 5 - 10
      await env.watchdogUpdate(handle); // safe until 44 s after the renewal: fed at 10
      clock.advance(46);
      expect(await env.getHaManagerLock()).toBe(true); // 10 + 60 - 5 - 56 = 9 s left, the lease 64 s
      clock.advance(10);
      expect(await env.getHaManagerLock()).toBe(false); // the lease has 54 s, but the mux only 4 s: let go now
      expect(env.leaseLapsed()).toBe(false);
      expect(logs.at(-1)).toMatch(/^err: lost lock 'ha_manager_lock/);
    });

    it('does not count a lock it did not hold as taken when the store does not answer', async () => {
      const { env, state } = silentSetup('crm', 'unknown');
      state.silent = true;
      expect(await env.getHaAgentLock('node2')).toBe(false);
      expect(await env.getHaManagerLock()).toBe(false);
    });

    it('keeps a master in its state through calls that get no answer, and fences nobody on a membership it could not read', async () => {
      const { env, store, state, logs } = silentSetup('crm', 'unknown');
      await store.write('ha/resources.cfg', 'vm: 100\n\tstate started\n');
      await store.write('nodes/node2/qemu-server/100.conf', '');
      await store.write('ha/manager_status', '{}');
      const crm = await createCrm(env);
      for (let i = 0; i < 10 && crm.status.state !== 'master'; i++) await crmIteration(crm);
      expect(crm.status.state).toBe('master');
      await crmIteration(crm);
      const before = JSON.parse((await store.read('ha/manager_status')) ?? '{}') as { node_status?: Record<string, string> };
      expect(before.node_status).toEqual({ node1: 'online', node2: 'online', node3: 'online' });
      state.silent = true;
      // Five rounds of 10 s (each iteration sleeps out its round): 50 s without an answer.
      for (let i = 0; i < 5; i++) {
        await crmIteration(crm);
        expect(crm.status.state).toBe('master');
      }
      const after = JSON.parse((await store.read('ha/manager_status')) ?? '{}') as { node_status?: Record<string, string>; service_status?: Record<string, { state: string }> };
      expect(after.node_status).toEqual({ node1: 'online', node2: 'online', node3: 'online' });
      expect(after.service_status?.['vm:100']?.state).not.toBe('fence');
      expect(logs.some((l) => /state changed from 'online' => 'unknown'/.test(l))).toBe(false);
      expect(logs).toContain('err: got unexpected error - cluster membership unknown - memory reports no quorum');
      // The store back: renewed, same lease, rounds go on.
      state.silent = false;
      await crmIteration(crm);
      expect(crm.status.state).toBe('master');
      expect(env.leaseLapsed()).toBe(false);
    });
  });
});
