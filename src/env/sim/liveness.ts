// The liveness phase of a simulated run: once the last fault has healed (a
// cmdlist round that powers every node on, reconnects it, repairs its cluster
// file system, starts its CRM, ends maintenance, re-arms HA and unlocks every
// service), every service requested started runs exactly once, on the node
// its config names, and every service requested stopped or disabled runs
// nowhere, within LIVENESS_BOUND seconds; and still so at the end of the run
// (or within its last three loops, for a service being moved right then).
//
// Exceptions, each because the reference gives no such promise: services the
// admin left `ignored`; services the manager put in the `error` state (they
// need manual intervention); `fa:` resources whose id makes starts, stops or
// migrations fail; services on a node whose LRM restart never ends (a
// restarting LRM runs no new commands but waits until none of its services
// needs it: a migration ordered after the restart request is neither done
// nor frozen, so it waits for good, and the node's services stay frozen);
// services placed on a node that is on but runs no LRM (a scenario may
// start with nodes on, and the simulator, like the reference's, starts a
// node's daemons only when it powers on; the manager places services there
// all the same);
// services waiting in `recovery` for a node their rules (strict node
// affinity, negative resource affinity, CRS capacity) allow; and every
// service while the manager is wedged on a recovery it cannot do (a service
// to recover whose config names another node than the manager's status,
// after a manual migration no master saw, say: moving its config fails, the
// error ends every manager round before it publishes anything, and nothing
// else moves either). The core's safe policy (src/core/policy.ts) ends such
// restarts and recoveries, so its runs get neither exemption.
// A run that ends with an error has no liveness phase.

import { DEFAULT_PROFILE } from '../timing.js';
import type { Policy } from '../../core/policy.js';
import type { NodeName, ServiceConfig, Sid } from '../../core/types.js';
import { LOCK_TIMEOUT } from './env.js';
import type { SimObservation } from './observer.js';
import { decodeFailureSpec } from './resources.js';

/** Seconds of one simulation loop for up to 10 nodes. */
const LOOP_SECONDS = 20;

/**
 * Seconds from the heal round to a settled cluster, from the reference's
 * timings, each step in the worst case:
 * - the master may be gone: its manager lock lapses after LOCK_TIMEOUT and a
 *   new master takes it in its next loop;
 * - a service may wait in `fence` for a node that is back but does not
 *   renew its agent lock while fencing is requested: that lock lapses
 *   LOCK_TIMEOUT after its last renewal (before the heal, so this overlaps
 *   with the first step), and the new master waits up to the fence delay before
 *   it fences a node it has never seen online;
 * - then a few loops for the recovery, the start, and a failback migration
 *   with its start on the target (5 loops).
 */
/** The fence delay of the reference's timing, which the simulator runs. */
const FENCE_DELAY = DEFAULT_PROFILE.fenceDelayMs / 1000;
export const LIVENESS_BOUND = LOCK_TIMEOUT + LOOP_SECONDS + FENCE_DELAY + 5 * LOOP_SECONDS;

export interface LivenessOptions {
  /** The cmdlist round (0-based) after which no fault is left. */
  fromRound: number;
  /** The core behaviour the run uses (default `reference`); the safe one gets no stuck-restart or wedged-recovery exemption. */
  policy?: Policy;
  /** Seconds after that round began by which every service must have settled (default LIVENESS_BOUND). */
  boundSeconds?: number;
}

export interface LivenessSummary {
  applicable: boolean;
  /** Why the phase did not apply. */
  reason?: string;
  /** Services checked at the end. */
  services: number;
  /** Services left out as documented exceptions, by reason. */
  excepted?: Partial<Record<LivenessExemption, number>>;
  /** Seconds from the heal to the last service settling. */
  slowest?: number;
}

/** A running guest of a service, and why HA does not vouch for it, if it does not (see invariants.ts). */
export interface LiveInstance {
  node: NodeName;
  excuse?: string;
}

