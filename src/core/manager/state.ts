// The master's working state for one term as manager, and the service state
// machine's single setter.

import type { HaEnv } from '../../env/env.js';
import { isPerlTrue } from '../format.js';
import type { CompiledRules, GroupsConfig } from '../rules/types.js';
import { createNodeStatus, type NodeStatus } from '../node-status.js';
import type { OnlineNodeUsage } from '../placement/usage.js';
import {
  SERVICE_STATES,
  type DisarmStatus,
  type ManagerStatus,
  type NodeName,
  type NodeRequest,
  type ServiceState,
  type ServiceStatusEntry,
  type Sid,
} from '../types.js';

export type SchedulerMode = 'basic' | 'static' | 'dynamic' | string;
export type RebalanceMethod = 'bruteforce' | 'topsis' | string;

export interface CrsSettings {
  scheduler?: SchedulerMode;
  rebalanceOnRequestStart: boolean;
  autoRebalance: {
    enable: boolean;
    threshold: number;
    method: RebalanceMethod;
    holdDuration: number;
    margin: number;
  };
}

/** The parts of manager_status the master owns beyond node and service status. */
export interface MasterStatus {
  master_node: NodeName;
  node_request?: Record<NodeName, NodeRequest>;
  disarm?: DisarmStatus;
  /** Safe policy only: nodes not to be fenced yet (unprotected.ts). */
  unprotected_nodes?: NodeName[];
}

export interface Manager {
  ms: MasterStatus;
  ns: NodeStatus;
  /** Service status, written to manager_status as `service_status`. */
  ss: Record<Sid, ServiceStatusEntry>;
  /** When each service last changed state (in memory only). */
  serviceChangedAt: Record<Sid, number>;
  crs: CrsSettings;
  compiledRules?: CompiledRules;
  groups?: GroupsConfig;
  lastRulesDigest: string;
  lastGroupsDigest: string;
  lastServicesDigest: string | undefined;
  onlineNodeUsage?: OnlineNodeUsage;
  /** Rounds in a row the load imbalance exceeded the threshold; reset on failover on purpose. */
  sustainedImbalanceRound: number;
  /** Rounds until the next attempt to migrate HA groups to rules. */
  groupMigrationRound: number;
  allLrmsDisarmed: boolean;
  /** The sids of `ss`, sorted; dropped whenever services are added or removed. */
  sortedSids?: Sid[];
  /** Marked nodes a fence was held back for this term, so that is logged once (unprotected.ts). */
  heldBackFences: Set<NodeName>;
}

/** The managed services in sid order (the order every pass over them runs in). */
export function sortedSids(m: Manager): readonly Sid[] {
  m.sortedSids ??= Object.keys(m.ss).sort();
  return m.sortedSids;
}

/** Rounds to wait after taking over before the first HA group migration attempt. */
const INITIAL_GROUP_MIGRATION_DELAY = 3;

/**
 * Takes over the persistent parts of the previous master's status: node
 * states, service states, node requests (so maintenance survives a failover),
 * the disarm state and the nodes not to fence yet. Everything else is
 * recomputed.
 */
export async function createManager(env: HaEnv): Promise<Manager> {
  const old: Readonly<ManagerStatus> = await env.readManagerStatus();
  // The stored status is shared and read-only; this term works on its own copy.
  const copy = JSON.parse(JSON.stringify(old)) as ManagerStatus;
  const ms: MasterStatus = { master_node: env.nodename };
  if (copy.node_request !== undefined) ms.node_request = copy.node_request;
  if (copy.disarm !== undefined) ms.disarm = copy.disarm;
  if (copy.unprotected_nodes !== undefined) ms.unprotected_nodes = copy.unprotected_nodes;
  const manager: Manager = {
    ms,
    ns: createNodeStatus(copy.node_status ?? {}),
    ss: copy.service_status ?? {},
    serviceChangedAt: {},
    crs: {
      rebalanceOnRequestStart: false,
      autoRebalance: { enable: false, threshold: 0.3, method: 'bruteforce', holdDuration: 3, margin: 0.1 },
    },
    lastRulesDigest: '',
    lastGroupsDigest: '',
    lastServicesDigest: '',
    sustainedImbalanceRound: 0,
    groupMigrationRound: INITIAL_GROUP_MIGRATION_DELAY,
    allLrmsDisarmed: false,
    heldBackFences: new Set(),
  };
  await updateCrsSchedulerMode(env, manager);
  return manager;
}

