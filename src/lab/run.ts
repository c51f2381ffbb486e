// `ha-lab run`: one seeded campaign. Start the cluster, wait until every
// service runs, inject the seed's faults on schedule, leave a quiet phase
// for recovery, then judge what really ran (checker.ts) and say so — the
// last line of stdout is the verdict as one JSON object.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { check, type InjectedFault, type Verdict } from './checker.js';
import { ETCD_MEMBERS, nodeNames, startLabCluster, type LabCluster, type StoreKind } from './cluster.js';
import { EXIT } from './exit.js';
import type { Output } from './output.js';
import { describeFault, planSchedule, type FaultKind, type Schedule } from './schedule.js';
import type { TimingProfile } from '../config/timing-profiles.js';
import { muxWindowS, scaledMuxTiming } from './timing.js';

export interface RunOptions {
  nodes: number;
  store: StoreKind;
  services: number;
  scriptsDir: string | undefined;
  timeScale: number;
  /** Cluster seconds after every service first ran: faults, then the quiet phase. */
  durationS: number;
  seed: number;
  faults: readonly FaultKind[];
  profile: TimingProfile;
  /** False: the daemons run with --no-watchdog (what the software must do without a reset). */
  watchdog: boolean;
  /** Keep the run directory (store, logs) even when the run passes. */
  keep: boolean;
  /** Where the run directory goes (default: a new directory in the system's temp dir). */
  workdir: string | undefined;
}

export class Interrupted extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

/** The command line that replays this run. */
export function replayCommand(options: RunOptions): string {
  const parts = ['ha-lab', 'run', '--nodes', String(options.nodes), '--store', options.store, '--services', String(options.services)];
  if (options.scriptsDir !== undefined) parts.push('--scripts', options.scriptsDir);
  parts.push('--time-scale', String(options.timeScale), '--duration', String(options.durationS));
  parts.push('--faults', options.faults.length === 0 ? '""' : options.faults.join(','), '--profile', options.profile.name);
  if (!options.watchdog) parts.push('--no-watchdog');
  parts.push('--seed', String(options.seed));
  return parts.join(' ');
}

export function scheduleFor(options: RunOptions): Schedule {
  return planSchedule({
    seed: options.seed,
    nodes: nodeNames(options.nodes),
    etcdMembers: ETCD_MEMBERS,
    faults: options.faults,
    durationS: options.durationS,
    lockLifetimeS: options.profile.lockLifetimeMs / 1000,
    muxWindowS: muxWindowS(options.profile),
  });
}

/** Why a run stopped early: a signal's name, or the lab's own failure. */
function stopReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Interrupted(String(signal.reason));
}

