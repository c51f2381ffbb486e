// Running a CRM or LRM daemon for real: binds the node environment once
// (store, clock, watchdog, resource drivers, worker pool), loops the core's
// iterations until the daemon ends, and turns SIGTERM/SIGINT into the
// daemon's shutdown request. The LRM daemon also publishes its node's figures
// and version for the schedulers and the group migration.

import { execFile } from 'node:child_process';

import { createCrm, crmIteration, requestCrmShutdown } from '../../core/crm.js';
import { errorText } from '../../core/errors.js';
import { createLrm, lrmIteration, requestLrmShutdown } from '../../core/lrm.js';
import type { ScoringKernel } from '../../core/scheduling/kernel.js';
import type { TimingProfile } from '../../config/timing-profiles.js';
import { DEFAULT_PROFILE } from '../timing.js';
import type { NodeName, Sid } from '../../core/types.js';
import { createWorkerPool, type WorkerPool } from '../../native/worker-pool.js';
import type { Clock } from './clock.js';
import { daemonMetricsHook } from './daemon-metrics.js';
import { execDriver, migrateTimeoutMs, pveGuestDriver, type CommandOutcome, type DriverContext, type NodeResourceDriver } from './drivers.js';
import { createNodeEnv, type DaemonLog, type NodeEnv } from './env.js';
import { agentLock, MANAGER_LOCK, nodeStatsPath, nodeVersionPath } from './layout.js';
import { measureHost, writeNodeFigures, type GuestFigures } from './node-figures.js';
import type { ClusterStore } from './store.js';
import type { WatchdogPort } from './watchdog.js';

/** Seconds between two publications of the node's figures. */
const FIGURES_INTERVAL = 10;
/** Hard stops run in a pool of their own, so queued commands never hold them up. */
const URGENT_WORKERS = 8;
/**
 * What nodes running this HA stack report as their version: they all read
 * rules, so the group migration's version check passes (it compares with
 * pve-manager's first version that did).
 */
export const RULES_CAPABLE_VERSION = '9.0.0~16';

export interface DaemonOptions {
  daemon: 'crm' | 'lrm';
  node: NodeName;
  store: ClusterStore;
  clock: Clock;
  /** The cluster's timing profile (ha/timing.cfg; default: `default`). */
  profile?: TimingProfile;
  /** The cluster's time scale (default 1). */
  timeScale?: number;
  log: DaemonLog;
  watchdog: WatchdogPort;
  pool: WorkerPool;
  scoringKernel: ScoringKernel;
  /** Directory of the `exec` resource scripts. */
  scriptsDir: string;
  /** The agent command for Proxmox VE guests (vm, ct). */
  pveAgent: string;
  /** The version this node reports (the pve-manager version on Proxmox VE). */
  version?: string;
  isNodeShutdown?: () => Promise<{ shutdown: boolean; reboot: boolean }>;
}

export interface RunningDaemon {
  readonly env: NodeEnv;
  /** Asks the daemon to stop, as SIGTERM does. */
  requestShutdown(): void;
  /**
   * Stops looping at once, without any shutdown handling: what a crash or a
   * power cut does (locks stay held until they expire). For tests.
   */
  halt(): void;
  /** Resolves when the daemon's loop has ended. */
  readonly done: Promise<void>;
}

/** Shutdown and reboot jobs queued in systemd, as the reference checks them. */
export function systemdShutdownState(): Promise<{ shutdown: boolean; reboot: boolean }> {
  return new Promise((resolve) => {
    execFile('/bin/systemctl', ['--full', 'list-jobs'], { timeout: 10_000 }, (err, stdout) => {
      if (err !== null && !stdout) {
        resolve({ shutdown: false, reboot: false });
        return;
      }
      resolve({
        shutdown: /^\d+\s+shutdown\.target\s+/m.test(stdout),
        reboot: /^\d+\s+reboot\.target\s+/m.test(stdout),
      });
    });
  });
}

/**
 * Runs driver commands in the pool; they learn the node they act for from
 * HA_MANAGER_NODE. While `refused` says so, a command is not run: it reports
 * aborted at once.
 */
