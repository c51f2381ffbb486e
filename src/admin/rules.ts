// HA rules: the reference's /cluster/ha/rules. A change is refused when
// the rule would not be applied: unknown resources or nodes, or a conflict
// the manager's feasibility checks would drop the rule for. The resources
// and nodes are checked under the HA config lock, against the resources as
// they are when the rule is written: a resource removed meanwhile cannot
// leave a rule behind.

import type { ResourcesConfig } from '../config/resources-config.js';
import { parseNodePriority } from '../core/rules/node-priority.js';
import { foreachRule, getNextOrdinal } from '../core/rules/rule-set.js';
import { checkFeasibility } from '../core/rules/transform.js';
import type { Affinity, GroupsConfig, NodePriority, Rule, RulesConfig, RuleType, SidSet } from '../core/rules/types.js';
import type { NodeName } from '../core/types.js';
import type { AdminContext } from './context.js';
import { AdminError, conflict, notFound, refused } from './errors.js';
import { groupsMigrated } from './groups-state.js';
import {
  GROUPS,
  RESOURCES,
  RULES,
  assertUnmodified,
  changeHaConfig,
  fromStore,
  readForChange,
  readLenient,
  readManagerStatus,
  requireQuorum,
  writeConfig,
  type FileSource,
} from './ha-files.js';
import type { ParamsOf } from './operations.js';
import { fullRules, ruleNodes } from './rule-view.js';
import type { Infer } from './schema.js';
import { applyComment, settingsToDelete } from './settings.js';

/** The options each rule type takes; the first ones are required. */
const RULE_OPTIONS: Readonly<Record<RuleType, { required: readonly string[]; optional: readonly string[] }>> = {
  'node-affinity': { required: ['resources', 'nodes'], optional: ['strict', 'disable', 'comment'] },
  'resource-affinity': { required: ['resources', 'affinity'], optional: ['disable', 'comment'] },
};

const SETTING_KEYS = ['resources', 'nodes', 'strict', 'affinity', 'disable', 'comment'] as const;
type Settings = Pick<Infer<ParamsOf<'rules.update'>>, (typeof SETTING_KEYS)[number]>;

/** A rule as the reference's API lists it. */
export interface RuleRecord {
  rule: string;
  type: RuleType;
  resources: string;
  nodes?: string;
  strict?: 0 | 1;
  affinity?: Affinity;
  disable?: 0 | 1;
  comment?: string;
  digest: string;
  order?: number;
  /** Why the manager ignores the rule, by option: it conflicts with other rules or the cluster. */
  errors?: Record<string, string[]>;
}

function optionList(type: RuleType): string {
  const { required, optional } = RULE_OPTIONS[type];
  return [...required, ...optional].join(', ');
}

/** Refuses options the rule type does not have, each under its own name. */
function checkOptionsForType(type: RuleType, settings: Settings): void {
  const { required, optional } = RULE_OPTIONS[type];
  const errors: Record<string, string> = {};
  for (const key of SETTING_KEYS) {
    if (settings[key] !== undefined && !required.includes(key) && !optional.includes(key)) {
      errors[key] = `not valid for ${type} rules (expected ${optionList(type)})`;
    }
  }
  if (Object.keys(errors).length > 0) throw new AdminError('invalid', 'Parameter verification failed.', errors);
}

function parseResources(list: string): SidSet {
  const set: SidSet = {};
  for (const sid of list.split(',')) set[sid] = 1;
  return set;
}

function parseNodes(list: string): Record<NodeName, NodePriority> {
  const nodes: Record<NodeName, NodePriority> = {};
  for (const entry of list.split(',')) {
    const parsed = parseNodePriority(entry);
    // the parameter check let only valid entries through
    if (parsed) nodes[parsed.node] = { priority: parsed.priority };
  }
  return nodes;
}

/** As in the reference, a `disable` of 0 is no setting at all: `delete disable` enables a rule. */
function effective(settings: Settings): Settings {
  const { disable, ...rest } = settings;
  return disable ? settings : rest;
}

