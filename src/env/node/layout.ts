// Where things live in the cluster store: the same paths as below /etc/pve on
// a Proxmox VE node, so a directory store rooted there is the real thing.

import type { NodeName, Sid } from '../../core/types.js';

export const PATHS = {
  managerStatus: 'ha/manager_status',
  resources: 'ha/resources.cfg',
  groups: 'ha/groups.cfg',
  rules: 'ha/rules.cfg',
  crmCommands: 'ha/crm_commands',
  fence: 'ha/fence.cfg',
  datacenter: 'datacenter.cfg',
  timing: 'ha/timing.cfg',
} as const;

export function lrmStatusPath(node: NodeName): string {
  return `nodes/${node}/lrm_status`;
}

/** Published figures of a node: cpu count and memory (static), current use (dynamic). */
export function nodeStatsPath(node: NodeName): string {
  return `nodes/${node}/ha-node-stats`;
}

/** The pve-manager (or ha-manager) version a node runs, as its LRM publishes it. */
export function nodeVersionPath(node: NodeName): string {
  return `nodes/${node}/ha-version`;
}

/** Figures only a daemon sees (lock renewals, round durations, worker queue), for ha-api's /metrics. */
export function daemonMetricsPath(node: NodeName, daemon: 'crm' | 'lrm'): string {
  return `nodes/${node}/ha-metrics-${daemon}`;
}

/** The timing profile a node's daemons run (RunningTiming), written by their store with its first heartbeat. */
export function runningTimingPath(node: NodeName): string {
  return `nodes/${node}/ha-timing`;
}

export const MANAGER_LOCK = 'ha_manager_lock';

export function agentLock(node: NodeName): string {
  return `ha_agent_${node}_lock`;
}

/**
 * Where a guest's config lives: the directory it is in says which node the
 * guest belongs to, and moving the file moves the guest (as pmxcfs does for
 * qemu-server and lxc configs). Other resource types keep a marker file.
 */
export function guestConfigPath(node: NodeName, sid: Sid): string {
  const colon = sid.indexOf(':');
  const type = sid.slice(0, colon);
  const name = sid.slice(colon + 1);
  switch (type) {
    case 'vm':
      return `nodes/${node}/qemu-server/${name}.conf`;
    case 'ct':
      return `nodes/${node}/lxc/${name}.conf`;
    default:
      return `nodes/${node}/ha-resources/${sid}`;
  }
}