function commandRunner(pool: WorkerPool, node: NodeName, kind: string, refused: () => boolean = () => false): DriverContext['run'] {
  let counter = 0;
  return async (command, args, timeoutMs): Promise<CommandOutcome> => {
    counter++;
    if (refused()) return { exitCode: null, signal: null, timedOut: false, aborted: true, stdout: '', stderr: '', spawnError: null };
    try {
      const result = await pool.run({
        uid: `${node}-${kind}-${counter}`,
        command,
        args,
        env: { HA_MANAGER_NODE: node },
        ...(timeoutMs > 0 ? { timeoutMs } : {}),
      });
      return {
        exitCode: result.exitCode,
        signal: result.signal,
        timedOut: result.timedOut,
        aborted: result.aborted,
        stdout: result.stdout,
        stderr: result.stderr,
        spawnError: result.spawnError,
      };
    } catch (err) {
      return { exitCode: null, signal: null, timedOut: false, aborted: false, stdout: '', stderr: '', spawnError: errorText(err) };
    }
  };
}

export interface WorkerCommandRunners {
  /** The workers' commands, queued in `pool`. */
  run: DriverContext['run'];
  /** Hard stops, in `urgentPool`: never queued behind, nor aborted with, the workers' commands. */
  runNow: DriverContext['run'];
  /** HaEnv.abortWorkerCommands over `pool`. */
  abortWorkerCommands(settled: Promise<void>): Promise<void>;
}

/**
 * The LRM's command runners. An abort ends every command of `pool` (its
 * process group: SIGTERM, then SIGKILL after the pool's abort grace) and
 * refuses new ones until the aborted workers have settled: a worker whose
 * `status` was aborted must not go on to `start`.
 */
export function workerCommandRunners(pool: WorkerPool, urgentPool: WorkerPool, node: NodeName): WorkerCommandRunners {
  let aborting = 0;
  return {
    run: commandRunner(pool, node, 'cmd', () => aborting > 0),
    runNow: commandRunner(urgentPool, node, 'now'),
    async abortWorkerCommands(settled) {
      aborting++;
      try {
        pool.abortAll();
        await settled;
      } finally {
        aborting--;
      }
    },
  };
}

export function nodeDrivers(ctx: DriverContext, scriptsDir: string, pveAgent: string): Record<string, NodeResourceDriver> {
  return {
    exec: execDriver(ctx, scriptsDir),
    vm: pveGuestDriver(ctx, 'vm', pveAgent),
    ct: pveGuestDriver(ctx, 'ct', pveAgent),
  };
}

/**
 * Services whose figures one publication probes at most. A probe runs the
 * service's status and stats commands through the worker pool, where they
 * compete with the LRM's own commands; probing every service every time
 * (1,000 services: 2,000 processes per publication) kept the pool busy for
 * longer than the publication interval.
 */
const FIGURES_PROBES_PER_PUBLICATION = 20;

interface ProbedGuest {
  figures: GuestFigures;
  probedAt: number;
}

/**
 * Publishes the node's size and use and, for the static and dynamic
 * schedulers (the only readers of per-guest figures), which of its services
 * run with what use: the least recently probed ones are probed again, the
 * others keep their last figures.
 */
async function publishFigures(
  env: NodeEnv,
  store: ClusterStore,
  clock: Clock,
  drivers: Readonly<Record<string, NodeResourceDriver>>,
  probed: Map<Sid, ProbedGuest>,
): Promise<void> {
  const mode = (await env.getDatacenterSettings()).crs.ha;
  const guests: Record<Sid, GuestFigures> = {};
  if (mode === 'static' || mode === 'dynamic') {
    const { services } = await env.readServiceConfig();
    const local = Object.keys(services)
      .filter((sid) => services[sid].node === env.nodename && drivers[services[sid].type] !== undefined)
      .sort();
    const present = new Set(local);
    for (const sid of probed.keys()) if (!present.has(sid)) probed.delete(sid);
    const stalest = [...local].sort(
      (a, b) => (probed.get(a)?.probedAt ?? -Infinity) - (probed.get(b)?.probedAt ?? -Infinity),
    );
    for (const sid of stalest.slice(0, FIGURES_PROBES_PER_PUBLICATION)) {
      const cd = services[sid];
      const driver = drivers[cd.type];
      // A status that cannot tell counts as running: the figures must not hide a guest.
      const running = (await driver.runState(cd.name)) !== 'stopped';
      const usage = running ? await driver.usage?.(cd.name) : undefined;
      probed.set(sid, { figures: { running, ...(usage !== undefined ? { usage } : {}) }, probedAt: clock.millis() });
    }
    for (const sid of local) {
      const known = probed.get(sid);
      if (known !== undefined) guests[sid] = known.figures;
    }
  }
  await store.write(nodeStatsPath(env.nodename), writeNodeFigures({ time: clock.seconds(), ...measureHost(), guests }));
}

