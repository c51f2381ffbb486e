// The local resource manager daemon. It holds its node's agent lock while the
// node has services, keeps a watchdog fed while holding it, executes the
// master's per-service commands through a worker pool and reports each result
// by the command's uid. Losing the lock with services running means the node
// is about to be fenced: the watchdog resets it. An LRM that finds its lease
// already lapsed (or its watchdog overdue) acts as that reset would: it hard
// stops every service that may run here and starts over without the lock.
// Under the safe policy an LRM asked to be fenced while it holds its lock
// does the same at once and, with every stop confirmed, hands its lock over
// instead of waiting for the reset (onFenceRequest).
//
//   wait_for_agent_lock --(services, quorate, lock)--> active
//   active --(fence requested / lock lost)--> lost_agent_lock --(lock back)--> active
//   active --(fence requested, safe: all stopped, lock released)--> wait_for_agent_lock
//   active --(maintenance mode)--> maintenance --(mode cleared, lock)--> active
//   active --(idle for long / disarmed)--> wait_for_agent_lock

import type { HaEnv, RunState, WatchdogHandle } from '../env/env.js';
import { errorText } from './errors.js';
import { newWorkWake } from './round-wake.js';
import {
  createWorkerSchedule,
  recheckSeconds,
  repeatedConfirmation,
  recordConfirmation,
  startOrder,
  wakeup,
  type CommandParams,
  type Worker,
  type WorkerOutcome,
  type WorkerSchedule,
} from './lrm-workers.js';
import { nodeServices, serviceIndex } from './service-counts.js';
import { splitSid } from './sid.js';
import {
  EXIT,
  LRM_STATES,
  type LrmMode,
  type LrmResult,
  type LrmState,
  type NodeState,
  type ServiceConfig,
  type ServiceStatusEntry,
  type Sid,
} from './types.js';

export type { CommandParams, WorkerOutcome } from './lrm-workers.js';

/** Rounds (10 s each with the default timing) without services before the LRM gives up its lock and watchdog. */
const MAX_ACTIVE_IDLE_ROUNDS = 60;
/** Seconds a maintenance round lasts at least (never longer than an active round). */
const MAINTENANCE_ROUND_SECONDS = 5;
/** Seconds run_workers keeps waiting for running workers before returning, at most. */
const WORKER_POLL_SECONDS = 8;
/** Share of an active round run_workers may wait for workers: 8 s of 10 s, as in the reference. */
const WORKER_SHARE_OF_ROUND = 0.8;
/** Seconds a restarting LRM without its lock waits for the watchdog before giving up. */
const LOST_LOCK_RESTART_GIVE_UP = 90;
/** Hard stops of one service in a row (the drivers escalate within each) before it counts as not stopped. */
const HARD_STOP_ATTEMPTS = 3;

export interface LrmStatusState {
  state: LrmState | 'startup';
  stateChangeTime?: number;
}

/**
 * State some LRMs share: the reference keeps it per process, so simulated
 * LRMs in one run share it while each daemon has its own.
 */
export interface LrmProcessState {
  /** The first successful lrm_status write happens once per process, before anything else. */
  wroteStatusAtStartup: boolean;
}

export interface Lrm {
  readonly env: HaEnv;
  readonly process: LrmProcessState;
  status: LrmStatusState;
  workers: Map<Sid, Worker>;
  /** Order and confirmations of background workers (max_workers > 0). */
  schedule: WorkerSchedule;
  results: Record<string, LrmResult>;
  restartTries: Record<Sid, number>;
  /** Time of the shutdown request, 0 when none. */
  shutdownRequest: number;
  shutdownErrors: number;
  mode: LrmMode;
  clusterStateUpdate: boolean;
  activeIdleRounds: number;
  serviceStatus: Readonly<Record<Sid, Readonly<ServiceStatusEntry>>>;
  nodeStatus: NodeState;
  watchdog?: WatchdogHandle;
  /** Services assigned here when the agent lock was last renewed in time: what may run here. */
  protectedSids: readonly Sid[];
  /** The service status the results were last fully pruned against. */
  resultsPrunedFor?: Readonly<Record<Sid, Readonly<ServiceStatusEntry>>>;
  /** The mode of the last lrm_status written successfully: what the master can know of. */
  reportedMode?: LrmMode;
  /**
   * Safe policy: services whose guest a check found stopped, with the uid
   * of their status entry then. Nothing this LRM does under that uid starts
   * the guest, so the answer holds until the master changes the service.
   */
  knownStopped: Map<Sid, string>;
  /**
   * Services a hard stop (actAsFenced) could not confirm stopped: they may
   * still run, so the LRM takes no agent lock until each is confirmed.
   */
  unconfirmedStops: Set<Sid>;
}

/** The LRM state machine's only setter: validates, logs `old => new`, stamps the time. */
function setState(lrm: Lrm, state: LrmState): void {
  if (!(LRM_STATES as readonly string[]).includes(state)) throw new Error(`invalid state '${state}'`);
  const old = lrm.status.state;
  if (old === state) return;
  lrm.env.log('info', `status change ${old} => ${state}`);
  lrm.status = { state, stateChangeTime: lrm.env.getTime() };
}

export function createLrm(env: HaEnv, process: LrmProcessState = { wroteStatusAtStartup: false }): Lrm {
  const lrm: Lrm = {
    env,
    process,
    status: { state: 'startup' },
    workers: new Map(),
    schedule: createWorkerSchedule(),
    results: {},
    restartTries: {},
    shutdownRequest: 0,
    shutdownErrors: 0,
    mode: 'active',
    clusterStateUpdate: false,
    activeIdleRounds: 0,
    serviceStatus: {},
    nodeStatus: 'unknown',
    protectedSids: [],
    knownStopped: new Map(),
    unconfirmedStops: new Set(),
  };
  setState(lrm, 'wait_for_agent_lock');
  return lrm;
}

