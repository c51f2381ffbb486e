// One manager round: refresh node states, take in config changes and user
// commands, run every service's state machine until nothing changes any
// more, fence what must be fenced, and publish the result.

import type { ClusterServiceStats, HaEnv } from '../../env/env.js';
import {
  fenceNode,
  hasNodeListChanged,
  isNodeOperational,
  listNodes,
  listOnlineNodes,
  nodeState,
  updateNodeStatus,
} from '../node-status.js';
import { createBasicUsage, type OnlineNodeUsage } from '../placement/usage.js';
import { createDynamicUsage, createStaticUsage } from '../placement/usage-scheduled.js';
import { compileRules, migrateGroupsToResources, migrateGroupsToRules, transformRules } from '../rules/index.js';
import {
  SERVICE_STATES,
  type ReportedLrmMode,
  type LrmResult,
  type LrmStatus,
  type NodeName,
  type ServiceConfig,
  type ServiceState,
  type Sid,
} from '../types.js';
import { handleDisarm } from './disarm.js';
import { loadBalance } from './balance.js';
import { updateCrmCommands } from './commands.js';
import { errorText } from '../errors.js';
import { tryPersistentGroupMigration } from './group-migration.js';
import { FREEZABLE_ON_RESTART, SERVICE_STEPS, type StepContext } from './services.js';
import { changeServiceState, flushMasterStatus, sortedSids, updateCrsSchedulerMode, type Manager } from './state.js';
import { updateUnprotectedNodes } from './unprotected.js';

/** Reads every known node's LRM status: all results by uid, each node's mode, and the statuses. */
async function readLrmStatus(
  env: HaEnv,
  m: Manager,
): Promise<{ results: Map<string, LrmResult>; modes: Record<NodeName, ReportedLrmMode>; statuses: Map<NodeName, Readonly<LrmStatus>> }> {
  const results = new Map<string, LrmResult>();
  const modes: Record<NodeName, ReportedLrmMode> = {};
  const statuses = new Map<NodeName, Readonly<LrmStatus>>();
  for (const node of listNodes(m.ns)) {
    const status = await env.readLrmStatus(node);
    statuses.set(node, status);
    modes[node] = status.mode || 'active';
    for (const [uid, result] of Object.entries(status.results ?? {})) {
      if (!results.has(uid)) results.set(uid, result);
    }
  }
  return { results, modes, statuses };
}

/**
 * Rebuilds the usage of the online nodes from scratch: every HA service by
 * its state, plus every other guest the stats know of. Falls back to basic
 * mode, with a warning, when the chosen mode lacks information.
 */
async function recomputeOnlineNodeUsage(env: HaEnv, m: Manager): Promise<void> {
  const onlineNodes = listOnlineNodes(m.ns);
  let serviceStats: Record<Sid, ClusterServiceStats> | undefined;
  let usage: OnlineNodeUsage | undefined;

  const mode = m.crs.scheduler;
  if (mode === 'static' || mode === 'dynamic') {
    try {
      serviceStats = await env.getServiceStats(mode);
      let nodeStats;
      try {
        nodeStats = await env.getNodeStats(mode);
      } catch (err) {
        throw new Error(`did not get ${mode} node usage information - ${errorText(err)}`);
      }
      usage =
        mode === 'static'
          ? createStaticUsage(env, serviceStats, nodeStats, onlineNodes)
          : createDynamicUsage(env, serviceStats, nodeStats, onlineNodes);
    } catch (err) {
      usage = undefined;
      env.log('warning', `fallback to 'basic' scheduler mode, init for '${mode}' failed - ${errorText(err)}`);
    }
  } else if (mode !== undefined && mode !== 'basic') {
    env.log('warning', `got unknown scheduler mode '${mode}', using 'basic'`);
  }

  if (usage === undefined) {
    serviceStats = await env.getServiceStats('basic');
    usage = createBasicUsage(onlineNodes);
  }

  for (const sid of sortedSids(m)) usage.addServiceUsage(sid, m.ss[sid]);

  // Guests not managed by HA load their nodes too; where they go is unknown.
  const stats = serviceStats ?? {};
  for (const sid of Object.keys(stats).sort()) {
    if (m.ss[sid] !== undefined) continue;
    const { node, state, running } = stats[sid];
    // Their state is the requested one; only 'started' (and 'stopped') mean
    // anything to the accounting, other requests load no node.
    if (!isServiceState(state)) continue;
    usage.addServiceUsage(sid, { node, state, ...(running ? { running: 1 as const } : {}) });
  }

  m.onlineNodeUsage = usage;
}

function addAndRemoveServices(env: HaEnv, m: Manager, sc: Readonly<Record<Sid, ServiceConfig>>): void {
  for (const sid of Object.keys(sc).sort()) {
    if (m.ss[sid] !== undefined) continue;
    const cd = sc[sid];
    if (cd.state === 'ignored') continue;
    env.log('info', `adding new service '${sid}' on node '${cd.node}'`);
    // Assume it runs where it is configured, so adding it never moves it.
    m.ss[sid] = { state: cd.state === 'started' ? 'request_start' : 'request_stop', node: cd.node, uid: env.newUid() };
    m.serviceChangedAt[sid] = env.getTime();
    m.sortedSids = undefined;
  }

  for (const sid of sortedSids(m)) {
    const cd = sc[sid];
    if (cd !== undefined && cd.state !== 'ignored') continue;
    const reason = cd !== undefined ? 'ignored state requested' : 'no config';
    env.log('info', `removing stale service '${sid}' (${reason})`);
    delete m.ss[sid];
    delete m.serviceChangedAt[sid];
    m.sortedSids = undefined;
  }
}

