// Node states as the master tracks them, and fencing bookkeeping.
//
//   unknown/gone --(member of quorate partition)--> online
//   online --(LRM reports maintenance mode)--> maintenance --(mode cleared)--> online
//   online/maintenance --(not in quorate partition)--> unknown --(left member list)--> gone
//   (a node with services to recover) --> fence --(its agent lock taken)--> unknown

import type { ClusterMembership, HaEnv, NodeMembership } from '../env/env.js';
import type { FenceNotification } from '../env/env.js';
import { NODE_STATES, type ReportedLrmMode, type ManagerStatus, type NodeName, type NodeState } from './types.js';

/** How long a `gone` node is remembered before it is dropped. */
const GONE_NODE_RETENTION = 3600;

export interface NodeStatus {
  /** Written to manager_status as `node_status`. */
  status: Record<NodeName, NodeState>;
  /** When each node was last seen in the quorate partition (in memory only). */
  lastOnline: Record<NodeName, number>;
  /** When each node last changed state (in memory only). */
  changedAt: Record<NodeName, number>;
}

export function createNodeStatus(status: Readonly<Record<NodeName, NodeState>> = {}): NodeStatus {
  return { status: { ...status }, lastOnline: {}, changedAt: {} };
}

export function nodeState(ns: NodeStatus, node: NodeName): NodeState {
  return ns.status[node] ?? 'unknown';
}

export function isNodeOnline(ns: NodeStatus, node: NodeName): boolean {
  return nodeState(ns, node) === 'online';
}

/** Online or in maintenance: the node is a member and its LRM can still act. */
export function isNodeOperational(ns: NodeStatus, node: NodeName): boolean {
  return isNodeOnline(ns, node) || nodeState(ns, node) === 'maintenance';
}

export function listNodes(ns: NodeStatus): NodeName[] {
  return Object.keys(ns.status).sort();
}

export function listOnlineNodes(ns: NodeStatus): NodeName[] {
  return listNodes(ns).filter((node) => ns.status[node] === 'online');
}

/**
 * True once a node has been away for `delay` seconds (by default the fence
 * delay: how long a node must be gone before the master fences it). The
 * first call for a node never seen online starts the clock, so a fresh
 * master waits a full delay before it fences anything.
 */
export function isNodeOfflineDelayed(env: HaEnv, ns: NodeStatus, node: NodeName, delay = env.timing.fenceDelay): boolean {
  if (nodeState(ns, node) === 'online') return false;
  const now = env.getTime();
  const lastOnline = ns.lastOnline[node];
  if (lastOnline === undefined) {
    ns.lastOnline[node] = now;
    return false;
  }
  return now - lastOnline >= delay;
}

/**
 * A master that has never seen `node` online (a new master, after the old
 * one's node failed) would start the node's fence delay at its own first
 * round, and so fence a node that died with the old master a full fence
 * delay after taking over: L + F instead of L. Under the safe policy it
 * counts from the last moment the store counted the node online (its
 * latest heartbeat plus the heartbeat timeout), which is when a master that
 * had watched all along would have seen it go — never later than now.
 *
 * Safety does not rest on this delay: fencing still needs the node's agent
 * lock, which the master gets only once the node's LRM has stopped renewing
 * it for the lock lifetime, and by then the node's watchdog has reset it
 * (docs/RELIABILITY.md, "Timing"). The delay only keeps short outages from
 * ending in a fence, and counting from the heartbeat keeps that debounce
 * as long as the watching master's.
 */
function seedLastOnline(env: HaEnv, ns: NodeStatus, node: NodeName, member: NodeMembership | undefined): void {
  if (env.policy !== 'safe' || ns.lastOnline[node] !== undefined || member?.lastOnline === undefined) return;
  ns.lastOnline[node] = Math.min(member.lastOnline, env.getTime());
}

/** True when the member list gained or lost a node since the last update. */
export function hasNodeListChanged(ns: NodeStatus, membership: ClusterMembership): boolean {
  for (const node of Object.keys(membership.nodes)) if (ns.status[node] === undefined) return true;
  for (const node of Object.keys(ns.status)) if (membership.nodes[node] === undefined) return true;
  return false;
}

