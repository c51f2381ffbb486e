// groups.cfg (the simulator's groups): HA groups, the predecessor of node
// affinity rules, e.g.
//
//   group: prefer-node2
//   	nodes node2:2,node3
//   	nofailback 1

import type { Group, GroupsConfig } from '../core/rules/types.js';
import { settleIssues, type ConfigIssue } from './issues.js';
import { checkNodeListEntry } from './rules-config.js';
import {
  idsInOrder,
  parseSectionConfig,
  writeSectionConfig,
  type ParsedSection,
  type SectionConfigSchema,
} from './section-config.js';

export const GROUPS_SCHEMA: SectionConfigSchema = {
  types: {
    group: {
      properties: {
        nodes: { kind: 'list', checkItem: checkNodeListEntry },
        restricted: { kind: 'boolean', optional: true },
        nofailback: { kind: 'boolean', optional: true },
        comment: { kind: 'string', optional: true, maxLength: 4096 },
      },
    },
  },
};

function toGroup(section: ParsedSection): Group {
  const v = section.values;
  const nodes: Record<string, 1> = {};
  for (const entry of v.nodes as string[]) nodes[entry] = 1;
  return {
    type: 'group',
    nodes,
    ...(v.restricted !== undefined ? { restricted: v.restricted as 0 | 1 } : {}),
    ...(v.nofailback !== undefined ? { nofailback: v.nofailback as 0 | 1 } : {}),
    ...(v.comment !== undefined ? { comment: v.comment as string } : {}),
  };
}

/**
 * Parses groups.cfg; `nodes` keeps each `node[:priority]` entry as written.
 * With `issues`, problems are reported there and the usable rest returned;
 * without, any problem throws a ConfigError.
 */
export function parseGroupsConfig(text: string, file = 'groups.cfg', issues?: ConfigIssue[]): GroupsConfig {
  const found: ConfigIssue[] = [];
  const data = parseSectionConfig(GROUPS_SCHEMA, text, file, found);
  settleIssues(found, issues);
  const ids: Record<string, Group> = {};
  for (const [id, section] of Object.entries(data.sections)) ids[id] = toGroup(section);
  return { ids, order: data.order, digest: data.digest };
}

/** Writes groups.cfg; node entries sorted (the reference writes them in hash order). */
export function writeGroupsConfig(groups: Pick<GroupsConfig, 'ids' | 'order'>): string {
  return writeSectionConfig(
    GROUPS_SCHEMA,
    idsInOrder(Object.keys(groups.ids), groups.order).map((id) => {
      const group = groups.ids[id];
      return {
        type: 'group',
        id,
        values: {
          nodes: Object.keys(group.nodes).sort(),
          restricted: group.restricted,
          nofailback: group.nofailback,
          comment: group.comment,
        },
      };
    }),
  );
}
