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

/** Bounds of a fault's hold (pause, partition, etcd faults), in lock lifetimes. */
const HOLD: Partial<Record<FaultKind, readonly [number, number]>> = {
  // From well under the watchdog's client timeout to twice the lock lifetime.
  pause: [0.2, 2],
  // Short hiccups (well inside the lock lifetime) and cuts that must end in a fence.
  partition: [0.1, 1.5],
  'etcd-member': [0.1, 1],
  'etcd-leader': [0.1, 1],
};

/**
 * How long after it starts a fault may keep its node out (or an etcd
 * member down), at worst: until the hold ends, or the watchdog resets the
 * node, and then the longest reboot.
 */
function outageS(kind: FaultKind, holdS: number, options: Pick<ScheduleOptions, 'lockLifetimeS' | 'muxWindowS'>): number {
  const reboot = REBOOT_MAX * options.lockLifetimeS;
  switch (kind) {
    case 'kill':
      return reboot;
    case 'pause':
    case 'partition':
      return Math.max(holdS, options.muxWindowS) + reboot;
    case 'restart-lrm':
      // An LRM restart freezes its services for about a round each way.
      return options.lockLifetimeS / 4;
    case 'master':
      return options.muxWindowS + reboot;
    case 'etcd-member':
    case 'etcd-leader':
      return holdS;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

function planOne(kind: FaultKind, atS: number, random: Random, options: ScheduleOptions): { fault: PlannedFault; outageS: number } {
  const bounds = HOLD[kind];
  const holdS = bounds === undefined ? undefined : Math.round(random.between(bounds[0], bounds[1]) * options.lockLifetimeS);
  const fault: PlannedFault = { atS, kind };
  switch (kind) {
    case 'kill':
    case 'pause':
    case 'restart-lrm':
    case 'partition':
      fault.node = random.pick(options.nodes);
      break;
    case 'etcd-member':
      fault.member = Math.floor(random.next() * options.etcdMembers);
      break;
    case 'master':
    case 'etcd-leader':
      break;
    default: {
      const never: never = kind;
      return never;
    }
  }
  if (holdS !== undefined) fault.holdS = holdS;
  return { fault, outageS: outageS(kind, holdS ?? 0, options) };
}

export function planSchedule(options: ScheduleOptions): Schedule {
  const quietS = quietPhaseS(options.lockLifetimeS, options.muxWindowS);
  const faultPhaseS = Math.max(0, options.durationS - quietS);
  const random = seededRandom(options.seed);
  const faults: PlannedFault[] = [];
  if (options.faults.length > 0) {
    let atS = Math.round(random.between(0.1, FIRST_FAULT_MAX) * options.lockLifetimeS);
    for (;;) {
      const { fault, outageS } = planOne(random.pick(options.faults), atS, random, options);
      if (atS + outageS > faultPhaseS) break;
      faults.push(fault);
      atS = Math.round(atS + outageS + random.between(0.25, 1) * options.lockLifetimeS);
    }
  }
  return { seed: options.seed, faults, faultPhaseS, quietS };
}

/** The first fault comes this far (in lock lifetimes) into the fault phase, at the latest. */
const FIRST_FAULT_MAX = 0.3;

/** The shortest --duration that fits one fault of any of `faults`, whatever the seed, and the quiet phase. */
export function minimumDurationS(options: Pick<ScheduleOptions, 'faults' | 'lockLifetimeS' | 'muxWindowS'>): number {
  const longest = Math.max(0, ...options.faults.map((kind) => outageS(kind, (HOLD[kind]?.[1] ?? 0) * options.lockLifetimeS, options)));
  return Math.ceil(quietPhaseS(options.lockLifetimeS, options.muxWindowS) + FIRST_FAULT_MAX * options.lockLifetimeS + longest);
}

/** One line per fault, for people. */
export function describeFault(fault: PlannedFault): string {
  const parts = [`${fault.kind}`];
  if (fault.node !== undefined) parts.push(fault.node);
  if (fault.member !== undefined) parts.push(`member ${fault.member}`);
  if (fault.holdS !== undefined) parts.push(`for ${fault.holdS} s`);
  return parts.join(' ');
}
