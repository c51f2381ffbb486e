// The rules as the HA manager will apply them: defaults set, HA groups still
// in use turned into node affinity rules, checked against the cluster's
// nodes. `rules add/set` refuse what the manager would drop; `migrate` and
// `relocate` use the compiled resource affinity.

import type { ResourcesConfig } from '../config/resources-config.js';
import { setRuleDefaults } from '../config/rules-config.js';
import { migrateGroupsToRules } from '../core/rules/groups-migration.js';
import { compileRules, transformRules } from '../core/rules/transform.js';
import type { CompiledRules, GroupsConfig, RulesConfig } from '../core/rules/types.js';
import type { ManagerStatus, NodeName } from '../core/types.js';
import type { ClusterMembership } from '../env/env.js';
import type { AdminContext } from './context.js';
import { GROUPS, RULES, readLenient, type FileSource } from './ha-files.js';

/**
 * The nodes rules are checked against: those the master tracks, as in the
 * reference. Before any master ran there are none, and every negative
 * affinity rule would be infeasible; the cluster members stand in then.
 */
export function ruleNodes(ms: ManagerStatus, membership: ClusterMembership): NodeName[] {
  if (ms.node_status !== undefined) return Object.keys(ms.node_status).sort();
  return Object.keys(membership.nodes).sort();
}

/** A copy of `rules` with defaults set and the groups in use added as rules. */
export function fullRules(
  rules: RulesConfig,
  groups: GroupsConfig,
  resources: Pick<ResourcesConfig, 'ids'>,
): RulesConfig {
  const full = structuredClone(rules);
  for (const rule of Object.values(full.ids)) setRuleDefaults(rule);
  migrateGroupsToRules(full, groups, resources.ids);
  return full;
}

/** The compiled rules the master works with (infeasible rules dropped). */
export async function compiledRules(
  ctx: AdminContext,
  source: FileSource,
  resources: Pick<ResourcesConfig, 'ids'>,
  nodes: readonly NodeName[],
): Promise<CompiledRules> {
  const rules = fullRules(await readLenient(ctx, source, RULES), await readLenient(ctx, source, GROUPS), resources);
  transformRules(rules, nodes);
  return compileRules(rules, nodes);
}
