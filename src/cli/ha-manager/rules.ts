// HA rules: `rules list`, `rules config`, `rules add`, `rules set`,
// `rules remove`. Changes are refused when the rule would not be applied:
// unknown resources or nodes, or a conflict the manager's feasibility checks
// would drop the rule for.

import { splitList } from '../../config/pve-text.js';
import type { ResourcesConfig } from '../../config/resources-config.js';
import { parseNodePriority } from '../../core/rules/node-priority.js';
import { foreachRule, getNextOrdinal } from '../../core/rules/rule-set.js';
import { checkFeasibility } from '../../core/rules/transform.js';
import type { Affinity, GroupsConfig, NodePriority, Rule, RulesConfig, RuleType, SidSet } from '../../core/rules/types.js';
import type { NodeName } from '../../core/types.js';
import type { CliContext } from './context.js';
import { CliError, usageError } from './errors.js';
import { groupsMigrated } from './groups-state.js';
import { failingAs } from './guarded.js';
import { printList, type ListOutputOptions, type ListRecord } from './list-output.js';
import { fullRules, ruleNodes } from './rule-view.js';
import {
  assertUnmodified,
  readGroups,
  readManagerStatus,
  readResources,
  readRules,
  requireQuorum,
  updateRules,
} from './store-files.js';

/** The options each rule type takes; the first ones are required. */
const RULE_OPTIONS: Readonly<Record<RuleType, { required: readonly string[]; optional: readonly string[] }>> = {
  'node-affinity': { required: ['resources', 'nodes'], optional: ['strict', 'disable', 'comment'] },
  'resource-affinity': { required: ['resources', 'affinity'], optional: ['disable', 'comment'] },
};

export interface RuleSettings {
  resources?: string;
  nodes?: string;
  strict?: 0 | 1;
  affinity?: Affinity;
  disable?: 0 | 1;
  comment?: string;
}

const SETTING_KEYS = ['resources', 'nodes', 'strict', 'affinity', 'disable', 'comment'] as const;

function optionList(type: RuleType): string {
  const { required, optional } = RULE_OPTIONS[type];
  return [...required, ...optional].map((key) => `--${key}`).join(', ');
}

/** Refuses options the rule type does not have. */
function checkOptionsForType(type: RuleType, settings: RuleSettings): void {
  const { required, optional } = RULE_OPTIONS[type];
  for (const key of SETTING_KEYS) {
    if (settings[key] !== undefined && !required.includes(key) && !optional.includes(key)) {
      throw usageError(`option --${key} is not valid for ${type} rules (expected ${optionList(type)})`);
    }
  }
}

function parseResources(list: string): SidSet {
  const set: SidSet = {};
  for (const sid of splitList(list)) set[sid] = 1;
  return set;
}

function parseNodes(list: string): Record<NodeName, NodePriority> {
  const nodes: Record<NodeName, NodePriority> = {};
  for (const entry of splitList(list)) {
    const parsed = parseNodePriority(entry);
    // the option parser let only valid entries through
    if (parsed) nodes[parsed.node] = { priority: parsed.priority };
  }
  return nodes;
}

function applyRuleSettings(rule: Rule, settings: RuleSettings): void {
  if (settings.resources !== undefined) rule.resources = parseResources(settings.resources);
  if (settings.disable !== undefined) rule.disable = settings.disable;
  if (settings.comment !== undefined) rule.comment = settings.comment;
  if (rule.type === 'node-affinity') {
    if (settings.nodes !== undefined) rule.nodes = parseNodes(settings.nodes);
    if (settings.strict !== undefined) rule.strict = settings.strict;
  } else if (settings.affinity !== undefined) {
    rule.affinity = settings.affinity;
  }
}

function encodeNodes(nodes: Readonly<Record<NodeName, NodePriority>>): string {
  return Object.keys(nodes)
    .sort()
    .map((node) => (nodes[node].priority ? `${node}:${nodes[node].priority}` : node))
    .join(',');
}

