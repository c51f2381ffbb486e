// Safe policy only: nodes the master must not fence by taking their free
// agent lock, because their LRM gave that lock and its watchdog up on purpose
// while guests may still run there.
//
// Fencing a node means taking its agent lock. That proves the node is dead
// only if its LRM held the lock with a watchdog: then it either renewed the
// lock, or its watchdog reset the node before the lock could expire. The
// reference also lets an LRM give both up on purpose with guests running: a
// disarm (either mode) and an LRM restart (its services frozen, or in the
// error state). If such a node is then cut off, the reference takes its free
// lock at once and recovers its services elsewhere while they still run
// there: a double run (docs/RELIABILITY.md, "disarm").
//
// So under the safe policy the master marks such a node and does not move
// its services to `fence` while the mark holds; they stay as they are, the
// node `unknown`, until the node is back and its LRM has taken its lock again
// (or the admin removes the node from the cluster, declaring it dead). The
// marks live in manager_status (`unprotected_nodes`), so a new master keeps
// them.
//
// - Marked: every node, for as long as the stack is disarmed (from the round
//   that accepts the disarm, before any LRM can act on it); and a node whose
//   LRM reports the mode `restart` or `disarm`.
// - Cleared, only in a round that begins armed (so its LRM statuses were
//   read after the re-arm was published): a node whose LRM reports state
//   `active` in mode `active`, which it writes only right after renewing
//   its lock with its watchdog armed; a node with no service placed on it
//   or heading to it (none of its guests is HA's any more: they can only
//   have left through its own LRM, which held its lock then, or been taken
//   out of HA); a node no longer in the cluster.
//
// Why an `active`/`active` status read after the re-arm is proof: under the
// safe policy an LRM releases for a disarm only after a status saying mode
// `disarm` was written (lrm.ts), and writes `active`/`active` again only
// after taking its lock back. If the master still reads `active`/`active`,
// the LRM has not announced a release yet; any release would need another
// iteration reading a disarmed manager status, which no longer exists.

import type { HaEnv } from '../../env/env.js';
import { nodeState } from '../node-status.js';
import type { LrmStatus, NodeName, ReportedLrmMode } from '../types.js';
import type { Manager } from './state.js';

function marked(m: Manager): Set<NodeName> {
  return new Set(m.ms.unprotected_nodes ?? []);
}

function store(m: Manager, nodes: ReadonlySet<NodeName>): void {
  if (nodes.size === 0) delete m.ms.unprotected_nodes;
  else m.ms.unprotected_nodes = [...nodes].sort();
}

/** Whether a service of `node` must not be moved to `fence` (safe policy only). */
export function awaitsAgentLock(env: HaEnv, m: Manager, node: NodeName): boolean {
  if (env.policy !== 'safe' || m.ms.unprotected_nodes?.includes(node) !== true) return false;
  if (!m.heldBackFences.has(node)) {
    m.heldBackFences.add(node);
    env.log('warning', `not fencing node '${node}': its LRM released its agent lock on purpose with guests running, and has not taken it back`);
  }
  return true;
}

/** Whether any service is placed on `node` or heading to it. */
function hasServices(m: Manager, node: NodeName): boolean {
  for (const sid in m.ss) {
    const sd = m.ss[sid];
    if (sd.node === node || sd.target === node) return true;
  }
  return false;
}

/**
 * At the start of a round, with the LRM statuses just read: marks the nodes
 * whose LRM is restarting or disarmed, and clears the marks that no longer
 * hold. Safe policy only.
 */
export function updateUnprotectedNodes(
  env: HaEnv,
  m: Manager,
  statuses: ReadonlyMap<NodeName, Readonly<LrmStatus>>,
  modes: Readonly<Record<NodeName, ReportedLrmMode>>,
): void {
  if (env.policy !== 'safe') return;
  const before = marked(m);
  const nodes = new Set(before);
  for (const node of Object.keys(modes)) {
    if (modes[node] === 'restart' || modes[node] === 'disarm') nodes.add(node);
  }
  if (!m.ms.disarm) {
    for (const node of [...nodes].sort()) {
      const status = statuses.get(node);
      const holdsLock = status?.state === 'active' && status.mode === 'active';
      const member = m.ns.status[node] !== undefined && nodeState(m.ns, node) !== 'gone';
      if (!holdsLock && member && hasServices(m, node)) continue;
      nodes.delete(node);
      m.heldBackFences.delete(node);
      if (!before.has(node)) continue;
      const why = holdsLock ? 'its LRM reports holding its agent lock' : member ? 'no service left on it' : 'not a cluster member any more';
      env.log('info', `node '${node}' may be fenced again: ${why}`);
    }
  }
  store(m, nodes);
}

/** While the stack is disarmed every node may run guests without its LRM's lock. Safe policy only. */
export function markAllUnprotected(env: HaEnv, m: Manager): void {
  if (env.policy !== 'safe') return;
  const nodes = marked(m);
  for (const node of Object.keys(m.ns.status)) nodes.add(node);
  store(m, nodes);
}
