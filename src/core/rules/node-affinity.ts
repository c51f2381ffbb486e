// Node affinity rules: a set of resources preferring (or, when strict,
// restricted to) a set of nodes with priorities.

import type { NodeName, Sid } from '../types.js';
import { addRuleError, sortConflicts, type RuleErrors } from './check-args.js';
import { foreachRule } from './rule-set.js';
import { sortedKeys } from './sets.js';
import type { CompiledNodeAffinity, NodeAffinityRule, NodePriority, RulesConfig } from './types.js';

/** [rule id, sid] for every rule sharing a resource with another node affinity rule. */
export function checkSingleResourceReference(
  nodeAffinityRules: Readonly<Record<string, NodeAffinityRule>>,
): Array<readonly [string, Sid]> {
  const ruleIdsBySid = new Map<Sid, string[]>();
  for (const ruleId of sortedKeys(nodeAffinityRules)) {
    for (const sid of Object.keys(nodeAffinityRules[ruleId].resources)) {
      const ids = ruleIdsBySid.get(sid) ?? [];
      ids.push(ruleId);
      ruleIdsBySid.set(sid, ids);
    }
  }
  const conflicts: Array<readonly [string, Sid]> = [];
  for (const [sid, ruleIds] of ruleIdsBySid) {
    if (ruleIds.length < 2) continue;
    for (const ruleId of ruleIds) conflicts.push([ruleId, sid]);
  }
  return sortConflicts(conflicts);
}

export function collectSingleResourceReferenceErrors(
  conflicts: ReadonlyArray<readonly [string, Sid]>,
  errors: RuleErrors,
): void {
  for (const [ruleId, sid] of conflicts) {
    addRuleError(errors, ruleId, 'resources', `resource '${sid}' is already used in another node affinity rule`);
  }
}

/**
 * Per resource, the nodes it may run on with their priorities. A non-strict
 * rule adds every other cluster node at priority -1, so those serve only
 * when no listed node is available.
 */
export function compileNodeAffinity(
  rules: RulesConfig,
  nodes: readonly NodeName[],
): Record<Sid, CompiledNodeAffinity> {
  const compiled: Record<Sid, CompiledNodeAffinity> = {};
  foreachRule(
    rules,
    (rule) => {
      if (rule.type !== 'node-affinity') return;
      const effective: Record<NodeName, NodePriority> = {};
      for (const [node, props] of Object.entries(rule.nodes)) effective[node] = { priority: props.priority };
      if (!rule.strict) {
        for (const node of nodes) {
          if (!Object.hasOwn(effective, node)) effective[node] = { priority: -1 };
        }
      }
      for (const sid of Object.keys(rule.resources)) {
        compiled[sid] = { nodes: structuredClone(effective) };
      }
    },
    { type: 'node-affinity', excludeDisabledRules: true },
  );
  return compiled;
}

/**
 * The online nodes `sid` may run on, and among them those of the highest
 * priority present. A resource without a rule may run anywhere online.
 * Both sets are fresh copies; the reference hands back the online-nodes hash
 * itself (twice) in that case, which callers never rely on.
 */
export function getNodeAffinity(
  nodeAffinity: Readonly<Record<Sid, CompiledNodeAffinity>>,
  sid: Sid,
  onlineNodes: ReadonlySet<NodeName>,
): { allowed: Set<NodeName>; preferred: Set<NodeName> } {
  const entry = nodeAffinity[sid];
  if (entry === undefined) return { allowed: new Set(onlineNodes), preferred: new Set(onlineNodes) };

  const allowed = new Set<NodeName>();
  const byPriority = new Map<number, Set<NodeName>>();
  for (const node of sortedKeys(entry.nodes)) {
    if (!onlineNodes.has(node)) continue;
    const priority = entry.nodes[node].priority ?? 0;
    allowed.add(node);
    const tier = byPriority.get(priority) ?? new Set<NodeName>();
    tier.add(node);
    byPriority.set(priority, tier);
  }
  if (byPriority.size === 0) return { allowed, preferred: new Set() };
  const highest = Math.max(...byPriority.keys());
  return { allowed, preferred: byPriority.get(highest) ?? new Set() };
}
