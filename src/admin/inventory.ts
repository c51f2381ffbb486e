// Where resources live. A guest's config file sits below the node that owns
// it (`nodes/<node>/qemu-server/<vmid>.conf`, `.../lxc/<vmid>.conf`), which
// the reference reads as its vmlist; other resource types have a marker
// file `nodes/<node>/ha-resources/<sid>`.

import type { NodeName, Sid } from '../core/types.js';
import type { AdminContext } from './context.js';

export interface GuestInfo {
  kind: 'qemu' | 'lxc';
  node: NodeName;
}

export interface Inventory {
  /** Guests by VMID (the reference's vmlist). */
  guests: ReadonlyMap<string, GuestInfo>;
  /** Nodes holding a marker for each non-guest resource. */
  markers: ReadonlyMap<Sid, readonly NodeName[]>;
}

const GUEST_DIRS = [
  ['qemu-server', 'qemu'],
  ['lxc', 'lxc'],
] as const;

export async function readInventory(ctx: AdminContext): Promise<Inventory> {
  const guests = new Map<string, GuestInfo>();
  const markers = new Map<Sid, NodeName[]>();
  const nodes = await ctx.store.list('nodes');
  // All listings at once: on etcd each is a round trip.
  const listings = await Promise.all(
    nodes.map((node) => Promise.all([...GUEST_DIRS.map(([dir]) => `nodes/${node}/${dir}`), `nodes/${node}/ha-resources`].map((dir) => ctx.store.list(dir)))),
  );
  nodes.forEach((node, i) => {
    GUEST_DIRS.forEach(([, kind], j) => {
      for (const file of listings[i][j]) {
        const m = /^(\d+)\.conf$/.exec(file);
        // pmxcfs keeps VMIDs unique cluster-wide; should a store not, the first node wins.
        if (m && !guests.has(m[1])) guests.set(m[1], { kind, node });
      }
    });
    for (const sid of listings[i][GUEST_DIRS.length]) markers.set(sid, [...(markers.get(sid) ?? []), node]);
  });
  return { guests, markers };
}

/**
 * The node a resource is on, or undefined when it cannot be found. Guest
 * types are looked up by name alone, as the reference's vmlist lookup does.
 */
export function resourceNode(ctx: AdminContext, inventory: Inventory, sid: Sid): NodeName | undefined {
  const colon = sid.indexOf(':');
  const type = sid.slice(0, colon);
  const spec = Object.hasOwn(ctx.resourceTypes, type) ? ctx.resourceTypes[type] : undefined;
  if (spec?.guest !== undefined) return inventory.guests.get(sid.slice(colon + 1))?.node;
  const nodes = inventory.markers.get(sid);
  return nodes !== undefined && nodes.length === 1 ? nodes[0] : undefined;
}
