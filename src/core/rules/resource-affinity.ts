// Resource affinity rules: resources kept together on one node (positive) or
// apart on different nodes (negative). Checks, transforms and compile for the
// rules, then the helpers the scheduler applies per resource.

import { usedServiceNodes } from '../placement/used-nodes.js';
import type { NodeName, ServiceStatusEntry, Sid } from '../types.js';
import { addRuleError, sortConflicts, type RuleErrors, type TypedConflict } from './check-args.js';
import { findDisjointRulesResourceSets, foreachRule, getNextOrdinal } from './rule-set.js';
import { compareStrings, setIntersect, setSize, sortedKeys } from './sets.js';
import type { CompiledResourceAffinity, ResourceAffinityRule, RulesConfig, SidSet } from './types.js';

type RuleMap = Readonly<Record<string, ResourceAffinityRule>>;

/** Rules with fewer than two resources constrain nothing. */
export function checkResourceAffinityResourcesCount(resourceAffinityRules: RuleMap): string[] {
  return sortedKeys(resourceAffinityRules).filter((id) => setSize(resourceAffinityRules[id].resources) < 2);
}

export function collectResourcesCountErrors(ruleIds: readonly string[], errors: RuleErrors): void {
  for (const ruleId of ruleIds) {
    addRuleError(errors, ruleId, 'resources', 'rule is ineffective as there are less than two resources');
  }
}

/** Negative rules with more resources than cluster nodes can never be met. */
export function checkNegativeResourceAffinityResourcesCount(
  negativeRules: RuleMap,
  nodes: readonly NodeName[],
): string[] {
  return sortedKeys(negativeRules).filter((id) => setSize(negativeRules[id].resources) > nodes.length);
}

export function collectNegativeResourcesCountErrors(ruleIds: readonly string[], errors: RuleErrors): void {
  for (const ruleId of ruleIds) {
    addRuleError(errors, ruleId, 'resources', 'rule defines more resources than available nodes');
  }
}

/**
 * A negative rule sharing two or more resources with a group of connected
 * positive rules contradicts them; all of them are reported, a positive rule
 * once per contradicting negative rule.
 */
export function checkInterResourceAffinityRulesConsistency(
  positiveRules: RuleMap,
  negativeRules: RuleMap,
): TypedConflict[] {
  const conflicts: TypedConflict[] = [];
  for (const entry of findDisjointRulesResourceSets(positiveRules)) {
    for (const negativeId of sortedKeys(negativeRules)) {
      const common = setIntersect(entry.resources, negativeRules[negativeId].resources);
      if (setSize(common) < 2) continue;
      conflicts.push(['negative', negativeId]);
      for (const ruleId of entry.ruleIds) conflicts.push(['positive', ruleId]);
    }
  }
  return sortConflicts(conflicts);
}

export function collectInterResourceAffinityErrors(conflicts: readonly TypedConflict[], errors: RuleErrors): void {
  for (const [kind, ruleId] of conflicts) {
    if (kind === 'positive') {
      addRuleError(errors, ruleId, 'resources', 'rule shares two or more resources with a negative resource affinity rule');
    } else if (kind === 'negative') {
      addRuleError(errors, ruleId, 'resources', 'rule shares two or more resources with a positive resource affinity rule');
    }
  }
}

/**
 * Replaces overlapping positive rules by one rule per connected group, named
 * `_merged-<id>-<id>...` and placed at the first member's ordinal.
 */
export function mergeConnectedPositiveResourceAffinityRules(rules: RulesConfig, positiveRules: RuleMap): void {
  for (const entry of findDisjointRulesResourceSets(positiveRules)) {
    if (entry.ruleIds.length < 2) continue;
    const newRuleId = `_merged-${entry.ruleIds.join('-')}`;
    const firstOrder = rules.order[entry.ruleIds[0]];
    rules.ids[newRuleId] = { type: 'resource-affinity', affinity: 'positive', resources: entry.resources };
    rules.order[newRuleId] = firstOrder;
    for (const ruleId of entry.ruleIds) {
      delete rules.ids[ruleId];
      delete rules.order[ruleId];
    }
  }
}

/**
 * For the resources of one positive rule: every resource some of them must
 * be kept apart from, mapped to the members that already are.
 */
function negativeAffinityOf(negativeRules: RuleMap, resources: SidSet): Map<Sid, Set<Sid>> {
  const separatedFrom = new Map<Sid, Set<Sid>>();
  for (const negativeId of sortedKeys(negativeRules)) {
    const negative = negativeRules[negativeId].resources;
    for (const sid of sortedKeys(resources)) {
      if (!Object.hasOwn(negative, sid)) continue;
      for (const csid of sortedKeys(negative)) {
        if (csid === sid) continue;
        const members = separatedFrom.get(csid) ?? new Set<Sid>();
        members.add(sid);
        separatedFrom.set(csid, members);
      }
    }
  }
  return separatedFrom;
}

/**
 * Resources kept together share each other's negative affinities: adds a
 * two-resource negative rule `_implicit-negative-<positive>-<sid>-<csid>` for
 * every member not yet apart from a resource another member must avoid.
 * Expects merged (disjoint) positive rules without contradictions.
 */
