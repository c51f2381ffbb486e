// What a daemon measures about itself for ha-api's /metrics, and its
// publication into the store (format: src/config/daemon-metrics.ts). The
// measurements wrap what the daemon loop already holds — the store (lock
// results), the worker pool (time a command waited for a free worker), the
// environment (time asleep) and the CRM/LRM objects it iterates — so the
// core and the environment stay as they are. Writing is throttled to one
// small file per daemon every PUBLISH_INTERVAL_MS of real time.

import { performance } from 'node:perf_hooks';

import type { DaemonMetrics, HistogramData } from '../../config/daemon-metrics.js';
import { writeDaemonMetrics } from '../../config/daemon-metrics.js';
import type { Crm } from '../../core/crm.js';
import { errorText } from '../../core/errors.js';
import type { Lrm } from '../../core/lrm.js';
import type { NodeName, NodeState } from '../../core/types.js';
import type { HaEnv } from '../env.js';
import type { WorkerPool } from '../../native/worker-pool-api.js';
import { daemonMetricsPath } from './layout.js';
import type { ClusterStore, LockOutcome } from './store.js';

/** Real milliseconds between two writes of a daemon's metrics file. */
export const PUBLISH_INTERVAL_MS = 5000;
/** Seconds: a master round's busy time (manager work, not the sleep to the next round). */
export const ROUND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds a resource command waited for a free worker. */
export const WAIT_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

function histogram(le: readonly number[]): HistogramData {
  return { le: [...le], counts: le.map(() => 0), count: 0, sum: 0 };
}

function observe(h: HistogramData, seconds: number): void {
  h.count++;
  h.sum += seconds;
  h.le.forEach((bound, i) => {
    if (seconds <= bound) h.counts[i]++;
  });
}

export interface DaemonMetricsHook {
  /** The store to hand the daemon: lock calls are counted. */
  readonly store: ClusterStore;
  /** The worker pool to hand the daemon: waits for a worker are timed. */
  readonly pool: WorkerPool;
  /** The environment to hand the core: time asleep is left out of round durations. */
  wrapEnv<E extends HaEnv>(env: E): E;
  crmIteration(crm: Crm, run: () => Promise<boolean>): Promise<boolean>;
  lrmIteration(lrm: Lrm, run: () => Promise<boolean>): Promise<boolean>;
  snapshot(): DaemonMetrics;
}

export interface DaemonMetricsOptions {
  daemon: 'crm' | 'lrm';
  node: NodeName;
  store: ClusterStore;
  pool: WorkerPool;
  log(level: 'warning', msg: string): void;
  /** Real milliseconds since the epoch (default Date.now). */
  now?: () => number;
}

