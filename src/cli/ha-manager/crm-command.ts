// Requests to the master, queued in ha/crm_commands: migrate, relocate and
// stop a resource, node maintenance, disarming and re-arming the HA stack.

import type { DisarmMode, NodeName, Sid } from '../../core/types.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';
import { compiledRules, ruleNodes } from './rule-view.js';
import { checkServiceState, requireHaManaged } from './services.js';
import { resolveSid } from './sid.js';
import { queueCrmCommand, readManagerStatus, readResources } from './store-files.js';

export type MotionKind = 'migrate' | 'relocate';

export async function moveResource(ctx: CliContext, kind: MotionKind, input: string, node: NodeName): Promise<void> {
  const { sid } = await resolveSid(ctx, input);
  const resources = await readResources(ctx);
  const ms = (await readManagerStatus(ctx)).status;
  requireHaManaged(resources, ms, sid);
  checkServiceState(resources, ms, sid);

  // The master drops a request to a node it does not have online; say so now.
  const membership = await ctx.store.membership();
  const member = Object.hasOwn(membership.nodes, node) ? membership.nodes[node] : undefined;
  if (member === undefined) throw new CliError(`no such cluster node '${node}'`);
  const managerState = ms.node_status?.[node];
  if (!member.online || (managerState !== undefined && managerState !== 'online')) {
    const state = member.online ? `in state '${managerState}' for the HA manager` : 'offline';
    throw new CliError(`cannot ${kind} resource '${sid}' to node '${node}': the node is ${state}`);
  }

  const affinity = (await compiledRules(ctx, resources, ruleNodes(ms, membership)))['resource-affinity'];
  const ss = ms.service_status ?? {};
  const together = affinity.positive[sid] ?? {};
  const separate = affinity.negative[sid] ?? {};

  // A resource kept apart from this one blocks the node it is on, unless it is leaving it.
  const blocking: Sid[] = [];
  if (managerState === 'online') {
    for (const csid of Object.keys(separate).sort()) {
      const sd = ss[csid];
      if (sd === undefined) continue;
      if (sd.node && sd.node !== node) continue;
      if (sd.target && sd.target !== node) continue;
      blocking.push(csid);
    }
  }
  if (blocking.length > 0) {
    const lines = blocking.map(
      (csid) => `- resource '${csid}' on target node '${node}' in negative affinity with resource '${sid}'`,
    );
    throw new CliError(`cannot ${kind} resource '${sid}' to node '${node}':\n\n${lines.join('\n')}`);
  }

  await queueCrmCommand(ctx, { kind, sid, node });
  for (const csid of Object.keys(together).sort()) {
    if (ss[csid] === undefined) continue;
    ctx.stdout(`also ${kind} resource '${csid}' in positive affinity with resource '${sid}' to target node '${node}'\n`);
  }
}

export async function stopResource(ctx: CliContext, input: string, timeout: number): Promise<void> {
  const { sid } = await resolveSid(ctx, input);
  const resources = await readResources(ctx);
  const ms = (await readManagerStatus(ctx)).status;
  requireHaManaged(resources, ms, sid);
  checkServiceState(resources, ms, sid);
  await queueCrmCommand(ctx, { kind: 'stop', sid, timeout: String(timeout) });
}

export async function setNodeMaintenance(ctx: CliContext, node: NodeName, enable: boolean): Promise<void> {
  if (!Object.hasOwn((await ctx.store.membership()).nodes, node)) throw new CliError(`no such cluster node '${node}'`);
  await queueCrmCommand(ctx, { kind: enable ? 'enable-node-maintenance' : 'disable-node-maintenance', node });
}

export async function disarmHa(ctx: CliContext, mode: DisarmMode): Promise<void> {
  await queueCrmCommand(ctx, { kind: 'disarm-ha', mode });
}

export async function armHa(ctx: CliContext): Promise<void> {
  await queueCrmCommand(ctx, { kind: 'arm-ha' });
}
