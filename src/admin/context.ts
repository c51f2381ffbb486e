// What every administrative operation runs against: the cluster store, the
// node it runs on, the clock, the resource types, and who is asking (named
// to those who wait for the HA config lock). The CLI binds one per process;
// an API daemon one per request.

import { DEFAULT_RESOURCE_TYPES, type ResourceTypeSpec } from '../config/resources-config.js';
import type { NodeName } from '../core/types.js';
import type { ClusterStore, LockHolder } from '../env/node/store.js';

/**
 * A resource type the HA stack can manage. Guests (`qemu`, `lxc`) are
 * located by their config file below `nodes/<node>/`; any other type by a
 * marker file written on `add` with a node (see layout.ts guestConfigPath).
 */
export interface AdminResourceType extends ResourceTypeSpec {
  guest?: 'qemu' | 'lxc';
}

const GUEST_KINDS: Readonly<Record<string, 'qemu' | 'lxc'>> = { vm: 'qemu', ct: 'lxc' };

/** The daemons' resource types as administration sees them: `vm` and `ct` are guests, the rest are not. */
export function adminResourceTypes(types: Readonly<Record<string, ResourceTypeSpec>>): Record<string, AdminResourceType> {
  const result: Record<string, AdminResourceType> = {};
  for (const [type, spec] of Object.entries(types)) {
    const guest = Object.hasOwn(GUEST_KINDS, type) ? GUEST_KINDS[type] : undefined;
    result[type] = guest === undefined ? { checkName: spec.checkName } : { checkName: spec.checkName, guest };
  }
  return result;
}

/** Virtual machines and containers, as on a Proxmox VE node. */
export const GUEST_RESOURCE_TYPES: Readonly<Record<string, AdminResourceType>> = adminResourceTypes(DEFAULT_RESOURCE_TYPES);

export interface AdminContext {
  store: ClusterStore;
  /** The node the request is served on: named in the quorum entry, always accepted as a rule node. */
  nodename: NodeName;
  /** Seconds since the epoch. */
  now(): number;
  /** IANA zone for the timestamps in status texts; the process's local zone when unset. */
  timeZone?: string;
  resourceTypes: Readonly<Record<string, AdminResourceType>>;
  /** Who is asking: pid and what, e.g. `ha-manager add vm:100` or `ha-api POST /cluster/ha/resources`. */
  actor: Omit<LockHolder, 'node'>;
  /** Longest wait for the HA config lock (default: the store's, 60 s). */
  lockTimeoutMs?: number;
  /** Problems that do not stop the request, such as a line of a config file that cannot be read. */
  warn(message: string): void;
}

/** The holder of the HA config lock a request takes. */
export function lockHolder(ctx: AdminContext): LockHolder {
  return { node: ctx.nodename, ...ctx.actor };
}
