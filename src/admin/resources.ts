// HA resources: list, read, create, update, delete (the reference's
// /cluster/ha/resources). Each change is one step under the HA config lock.

import type { ResourceEntry } from '../config/resources-config.js';
import { guestConfigPath } from '../env/node/layout.js';
import type { Sid } from '../core/types.js';
import type { AdminContext, AdminResourceType } from './context.js';
import { conflict, invalidParam, notFound, refused } from './errors.js';
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
} from './ha-files.js';
import { readInventory, type Inventory } from './inventory.js';
import type { ParamsOf } from './operations.js';
import type { Infer } from './schema.js';
import { checkServiceState, isConfigured } from './services.js';
import { applyComment, settingsToDelete } from './settings.js';
import { resolveSid } from './sid.js';

/** A resource as the API returns it: its settings as written, its id and the file's digest. */
export interface ResourceRecord extends ResourceEntry {
  sid: Sid;
  digest: string;
  /** Settings that refer to what does not exist, e.g. `{ group: "group 'g1' does not exist" }`. */
  errors?: Record<string, string>;
}

/** The settings `create` and `update` take, in resources.cfg's order. */
export const RESOURCE_SETTING_KEYS = ['state', 'group', 'failback', 'max_restart', 'max_relocate', 'comment'] as const;
type SettingKey = (typeof RESOURCE_SETTING_KEYS)[number];

type CreateParams = Infer<ParamsOf<'resources.create'>>;
type UpdateParams = Infer<ParamsOf<'resources.update'>>;
type Settings = Pick<CreateParams, SettingKey>;

/** Writes the given settings into the entry; a blank comment means none. */
function applySettings(entry: ResourceEntry, settings: Settings): void {
  if (settings.state !== undefined) entry.state = settings.state;
  if (settings.group !== undefined) entry.group = settings.group;
  if (settings.failback !== undefined) entry.failback = settings.failback ? 1 : 0;
  if (settings.max_restart !== undefined) entry.max_restart = settings.max_restart;
  if (settings.max_relocate !== undefined) entry.max_relocate = settings.max_relocate;
  applyComment(entry, settings.comment);
}

function record(sid: Sid, entry: ResourceEntry, digest: string, hideGroup: boolean): ResourceRecord {
  const { type, ...settings } = entry;
  const result: ResourceRecord = { sid, type, digest };
  for (const key of RESOURCE_SETTING_KEYS) {
    if (settings[key] !== undefined && !(key === 'group' && hideGroup)) Object.assign(result, { [key]: settings[key] });
  }
  return result;
}

function knownType(ctx: AdminContext, param: string, type: string): AdminResourceType {
  if (Object.hasOwn(ctx.resourceTypes, type)) return ctx.resourceTypes[type];
  throw invalidParam(param, `unknown resource type '${type}' (expected one of ${Object.keys(ctx.resourceTypes).join(', ')})`);
}

export async function listResources(ctx: AdminContext, params: Infer<ParamsOf<'resources.index'>>): Promise<ResourceRecord[]> {
  if (params.type !== undefined) knownType(ctx, 'type', params.type);
  const source = fromStore(ctx);
  const resources = await readLenient(ctx, source, RESOURCES);
  const groups = await readLenient(ctx, source, GROUPS);
  // Once groups are gone a leftover group setting means nothing; it is not shown.
  const hideGroup = groupsMigrated(groups);
  const records: ResourceRecord[] = [];
  for (const sid of Object.keys(resources.ids).sort()) {
    const entry = resources.ids[sid];
    if (params.type !== undefined && params.type !== entry.type) continue;
    const item = record(sid, entry, resources.digest, hideGroup);
    if (item.group !== undefined && !Object.hasOwn(groups.ids, item.group)) {
      item.errors = { group: `group '${item.group}' does not exist` };
    }
    records.push(item);
  }
  return records;
}

export async function readResource(ctx: AdminContext, params: Infer<ParamsOf<'resources.read'>>): Promise<ResourceRecord> {
  const { sid } = await resolveSid(ctx, params.sid);
  const source = fromStore(ctx);
  const resources = await readLenient(ctx, source, RESOURCES);
  if (!Object.hasOwn(resources.ids, sid)) throw notFound(`no such resource '${sid}'`);
  return record(sid, resources.ids[sid], resources.digest, groupsMigrated(await readLenient(ctx, source, GROUPS)));
}

function checkTypeParam(sid: Sid, type: string, given: string | undefined): void {
  if (given !== undefined && given !== type) throw invalidParam('type', `types does not match: '${given}' given for '${sid}'`);
}

/**
 * Checks that the resource exists where the HA stack will look for it.
 * Returns the marker to write for a non-guest resource added with a node.
 */
async function checkExists(
  ctx: AdminContext,
  inventory: Inventory,
  sid: Sid,
  name: string,
  spec: AdminResourceType,
  node: string | undefined,
): Promise<string | undefined> {
  if (spec.guest !== undefined) {
    const guest = inventory.guests.get(name);
    if (node !== undefined) {
      throw invalidParam(
        'node',
        `only for resource types that are not guests; '${sid}' runs where its guest config is` + (guest ? ` (node '${guest.node}')` : ''),
      );
    }
    if (guest === undefined) throw notFound(`resource '${sid}' does not exist in cluster`);
    if (guest.kind !== spec.guest) {
      throw refused(`resource '${sid}' - guest with ID ${name} is not a ${spec.guest === 'qemu' ? 'VM' : 'container'}`);
    }
    return undefined;
  }

  const located = inventory.markers.get(sid) ?? [];
  if (node === undefined) {
    if (located.length === 1) return undefined;
    if (located.length === 0) {
      throw refused(`resource '${sid}' has no location yet: give the node it runs on (--node <node>)`);
    }
    throw refused(`resource '${sid}' is marked on several nodes (${located.join(', ')}); remove all markers but one`);
  }
  if (!Object.hasOwn((await ctx.store.membership()).nodes, node)) throw notFound(`no such cluster node '${node}'`);
  if (located.length === 1 && located[0] === node) return undefined;
  if (located.length > 0) {
    throw refused(`resource '${sid}' is already located on node '${located.join("', '")}', not '${node}'`);
  }
  return guestConfigPath(node, sid);
}

