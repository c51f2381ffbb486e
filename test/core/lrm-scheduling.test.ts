// The LRM's worker scheduling with max_workers > 0, through the real LRM core
// on a virtual clock: one node with many services, a fake manager that gives
// every service a new uid each round once the LRM reported a result (as the
// reference's manager does, so that a service that died is started again),
// and a fake driver whose commands take a little virtual time.
//
// What must hold: every service gets started, no command the manager issued
// waits unanswered for long, at most max_workers commands run at once, and a
// service that dies on its own is noticed and started again.

import { describe, expect, it } from 'vitest';

import { createLrm, lrmIteration, type Lrm } from '../../src/core/lrm.js';
import { createWorkerSchedule, recheckSeconds, recordConfirmation, startOrder, type Worker } from '../../src/core/lrm-workers.js';
import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import type { LrmStatus, ManagerStatus, ServiceConfig, ServiceStatusEntry, Sid } from '../../src/core/types.js';
import type { CoreTiming, HaEnv, ResourceDriver, RoundMark } from '../../src/env/env.js';

const NODE = 'node1';
const MAX_WORKERS = 4;
/** Virtual milliseconds a status check and a start take. */
const CHECK_MS = 20;
const START_MS = 50;
/** The default timing profile's rounds, and the fast one's. */
const DEFAULT_TIMING: CoreTiming = { lrmRound: 10, crmRound: 10, lockRetry: 5, fenceDelay: 60 };
const FAST_TIMING: CoreTiming = { lrmRound: 1, crmRound: 1, lockRetry: 1, fenceDelay: 1 };

/** A discrete-event clock: time jumps to the next timer once everything else has settled. */
class VirtualClock {
  now = 0;
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  private seq = 0;

  sleepMs(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push({ at: this.now + Math.max(0, ms), seq: this.seq++, fire: resolve });
    });
  }

  /** Runs until `done` holds or `limitMs` of virtual time has passed. */
  async run(limitMs: number, done: () => boolean = () => false): Promise<void> {
    for (;;) {
      // Let every promise chain run until it waits on a timer again.
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      if (done()) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (next === undefined) throw new Error('nothing left to run: the LRM loop ended');
      if (next.at > limitMs) {
        this.timers.unshift(next);
        return;
      }
      this.now = next.at;
      next.fire();
    }
  }
}

interface Harness {
  clock: VirtualClock;
  lrm: Lrm;
  services: Record<Sid, ServiceConfig>;
  running: Set<Sid>;
  /** When each service was first started by the LRM (virtual ms). */
  firstStart: Map<Sid, number>;
  starts: Map<Sid, number>;
  checks: number;
  /** Manager-issued uids: when issued, and when the LRM first reported a result for it. */
  issued: Map<string, { sid: Sid; at: number; answered?: number }>;
  maxConcurrent: number;
  /** Virtual times the LRM wrote its status: once per round. */
  statusWrites: number[];
  stop(): void;
}