/** A rule as the reference's API lists it. */
function ruleRecord(rules: RulesConfig, ruleId: string, errors: ReadonlyMap<string, readonly string[]> | undefined): Record<string, ListRecord[string]> {
  const rule = rules.ids[ruleId];
  return {
    rule: ruleId,
    type: rule.type,
    resources: Object.keys(rule.resources).sort().join(','),
    nodes: rule.type === 'node-affinity' ? encodeNodes(rule.nodes) : undefined,
    strict: rule.type === 'node-affinity' ? rule.strict : undefined,
    affinity: rule.type === 'resource-affinity' ? rule.affinity : undefined,
    disable: rule.disable,
    comment: rule.comment,
    digest: rules.digest,
    order: rules.order[ruleId],
    errors: errors === undefined ? undefined : Object.fromEntries([...errors].map(([key, messages]) => [key, [...messages]])),
  };
}

export interface RuleFilter {
  type?: RuleType;
  resource?: string;
}

async function listedRules(ctx: CliContext, filter: RuleFilter): Promise<Array<Record<string, ListRecord[string]>>> {
  const ms = (await readManagerStatus(ctx)).status;
  const nodes = ruleNodes(ms, await ctx.store.membership());
  const rules = fullRules(await readRules(ctx), await readGroups(ctx), await readResources(ctx));
  const errors = checkFeasibility(structuredClone(rules), nodes);
  const records: Array<Record<string, ListRecord[string]>> = [];
  foreachRule(rules, (_rule, ruleId) => records.push(ruleRecord(rules, ruleId, errors.get(ruleId))), {
    sorted: true,
    ...(filter.type !== undefined ? { type: filter.type } : {}),
    ...(filter.resource !== undefined ? { sid: filter.resource } : {}),
  });
  return records;
}

export async function printRuleList(ctx: CliContext, filter: RuleFilter, output: ListOutputOptions): Promise<void> {
  printList(ctx, await listedRules(ctx, filter), ['rule'], output);
}

export async function printRuleConfig(ctx: CliContext, filter: RuleFilter, output: ListOutputOptions): Promise<void> {
  const records = (await listedRules(ctx, filter)).map((record) => ({
    ...record,
    enabled: record.disable === undefined ? 1 : 0,
    state: record.errors === undefined ? 'in use' : 'ignored (conflicts)',
  }));
  printList(ctx, records, ['enabled', 'state', 'rule', 'type', 'resources', 'comment'], output);
}

/** What a rule change is checked against, read before the rules file is locked for the change. */
interface RuleCheckContext {
  resources: ResourcesConfig;
  groups: GroupsConfig;
  members: ReadonlySet<NodeName>;
  nodes: NodeName[];
}

async function ruleCheckContext(ctx: CliContext, refusal: string): Promise<RuleCheckContext> {
  const groups = await readGroups(ctx);
  if (!groupsMigrated(groups)) throw new CliError(`${refusal}: ha groups have not been migrated yet`);
  const membership = await ctx.store.membership();
  return {
    resources: await readResources(ctx),
    groups,
    members: new Set(Object.keys(membership.nodes)),
    nodes: ruleNodes((await readManagerStatus(ctx)).status, membership),
  };
}

function checkResourcesParam(check: RuleCheckContext, resources: SidSet): void {
  const sids = Object.keys(resources).sort();
  if (sids.length === 0) throw new CliError('no resources were specified');
  const unmanaged = sids.filter((sid) => !Object.hasOwn(check.resources.ids, sid));
  if (unmanaged.length > 0) throw new CliError(`cannot use unmanaged resource(s) ${unmanaged.join(', ')}.`);
}

function checkNodesParam(ctx: CliContext, check: RuleCheckContext, nodes: Record<NodeName, NodePriority>): void {
  const names = Object.keys(nodes).sort();
  if (names.length === 0) throw new CliError('no nodes were specified');
  // the local node counts even when the store lists no members (a single node)
  const missing = names.filter((node) => node !== ctx.nodename && !check.members.has(node));
  if (missing.length > 0) throw new CliError(`cannot use non-existent node(s) ${missing.join(', ')}.`);
}

