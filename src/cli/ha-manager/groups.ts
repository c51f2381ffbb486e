// HA groups (deprecated in favour of rules): `groupconfig`, `grouplist`,
// `groupadd`, `groupset`, `groupremove`. Once no group is left the groups
// count as migrated to rules and every group command refuses.

import { splitList } from '../../config/pve-text.js';
import type { Group, GroupsConfig } from '../../core/rules/types.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';
import { groupsMigrated } from './groups-state.js';
import { failingAs } from './guarded.js';
import { printList, type ListOutputOptions } from './list-output.js';
import { assertUnmodified, readGroups, readResources, requireQuorum, updateGroups } from './store-files.js';

async function readUnmigratedGroups(ctx: CliContext, refusal: string): Promise<GroupsConfig> {
  const groups = await readGroups(ctx);
  if (groupsMigrated(groups)) throw new CliError(`${refusal}: ha groups have been migrated to rules`);
  return groups;
}

function nodesText(group: Group): string {
  return Object.keys(group.nodes).sort().join(',');
}

/** A group as the reference's API returns it: its settings, name and the file's digest. */
function groupRecord(groups: GroupsConfig, id: string): Record<string, string | number | undefined> {
  const group = groups.ids[id];
  return {
    group: id,
    type: 'group',
    nodes: nodesText(group),
    restricted: group.restricted,
    nofailback: group.nofailback,
    comment: group.comment,
    digest: groups.digest,
  };
}

export async function printGroupConfig(ctx: CliContext): Promise<void> {
  const groups = await readUnmigratedGroups(ctx, 'cannot index groups');
  let out = '';
  for (const id of Object.keys(groups.ids).sort()) {
    out += `group: ${id}\n`;
    const record = groupRecord(groups, id);
    for (const key of Object.keys(record).sort()) {
      if (key === 'digest' || key === 'group' || key === 'type' || record[key] === undefined) continue;
      out += `\t${key} ${record[key]}\n`;
    }
    out += '\n';
  }
  ctx.stdout(out);
}

export async function printGroupList(ctx: CliContext, output: ListOutputOptions): Promise<void> {
  const groups = await readUnmigratedGroups(ctx, 'cannot index groups');
  const records = Object.keys(groups.ids)
    .sort()
    .map((id) => groupRecord(groups, id));
  printList(ctx, records, ['group'], output);
}

export interface GroupSettings {
  nodes?: string;
  restricted?: 0 | 1;
  nofailback?: 0 | 1;
  comment?: string;
}

function applyGroupSettings(group: Group, settings: GroupSettings): void {
  if (settings.nodes !== undefined) {
    group.nodes = {};
    for (const entry of splitList(settings.nodes)) group.nodes[entry] = 1;
  }
  if (settings.restricted !== undefined) group.restricted = settings.restricted;
  if (settings.nofailback !== undefined) group.nofailback = settings.nofailback;
  if (settings.comment !== undefined) group.comment = settings.comment;
}

function checkGroupType(type: string | undefined): void {
  if (type !== undefined && type !== 'group') throw new CliError(`types does not match: --type ${type} given for a group`);
}

export async function addGroup(ctx: CliContext, id: string, options: GroupSettings & { type?: string }): Promise<void> {
  await readUnmigratedGroups(ctx, 'cannot create group');
  await requireQuorum(ctx);
  checkGroupType(options.type);
  await failingAs('create ha group failed', () =>
    updateGroups(ctx, (groups) => {
      if (Object.hasOwn(groups.ids, id)) throw new CliError(`ha group ID '${id}' already defined`);
      const group: Group = { type: 'group', nodes: {} };
      applyGroupSettings(group, options);
      groups.ids[id] = group;
    }),
  );
}

const GROUP_OPTIONAL = ['comment', 'nofailback', 'restricted'] as const;

export async function setGroup(
  ctx: CliContext,
  id: string,
  options: GroupSettings & { type?: string; delete?: string; digest?: string },
): Promise<void> {
  await readUnmigratedGroups(ctx, 'cannot update group');
  checkGroupType(options.type);
  const toDelete = options.delete === undefined ? [] : splitList(options.delete);
  await failingAs('update ha group failed', () =>
    updateGroups(ctx, (groups) => {
      assertUnmodified(groups, options.digest);
      const group = Object.hasOwn(groups.ids, id) ? groups.ids[id] : undefined;
      if (group === undefined) throw new CliError(`no such ha group '${id}'`);
      applyGroupSettings(group, options);
      for (const key of toDelete) {
        if (key === 'nodes') throw new CliError(`unable to delete required option '${key}'`);
        if (!(GROUP_OPTIONAL as readonly string[]).includes(key)) {
          throw new CliError(`no such option '${key}' (deletable: ${GROUP_OPTIONAL.join(', ')})`);
        }
        delete group[key as (typeof GROUP_OPTIONAL)[number]];
      }
    }),
  );
}

export async function removeGroup(ctx: CliContext, id: string): Promise<void> {
  await readUnmigratedGroups(ctx, 'cannot delete group');
  const resources = await readResources(ctx);
  await failingAs('delete ha group failed', async () => {
    for (const sid of Object.keys(resources.ids).sort()) {
      if (resources.ids[sid].group === id) throw new CliError(`ha group is used by service '${sid}'`);
    }
    await updateGroups(ctx, (groups) => {
      if (!Object.hasOwn(groups.ids, id)) throw new CliError(`no such ha group '${id}'`);
      delete groups.ids[id];
      delete groups.order[id];
    });
  });
}
