// HA resources: `config`, `add`, `set`, `remove`.

import { splitList } from '../../config/pve-text.js';
import { parseRulesConfig } from '../../config/rules-config.js';
import type { ResourceEntry, ResourceStateSetting } from '../../config/resources-config.js';
import { ConfigError } from '../../config/issues.js';
import { guestConfigPath, PATHS } from '../../env/node/layout.js';
import type { Sid } from '../../core/types.js';
import type { CliContext, CliResourceType } from './context.js';
import { CliError } from './errors.js';
import { groupsMigrated } from './groups-state.js';
import { failingAs } from './guarded.js';
import { readInventory, type Inventory } from './inventory.js';
import { checkServiceState, isConfigured } from './services.js';
import { resolveSid } from './sid.js';
import {
  assertUnmodified,
  readGroups,
  readManagerStatus,
  readResources,
  readRules,
  requireQuorum,
  updateResources,
  updateRules,
} from './store-files.js';

/** The settings `add` and `set` take, already checked by the option parsers. */
export interface ResourceSettings {
  state?: ResourceStateSetting;
  group?: string;
  failback?: 0 | 1;
  max_restart?: number;
  max_relocate?: number;
  comment?: string;
}

const SETTING_KEYS = ['state', 'group', 'failback', 'max_restart', 'max_relocate', 'comment'] as const;

function applySettings(entry: ResourceEntry, settings: ResourceSettings): void {
  const target = entry as unknown as Record<string, unknown>;
  for (const key of SETTING_KEYS) {
    if (settings[key] !== undefined) target[key] = settings[key];
  }
}

export async function printResourceConfig(ctx: CliContext, type: string | undefined): Promise<void> {
  const resources = await readResources(ctx);
  const groups = await readGroups(ctx);
  // Once groups are gone a leftover group setting means nothing; it is not shown.
  const hideGroup = groupsMigrated(groups);
  let out = '';
  for (const sid of Object.keys(resources.ids).sort()) {
    const { type: entryType, ...settings } = resources.ids[sid];
    if (type !== undefined && type !== entryType) continue;
    if (hideGroup) delete settings.group;
    out += `${sid}\n`;
    const values = settings as Record<string, string | number | undefined>;
    for (const key of Object.keys(values).sort()) {
      if (values[key] !== undefined) out += `\t${key} ${values[key]}\n`;
    }
    if (settings.group !== undefined && !Object.hasOwn(groups.ids, settings.group)) {
      ctx.stderr(`error: property 'group' - group '${settings.group}' does not exist\n`);
    }
    out += '\n';
  }
  ctx.stdout(out);
}

function typeSpec(ctx: CliContext, type: string): CliResourceType {
  if (Object.hasOwn(ctx.resourceTypes, type)) return ctx.resourceTypes[type];
  throw new CliError(`unknown resource type '${type}' (expected one of ${Object.keys(ctx.resourceTypes).join(', ')})`);
}

function checkTypeOption(sid: Sid, type: string, given: string | undefined): void {
  if (given !== undefined && given !== type) {
    throw new CliError(`types does not match: --type ${given} given for '${sid}'`);
  }
}

/**
 * Checks that the resource exists where the HA stack will look for it.
 * Returns the marker to write for a non-guest resource added with --node.
 */
async function checkExists(
  ctx: CliContext,
  inventory: Inventory,
  sid: Sid,
  name: string,
  spec: CliResourceType,
  node: string | undefined,
): Promise<string | undefined> {
  if (spec.guest !== undefined) {
    const guest = inventory.guests.get(name);
    if (node !== undefined) {
      throw new CliError(
        `--node is only for resource types that are not guests; '${sid}' runs where its guest config is` +
          (guest ? ` (node '${guest.node}')` : ''),
      );
    }
    if (guest === undefined) throw new CliError(`resource '${sid}' does not exist in cluster`);
    if (guest.kind !== spec.guest) {
      throw new CliError(`resource '${sid}' - guest with ID ${name} is not a ${spec.guest === 'qemu' ? 'VM' : 'container'}`);
    }
    return undefined;
  }

  const located = inventory.markers.get(sid) ?? [];
  if (node === undefined) {
    if (located.length === 1) return undefined;
    if (located.length === 0) {
      throw new CliError(`resource '${sid}' has no location yet: give the node it runs on with --node <node>`);
    }
    throw new CliError(`resource '${sid}' is marked on several nodes (${located.join(', ')}); remove all markers but one`);
  }
  if (!Object.hasOwn((await ctx.store.membership()).nodes, node)) throw new CliError(`no such cluster node '${node}'`);
  if (located.length === 1 && located[0] === node) return undefined;
  if (located.length > 0) {
    throw new CliError(`resource '${sid}' is already located on node '${located.join("', '")}', not '${node}'`);
  }
  return guestConfigPath(node, sid);
}