/** Refuses the rule if the manager would drop it from the rules as changed. */
function assertFeasible(check: RuleCheckContext, rules: RulesConfig, ruleId: string): void {
  const errors = checkFeasibility(fullRules(rules, check.groups, check.resources), check.nodes).get(ruleId);
  if (errors === undefined) return;
  const reasons = [...errors.keys()].sort().map((key) => `${key}: ${(errors.get(key) ?? []).join(', ')}`);
  throw new CliError(`rule '${ruleId}' is invalid:\n${reasons.join('\n')}`);
}

export async function addRule(ctx: CliContext, type: RuleType, ruleId: string, settings: RuleSettings): Promise<void> {
  checkOptionsForType(type, settings);
  const missing = RULE_OPTIONS[type].required.filter((key) => settings[key as keyof RuleSettings] === undefined);
  if (missing.length > 0) {
    throw usageError(`missing value for required option${missing.length > 1 ? 's' : ''} ${missing.map((k) => `--${k}`).join(', ')} (${type} rules need ${RULE_OPTIONS[type].required.map((k) => `--${k}`).join(' and ')})`);
  }
  await requireQuorum(ctx);
  const check = await ruleCheckContext(ctx, 'cannot create ha rule');
  // A rule that is not disabled is stored without `disable`, as in the reference.
  const { disable, ...rest } = settings;
  const effective: RuleSettings = disable ? settings : rest;
  const rule: Rule =
    type === 'node-affinity'
      ? { type, resources: {}, nodes: {} }
      : { type, resources: {}, affinity: effective.affinity as Affinity };
  applyRuleSettings(rule, effective);

  await failingAs('create ha rule failed', () =>
    updateRules(ctx, (rules) => {
      if (Object.hasOwn(rules.ids, ruleId)) throw new CliError(`HA rule '${ruleId}' already defined`);
      checkResourcesParam(check, rule.resources);
      if (rule.type === 'node-affinity') checkNodesParam(ctx, check, rule.nodes);
      rules.order[ruleId] = getNextOrdinal(rules);
      rules.ids[ruleId] = rule;
      assertFeasible(check, rules, ruleId);
    }),
  );
}

export async function setRule(
  ctx: CliContext,
  type: RuleType,
  ruleId: string,
  settings: RuleSettings & { delete?: string; digest?: string },
): Promise<void> {
  const { delete: deleteList, digest, ...given } = settings;
  checkOptionsForType(type, given);
  const check = await ruleCheckContext(ctx, 'cannot update ha rule');
  // As in the reference, `--disable 0` is no change; `--delete disable` enables a rule.
  const { disable, ...rest } = given;
  const effective: RuleSettings = disable ? given : rest;
  const toDelete = deleteList === undefined ? [] : splitList(deleteList);

  await failingAs('update HA rules failed', () =>
    updateRules(ctx, (rules) => {
      assertUnmodified(rules, digest);
      const rule = Object.hasOwn(rules.ids, ruleId) ? rules.ids[ruleId] : undefined;
      if (rule === undefined) throw new CliError(`HA rule '${ruleId}' does not exist`);
      if (rule.type !== type) throw new CliError(`HA rule '${ruleId}' is a ${rule.type} rule, not ${type}`);
      if (effective.resources !== undefined) checkResourcesParam(check, parseResources(effective.resources));
      if (effective.nodes !== undefined) checkNodesParam(ctx, check, parseNodes(effective.nodes));

      const { required, optional } = RULE_OPTIONS[type];
      for (const key of toDelete) {
        if (required.includes(key)) throw new CliError(`unable to delete required option '${key}'`);
        if (!optional.includes(key)) throw new CliError(`no such option '${key}' (deletable: ${optional.join(', ')})`);
        if (effective[key as keyof RuleSettings] !== undefined) {
          throw new CliError(`cannot set and delete property '${key}' at the same time!`);
        }
        delete (rule as unknown as Record<string, unknown>)[key];
      }
      applyRuleSettings(rule, effective);
      assertFeasible(check, rules, ruleId);
    }),
  );
}

export async function removeRule(ctx: CliContext, ruleId: string): Promise<void> {
  await failingAs('delete ha rule failed', () =>
    updateRules(ctx, (rules) => {
      if (!Object.hasOwn(rules.ids, ruleId)) throw new CliError(`HA rule '${ruleId}' does not exist`);
      delete rules.ids[ruleId];
      delete rules.order[ruleId];
    }),
  );
}
