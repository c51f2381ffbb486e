// HA groups (deprecated in favour of rules): the reference's
// /cluster/ha/groups. Once no group is left the groups count as migrated to
// rules and every group operation refuses.

import type { Group, GroupsConfig } from '../core/rules/types.js';
import type { AdminContext } from './context.js';
import { conflict, notFound, refused } from './errors.js';
import { groupsMigrated } from './groups-state.js';
import {
  GROUPS,
  RESOURCES,
  assertUnmodified,
  changeHaConfig,
  fromStore,
  readForChange,
  readLenient,
  requireQuorum,
  writeConfig,
  type FileSource,
} from './ha-files.js';
import type { ParamsOf } from './operations.js';
import type { Infer } from './schema.js';
import { applyComment, settingsToDelete } from './settings.js';

/** A group as the reference's API returns it: its settings, name, type and the file's digest. */
export interface GroupRecord {
  group: string;
  type: 'group';
  nodes: string;
  restricted?: 0 | 1;
  nofailback?: 0 | 1;
  comment?: string;
  digest: string;
}

async function readUnmigrated(ctx: AdminContext, source: FileSource, refusal: string): Promise<GroupsConfig> {
  const groups = await readLenient(ctx, source, GROUPS);
  if (groupsMigrated(groups)) throw refused(`${refusal}: ha groups have been migrated to rules`);
  return groups;
}

function groupRecord(groups: GroupsConfig, id: string): GroupRecord {
  const group = groups.ids[id];
  const record: GroupRecord = { group: id, type: 'group', nodes: Object.keys(group.nodes).sort().join(','), digest: groups.digest };
  if (group.restricted !== undefined) record.restricted = group.restricted;
  if (group.nofailback !== undefined) record.nofailback = group.nofailback;
  if (group.comment !== undefined) record.comment = group.comment;
  return record;
}

export async function listGroups(ctx: AdminContext): Promise<GroupRecord[]> {
  const groups = await readUnmigrated(ctx, fromStore(ctx), 'cannot index groups');
  return Object.keys(groups.ids)
    .sort()
    .map((id) => groupRecord(groups, id));
}

export async function readGroup(ctx: AdminContext, params: Infer<ParamsOf<'groups.read'>>): Promise<GroupRecord> {
  const groups = await readUnmigrated(ctx, fromStore(ctx), 'cannot read group');
  if (!Object.hasOwn(groups.ids, params.group)) throw notFound(`no such ha group '${params.group}'`);
  return groupRecord(groups, params.group);
}

type Settings = Pick<Infer<ParamsOf<'groups.update'>>, 'nodes' | 'restricted' | 'nofailback' | 'comment'>;

function applySettings(group: Group, settings: Settings): void {
  if (settings.nodes !== undefined) {
    group.nodes = {};
    for (const entry of settings.nodes.split(',')) group.nodes[entry] = 1;
  }
  if (settings.restricted !== undefined) group.restricted = settings.restricted ? 1 : 0;
  if (settings.nofailback !== undefined) group.nofailback = settings.nofailback ? 1 : 0;
  applyComment(group, settings.comment);
}

export async function createGroup(ctx: AdminContext, params: Infer<ParamsOf<'groups.create'>>): Promise<null> {
  await requireQuorum(ctx);
  await readUnmigrated(ctx, fromStore(ctx), 'cannot create group');
  await changeHaConfig(ctx, 'create ha group failed', async (files) => {
    await readUnmigrated(ctx, files, 'cannot create group');
    const groups = await readForChange(ctx, files, GROUPS);
    if (Object.hasOwn(groups.ids, params.group)) throw conflict(`ha group ID '${params.group}' already defined`);
    const group: Group = { type: 'group', nodes: {} };
    applySettings(group, params);
    groups.ids[params.group] = group;
    await writeConfig(ctx, files, GROUPS, groups);
  });
  return null;
}

const GROUP_OPTIONAL = ['comment', 'nofailback', 'restricted'] as const;

export async function updateGroup(ctx: AdminContext, params: Infer<ParamsOf<'groups.update'>>): Promise<null> {
  await requireQuorum(ctx);
  await readUnmigrated(ctx, fromStore(ctx), 'cannot update group');
  const toDelete = settingsToDelete(params, GROUP_OPTIONAL, ['nodes']);
  await changeHaConfig(ctx, 'update ha group failed', async (files) => {
    await readUnmigrated(ctx, files, 'cannot update group');
    const groups = await readForChange(ctx, files, GROUPS);
    assertUnmodified(groups, params.digest);
    const group = Object.hasOwn(groups.ids, params.group) ? groups.ids[params.group] : undefined;
    if (group === undefined) throw notFound(`no such ha group '${params.group}'`);
    applySettings(group, params);
    for (const key of toDelete) delete group[key];
    await writeConfig(ctx, files, GROUPS, groups);
  });
  return null;
}

export async function deleteGroup(ctx: AdminContext, params: Infer<ParamsOf<'groups.delete'>>): Promise<null> {
  await requireQuorum(ctx);
  await readUnmigrated(ctx, fromStore(ctx), 'cannot delete group');
  await changeHaConfig(ctx, 'delete ha group failed', async (files) => {
    await readUnmigrated(ctx, files, 'cannot delete group');
    const resources = await readLenient(ctx, files, RESOURCES);
    for (const sid of Object.keys(resources.ids).sort()) {
      if (resources.ids[sid].group === params.group) throw refused(`ha group is used by service '${sid}'`);
    }
    const groups = await readForChange(ctx, files, GROUPS);
    if (!Object.hasOwn(groups.ids, params.group)) throw notFound(`no such ha group '${params.group}'`);
    delete groups.ids[params.group];
    delete groups.order[params.group];
    await writeConfig(ctx, files, GROUPS, groups);
  });
  return null;
}
