// Questions about one HA resource that several commands ask before acting:
// is it configured, is the HA stack managing it, may it take a new request.

import { requestedState, type ResourceEntry, type ResourcesConfig } from '../config/resources-config.js';
import type { ManagerStatus, NodeName, RequestedState, Sid } from '../core/types.js';
import type { AdminContext } from './context.js';
import { refused } from './errors.js';
import { resourceNode, type Inventory } from './inventory.js';

/** A resources.cfg entry with the reference's defaults and its current node. */
export interface CheckedResource {
  entry: ResourceEntry;
  state: RequestedState;
  /** Undefined when the guest (or marker) cannot be found. */
  node?: NodeName;
}

/** The reference's read_and_check_resources_config: every entry, defaults applied, located. */
export function checkedResources(
  ctx: AdminContext,
  resources: ResourcesConfig,
  inventory: Inventory,
): Map<Sid, CheckedResource> {
  const checked = new Map<Sid, CheckedResource>();
  for (const sid in resources.ids) {
    const entry = resources.ids[sid];
    checked.set(sid, { entry, state: requestedState(entry.state, 'started'), node: resourceNode(ctx, inventory, sid) });
  }
  return checked;
}

export function isConfigured(resources: ResourcesConfig, sid: Sid): boolean {
  return Object.hasOwn(resources.ids, sid);
}

/**
 * Whether the HA stack manages the resource: configured, not `ignored`, and
 * the stack not disarmed with resources ignored.
 */
export function isHaManaged(resources: ResourcesConfig, ms: ManagerStatus, sid: Sid): boolean {
  if (!isConfigured(resources, sid)) return false;
  if (resources.ids[sid].state === 'ignored') return false;
  return ms.disarm?.mode !== 'ignore';
}

export function requireHaManaged(resources: ResourcesConfig, ms: ManagerStatus, sid: Sid): void {
  if (!isHaManaged(resources, ms, sid)) throw refused(`resource '${sid}' is not HA managed`);
}

/**
 * A resource in the error state takes no request but `disabled`, the only
 * way out of it.
 */
export function checkServiceState(
  resources: ResourcesConfig,
  ms: ManagerStatus,
  sid: Sid,
  requested?: string,
): void {
  if (!isHaManaged(resources, ms, sid)) return;
  if (ms.service_status?.[sid]?.state !== 'error') return;
  if (requested === 'disabled') return;
  throw refused(`service '${sid}' in error state, must be disabled and fixed first`);
}