function applyRuleSettings(rule: Rule, settings: Settings): void {
  if (settings.resources !== undefined) rule.resources = parseResources(settings.resources);
  if (settings.disable !== undefined) rule.disable = settings.disable ? 1 : 0;
  applyComment(rule, settings.comment);
  if (rule.type === 'node-affinity') {
    if (settings.nodes !== undefined) rule.nodes = parseNodes(settings.nodes);
    if (settings.strict !== undefined) rule.strict = settings.strict ? 1 : 0;
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

function ruleRecord(rules: RulesConfig, ruleId: string, errors: ReadonlyMap<string, readonly string[]> | undefined): RuleRecord {
  const rule = rules.ids[ruleId];
  const record: RuleRecord = { rule: ruleId, type: rule.type, resources: Object.keys(rule.resources).sort().join(','), digest: rules.digest };
  if (rule.type === 'node-affinity') {
    record.nodes = encodeNodes(rule.nodes);
    if (rule.strict !== undefined) record.strict = rule.strict;
  } else {
    record.affinity = rule.affinity;
  }
  if (rule.disable !== undefined) record.disable = rule.disable;
  if (rule.comment !== undefined) record.comment = rule.comment;
  if (rules.order[ruleId] !== undefined) record.order = rules.order[ruleId];
  if (errors !== undefined) record.errors = Object.fromEntries([...errors].map(([key, messages]) => [key, [...messages]]));
  return record;
}

async function checkedRules(ctx: AdminContext, source: FileSource): Promise<{ rules: RulesConfig; errors: Map<string, Map<string, string[]>> }> {
  const ms = (await readManagerStatus(source)).status;
  const nodes = ruleNodes(ms, await ctx.store.membership());
  const rules = fullRules(await readLenient(ctx, source, RULES), await readLenient(ctx, source, GROUPS), await readLenient(ctx, source, RESOURCES));
  return { rules, errors: checkFeasibility(structuredClone(rules), nodes) };
}

export async function listRules(ctx: AdminContext, params: Infer<ParamsOf<'rules.index'>>): Promise<RuleRecord[]> {
  const { rules, errors } = await checkedRules(ctx, fromStore(ctx));
  const records: RuleRecord[] = [];
  foreachRule(rules, (_rule, ruleId) => records.push(ruleRecord(rules, ruleId, errors.get(ruleId))), {
    sorted: true,
    ...(params.type !== undefined ? { type: params.type } : {}),
    ...(params.resource !== undefined ? { sid: params.resource } : {}),
  });
  return records;
}

export async function readRule(ctx: AdminContext, params: Infer<ParamsOf<'rules.read'>>): Promise<RuleRecord> {
  const { rules, errors } = await checkedRules(ctx, fromStore(ctx));
  if (!Object.hasOwn(rules.ids, params.rule)) throw notFound(`no such ha rule '${params.rule}'`);
  return ruleRecord(rules, params.rule, errors.get(params.rule));
}

/** What a rule change is checked against, read under the HA config lock. */
interface RuleCheckContext {
  resources: ResourcesConfig;
  groups: GroupsConfig;
  members: ReadonlySet<NodeName>;
  nodes: NodeName[];
}

async function ruleCheckContext(ctx: AdminContext, files: FileSource, refusal: string): Promise<RuleCheckContext> {
  const groups = await readLenient(ctx, files, GROUPS);
  if (!groupsMigrated(groups)) throw refused(`${refusal}: ha groups have not been migrated yet`);
  const membership = await ctx.store.membership();
  return {
    resources: await readLenient(ctx, files, RESOURCES),
    groups,
    members: new Set(Object.keys(membership.nodes)),
    nodes: ruleNodes((await readManagerStatus(files)).status, membership),
  };
}

function checkResourcesParam(check: RuleCheckContext, resources: SidSet): void {
  const sids = Object.keys(resources).sort();
  if (sids.length === 0) throw refused('no resources were specified');
  const unmanaged = sids.filter((sid) => !Object.hasOwn(check.resources.ids, sid));
  if (unmanaged.length > 0) throw refused(`cannot use unmanaged resource(s) ${unmanaged.join(', ')}.`);
}

function checkNodesParam(ctx: AdminContext, check: RuleCheckContext, nodes: Record<NodeName, NodePriority>): void {
  const names = Object.keys(nodes).sort();
  if (names.length === 0) throw refused('no nodes were specified');
  // the local node counts even when the store lists no members (a single node)
  const missing = names.filter((node) => node !== ctx.nodename && !check.members.has(node));
  if (missing.length > 0) throw refused(`cannot use non-existent node(s) ${missing.join(', ')}.`);
}

/** Refuses the rule if the manager would drop it from the rules as changed. */
function assertFeasible(check: RuleCheckContext, rules: RulesConfig, ruleId: string): void {
  const errors = checkFeasibility(fullRules(rules, check.groups, check.resources), check.nodes).get(ruleId);
  if (errors === undefined) return;
  const byOption = Object.fromEntries([...errors.keys()].sort().map((key) => [key, (errors.get(key) ?? []).join(', ')]));
  throw refused(`rule '${ruleId}' is invalid:`, byOption);
}

async function requireMigrated(ctx: AdminContext, refusal: string): Promise<void> {
  if (!groupsMigrated(await readLenient(ctx, fromStore(ctx), GROUPS))) throw refused(`${refusal}: ha groups have not been migrated yet`);
}

export async function createRule(ctx: AdminContext, params: Infer<ParamsOf<'rules.create'>>): Promise<null> {
  const { type, rule: ruleId } = params;
  checkOptionsForType(type, params);
  const missing = RULE_OPTIONS[type].required.filter((key) => params[key as keyof Settings] === undefined);
  if (missing.length > 0) {
    throw new AdminError(
      'invalid',
      'Parameter verification failed.',
      Object.fromEntries(missing.map((key) => [key, `property is missing and it is required for ${type} rules`])),
    );
  }
  await requireQuorum(ctx);
  await requireMigrated(ctx, 'cannot create ha rule');
  const settings = effective(params);
  const rule: Rule =
    type === 'node-affinity' ? { type, resources: {}, nodes: {} } : { type, resources: {}, affinity: settings.affinity as Affinity };
  applyRuleSettings(rule, settings);

  await changeHaConfig(ctx, 'create ha rule failed', async (files) => {
    const check = await ruleCheckContext(ctx, files, 'cannot create ha rule');
    const rules = await readForChange(ctx, files, RULES);
    if (Object.hasOwn(rules.ids, ruleId)) throw conflict(`HA rule '${ruleId}' already defined`);
    checkResourcesParam(check, rule.resources);
    if (rule.type === 'node-affinity') checkNodesParam(ctx, check, rule.nodes);
    rules.order[ruleId] = getNextOrdinal(rules);
    rules.ids[ruleId] = structuredClone(rule);
    assertFeasible(check, rules, ruleId);
    await writeConfig(ctx, files, RULES, rules);
  });
  return null;
}

export async function updateRule(ctx: AdminContext, params: Infer<ParamsOf<'rules.update'>>): Promise<null> {
  const { type, rule: ruleId, digest } = params;
  checkOptionsForType(type, params);
  const toDelete = settingsToDelete(params, RULE_OPTIONS[type].optional, RULE_OPTIONS[type].required);
  await requireQuorum(ctx);
  await requireMigrated(ctx, 'cannot update ha rule');
  const settings = effective(params);

  await changeHaConfig(ctx, 'update HA rules failed', async (files) => {
    const check = await ruleCheckContext(ctx, files, 'cannot update ha rule');
    const rules = await readForChange(ctx, files, RULES);
    assertUnmodified(rules, digest);
    const rule = Object.hasOwn(rules.ids, ruleId) ? rules.ids[ruleId] : undefined;
    if (rule === undefined) throw notFound(`HA rule '${ruleId}' does not exist`);
    if (rule.type !== type) throw refused(`HA rule '${ruleId}' is a ${rule.type} rule, not ${type}`);
    if (settings.resources !== undefined) checkResourcesParam(check, parseResources(settings.resources));
    if (settings.nodes !== undefined) checkNodesParam(ctx, check, parseNodes(settings.nodes));
    for (const key of toDelete) delete (rule as unknown as Record<string, unknown>)[key];
    applyRuleSettings(rule, settings);
    assertFeasible(check, rules, ruleId);
    await writeConfig(ctx, files, RULES, rules);
  });
  return null;
}

export async function deleteRule(ctx: AdminContext, params: Infer<ParamsOf<'rules.delete'>>): Promise<null> {
  await requireQuorum(ctx);
  await changeHaConfig(ctx, 'delete ha rule failed', async (files) => {
    const rules = await readForChange(ctx, files, RULES);
    if (!Object.hasOwn(rules.ids, params.rule)) throw notFound(`HA rule '${params.rule}' does not exist`);
    delete rules.ids[params.rule];
    delete rules.order[params.rule];
    await writeConfig(ctx, files, RULES, rules);
  });
  return null;
}