/**
 * The daemon was asked to stop: a node shutdown or reboot, or a restart of
 * the LRM alone. The shutdown policy decides between stopping the services
 * (failover), freezing them (the node comes back soon) and migrating them
 * away first (maintenance).
 */
export async function requestLrmShutdown(lrm: Lrm): Promise<void> {
  if (lrm.shutdownRequest) return;
  const { env } = lrm;
  const nodename = env.nodename;
  const { shutdown, reboot } = await env.isNodeShutdown();
  const dc = await env.getDatacenterSettings();
  const policy = dc.ha.shutdown_policy ?? 'conditional';

  if (shutdown) env.log('info', `got shutdown request with shutdown policy '${policy}'`);

  let freezeAll = false;
  let maintenance = false;
  switch (policy) {
    case 'conditional':
      freezeAll = reboot;
      break;
    case 'freeze':
      freezeAll = true;
      break;
    case 'failover':
      freezeAll = false;
      break;
    case 'migrate':
      maintenance = true;
      break;
    default:
      env.log('err', `unknown shutdown policy '${policy}', fall back to conditional`);
      freezeAll = reboot;
  }

  if (!maintenance && shutdown) {
    // A shutting down node always stops its services, reboot or not:
    // anything else risks corrupting them or blocking the shutdown. Under the
    // migrate policy the manager moves them away first instead.
    for (const sid of Object.keys(lrm.serviceStatus)) {
      if (lrm.serviceStatus[sid].node !== nodename) continue;
      queueResourceCommand(lrm, sid, undefined, 'request_stop');
    }
  }

  if (shutdown) {
    const kind = reboot ? 'reboot' : 'shutdown';
    if (isMaintenanceRequested(lrm)) {
      if (maintenance) {
        env.log('info', `${kind} LRM, ignore maintenance policy, already in maintenance mode`);
      } else {
        env.log('info', `${kind} LRM, ignore ${policy} policy as manual maintenance mode is enabled`);
      }
    } else if (maintenance) {
      env.log('info', `${kind} LRM, doing maintenance, removing this node from active list`);
      lrm.mode = 'maintenance';
    } else if (freezeAll) {
      env.log('info', `${kind} LRM, stop and freeze all services`);
      lrm.mode = 'restart';
    } else {
      env.log('info', 'shutdown LRM, stop all services');
      lrm.mode = 'shutdown';
    }
  } else if (isMaintenanceRequested(lrm)) {
    // The reference passes a mangled level here; its log line starts with a
    // newline and a tab, kept for identical output.
    env.log('\n\t    info' as 'info', 'Restarting LRM in maintenance mode may be delayed until all services are moved');
  } else {
    env.log('info', 'restart LRM, freeze all services');
    lrm.mode = 'restart';
  }

  lrm.shutdownRequest = env.getTime();

  try {
    if (!(await updateLrmStatus(lrm))) throw new Error('not quorate?');
  } catch (err) {
    env.log('err', `unable to update lrm status file - ${errorText(err)}`);
  }
}

async function updateLrmStatus(lrm: Lrm): Promise<boolean> {
  const { env } = lrm;
  if (!(await env.quorate())) return false;
  const state = lrm.status.state;
  const mode = lrm.mode;
  try {
    await env.writeLrmStatus({
      ...(state !== 'startup' ? { state } : {}),
      mode,
      results: lrm.results,
      timestamp: env.getTime(),
    });
  } catch (err) {
    env.log('err', `unable to write lrm status file - ${errorText(err)}`);
    return false;
  }
  lrm.reportedMode = mode;
  return true;
}

/**
 * Whether the LRM may now give up its lock and watchdog while guests run,
 * for a disarm or a restart (`mode`). The reference does at once. The safe
 * policy first has a status saying so written, so the master can tell that
 * this node's free lock proves nothing (manager/unprotected.ts): as long as
 * the stored status says `active`, the LRM still holds its lock.
 */
function announced(lrm: Lrm, mode: 'disarm' | 'restart'): boolean {
  return lrm.env.policy === 'reference' || lrm.reportedMode === mode;
}

/** Refreshes the service and node status from the manager, and the mode from its requests. */
async function updateServiceStatus(lrm: Lrm): Promise<boolean> {
  const { env } = lrm;
  let ms;
  try {
    ms = await env.readManagerStatus();
  } catch (err) {
    env.log('err', `updating service status from manager failed: ${errorText(err)}`);
    return false;
  }
  lrm.serviceStatus = ms.service_status ?? {};
  lrm.nodeStatus = ms.node_status?.[env.nodename] ?? 'unknown';
  if (!lrm.shutdownRequest) {
    const request = ms.node_request?.[env.nodename] ?? {};
    if (request.maintenance) {
      lrm.mode = 'maintenance';
    } else if (ms.disarm) {
      lrm.mode = 'disarm';
    } else if (lrm.mode === 'maintenance' || lrm.mode === 'disarm') {
      lrm.mode = 'active';
    }
  }
  return true;
}

async function getProtectedAgentLock(lrm: Lrm): Promise<boolean> {
  const { env } = lrm;
  // After acting as fenced: no new lease while a service may still run from the old one.
  if (!(await confirmHardStops(lrm))) return false;
  const start = env.getTime();
  for (let tries = 1; ; tries++) {
    if (await env.getHaAgentLock()) {
      // Renewed too late: the node may have been fenced meanwhile (see actAsFenced).
      if (protectionLapsed(lrm)) return false;
      if (lrm.watchdog !== undefined) {
        await env.watchdogUpdate(lrm.watchdog);
      } else {
        // A lease too old to arm on counts as no lock: a later round renews it.
        lrm.watchdog = await env.watchdogOpen();
        if (lrm.watchdog === undefined) return false;
      }
      lrm.protectedSids = nodeServices(lrm.serviceStatus, env.nodename).local;
      return true;
    }
    if (tries >= 6) break;
    if (env.getTime() - start > 5) break;
    await env.sleep(1);
  }
  return false;
}

