// The cluster resource manager daemon. Every node runs one; the one holding
// the cluster-wide manager lock is master and runs the manager rounds, the
// others wait as slaves. The master keeps a watchdog open while it may change
// the manager status, so a master cut off from the cluster resets itself
// before a new one takes over. A master that finds its lease lapsed (a paused
// process, no watchdog) may have been replaced: it leaves the master state
// without writing, and becomes master again only by taking the lock anew.
//
//   wait_for_quorum --(quorate, work to do, lock)--> master
//   wait_for_quorum --(quorate, work to do, no lock)--> slave --(lock)--> master
//   master --(lock lost)--> lost_manager_lock --> wait_for_quorum
//   master --(idle for long)--> wait_for_quorum

import type { HaEnv, ServiceConfigSnapshot, WatchdogHandle } from '../env/env.js';
import { errorText } from './errors.js';
import { isFullyDisarmed, manage } from './manager/round.js';
import { createManager, type Manager } from './manager/state.js';
import { isEmptyRecord } from './records.js';
import { fenceLockWake } from './round-wake.js';
import { countFencedServices } from './service-counts.js';
import { CRM_STATES, type CrmState, type ManagerStatus } from './types.js';

/**
 * Rounds (10 s each with the default timing) without any configured
 * service before the master gives up its lock and watchdog. 30 rounds
 * longer than the LRM's idle limit, so an LRM never waits for a master that
 * went idle before it.
 */
const MAX_ACTIVE_IDLE_ROUNDS = 90;

export interface CrmStatus {
  state: CrmState | 'startup';
  stateChangeTime?: number;
}

export interface Crm {
  readonly env: HaEnv;
  status: CrmStatus;
  manager?: Manager;
  /** Whether the cluster state could be refreshed at the start of this iteration. */
  clusterStateUpdate: boolean;
  activeIdleRounds: number;
  shutdownRequested: boolean;
  watchdog?: WatchdogHandle;
  /** The master gave up its watchdog because the whole stack is disarmed. */
  disarmed: boolean;
}

/** The CRM state machine's only setter: validates, logs `old => new`, stamps the time. */
async function setState(crm: Crm, state: CrmState): Promise<void> {
  if (!(CRM_STATES as readonly string[]).includes(state)) throw new Error(`invalid state '${state}'`);
  const old = crm.status.state;
  if (old === state) return;
  crm.env.log('info', `status change ${old} => ${state}`);
  crm.status = { state, stateChangeTime: crm.env.getTime() };
  // Whether the stack is disarmed is learnt anew by the next master term
  // (from the manager status, as it takes the lock): a stale flag would make
  // a master of an armed stack skip its watchdog.
  if (state !== 'master') crm.disarmed = false;
  // A manager lives exactly as long as the master state.
  crm.manager = state === 'master' ? await createManager(crm.env) : undefined;
}

export async function createCrm(env: HaEnv): Promise<Crm> {
  const crm: Crm = {
    env,
    status: { state: 'startup' },
    clusterStateUpdate: false,
    activeIdleRounds: 0,
    shutdownRequested: false,
    disarmed: false,
  };
  await setState(crm, 'wait_for_quorum');
  return crm;
}

export function requestCrmShutdown(crm: Crm): void {
  if (!crm.shutdownRequested) crm.env.log('info', 'server received shutdown request');
  crm.shutdownRequested = true;
}

/**
 * Takes or renews the manager lock, retrying for up to five seconds. Holding
 * it, the master keeps its watchdog fed — unless it takes over a fully
 * disarmed stack, where opening a watchdog would only risk a needless reset.
 */
async function getProtectedManagerLock(crm: Crm): Promise<boolean> {
  const { env } = crm;
  const start = env.getTime();
  for (let tries = 1; ; tries++) {
    if (await env.getHaManagerLock()) {
      // Renewed too late: another master may have run meanwhile.
      if (crm.watchdog !== undefined && env.leaseLapsed()) return false;
      if (crm.watchdog !== undefined) {
        await env.watchdogUpdate(crm.watchdog);
      } else if (!crm.disarmed) {
        const ms = await readManagerStatusOrUndefined(env);
        if (ms?.disarm?.state === 'disarmed') {
          env.log('info', 'taking over as disarmed master, skipping watchdog');
          crm.disarmed = true;
        } else {
          // A lease too old to arm on counts as no lock: a later round renews it.
          crm.watchdog = await env.watchdogOpen();
          if (crm.watchdog === undefined) return false;
        }
      }
      return true;
    }
    if (tries >= 6) break;
    if (env.getTime() - start > 5) break;
    await env.sleep(1);
  }
  return false;
}