export interface AddOptions extends ResourceSettings {
  type?: string;
  node?: string;
}

export async function addResource(ctx: CliContext, input: string, options: AddOptions): Promise<void> {
  await requireQuorum(ctx);
  const inventory = await readInventory(ctx);
  const { sid, type, name } = await resolveSid(ctx, input, inventory);
  checkTypeOption(sid, type, options.type);
  if (options.group !== undefined && groupsMigrated(await readGroups(ctx))) {
    throw new CliError("invalid parameter 'group': ha groups have been migrated to rules");
  }
  const spec = typeSpec(ctx, type);
  const problem = spec.checkName(name);
  if (problem !== undefined) throw new CliError(problem);
  const marker = await checkExists(ctx, inventory, sid, name, spec, options.node);

  await failingAs('create resource failed', () =>
    updateResources(ctx, (config) => {
      if (Object.hasOwn(config.ids, sid)) throw new CliError(`resource ID '${sid}' already defined`);
      const entry: ResourceEntry = { type };
      applySettings(entry, options);
      config.ids[sid] = entry;
    }),
  );
  // The resource's location, written once the resource is known to the HA stack.
  if (marker !== undefined) await ctx.store.write(marker, '');
}

export interface SetOptions extends ResourceSettings {
  type?: string;
  delete?: string;
  digest?: string;
}

export async function setResource(ctx: CliContext, input: string, options: SetOptions): Promise<void> {
  const { sid, type } = await resolveSid(ctx, input);
  checkTypeOption(sid, type, options.type);
  if (options.group !== undefined) {
    const groups = await readGroups(ctx);
    if (groupsMigrated(groups)) throw new CliError("invalid parameter 'group': ha groups have been migrated to rules");
    if (!Object.hasOwn(groups.ids, options.group)) throw new CliError(`HA group '${options.group}' does not exist`);
  }
  checkServiceState(await readResources(ctx), (await readManagerStatus(ctx)).status, sid, options.state);

  const toDelete = options.delete === undefined ? [] : splitList(options.delete);
  await failingAs('update resources config failed', () =>
    updateResources(ctx, (config) => {
      assertUnmodified(config, options.digest);
      const entry = Object.hasOwn(config.ids, sid) ? config.ids[sid] : undefined;
      if (entry === undefined) throw new CliError(`no such resource '${sid}'`);
      applySettings(entry, options);
      for (const key of toDelete) {
        if (!(SETTING_KEYS as readonly string[]).includes(key)) {
          throw new CliError(`no such option '${key}' (deletable: ${SETTING_KEYS.join(', ')})`);
        }
        delete (entry as unknown as Record<string, unknown>)[key];
      }
    }),
  );
}

export async function removeResource(ctx: CliContext, input: string, purge: boolean): Promise<void> {
  const { sid } = await resolveSid(ctx, input);
  if (!isConfigured(await readResources(ctx), sid)) throw new CliError(`cannot delete service '${sid}', not HA managed!`);

  // Check the rules can be purged before anything is changed.
  let purgeRules = false;
  if (purge) {
    const rules = await readRules(ctx);
    purgeRules = Object.values(rules.ids).some((rule) => Object.hasOwn(rule.resources, sid));
    if (purgeRules) {
      try {
        parseRulesConfig((await ctx.store.read(PATHS.rules)) ?? '', PATHS.rules);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        throw new CliError(
          `delete resource failed: ${PATHS.rules} has errors; fix them before '${sid}' can be removed from its rules:\n${err.message}`,
        );
      }
    }
  }

  await failingAs('delete resource failed', async () => {
    await updateResources(ctx, (config) => {
      delete config.ids[sid];
      delete config.order[sid];
    });
    if (!purgeRules) return;
    await updateRules(ctx, (rules) => {
      for (const [ruleId, rule] of Object.entries(rules.ids)) {
        delete rule.resources[sid];
        if (Object.keys(rule.resources).length === 0) {
          delete rules.ids[ruleId];
          delete rules.order[ruleId];
        }
      }
    });
  });
}