function sleepUntil(cluster: LabCluster, clusterMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(stopReason(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(stopReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, cluster.realMs(clusterMs - cluster.now())));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function allRunning(cluster: LabCluster): boolean {
  const alive = new Set(cluster.lifetimes.instances().filter((i) => i.endMs === undefined).map((i) => i.sid));
  return cluster.services.every((sid) => alive.has(sid));
}

function summary(verdict: Verdict): string[] {
  const lines = [
    `double runs: ${verdict.doubleRuns.length}`,
    ...verdict.doubleRuns.map(
      (d) =>
        `  ${d.sid} on ${d.nodes.join(' and ')} from ${(d.fromMs / 1000).toFixed(3)} s to ${d.open ? 'the end' : `${(d.toMs / 1000).toFixed(3)} s`} (${d.ms} ms)` +
        (d.afterHeal === undefined
          ? ''
          : `, ${d.open ? 'still running' : 'ended'} ${(d.afterHeal.ms / 1000).toFixed(3)} s after ${d.afterHeal.kind} ${d.afterHeal.target} was undone`),
    ),
    `longest downtime: ${(verdict.maxDowntimeMs / 1000).toFixed(1)} s`,
    `not running at the end: ${verdict.notRunningAtEnd.join(', ') || 'none'}`,
    `config lost: ${verdict.lostConfig.join(', ') || 'none'}`,
  ];
  for (const [kind, d] of Object.entries(verdict.downtimeByFault)) {
    lines.push(`downtime after ${kind}: n=${d.count} p50=${((d.p50 ?? 0) / 1000).toFixed(1)} s p99=${((d.p99 ?? 0) / 1000).toFixed(1)} s max=${((d.max ?? 0) / 1000).toFixed(1)} s`);
  }
  const f = verdict.failover;
  if (f.count > 0) lines.push(`failover after resets: n=${f.count} p50=${((f.p50 ?? 0) / 1000).toFixed(1)} s p99=${((f.p99 ?? 0) / 1000).toFixed(1)} s max=${((f.max ?? 0) / 1000).toFixed(1)} s`);
  return lines;
}

/** Runs the campaign; resolves to the exit status (EXIT.pass only when the checker found nothing). */
export async function runLab(options: RunOptions, out: Output, interrupt: AbortSignal): Promise<number> {
  const failure = new AbortController();
  const signal = AbortSignal.any([interrupt, failure.signal]);
  const schedule = scheduleFor(options);
  const replay = replayCommand(options);
  out.info(`seed ${options.seed} (replay: ${replay})`, { seed: options.seed, replay });
  if (options.watchdog) {
    const scaledClientS = (scaledMuxTiming(options.profile, options.timeScale).clientTimeoutMs * options.timeScale) / 1000;
    const profileClientS = options.profile.clientTimeoutMs / 1000;
    if (scaledClientS < profileClientS - 1) {
      out.info(
        `at time scale ${options.timeScale} watchdog-mux gives a daemon ${Math.round(scaledClientS)} cluster seconds between feeds ` +
          `instead of the profile's ${profileClientS} (its device cannot go below 2 s): a daemon stalled longer resets its node`,
      );
    }
  }
  out.info(
    `${schedule.faults.length} fault(s) in ${schedule.faultPhaseS} s, then ${schedule.quietS} s quiet (cluster time, ` +
      `${options.timeScale}x real time: about ${Math.round((schedule.faultPhaseS + schedule.quietS) / options.timeScale)} s)`,
    { schedule },
  );
  for (const fault of schedule.faults) out.info(`  at ${fault.atS} s: ${describeFault(fault)}`);

  let runDir: string;
  if (options.workdir === undefined) {
    runDir = mkdtempSync(join(tmpdir(), `ha-lab-${options.seed}-`));
  } else {
    runDir = options.workdir;
    mkdirSync(runDir, { recursive: true });
  }
  const realStart = Date.now();
  let cluster: LabCluster | undefined;
  let clusterRef: LabCluster | undefined;
  const injected: InjectedFault[] = [];
  try {
    cluster = await startLabCluster({
      nodes: options.nodes,
      store: options.store,
      services: options.services,
      scriptsDir: options.scriptsDir,
      timeScale: options.timeScale,
      profile: options.profile,
      watchdog: options.watchdog,
      seed: options.seed,
      runDir,
      event: (event) => out.event(clusterRef?.now() ?? 0, event),
      fail: (error) => failure.abort(error),
    });
    clusterRef = cluster;
    out.info(`run directory ${runDir}; store ${cluster.adminStoreSpec}`, { runDir, store: cluster.adminStoreSpec });

    // Faults start once every service has run: what happens before is start-up, not recovery.
    const lock = options.profile.lockLifetimeMs / 1000;
    const warmupLimit = cluster.now() + (2 * lock + muxWindowS(options.profile)) * 1000;
    while (!allRunning(cluster) && cluster.now() < warmupLimit) {
      await sleepUntil(cluster, cluster.now() + 50 * options.timeScale, signal);
    }
    if (!allRunning(cluster)) out.info('not every service ran before the faults began');
    const faultStart = cluster.now();
    out.info(`fault phase begins`, { faultStartMs: Math.round(faultStart) });
    for (const fault of schedule.faults) {
      await sleepUntil(cluster, faultStart + fault.atS * 1000, signal);
      injected.push(await cluster.inject(fault));
    }
    await sleepUntil(cluster, faultStart + schedule.faultPhaseS * 1000, signal);
    out.info('quiet phase begins');
    await sleepUntil(cluster, faultStart + (schedule.faultPhaseS + schedule.quietS) * 1000, signal);

    const endMs = cluster.now();
    const instances = cluster.lifetimes.instances();
    const configured = await cluster.configuredServices();
    const resets = [...cluster.resets];
    const leftovers = await cluster.teardown();
    cluster = undefined;
    const verdict = check({ services: clusterRef.services, instances, faults: injected, resets, endMs, configured });
    for (const line of summary(verdict)) out.info(line);
    if (leftovers.length > 0) out.info(`processes left behind and killed: ${leftovers.join(', ')}`);
    const pass = verdict.pass && leftovers.length === 0;
    if (pass && !options.keep) rmSync(runDir, { recursive: true, force: true });
    else out.info(`run directory kept: ${runDir}`);
    out.result({
      seed: options.seed,
      replay,
      pass,
      timeScale: options.timeScale,
      profile: options.profile.name,
      watchdog: options.watchdog,
      schedule: { faultPhaseS: schedule.faultPhaseS, quietS: schedule.quietS, faults: schedule.faults },
      faultStartMs: Math.round(faultStart),
      endMs: Math.round(endMs),
      injected: injected.map((f) => ({ ...f, atMs: Math.round(f.atMs) })),
      resets: resets.map((r) => ({ ...r, atMs: Math.round(r.atMs) })),
      doubleRuns: verdict.doubleRuns,
      maxDowntimeMs: Math.round(verdict.maxDowntimeMs),
      longestDowntimeMs: verdict.longestDowntimeMs,
      notRunningAtEnd: verdict.notRunningAtEnd,
      lostConfig: verdict.lostConfig,
      downtime: verdict.downtimeByFault,
      failover: verdict.failover,
      failovers: verdict.failovers,
      downtimes: verdict.downtimes,
      leftovers,
      realSeconds: Math.round((Date.now() - realStart) / 1000),
      ...(pass && !options.keep ? {} : { runDir }),
    });
    return pass ? EXIT.pass : EXIT.failed;
  } catch (err) {
    const leftovers = cluster === undefined ? [] : await cluster.teardown();
    if (err instanceof Interrupted) {
      out.info(`${err.message}: everything stopped${leftovers.length > 0 ? `, left behind and killed: ${leftovers.join(', ')}` : ''}; run directory kept: ${runDir}`);
      out.result({ seed: options.seed, replay, pass: false, interrupted: err.signal, injected, leftovers, runDir });
      return EXIT.interrupted;
    }
    throw err;
  }
}
