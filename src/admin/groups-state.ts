// HA groups were replaced by node affinity rules. The reference treats a
// cluster without any group as migrated: groups can then no longer be
// created or used, and rules can be; while groups exist it is the reverse.

import type { GroupsConfig } from '../core/rules/types.js';

export function groupsMigrated(groups: Pick<GroupsConfig, 'ids'>): boolean {
  return Object.keys(groups.ids).length === 0;
}
