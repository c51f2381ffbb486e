// The note a holder of a lock domain leaves for those who wait for it: one
// JSON object naming its node, pid, command and since when it holds the lock
// (milliseconds since the epoch). The directory guard's tickets, the note
// beside pmxcfs's domain lock and the etcd contenders' keys all hold one; a
// waiter that gives up reads it to say who holds the lock (describeHolder).

import type { LockHolder, LockHolderSeen } from './store.js';

export function writeHolderNote(holder: LockHolder, since: number): string {
  return JSON.stringify({ node: holder.node, pid: holder.pid, command: holder.command, since });
}

/**
 * What a note says, field by field (a field of the wrong type is left
 * out); undefined when it is no JSON object, e.g. one being written.
 */
export function parseHolderNote(text: string): LockHolderSeen | undefined {
  let note: unknown;
  try {
    note = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof note !== 'object' || note === null) return undefined;
  const { node, pid, command, since } = note as Record<string, unknown>;
  return {
    ...(typeof node === 'string' ? { node } : {}),
    ...(typeof pid === 'number' ? { pid } : {}),
    ...(typeof command === 'string' ? { command } : {}),
    ...(typeof since === 'number' ? { since } : {}),
  };
}