/** Starts the daemon loop; the returned handle ends it. */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { daemon, node, clock, log } = options;
  // Figures for ha-api's /metrics: lock results, worker waits, round durations (daemon-metrics.ts).
  const metrics = daemonMetricsHook({ daemon, node, store: options.store, pool: options.pool, log });
  const { store } = metrics;
  // The LRM's drivers act while it holds its agent lock, the master's while it holds the manager lock.
  const fence = { lock: daemon === 'crm' ? MANAGER_LOCK : agentLock(node), holder: node };
  // Only an LRM stops services; its hard stops do not queue behind its commands.
  const urgentPool = daemon === 'lrm' ? createWorkerPool({ maxWorkers: URGENT_WORKERS, implementation: options.pool.implementation }) : options.pool;
  const runners = workerCommandRunners(metrics.pool, urgentPool, node);
  const ctx: DriverContext = {
    node,
    store,
    run: runners.run,
    runNow: runners.runNow,
    migrateTimeoutMs: migrateTimeoutMs(options.profile ?? DEFAULT_PROFILE, options.timeScale ?? 1),
    log,
    writeOptions: { fence },
  };
  const drivers = nodeDrivers(ctx, options.scriptsDir, options.pveAgent);
  const env = createNodeEnv({
    node,
    daemon,
    store,
    clock,
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    log,
    watchdog: options.watchdog,
    drivers,
    scoringKernel: options.scoringKernel,
    isNodeShutdown: options.isNodeShutdown ?? systemdShutdownState,
    abortWorkerCommands: (settled) => runners.abortWorkerCommands(settled),
  });

  // A shutdown request is applied between iterations, never in the middle
  // of one (an iteration awaits I/O, so a signal could otherwise land anywhere).
  let shutdownRequested = false;
  let shutdownApplied = false;
  let halted = false;
  const halt = (): void => {
    halted = true;
  };
  const requestShutdown = (): void => {
    shutdownRequested = true;
  };

  if (daemon === 'crm') {
    const crm = await createCrm(metrics.wrapEnv(env));
    const done = (async () => {
      for (;;) {
        if (shutdownRequested && !shutdownApplied) {
          shutdownApplied = true;
          requestCrmShutdown(crm);
        }
        if (halted || !(await metrics.crmIteration(crm, () => crmIteration(crm))) || halted) break;
      }
    })();
    return { env, requestShutdown, halt, done };
  }

  await store.write(nodeVersionPath(node), `${options.version ?? RULES_CAPABLE_VERSION}\n`);
  const lrm = createLrm(env);
  const probed = new Map<Sid, ProbedGuest>();
  let lastPublished = Number.NEGATIVE_INFINITY;
  // Publishing runs beside the loop, never holding up an iteration (and so
  // the lock renewal in it).
  let publishing: Promise<void> | undefined;
  const done = (async () => {
    for (;;) {
      if (shutdownRequested && !shutdownApplied) {
        shutdownApplied = true;
        await requestLrmShutdown(lrm);
      }
      if (halted || !(await metrics.lrmIteration(lrm, () => lrmIteration(lrm))) || halted) break;
      // On the monotonic clock: a stepped wall clock must not stop (or rush) publishing.
      if (publishing === undefined && clock.monotonicMillis() - lastPublished >= FIGURES_INTERVAL * 1000) {
        lastPublished = clock.monotonicMillis();
        publishing = publishFigures(env, store, clock, drivers, probed)
          .catch((err: unknown) => log('warning', `publishing node figures failed - ${errorText(err)}`))
          .finally(() => {
            publishing = undefined;
          });
      }
    }
    await publishing;
  })();
  return { env, requestShutdown, halt, done: done.finally(() => urgentPool.close()) };
}