/** Holding its watchdog, the LRM's lease ran out or its watchdog would have fired. */
function protectionLapsed(lrm: Lrm): boolean {
  return lrm.watchdog !== undefined && lrm.env.leaseLapsed();
}

/**
 * What the reset would have done. The agent lock's lease ran out, or the
 * watchdog would have fired, while this LRM held it (a paused process, a
 * node without a watchdog): the master may have fenced this node and
 * started its services elsewhere. So every service that may run here is
 * stopped at once, hard (stopAllLocal), the watchdog is let go of without
 * disarming it, and the LRM starts over in wait_for_agent_lock, which takes
 * the lock anew only for services the master still assigns here.
 */
async function actAsFenced(lrm: Lrm): Promise<void> {
  const { env } = lrm;
  await stopAllLocal(lrm, 'agent lock lease lapsed, or the watchdog would have fired - acting as fenced');
  // The reset did not come, but it should have: let go of the watchdog
  // without disarming it, so a real one still fires.
  if (lrm.watchdog !== undefined) await env.watchdogAbandon(lrm.watchdog);
  lrm.watchdog = undefined;
  await env.releaseHaAgentLock();
  lrm.protectedSids = [];
  lrm.activeIdleRounds = 0;
  setState(lrm, 'wait_for_agent_lock');
}

/** Workers started and not finished (a finished one waits to be reaped with its result). */
function runningWorkers(lrm: Lrm): Worker[] {
  return [...lrm.workers.values()].filter((worker) => worker.started !== undefined && worker.outcome === undefined);
}

/**
 * What a reset does to this node's services, done by the LRM itself: aborts
 * the running workers and hard stops every service that may run here (those
 * protected by the last lease, those assigned here now, those a worker was
 * acting on). Queued and aborted commands get no result: the master
 * re-issues them. Services whose stop is not confirmed are added to
 * unconfirmedStops, which keeps the LRM from taking its lock again; returns
 * whether every stop is confirmed and no worker runs.
 */
async function stopAllLocal(lrm: Lrm, why: string): Promise<boolean> {
  const { env } = lrm;
  const running = runningWorkers(lrm);
  const sids = [
    ...new Set([...lrm.protectedSids, ...nodeServices(lrm.serviceStatus, env.nodename).local, ...running.map((w) => w.sid)]),
  ].sort();
  env.log('crit', `${why}: hard stopping ${sids.length} service(s)`);
  // First the workers, so that none goes on acting (a `start` in flight)
  // while or after its service is hard stopped.
  if (running.length > 0) {
    env.log('crit', `aborting ${running.length} running worker(s): ${running.map((w) => w.sid).sort().join(', ')}`);
    await env.abortWorkerCommands(Promise.all(running.map((w) => w.settled)).then(() => undefined));
  }
  // Ones that finished before the abort are reaped as usual.
  const aborted = new Set(running);
  for (const [sid, worker] of lrm.workers) if (worker.started === undefined || aborted.has(worker)) lrm.workers.delete(sid);
  lrm.schedule.finished = lrm.schedule.finished.filter((worker) => !aborted.has(worker));
  lrm.schedule.running -= running.length;
  const stopped = await Promise.all(sids.map((sid) => hardStopService(lrm, sid)));
  for (const [i, sid] of sids.entries()) if (!stopped[i]) lrm.unconfirmedStops.add(sid);
  if (lrm.unconfirmedStops.size > 0) {
    env.log('crit', `service(s) ${[...lrm.unconfirmedStops].sort().join(', ')} may still run after the hard stop - not taking the agent lock again until they are confirmed stopped`);
  }
  return lrm.unconfirmedStops.size === 0 && runningWorkers(lrm).length === 0;
}

/**
 * The master asks for this node to be fenced (`line` is the reference's log
 * line for it) while the LRM holds its agent lock and watchdog. The
 * reference stops renewing the lock: the master gets it once the lease runs
 * out, and meanwhile the watchdog resets the node, even when nothing runs
 * here (a node rebooted and rejoined just before the master gave up on it).
 *
 * Safe policy: the LRM hands the node over at once instead. It does what the
 * reset would do (stopAllLocal); only if every service is then confirmed
 * stopped and no worker runs does it release the lock, so the master's next
 * attempt takes it and recovers the services, and close the watchdog: with
 * nothing running and the lock given up, a reset would protect nothing. If
 * any stop is unconfirmed, that service may still run, so the reference's
 * way stands: the lock is left to run out and the watchdog to fire.
 */
async function onFenceRequest(lrm: Lrm, line: string): Promise<void> {
  const { env } = lrm;
  env.log('err', line);
  if (env.policy === 'reference' || !(await stopAllLocal(lrm, 'node needs to be fenced - handing it over to the master'))) {
    if (env.policy !== 'reference') {
      env.log('crit', `leaving the agent lock to run out and the watchdog armed: service(s) ${[...lrm.unconfirmedStops].sort().join(', ')} may still run`);
    }
    // No renewal from here on (lost_agent_lock takes no lock while the
    // fence request stands): the lease runs out, the watchdog fires.
    setState(lrm, 'lost_agent_lock');
    return;
  }
  try {
    await env.releaseHaAgentLock();
  } catch (err) {
    // Nothing runs here either way: the master takes the lock once its lease runs out.
    env.log('err', `unable to release agent lock - ${errorText(err)}`);
  }
  // Safe: every service confirmed stopped, no worker running, lock given up.
  await giveUpWatchdog(lrm);
  lrm.protectedSids = [];
  lrm.activeIdleRounds = 0;
  env.log('crit', 'every service here is confirmed stopped and no worker runs - released the agent lock and closed the watchdog, so the master fences this node at once, without a reset');
  // wait_for_agent_lock, not lost_agent_lock: the LRM now has neither lock
  // nor watchdog, which is what wait_for_agent_lock stands for (as after a
  // reset, or acting as fenced), and it writes its status, so the master
  // sees it. lost_agent_lock assumes a watchdog about to fire (its shutdown
  // handling waits for it) and writes no status. Both take no lock while the
  // fence request stands; once it is gone, this one takes the lock again
  // when the master assigns services here, as a rebooted node's LRM would.
  setState(lrm, 'wait_for_agent_lock');
}

