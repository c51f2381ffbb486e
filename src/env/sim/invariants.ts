// Safety invariants of a simulated run, checked online at every step from
// what the simulated hardware knows for certain: which guests really run
// where, who holds each lock, which watchdogs are open. Nothing here reads a
// log line, and nothing here changes the run (see observer.ts).
//
// A guest "instance" is a node's running flag for a service while the node
// is powered on (a powered-off node runs nothing). HA vouches for an instance
// once the node's LRM holds its agent lock and an armed watchdog and the
// manager places the service there; from then on the instance must stay
// protected: the agent lock held, or an LRM watchdog open and not expired.
// Instances HA does not vouch for are tracked with the reason, because the
// reference's design lets some of them be started a second time elsewhere;
// each such reason is a documented exception (docs/RELIABILITY.md,
// "Simulator invariants"):
//
// - `disarm`: an LRM gives up its lock and watchdog for an HA disarm while
//   its guests keep running, by design.
// - `freeze`: an LRM whose services are all frozen (restart-lrm, a reboot
//   under the freeze or conditional policy, a freeze disarm while in
//   maintenance) gives up its lock and watchdog while the frozen guests run.
// - `inactive`: an LRM counts only the services that need it, not those
//   stopped, in error or only queued to start; it gives up its lock and
//   watchdog (maintenance, restart, shutdown) while such a service's guest
//   still runs: its stop failed (locked, or a resource that cannot stop), it
//   entered the error state (which stops nothing), or it was added running.
// - `shutdown`: an LRM that exits for a node shutdown stops the services it
//   knew of when the request came; others (placed on the node since, or
//   frozen) run on, unprotected, until the node powers off moments later.
// - `unclaimed`: a guest HA did not start (running when the scenario begins,
//   added as running, even on a node that is off, which the simulator runs
//   once that node powers on), on a node whose LRM has not protected it yet
//   while the manager placed its service there.
// - `ghost`: the guest a manual migration leaves behind. The simulator's
//   manual-migrate moves only the config, as the reference's does; the real
//   guest would have moved, so this instance exists only in the simulation.
// - `manual-move`: a service waiting for recovery, moved by hand while HA
//   was disarmed, takes the config's node on re-arm and is then "recovered"
//   from that node, which nobody fenced. The simulated guest never ran there
//   (see `ghost`); a real one, moved by the admin, could.
//
// Under the safe policy (src/core/policy.ts) the core closes the unsafe ones,
// so fewer excuses hold (SAFE_POLICY_EXCUSES): an LRM may still give up its
// protection for a disarm, a freeze or a shutdown, but no guest so released
// may then be fenced, recovered or run twice; an LRM gives up with a guest of
// an inactive service running only while restarting (like a frozen one) or
// shutting its node down; and no service is recovered from a node nobody
// fenced (`manual-move`).

import type { Policy } from '../../core/policy.js';
import type { LrmMode, NodeName, ServiceConfig, ServiceState, Sid } from '../../core/types.js';
import { LOCK_TIMEOUT } from './env.js';
import { WATCHDOG_TIMEOUT, type ClusterLock, type SimHardware } from './hardware.js';
import { createLivenessCheck, type LiveInstance, type LivenessOptions, type LivenessSummary } from './liveness.js';
import type { SimObservation, SimObserver, SimStep } from './observer.js';

export const CHECKS = ['single-runner', 'protection', 'single-master', 'fencing', 'watchdog', 'liveness'] as const;
export type CheckName = (typeof CHECKS)[number];

export const EXCEPTIONS = ['disarm', 'freeze', 'inactive', 'shutdown', 'unclaimed', 'ghost', 'manual-move'] as const;
export type ExceptionKind = (typeof EXCEPTIONS)[number];

export interface Violation {
  check: CheckName;
  /** Loop of the run loop (1-based) and cmdlist rounds begun. */
  loop: number;
  round: number;
  time: number;
  message: string;
}