function harness(count: number, timing: CoreTiming = DEFAULT_TIMING): Harness {
  const clock = new VirtualClock();
  const sids = Array.from({ length: count }, (_, i) => `exec:svc${String(i).padStart(5, '0')}`);
  const services: Record<Sid, ServiceConfig> = {};
  for (const sid of sids) {
    services[sid] = { type: 'exec', name: sid.slice(5), node: NODE, state: 'started', failback: true, max_restart: 1, max_relocate: 1 };
  }
  const running = new Set<Sid>();
  const firstStart = new Map<Sid, number>();
  const starts = new Map<Sid, number>();
  const issued = new Map<string, { sid: Sid; at: number; answered?: number }>();
  let uidCounter = 0;
  let concurrent = 0;
  let lrmStatus: LrmStatus = {};

  const h: Harness = {
    clock,
    lrm: undefined as unknown as Lrm,
    services,
    running,
    firstStart,
    starts,
    checks: 0,
    issued,
    maxConcurrent: 0,
    statusWrites: [],
    stop: () => undefined,
  };

  const newUid = (sid: Sid): string => {
    const uid = `uid-${uidCounter++}`;
    issued.set(uid, { sid, at: clock.now });
    return uid;
  };

  // The manager: every started service with a result for its uid gets a new uid.
  let serviceStatus: Record<Sid, ServiceStatusEntry> = {};
  for (const sid of sids) serviceStatus[sid] = { state: 'started', node: NODE, uid: newUid(sid) };
  let managerStatus: ManagerStatus = Object.freeze({
    master_node: NODE,
    node_status: { [NODE]: 'online' },
    service_status: serviceStatus,
  }) as ManagerStatus;
  let stopped = false;
  const managerLoop = async (): Promise<void> => {
    while (!stopped) {
      await clock.sleepMs(timing.crmRound * 1000);
      const results = lrmStatus.results ?? {};
      const next: Record<Sid, ServiceStatusEntry> = {};
      for (const sid of sids) {
        const sd = serviceStatus[sid];
        const result = sd.uid === undefined ? undefined : results[sd.uid];
        next[sid] = result === undefined ? sd : { ...sd, running: 1, uid: newUid(sid) };
      }
      serviceStatus = next;
      managerStatus = Object.freeze({ ...managerStatus, service_status: next });
    }
  };

  const op = async <T>(ms: number, body: () => T): Promise<T> => {
    concurrent++;
    h.maxConcurrent = Math.max(h.maxConcurrent, concurrent);
    try {
      await clock.sleepMs(ms);
      return body();
    } finally {
      concurrent--;
    }
  };
  const driver: ResourceDriver = {
    runState: (name) =>
      op(CHECK_MS, () => {
        h.checks++;
        return running.has(`exec:${name}`) ? 'running' : 'stopped';
      }),
    start: (name) =>
      op(START_MS, () => {
        const sid = `exec:${name}`;
        running.add(sid);
        if (!firstStart.has(sid)) firstStart.set(sid, clock.now);
        starts.set(sid, (starts.get(sid) ?? 0) + 1);
      }),
    shutdown: (name) => op(START_MS, () => void running.delete(`exec:${name}`)),
    hardStop: (name) =>
      op(START_MS, () => {
        running.delete(`exec:${name}`);
        return 'stopped';
      }),
    migrate: async () => false,
    removeLocks: async () => undefined,
  };

  const unused = (what: string) => () => {
    throw new Error(`the LRM should not call ${what}`);
  };
  const env: HaEnv = {
    nodename: NODE,
    timing,
    // As the daemons bind it.
    policy: 'safe',
    getTime: () => Math.floor(clock.now / 1000),
    log: () => undefined,
    sendNotification: unused('sendNotification'),
    sleep: (seconds) => clock.sleepMs(seconds * 1000),
    roundStart: () => clock.now as RoundMark,
    sleepUntilRoundEnd: (start, seconds) => clock.sleepMs(start + seconds * 1000 - clock.now),
    // Never wakes early: these figures are about the rounds themselves.
    loopStartHook: () => undefined,
    loopEndHook: () => undefined,
    readManagerStatus: async () => managerStatus,
    writeManagerStatus: unused('writeManagerStatus'),
    readLrmStatus: async () => lrmStatus,
    async writeLrmStatus(status) {
      h.statusWrites.push(clock.now);
      lrmStatus = JSON.parse(JSON.stringify(status)) as LrmStatus;
      for (const uid of Object.keys(status.results ?? {})) {
        const entry = issued.get(uid);
        if (entry !== undefined && entry.answered === undefined) entry.answered = clock.now;
      }
    },
    readServiceConfig: async () => ({ services }),
    updateServiceConfig: unused('updateServiceConfig'),
    readRulesConfig: unused('readRulesConfig'),
    writeRulesConfig: unused('writeRulesConfig'),
    readGroupConfig: unused('readGroupConfig'),
    deleteGroupConfig: unused('deleteGroupConfig'),
    stealService: unused('stealService'),
    queueCrmCommand: unused('queueCrmCommand'),
    anyPendingCrmCommand: unused('anyPendingCrmCommand'),
    readCrmCommands: unused('readCrmCommands'),
    getHaManagerLock: unused('getHaManagerLock'),
    releaseHaManagerLock: unused('releaseHaManagerLock'),
    getHaAgentLock: async () => true,
    releaseHaAgentLock: async () => true,
    quorate: async () => true,
    getNodeInfo: async () => ({ nodes: { [NODE]: { online: true } }, quorate: true }),
    clusterStateUpdate: async () => true,
    isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
    watchdogOpen: async () => 'wd',
    watchdogUpdate: async () => undefined,
    watchdogClose: async () => undefined,
    watchdogAbandon: async () => undefined,
    leaseLapsed: () => false,
    getMaxWorkers: () => MAX_WORKERS,
    abortWorkerCommands: unused('abortWorkerCommands'),
    resourceDriver: (type) => (type === 'exec' ? driver : undefined),
    getDatacenterSettings: async () => ({ ha: {}, crs: {} }),
    getServiceStats: unused('getServiceStats'),
    getNodeStats: unused('getNodeStats'),
    getNodeVersion: async () => undefined,
    scoringKernel: typescriptScoringKernel,
    newUid: unused('newUid'),
  };

  const lrm = createLrm(env);
  h.lrm = lrm;
  void managerLoop();
  void (async () => {
    while (!stopped && (await lrmIteration(lrm)));
  })();
  h.stop = () => {
    stopped = true;
  };
  return h;
}

/** The longest any manager-issued uid waited for its result, unanswered ones counted until now. */
function longestWaitMs(h: Harness): { ms: number; sid?: Sid } {
  let worst: { ms: number; sid?: Sid } = { ms: 0 };
  for (const entry of h.issued.values()) {
    const ms = (entry.answered ?? h.clock.now) - entry.at;
    if (ms > worst.ms) worst = { ms, sid: entry.sid };
  }
  return worst;
}