/**
 * Hard stops a service until a status check confirms it stopped, at most
 * HARD_STOP_ATTEMPTS times. Returns whether it is confirmed: a check that
 * cannot tell (`unknown`) is no confirmation. A service type without a
 * driver cannot have been started here, so there is nothing to stop.
 */
async function hardStopService(lrm: Lrm, sid: Sid): Promise<boolean> {
  const { env } = lrm;
  const { type, name } = splitSid(sid);
  const driver = env.resourceDriver(type);
  if (driver === undefined) {
    env.log('err', `service type '${type}' not implemented`);
    return true;
  }
  for (let attempt = 1; attempt <= HARD_STOP_ATTEMPTS; attempt++) {
    let state: RunState = 'unknown';
    try {
      state = await driver.hardStop(name);
    } catch (err) {
      env.log('err', `hard stop of service ${sid} failed - ${errorText(err)}`);
    }
    if (state === 'stopped') {
      env.log('info', `service ${sid} hard stopped`);
      return true;
    }
    env.log('err', `service ${sid} may still run after hard stop ${attempt} of ${HARD_STOP_ATTEMPTS} (status: ${state})`);
  }
  return false;
}

/**
 * Hard stops again the services an earlier hard stop left unconfirmed;
 * returns whether none is left. Until then the LRM must not take the agent
 * lock: a new lease would protect (and a master trust) a node where a
 * service of the lapsed lease may still run.
 */
async function confirmHardStops(lrm: Lrm): Promise<boolean> {
  if (lrm.unconfirmedStops.size === 0) return true;
  for (const sid of [...lrm.unconfirmedStops].sort()) {
    if (await hardStopService(lrm, sid)) lrm.unconfirmedStops.delete(sid);
  }
  if (lrm.unconfirmedStops.size === 0) return true;
  lrm.env.log('crit', `not taking the agent lock: service(s) ${[...lrm.unconfirmedStops].sort().join(', ')} may still run after the hard stop`);
  return false;
}

/**
 * Closes the watchdog, which disables self-fencing: only when no service is
 * active here (graceful shutdown, all stopped or frozen, or disarmed).
 */
async function giveUpWatchdog(lrm: Lrm): Promise<void> {
  if (lrm.watchdog === undefined) return;
  await lrm.env.watchdogClose(lrm.watchdog);
  lrm.watchdog = undefined;
}

/** Any service assigned to this node, whatever its requested state. */
function hasConfiguredServiceOnLocalNode(lrm: Lrm): boolean {
  return nodeServices(lrm.serviceStatus, lrm.env.nodename).local.length > 0;
}

function isFenceRequested(lrm: Lrm): boolean {
  return nodeServices(lrm.serviceStatus, lrm.env.nodename).fenced > 0 || lrm.nodeStatus === 'fence';
}

function isMaintenanceRequested(lrm: Lrm): boolean {
  return lrm.mode === 'maintenance';
}

function activeServiceCount(lrm: Lrm): number {
  return nodeServices(lrm.serviceStatus, lrm.env.nodename).active;
}

/** States of services not counted as active (service-counts.ts) whose guest may still run, frozen ones aside. */
const INACTIVE_STATES: ReadonlySet<string> = new Set(['stopped', 'error', 'request_start']);
/**
 * A restart gives up protection of frozen guests, and of those in the error
 * state, which the master cannot freeze; like frozen ones they are never
 * fenced or recovered, and the node stays unfenced until the LRM has its
 * lock back (manager/unprotected.ts). A stopped one is frozen soon.
 */
const INACTIVE_STATES_ON_RESTART: ReadonlySet<string> = new Set(['stopped', 'request_start']);

/**
 * Safe policy: how many services on this node, in one of `states`, have a
 * guest that runs (or cannot be told not to). The reference counts only
 * active services before it gives up its lock and watchdog, so a guest whose
 * stop failed, or one in the error state, or one added running, runs on
 * without protection; should the node then be cut off, the master fences it
 * at once and a later start of that service elsewhere runs it twice. The
 * safe LRM keeps its protection while such a guest runs. Checks are remembered
 * per status entry (knownStopped), so an idle node checks each guest once.
 */
async function inactiveGuestsRunning(lrm: Lrm, states: ReadonlySet<string> = INACTIVE_STATES): Promise<number> {
  const { env } = lrm;
  if (env.policy !== 'safe') return 0;
  const local = nodeServices(lrm.serviceStatus, env.nodename).local;
  const localSet = new Set(local);
  for (const sid of lrm.knownStopped.keys()) if (!localSet.has(sid)) lrm.knownStopped.delete(sid);
  let running = 0;
  for (const sid of local) {
    const sd = lrm.serviceStatus[sid];
    if (!states.has(sd.state)) continue;
    const uid = sd.uid ?? '';
    if (lrm.knownStopped.get(sid) === uid) continue;
    const { type, name } = splitSid(sid);
    const driver = env.resourceDriver(type);
    if (driver === undefined) continue; // nothing here can have started it
    let runs = true;
    try {
      // A check that cannot tell counts as running.
      runs = (await driver.runState(name)) !== 'stopped';
    } catch (err) {
      env.log('err', `unable to check whether service ${sid} runs - ${errorText(err)}`);
    }
    if (runs) running++;
    else lrm.knownStopped.set(sid, uid);
  }
  return running;
}

/**
 * Safe policy, in maintenance: a guest of an inactive service still runs
 * here, so lock and watchdog stay. Not when the node itself shuts down (the
 * migrate shutdown policy): that stops the guest moments later, and waiting
 * for it would hold the shutdown up.
 */
async function inactiveGuestsHoldMaintenance(lrm: Lrm): Promise<boolean> {
  if (lrm.env.policy !== 'safe') return false;
  if (lrm.shutdownRequest && (await lrm.env.isNodeShutdown()).shutdown) return false;
  return (await inactiveGuestsRunning(lrm)) > 0;
}

