// Checks and transforms spanning node affinity and resource affinity rules.

import { addRuleError, sortConflicts, type RuleErrors, type TypedConflict } from './check-args.js';
import { findDisjointRulesResourceSets } from './rule-set.js';
import { setIntersect, setSize, setsAreDisjoint, setUnion, sortedKeys } from './sets.js';
import type { NodeAffinityRule, ResourceAffinityRule, RulesConfig } from './types.js';

type NodeAffinityRules = Readonly<Record<string, NodeAffinityRule>>;
type ResourceAffinityRules = Readonly<Record<string, ResourceAffinityRule>>;

function hasMultiplePriorities(rule: NodeAffinityRule): boolean {
  const priorities = new Set(Object.values(rule.nodes).map((n) => n.priority));
  return priorities.size > 1;
}

/**
 * Resource affinity rules whose resources are in a node affinity rule with
 * more than one priority class, together with those node affinity rules:
 * which class applies depends on the nodes online and on where the affine
 * resources run, which the checks cannot verify up front.
 */
export function checkSinglePriorityNodeAffinityInResourceAffinityRules(
  resourceAffinityRules: ResourceAffinityRules,
  nodeAffinityRules: NodeAffinityRules,
): TypedConflict[] {
  const conflicts: TypedConflict[] = [];
  for (const resourceAffinityId of sortedKeys(resourceAffinityRules)) {
    const resources = resourceAffinityRules[resourceAffinityId].resources;
    let hasConflicts = false;
    const paired: string[] = [];
    for (const nodeAffinityId of sortedKeys(nodeAffinityRules)) {
      const nodeAffinityRule = nodeAffinityRules[nodeAffinityId];
      if (setsAreDisjoint(resources, nodeAffinityRule.resources)) continue;
      hasConflicts ||= hasMultiplePriorities(nodeAffinityRule);
      paired.push(nodeAffinityId);
    }
    if (hasConflicts) {
      conflicts.push(['resource-affinity', resourceAffinityId]);
      for (const id of paired) conflicts.push(['node-affinity', id]);
    }
  }
  return sortConflicts(conflicts);
}

export function collectSinglePriorityErrors(conflicts: readonly TypedConflict[], errors: RuleErrors): void {
  for (const [kind, ruleId] of conflicts) {
    if (kind === 'node-affinity') {
      addRuleError(
        errors,
        ruleId,
        'resources',
        'resources are in a resource affinity rule and cannot be in a node affinity rule with multiple priorities',
      );
    } else if (kind === 'resource-affinity') {
      addRuleError(errors, ruleId, 'resources', 'resources are in node affinity rules with multiple priorities');
    }
  }
}

/**
 * Groups of connected positive rules touching more than one node affinity
 * rule, with those rules: there is no defined way to merge several node
 * affinities (strictness, priorities) into one.
 */
export function checkSingleNodeAffinityPerPositiveResourceAffinityRule(
  positiveRules: ResourceAffinityRules,
  nodeAffinityRules: NodeAffinityRules,
): TypedConflict[] {
  const conflicts: TypedConflict[] = [];
  for (const entry of findDisjointRulesResourceSets(positiveRules)) {
    const paired = sortedKeys(nodeAffinityRules).filter(
      (id) => !setsAreDisjoint(entry.resources, nodeAffinityRules[id].resources),
    );
    if (paired.length > 1) {
      for (const id of entry.ruleIds) conflicts.push(['positive', id]);
      for (const id of paired) conflicts.push(['node-affinity', id]);
    }
  }
  return sortConflicts(conflicts);
}

export function collectSingleNodeAffinityErrors(conflicts: readonly TypedConflict[], errors: RuleErrors): void {
  for (const [kind, ruleId] of conflicts) {
    if (kind === 'positive') {
      addRuleError(errors, ruleId, 'resources', 'resources are in multiple node affinity rules');
    } else if (kind === 'node-affinity') {
      addRuleError(
        errors,
        ruleId,
        'resources',
        'at least one resource is in a positive resource affinity rule and there are other resources in at least one other node affinity rule already',
      );
    }
  }
}

/**
 * Negative rules whose resources the node affinity rules confine to fewer
 * nodes than there are such resources, with those node affinity rules. The
 * node count is the union of the rules' node lists, strict or not.
 */
export function checkNegativeResourceAffinityNodeAffinityConsistency(
  negativeRules: ResourceAffinityRules,
  nodeAffinityRules: NodeAffinityRules,
): TypedConflict[] {
  const conflicts: TypedConflict[] = [];
  for (const negativeId of sortedKeys(negativeRules)) {
    const resources = negativeRules[negativeId].resources;
    let allowedNodes: Record<string, 1> = {};
    let locatedResources: Record<string, 1> = {};
    const paired: string[] = [];
    for (const nodeAffinityId of sortedKeys(nodeAffinityRules)) {
      const rule = nodeAffinityRules[nodeAffinityId];
      const common = setIntersect(resources, rule.resources);
      if (setSize(common) < 1) continue;
      locatedResources = setUnion(locatedResources, common);
      allowedNodes = setUnion(allowedNodes, rule.nodes);
      paired.push(nodeAffinityId);
    }
    if (setSize(allowedNodes) < setSize(locatedResources)) {
      conflicts.push(['negative', negativeId]);
      for (const id of paired) conflicts.push(['node-affinity', id]);
    }
  }
  return sortConflicts(conflicts);
}

export function collectNegativeConsistencyErrors(conflicts: readonly TypedConflict[], errors: RuleErrors): void {
  for (const [kind, ruleId] of conflicts) {
    if (kind === 'negative') {
      addRuleError(
        errors,
        ruleId,
        'resources',
        'two or more resources are restricted to less nodes than available to the resources',
      );
    } else if (kind === 'node-affinity') {
      addRuleError(
        errors,
        ruleId,
        'resources',
        'at least one resource is in a negative resource affinity rule and this rule would restrict these to less nodes than available to the resources',
      );
    }
  }
}

/**
 * Extends the node affinity rule of any member of a positive rule to all its
 * members, so resources kept together are placed by the same node affinity.
 * The checks leave at most one such node affinity rule per positive rule.
 */
export function createImplicitPositiveResourceAffinityNodeAffinityRules(
  rules: RulesConfig,
  positiveRules: ResourceAffinityRules,
  nodeAffinityRules: NodeAffinityRules,
): void {
  for (const positiveId of sortedKeys(positiveRules)) {
    const positiveResources = positiveRules[positiveId].resources;
    for (const nodeAffinityId of sortedKeys(nodeAffinityRules)) {
      const rule = rules.ids[nodeAffinityId];
      if (rule === undefined || setsAreDisjoint(positiveResources, rule.resources)) continue;
      for (const sid of Object.keys(positiveResources)) rule.resources[sid] = 1;
      break;
    }
  }
}
