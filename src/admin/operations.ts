// Every administrative operation, declared once: its HTTP method and path
// below /api2/json/cluster/ha/ (the reference's, where it has one), whether
// it changes anything, and its parameters. The CLI builds its commands and
// help from these declarations, an HTTP API its routes; both check input
// with validateParams against the same schema and call the same code
// (invoke.ts). This module only declares: it loads nothing heavy, so that
// `ha-manager --help` stays fast.

import { RESOURCE_STATE_SETTINGS } from '../config/resources-config.js';
import { AFFINITIES, RULE_TYPES } from '../core/rules/types.js';
import { profileNames } from '../env/timing.js';
import type { ParamSchema, ParamsSchema } from './schema.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface OperationDef<S extends ParamsSchema = ParamsSchema> {
  method: HttpMethod;
  /** Below /api2/json/cluster/ha/, with `{param}` for path parameters. */
  path: string;
  description: string;
  /** Changes the cluster's configuration or queues a request (needs write permission). */
  protected: boolean;
  params: S;
  /** Not in the reference's API (it has these only in its CLI). */
  extension?: true;
}

function op<S extends ParamsSchema>(def: OperationDef<S>): OperationDef<S> {
  return def;
}

/** Comments are at most 4096 characters, on one line; blank means none (see docs/CLI.md). */
const COMMENT_MAX = 4096;

export const SID = {
  type: 'string',
  format: 'pve-ha-resource-or-vm-id',
  typetext: '<type>:<name>',
  description: 'HA resource ID: a resource type and a name, separated by a colon (vm:100, ct:101), or the id of a VM or container (100).',
} as const satisfies ParamSchema;

const NODE = { type: 'string', format: 'pve-node', typetext: '<node>', description: 'Target node.' } as const satisfies ParamSchema;

const DIGEST = {
  type: 'string',
  maxLength: 64,
  optional: true,
  description: "Refuse the change if the file's SHA-1 digest is no longer this (it was changed meanwhile).",
} as const satisfies ParamSchema;

const DELETE = {
  type: 'string',
  format: 'pve-configid-list',
  optional: true,
  typetext: '<option>[,<option>...]',
  description: 'Settings to reset to their defaults, comma separated.',
} as const satisfies ParamSchema;

function comment(what: string) {
  return {
    type: 'string',
    format: 'single-line-text',
    maxLength: COMMENT_MAX,
    optional: true,
    description: `Description of the ${what} (one line; blank removes it).`,
  } as const satisfies ParamSchema;
}

const RESOURCE_SETTINGS = {
  type: { type: 'string', optional: true, typetext: '<type>', description: 'Resource type; must match the one in the id.' },
  state: {
    type: 'string',
    enum: RESOURCE_STATE_SETTINGS,
    optional: true,
    default: 'started',
    description: 'Requested state: started, stopped, disabled or ignored (enabled means started).',
  },
  group: { type: 'string', format: 'pve-configid', optional: true, typetext: '<group>', description: 'HA group (deprecated: use node affinity rules).' },
  failback: {
    type: 'boolean',
    optional: true,
    default: 1,
    description: 'Move back to the highest-priority node of its node affinity rule when that comes online.',
  },
  max_restart: { type: 'integer', minimum: 0, optional: true, default: 1, description: 'Restarts on the same node after a failed start.' },
  max_relocate: { type: 'integer', minimum: 0, optional: true, default: 1, description: 'Moves to another node after failed starts.' },
  comment: comment('resource'),
} as const satisfies ParamsSchema;

const GROUP = { type: 'string', format: 'pve-configid', typetext: '<group>', description: 'The HA group identifier.' } as const satisfies ParamSchema;

const GROUP_SETTINGS = {
  restricted: { type: 'boolean', optional: true, default: 0, description: 'Run the resources only on the nodes of the group.' },
  nofailback: { type: 'boolean', optional: true, default: 0, description: 'Do not move resources back to a higher-priority node coming online.' },
  comment: comment('group'),
  type: { type: 'string', enum: ['group'], optional: true, description: 'Section type (only group).' },
} as const satisfies ParamsSchema;

const GROUP_NODES = {
  type: 'string',
  format: 'pve-ha-node-list',
  typetext: '<node>[:<pri>]{,<node>[:<pri>]}*',
  description: 'Nodes with an optional priority each; the higher the number, the higher the priority.',
} as const satisfies ParamSchema;

const RULE = { type: 'string', format: 'pve-configid', typetext: '<rule>', description: 'HA rule identifier.' } as const satisfies ParamSchema;

