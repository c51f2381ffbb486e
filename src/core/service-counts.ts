// Counting a node's services from the manager's service status; the CRM and
// the LRM both decide on these counts whether they may go idle or must stay.
//
// Every daemon asks these questions of the same published status each round.
// A frozen status never changes, so for those the answers for all nodes are
// computed in one pass and remembered; a status being edited (the master's
// own) is counted afresh each time.

import type { NodeName, ServiceStatusEntry, Sid } from './types.js';

type ServiceStatusMap = Readonly<Record<Sid, Readonly<ServiceStatusEntry>>>;

/** Per node: its services, and how many wait to be fenced or need its LRM. */
export interface NodeServices {
  /** Services whose node is this one, in status order. */
  local: Sid[];
  fenced: number;
  active: number;
}

export interface ServiceIndex {
  byNode: Map<NodeName, NodeServices>;
  /** The current uid of every service. */
  uids: Set<string>;
}

const EMPTY_NODE: Readonly<NodeServices> = Object.freeze({ local: [], fenced: 0, active: 0 });
const indexes = new WeakMap<object, ServiceIndex>();

function nodeEntry(byNode: Map<NodeName, NodeServices>, node: NodeName): NodeServices {
  let entry = byNode.get(node);
  if (entry === undefined) {
    entry = { local: [], fenced: 0, active: 0 };
    byNode.set(node, entry);
  }
  return entry;
}

/**
 * Whether a service in this state needs its node's LRM: anything but
 * stopped, frozen, in error, or merely queued to start (request_start only
 * picks a node).
 */
function needsLrm(sd: Readonly<ServiceStatusEntry>): boolean {
  switch (sd.state) {
    case 'stopped':
    case 'freeze':
    case 'error':
    case 'request_start':
      return false;
    default:
      return true;
  }
}

function buildIndex(ss: ServiceStatusMap): ServiceIndex {
  const byNode = new Map<NodeName, NodeServices>();
  const uids = new Set<string>();
  for (const sid in ss) {
    const sd = ss[sid];
    if (sd.uid) uids.add(sd.uid);
    const active = needsLrm(sd);
    if (sd.node) {
      const entry = nodeEntry(byNode, sd.node);
      entry.local.push(sid);
      if (sd.state === 'fence') entry.fenced++;
      if (active) entry.active++;
    }
    // A service heading to a node counts there too.
    if (active && sd.target && sd.target !== sd.node) nodeEntry(byNode, sd.target).active++;
  }
  return { byNode, uids };
}

export function serviceIndex(ss: ServiceStatusMap): ServiceIndex {
  // Look up first: checking frozenness walks every key of a large record.
  let index = indexes.get(ss);
  if (index === undefined) {
    index = buildIndex(ss);
    if (Object.isFrozen(ss)) indexes.set(ss, index);
  }
  return index;
}

export function nodeServices(ss: ServiceStatusMap, node: NodeName): Readonly<NodeServices> {
  return serviceIndex(ss).byNode.get(node) ?? EMPTY_NODE;
}

/** Services on `node` waiting to be fenced. */
export function countFencedServices(ss: ServiceStatusMap, node: NodeName): number {
  return nodeServices(ss, node).fenced;
}

/** Services that need `node`'s LRM: on it or heading to it, see needsLrm. */
export function countActiveServices(ss: ServiceStatusMap, node: NodeName): number {
  return nodeServices(ss, node).active;
}
