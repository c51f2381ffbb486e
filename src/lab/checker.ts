// The lab's judge. It reads only what really ran — the lifetimes of the
// service processes, observed from outside the daemons (lifetimes.ts) — plus
// what the lab itself did (faults, resets) and the final resources.cfg,
// never a daemon's log. Pure: synthetic lifetimes test it.
//
// Times are cluster milliseconds since the run started (real time × the
// time scale), so runs at different scales compare.

import type { NodeName, Sid } from '../core/types.js';
import type { FaultKind } from './schedule.js';
import { distribution, type Distribution } from './stats.js';

/** One process lifetime of one service on one node: from its start to its death (undefined: alive at the end). */
export interface Instance {
  sid: Sid;
  node: NodeName;
  /** The node's boot it ran in (1 = first). */
  boot: number;
  startMs: number;
  endMs: number | undefined;
}

export const RESET_CAUSES = ['power-off', 'watchdog', 'mux-died'] as const;
export type ResetCause = (typeof RESET_CAUSES)[number];

export interface ResetEvent {
  node: NodeName;
  boot: number;
  atMs: number;
  cause: ResetCause;
}

export interface InjectedFault {
  kind: FaultKind;
  atMs: number;
  /** The node or etcd member it hit; undefined when it was skipped. */
  target: string | undefined;
  /** When a held fault (pause, partition, etcd member) was undone. */
  healedAtMs?: number;
}

export interface CheckInput {
  /** The services the lab configured. */
  services: readonly Sid[];
  instances: readonly Instance[];
  faults: readonly InjectedFault[];
  resets: readonly ResetEvent[];
  endMs: number;
  /** Services in resources.cfg at the end; undefined when it could not be read. */
  configured: readonly Sid[] | undefined;
}

export interface DoubleRun {
  sid: Sid;
  nodes: [NodeName, NodeName];
  fromMs: number;
  toMs: number;
  ms: number;
  /** Both still ran when the run ended. */
  open: boolean;
  /**
   * When a fault was undone while it lasted (a paused node resumed, a cut
   * healed): how long after that it went on. How fast a node that comes
   * back stops what others have taken over (without a watchdog, nothing
   * else can).
   */
  afterHeal: { kind: FaultKind; target: string; ms: number } | undefined;
}

/** A stretch in which no instance of a service ran, after its first start. */
export interface Downtime {
  sid: Sid;
  fromMs: number;
  toMs: number;
  ms: number;
  /** Still down at the end of the run. */
  open: boolean;
  /** The last fault injected before it began ('none' before the first). */
  after: FaultKind | 'none';
}

/** A service that was running on a node when the node was reset: until it ran again. */
export interface Failover {
  sid: Sid;
  node: NodeName;
  cause: ResetCause;
  diedAtMs: number;
  /** When and where it ran next (undefined: never again in this run). */
  recoveredAtMs: number | undefined;
  recoveredOn: NodeName | undefined;
  ms: number | undefined;
}

export interface Verdict {
  doubleRuns: DoubleRun[];
  maxDowntimeMs: number;
  longestDowntimeMs: Record<Sid, number>;
  notRunningAtEnd: Sid[];
  lostConfig: Sid[];
  downtimes: Downtime[];
  /** Downtime lengths by the fault that preceded them. */
  downtimeByFault: Record<string, Distribution>;
  failovers: Failover[];
  /** Failover times of the services of reset nodes (recovered ones only). */
  failover: Distribution;
  /** doubleRuns, notRunningAtEnd and lostConfig all empty. */
  pass: boolean;
}

const endOf = (instance: Instance, endMs: number): number => instance.endMs ?? endMs;

function byStart(a: Instance, b: Instance): number {
  return a.startMs - b.startMs;
}

/** The last fault undone within [fromMs, toMs]. */
function healWithin(faults: readonly InjectedFault[], fromMs: number, toMs: number): DoubleRun['afterHeal'] {
  let last: InjectedFault | undefined;
  for (const fault of faults) {
    const at = fault.healedAtMs;
    if (at === undefined || fault.target === undefined || at < fromMs || at > toMs) continue;
    if (last?.healedAtMs === undefined || at >= last.healedAtMs) last = fault;
  }
  return last?.healedAtMs === undefined || last.target === undefined ? undefined : { kind: last.kind, target: last.target, ms: toMs - last.healedAtMs };
}

/** Every overlap of two instances of one service on different nodes. */
export function findDoubleRuns(instances: readonly Instance[], endMs: number, faults: readonly InjectedFault[] = []): DoubleRun[] {
  const found: DoubleRun[] = [];
  const sorted = [...instances].sort((a, b) => a.sid.localeCompare(b.sid) || byStart(a, b));
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i];
    for (let j = i + 1; j < sorted.length && sorted[j].sid === a.sid; j++) {
      const b = sorted[j];
      if (b.startMs >= endOf(a, endMs)) break; // sorted by start: no later b overlaps a either
      if (b.node === a.node) continue;
      const fromMs = b.startMs;
      const toMs = Math.min(endOf(a, endMs), endOf(b, endMs));
      if (toMs <= fromMs) continue;
      const open = a.endMs === undefined && b.endMs === undefined;
      found.push({ sid: a.sid, nodes: [a.node, b.node], fromMs, toMs, ms: toMs - fromMs, open, afterHeal: healWithin(faults, fromMs, toMs) });
    }
  }
  return found.sort((x, y) => x.fromMs - y.fromMs);
}

