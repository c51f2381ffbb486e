// Flat encodings of the kernel's inputs for the native addon: typed arrays
// cross the N-API boundary in one copy each, where arrays of objects would
// cost a property lookup per field. Names do not cross at all: the Rust
// kernel only compares them, so each is replaced by an integer key that
// compares the same way.

import type { MigrationCandidate, NodeUsage } from './kernel.js';
import { compareCodePoints } from './ordering.js';
import type { ResourceStats } from './stats.js';

/** Numbers per stats record: cpu, maxcpu, mem, maxmem. */
export const STATS_WIDTH = 4;

export function packNodeStats(nodes: readonly NodeUsage[]): Float64Array {
  const packed = new Float64Array(nodes.length * STATS_WIDTH);
  nodes.forEach(({ stats }, i) => {
    const at = i * STATS_WIDTH;
    packed[at] = stats.cpu;
    packed[at + 1] = stats.maxcpu;
    packed[at + 2] = stats.mem;
    packed[at + 3] = stats.maxmem;
  });
  return packed;
}

export function packResourceStats(stats: ResourceStats): Float64Array {
  return Float64Array.of(stats.cpu, stats.maxcpu, stats.mem, stats.maxmem);
}

/** Keys equal exactly where node names are: each node's first index with its name. */
export function nodeNameKeys(nodes: readonly NodeUsage[]): Uint32Array {
  const first = new Map<string, number>();
  return Uint32Array.from(nodes, (node, i) => {
    const key = first.get(node.name);
    if (key !== undefined) return key;
    first.set(node.name, i);
    return i;
  });
}

export interface PackedMigrations {
  readonly nodeStats: Float64Array;
  /** One key per node. */
  readonly nodeKeys: Uint32Array;
  readonly candidateStats: Float64Array;
  /** Three keys per candidate: sid, source node, target node. */
  readonly candidateKeys: Uint32Array;
}

/**
 * Packs nodes and candidates, keying every name and sid by its rank among
 * all of them in code point order, so that comparing keys orders migrations
 * exactly as comparing their strings (the reference's tie-break) would.
 */
export function packMigrations(
  nodes: readonly NodeUsage[],
  candidates: readonly MigrationCandidate[],
): PackedMigrations {
  const ranks = new Map<string, number>();
  for (const node of nodes) ranks.set(node.name, 0);
  for (const { migration } of candidates) {
    ranks.set(migration.sid, 0);
    ranks.set(migration.sourceNode, 0);
    ranks.set(migration.targetNode, 0);
  }
  [...ranks.keys()].sort(compareCodePoints).forEach((name, rank) => ranks.set(name, rank));
  const rankOf = (name: string): number => ranks.get(name) as number;

  const candidateStats = new Float64Array(candidates.length * STATS_WIDTH);
  const candidateKeys = new Uint32Array(candidates.length * 3);
  candidates.forEach(({ migration, stats }, i) => {
    const at = i * STATS_WIDTH;
    candidateStats[at] = stats.cpu;
    candidateStats[at + 1] = stats.maxcpu;
    candidateStats[at + 2] = stats.mem;
    candidateStats[at + 3] = stats.maxmem;
    candidateKeys[i * 3] = rankOf(migration.sid);
    candidateKeys[i * 3 + 1] = rankOf(migration.sourceNode);
    candidateKeys[i * 3 + 2] = rankOf(migration.targetNode);
  });
  return {
    nodeStats: packNodeStats(nodes),
    nodeKeys: Uint32Array.from(nodes, (node) => rankOf(node.name)),
    candidateStats,
    candidateKeys,
  };
}
