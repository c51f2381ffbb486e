// The rule subsets every check and transform works on, rebuilt from the
// current rules before each use (transforms change the rules in between).

import { foreachRule } from './rule-set.js';
import type { NodeAffinityRule, ResourceAffinityRule, RulesConfig } from './types.js';

export interface CheckArguments {
  nodeAffinityRules: Record<string, NodeAffinityRule>;
  resourceAffinityRules: Record<string, ResourceAffinityRule>;
  positiveRules: Record<string, ResourceAffinityRule>;
  negativeRules: Record<string, ResourceAffinityRule>;
}

/** Enabled rules by kind; the records hold the rule objects of `rules` itself, not copies. */
export function getCheckArguments(rules: RulesConfig): CheckArguments {
  const args: CheckArguments = {
    nodeAffinityRules: {},
    resourceAffinityRules: {},
    positiveRules: {},
    negativeRules: {},
  };
  foreachRule(
    rules,
    (rule, ruleId) => {
      switch (rule.type) {
        case 'node-affinity':
          args.nodeAffinityRules[ruleId] = rule;
          return;
        case 'resource-affinity':
          args.resourceAffinityRules[ruleId] = rule;
          if (rule.affinity === 'positive') args.positiveRules[ruleId] = rule;
          if (rule.affinity === 'negative') args.negativeRules[ruleId] = rule;
          return;
        default: {
          const unreachable: never = rule;
          throw new Error(`unknown rule type '${String((unreachable as { type: unknown }).type)}'`);
        }
      }
    },
    { excludeDisabledRules: true },
  );
  return args;
}

/** Reasons to drop rules: rule id → property blamed → messages, in check order. */
export type RuleErrors = Map<string, Map<string, string[]>>;

export function addRuleError(errors: RuleErrors, ruleId: string, property: string, message: string): void {
  let byProperty = errors.get(ruleId);
  if (!byProperty) {
    byProperty = new Map();
    errors.set(ruleId, byProperty);
  }
  let messages = byProperty.get(property);
  if (!messages) {
    messages = [];
    byProperty.set(property, messages);
  }
  messages.push(message);
}

/** A conflict naming the kind of rule involved and its id. */
export type TypedConflict = readonly [kind: string, ruleId: string];

export function sortConflicts<T extends readonly [string, string]>(conflicts: T[]): T[] {
  return conflicts.sort((a, b) => {
    if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
    if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
    return 0;
  });
}
