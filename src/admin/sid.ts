// Turning what the user typed into a service id: `vm:100` as is, a bare
// guest id `100` into `vm:100` or `ct:100` by the guest found in the cluster.

import type { Sid } from '../core/types.js';
import type { AdminContext } from './context.js';
import { invalidParam, notFound } from './errors.js';
import { readInventory, type Inventory } from './inventory.js';

export interface ResolvedSid {
  sid: Sid;
  type: string;
  name: string;
}

export async function resolveSid(ctx: AdminContext, input: string, inventory?: Inventory): Promise<ResolvedSid> {
  if (/^\d+$/.test(input)) {
    const guest = (inventory ?? (await readInventory(ctx))).guests.get(input);
    if (guest === undefined) {
      throw notFound(`unable to detect SID from VMID - VM/CT ${input} does not exist`);
    }
    const type = guest.kind === 'qemu' ? 'vm' : 'ct';
    return { sid: `${type}:${input}`, type, name: input };
  }
  const m = /^(\S+?):(\S+)$/.exec(input);
  if (!m) throw invalidParam('sid', `unable to parse service id '${input}' (expected <type>:<name>, e.g. vm:100)`);
  return { sid: input, type: m[1], name: m[2] };
}