async function readManagerStatusOrUndefined(env: HaEnv): Promise<Readonly<ManagerStatus> | undefined> {
  try {
    return await env.readManagerStatus();
  } catch {
    return undefined;
  }
}

/**
 * Closes the master's watchdog. Safe because the CRM runs no services: only
 * call it on the way out of the master state, after which the manager status
 * is not touched any more.
 */
async function giveUpWatchdog(crm: Crm): Promise<void> {
  if (crm.watchdog === undefined) return;
  await crm.env.watchdogClose(crm.watchdog);
  crm.watchdog = undefined;
}

async function readManagerStatusGuarded(env: HaEnv): Promise<Readonly<ManagerStatus> | undefined> {
  try {
    return await env.readManagerStatus();
  } catch (err) {
    env.log('err', `could not read manager status: ${errorText(err)}`);
    return undefined;
  }
}

async function isClusterAndHaHealthy(crm: Crm, ms: Readonly<ManagerStatus> | undefined): Promise<boolean> {
  const { env } = crm;
  if (!(await env.quorate())) return false;
  // No active work with an inconsistent cluster state.
  if (!crm.clusterStateUpdate) return false;
  if (ms === undefined) return false;
  // Services may wait to be fenced even with an empty service config.
  if (countFencedServices(ms.service_status ?? {}, env.nodename) > 0) return false;
  return true;
}

/** The configured services; undefined, logged, when the config cannot be read. */
async function configuredServices(env: HaEnv): Promise<ServiceConfigSnapshot['services'] | undefined> {
  try {
    return (await env.readServiceConfig()).services;
  } catch (err) {
    env.log('err', `could not read service config: ${errorText(err)}`);
    return undefined;
  }
}

/**
 * Whether this node may become (or stay) master: quorate, healthy, and with
 * work to do — configured services, or else a node to take out of
 * maintenance, pending commands, stale status to clean or a disarmed stack.
 */
async function canGetActive(crm: Crm, allowNoService = false): Promise<boolean> {
  const { env } = crm;
  const ms = await readManagerStatusGuarded(env);
  if (!(await isClusterAndHaHealthy(crm, ms)) || ms === undefined) return false;
  if (allowNoService) return true;

  const services = await configuredServices(env);
  if (services === undefined) return false;
  if (!isEmptyRecord(services)) return true;

  const master = ms.master_node;
  const nodeStatus = ms.node_status ?? {};
  if (!master || nodeStatus[master] !== 'online' || master === env.nodename) {
    for (const node of Object.keys(nodeStatus)) {
      if (nodeStatus[node] !== 'maintenance') continue;
      if (!ms.node_request?.[node]?.maintenance) return true;
    }
    if (await env.anyPendingCrmCommand()) return true;
    if (!isEmptyRecord(ms.service_status ?? {})) return true;
    if (ms.disarm) return true;
  }
  return false;
}

/** Safe to go idle: healthy, armed, no services configured and no stale status left. */
async function allowedToGetIdle(crm: Crm): Promise<boolean> {
  const { env } = crm;
  const ms = await readManagerStatusGuarded(env);
  if (!(await isClusterAndHaHealthy(crm, ms)) || ms === undefined) return false;
  if (ms.disarm) return false;

  const services = await configuredServices(env);
  if (services === undefined || !isEmptyRecord(services)) return false;
  return isEmptyRecord(ms.service_status ?? {});
}

type Transition = (crm: Crm) => Promise<void>;