export interface LivenessReporter {
  violation(message: string): void;
  /** A service settled only because an extra guest is a documented exception. */
  exception(kind: string): void;
}

export interface LivenessCheck {
  round(obs: SimObservation, index: number): void;
  step(obs: SimObservation, config: Readonly<Record<Sid, Readonly<ServiceConfig>>>, running: ReadonlyMap<Sid, readonly LiveInstance[]>): void;
  end(obs: SimObservation, error?: string): void;
  summary(): LivenessSummary;
}

export type LivenessExemption = 'ignored' | 'error' | 'failing-fa' | 'stuck-restart' | 'no-lrm' | 'unplaceable' | 'wedged-recovery';

/**
 * At the end of the run a service may be between nodes for a moment (CRS
 * auto-rebalancing keeps moving some): it must have been settled within
 * the last three loops.
 */
const END_GRACE = 3 * LOOP_SECONDS;

/** Seconds without a manager status write, with a master, after which the manager counts as wedged. */
const WEDGED_AFTER = 3 * LOOP_SECONDS;

/**
 * The manager is wedged on a recovery it cannot do: a master exists but has
 * published nothing for a while, and a service's config names another node
 * than the (last published) status, outside a migration.
 */
function wedgedRecovery(obs: SimObservation, config: Readonly<Record<Sid, Readonly<ServiceConfig>>>, silentFor: number): boolean {
  if (silentFor < WEDGED_AFTER || !obs.hw.nodes.some((node) => obs.daemons(node).crm === 'master')) return false;
  const status = obs.hw.readManagerStatus().service_status ?? {};
  return Object.keys(status).some((sid) => {
    const sd = status[sid];
    return sd.state !== 'migrate' && sd.state !== 'relocate' && config[sid] !== undefined && config[sid].node !== sd.node;
  });
}

/** Why the policy promises nothing about this service's liveness, if it does not. */
function exemption(policy: Policy, obs: SimObservation, sid: Sid, cd: Readonly<ServiceConfig>, wedged: boolean): LivenessExemption | undefined {
  if (wedged && policy === 'reference') return 'wedged-recovery';
  if (cd.state === 'ignored') return 'ignored';
  const state = obs.hw.readManagerStatus().service_status?.[sid]?.state;
  if (state === 'error') return 'error';
  if (state === 'recovery') return 'unplaceable';
  if (cd.type === 'fa') {
    const spec = decodeFailureSpec(cd.name);
    if (spec.startFailures > 0 || spec.migrateFailures > 0 || spec.cannotStop || !spec.exists) return 'failing-fa';
  }
  const lrm = obs.daemons(cd.node).lrm;
  if (lrm?.mode === 'restart' && policy === 'reference') return 'stuck-restart';
  if (lrm === undefined && obs.hw.hw[cd.node]?.power === 'on') return 'no-lrm';
  return undefined;
}

/**
 * Settled: requested started, it runs on its config node and nowhere else;
 * otherwise it runs nowhere. Guests HA does not vouch for (excused) do not
 * count; the excuses that made the difference are returned.
 */
function settlement(cd: Readonly<ServiceConfig>, instances: readonly LiveInstance[] = []): { settled: boolean; excuses: string[] } {
  const vouched = instances.filter((i) => i.excuse === undefined);
  const excused = instances.filter((i) => i.excuse !== undefined);
  if (cd.state === 'started') {
    const home = instances.some((i) => i.node === cd.node);
    const others = vouched.filter((i) => i.node !== cd.node);
    const extra = excused.filter((i) => i.node !== cd.node);
    return { settled: home && others.length === 0, excuses: extra.map((i) => i.excuse as string) };
  }
  return { settled: vouched.length === 0, excuses: excused.map((i) => i.excuse as string) };
}