/** The node state machine's only setter: validates, logs `old => new`, stamps the time. */
function setNodeState(env: HaEnv, ns: NodeStatus, node: NodeName, state: NodeState): void {
  if (!(NODE_STATES as readonly string[]).includes(state)) throw new Error(`unknown node state '${state}'`);
  const last = nodeState(ns, node);
  if (state === last) return;
  ns.status[node] = state;
  ns.changedAt[node] = env.getTime();
  env.log('info', `node '${node}': state changed from '${last}' => '${state}'`);
}

function deleteGoneNode(env: HaEnv, ns: NodeStatus, node: NodeName): void {
  if (nodeState(ns, node) !== 'gone') return;
  delete ns.lastOnline[node];
  delete ns.status[node];
  delete ns.changedAt[node];
  env.log('notice', `deleting gone node '${node}', not a cluster member anymore.`);
}

/** Folds the current membership and the LRMs' modes into the node states. */
export function updateNodeStatus(
  env: HaEnv,
  ns: NodeStatus,
  membership: ClusterMembership,
  lrmModes: Readonly<Record<NodeName, ReportedLrmMode>>,
): void {
  for (const node of Object.keys(membership.nodes).sort()) {
    if (!membership.nodes[node]?.online) continue;
    ns.lastOnline[node] = env.getTime();
    const inMaintenance = lrmModes[node] === 'maintenance';
    const state = nodeState(ns, node);
    switch (state) {
      case 'online':
        if (inMaintenance) setNodeState(env, ns, node, 'maintenance');
        break;
      case 'unknown':
      case 'gone':
        setNodeState(env, ns, node, 'online');
        break;
      case 'fence':
        break; // stays until the fence is acknowledged
      case 'maintenance':
        if (!inMaintenance) setNodeState(env, ns, node, 'online');
        break;
      default: {
        const unreachable: never = state;
        throw new Error(`detected unknown node state '${String(unreachable)}'`);
      }
    }
  }

  for (const node of Object.keys(ns.status).sort()) {
    const member = membership.nodes[node];
    if (member?.online) continue;
    seedLastOnline(env, ns, node, member);
    const state = nodeState(ns, node);
    switch (state) {
      case 'online':
        setNodeState(env, ns, node, 'unknown');
        break;
      case 'maintenance':
        if (lrmModes[node] !== 'maintenance') setNodeState(env, ns, node, 'unknown');
        break;
      case 'unknown':
        if (member === undefined) setNodeState(env, ns, node, 'gone');
        break;
      case 'fence':
        break;
      case 'gone':
        if (isNodeOfflineDelayed(env, ns, node, GONE_NODE_RETENTION)) deleteGoneNode(env, ns, node);
        break;
      default: {
        const unreachable: never = state;
        throw new Error(`detected unknown node state '${String(unreachable)}'`);
      }
    }
  }
}

async function sendFenceNotification(
  env: HaEnv,
  prefix: FenceNotification['prefix'],
  status: string,
  node: NodeName,
): Promise<void> {
  const ms: Readonly<ManagerStatus> = await env.readManagerStatus();
  const nodeStatus = ms.node_status ?? {};
  const serviceStatus = ms.service_status ?? {};
  env.sendNotification({
    prefix,
    status,
    failedNode: node,
    masterNode: ms.master_node,
    timestamp: ms.timestamp,
    nodes: Object.keys(nodeStatus)
      .sort()
      .map((n) => ({ node: n, status: nodeStatus[n] })),
    resources: Object.keys(serviceStatus)
      .sort()
      .map((sid) => {
        const sd = serviceStatus[sid];
        return { resource: sid, state: sd.state, node: sd.node, ...(sd.running ? { running: sd.running } : {}) };
      }),
  });
}

/**
 * Fences a node by taking its agent lock: once the master holds it, the
 * node's LRM can no longer renew it, so its watchdog has fired or will fire
 * before anyone else could start its services. Returns true when acknowledged.
 */
export async function fenceNode(env: HaEnv, ns: NodeStatus, node: NodeName): Promise<boolean> {
  if (nodeState(ns, node) !== 'fence') {
    setNodeState(env, ns, node, 'fence');
    await sendFenceNotification(env, 'FENCE', `Try to fence node '${node}'`, node);
  }
  const acquired = await env.getHaAgentLock(node);
  if (acquired) {
    const msg = `fencing: acknowledged - got agent lock for node '${node}'`;
    env.log('info', msg);
    setNodeState(env, ns, node, 'unknown');
    await sendFenceNotification(env, 'SUCCEED', msg, node);
  }
  return acquired;
}