/** Active services, and under the safe policy running guests of inactive ones: what needs lock and watchdog. */
async function protectedServiceCount(lrm: Lrm, states?: ReadonlySet<string>): Promise<number> {
  const active = activeServiceCount(lrm);
  return active > 0 ? active : inactiveGuestsRunning(lrm, states);
}

/** States of a service moving off (or onto) a node, which its LRM carries out. */
const MOTION_STATES: ReadonlySet<string> = new Set(['migrate', 'relocate', 'request_start_balance']);

/**
 * Safe policy, restarting: queues the migrations and relocations the master
 * ordered for this node's services. A restarting LRM runs no new commands
 * and waits until no service needs it; the master freezes started and
 * stopped services, but a move ordered after the restart request (a
 * migrate command, a rebalance) is neither frozen nor ever carried out, so
 * the reference's restart never ends and the node's services stay frozen.
 * Carrying the move out lets the service leave, and the restart end.
 */
function queueMoves(lrm: Lrm): void {
  if (lrm.env.policy !== 'safe') return;
  for (const sid of nodeServices(lrm.serviceStatus, lrm.env.nodename).local) {
    const sd = lrm.serviceStatus[sid];
    if (sd.uid && MOTION_STATES.has(sd.state)) queueResourceCommand(lrm, sid, sd.uid, sd.state, sd);
  }
}

/**
 * Queues a command for a service. A command whose result is already
 * reported is not queued again — a second try the master does not know of
 * could race its handling of the first failure — except 'stopped', which is
 * always enforced, master or not. A command replacing a waiting one keeps its
 * place in the queue (see lrm-workers.ts).
 */
function queueResourceCommand(
  lrm: Lrm,
  sid: Sid,
  uid: string | undefined,
  state: string,
  paramsFrom?: Pick<ServiceStatusEntry, 'target' | 'timeout'>,
): void {
  if (state !== 'stopped' && uid && lrm.results[uid] !== undefined) return;
  const existing = lrm.workers.get(sid);
  if (existing?.started !== undefined) return;
  const queued = existing?.queued ?? lrm.schedule.nextQueued++;
  const params = paramsFrom && { target: paramsFrom.target, timeout: paramsFrom.timeout };
  lrm.workers.set(sid, { sid, uid, state, queued, ...(params ? { params } : {}) });
}

/**
 * Runs the queued commands: inline with max_workers 0, in the background
 * otherwise. Returns the number of workers left (waiting or running).
 */
async function runWorkers(lrm: Lrm): Promise<number> {
  const maxWorkers = lrm.env.getMaxWorkers();
  return maxWorkers > 0 ? runWorkersInBackground(lrm, maxWorkers) : runWorkersInline(lrm);
}

/** max_workers 0 (the simulator): every waiting command, one after another, in sid order. */
async function runWorkersInline(lrm: Lrm): Promise<number> {
  const { env } = lrm;
  const { services } = await env.readServiceConfig();
  const waiting = [...lrm.workers.values()].sort((a, b) => (a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0));
  for (const worker of waiting) {
    let outcome: WorkerOutcome;
    try {
      outcome = { kind: 'exited', code: await execResourceAgent(lrm, worker.sid, services[worker.sid], worker.state, worker.params) };
    } catch (err) {
      env.log('err', errorText(err));
      outcome = { kind: 'failed' };
    }
    await commandFinished(lrm, worker.sid, outcome);
  }
  return lrm.workers.size;
}

/**
 * max_workers > 0: answers the commands that repeat a fresh confirmation,
 * then starts the others in start order (lrm-workers.ts), never more than
 * max_workers at once, taking each finished worker's result as soon as it
 * finishes. Returns after 8 seconds at most (0.8 of a shorter round);
 * workers still running then are collected in a later call.
 */
async function runWorkersInBackground(lrm: Lrm, maxWorkers: number): Promise<number> {
  const { env, schedule } = lrm;
  const start = env.getTime();
  const { services } = await env.readServiceConfig();
  if (lrm.workers.size === 0) return 0;
  const during = lrm.status;
  const local = new Set(nodeServices(lrm.serviceStatus, env.nodename).local);
  for (const [sid, confirmation] of schedule.confirmed) {
    if (confirmation.during !== during || !local.has(sid)) schedule.confirmed.delete(sid);
  }
  const freshFor = recheckSeconds(local.size, env.timing.lrmRound);

  let timeUp = false;
  // Short rounds (the fast timing profile) must stay short: what is still
  // running then is collected next round.
  const window = Math.min(WORKER_POLL_SECONDS, env.timing.lrmRound * WORKER_SHARE_OF_ROUND);
  const deadline = env.sleep(window).then(() => {
    timeUp = true;
  });

  await reapFinishedWorkers(lrm);
  const waiting: Worker[] = [];
  for (const worker of lrm.workers.values()) {
    if (worker.started !== undefined) continue;
    const confirmation = repeatedConfirmation(schedule, worker, during);
    const fresh = confirmation !== undefined && start - confirmation.at < freshFor;
    if (fresh && services[worker.sid]?.node === env.nodename) {
      await commandFinished(lrm, worker.sid, { kind: 'exited', code: EXIT.SUCCESS });
    } else {
      waiting.push(worker);
    }
  }

  const order = startOrder(schedule, waiting, during);
  let next = 0;
  for (;;) {
    // Taken before reaping: a worker finishing meanwhile resolves it.
    const woken = schedule.wakeup.promise;
    await reapFinishedWorkers(lrm);
    // Right before each start, not once per round: a worker started on a
    // lapsed lease would act for a node that may have been fenced.
    let lapsed = false;
    while (next < order.length && schedule.running < maxWorkers && !(lapsed = protectionLapsed(lrm))) {
      startWorker(lrm, order[next++], services);
    }
    if (lapsed) env.log('crit', 'agent lock lease lapsed - not starting further workers');
    if (schedule.running === 0 || timeUp || lapsed) break;
    await Promise.race([woken, deadline]);
  }
  return lrm.workers.size;
}

