import type { NodeName } from '../types.js';

const NODE_PRIORITY_RE = /^([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?::(\d+))?$/;

/**
 * Splits a `node[:priority]` entry of a node list; a missing priority is 0.
 * Returns undefined for an entry that is not a valid node name.
 */
export function parseNodePriority(entry: string): { node: NodeName; priority: number } | undefined {
  const m = NODE_PRIORITY_RE.exec(entry);
  if (!m) return undefined;
  return { node: m[1], priority: m[2] === undefined ? 0 : Number(m[2]) };
}

/** Whether `entry` is a node name with an optional `:priority`. */
export function isNodeListEntry(entry: string): boolean {
  return NODE_PRIORITY_RE.test(entry);
}
