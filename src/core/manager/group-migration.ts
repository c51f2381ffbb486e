// Persistent migration of HA groups to node affinity rules. Groups keep
// working meanwhile (they are translated to rules in memory every round);
// this writes the translation out once every node is able to read rules.

import type { HaEnv } from '../../env/env.js';
import { listNodes, nodeState } from '../node-status.js';
import { migrateGroupsToResources, migrateGroupsToRules } from '../rules/index.js';
import { countActiveServices } from '../service-counts.js';
import type { ServiceConfig, Sid } from '../types.js';
import { hasMinVersion } from '../version.js';
import type { ServiceConfigChange } from '../../env/env.js';
import { errorText } from '../errors.js';
import { isPerlTrue } from '../format.js';
import type { Manager } from './state.js';

/** The first pve-manager version whose HA stack understands rules. */
const HA_RULES_MIN_VERSION = '9.0.0~16';
/** Rounds between migration attempts. */
const COOLDOWN_ROUNDS = 6;
/** Seconds per manager round, for the log message. */
const ROUND_SECONDS = 10;

async function assertClusterCanMigrateGroups(env: HaEnv, m: Manager): Promise<void> {
  if (!(await env.quorate())) throw new Error('cluster is not quorate');
  const nodes = listNodes(m.ns);
  if (nodes.length === 0) throw new Error('node list is empty');

  for (const node of nodes) {
    if (!node) throw new Error('node with empty name');
    const state = nodeState(m.ns, node);
    env.log('notice', `ha groups migration: node '${node}' is in state '${state}'`);
    if (state !== 'online') throw new Error(`node '${node}' is not online`);

    const lrm = await env.readLrmStatus(node);
    if (!lrm.state || !lrm.mode) throw new Error(`could not retrieve state for lrm '${node}'`);
    env.log('notice', `ha groups migration: lrm '${node}' is in state '${lrm.state}' and mode '${lrm.mode}'`);
    const idle = lrm.state === 'wait_for_agent_lock' && countActiveServices(m.ss, node) === 0;
    if (lrm.state !== 'active' && !idle) {
      throw new Error(`lrm '${node}' is not in state 'active' or 'idle'`);
    }
    if (lrm.mode !== 'active') throw new Error(`lrm '${node}' is not in mode 'active'`);

    const version = await env.getNodeVersion(node);
    // Perl truth: a version of "0" counts as none, as in the reference.
    if (version === undefined || !isPerlTrue(version)) throw new Error(`could not retrieve version from node '${node}'`);
    env.log('notice', `ha groups migration: node '${node}' has version '${version}'`);
    if (!hasMinVersion(version, HA_RULES_MIN_VERSION)) {
      throw new Error(`node '${node}' needs at least pve-manager version '${HA_RULES_MIN_VERSION}'`);
    }
  }
}

async function migrateGroupsPersistently(env: HaEnv, m: Manager): Promise<boolean> {
  try {
    await assertClusterCanMigrateGroups(env, m);

    const { services } = await env.readServiceConfig();
    const resources: Record<Sid, ServiceConfig> = {};
    for (const sid of Object.keys(services)) resources[sid] = { ...services[sid] };
    const groups = structuredClone(await env.readGroupConfig());
    const rules = await env.readRulesConfig();

    // Rules first, so users can edit the migrated rules even if a later step fails.
    migrateGroupsToRules(rules, groups, resources);
    await env.writeRulesConfig(rules);
    env.log('notice', 'ha groups migration: migration to rules config successful');

    migrateGroupsToResources(groups, resources);
    const changes: Record<Sid, ServiceConfigChange> = {};
    for (const sid of Object.keys(resources)) {
      const cd = resources[sid];
      if (cd.group === undefined) continue;
      changes[sid] = { param: cd.failback ? {} : { failback: false }, delete: ['group'] };
    }
    await env.updateServiceConfig(changes);
    env.log('notice', 'ha groups migration: migration to resources config successful');

    await env.deleteGroupConfig();
    env.log('notice', 'ha groups migration: group config deletion successful');
  } catch (err) {
    env.log('err', `abort ha groups migration: ${errorText(err)}`);
    return false;
  }
  return true;
}

export async function tryPersistentGroupMigration(env: HaEnv, m: Manager): Promise<void> {
  const groups = await env.readGroupConfig();
  // A section the parser dropped still counts as a group (the reference keeps
  // its id, without a value), so the migration keeps being attempted.
  if (Object.keys(groups.ids).length < 1 && Object.keys(groups.order).length < 1) return;

  m.groupMigrationRound -= 1;
  if (m.groupMigrationRound > 0) return;
  m.groupMigrationRound = COOLDOWN_ROUNDS;

  env.log('notice', 'start ha group migration...');
  if (await migrateGroupsPersistently(env, m)) {
    env.log('notice', 'ha groups migration successful');
  } else {
    env.log('err', 'ha groups migration failed');
    env.log(
      'notice',
      `retry ha groups migration in ${COOLDOWN_ROUNDS} rounds (~ ${COOLDOWN_ROUNDS * ROUND_SECONDS} seconds)`,
    );
  }
}
