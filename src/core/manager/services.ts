// The service state machine: one step function per service state, run by the
// master every round for every service. A step reads the service's config
// (`cd`), its status entry (`sd`) and the LRM's result for the entry's
// current uid, and changes state only through changeServiceState.

import type { HaEnv } from '../../env/env.js';
import {
  isNodeOfflineDelayed,
  isNodeOnline,
  nodeState,
} from '../node-status.js';
import { selectServiceNode, type NodePreference } from '../placement/select-node.js';
import {
  EXIT,
  type ReportedLrmMode,
  type LrmResult,
  type NodeName,
  type ServiceConfig,
  type ServiceState,
  type ServiceStatusEntry,
  type Sid,
} from '../types.js';
import { leadingNumber } from '../format.js';
import { splitSid } from '../sid.js';
import { changeServiceState, usageOf, type Manager } from './state.js';
import { awaitsAgentLock } from './unprotected.js';

/** A service's config as one round of the manager sees it (a private copy). */
export type RoundServiceConfig = ServiceConfig;

export interface StepContext {
  env: HaEnv;
  m: Manager;
  lrmModes: Readonly<Record<NodeName, ReportedLrmMode>>;
}

type Step = (
  ctx: StepContext,
  sid: Sid,
  cd: RoundServiceConfig,
  sd: ServiceStatusEntry,
  lrmResult: LrmResult | undefined,
) => Promise<void> | void;

/** Locks that only protect a node's local state, so fencing the node makes them stale. */
const LOCKS_REMOVABLE_AFTER_FENCING = [
  'backup',
  'mounted',
  'migrate',
  'clone',
  'rollback',
  'snapshot',
  'snapshot-delete',
  'suspending',
  'suspended',
] as const;

function requestedRunState(cd: RoundServiceConfig): 'started' | 'request_stop' {
  return cd.state === 'started' ? 'started' : 'request_stop';
}

/**
 * Whether a service on `node` must now be fenced: its node has been away for
 * the fence delay. Under the safe policy not while the node's LRM may have
 * left guests running without its lock (unprotected.ts).
 */
function fenceDue(ctx: StepContext, node: NodeName): boolean {
  return isNodeOfflineDelayed(ctx.env, ctx.m.ns, node) && !awaitsAgentLock(ctx.env, ctx.m, node);
}

function selectNode(ctx: StepContext, sid: Sid, cd: RoundServiceConfig, preference: NodePreference): NodeName | undefined {
  const { m } = ctx;
  if (m.compiledRules === undefined) throw new Error('rules not compiled yet');
  return selectServiceNode(m.compiledRules, usageOf(m), sid, cd, m.ss, preference);
}

function stepRequestStop(ctx: StepContext, sid: Sid, _cd: RoundServiceConfig, sd: ServiceStatusEntry, lrmResult: LrmResult | undefined): void {
  const { env, m } = ctx;
  if (lrmResult !== undefined) {
    if (lrmResult.exit_code === EXIT.SUCCESS) {
      changeServiceState(env, m, sid, 'stopped');
    } else {
      env.log('err', `service '${sid}' stop failed (exit code ${lrmResult.exit_code})`);
      changeServiceState(env, m, sid, 'error');
    }
    return;
  }
  if (fenceDue(ctx, sd.node)) changeServiceState(env, m, sid, 'fence');
}

/** migrate, relocate and request_start_balance: wait for the LRM to move the service. */
function stepMoving(ctx: StepContext, sid: Sid, cd: RoundServiceConfig, sd: ServiceStatusEntry, lrmResult: LrmResult | undefined): void {
  const { env, m } = ctx;
  if (lrmResult !== undefined) {
    const exitCode = lrmResult.exit_code;
    const reqState = requestedRunState(cd);
    if (exitCode === EXIT.SUCCESS) {
      changeServiceState(env, m, sid, reqState, { node: sd.target });
      return;
    } else if (exitCode === EXIT.EWRONG_NODE) {
      env.log('err', `service '${sid}' - migration failed: service registered on wrong node!`);
      changeServiceState(env, m, sid, 'error');
    } else if (exitCode === EXIT.IGNORED) {
      env.log('info', `service '${sid}' - rebalance-on-start request ignored - service already running`);
      changeServiceState(env, m, sid, reqState, { node: sd.node });
    } else {
      env.log('err', `service '${sid}' - migration failed (exit code ${exitCode})`);
      changeServiceState(env, m, sid, reqState, { node: sd.node });
      return;
    }
  }
  if (fenceDue(ctx, sd.node)) changeServiceState(env, m, sid, 'fence');
}

