// Counting a node's services from the manager's service status; the CRM and
// the LRM both decide on these counts whether they may go idle or must stay.

import type { NodeName, ServiceStatusEntry, Sid } from './types.js';

type ServiceStatusMap = Readonly<Record<Sid, Readonly<ServiceStatusEntry>>>;

/** Services on `node` waiting to be fenced. */
export function countFencedServices(ss: ServiceStatusMap, node: NodeName): number {
  let count = 0;
  for (const sid in ss) {
    const sd = ss[sid];
    if (sd.node === node && sd.state === 'fence') count++;
  }
  return count;
}

/**
 * Services that need `node`'s LRM: on it or heading to it, and neither
 * stopped, frozen, in error nor merely queued to start (request_start only
 * picks a node).
 */
export function countActiveServices(ss: ServiceStatusMap, node: NodeName): number {
  let count = 0;
  for (const sid in ss) {
    const sd = ss[sid];
    if (sd.node !== node && sd.target !== node) continue;
    switch (sd.state) {
      case 'stopped':
      case 'freeze':
      case 'error':
      case 'request_start':
        continue;
      default:
        count++;
    }
  }
  return count;
}