function startWorker(lrm: Lrm, worker: Worker, services: Readonly<Record<Sid, Readonly<ServiceConfig>>>): void {
  const { env, schedule } = lrm;
  worker.started = { at: env.getTime(), during: lrm.status };
  schedule.running++;
  const finish = (outcome: WorkerOutcome): void => {
    worker.outcome = outcome;
    schedule.finished.push(worker);
    const finished = schedule.wakeup;
    schedule.wakeup = wakeup();
    finished.wake();
  };
  worker.settled = execResourceAgent(lrm, worker.sid, services[worker.sid], worker.state, worker.params).then(
    (code) => finish({ kind: 'exited', code: code & 0xff }),
    (err: unknown) => {
      env.log('err', errorText(err));
      // like a forked worker dying on an exception: exit code 255
      finish({ kind: 'exited', code: 255 });
    },
  );
}

/** Takes the results of the background workers that finished, in the order they finished. */
async function reapFinishedWorkers(lrm: Lrm): Promise<void> {
  const { schedule } = lrm;
  for (let worker = schedule.finished.shift(); worker !== undefined; worker = schedule.finished.shift()) {
    schedule.running--;
    await commandFinished(lrm, worker.sid, worker.outcome ?? { kind: 'failed' });
  }
}

function decodeOutcome(lrm: Lrm, sid: Sid, outcome: WorkerOutcome): number {
  switch (outcome.kind) {
    case 'failed':
      lrm.env.log('err', `resource agent ${sid} finished - failed to execute`);
      return -1;
    case 'signaled':
      lrm.env.log('err', `resource agent ${sid} finished - got signal ${outcome.signal}`);
      return -1;
    case 'exited':
      return outcome.code;
    default: {
      const unreachable: never = outcome;
      throw new Error(`unknown worker outcome ${JSON.stringify(unreachable)}`);
    }
  }
}

async function commandFinished(lrm: Lrm, sid: Sid, outcome: WorkerOutcome): Promise<void> {
  const worker = lrm.workers.get(sid);
  if (worker === undefined) return;
  lrm.workers.delete(sid);
  let exitCode = decodeOutcome(lrm, sid, outcome);
  if (worker.started !== undefined) recordConfirmation(lrm.schedule, worker, exitCode);

  if (worker.uid === undefined) {
    // a shutdown stop job: only its failure matters, to keep the lock
    if (exitCode !== 0) lrm.shutdownErrors++;
    return;
  }

  exitCode = await handleServiceExitCode(lrm, sid, worker.state, exitCode);
  if (exitCode === EXIT.ETRY_AGAIN) return; // retried silently

  lrm.results[worker.uid] = { sid: worker.sid, state: worker.state, exit_code: exitCode };
  pruneResults(lrm, worker.uid);
}

/**
 * Keeps only results the manager can still ask for: those whose uid is a
 * service's current one. Uids only change with a new service status, so the
 * full check runs once per status; until the next one only the newly added
 * result needs checking.
 */
function pruneResults(lrm: Lrm, added: string): void {
  const { uids } = serviceIndex(lrm.serviceStatus);
  if (lrm.resultsPrunedFor !== lrm.serviceStatus) {
    for (const uid of Object.keys(lrm.results)) if (!uids.has(uid)) delete lrm.results[uid];
    lrm.resultsPrunedFor = lrm.serviceStatus;
  } else if (!uids.has(added)) {
    delete lrm.results[added];
  }
}

/**
 * Applies the restart policy to a failed start: retry in place up to
 * max_restart times (the master is not told), then report the error so the
 * master can relocate the service.
 */
async function handleServiceExitCode(lrm: Lrm, sid: Sid, cmd: string, exitCode: number): Promise<number> {
  const { env } = lrm;
  const { services } = await env.readServiceConfig();
  const maxRestart = services[sid]?.max_restart ?? 0;
  if (cmd !== 'started') return exitCode;

  if (exitCode === EXIT.SUCCESS) {
    lrm.restartTries[sid] = 0;
    return exitCode;
  }
  if (exitCode !== EXIT.ERROR) return exitCode;

  const tries = lrm.restartTries[sid] ?? 0;
  if (tries >= maxRestart) {
    env.log('err', `unable to start service ${sid} on local node after ${tries} retries`);
    lrm.restartTries[sid] = 0;
    return EXIT.ERROR;
  }
  lrm.restartTries[sid] = tries + 1;
  env.log('warning', `restart policy: retry number ${tries + 1} for service '${sid}'`);
  return EXIT.ETRY_AGAIN;
}

