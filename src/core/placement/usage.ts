// Usage accounting of the online nodes, as the master sees it during a round.
// Three implementations: basic (service count), static (configured cores and
// memory) and dynamic (measured use); all answer the same questions.

import type { Migration } from '../scheduling/kernel.js';
import type { NodeName, ServiceStatusEntry, Sid } from '../types.js';
import { usedServiceNodes } from './used-nodes.js';

/** A bundle of services that move together, led by its first sid, and where it may go. */
export interface CompactMigrationCandidate {
  leader: Sid;
  resources: Sid[];
  nodes: NodeName[];
}

export interface BalancingMigration {
  migration: Migration;
  imbalance: number;
}

export type UsageServiceState = Pick<ServiceStatusEntry, 'state' | 'node' | 'target' | 'running'>;

export interface OnlineNodeUsage {
  readonly mode: 'basic' | 'static' | 'dynamic';
  listNodes(): NodeName[];
  containsNode(node: NodeName): boolean;
  /** Accounts a service on the nodes its state says it loads. */
  addServiceUsage(sid: Sid, sd: UsageServiceState): void;
  removeServiceUsage(sid: Sid): void;
  calculateNodeImbalance(): number;
  selectBestBalancingMigration(candidates: readonly CompactMigrationCandidate[]): BalancingMigration | undefined;
  selectBestBalancingMigrationTopsis(candidates: readonly CompactMigrationCandidate[]): BalancingMigration | undefined;
  /** Node scores for starting `sid`; lower is better. */
  scoreNodesToStartService(sid: Sid): Map<NodeName, number>;
}

/** Where a service's load goes and whether it counts as running there. */
export function serviceLoad(
  onlineNodes: ReadonlySet<NodeName>,
  sd: UsageServiceState,
): { current?: NodeName; target?: NodeName; running: boolean } {
  const { current, target } = usedServiceNodes(onlineNodes, sd);
  // Only a started service carries a confirmed running flag; any other
  // state with a current node is treated as running there.
  const running = sd.state === 'started' ? sd.running === 1 : current !== undefined;
  return { current, target, running };
}

/** Basic mode: a node's load is the number of services on it. */
export function createBasicUsage(onlineNodes: readonly NodeName[]): OnlineNodeUsage {
  const nodes = new Map<NodeName, Set<Sid>>();
  for (const node of onlineNodes) nodes.set(node, new Set());
  const nodeSet = new Set(onlineNodes);

  return {
    mode: 'basic',
    listNodes: () => [...nodes.keys()],
    containsNode: (node) => nodes.has(node),
    addServiceUsage(sid, sd) {
      const { current, target } = serviceLoad(nodeSet, sd);
      if (current !== undefined) nodes.get(current)?.add(sid);
      if (target !== undefined) nodes.get(target)?.add(sid);
    },
    removeServiceUsage(sid) {
      for (const sids of nodes.values()) sids.delete(sid);
    },
    calculateNodeImbalance: () => 0,
    selectBestBalancingMigration: () => undefined,
    selectBestBalancingMigrationTopsis: () => undefined,
    scoreNodesToStartService() {
      const scores = new Map<NodeName, number>();
      for (const [node, sids] of nodes) scores.set(node, sids.size);
      return scores;
    },
  };
}