/** The latest fault injected at or before `atMs`. */
function faultBefore(faults: readonly InjectedFault[], atMs: number): FaultKind | 'none' {
  let latest: InjectedFault | undefined;
  for (const fault of faults) {
    if (fault.target !== undefined && fault.atMs <= atMs && (latest === undefined || fault.atMs >= latest.atMs)) latest = fault;
  }
  return latest?.kind ?? 'none';
}

/** The stretches without any instance of `sid`, from its first start to the end. */
function downtimesOf(sid: Sid, instances: readonly Instance[], faults: readonly InjectedFault[], endMs: number): Downtime[] {
  const own = instances.filter((i) => i.sid === sid).sort(byStart);
  const gaps: Downtime[] = [];
  if (own.length === 0) return gaps;
  let coveredTo = endOf(own[0], endMs);
  for (const instance of own.slice(1)) {
    if (instance.startMs > coveredTo) {
      gaps.push({ sid, fromMs: coveredTo, toMs: instance.startMs, ms: instance.startMs - coveredTo, open: false, after: faultBefore(faults, coveredTo) });
    }
    coveredTo = Math.max(coveredTo, endOf(instance, endMs));
  }
  if (coveredTo < endMs) gaps.push({ sid, fromMs: coveredTo, toMs: endMs, ms: endMs - coveredTo, open: true, after: faultBefore(faults, coveredTo) });
  return gaps;
}

function failoversOf(resets: readonly ResetEvent[], instances: readonly Instance[], endMs: number): Failover[] {
  const found: Failover[] = [];
  for (const reset of resets) {
    // Whatever ran in the reset boot died with it.
    for (const victim of instances) {
      if (victim.node !== reset.node || victim.boot !== reset.boot) continue;
      if (victim.startMs > reset.atMs || endOf(victim, endMs) < reset.atMs) continue;
      const diedAtMs = endOf(victim, endMs);
      const others = instances.filter((i) => i.sid === victim.sid && i !== victim);
      const alreadyRunning = others.find((i) => i.startMs <= diedAtMs && endOf(i, endMs) > diedAtMs);
      const next = alreadyRunning ?? others.filter((i) => i.startMs > diedAtMs).sort(byStart)[0];
      const recoveredAtMs = next === undefined ? undefined : Math.max(next.startMs, diedAtMs);
      found.push({
        sid: victim.sid,
        node: victim.node,
        cause: reset.cause,
        diedAtMs,
        recoveredAtMs,
        recoveredOn: next?.node,
        ms: recoveredAtMs === undefined ? undefined : recoveredAtMs - diedAtMs,
      });
    }
  }
  return found.sort((a, b) => a.diedAtMs - b.diedAtMs || a.sid.localeCompare(b.sid));
}

export function check(input: CheckInput): Verdict {
  const doubleRuns = findDoubleRuns(input.instances, input.endMs, input.faults);
  const downtimes = input.services.flatMap((sid) => downtimesOf(sid, input.instances, input.faults, input.endMs));
  const longestDowntimeMs: Record<Sid, number> = {};
  for (const sid of input.services) longestDowntimeMs[sid] = 0;
  for (const gap of downtimes) longestDowntimeMs[gap.sid] = Math.max(longestDowntimeMs[gap.sid] ?? 0, gap.ms);
  const notRunningAtEnd = input.services.filter(
    (sid) => !input.instances.some((i) => i.sid === sid && i.startMs <= input.endMs && i.endMs === undefined),
  );
  const lostConfig = input.configured === undefined ? [...input.services] : input.services.filter((sid) => !input.configured?.includes(sid));
  const byFault: Record<string, number[]> = {};
  for (const gap of downtimes) (byFault[gap.after] ??= []).push(gap.ms);
  const failovers = failoversOf(input.resets, input.instances, input.endMs);
  return {
    doubleRuns,
    maxDowntimeMs: Math.max(0, ...Object.values(longestDowntimeMs)),
    longestDowntimeMs,
    notRunningAtEnd,
    lostConfig,
    downtimes,
    downtimeByFault: Object.fromEntries(Object.entries(byFault).map(([kind, samples]) => [kind, distribution(samples)])),
    failovers,
    failover: distribution(failovers.flatMap((f) => (f.ms === undefined ? [] : [f.ms]))),
    pass: doubleRuns.length === 0 && notRunningAtEnd.length === 0 && lostConfig.length === 0,
  };
}