const RULE_SETTINGS = {
  resources: {
    type: 'string',
    format: 'pve-ha-resource-id-list',
    optional: true,
    typetext: '<type>:<name>{,<type>:<name>}*',
    description: 'HA resources of the rule, comma separated.',
  },
  nodes: { ...GROUP_NODES, optional: true, description: 'Node affinity: the nodes, with an optional priority each.' },
  strict: { type: 'boolean', optional: true, default: 0, description: 'Node affinity: run only on the listed nodes.' },
  affinity: { type: 'string', enum: AFFINITIES, optional: true, description: 'Resource affinity: keep the resources together (positive) or apart (negative).' },
  disable: { type: 'boolean', optional: true, default: 0, description: 'Whether the rule is disabled.' },
  comment: comment('rule'),
} as const satisfies ParamsSchema;

const RULE_TYPE = { type: 'string', enum: RULE_TYPES, description: 'HA rule type.' } as const satisfies ParamSchema;

export const OPERATIONS = {
  'resources.index': op({
    method: 'GET',
    path: 'resources',
    description: 'List the HA resources and their settings.',
    protected: false,
    params: { type: { type: 'string', optional: true, typetext: '<type>', description: 'Only resources of this type.' } },
  }),
  'resources.read': op({
    method: 'GET',
    path: 'resources/{sid}',
    description: "Read an HA resource's settings.",
    protected: false,
    params: { sid: SID },
  }),
  'resources.create': op({
    method: 'POST',
    path: 'resources',
    description: 'Put a resource under HA management.',
    protected: true,
    params: {
      sid: SID,
      ...RESOURCE_SETTINGS,
      node: {
        type: 'string',
        format: 'pve-node',
        optional: true,
        typetext: '<node>',
        description: 'For resources that are not guests: the node the resource is on now.',
      },
    },
  }),
  'resources.update': op({
    method: 'PUT',
    path: 'resources/{sid}',
    description: "Change an HA resource's settings.",
    protected: true,
    params: { sid: SID, ...RESOURCE_SETTINGS, delete: DELETE, digest: DIGEST },
  }),
  'resources.delete': op({
    method: 'DELETE',
    path: 'resources/{sid}',
    description: 'Take a resource out of HA management.',
    protected: true,
    params: {
      sid: SID,
      purge: {
        type: 'boolean',
        optional: true,
        default: 1,
        description: 'Also remove it from the rules it is in, deleting rules left without resources.',
      },
    },
  }),
  'resources.migrate': op({
    method: 'POST',
    path: 'resources/{sid}/migrate',
    description: 'Request an online migration of a resource to another node.',
    protected: true,
    params: { sid: SID, node: NODE },
  }),
  'resources.relocate': op({
    method: 'POST',
    path: 'resources/{sid}/relocate',
    description: 'Request a relocation of a resource: stopped on its node, started on the target node.',
    protected: true,
    params: { sid: SID, node: NODE },
  }),
  'resources.stop': op({
    method: 'POST',
    path: 'resources/{sid}/stop',
    description: 'Request a resource to be stopped.',
    protected: true,
    extension: true,
    params: {
      sid: SID,
      timeout: { type: 'integer', minimum: 0, typetext: '<seconds>', description: 'Seconds to wait for a clean shutdown; 0 stops it hard.' },
    },
  }),

  'groups.index': op({
    method: 'GET',
    path: 'groups',
    description: 'List the HA groups (deprecated: groups became node affinity rules).',
    protected: false,
    params: {},
  }),
  'groups.read': op({
    method: 'GET',
    path: 'groups/{group}',
    description: "Read an HA group's settings (deprecated).",
    protected: false,
    params: { group: GROUP },
  }),
  'groups.create': op({
    method: 'POST',
    path: 'groups',
    description: 'Create an HA group (deprecated).',
    protected: true,
    params: { group: GROUP, nodes: GROUP_NODES, ...GROUP_SETTINGS },
  }),
  'groups.update': op({
    method: 'PUT',
    path: 'groups/{group}',
    description: "Change an HA group's settings (deprecated).",
    protected: true,
    params: { group: GROUP, nodes: { ...GROUP_NODES, optional: true }, ...GROUP_SETTINGS, delete: DELETE, digest: DIGEST },
  }),
  'groups.delete': op({
    method: 'DELETE',
    path: 'groups/{group}',
    description: 'Delete an HA group (deprecated).',
    protected: true,
    params: { group: GROUP },
  }),

  'rules.index': op({
    method: 'GET',
    path: 'rules',
    description: 'List the HA rules: settings, and whether each is in use or ignored for conflicts.',
    protected: false,
    params: {
      type: { ...RULE_TYPE, optional: true, description: 'Only rules of this type.' },
      resource: { type: 'string', optional: true, typetext: '<type>:<name>', description: 'Only rules with this resource.' },
    },
  }),
  'rules.read': op({
    method: 'GET',
    path: 'rules/{rule}',
    description: 'Read an HA rule.',
    protected: false,
    params: { rule: RULE },
  }),
  'rules.create': op({
    method: 'POST',
    path: 'rules',
    description: 'Create an HA rule.',
    protected: true,
    params: { type: RULE_TYPE, rule: RULE, ...RULE_SETTINGS },
  }),
  'rules.update': op({
    method: 'PUT',
    path: 'rules/{rule}',
    description: 'Change an HA rule.',
    protected: true,
    params: { type: RULE_TYPE, rule: RULE, ...RULE_SETTINGS, delete: DELETE, digest: DIGEST },
  }),
  'rules.delete': op({
    method: 'DELETE',
    path: 'rules/{rule}',
    description: 'Delete an HA rule.',
    protected: true,
    params: { rule: RULE },
  }),

  'status.current': op({
    method: 'GET',
    path: 'status/current',
    description: 'The HA status: quorum, master, fencing, every LRM and every resource.',
    protected: false,
    params: {},
  }),
  'status.manager_status': op({
    method: 'GET',
    path: 'status/manager_status',
    description: 'The full HA manager status, with every LRM status.',
    protected: false,
    params: {},
  }),
  'status.nodes': op({
    method: 'GET',
    path: 'status/nodes',
    description: 'The cluster nodes and whether each is online (what a resource can be placed on or moved to).',
    protected: false,
    extension: true,
    params: {},
  }),
  'status.disarm-ha': op({
    method: 'POST',
    path: 'status/disarm-ha',
    description: 'Request the HA stack to release all watchdogs cluster-wide.',
    protected: true,
    params: {
      'resource-mode': {
        type: 'string',
        enum: ['freeze', 'ignore'],
        description: 'freeze: resources keep their state and take no new requests; ignore: resources are left to be managed by hand.',
      },
    },
  }),
  'status.arm-ha': op({
    method: 'POST',
    path: 'status/arm-ha',
    description: 'Request the HA stack to be armed again after disarm-ha.',
    protected: true,
    params: {},
  }),
  'status.node-maintenance': op({
    method: 'POST',
    path: 'status/node-maintenance',
    description: 'Request maintenance mode for a node (its resources move off and stay off), or its end.',
    protected: true,
    extension: true,
    params: {
      node: { type: 'string', format: 'pve-node', typetext: '<node>', description: 'Cluster node.' },
      disable: { type: 'boolean', description: 'End maintenance mode (1) or request it (0).' },
    },
  }),

  'timing.read': op({
    method: 'GET',
    path: 'timing',
    description:
      "The cluster's timing (ha/timing.cfg): its profile's durations, the fence window and the safety inequality with its slack, " +
      'the store outages it rides out and the failover a node reset implies.',
    protected: false,
    extension: true,
    params: {
      profile: { type: 'string', enum: profileNames(), optional: true, description: "A timing profile to describe instead of the cluster's." },
    },
  }),
  'timing.update': op({
    method: 'PUT',
    path: 'timing',
    description: 'Set the timing profile, and the clock of a test cluster, that every node must use (ha/timing.cfg).',
    protected: true,
    extension: true,
    params: {
      profile: { type: 'string', enum: profileNames(), optional: true, description: 'Timing profile.' },
      'time-scale': {
        type: 'number',
        minimum: 0.001,
        maximum: 1000,
        optional: true,
        description: 'Simulated seconds per real second (test and demonstration clusters; 1: real time).',
      },
      epoch: {
        type: 'integer',
        minimum: 0,
        optional: true,
        description: 'Real milliseconds at which scaled time starts (default: now, when the scale changes).',
      },
    },
  }),
} as const;

export type OperationId = keyof typeof OPERATIONS;
export type ParamsOf<Id extends OperationId> = (typeof OPERATIONS)[Id]['params'];

/** Parameters that take a list: a command line may repeat them, the values add up. */
export function isListParam(schema: ParamSchema): boolean {
  return schema.type === 'string' && (schema.format?.endsWith('-list') ?? false);
}
