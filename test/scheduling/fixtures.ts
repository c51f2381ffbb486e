// Clusters and candidates shared by the scheduling tests: the reference
// crate's sample clusters, three nodes alike or unlike in size.

import type { MigrationCandidate, NodeUsage, ResourceStats } from '../../src/core/scheduling/index.js';

export const MIB = 2 ** 20;
export const GIB = 2 ** 30;

export function node(name: string, cpu: number, maxcpu: number, mem: number, maxmem: number): NodeUsage {
  return { name, stats: { cpu, maxcpu, mem, maxmem } };
}

export function resource(cpu: number, maxcpu: number, mem: number, maxmem: number): ResourceStats {
  return { cpu, maxcpu, mem, maxmem };
}

/** Same hardware everywhere, unevenly used. */
export const alike: readonly NodeUsage[] = [
  node('node1', 1.7, 16, 12334 * MIB, 64 * GIB),
  node('node2', 15.184, 16, 529 * MIB, 64 * GIB),
  node('node3', 5.2, 16, 9381 * MIB, 64 * GIB),
];

/** The same usage on nodes of different sizes. */
export const unlike: readonly NodeUsage[] = [
  node('node1', 1.7, 16, 12334 * MIB, 128 * GIB),
  node('node2', 15.184, 32, 529 * MIB, 96 * GIB),
  node('node3', 5.2, 24, 9381 * MIB, 64 * GIB),
];

/** vm:101 on node1, to go to node2 or to node3. */
export const vm101Candidates: readonly MigrationCandidate[] = ['node2', 'node3'].map((targetNode) => ({
  migration: { sid: 'vm:101', sourceNode: 'node1', targetNode },
  stats: resource(0.7, 4, 8 * GIB, 16 * GIB),
}));
