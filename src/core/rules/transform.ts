// Pruning a rule set to a feasible one, completing it with implied rules,
// and compiling it for the scheduler. Check and transform order follows the
// reference's plugin registration: node affinity, resource affinity, then
// the checks spanning both; the messages depend on that order.

import type { NodeName } from '../types.js';
import { getCheckArguments, type CheckArguments, type RuleErrors } from './check-args.js';
import {
  checkNegativeResourceAffinityNodeAffinityConsistency,
  checkSingleNodeAffinityPerPositiveResourceAffinityRule,
  checkSinglePriorityNodeAffinityInResourceAffinityRules,
  collectNegativeConsistencyErrors,
  collectSingleNodeAffinityErrors,
  collectSinglePriorityErrors,
  createImplicitPositiveResourceAffinityNodeAffinityRules,
} from './cross-type.js';
import { checkSingleResourceReference, collectSingleResourceReferenceErrors, compileNodeAffinity } from './node-affinity.js';
import {
  checkInterResourceAffinityRulesConsistency,
  checkNegativeResourceAffinityResourcesCount,
  checkResourceAffinityResourcesCount,
  collectInterResourceAffinityErrors,
  collectNegativeResourcesCountErrors,
  collectResourcesCountErrors,
  compileResourceAffinity,
  createImplicitNegativeResourceAffinityRules,
  mergeConnectedPositiveResourceAffinityRules,
} from './resource-affinity.js';
import { compareStrings } from './sets.js';
import type { CompiledRules, RulesConfig } from './types.js';

type Check = (args: CheckArguments, nodes: readonly NodeName[], errors: RuleErrors) => void;

const CHECKS: readonly Check[] = [
  (args, _nodes, errors) =>
    collectSingleResourceReferenceErrors(checkSingleResourceReference(args.nodeAffinityRules), errors),
  (args, _nodes, errors) =>
    collectResourcesCountErrors(checkResourceAffinityResourcesCount(args.resourceAffinityRules), errors),
  (args, nodes, errors) =>
    collectNegativeResourcesCountErrors(checkNegativeResourceAffinityResourcesCount(args.negativeRules, nodes), errors),
  (args, _nodes, errors) =>
    collectInterResourceAffinityErrors(
      checkInterResourceAffinityRulesConsistency(args.positiveRules, args.negativeRules),
      errors,
    ),
  (args, _nodes, errors) =>
    collectSinglePriorityErrors(
      checkSinglePriorityNodeAffinityInResourceAffinityRules(args.resourceAffinityRules, args.nodeAffinityRules),
      errors,
    ),
  (args, _nodes, errors) =>
    collectSingleNodeAffinityErrors(
      checkSingleNodeAffinityPerPositiveResourceAffinityRule(args.positiveRules, args.nodeAffinityRules),
      errors,
    ),
  (args, _nodes, errors) =>
    collectNegativeConsistencyErrors(
      checkNegativeResourceAffinityNodeAffinityConsistency(args.negativeRules, args.nodeAffinityRules),
      errors,
    ),
];

type Transform = (rules: RulesConfig, args: CheckArguments) => void;

// Merging must precede the implicit negative rules, which expect disjoint
// positive rules.
const TRANSFORMS: readonly Transform[] = [
  (rules, args) => mergeConnectedPositiveResourceAffinityRules(rules, args.positiveRules),
  (rules, args) => createImplicitNegativeResourceAffinityRules(rules, args.positiveRules, args.negativeRules),
  (rules, args) =>
    createImplicitPositiveResourceAffinityNodeAffinityRules(rules, args.positiveRules, args.nodeAffinityRules),
];

/** Runs every check on the enabled rules; returns why each infeasible rule must go. */
export function checkFeasibility(rules: RulesConfig, nodes: readonly NodeName[]): RuleErrors {
  const errors: RuleErrors = new Map();
  const args = getCheckArguments(rules);
  for (const check of CHECKS) check(args, nodes, errors);
  return errors;
}

/**
 * Drops every rule a check finds infeasible, then adds the rules implied by
 * the remaining ones. Mutates `rules`. `nodes` are the cluster's nodes,
 * online or not. Returns one `Drop rule '<id>', because <reason>.` message
 * per reason, sorted by rule id (without the reference's trailing newline).
 */
export function transformRules(rules: RulesConfig, nodes: readonly NodeName[]): string[] {
  const errors = checkFeasibility(rules, nodes);
  for (const ruleId of errors.keys()) {
    delete rules.ids[ruleId];
    delete rules.order[ruleId];
  }

  const messages: string[] = [];
  for (const ruleId of [...errors.keys()].sort(compareStrings)) {
    const byProperty = errors.get(ruleId) ?? new Map<string, string[]>();
    for (const property of [...byProperty.keys()].sort(compareStrings)) {
      for (const reason of byProperty.get(property) ?? []) {
        messages.push(`Drop rule '${ruleId}', because ${reason}.`);
      }
    }
  }

  for (const transform of TRANSFORMS) transform(rules, getCheckArguments(rules));
  return messages;
}

/** The compact per-resource form of the enabled rules the scheduler reads. */
export function compileRules(rules: RulesConfig, nodes: readonly NodeName[]): CompiledRules {
  return {
    'node-affinity': compileNodeAffinity(rules, nodes),
    'resource-affinity': compileResourceAffinity(rules),
  };
}
