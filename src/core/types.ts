// The shared data model of the HA stack. These shapes are what the manager and
// the LRMs exchange through the cluster store, so they mirror the reference's
// JSON files field for field (snake_case included): a status file written by
// one implementation must be readable by the other.

/** A service (HA resource) id, `type:name`, e.g. `vm:100`. */
export type Sid = string;
export type NodeName = string;

/** States of the service state machine run by the manager. */
export const SERVICE_STATES = [
  'stopped',
  'request_stop',
  'request_start',
  'request_start_balance',
  'started',
  'fence',
  'recovery',
  'migrate',
  'relocate',
  'freeze',
  'error',
] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

/** What the user asked for in the resources config. `enabled` is read as `started`. */
export const REQUESTED_STATES = ['started', 'stopped', 'disabled', 'ignored'] as const;
export type RequestedState = (typeof REQUESTED_STATES)[number];

/** Node states as the manager tracks them. */
export const NODE_STATES = ['online', 'maintenance', 'unknown', 'fence', 'gone'] as const;
export type NodeState = (typeof NODE_STATES)[number];

/** States of the cluster resource manager daemon. */
export const CRM_STATES = ['wait_for_quorum', 'master', 'lost_manager_lock', 'slave'] as const;
export type CrmState = (typeof CRM_STATES)[number];

/** States of the local resource manager daemon. */
export const LRM_STATES = ['wait_for_agent_lock', 'active', 'lost_agent_lock', 'maintenance'] as const;
export type LrmState = (typeof LRM_STATES)[number];

/** LRM modes, reported in lrm_status so the manager can react (freeze, maintenance, disarm). */
export const LRM_MODES = ['active', 'reboot', 'shutdown', 'restart', 'maintenance', 'disarm'] as const;
export type LrmMode = (typeof LRM_MODES)[number];

/** A queued user command on a service, kept in its status entry until handled. */
export type ServiceCommand =
  | readonly ['migrate' | 'relocate', NodeName]
  | readonly ['stop', string];

/** One service's entry in manager_status.service_status (the reference's `$sd`). */
export interface ServiceStatusEntry {
  state: ServiceState;
  node: NodeName;
  /** Changes with every state change; LRM results are keyed by it. */
  uid?: string;
  target?: NodeName;
  /** Stop timeout in seconds, as given on the command line. */
  timeout?: string;
  /** Set once the LRM confirmed a start while in `started`. */
  running?: 1;
  failed_nodes?: NodeName[];
  /** Node to return to once it leaves maintenance. */
  maintenance_node?: NodeName;
  cmd?: ServiceCommand;
}

export type DisarmMode = 'freeze' | 'ignore';
export interface DisarmStatus {
  mode: DisarmMode;
  state: 'disarming' | 'disarmed';
}

export interface NodeRequest {
  maintenance?: 1;
}

/** manager_status: written by the master each round, read by everyone. */
export interface ManagerStatus {
  master_node?: NodeName;
  node_status?: Record<NodeName, NodeState>;
  service_status?: Record<Sid, ServiceStatusEntry>;
  node_request?: Record<NodeName, NodeRequest>;
  disarm?: DisarmStatus;
  /**
   * Safe policy only (src/core/manager/unprotected.ts): nodes whose LRM gave
   * up its agent lock and watchdog on purpose while guests may run there,
   * and has not held the lock since; the master does not fence them by
   * taking their free lock. Sorted; absent when empty. The reference never
   * writes it.
   */
  unprotected_nodes?: NodeName[];
  timestamp?: number;
}

/** Exit codes of resource agent commands, as the reference defines them. */
export const EXIT = {
  SUCCESS: 0,
  ERROR: 1,
  ETRY_AGAIN: 2,
  EWRONG_NODE: 3,
  EUNKNOWN_SERVICE_TYPE: 4,
  EUNKNOWN_COMMAND: 5,
  EINVALID_PARAMETER: 6,
  EUNKNOWN_SERVICE: 7,
  IGNORED: 8,
} as const;

/**
 * A node's mode as the master reads it: 'unknown' when the node has no
 * lrm_status at all (a node being removed), which the master must not take
 * for 'active'.
 */
export type ReportedLrmMode = LrmMode | 'unknown';

/** The LRM's report of one finished command, keyed by the command's uid. */
export interface LrmResult {
  sid: Sid;
  state: string;
  exit_code: number;
}

/** lrm_status of one node: written by its LRM, read by the master. */
export interface LrmStatus {
  state?: LrmState;
  mode?: ReportedLrmMode;
  results?: Record<string, LrmResult>;
  timestamp?: number;
}

/**
 * One HA resource as the core sees it: the resources config entry with the
 * reference's defaults applied (state, failback, max_restart, max_relocate).
 */
export interface ServiceConfig {
  /** Resource type, the part of the sid before the colon (vm, ct, ...). */
  type: string;
  /** The part of the sid after the colon. */
  name: string;
  node: NodeName;
  state: RequestedState;
  group?: string;
  failback: boolean;
  max_restart: number;
  max_relocate: number;
  comment?: string;
}

/** Datacenter-wide HA options (datacenter.cfg `ha:`). */
export interface DatacenterHaOptions {
  shutdown_policy?: 'conditional' | 'freeze' | 'failover' | 'migrate' | string;
}

/** Datacenter-wide cluster resource scheduling options (datacenter.cfg `crs:`). */
export interface DatacenterCrsOptions {
  ha?: 'basic' | 'static' | 'dynamic' | string;
  'ha-rebalance-on-start'?: boolean | number;
  'ha-auto-rebalance'?: boolean | number;
  'ha-auto-rebalance-threshold'?: number;
  'ha-auto-rebalance-method'?: 'bruteforce' | 'topsis' | string;
  'ha-auto-rebalance-hold-duration'?: number;
  'ha-auto-rebalance-margin'?: number;
}

export interface DatacenterSettings {
  ha: DatacenterHaOptions;
  crs: DatacenterCrsOptions;
}
