// Iteration and bookkeeping over a RulesConfig shared by all rule types.

import type { Sid } from '../types.js';
import { compareStrings, setsAreDisjoint, sortedKeys } from './sets.js';
import type { Rule, RulesConfig, RuleType, SidSet } from './types.js';

export interface ForeachRuleOptions {
  /** Only rules containing this resource. */
  sid?: Sid;
  type?: RuleType;
  excludeDisabledRules?: boolean;
  /** In config order; otherwise by rule id (the reference's order is hash order, and no caller depends on it). */
  sorted?: boolean;
}

export function foreachRule(
  rules: RulesConfig,
  fn: (rule: Rule, ruleId: string) => void,
  opts: ForeachRuleOptions = {},
): void {
  let ruleIds = sortedKeys(rules.ids);
  if (opts.sorted) {
    ruleIds = ruleIds.sort((a, b) => (rules.order[a] ?? 0) - (rules.order[b] ?? 0));
  }
  for (const ruleId of ruleIds) {
    const rule = rules.ids[ruleId];
    if (!rule) continue;
    if (opts.sid !== undefined && !Object.hasOwn(rule.resources, opts.sid)) continue;
    if (opts.type !== undefined && rule.type !== opts.type) continue;
    if (opts.excludeDisabledRules && rule.disable !== undefined) continue;
    fn(rule, ruleId);
  }
}

/**
 * The ordinal for a rule added by a transform or a migration. Like the
 * reference this is the *lowest* ordinal plus one, not the highest: generated
 * rules sort right after the first configured rule, and several of them share
 * an ordinal.
 */
export function getNextOrdinal(rules: Pick<RulesConfig, 'order'>): number {
  const values = Object.values(rules.order);
  if (values.length === 0) return 1;
  const lowest = Math.min(...values);
  return (lowest || 0) + 1;
}

export interface DisjointRuleSet {
  ruleIds: string[];
  resources: SidSet;
}

/**
 * Groups rules whose resource sets overlap. Rules are visited in order of
 * their lowest resource id (ties by rule id) and each joins the *first*
 * group it overlaps; like the reference, two existing groups that a later
 * rule bridges are not merged with each other.
 */
export function findDisjointRulesResourceSets(
  rules: Readonly<Record<string, { resources: SidSet }>>,
): DisjointRuleSet[] {
  const lowest: Record<string, string> = {};
  for (const ruleId of Object.keys(rules)) {
    lowest[ruleId] = sortedKeys(rules[ruleId].resources)[0] ?? '';
  }
  const ordered = sortedKeys(rules).sort((a, b) => compareStrings(lowest[a], lowest[b]));

  const disjoint: DisjointRuleSet[] = [];
  for (const ruleId of ordered) {
    const resources = rules[ruleId].resources;
    const entry = disjoint.find((e) => !setsAreDisjoint(resources, e.resources));
    if (entry) {
      entry.ruleIds.push(ruleId);
      for (const sid of Object.keys(resources)) entry.resources[sid] = 1;
    } else {
      disjoint.push({ ruleIds: [ruleId], resources: { ...resources } });
    }
  }
  return disjoint;
}