/** Executes one command for one service on this node; returns an exit code. */
export async function execResourceAgent(
  lrm: Lrm,
  sid: Sid,
  cd: Readonly<ServiceConfig> | undefined,
  cmd: string,
  params: CommandParams | undefined,
): Promise<number> {
  const { env } = lrm;
  const { type, name } = splitSid(sid);
  const driver = env.resourceDriver(type);
  if (driver === undefined) {
    env.log('err', `service type '${type}' not implemented`);
    return EXIT.EUNKNOWN_SERVICE_TYPE;
  }
  if (cd === undefined) {
    env.log('err', `missing resource configuration for '${sid}'`);
    return EXIT.EUNKNOWN_SERVICE;
  }
  if (cmd === 'error') {
    env.log(
      'err',
      `service ${sid} is in an error state and needs manual intervention. Look up 'ERROR RECOVERY' in the documentation.`,
    );
    return EXIT.SUCCESS; // reporting the error state always succeeds
  }
  if (cd.node !== env.nodename) {
    env.log('err', `service '${sid}' not on this node`);
    return EXIT.EWRONG_NODE;
  }

  // Only `running` proves it runs and only `stopped` that it does not; a
  // check that cannot tell (`unknown`, real nodes only) proves neither.
  let state = await driver.runState(name);

  switch (cmd) {
    case 'started':
      if (state === 'running') return EXIT.SUCCESS;
      env.log('info', `starting service ${sid}`);
      await driver.start(name);
      state = await driver.runState(name);
      if (state === 'running') {
        env.log('info', `service status ${sid} started`);
        return EXIT.SUCCESS;
      }
      env.log('warning', `unable to start service ${sid}`);
      return EXIT.ERROR;

    case 'request_stop':
    case 'stopped': {
      if (state === 'stopped') return EXIT.SUCCESS;
      const timeout = params?.timeout;
      env.log('info', timeout !== undefined ? `stopping service ${sid} (timeout=${timeout})` : `stopping service ${sid}`);
      await driver.shutdown(name, timeout);
      state = await driver.runState(name);
      if (state === 'stopped') {
        env.log('info', `service status ${sid} stopped`);
        return EXIT.SUCCESS;
      }
      env.log('info', state === 'running' ? `unable to stop service ${sid} (still running)` : `unable to stop service ${sid} (status unknown)`);
      return EXIT.ERROR;
    }

    case 'migrate':
    case 'relocate':
    case 'request_start_balance': {
      const target = params?.target;
      if (target === undefined) throw new Error(`${cmd} '${sid}' failed - missing target`);
      if (cd.node === target) return EXIT.SUCCESS; // already there
      if (cmd === 'request_start_balance' && state !== 'stopped') {
        env.log('info', `ignoring rebalance-on-start for service ${sid} - already running`);
        return EXIT.IGNORED;
      }
      const moved = await driver.migrate(name, target, cmd === 'migrate');
      if (!moved) {
        env.log('err', `service ${sid} not moved (migration error)`);
        return EXIT.ERROR;
      }
      return EXIT.SUCCESS;
    }

    default:
      env.log('err', `implement me (cmd '${cmd}')`);
      return EXIT.EUNKNOWN_COMMAND;
  }
}

/** Queues the master's commands for this node's services and runs them. */
async function manageResources(lrm: Lrm): Promise<number> {
  const ss = lrm.serviceStatus;

  for (const sid of Object.keys(lrm.restartTries)) if (ss[sid] === undefined) delete lrm.restartTries[sid];

  for (const sid of nodeServices(ss, lrm.env.nodename).local) {
    const sd = ss[sid];
    if (!sd.uid) continue;
    const requested = sd.state;
    // recovery: the master must first move it (possibly back to this very
    // node); freeze: hands off; request_start: only picks a node.
    if (requested === 'recovery' || requested === 'freeze' || requested === 'request_start') continue;
    queueResourceCommand(lrm, sid, sd.uid, requested, sd);
  }

  return runWorkers(lrm);
}

type Transition = (lrm: Lrm, fenceRequested: boolean) => Promise<void>;

const TRANSITIONS: Readonly<Record<LrmState, Transition>> = {
  async wait_for_agent_lock(lrm, fenceRequested) {
    if (lrm.mode === 'disarm') return; // stay idle, no lock while disarmed
    if (!fenceRequested && (await protectedServiceCount(lrm)) > 0 && (await lrm.env.quorate())) {
      if (await getProtectedAgentLock(lrm)) setState(lrm, 'active');
    }
  },
  async lost_agent_lock(lrm, fenceRequested) {
    if (!fenceRequested && (await lrm.env.quorate())) {
      if (await getProtectedAgentLock(lrm)) setState(lrm, 'active');
    }
  },
  async active(lrm, fenceRequested) {
    const { env } = lrm;
    if (fenceRequested) {
      await onFenceRequest(lrm, 'node needs to be fenced - releasing agent_lock');
    } else if (!(await getProtectedAgentLock(lrm))) {
      setState(lrm, 'lost_agent_lock');
    } else if (isMaintenanceRequested(lrm)) {
      setState(lrm, 'maintenance');
    } else if (lrm.mode === 'disarm' && (await runWorkers(lrm)) === 0) {
      // Under the safe policy once the stored status says so: a round later.
      if (announced(lrm, 'disarm')) {
        env.log('info', 'HA disarm requested, releasing agent lock and watchdog');
        // Safe: no fence request (checked first) and no worker running any more.
        await env.releaseHaAgentLock();
        await giveUpWatchdog(lrm);
        setState(lrm, 'wait_for_agent_lock');
      }
    } else if (!hasConfiguredServiceOnLocalNode(lrm) && (await runWorkers(lrm)) === 0) {
      lrm.activeIdleRounds++;
      if (lrm.activeIdleRounds > MAX_ACTIVE_IDLE_ROUNDS) {
        env.log('info', `node had no service configured for ${MAX_ACTIVE_IDLE_ROUNDS} rounds, going idle.`);
        // Safe: no service here and no worker running for a long time.
        await env.releaseHaAgentLock();
        await giveUpWatchdog(lrm);
        setState(lrm, 'wait_for_agent_lock');
        lrm.activeIdleRounds = 0;
      }
    } else if (lrm.activeIdleRounds > 0) {
      lrm.activeIdleRounds = 0;
    }
  },
  async maintenance(lrm, fenceRequested) {
    const { env } = lrm;
    if (fenceRequested) {
      await onFenceRequest(lrm, 'node needs to be fenced during maintenance mode - releasing agent_lock');
    } else if (lrm.mode === 'disarm' && activeServiceCount(lrm) === 0 && (await runWorkers(lrm)) === 0) {
      env.log('info', 'HA disarm requested during maintenance, releasing agent lock and watchdog');
      // Safe: no active service and no running worker.
      await env.releaseHaAgentLock();
      await giveUpWatchdog(lrm);
      setState(lrm, 'wait_for_agent_lock');
    } else if (
      activeServiceCount(lrm) > 0 ||
      (await runWorkers(lrm)) > 0 ||
      (isMaintenanceRequested(lrm) && (await inactiveGuestsRunning(lrm)) > 0)
    ) {
      // Keep lock and watchdog until every service has left the node (and,
      // under the safe policy, while in maintenance, until every guest still
      // running here has stopped; once it ends, going active keeps them).
      if (!(await getProtectedAgentLock(lrm))) setState(lrm, 'lost_agent_lock');
    } else if (!isMaintenanceRequested(lrm)) {
      // Empty, and maintenance is over: back to work.
      setState(lrm, (await getProtectedAgentLock(lrm)) ? 'active' : 'lost_agent_lock');
    }
  },
};

