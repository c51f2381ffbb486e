// Running an operation by its id: parameters checked against the declared
// schema, then the implementation called, loaded on first use (a command
// line runs one operation; it need not load the code of all of them).
// Every failure comes out as an AdminError.

import type { AdminContext } from './context.js';
import { toAdminError } from './errors.js';
import { OPERATIONS, type OperationId, type ParamsOf } from './operations.js';
import { validateParams, type Infer, type RawValue } from './schema.js';

import type { MotionResult } from './commands.js';
import type { GroupRecord } from './groups.js';
import type { ResourceRecord } from './resources.js';
import type { RuleRecord } from './rules.js';
import type { ClusterNode, StatusEntry } from './status.js';
import type { TimingReport } from './timing.js';
import type { PerlJsonValue } from '../config/perl-json.js';

/** What each operation returns (null: nothing, as the reference's API). */
export interface OperationResults {
  'resources.index': ResourceRecord[];
  'resources.read': ResourceRecord;
  'resources.create': null;
  'resources.update': null;
  'resources.delete': null;
  'resources.migrate': MotionResult;
  'resources.relocate': MotionResult;
  'resources.stop': null;
  'groups.index': GroupRecord[];
  'groups.read': GroupRecord;
  'groups.create': null;
  'groups.update': null;
  'groups.delete': null;
  'rules.index': RuleRecord[];
  'rules.read': RuleRecord;
  'rules.create': null;
  'rules.update': null;
  'rules.delete': null;
  'status.current': StatusEntry[];
  'status.manager_status': Record<string, PerlJsonValue>;
  'status.nodes': ClusterNode[];
  'status.disarm-ha': null;
  'status.arm-ha': null;
  'status.node-maintenance': null;
  'timing.read': TimingReport;
  'timing.update': TimingReport;
}

type Implementation<Id extends OperationId> = (ctx: AdminContext, params: Infer<ParamsOf<Id>>) => Promise<OperationResults[Id]>;

const IMPLEMENTATIONS: { [Id in OperationId]: () => Promise<Implementation<Id>> } = {
  'resources.index': async () => (await import('./resources.js')).listResources,
  'resources.read': async () => (await import('./resources.js')).readResource,
  'resources.create': async () => (await import('./resources.js')).createResource,
  'resources.update': async () => (await import('./resources.js')).updateResource,
  'resources.delete': async () => (await import('./resources.js')).deleteResource,
  'resources.migrate': async () => {
    const { moveResource } = await import('./commands.js');
    return (ctx, params) => moveResource(ctx, 'migrate', params);
  },
  'resources.relocate': async () => {
    const { moveResource } = await import('./commands.js');
    return (ctx, params) => moveResource(ctx, 'relocate', params);
  },
  'resources.stop': async () => (await import('./commands.js')).stopResource,
  'groups.index': async () => (await import('./groups.js')).listGroups,
  'groups.read': async () => (await import('./groups.js')).readGroup,
  'groups.create': async () => (await import('./groups.js')).createGroup,
  'groups.update': async () => (await import('./groups.js')).updateGroup,
  'groups.delete': async () => (await import('./groups.js')).deleteGroup,
  'rules.index': async () => (await import('./rules.js')).listRules,
  'rules.read': async () => (await import('./rules.js')).readRule,
  'rules.create': async () => (await import('./rules.js')).createRule,
  'rules.update': async () => (await import('./rules.js')).updateRule,
  'rules.delete': async () => (await import('./rules.js')).deleteRule,
  'status.current': async () => (await import('./status.js')).currentStatus,
  'status.manager_status': async () => (await import('./status.js')).fullStatus,
  'status.nodes': async () => (await import('./status.js')).clusterNodes,
  'status.disarm-ha': async () => (await import('./commands.js')).disarmHa,
  'status.arm-ha': async () => (await import('./commands.js')).armHa,
  'status.node-maintenance': async () => (await import('./commands.js')).setNodeMaintenance,
  'timing.read': async () => (await import('./timing.js')).readTiming,
  'timing.update': async () => (await import('./timing.js')).updateTiming,
};

/**
 * Checks `raw` against the operation's parameters and runs it. Rejects
 * with an AdminError only.
 */
export async function invoke<Id extends OperationId>(
  ctx: AdminContext,
  id: Id,
  raw: Readonly<Record<string, RawValue | undefined>>,
): Promise<OperationResults[Id]> {
  try {
    const params = validateParams(OPERATIONS[id].params as ParamsOf<Id>, raw);
    const run = (await IMPLEMENTATIONS[id]()) as Implementation<Id>;
    return await run(ctx, params);
  } catch (err) {
    throw toAdminError(err);
  }
}