/** Takes the datacenter's CRS options; logs when the scheduler mode is set or changes. */
export async function updateCrsSchedulerMode(env: HaEnv, m: Manager): Promise<void> {
  const { crs } = await env.getDatacenterSettings();
  const settings = m.crs;
  settings.rebalanceOnRequestStart = isPerlTrue(crs['ha-rebalance-on-start']);
  settings.autoRebalance = {
    enable: isPerlTrue(crs['ha-auto-rebalance']),
    threshold: crs['ha-auto-rebalance-threshold'] ?? 0.3,
    method: crs['ha-auto-rebalance-method'] ?? 'bruteforce',
    holdDuration: crs['ha-auto-rebalance-hold-duration'] ?? 3,
    margin: crs['ha-auto-rebalance-margin'] ?? 0.1,
  };

  const oldMode = settings.scheduler;
  const newMode = isPerlTrue(crs.ha) ? String(crs.ha) : 'basic';
  if (oldMode === undefined) {
    if (newMode !== 'basic') env.log('info', `using scheduler mode '${newMode}'`);
  } else if (newMode === oldMode) {
    return;
  } else {
    env.log('info', `switching scheduler mode from '${oldMode}' to '${newMode}'`);
  }
  settings.scheduler = newMode;
}

export function usageOf(m: Manager): OnlineNodeUsage {
  if (m.onlineNodeUsage === undefined) throw new Error('online node usage not computed yet');
  return m.onlineNodeUsage;
}

/** Parameters a state change may carry; logged in this order. */
export interface StateChangeParams {
  node?: NodeName;
  target?: NodeName;
  timeout?: string;
}

/**
 * The service state machine's only setter. It keeps the entry object (callers
 * hold it), clears everything that belonged to the old state except the
 * node, the failed-node list and the maintenance fallback, applies the
 * parameters, re-accounts the service's load, issues a new uid (so stale LRM
 * results are ignored) and logs the change.
 */
export function changeServiceState(
  env: HaEnv,
  m: Manager,
  sid: Sid,
  newState: ServiceState,
  params: StateChangeParams = {},
): void {
  const sd = m.ss[sid];
  if (sd === undefined) throw new Error(`no such service '${sid}`);
  const oldState = sd.state;
  if (oldState === newState) throw new Error('no state change');
  if (!(SERVICE_STATES as readonly string[]).includes(newState)) {
    throw new Error(`invalid CRM service state '${newState}'`);
  }

  const { node, failed_nodes: failedNodes, maintenance_node: maintenanceNode } = sd;
  for (const key of Object.keys(sd)) delete (sd as unknown as Record<string, unknown>)[key];
  sd.state = newState;
  sd.node = node;
  if (failedNodes !== undefined) sd.failed_nodes = failedNodes;
  if (maintenanceNode !== undefined) sd.maintenance_node = maintenanceNode;

  // A parameter passed explicitly as undefined is still logged (empty), as
  // the reference does, so a failed selection stays visible in the log.
  const text: string[] = [];
  for (const key of ['node', 'target', 'timeout'] as const) {
    if (!Object.prototype.hasOwnProperty.call(params, key)) continue;
    const value = params[key];
    text.push(`${key} = ${value ?? ''}`);
    if (value !== undefined) sd[key] = value;
  }

  const usage = usageOf(m);
  usage.removeServiceUsage(sid);
  usage.addServiceUsage(sid, sd);

  sd.uid = env.newUid();
  m.serviceChangedAt[sid] = env.getTime();

  const suffix = text.length > 0 ? `  (${text.join(', ')})` : '';
  env.log('info', `service '${sid}': state changed from '${oldState}' to '${newState}'${suffix}`);
}

export async function flushMasterStatus(env: HaEnv, m: Manager): Promise<void> {
  const status: ManagerStatus = {
    ...m.ms,
    node_status: m.ns.status,
    service_status: m.ss,
    timestamp: env.getTime(),
  };
  await env.writeManagerStatus(status);
}