describe('LRM worker scheduling with max_workers 4', () => {
  it('starts every one of 300 services and answers every command within 30 s', async () => {
    const h = harness(300);
    await h.clock.run(300_000);
    h.stop();
    const notStarted = Object.keys(h.services).filter((sid) => !h.running.has(sid));
    expect(notStarted.length, `never started: ${notStarted.slice(0, 5).join(', ')}...`).toBe(0);
    // 300 starts of 3 driver calls (90 ms) on 4 workers need ~7 s; rounds are 10 s.
    expect(Math.max(...h.firstStart.values())).toBeLessThan(60_000);
    const wait = longestWaitMs(h);
    expect(wait.ms, `${wait.sid} waited ${wait.ms} ms for its result`).toBeLessThanOrEqual(30_000);
    expect(h.maxConcurrent).toBe(MAX_WORKERS);
  });

  it('keeps the rounds of the fast timing profile short while hundreds of starts wait', async () => {
    const h = harness(300, FAST_TIMING);
    await h.clock.run(120_000);
    h.stop();
    expect(h.running.size).toBe(300);
    const gaps = h.statusWrites.slice(1).map((t, i) => t - h.statusWrites[i]);
    // A round of 1 s, plus the reading and writing it does: never the 8 s a 10 s round gives its workers.
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2000);
    const wait = longestWaitMs(h);
    expect(wait.ms, `${wait.sid} waited ${wait.ms} ms for its result`).toBeLessThanOrEqual(30_000);
  });

  it('notices a service that died and starts it again', async () => {
    const h = harness(300);
    await h.clock.run(120_000);
    expect(h.running.size).toBe(300);
    const victim = 'exec:svc00299';
    h.running.delete(victim);
    const diedAt = h.clock.now;
    await h.clock.run(diedAt + 120_000, () => h.running.has(victim));
    h.stop();
    // Noticed within the confirmation's lifetime plus a round or two.
    const bound = (recheckSeconds(300, DEFAULT_TIMING.lrmRound) + 2 * DEFAULT_TIMING.lrmRound) * 1000;
    expect(h.running.has(victim), `${victim} was not started again within 120 s`).toBe(true);
    expect(h.clock.now - diedAt).toBeLessThanOrEqual(bound);
    expect(h.starts.get(victim)).toBe(2);
  });
});

describe('start order of background workers', () => {
  const during = {};
  const worker = (sid: Sid, state: string, queued: number): Worker => ({ sid, uid: `u-${sid}`, state, queued });

  it('starts real commands oldest first, then re-checks of confirmed services oldest confirmation first', () => {
    const schedule = createWorkerSchedule();
    const confirm = (sid: Sid, state: string, at: number): void =>
      recordConfirmation(schedule, { ...worker(sid, state, 0), started: { at, during } }, 0);
    confirm('vm:1', 'started', 50);
    confirm('vm:2', 'started', 20);
    confirm('vm:3', 'stopped', 10);
    confirm('vm:4', 'started', 5);
    const waiting = [
      worker('vm:1', 'started', 0), // a re-check
      worker('vm:2', 'started', 1), // a re-check, older confirmation
      worker('vm:3', 'started', 2), // confirmed stopped: a real start
      worker('vm:4', 'migrate', 3), // confirmed running, but a migration is real
      worker('vm:5', 'started', 4), // never confirmed
      worker('vm:6', 'stopped', 0), // the oldest in the queue
    ];
    expect(startOrder(schedule, waiting, during).map((w) => w.sid)).toEqual(['vm:6', 'vm:3', 'vm:4', 'vm:5', 'vm:2', 'vm:1']);
  });

  it('forgets a confirmation when the command fails, and ignores one made under another LRM status', () => {
    const schedule = createWorkerSchedule();
    recordConfirmation(schedule, { ...worker('vm:1', 'started', 0), started: { at: 5, during } }, 0);
    expect(startOrder(schedule, [worker('vm:1', 'started', 1), worker('vm:2', 'started', 0)], during)[0].sid).toBe('vm:2');
    expect(startOrder(schedule, [worker('vm:1', 'started', 1), worker('vm:2', 'started', 2)], {})[0].sid).toBe('vm:1');
    recordConfirmation(schedule, { ...worker('vm:1', 'started', 0), started: { at: 9, during } }, 1);
    expect(schedule.confirmed.has('vm:1')).toBe(false);
  });

  it('a confirmation answers for one round, longer on large nodes', () => {
    expect(recheckSeconds(1, 10)).toBe(10);
    expect(recheckSeconds(200, 10)).toBe(10);
    expect(recheckSeconds(1000, 10)).toBe(50);
    expect(recheckSeconds(10, 1)).toBe(1);
    expect(recheckSeconds(1000, 1)).toBe(50);
  });
});