/**
 * Carries out a queued migrate or relocate request, unless its target is not
 * online or already the service's node (those are logged and dropped).
 * `announce` logs the move first, as the reference does for running services.
 * True when the service changed state.
 */
function startMove(
  ctx: StepContext,
  sid: Sid,
  sd: ServiceStatusEntry,
  cmd: 'migrate' | 'relocate',
  target: NodeName,
  announce: boolean,
): boolean {
  const { env, m } = ctx;
  if (!isNodeOnline(m.ns, target)) {
    env.log('err', `ignore service '${sid}' ${cmd} request - node '${target}' not online`);
    return false;
  }
  if (sd.node === target) {
    env.log('info', `ignore service '${sid}' ${cmd} request - service already on node '${target}'`);
    return false;
  }
  if (announce) env.log('info', `${cmd} service '${sid}' to node '${target}'`);
  changeServiceState(env, m, sid, cmd, { node: sd.node, target });
  return true;
}

function stepStopped(ctx: StepContext, sid: Sid, cd: RoundServiceConfig, sd: ServiceStatusEntry): void {
  const { env, m } = ctx;
  const ns = m.ns;

  if (sd.node !== cd.node) {
    // A node fenced in the middle of a migration leaves the config ahead of
    // the status. A service without config (deleted while disarmed) has no
    // node at all here: the reference logs an empty one and drops it.
    env.log('info', `fixup service '${sid}' location (${sd.node} => ${cd.node ?? ''})`);
    sd.node = cd.node;
  }

  if (sd.cmd !== undefined) {
    const [cmd, arg] = sd.cmd;
    if (cmd === 'migrate' || cmd === 'relocate') {
      if (startMove(ctx, sid, sd, cmd, arg, false)) return;
    } else if (cmd === 'stop') {
      env.log('info', `ignore service '${sid}' ${cmd} request - service already stopped`);
    } else {
      env.log('err', `unknown command '${String(cmd)}' for service '${sid}'`);
    }
    delete sd.cmd;
  }

  // Disabled: the LRM keeps stopping it even without a master; nothing to decide.
  if (cd.state === 'disabled') return;

  if (isNodeOfflineDelayed(env, m.ns, sd.node) && nodeState(ns, sd.node) !== 'maintenance' && !awaitsAgentLock(env, m, sd.node)) {
    changeServiceState(env, m, sid, 'fence');
    return;
  }

  // Stopped: like disabled, but still recovered when its node fails.
  if (cd.state === 'stopped') return;

  if (cd.state === 'started') {
    changeServiceState(env, m, sid, 'request_start', { node: sd.node });
    return;
  }

  env.log('err', `service '${sid}' - unknown state '${cd.state}' in service configuration`);
}

function stepRequestStart(ctx: StepContext, sid: Sid, cd: RoundServiceConfig, sd: ServiceStatusEntry): void {
  const { env, m } = ctx;
  const currentNode = sd.node;

  if (m.crs.rebalanceOnRequestStart) {
    const selected = selectNode(ctx, sid, cd, 'best-score');
    const which = selected !== currentNode ? 'new' : 'current';
    env.log('info', `service ${sid}: re-balance selected ${which} node ${String(selected ?? '')} for startup`);
    if (selected !== currentNode) {
      changeServiceState(env, m, sid, 'request_start_balance', { node: currentNode, target: selected });
      return;
    }
  }

  changeServiceState(env, m, sid, 'started', { node: currentNode });
}

function recordServiceFailedOnNode(sd: ServiceStatusEntry, node: NodeName): void {
  sd.failed_nodes = [...(sd.failed_nodes ?? []), node];
}

/**
 * Synchronous unless a stop request must update the config: the master runs
 * this for every started service every pass, and an await costs each time.
 */