export interface InvariantReport {
  violations: Violation[];
  /** Excused events by `check/kind` (e.g. `single-runner/disarm`): each is a documented exception. */
  exceptions: Record<string, number>;
  steps: number;
  loops: number;
  /** Events seen, so a long run can show what it exercised. */
  coverage: Record<string, number>;
  liveness: LivenessSummary;
  /** The message the run ended with, when it ended with an error. */
  error?: string;
}

export interface InvariantChecker extends SimObserver {
  report(): InvariantReport;
}

export interface InvariantOptions {
  /** The core behaviour the run uses (default `reference`): the safe one is held to more. */
  policy?: Policy;
  /** Runs the liveness phase from this cmdlist round on (see liveness.ts). */
  liveness?: LivenessOptions;
  /** Stop collecting after this many violations (the first one is what matters). */
  maxViolations?: number;
}

type InstanceStatus = 'claimed' | 'unclaimed' | 'released' | 'ghost' | 'unmanaged';

interface Instance {
  node: NodeName;
  sid: Sid;
  status: InstanceStatus;
  /** Why HA stopped vouching for a released instance. */
  releasedBy?: ExceptionKind;
}

interface NodeTrack {
  /** An LRM watchdog of the node was open at the last step. */
  lrmWatchdog: boolean;
  /** The last time the node's LRM closed its own watchdog, and why it could. */
  giveUp?: GiveUp;
  /** The agent lock's record at the last step. */
  agentLock?: Readonly<ClusterLock>;
  /** The last step at which another node held this node's agent lock. */
  lastForeignHold?: number;
}

/** An LRM closing its own watchdog: its mode, whether its node shuts down, its services' states then. */
interface GiveUp {
  time: number;
  mode: LrmMode;
  shuttingDown: boolean;
  states: ReadonlyMap<Sid, ServiceState>;
}

/** Why the policy lets an LRM give up protection with this service's guest still running, if it does. */
function excuseForGiveUp(policy: Policy, giveUp: GiveUp, sid: Sid): ExceptionKind | undefined {
  if (giveUp.mode === 'disarm') return 'disarm';
  const state = giveUp.states.get(sid);
  if (state === 'freeze') return 'freeze';
  if (state === 'stopped' || state === 'error' || state === 'request_start') {
    // The safe LRM keeps its protection while such a guest runs, except for
    // a restart, which gives it up as for a frozen guest (the node stays
    // unfenced until the LRM has its lock back), and for a node shutting
    // down, which stops the guest itself moments later.
    if (policy === 'reference' || giveUp.mode === 'restart') return 'inactive';
    return giveUp.shuttingDown ? 'shutdown' : undefined;
  }
  if (giveUp.shuttingDown) return 'shutdown';
  return undefined;
}

/** Checks that excuse fewer exceptions under the safe policy, and the kinds they no longer excuse. */
const SAFE_POLICY_EXCUSES: Partial<Record<CheckName, ReadonlySet<ExceptionKind>>> = {
  'single-runner': new Set(['disarm', 'freeze', 'inactive']),
  fencing: new Set(['disarm', 'freeze', 'inactive', 'manual-move']),
};

/** Whether `check` excuses an exception of `kind` under `policy`. */
function excuses(policy: Policy, check: CheckName, kind: ExceptionKind): boolean {
  return policy === 'reference' || SAFE_POLICY_EXCUSES[check]?.has(kind) !== true;
}

const key = (node: NodeName, sid: Sid): string => `${node} ${sid}`;
const agentLockName = (node: NodeName): string => `ha_agent_${node}_lock`;

function heldBy(lock: Readonly<ClusterLock> | undefined, node: NodeName, now: number): boolean {
  return lock !== undefined && lock.node === node && now - lock.time <= LOCK_TIMEOUT;
}

/** The service config, or undefined while an invalid entry makes every read fail. */
function readConfigOrUndefined(hw: SimHardware): Readonly<Record<Sid, Readonly<ServiceConfig>>> | undefined {
  try {
    return hw.readServiceConfig();
  } catch {
    return undefined;
  }
}

