// Membership of the plain directory store, where no corosync tells who is
// up. A node is a member when it has a directory under `nodes/` (the
// directory its lrm_status and guest configs live in; heartbeat creates
// it); a member is online while its heartbeat file `nodes/<node>/ha-heartbeat`
// is fresh. The file holds the wall-clock milliseconds of the beat, which
// every process compares with its own store clock — a process-local
// monotonic clock would mean nothing to the others. The partition is
// quorate when more than half of the members are online.

import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeName } from '../../core/types.js';
import { errnoCode } from './store-files.js';
import type { StoreMember, StoreMembership } from './store.js';
import { holderName } from './store-paths.js';

export function heartbeatPath(node: NodeName): string {
  return `nodes/${holderName(node)}/ha-heartbeat`;
}

/**
 * Fresh when the beat is at most `timeoutMs` old. A beat from further in the
 * future than that is not trusted either: after the clock stepped back, a
 * node counts as online again with its next beat, not before.
 */
export function heartbeatFresh(beatMs: number, nowMs: number, timeoutMs: number): boolean {
  return Number.isFinite(beatMs) && Math.abs(nowMs - beatMs) <= timeoutMs;
}

export async function readHeartbeatMembership(
  root: string,
  nowMs: number,
  timeoutMs: number,
): Promise<StoreMembership> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(join(root, 'nodes'), { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { nodes: {}, quorate: false };
    throw new Error(`cannot read the members of '${join(root, 'nodes')}' - ${err instanceof Error ? err.message : String(err)}`);
  }
  const nodes: Record<NodeName, StoreMember> = {};
  let online = 0;
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const text = await fs.readFile(join(root, 'nodes', entry.name, 'ha-heartbeat'), 'utf8').catch(() => undefined);
    const beat = text === undefined ? Number.NaN : Number(text.trim());
    const up = heartbeatFresh(beat, nowMs, timeoutMs);
    nodes[entry.name] = Number.isFinite(beat) ? { online: up, lastHeartbeatMs: beat } : { online: up };
    if (up) online++;
  }
  const members = Object.keys(nodes).length;
  return { nodes, quorate: online * 2 > members };
}