function stepStarted(
  ctx: StepContext,
  sid: Sid,
  cd: RoundServiceConfig,
  sd: ServiceStatusEntry,
  lrmResult: LrmResult | undefined,
): Promise<void> | undefined {
  const { env, m } = ctx;
  const ns = m.ns;

  if (!isNodeOnline(ns, sd.node)) {
    if (fenceDue(ctx, sd.node)) changeServiceState(env, m, sid, 'fence');
    if (nodeState(ns, sd.node) !== 'maintenance') return;
    // Remember where to return once the node leaves maintenance.
    sd.maintenance_node = sd.node;
  }

  if (cd.state === 'disabled' || cd.state === 'stopped') {
    changeServiceState(env, m, sid, 'request_stop');
    return;
  }

  if (cd.state !== 'started') {
    env.log('err', `service '${sid}' - unknown state '${cd.state}' in service configuration`);
    return;
  }

  if (sd.cmd !== undefined) {
    const [cmd, arg] = sd.cmd;
    let configUpdate: Promise<void> | undefined;
    if (cmd === 'migrate' || cmd === 'relocate') {
      startMove(ctx, sid, sd, cmd, arg, true);
    } else if (cmd === 'stop') {
      const timeout = arg;
      if (leadingNumber(timeout) === 0) {
        env.log('info', `request immediate service hard-stop for service '${sid}'`);
      } else {
        env.log('info', `request graceful stop with timeout '${timeout}' for service '${sid}'`);
      }
      changeServiceState(env, m, sid, 'request_stop', { timeout });
      configUpdate = env.updateServiceConfig({ [sid]: { param: { state: 'stopped' } } });
    } else {
      env.log('err', `unknown command '${String(cmd)}' for service '${sid}'`);
    }
    delete sd.cmd;
    return configUpdate;
  }

  let preference: NodePreference = 'none';

  if (lrmResult !== undefined) {
    const ec = lrmResult.exit_code;
    if (ec === EXIT.SUCCESS) {
      if (sd.failed_nodes !== undefined) {
        env.log(
          'info',
          `relocation policy successful for '${sid}' on node '${sd.node}', failed nodes: ${sd.failed_nodes.join(', ')}`,
        );
      }
      delete sd.failed_nodes;
      // Only meaningful while in 'started': the LRM confirmed the start.
      sd.running = 1;
    } else if (ec === EXIT.ERROR || ec === EXIT.EWRONG_NODE) {
      delete sd.running;
      recordServiceFailedOnNode(sd, sd.node);
      const failedNodes = sd.failed_nodes ?? [];
      if (failedNodes.length <= cd.max_relocate) {
        preference = 'try-next';
        env.log('warning', `starting service ${sid} on node '${sd.node}' failed, relocating service.`);
      } else {
        env.log(
          'err',
          `recovery policy for service ${sid} failed, entering error state. Failed nodes: ${failedNodes.join(', ')}`,
        );
        changeServiceState(env, m, sid, 'error');
        return;
      }
    } else {
      recordServiceFailedOnNode(sd, sd.node);
      env.log('err', `service '${sid}' got unrecoverable error (exit code ${ec})`);
      // No safe way out of other errors yet.
      changeServiceState(env, m, sid, 'error');
      return;
    }
  }

  const node = selectNode(ctx, sid, cd, preference);

  if (node !== undefined && sd.node !== node) {
    const fallback = sd.maintenance_node;
    if (fallback !== undefined) {
      if (node === fallback) {
        env.log('info', `moving service '${sid}' back to '${fallback}', node came back from maintenance.`);
        delete sd.maintenance_node;
      } else if (sd.node !== fallback) {
        env.log('info', `dropping maintenance fallback node '${fallback}' for '${sid}'`);
        delete sd.maintenance_node;
      }
    }
    if (cd.type === 'vm') {
      env.log('info', `migrate service '${sid}' to node '${node}' (running)`);
      changeServiceState(env, m, sid, 'migrate', { node: sd.node, target: node });
    } else {
      env.log('info', `relocate service '${sid}' to node '${node}'`);
      changeServiceState(env, m, sid, 'relocate', { node: sd.node, target: node });
    }
    return;
  }

  if (preference === 'try-next' && node === undefined) {
    env.log(
      'warning',
      `Start Error Recovery: Tried all available nodes for service '${sid}', retry start on current node. Tried nodes: ${(sd.failed_nodes ?? []).join(', ')}`,
    );
  }

  if (sd.maintenance_node !== undefined && sd.node === sd.maintenance_node && nodeState(ns, sd.node) === 'online') {
    // The service never left its maintenance node (the whole cluster went
    // down together under the migrate policy, say): the fallback is stale.
    env.log('info', `service '${sid}': clearing stale maintenance node '${sd.maintenance_node}' setting (is current node)`);
    delete sd.maintenance_node;
  }

  // A fresh uid makes the LRM start the service again should it have died,
  // without losing the result just processed.
  if (lrmResult !== undefined) sd.uid = env.newUid();
}

