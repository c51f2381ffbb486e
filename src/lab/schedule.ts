// A run's fault schedule, chosen by its seed: which faults hit which node
// or etcd member when and for how long, then a quiet phase for recovery.
// Pure: the same seed and options give the same schedule on any machine.
//
// Faults are spaced so that one node at most is planned to be out at a
// time (the cluster keeps its majority): each fault's worst planned outage —
// a pause or partition may outlast the watchdog and end in a reset, a reset
// ends with a reboot — ends before the next fault starts. What the daemons
// do beyond the plan (a reset nobody asked for) is theirs to answer for.

import type { NodeName } from '../core/types.js';
import { seededRandom, type Random } from './random.js';

export const FAULT_KINDS = ['kill', 'pause', 'restart-lrm', 'master', 'partition', 'etcd-member', 'etcd-leader'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults that need the etcd store (a directory store has no network to cut, no members). */
export const ETCD_FAULTS: readonly FaultKind[] = ['partition', 'etcd-member', 'etcd-leader'];

export function parseFaults(text: string): FaultKind[] {
  const kinds: FaultKind[] = [];
  for (const word of text.split(',').map((w) => w.trim()).filter((w) => w !== '')) {
    const kind = FAULT_KINDS.find((k) => k === word);
    if (kind === undefined) throw new Error(`invalid fault '${word}': expected a comma-separated subset of ${FAULT_KINDS.join(',')}`);
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  return kinds;
}

export interface PlannedFault {
  /** Cluster seconds after the fault phase started. */
  atS: number;
  kind: FaultKind;
  /** kill, pause, restart-lrm, partition: the node hit. `master` is whoever is master then. */
  node?: NodeName;
  /** etcd-member: the member killed (`etcd-leader` is whoever leads then). */
  member?: number;
  /** pause, partition, etcd-member, etcd-leader: cluster seconds until it is undone. */
  holdS?: number;
}

export interface ScheduleOptions {
  seed: number;
  nodes: readonly NodeName[];
  etcdMembers: number;
  faults: readonly FaultKind[];
  /** Cluster seconds of the whole run after the services first run: faults, then quiet. */
  durationS: number;
  lockLifetimeS: number;
  /** From a daemon's last watchdog feed to the reset (cluster seconds). */
  muxWindowS: number;
}

export interface Schedule {
  seed: number;
  faults: PlannedFault[];
  faultPhaseS: number;
  quietS: number;
}

/**
 * Reboot delays are drawn in [0.1, 2] × the lock lifetime: a node back
 * before its lock expired takes its services up again itself, one back
 * later finds them recovered elsewhere (a failover).
 */
const REBOOT_MIN = 0.1;
const REBOOT_MAX = 2;

/**
 * After the last fault: time for a lost node's lock to run out twice over
 * (a master failover, then the fencing of the node it lost) and for a
 * watchdog to fire, so every service may be running again at the end.
 */
export function quietPhaseS(lockLifetimeS: number, muxWindowS: number): number {
  return Math.ceil(2 * lockLifetimeS + muxWindowS);
}

/** Cluster seconds the nth reset of a run keeps its node down, from the run's seed. */
export function rebootDelayS(seed: number, nth: number, lockLifetimeS: number): number {
  const random = seededRandom((seed ^ Math.imul(nth + 1, 0x9e3779b1)) >>> 0);
  return Math.round(random.between(REBOOT_MIN, REBOOT_MAX) * lockLifetimeS);
}

function planOne(kind: FaultKind, atS: number, random: Random, options: ScheduleOptions): { fault: PlannedFault; outageS: number } {
  const lock = options.lockLifetimeS;
  const window = options.muxWindowS;
  const reboot = REBOOT_MAX * lock;
  const hold = (low: number, high: number): number => Math.round(random.between(low, high) * lock);
  switch (kind) {
    case 'kill':
      return { fault: { atS, kind, node: random.pick(options.nodes) }, outageS: reboot };
    case 'pause': {
      // From well under the watchdog's client timeout to twice the lock lifetime.
      const holdS = hold(0.2, 2);
      return { fault: { atS, kind, node: random.pick(options.nodes), holdS }, outageS: Math.max(holdS, window) + reboot };
    }
    case 'restart-lrm':
      // An LRM restart freezes its services for about a round each way.
      return { fault: { atS, kind, node: random.pick(options.nodes) }, outageS: lock / 4 };
    case 'master':
      return { fault: { atS, kind }, outageS: window + reboot };
    case 'partition': {
      // Short hiccups (well inside the lock lifetime) and cuts that must end in a fence.
      const holdS = hold(0.1, 1.5);
      return { fault: { atS, kind, node: random.pick(options.nodes), holdS }, outageS: Math.max(holdS, window) + reboot };
    }
    case 'etcd-member': {
      const holdS = hold(0.1, 1);
      const member = Math.floor(random.next() * options.etcdMembers);
      return { fault: { atS, kind, member, holdS }, outageS: holdS };
    }
    case 'etcd-leader': {
      const holdS = hold(0.1, 1);
      return { fault: { atS, kind, holdS }, outageS: holdS };
    }
    default: {
      const never: never = kind;
      return never;
    }
  }
}

export function planSchedule(options: ScheduleOptions): Schedule {
  const quietS = quietPhaseS(options.lockLifetimeS, options.muxWindowS);
  const faultPhaseS = Math.max(0, options.durationS - quietS);
  const random = seededRandom(options.seed);
  const faults: PlannedFault[] = [];
  if (options.faults.length > 0) {
    let atS = Math.round(random.between(0.1, 0.3) * options.lockLifetimeS);
    for (;;) {
      const { fault, outageS } = planOne(random.pick(options.faults), atS, random, options);
      if (atS + outageS > faultPhaseS) break;
      faults.push(fault);
      atS = Math.round(atS + outageS + random.between(0.25, 1) * options.lockLifetimeS);
    }
  }
  return { seed: options.seed, faults, faultPhaseS, quietS };
}

/** The shortest --duration that leaves room for the faults of any seed: the quiet phase plus the longest planned outage. */
export function minimumDurationS(options: Omit<ScheduleOptions, 'seed' | 'durationS'>): number {
  const reboot = REBOOT_MAX * options.lockLifetimeS;
  const longest = Math.max(2 * options.lockLifetimeS, options.muxWindowS) + reboot;
  return Math.ceil(quietPhaseS(options.lockLifetimeS, options.muxWindowS) + 0.3 * options.lockLifetimeS + longest);
}

/** One line per fault, for people. */
export function describeFault(fault: PlannedFault): string {
  const parts = [`${fault.kind}`];
  if (fault.node !== undefined) parts.push(fault.node);
  if (fault.member !== undefined) parts.push(`member ${fault.member}`);
  if (fault.holdS !== undefined) parts.push(`for ${fault.holdS} s`);
  return parts.join(' ');
}