type Work = (lrm: Lrm) => Promise<boolean>;

const WORK: Readonly<Record<LrmState, Work>> = {
  async wait_for_agent_lock(lrm) {
    if (lrm.shutdownRequest) return false;
    await updateLrmStatus(lrm);
    const { env } = lrm;
    // Safe policy: an idle node given a recovered service takes its lock for it now.
    const wake = newWorkWake(env, () => lrm.serviceStatus);
    if (wake === undefined) await env.sleep(env.timing.lockRetry);
    else await env.sleepUntilRoundEnd(env.roundStart(), env.timing.lockRetry, wake);
    return true;
  },
  async active(lrm) {
    const { env } = lrm;
    const round = env.roundStart();
    let shutdown = false;
    try {
      if (await updateServiceStatus(lrm)) {
        if (lrm.shutdownRequest) {
          if (lrm.mode === 'restart') {
            queueMoves(lrm);
            const workers = await runWorkers(lrm);
            const count = await protectedServiceCount(lrm, INACTIVE_STATES_ON_RESTART);
            if (count === 0 && workers === 0 && announced(lrm, 'restart')) {
              // Safe: nothing active and no worker left.
              await giveUpWatchdog(lrm);
              shutdown = true;
              // Restarting with no or only frozen services: let go of the lock.
              await env.releaseHaAgentLock();
            }
          } else if ((await runWorkers(lrm)) === 0) {
            if (lrm.shutdownErrors === 0) {
              // Safe: every service stopped and the LRM shuts down.
              await giveUpWatchdog(lrm);
              await env.releaseHaAgentLock();
            }
            shutdown = true;
          }
        } else if (!lrm.clusterStateUpdate) {
          // The lock renewed fine, so most likely a cfs restart; next round will do.
          env.log('notice', 'temporary inconsistent cluster state (cfs restart?), skip round');
        } else {
          await manageResources(lrm);
        }
      }
    } catch (err) {
      env.log('err', `got unexpected error - ${errorText(err)}`);
    }
    await updateLrmStatus(lrm);
    if (shutdown) return false;
    // Safe policy: work the master assigns meanwhile (a recovered service) starts now, not next round.
    await env.sleepUntilRoundEnd(round, env.timing.lrmRound, newWorkWake(env, () => lrm.serviceStatus));
    return true;
  },
  async lost_agent_lock(lrm) {
    const { env } = lrm;
    // The watchdog is about to fire; all that helps is getting the lock back.
    if (lrm.shutdownRequest) {
      const serviceCount = await protectedServiceCount(lrm);
      if (serviceCount > 0) {
        env.log('err', `got shutdown request in state 'lost_agent_lock' - detected ${serviceCount} running services`);
        if (lrm.mode === 'restart') {
          // The watchdog should have fired by now (or is set not to reboot).
          // A restart does not touch the services, so exiting is safe enough.
          const since = lrm.status.stateChangeTime ?? env.getTime();
          if (env.getTime() - since > LOST_LOCK_RESTART_GIVE_UP) {
            env.log('err', `lost agent lock and restart request for over ${LOST_LOCK_RESTART_GIVE_UP} seconds - giving up!`);
            return false;
          }
        }
      } else {
        // Safe: every service is stopped.
        await giveUpWatchdog(lrm);
        return false;
      }
    }
    await env.sleep(env.timing.lockRetry);
    return true;
  },
  async maintenance(lrm) {
    const { env } = lrm;
    const round = env.roundStart();
    // The reference ends the daemon when the status cannot be read here.
    if (!(await updateServiceStatus(lrm))) return false;

    let exit = false;
    if (activeServiceCount(lrm) === 0 && (await runWorkers(lrm)) === 0 && !(await inactiveGuestsHoldMaintenance(lrm))) {
      // Safe: in maintenance and every active service has moved away.
      await giveUpWatchdog(lrm);
      if (lrm.shutdownRequest) exit = true;
      // Only frozen services or none left: let go of the lock.
      await env.releaseHaAgentLock();
    }
    if (!exit) await manageResources(lrm);
    await updateLrmStatus(lrm);
    if (exit) return false;
    await env.sleepUntilRoundEnd(round, Math.min(MAINTENANCE_ROUND_SECONDS, env.timing.lrmRound));
    return true;
  },
};

async function work(lrm: Lrm): Promise<boolean> {
  const { env } = lrm;
  if (!lrm.process.wroteStatusAtStartup) {
    if (await updateLrmStatus(lrm)) {
      lrm.process.wroteStatusAtStartup = true;
    } else {
      await env.sleep(5);
      return !lrm.shutdownRequest;
    }
  }

  await updateServiceStatus(lrm);
  // Before anything else: a process resumed after a long pause must not act on its old lease.
  if (protectionLapsed(lrm)) await actAsFenced(lrm);
  const before = lrm.status.state;
  if (before === 'startup') throw new Error(`got unexpected status '${before}'`);
  await TRANSITIONS[before](lrm, isFenceRequested(lrm));
  // A renewal in the transition may have found the lease lapsed.
  if (protectionLapsed(lrm)) await actAsFenced(lrm);

  const state = lrm.status.state;
  if (state === 'startup') throw new Error(`got unexpected status '${state}'`);
  return WORK[state](lrm);
}

/** One iteration of the daemon loop; resolves false when the daemon should exit. */
export async function lrmIteration(lrm: Lrm): Promise<boolean> {
  const { env } = lrm;
  env.loopStartHook();
  lrm.clusterStateUpdate = await env.clusterStateUpdate();
  const result = await work(lrm);
  env.loopEndHook();
  return result;
}