export function daemonMetricsHook(options: DaemonMetricsOptions): DaemonMetricsHook {
  const now = options.now ?? Date.now;
  const metrics: DaemonMetrics = {
    daemon: options.daemon,
    node: options.node,
    pid: process.pid,
    started: now(),
    time: now(),
    locks: { acquired: 0, renewed: 0, lost: 0 },
    ...(options.daemon === 'crm'
      ? { crm: { master: false, fence_events: 0, round_seconds: histogram(ROUND_BUCKETS) } }
      : { lrm: { queued: 0, running: 0, wait_seconds: histogram(WAIT_BUCKETS) } }),
  };

  const held = new Set<string>();
  const lockResult = (name: string, ok: boolean): void => {
    if (ok) metrics.locks[held.has(name) ? 'renewed' : 'acquired']++;
    else if (held.has(name)) metrics.locks.lost++;
    if (ok) held.add(name);
    else held.delete(name);
  };
  /** From the store's own answer: a renewal, a new grant (after a loss, when this daemon held it), or a refusal. */
  const lockOutcome = (name: string, outcome: LockOutcome): void => {
    // No answer: nothing changed that the store could tell; the daemon's lease decides.
    if (outcome === 'unknown') return;
    if (outcome === 'renewed') metrics.locks.renewed++;
    else if (outcome === 'granted') metrics.locks.acquired++;
    if (outcome !== 'renewed' && held.has(name)) metrics.locks.lost++;
    if (outcome === 'refused') held.delete(name);
    else held.add(name);
  };
  const target = options.store;
  // Only lock, acquireLock and unlock change; every other call goes to the store as it is.
  const store = new Proxy(target, {
    get(object, prop) {
      if (prop === 'lock') {
        return async (name: string, ...rest: unknown[]) => {
          try {
            const ok = await (object.lock as (name: string, ...args: unknown[]) => Promise<boolean>)(name, ...rest);
            lockResult(name, Boolean(ok));
            return ok;
          } catch (err) {
            lockResult(name, false);
            throw err;
          }
        };
      }
      if (prop === 'acquireLock') {
        return async (name: string, ...rest: unknown[]) => {
          try {
            const outcome = await (object.acquireLock as (name: string, ...args: unknown[]) => Promise<LockOutcome>)(name, ...rest);
            lockOutcome(name, outcome);
            return outcome;
          } catch (err) {
            lockOutcome(name, 'unknown');
            throw err;
          }
        };
      }
      if (prop === 'unlock') {
        return async (name: string, ...rest: unknown[]) => {
          held.delete(name);
          return (object.unlock as (name: string, ...args: unknown[]) => Promise<boolean>)(name, ...rest);
        };
      }
      const value: unknown = Reflect.get(object, prop, object);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });

  const innerPool = options.pool;
  const pool: WorkerPool = {
    get implementation() {
      return innerPool.implementation;
    },
    get maxWorkers() {
      return innerPool.maxWorkers;
    },
    get activeCount() {
      return innerPool.activeCount;
    },
    get queuedCount() {
      return innerPool.queuedCount;
    },
    close: () => innerPool.close(),
    abort: (uid, graceMs) => innerPool.abort(uid, graceMs),
    abortAll: (graceMs) => innerPool.abortAll(graceMs),
    async run(request) {
      const submitted = performance.now();
      const result = await innerPool.run(request);
      if (metrics.lrm !== undefined) {
        const waited = Math.max(0, performance.now() - submitted - result.durationMs) / 1000;
        observe(metrics.lrm.wait_seconds, waited);
      }
      return result;
    },
  };

  let asleepMs = 0;
  const timedSleep =
    <A extends unknown[]>(sleep: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      const start = performance.now();
      try {
        await sleep(...args);
      } finally {
        asleepMs += performance.now() - start;
      }
    };

  let lastPublished = Number.NEGATIVE_INFINITY;
  let publishWarned = false;
  const publishIfDue = async (): Promise<void> => {
    if (now() - lastPublished < PUBLISH_INTERVAL_MS) return;
    lastPublished = now();
    metrics.time = lastPublished;
    try {
      await target.write(daemonMetricsPath(options.node, options.daemon), writeDaemonMetrics(metrics));
      publishWarned = false;
    } catch (err) {
      // once per outage: the daemon's work matters more than its figures
      if (!publishWarned) options.log('warning', `publishing daemon metrics failed - ${errorText(err)}`);
      publishWarned = true;
    }
  };

  let nodeStates: Readonly<Record<NodeName, NodeState>> | undefined;

  return {
    store,
    pool,
    wrapEnv(env) {
      return Object.assign(Object.create(env) as typeof env, {
        sleep: timedSleep(env.sleep.bind(env)),
        sleepUntilRoundEnd: timedSleep(env.sleepUntilRoundEnd.bind(env)),
      });
    },
    async crmIteration(crm, run) {
      const wasMaster = crm.status.state === 'master';
      asleepMs = 0;
      const start = performance.now();
      const result = await run();
      const crmMetrics = metrics.crm;
      if (crmMetrics !== undefined) {
        if (wasMaster && crm.status.state === 'master') {
          observe(crmMetrics.round_seconds, Math.max(0, performance.now() - start - asleepMs) / 1000);
        }
        crmMetrics.master = crm.status.state === 'master';
        // A node entering `fence`, as this master saw it (a new master starts from what it found).
        const states = crm.manager?.ns.status;
        if (states !== undefined && nodeStates !== undefined) {
          for (const [node, state] of Object.entries(states)) {
            if (state === 'fence' && nodeStates[node] !== 'fence') crmMetrics.fence_events++;
          }
        }
        nodeStates = states === undefined ? undefined : { ...states };
      }
      await publishIfDue();
      return result;
    },
    async lrmIteration(lrm, run) {
      const result = await run();
      if (metrics.lrm !== undefined) {
        let queued = 0;
        let running = 0;
        for (const worker of lrm.workers.values()) {
          if (worker.started) running++;
          else queued++;
        }
        metrics.lrm.queued = queued + innerPool.queuedCount;
        metrics.lrm.running = running;
      }
      await publishIfDue();
      return result;
    },
    snapshot: () => structuredClone(metrics),
  };
}