function stepError(ctx: StepContext, sid: Sid, cd: RoundServiceConfig, sd: ServiceStatusEntry): void {
  if (cd.state === 'disabled') {
    delete sd.failed_nodes;
    changeServiceState(ctx.env, ctx.m, sid, 'stopped');
  }
}

/** After its node was fenced, moves the service to a new node. */
async function stepRecovery(
  ctx: StepContext,
  sid: Sid,
  cd: RoundServiceConfig,
  sd: ServiceStatusEntry,
  _lrmResult: LrmResult | undefined,
  sc: Record<Sid, RoundServiceConfig>,
): Promise<void> {
  const { env, m } = ctx;
  const fencedNode = sd.node;

  if (env.policy === 'safe' && cd.node !== undefined && cd.node !== fencedNode) {
    // The config left the fenced node while the service waited: a migration
    // finished as its source failed, or an admin moved it by hand. The guest
    // lives where the config is now, a node nobody fenced, so there is
    // nothing to recover: "recovering" it from there would start a second
    // copy, and stealing the config from the fenced node fails (the
    // reference's error then ends every manager round). It goes on in its
    // requested state on its config's node, which is fenced in turn if it
    // is away too.
    env.log('info', `service '${sid}': config moved from fenced node '${fencedNode}' to '${cd.node}', continuing there instead of recovering it`);
    changeServiceState(env, m, sid, requestedRunState(cd), { node: cd.node });
    return;
  }

  const recoveryNode = selectNode(ctx, sid, cd, 'best-score');

  if (recoveryNode !== undefined) {
    const msg =
      recoveryNode === fencedNode
        ? `recover service '${sid}' to previous failed and fenced node '${fencedNode}' again`
        : `recover service '${sid}' from fenced node '${fencedNode}' to node '${recoveryNode}'`;
    env.log('info', msg);

    await removeLeftoverLocks(env, sid, fencedNode);
    await env.stealService(sid, sd.node, recoveryNode);

    sc[sid] = { ...cd, node: recoveryNode };
    sd.node = recoveryNode;
    changeServiceState(env, m, sid, requestedRunState(cd), { node: recoveryNode });
    return;
  }

  env.log('err', `recovering service '${sid}' from fenced node '${fencedNode}' failed, no recovery node found`);
  if (cd.state === 'disabled') {
    // Lets an admin take a service out of recovery by disabling it; it must
    // not pass through request_stop, whose node is gone.
    delete sd.failed_nodes;
    changeServiceState(env, m, sid, 'stopped');
  }
}

async function removeLeftoverLocks(env: HaEnv, sid: Sid, fencedNode: NodeName): Promise<void> {
  const { type, name } = splitSid(sid);
  const driver = env.resourceDriver(type);
  if (driver === undefined) throw new Error(`unknown resource type '${type}'`);
  const removed = await driver.removeLocks(name, LOCKS_REMOVABLE_AFTER_FENCING, fencedNode);
  if (removed !== undefined) {
    env.log('warning', `removed leftover lock '${removed}' from recovered service '${sid}' to allow its start.`);
  }
}

function stepFreeze(ctx: StepContext, sid: Sid, cd: RoundServiceConfig, sd: ServiceStatusEntry): void {
  const mode = ctx.lrmModes[sd.node];
  if (mode === 'active') {
    changeServiceState(ctx.env, ctx.m, sid, cd.state === 'started' ? 'started' : 'request_stop');
  }
}

type StepWithConfig = (
  ctx: StepContext,
  sid: Sid,
  cd: RoundServiceConfig,
  sd: ServiceStatusEntry,
  lrmResult: LrmResult | undefined,
  sc: Record<Sid, RoundServiceConfig>,
) => Promise<void> | void;

/** One step per state; `fence` waits for the fencing pass of the round. */
export const SERVICE_STEPS: Readonly<Record<ServiceState, Step | StepWithConfig>> = {
  stopped: stepStopped,
  started: stepStarted,
  request_start: stepRequestStart,
  request_start_balance: stepMoving,
  migrate: stepMoving,
  relocate: stepMoving,
  fence: () => undefined,
  recovery: stepRecovery,
  request_stop: stepRequestStop,
  freeze: stepFreeze,
  error: stepError,
};

/** States a restarting LRM's services are frozen from. */
export const FREEZABLE_ON_RESTART: ReadonlySet<ServiceState> = new Set(['started', 'stopped', 'request_stop']);