export function createInvariantChecker(options: InvariantOptions = {}): InvariantChecker {
  const policy = options.policy ?? 'reference';
  const maxViolations = options.maxViolations ?? 20;
  const violations: Violation[] = [];
  const exceptions: Record<string, number> = {};
  const coverage: Record<string, number> = {};
  const nodes = new Map<NodeName, NodeTrack>();
  const instances = new Map<string, Instance>();
  /** Last step at which each instance ran protected; kept after it ends (recovery checks). */
  const lastProtected = new Map<string, number>();
  /** The node each service was last moved to by hand. */
  const movedByHand = new Map<Sid, NodeName>();
  /** Double runs already reported, so an episode counts once. */
  const doubleRuns = new Set<string>();
  let config: Readonly<Record<Sid, Readonly<ServiceConfig>>> = {};
  let configNodes = new Map<Sid, NodeName>();
  let managerWrites = 0;
  let steps = 0;
  let loops = 0;
  let error: string | undefined;

  let obs: SimObservation;
  const now = (): number => obs.hw.time;

  const violate = (check: CheckName, message: string): void => {
    if (violations.length >= maxViolations) return;
    violations.push({ check, loop: obs.loop, round: obs.round, time: now(), message });
  };
  const excuse = (check: CheckName, kind: string): void => {
    const name = `${check}/${kind}`;
    exceptions[name] = (exceptions[name] ?? 0) + 1;
  };
  const liveness =
    options.liveness !== undefined
      ? createLivenessCheck({ policy, ...options.liveness }, {
          violation: (message) => violate('liveness', message),
          exception: (kind) => excuse('liveness', kind),
        })
      : undefined;
  const count = (event: string): void => {
    coverage[event] = (coverage[event] ?? 0) + 1;
  };

  const track = (node: NodeName): NodeTrack => {
    let t = nodes.get(node);
    if (t === undefined) {
      t = { lrmWatchdog: false };
      nodes.set(node, t);
    }
    return t;
  };

  const lrmWatchdogArmed = (node: NodeName): boolean =>
    obs.hw.openWatchdogs().some((wd) => wd.node === node && wd.owner === 'lrm' && now() - wd.updateTime <= WATCHDOG_TIMEOUT);

  const isProtected = (node: NodeName): boolean =>
    heldBy(obs.hw.lockRecord(agentLockName(node)), node, now()) || lrmWatchdogArmed(node);

  const isManaged = (inst: Instance): boolean => {
    const cd = config[inst.sid];
    return cd !== undefined && cd.node === inst.node && cd.state !== 'ignored';
  };

  /** The documented exception `check` excuses this instance by under the policy, if any. */
  const excuseIn = (check: CheckName, inst: Instance): ExceptionKind | undefined => {
    const kind = excuseOf(inst);
    return kind !== undefined && excuses(policy, check, kind) ? kind : undefined;
  };

  /** Excused instances: HA does not vouch for them, for a documented reason. */
  const excuseOf = (inst: Instance): ExceptionKind | undefined => {
    switch (inst.status) {
      case 'released':
        return inst.releasedBy;
      case 'unclaimed':
        return 'unclaimed';
      case 'ghost':
        return 'ghost';
      case 'claimed':
      case 'unmanaged':
        return undefined;
      default: {
        const unreachable: never = inst.status;
        throw new Error(`unknown instance status ${String(unreachable)}`);
      }
    }
  };

  /** Watchdogs and agent locks: voluntary give-ups and fence acknowledgements. */
  function observeNodes(step: SimStep): NodeName[] {
    const fenced: NodeName[] = [];
    for (const node of obs.hw.nodes) {
      const t = track(node);
      const open = obs.hw.openWatchdogs().some((wd) => wd.node === node && wd.owner === 'lrm');
      if (t.lrmWatchdog && !open && step.kind === 'daemon' && step.daemon === 'lrm' && step.node === node) {
        const mode = obs.daemons(node).lrm?.mode ?? 'active';
        const status = obs.hw.readManagerStatus().service_status ?? {};
        const states = new Map<Sid, ServiceState>();
        for (const sid of Object.keys(status)) if (status[sid].node === node) states.set(sid, status[sid].state);
        t.giveUp = { time: now(), mode, shuttingDown: obs.hw.hw[node].shutdown !== undefined, states };
        count(`lrm-give-up/${mode}`);
      }
      t.lrmWatchdog = open;

      const lock = obs.hw.lockRecord(agentLockName(node));
      if (lock !== undefined && lock.node !== node && now() - lock.time <= LOCK_TIMEOUT) {
        t.lastForeignHold = now();
        if (t.agentLock?.node !== lock.node || t.agentLock.time !== lock.time) fenced.push(node);
      }
      t.agentLock = lock;
    }
    return fenced;
  }

  /** Brings the instance table up to date with the running guests. */
  function observeInstances(step: SimStep): void {
    const live = new Set<string>();
    for (const node of obs.hw.nodes) {
      if (obs.hw.hw[node].power !== 'on') continue;
      for (const sid of obs.hw.runningSids(node)) {
        const k = key(node, sid);
        live.add(k);
        if (instances.has(k)) continue;
        const inst: Instance = { node, sid, status: 'unclaimed' };
        instances.set(k, inst);
        const byItsLrm = step.kind === 'daemon' && step.daemon === 'lrm' && step.node === node;
        if (byItsLrm) {
          count('guest-start');
          if (!isProtected(node)) violate('protection', `${node}'s LRM started ${sid} without holding its agent lock or an armed watchdog`);
        }
      }
    }
    for (const k of [...instances.keys()]) if (!live.has(k)) instances.delete(k);
  }

  /** Config moves: manual migrations leave ghosts, a CRM's moves are recoveries. */
  function observeMoves(step: SimStep): void {
    const read = readConfigOrUndefined(obs.hw);
    if (read === undefined) return; // nobody can read it either: nothing moves
    config = read;
    const moved: Array<[Sid, NodeName, NodeName]> = [];
    const next = new Map<Sid, NodeName>();
    for (const sid of Object.keys(config)) {
      const node = config[sid].node;
      next.set(sid, node);
      const before = configNodes.get(sid);
      if (before !== undefined && before !== node) moved.push([sid, before, node]);
    }
    configNodes = next;
    for (const [sid, from, to] of moved) {
      const left = instances.get(key(from, sid));
      if (step.kind === 'command') {
        count('manual-migrate');
        movedByHand.set(sid, to);
        if (left !== undefined) left.status = 'ghost';
      } else if (step.kind === 'daemon' && step.daemon === 'crm') {
        count('recovery');
        checkRecovery(step.node, sid, from, to, left);
      }
    }
  }

  /**
   * A service leaves a fenced node only after another node took that node's
   * agent lock, later than the service last ran there under protection, and
   * the fenced node no longer runs it under protection.
   */
  function checkRecovery(crmNode: NodeName, sid: Sid, from: NodeName, to: NodeName, left: Instance | undefined): void {
    const fencedAt = track(from).lastForeignHold;
    const ranAt = lastProtected.get(key(from, sid));
    const unfenced = fencedAt === undefined || (ranAt !== undefined && fencedAt < ranAt);
    if (unfenced && movedByHand.get(sid) === from && left === undefined && excuses(policy, 'fencing', 'manual-move')) {
      excuse('fencing', 'manual-move');
    } else if (fencedAt === undefined) {
      violate('fencing', `${crmNode} recovered ${sid} from ${from} to ${to}, but nobody ever took ${from}'s agent lock`);
    } else if (ranAt !== undefined && fencedAt < ranAt) {
      violate('fencing', `${crmNode} recovered ${sid} from ${from} to ${to} with the last fence of ${from} at ${fencedAt}, before ${sid} last ran there protected at ${ranAt}`);
    }
    if (left === undefined) return;
    const excuse_ = excuseIn('fencing', left);
    if (excuse_ !== undefined) excuse('fencing', excuse_);
    else violate('fencing', `${crmNode} recovered ${sid} from ${from} to ${to} while ${from} still runs it (${left.status})`);
  }

  /** A fence is acknowledged (another node holds the agent lock): the node is dead, or runs nothing HA vouches for. */
  function checkFenced(node: NodeName): void {
    count('fence-ack');
    if (obs.hw.hw[node].power !== 'on') return;
    const holder = obs.hw.lockRecord(agentLockName(node))?.node;
    if (lrmWatchdogArmed(node)) violate('fencing', `${holder} took ${node}'s agent lock while ${node}'s LRM watchdog is armed`);
    for (const inst of instances.values()) {
      if (inst.node !== node || !isManaged(inst)) continue;
      const why = excuseIn('fencing', inst);
      const kind = excuseOf(inst);
      if (why !== undefined) excuse('fencing', why);
      else violate('fencing', `${holder} took ${node}'s agent lock while ${node} runs ${inst.sid} ${kind !== undefined ? `(left unprotected: ${kind})` : "under HA's protection"}`);
    }
  }

  /**
   * Every instance HA vouches for stays protected, or HA stopped vouching for
   * it for a documented reason. HA starts vouching for an instance when the
   * node's LRM holds both its agent lock and an armed watchdog, and the
   * published manager status places the service on that node in a state
   * the LRM acts on (not `fence` or `recovery`, where the manager counts the
   * node's copy as gone): from then on the LRM stops it on a shutdown and
   * hands it over on a migration. A lock left from before a power cycle, or
   * a node back from a fence, does not make HA vouch for what runs there.
   */
  function checkProtection(): void {
    const protectedNodes = new Map<NodeName, boolean>();
    const placed = obs.hw.readManagerStatus().service_status ?? {};
    const vouching = (inst: Instance): boolean => {
      const sd = placed[inst.sid];
      return (
        sd?.node === inst.node &&
        sd.state !== 'fence' &&
        sd.state !== 'recovery' &&
        heldBy(obs.hw.lockRecord(agentLockName(inst.node)), inst.node, now()) &&
        lrmWatchdogArmed(inst.node)
      );
    };
    for (const [k, inst] of instances) {
      if (inst.status === 'ghost' && config[inst.sid]?.node !== inst.node) continue;
      if (!isManaged(inst)) {
        // HA let go of a guest it vouched for (deleted, ignored, moved);
        // one it never vouched for keeps its reason.
        if (inst.status === 'claimed') inst.status = 'unmanaged';
        continue;
      }
      let safe = protectedNodes.get(inst.node);
      if (safe === undefined) {
        safe = isProtected(inst.node);
        protectedNodes.set(inst.node, safe);
      }
      if (safe) {
        if (inst.status !== 'claimed' && vouching(inst)) inst.status = 'claimed';
        if (inst.status === 'claimed') lastProtected.set(k, now());
        continue;
      }
      if (inst.status === 'claimed') {
        const giveUp = track(inst.node).giveUp;
        const kind = giveUp !== undefined ? excuseForGiveUp(policy, giveUp, inst.sid) : undefined;
        if (kind !== undefined) {
          inst.status = 'released';
          inst.releasedBy = kind;
          excuse('protection', kind);
        } else {
          const how = giveUp !== undefined ? `its LRM closed its watchdog in mode '${giveUp.mode}' at ${giveUp.time}` : 'no reset';
          violate('protection', `${inst.node} runs ${inst.sid} without its agent lock or an armed LRM watchdog (${how})`);
          inst.status = 'released';
        }
      } else if (inst.status !== 'released') {
        inst.status = 'unclaimed';
      }
    }
  }

  /** At most one instance per service that HA vouches for; the others must be excused. */
  function checkSingleRunner(): void {
    const bySid = new Map<Sid, Instance[]>();
    for (const inst of instances.values()) {
      if (inst.status === 'ghost') continue;
      const list = bySid.get(inst.sid);
      if (list === undefined) bySid.set(inst.sid, [inst]);
      else list.push(inst);
    }
    for (const [sid, list] of bySid) {
      if (list.length < 2) continue;
      const episode = `${sid} ${list.map((i) => i.node).sort().join(',')}`;
      if (doubleRuns.has(episode)) continue;
      doubleRuns.add(episode);
      const vouched = list.filter((i) => excuseIn('single-runner', i) === undefined);
      if (vouched.length >= 2) {
        violate('single-runner', `${sid} runs on ${list.map((i) => `${i.node} (${i.releasedBy ?? i.status})`).join(' and ')}`);
      } else {
        for (const inst of list) {
          const why = excuseIn('single-runner', inst);
          if (why !== undefined) excuse('single-runner', why);
        }
      }
    }
  }

  /** Only the holder of the manager lock, believing itself master, writes the manager status. */
  function checkMaster(step: SimStep): void {
    const writes = obs.hw.managerStatusWrites;
    const wrote = writes !== managerWrites;
    managerWrites = writes;
    const lock = obs.hw.lockRecord('ha_manager_lock');
    if (wrote) {
      if (step.kind !== 'daemon' || step.daemon !== 'crm') {
        violate('single-master', `the manager status was written outside a CRM iteration (${step.kind})`);
      } else {
        const state = obs.daemons(step.node).crm;
        if (state !== 'master') violate('single-master', `${step.node}'s CRM wrote the manager status in state '${state}'`);
        if (!heldBy(lock, step.node, now())) {
          violate('single-master', `${step.node}'s CRM wrote the manager status without holding the manager lock (held by ${lock?.node ?? 'nobody'})`);
        }
      }
    }
    const masters = obs.hw.nodes.filter((node) => obs.daemons(node).crm === 'master');
    if (masters.length > 1) {
      violate('single-master', `${masters.join(' and ')} all believe they are master (lock: ${lock?.node ?? 'nobody'})`);
    }
  }

  /** After a node's turn every expired watchdog has fired. */
  function checkWatchdogs(): void {
    for (const wd of obs.hw.openWatchdogs()) {
      if (now() - wd.updateTime > WATCHDOG_TIMEOUT) {
        violate('watchdog', `${wd.node}'s ${wd.owner} watchdog expired at ${wd.updateTime + WATCHDOG_TIMEOUT} and has not fired`);
      }
    }
  }

  return {
    step(observation, step) {
      obs = observation;
      steps++;
      loops = obs.loop;
      if (step.kind === 'round') {
        liveness?.round(obs, step.index);
        return;
      }
      // Writes before the run (a scenario's manager status) are nobody's.
      if (step.kind === 'start') managerWrites = obs.hw.managerStatusWrites;
      if (step.kind === 'command') {
        const m = /^(\S+) \S+(?: (\S+))?/.exec(step.command);
        if (m !== null) count(`command/${m[1]}${m[1] === 'service' || m[1] === 'crm' ? ` ${m[2]}` : ''}`);
        if (step.source === 'watchdog') count('watchdog-reset');
      }
      const fenced = observeNodes(step);
      observeInstances(step);
      observeMoves(step);
      checkProtection();
      for (const node of fenced) checkFenced(node);
      checkSingleRunner();
      checkMaster(step);
      if (step.kind === 'turn-end') checkWatchdogs();
      liveness?.step(obs, config, instancesBySid());
    },
    end(observation, err) {
      obs = observation;
      error = err;
      liveness?.end(obs, err);
    },
    report() {
      return {
        violations: [...violations],
        exceptions: { ...exceptions },
        steps,
        loops,
        coverage: { ...coverage },
        liveness: liveness?.summary() ?? { applicable: false, reason: 'no liveness phase', services: 0, slowest: undefined },
        ...(error !== undefined ? { error } : {}),
      };
    },
  };

  /** Running instances per service, with their excuses: what liveness counts. */
  function instancesBySid(): Map<Sid, LiveInstance[]> {
    const out = new Map<Sid, LiveInstance[]>();
    for (const inst of instances.values()) {
      const why = excuseOf(inst);
      const entry: LiveInstance = why !== undefined ? { node: inst.node, excuse: why } : { node: inst.node };
      const list = out.get(inst.sid);
      if (list === undefined) out.set(inst.sid, [entry]);
      else list.push(entry);
    }
    return out;
  }
}

/** One line for a violation, with what replays it. */
export function describeViolation(v: Violation, seed?: number | string): string {
  const where = `loop ${v.loop} (t=${v.time}), cmdlist round ${v.round}`;
  return `${seed !== undefined ? `seed ${seed}, ` : ''}${where}: ${v.check}: ${v.message}`;
}
