// Carrying HA groups over to what replaced them: the failback flag on each
// resource and one node affinity rule per group. Both mutate their first
// arguments, like the reference, because the manager applies them to the
// freshly read configs each round before using them.

import type { Sid } from '../types.js';
import { parseNodePriority } from './node-priority.js';
import { getNextOrdinal } from './rule-set.js';
import { sortedKeys } from './sets.js';
import type { GroupsConfig, NodePriority, RulesConfig, SidSet } from './types.js';

/** Perl truthiness of an optional string: undefined, '' and '0' are false. */
function isSet(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== '0';
}

/**
 * Sets `failback` on every resource with a group: off when the group has
 * `nofailback`, on otherwise. Mutates `resources` — and `groups`: a group a
 * resource names but the config lacks is added, empty, as the reference's
 * lookup creates it on the fly. The manager round runs the rules migration
 * after this one, so such a resource gets an empty node affinity rule there,
 * whose only effect is on the rule checks (it conflicts with other node
 * affinity rules of the resource).
 */
export function migrateGroupsToResources(
  groups: GroupsConfig,
  resources: Record<Sid, { group?: string; failback: boolean }>,
): void {
  for (const sid of sortedKeys(resources)) {
    const groupId = resources[sid].group;
    if (!isSet(groupId)) continue;
    groups.ids[groupId] ??= { type: 'group', nodes: {} };
    resources[sid].failback = !groups.ids[groupId].nofailback;
  }
}

/**
 * Adds a node affinity rule `ha-group-<group>` for every existing group that
 * some resource uses: the group's nodes and priorities, strict if the group
 * is restricted, the group's comment or a note where it came from. Mutates
 * `rules`. Groups are visited by name; the reference visits them in hash
 * order, which only changes which generated rule gets ordinal 1 when the
 * rules config is empty.
 */
export function migrateGroupsToRules(
  rules: RulesConfig,
  groups: Readonly<GroupsConfig>,
  resources: Readonly<Record<Sid, { group?: string }>>,
): void {
  const groupResources = new Map<string, SidSet>();
  for (const sid of sortedKeys(resources)) {
    const groupId = resources[sid].group;
    if (!isSet(groupId)) continue;
    const members = groupResources.get(groupId) ?? {};
    members[sid] = 1;
    groupResources.set(groupId, members);
  }

  for (const groupId of [...groupResources.keys()].sort()) {
    const group = groups.ids[groupId];
    if (group === undefined) continue;

    const nodes: Record<string, NodePriority> = {};
    for (const entry of sortedKeys(group.nodes)) {
      // The groups parser keeps only valid entries.
      const parsed = parseNodePriority(entry);
      if (parsed) nodes[parsed.node] = { priority: parsed.priority };
    }

    const ruleId = `ha-group-${groupId}`;
    rules.ids[ruleId] = {
      type: 'node-affinity',
      resources: groupResources.get(groupId) ?? {},
      nodes,
      ...(group.restricted !== undefined ? { strict: group.restricted } : {}),
      comment: isSet(group.comment) ? group.comment : `Generated from HA group '${groupId}'.`,
    };
    rules.order[ruleId] = getNextOrdinal(rules);
  }
}
