// Node selection for starting, recovering and relocating a service:
// rule-allowed nodes ∩ online nodes, highest priority class, resource
// affinity applied, then the lowest-scored node.

import {
  applyNegativeResourceAffinity,
  applyPositiveResourceAffinity,
  getNodeAffinity,
  getResourceAffinity,
  isAllowedOnNode,
} from '../rules/index.js';
import type { CompiledRules } from '../rules/types.js';
import type { NodeName, ServiceConfig, ServiceStatusEntry, Sid } from '../types.js';
import type { OnlineNodeUsage } from './usage.js';

/**
 * - `none`: stay on the current node if at all possible (no needless moves);
 * - `best-score`: the best-scored allowed node;
 * - `try-next`: the best-scored node the service has not failed on yet,
 *   rotating past the current node.
 */
export type NodePreference = 'none' | 'best-score' | 'try-next';

/** The online node set of a usage, built once per usage (one per manager round). */
const onlineSets = new WeakMap<OnlineNodeUsage, ReadonlySet<NodeName>>();

function onlineNodesOf(usage: OnlineNodeUsage): ReadonlySet<NodeName> {
  let nodes = onlineSets.get(usage);
  if (nodes === undefined) {
    nodes = new Set(usage.listNodes());
    onlineSets.set(usage, nodes);
  }
  return nodes;
}

function hasRules(rules: CompiledRules, sid: Sid): boolean {
  const affinity = rules['resource-affinity'];
  return rules['node-affinity'][sid] !== undefined || affinity.positive[sid] !== undefined || affinity.negative[sid] !== undefined;
}

export function selectServiceNode(
  rules: CompiledRules,
  usage: OnlineNodeUsage,
  sid: Sid,
  cd: Pick<ServiceConfig, 'failback'>,
  ss: Readonly<Record<Sid, ServiceStatusEntry>>,
  preference: NodePreference,
): NodeName | undefined {
  const sd = ss[sid];
  const currentNode = sd.node;
  const onlineNodes = onlineNodesOf(usage);

  // Every round asks this for every running service, nearly always without
  // rules and content where it is: answer that without building any sets.
  // (Same answers as below: with no rules every online node is allowed and
  // preferred, and no affinity removes one.)
  if (preference === 'none' && !hasRules(rules, sid)) {
    if (onlineNodes.size === 0) return undefined;
    if (!cd.failback && onlineNodes.has(currentNode)) return currentNode;
    const fallback = sd.maintenance_node;
    if (fallback !== undefined && onlineNodes.has(fallback)) return fallback;
    if (onlineNodes.has(currentNode)) return currentNode;
  }

  const { allowed, preferred } = getNodeAffinity(rules['node-affinity'], sid, onlineNodes);
  if (preferred.size === 0) return undefined;
  const candidates = new Set(preferred);

  const { together, separate } = getResourceAffinity(rules['resource-affinity'], sid, ss, onlineNodes);

  if (
    preference === 'none' &&
    !cd.failback &&
    allowed.has(currentNode) &&
    isAllowedOnNode(together, separate, currentNode)
  ) {
    return currentNode;
  }

  if (preference === 'try-next') {
    for (const node of sd.failed_nodes ?? []) candidates.delete(node);
  }

  applyNegativeResourceAffinity(separate, candidates);
  applyPositiveResourceAffinity(together, candidates);

  const fallback = sd.maintenance_node;
  if (fallback !== undefined && candidates.has(fallback)) return fallback;

  if (preference === 'none' && candidates.has(currentNode)) return currentNode;

  const scores = usage.scoreNodesToStartService(sid);
  const score = (node: NodeName): number => scores.get(node) ?? 0;
  const nodes = [...candidates].sort((a, b) => score(a) - score(b) || (a < b ? -1 : a > b ? 1 : 0));

  if (preference === 'try-next') {
    const found = nodes.indexOf(currentNode);
    if (found !== -1 && found < nodes.length - 1) return nodes[found + 1];
  }
  return nodes[0];
}
