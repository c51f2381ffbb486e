// Flat encodings of the kernel's inputs for the native addon: typed arrays
// cross the N-API boundary in one copy each, where arrays of objects would
// cost a property lookup per field. Names do not cross at all: the Rust
// kernel only tests node names for equality, so each becomes an integer key
// equal where the names are.

import type { MigrationCandidate, NodeUsage } from './kernel.js';
import type { NodeStats, ResourceStats } from './stats.js';

/** Numbers per stats record: cpu, maxcpu, mem, maxmem. */
export const STATS_WIDTH = 4;

function writeStats(packed: Float64Array, at: number, stats: NodeStats | ResourceStats): void {
  packed[at] = stats.cpu;
  packed[at + 1] = stats.maxcpu;
  packed[at + 2] = stats.mem;
  packed[at + 3] = stats.maxmem;
}

export function packNodeStats(nodes: readonly NodeUsage[]): Float64Array {
  const packed = new Float64Array(nodes.length * STATS_WIDTH);
  for (let i = 0; i < nodes.length; i++) writeStats(packed, i * STATS_WIDTH, nodes[i].stats);
  return packed;
}

export function packResourceStats(stats: ResourceStats): Float64Array {
  const packed = new Float64Array(STATS_WIDTH);
  writeStats(packed, 0, stats);
  return packed;
}

/** Keys equal exactly where node names are: each node's first index with its name. */
export function nodeNameKeys(nodes: readonly NodeUsage[]): Uint32Array {
  const first = new Map<string, number>();
  const keys = new Uint32Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const { name } = nodes[i];
    const key = first.get(name);
    if (key === undefined) first.set(name, i);
    keys[i] = key ?? i;
  }
  return keys;
}

/** The key of a node name that no node has. */
export const UNKNOWN_NODE = 0xffffffff;

export interface PackedMigrations {
  readonly nodeStats: Float64Array;
  /** One key per node. */
  readonly nodeKeys: Uint32Array;
  readonly candidateStats: Float64Array;
  /** Two keys per candidate: its source node and its target node. */
  readonly candidateNodes: Uint32Array;
}

/**
 * Packs nodes and candidates; a candidate's source and target become the
 * keys of the nodes with those names. Sids stay behind: the native kernel
 * returns imbalances or indices, and the tie-break on sids runs here.
 */
export function packMigrations(
  nodes: readonly NodeUsage[],
  candidates: readonly MigrationCandidate[],
): PackedMigrations {
  const nodeKeys = nodeNameKeys(nodes);
  const keyOf = new Map<string, number>();
  for (let i = nodes.length - 1; i >= 0; i--) keyOf.set(nodes[i].name, nodeKeys[i]);
  const candidateStats = new Float64Array(candidates.length * STATS_WIDTH);
  const candidateNodes = new Uint32Array(candidates.length * 2);
  for (let i = 0; i < candidates.length; i++) {
    const { migration, stats } = candidates[i];
    writeStats(candidateStats, i * STATS_WIDTH, stats);
    candidateNodes[i * 2] = keyOf.get(migration.sourceNode) ?? UNKNOWN_NODE;
    candidateNodes[i * 2 + 1] = keyOf.get(migration.targetNode) ?? UNKNOWN_NODE;
  }
  return { nodeStats: packNodeStats(nodes), nodeKeys, candidateStats, candidateNodes };
}