const GROUPS_MIGRATED = "invalid parameter 'group': ha groups have been migrated to rules";

export async function createResource(ctx: AdminContext, params: CreateParams): Promise<null> {
  await requireQuorum(ctx);
  const inventory = await readInventory(ctx);
  const { sid, type, name } = await resolveSid(ctx, params.sid, inventory);
  checkTypeParam(sid, type, params.type);
  const spec = knownType(ctx, 'sid', type);
  const problem = spec.checkName(name);
  if (problem !== undefined) throw invalidParam('sid', problem);
  const marker = await checkExists(ctx, inventory, sid, name, spec, params.node);
  if (params.group !== undefined && groupsMigrated(await readLenient(ctx, fromStore(ctx), GROUPS))) throw refused(GROUPS_MIGRATED);

  await changeHaConfig(ctx, 'create resource failed', async (files) => {
    if (params.group !== undefined && groupsMigrated(await readLenient(ctx, files, GROUPS))) throw refused(GROUPS_MIGRATED);
    const config = await readForChange(ctx, files, RESOURCES);
    if (Object.hasOwn(config.ids, sid)) throw conflict(`resource ID '${sid}' already defined`);
    const entry: ResourceEntry = { type };
    applySettings(entry, params);
    config.ids[sid] = entry;
    await writeConfig(ctx, files, RESOURCES, config);
  });
  // The resource's location, written once the resource is known to the HA stack.
  if (marker !== undefined) await ctx.store.write(marker, '');
  return null;
}

export async function updateResource(ctx: AdminContext, params: UpdateParams): Promise<null> {
  await requireQuorum(ctx);
  const { sid, type } = await resolveSid(ctx, params.sid);
  checkTypeParam(sid, type, params.type);
  const toDelete = settingsToDelete(params, RESOURCE_SETTING_KEYS);
  if (params.group !== undefined) {
    const groups = await readLenient(ctx, fromStore(ctx), GROUPS);
    if (groupsMigrated(groups)) throw refused(GROUPS_MIGRATED);
    if (!Object.hasOwn(groups.ids, params.group)) throw notFound(`HA group '${params.group}' does not exist`);
  }
  const source = fromStore(ctx);
  checkServiceState(await readLenient(ctx, source, RESOURCES), (await readManagerStatus(source)).status, sid, params.state);

  // The checks made above are made again under the lock: they must hold when the change is written.
  await changeHaConfig(ctx, 'update resources config failed', async (files) => {
    if (params.group !== undefined) {
      const groups = await readLenient(ctx, files, GROUPS);
      if (groupsMigrated(groups)) throw refused(GROUPS_MIGRATED);
      if (!Object.hasOwn(groups.ids, params.group)) throw notFound(`HA group '${params.group}' does not exist`);
    }
    const config = await readForChange(ctx, files, RESOURCES);
    checkServiceState(config, (await readManagerStatus(files)).status, sid, params.state);
    assertUnmodified(config, params.digest);
    const entry = Object.hasOwn(config.ids, sid) ? config.ids[sid] : undefined;
    if (entry === undefined) throw notFound(`no such resource '${sid}'`);
    applySettings(entry, params);
    for (const key of toDelete) delete entry[key];
    await writeConfig(ctx, files, RESOURCES, config);
  });
  return null;
}

export async function deleteResource(ctx: AdminContext, params: Infer<ParamsOf<'resources.delete'>>): Promise<null> {
  await requireQuorum(ctx);
  const { sid } = await resolveSid(ctx, params.sid);
  const purge = params.purge ?? true;
  const notManaged = (): Error => notFound(`cannot delete service '${sid}', not HA managed!`);
  if (!isConfigured(await readLenient(ctx, fromStore(ctx), RESOURCES), sid)) throw notManaged();

  await changeHaConfig(ctx, 'delete resource failed', async (files) => {
    const config = await readForChange(ctx, files, RESOURCES);
    if (!isConfigured(config, sid)) throw notManaged();
    // Check the rules can be purged before anything is written.
    const inRules = purge && Object.values((await readLenient(ctx, files, RULES)).ids).some((rule) => Object.hasOwn(rule.resources, sid));
    const rules = inRules ? await readForChange(ctx, files, RULES, `'${sid}' can be removed from its rules`) : undefined;

    delete config.ids[sid];
    delete config.order[sid];
    await writeConfig(ctx, files, RESOURCES, config);
    if (rules === undefined) return;
    for (const [ruleId, rule] of Object.entries(rules.ids)) {
      delete rule.resources[sid];
      if (Object.keys(rule.resources).length === 0) {
        delete rules.ids[ruleId];
        delete rules.order[ruleId];
      }
    }
    await writeConfig(ctx, files, RULES, rules);
  });
  return null;
}