function describe(sid: Sid, cd: Readonly<ServiceConfig>, instances: readonly LiveInstance[] = []): string {
  const where = instances.length > 0 ? `runs on ${instances.map((i) => i.node + (i.excuse ? ` (${i.excuse})` : '')).join(', ')}` : 'runs nowhere';
  return `${sid} (requested ${cd.state}, config node ${cd.node}) ${where}`;
}

export function createLivenessCheck(options: LivenessOptions, reporter: LivenessReporter): LivenessCheck {
  const bound = options.boundSeconds ?? LIVENESS_BOUND;
  const policy = options.policy ?? 'reference';
  let start: number | undefined;
  const settledAt = new Map<Sid, number>();
  const lastSettled = new Map<Sid, number>();
  const late = new Set<Sid>();
  const excusedSids = new Set<Sid>();
  let config: Readonly<Record<Sid, Readonly<ServiceConfig>>> = {};
  let running: ReadonlyMap<Sid, readonly LiveInstance[]> = new Map();
  let summary: LivenessSummary = { applicable: false, reason: 'the heal round never ran', services: 0 };
  let writes = -1;
  let lastWriteAt = 0;
  const wedged = (obs: SimObservation): boolean => wedgedRecovery(obs, config, obs.hw.time - lastWriteAt);

  const settle = (sid: Sid, cd: Readonly<ServiceConfig>): boolean => {
    const { settled, excuses } = settlement(cd, running.get(sid));
    if (settled && excuses.length > 0 && !excusedSids.has(sid)) {
      excusedSids.add(sid);
      for (const kind of new Set(excuses)) reporter.exception(kind);
    }
    return settled;
  };

  return {
    round(obs, index) {
      if (index === options.fromRound) start = obs.hw.time;
    },
    step(obs, currentConfig, currentRunning) {
      config = currentConfig;
      running = currentRunning;
      if (obs.hw.managerStatusWrites !== writes) {
        writes = obs.hw.managerStatusWrites;
        lastWriteAt = obs.hw.time;
      }
      if (start === undefined) return;
      const overdue = obs.hw.time - start > bound;
      const stuck = wedged(obs);
      for (const sid of Object.keys(config)) {
        const cd = config[sid];
        if (exemption(policy, obs, sid, cd, stuck) !== undefined) continue;
        if (settle(sid, cd)) {
          if (!settledAt.has(sid)) settledAt.set(sid, obs.hw.time);
          lastSettled.set(sid, obs.hw.time);
        } else if (overdue && !settledAt.has(sid) && !late.has(sid)) {
          late.add(sid);
          reporter.violation(`${describe(sid, cd, running.get(sid))} ${bound} s after the faults healed (t=${start})`);
        }
      }
    },
    end(obs, error) {
      if (error !== undefined) {
        summary = { applicable: false, reason: `the run ended with an error: ${error.split('\n')[0]}`, services: 0 };
        return;
      }
      if (start === undefined) return;
      let services = 0;
      const excepted: Partial<Record<LivenessExemption, number>> = {};
      let slowest = 0;
      const stuck = wedged(obs);
      for (const sid of Object.keys(config)) {
        const cd = config[sid];
        const why = exemption(policy, obs, sid, cd, stuck);
        if (why !== undefined) {
          excepted[why] = (excepted[why] ?? 0) + 1;
          continue;
        }
        services++;
        const at = settledAt.get(sid);
        if (at === undefined) {
          if (!late.has(sid)) reporter.violation(`${describe(sid, cd, running.get(sid))} at the end, and never settled after the faults healed (t=${start})`);
          continue;
        }
        slowest = Math.max(slowest, at - start);
        const since = lastSettled.get(sid) ?? at;
        if (!settle(sid, cd) && obs.hw.time - since > END_GRACE) {
          reporter.violation(`${describe(sid, cd, running.get(sid))} at the end (t=${obs.hw.time}), and so since t=${since}`);
        }
      }
      summary = { applicable: true, services, excepted, slowest };
    },
    summary: () => summary,
  };
}