const TRANSITIONS: Readonly<Record<CrmState, Transition>> = {
  async wait_for_quorum(crm) {
    if (!(await canGetActive(crm))) return;
    await setState(crm, (await getProtectedManagerLock(crm)) ? 'master' : 'slave');
  },
  async slave(crm) {
    if (await canGetActive(crm)) {
      if (await getProtectedManagerLock(crm)) await setState(crm, 'master');
    } else {
      await setState(crm, 'wait_for_quorum');
    }
  },
  async lost_manager_lock(crm) {
    if ((await canGetActive(crm, true)) && (await getProtectedManagerLock(crm))) await setState(crm, 'master');
  },
  async master(crm) {
    const { env } = crm;
    if (env.leaseLapsed()) {
      env.log('crit', 'manager lock lease lapsed before it was renewed - leaving the master state without writing the manager status');
      await setState(crm, 'lost_manager_lock');
    } else if (!(await getProtectedManagerLock(crm))) {
      await setState(crm, 'lost_manager_lock');
    } else if (await allowedToGetIdle(crm)) {
      crm.activeIdleRounds += 1;
      if (crm.activeIdleRounds > MAX_ACTIVE_IDLE_ROUNDS) {
        crm.activeIdleRounds = 0;
        env.log('info', `cluster had no service configured for ${MAX_ACTIVE_IDLE_ROUNDS} rounds, going idle.`);
        await env.releaseHaManagerLock();
        // Leave the master state right away: the manager status is no longer ours.
        await giveUpWatchdog(crm);
        await setState(crm, 'wait_for_quorum');
      }
    } else if (crm.activeIdleRounds > 0) {
      crm.activeIdleRounds = 0;
    }
  },
};

/** The work of one iteration in the current state; false ends the daemon. */
type Work = (crm: Crm) => Promise<boolean>;

const WORK: Readonly<Record<CrmState, Work>> = {
  async wait_for_quorum(crm) {
    if (crm.shutdownRequested) return false;
    await crm.env.sleep(crm.env.timing.lockRetry);
    return true;
  },
  async slave(crm) {
    return !crm.shutdownRequested;
  },
  async lost_manager_lock(crm) {
    // Not touching the manager status any more, now or in the next state.
    await giveUpWatchdog(crm);
    if (crm.shutdownRequested) return false;
    await setState(crm, 'wait_for_quorum');
    return true;
  },
  async master(crm) {
    const { env } = crm;
    const manager = crm.manager;
    if (manager === undefined) throw new Error('no manager');
    const start = env.roundStart();
    let shutdown = false;
    try {
      if (crm.shutdownRequested) {
        // Leaving the master state for good: the status won't change again.
        await giveUpWatchdog(crm);
        // Releasing the lock lets a slave take over without waiting for it to time out.
        env.log('info', 'voluntary release CRM lock');
        if (!(await env.releaseHaManagerLock())) env.log('notice', 'CRM lock release failed, let the lock timeout');
        shutdown = true;
      } else if (!crm.clusterStateUpdate) {
        // The lock renewed fine, so this is most likely a cfs restart; next round will do.
        env.log('notice', 'temporary inconsistent cluster state (cfs restart?), skip round');
      } else {
        await manage(env, manager);
        if (isFullyDisarmed(manager)) {
          if (!crm.disarmed) {
            env.log('info', 'HA stack fully disarmed, releasing CRM watchdog');
            await giveUpWatchdog(crm);
            crm.disarmed = true;
          }
        } else if (crm.disarmed) {
          env.log('info', 're-arming HA stack');
          // The next lock renewal opens the watchdog again.
          crm.disarmed = false;
        }
      }
    } catch (err) {
      env.log('err', `got unexpected error - ${errorText(err)}`);
    }
    if (shutdown) return false;
    // Safe policy: a node waiting for its agent lock to expire is fenced once it does, not a round later.
    await env.sleepUntilRoundEnd(start, env.timing.crmRound, fenceLockWake(env, manager.ns));
    return true;
  },
};

async function work(crm: Crm): Promise<boolean> {
  const before = crm.status.state;
  if (before === 'startup') throw new Error(`got unexpected status '${before}'`);
  await TRANSITIONS[before](crm);
  const state = crm.status.state;
  if (state === 'startup') throw new Error(`got unexpected status '${state}'`);
  return WORK[state](crm);
}

/** One iteration of the daemon loop; resolves false when the daemon should exit. */
export async function crmIteration(crm: Crm): Promise<boolean> {
  const { env } = crm;
  env.loopStartHook();
  crm.clusterStateUpdate = await env.clusterStateUpdate();
  const result = await work(crm);
  env.loopEndHook();
  return result;
}