export function createImplicitNegativeResourceAffinityRules(
  rules: RulesConfig,
  positiveRules: RuleMap,
  negativeRules: RuleMap,
): void {
  for (const positiveId of sortedKeys(positiveRules)) {
    const positiveResources = positiveRules[positiveId].resources;
    const separatedFrom = negativeAffinityOf(negativeRules, positiveResources);
    for (const csid of [...separatedFrom.keys()].sort(compareStrings)) {
      const already = separatedFrom.get(csid) ?? new Set<Sid>();
      for (const sid of sortedKeys(positiveResources)) {
        if (already.has(sid)) continue;
        const newRuleId = `_implicit-negative-${positiveId}-${sid}-${csid}`;
        rules.ids[newRuleId] = { type: 'resource-affinity', affinity: 'negative', resources: { [sid]: 1, [csid]: 1 } };
        rules.order[newRuleId] = getNextOrdinal(rules);
      }
    }
  }
}

/** Per resource, the resources it must be with and those it must avoid. */
export function compileResourceAffinity(rules: RulesConfig): CompiledResourceAffinity {
  const positive: Record<Sid, SidSet> = {};
  const negative: Record<Sid, SidSet> = {};
  foreachRule(
    rules,
    (rule) => {
      if (rule.type !== 'resource-affinity') return;
      const target = rule.affinity === 'positive' ? positive : negative;
      const sids = Object.keys(rule.resources);
      for (const sid of sids) {
        for (const csid of sids) {
          if (csid === sid) continue;
          (target[sid] ??= {})[csid] = 1;
        }
      }
    },
    { type: 'resource-affinity', excludeDisabledRules: true },
  );
  return { positive, negative };
}

/** The resources `sid` must be kept together with, and apart from. */
export function getAffinitiveResources(
  resourceAffinity: Readonly<CompiledResourceAffinity>,
  sid: Sid,
): { together: ReadonlySet<Sid>; separate: ReadonlySet<Sid> } {
  return {
    together: new Set(Object.keys(resourceAffinity.positive[sid] ?? {})),
    separate: new Set(Object.keys(resourceAffinity.negative[sid] ?? {})),
  };
}

/**
 * Where `sid`'s affine resources are now. `together` counts, per online node,
 * the resources `sid` must join there; a moving resource counts only at its
 * target so that resources already moved are not pulled back (reference bug
 * #6801). `separate` holds every online node a resource `sid` must avoid
 * occupies or is moving to.
 */
export function getResourceAffinity(
  resourceAffinity: Readonly<CompiledResourceAffinity>,
  sid: Sid,
  ss: Readonly<Record<Sid, ServiceStatusEntry>>,
  onlineNodes: ReadonlySet<NodeName>,
): { together: Map<NodeName, number>; separate: Set<NodeName> } {
  const together = new Map<NodeName, number>();
  const separate = new Set<NodeName>();
  const { together: positive, separate: negative } = getAffinitiveResources(resourceAffinity, sid);

  const usedNodes = (csid: Sid) => {
    const sd = ss[csid];
    return sd === undefined ? {} : usedServiceNodes(onlineNodes, sd);
  };

  for (const csid of positive) {
    const { current, target } = usedNodes(csid);
    const node = target ?? current;
    if (node !== undefined) together.set(node, (together.get(node) ?? 0) + 1);
  }
  for (const csid of negative) {
    const { current, target } = usedNodes(csid);
    if (current !== undefined) separate.add(current);
    if (target !== undefined) separate.add(target);
  }
  return { together, separate };
}

/** A node is fine if resources to join are there, or if none to avoid are. */
export function isAllowedOnNode(
  together: ReadonlyMap<NodeName, number>,
  separate: ReadonlySet<NodeName>,
  node: NodeName,
): boolean {
  return (together.get(node) ?? 0) > 0 || !separate.has(node);
}

/**
 * Narrows `allowed` to the one allowed node holding most of the resources to
 * join (ties: lowest name). Mutates both arguments, as the reference does:
 * nodes not allowed are dropped from `together` first. Leaves `allowed`
 * alone when no resource to join sits on an allowed node.
 */
export function applyPositiveResourceAffinity(together: Map<NodeName, number>, allowed: Set<NodeName>): void {
  for (const node of [...together.keys()]) {
    if (!allowed.has(node)) together.delete(node);
  }
  const candidates = [...together.keys()].sort(compareStrings);
  if (candidates.length === 0) return;
  // Array.prototype.sort is stable, so equal counts keep name order.
  candidates.sort((a, b) => (together.get(b) ?? 0) - (together.get(a) ?? 0));
  const majority = candidates[0];
  for (const node of [...allowed]) {
    if (node !== majority) allowed.delete(node);
  }
}

/** Removes from `allowed` (in place) every node holding a resource to avoid. */
export function applyNegativeResourceAffinity(separate: ReadonlySet<NodeName>, allowed: Set<NodeName>): void {
  for (const node of separate) allowed.delete(node);
}