export async function manage(env: HaEnv, m: Manager): Promise<void> {
  const { ms, ns, ss } = m;

  const membership = await env.getNodeInfo();
  const nodeListChanged = hasNodeListChanged(ns, membership);
  const { results: lrmResults, modes: lrmModes, statuses: lrmStatuses } = await readLrmStatus(env, m);

  updateNodeStatus(env, ns, membership, lrmModes);

  if (!isNodeOperational(ns, env.nodename)) {
    env.log('info', 'master seems offline');
    return;
  }

  // Safe policy: before this round's commands, so a re-arm counts from the next round.
  updateUnprotectedNodes(env, m, lrmStatuses, lrmModes);

  await updateCrsSchedulerMode(env, m);
  await tryPersistentGroupMigration(env, m);

  const { services, digest: servicesDigest } = await env.readServiceConfig();
  // This round's own view: group settings and recoveries are applied to it,
  // so the entries they change are copied; the others stay shared.
  const sc = { ...services } as Record<Sid, ServiceConfig>;
  for (const sid in sc) if (sc[sid].group !== undefined) sc[sid] = { ...sc[sid] };

  // A private copy: the group migration below may add to it.
  m.groups = structuredClone(await env.readGroupConfig());

  // While disarmed, the disarm handling owns the service status.
  if (!ms.disarm) addAndRemoveServices(env, m, sc);

  await recomputeOnlineNodeUsage(env, m);

  const rules = await env.readRulesConfig();
  migrateGroupsToResources(m.groups, sc);

  if (
    m.compiledRules === undefined ||
    nodeListChanged ||
    rules.digest !== m.lastRulesDigest ||
    m.groups.digest !== m.lastGroupsDigest ||
    (servicesDigest !== undefined && servicesDigest !== '' && servicesDigest !== m.lastServicesDigest)
  ) {
    migrateGroupsToRules(rules, m.groups, sc);
    const nodes = listNodes(ns);
    for (const message of transformRules(rules, nodes)) env.log('info', message);
    m.compiledRules = compileRules(rules, nodes);
    m.lastRulesDigest = rules.digest;
    m.lastGroupsDigest = m.groups.digest;
    m.lastServicesDigest = servicesDigest;
  }

  await updateCrmCommands(env, m);

  let deferred: Set<Sid> | undefined;
  if (ms.disarm) {
    deferred = await handleDisarm(env, m, ms.disarm, lrmModes);
    if (deferred === undefined) return;
  } else {
    // A deferred disarm must not start new migrations, so balance only when armed.
    loadBalance(env, m);
  }

  m.allLrmsDisarmed = false;

  const ctx: StepContext = { env, m, lrmModes };
  for (;;) {
    let repeat = false;

    for (const sid of sortedSids(m)) {
      if (deferred !== undefined && !deferred.has(sid)) continue;
      const sd = ss[sid];
      if (sd === undefined) continue;
      const cd: ServiceConfig = sc[sid] ?? DISABLED_PLACEHOLDER;
      const lrmResult = sd.uid !== undefined ? lrmResults.get(sd.uid) : undefined;
      const lastState = sd.state;

      // Most steps are synchronous; only wait for those that did I/O.
      try {
        const pending: unknown = SERVICE_STEPS[lastState](ctx, sid, cd, sd, lrmResult, sc);
        if (pending instanceof Promise) await pending;
      } catch (err) {
        // The reference lets one service's failure (a recovery whose config
        // moved away, say) end the round before anything is published, every
        // round: nothing else in the cluster moves any more. The safe policy
        // logs it, leaves that service as it is and goes on with the others.
        if (env.policy !== 'safe') throw err;
        env.log('err', `service '${sid}': ${lastState} step failed, leaving it as it is this round - ${errorText(err)}`);
      }

      if (lrmModes[sd.node] === 'restart' && FREEZABLE_ON_RESTART.has(sd.state)) {
        changeServiceState(env, m, sid, 'freeze');
      }

      if (sd.state !== lastState) repeat = true;
    }

    const fenced = new Map<NodeName, boolean>();
    for (const sid of sortedSids(m)) {
      const sd = ss[sid];
      if (sd.state !== 'fence') continue;
      let acknowledged = fenced.get(sd.node);
      if (acknowledged === undefined) {
        acknowledged = await fenceNode(env, ns, sd.node);
        fenced.set(sd.node, acknowledged);
      }
      if (!acknowledged) continue;
      changeServiceState(env, m, sid, 'recovery');
      repeat = true; // recover right away
    }

    // A node left in 'fence' without services to fence (an admin removed
    // them, say) would otherwise stay there forever.
    for (const node of Object.keys(ns.status).sort()) {
      if (fenced.has(node) || nodeState(ns, node) !== 'fence') continue;
      env.log('notice', `node '${node}' in fence state but no services to-fence! admin interference?!`);
      if (await fenceNode(env, ns, node)) repeat = true;
    }

    if (!repeat) break;
  }

  await flushMasterStatus(env, m);
}

/**
 * Config stand-in for a service in the status but not in the config
 * (deleted while disarmed, say): disabled, and without any of the config's
 * other settings — not even a node, as in the reference; the stopped step
 * then drops the status's node, and the next round removes the service.
 */
const DISABLED_PLACEHOLDER = Object.freeze({
  type: '',
  name: '',
  node: undefined as unknown as NodeName,
  state: 'disabled',
  failback: false,
  max_restart: 0,
  max_relocate: 0,
}) as ServiceConfig;

function isServiceState(state: string): state is ServiceState {
  return (SERVICE_STATES as readonly string[]).includes(state);
}

export function isFullyDisarmed(m: Manager): boolean {
  return m.allLrmsDisarmed;
}
