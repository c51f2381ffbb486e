// Requests to the master, queued in ha/crm_commands under the HA config
// lock: migrate, relocate and stop a resource, node maintenance, disarming
// and re-arming the HA stack. A request the master would drop (an offline
// target, a target blocked by a resource in negative affinity) is refused
// here instead of being queued.

import type { CrmCommand } from '../config/crm-commands.js';
import type { NodeName, Sid } from '../core/types.js';
import type { AdminContext } from './context.js';
import { notFound, refused } from './errors.js';
import { RESOURCES, changeHaConfig, fromStore, queueCrmCommand, readLenient, readManagerStatus, requireQuorum, type FileSource } from './ha-files.js';
import type { ParamsOf } from './operations.js';
import { compiledRules, ruleNodes } from './rule-view.js';
import type { Infer } from './schema.js';
import { checkServiceState, requireHaManaged } from './services.js';
import { resolveSid } from './sid.js';

export type MotionKind = 'migrate' | 'relocate';

/** What the reference's migrate and relocate calls return. */
export interface MotionResult {
  sid: Sid;
  'requested-node': NodeName;
  /** Resources in positive affinity, moved along by the master. */
  'comigrated-resources'?: Sid[];
  /** Resources in negative affinity on the target node: the request was not queued. */
  'blocking-resources'?: Array<{ sid: Sid; cause: 'resource-affinity' }>;
}

/** The checks every request about one resource passes: HA managed, not in the error state. */
async function checkManaged(ctx: AdminContext, source: FileSource, sid: Sid): Promise<void> {
  const resources = await readLenient(ctx, source, RESOURCES);
  const ms = (await readManagerStatus(source)).status;
  requireHaManaged(resources, ms, sid);
  checkServiceState(resources, ms, sid);
}

async function motion(ctx: AdminContext, files: FileSource, kind: MotionKind, sid: Sid, node: NodeName): Promise<MotionResult> {
  await checkManaged(ctx, files, sid);
  const ms = (await readManagerStatus(files)).status;
  const membership = await ctx.store.membership();
  // The master drops a request to a node it does not have online; say so now.
  const member = Object.hasOwn(membership.nodes, node) ? membership.nodes[node] : undefined;
  if (member === undefined) throw notFound(`no such cluster node '${node}'`);
  const managerState = ms.node_status?.[node];
  if (!member.online || (managerState !== undefined && managerState !== 'online')) {
    const state = member.online ? `in state '${managerState}' for the HA manager` : 'offline';
    throw refused(`cannot ${kind} resource '${sid}' to node '${node}': the node is ${state}`);
  }

  const resources = await readLenient(ctx, files, RESOURCES);
  const affinity = (await compiledRules(ctx, files, resources, ruleNodes(ms, membership)))['resource-affinity'];
  const ss = ms.service_status ?? {};
  const result: MotionResult = { sid, 'requested-node': node };

  // A resource kept apart from this one blocks the node it is on, unless it is leaving it.
  const blocking: Sid[] = [];
  if (managerState === 'online') {
    for (const csid of Object.keys(affinity.negative[sid] ?? {}).sort()) {
      const sd = ss[csid];
      if (sd === undefined) continue;
      if (sd.node && sd.node !== node) continue;
      if (sd.target && sd.target !== node) continue;
      blocking.push(csid);
    }
  }
  if (blocking.length > 0) result['blocking-resources'] = blocking.map((csid) => ({ sid: csid, cause: 'resource-affinity' }));
  const together = Object.keys(affinity.positive[sid] ?? {})
    .sort()
    .filter((csid) => ss[csid] !== undefined);
  if (together.length > 0) result['comigrated-resources'] = together;
  return result;
}

/** Requests a migration or relocation; with blocking resources, the request is not queued. */
export async function moveResource(
  ctx: AdminContext,
  kind: MotionKind,
  params: Infer<ParamsOf<'resources.migrate'>>,
): Promise<MotionResult> {
  await requireQuorum(ctx);
  const { sid } = await resolveSid(ctx, params.sid);
  // Checked first as they are, then again under the lock for the request actually queued.
  await motion(ctx, fromStore(ctx), kind, sid, params.node);
  return changeHaConfig(ctx, `${kind} resource failed`, async (files) => {
    const result = await motion(ctx, files, kind, sid, params.node);
    if (result['blocking-resources'] === undefined) await queueCrmCommand(files, { kind, sid, node: params.node });
    return result;
  });
}

async function queue(ctx: AdminContext, what: string, command: CrmCommand, check?: (files: FileSource) => Promise<void>): Promise<null> {
  await changeHaConfig(ctx, what, async (files) => {
    await check?.(files);
    await queueCrmCommand(files, command);
  });
  return null;
}

export async function stopResource(ctx: AdminContext, params: Infer<ParamsOf<'resources.stop'>>): Promise<null> {
  await requireQuorum(ctx);
  const { sid } = await resolveSid(ctx, params.sid);
  await checkManaged(ctx, fromStore(ctx), sid);
  return queue(ctx, 'stop resource failed', { kind: 'stop', sid, timeout: String(params.timeout) }, (files) => checkManaged(ctx, files, sid));
}

export async function setNodeMaintenance(ctx: AdminContext, params: Infer<ParamsOf<'status.node-maintenance'>>): Promise<null> {
  await requireQuorum(ctx);
  if (!Object.hasOwn((await ctx.store.membership()).nodes, params.node)) throw notFound(`no such cluster node '${params.node}'`);
  const kind = params.disable ? 'disable-node-maintenance' : 'enable-node-maintenance';
  return queue(ctx, 'node maintenance request failed', { kind, node: params.node });
}

export async function disarmHa(ctx: AdminContext, params: Infer<ParamsOf<'status.disarm-ha'>>): Promise<null> {
  await requireQuorum(ctx);
  return queue(ctx, 'disarm request failed', { kind: 'disarm-ha', mode: params['resource-mode'] as 'freeze' | 'ignore' });
}

export async function armHa(ctx: AdminContext): Promise<null> {
  await requireQuorum(ctx);
  return queue(ctx, 'arm request failed', { kind: 'arm-ha' });
}
