// The scoring kernel: which node to start a resource on, how unbalanced the
// cluster is, and which migrations balance it best. Two implementations
// exist, this one and the Rust addon's (crates/ha-scheduling), and they must
// return identical bits; the node order given is the order every sum runs in.

import { compareCodePoints, totalCompare } from './ordering.js';
import {
  addRunningResource,
  addStartedResource,
  checkNodeStats,
  checkResourceStats,
  cpuLoad,
  memLoad,
  nodeLoad,
  removeRunningResource,
  type NodeStats,
  type ResourceStats,
} from './stats.js';
import { criterion, normaliseCriteria, normaliseMatrix, rankScores, scoreAlternatives, type Matrix } from './topsis.js';

export interface NodeUsage {
  readonly name: string;
  readonly stats: NodeStats;
}

export interface Migration {
  readonly sid: string;
  readonly sourceNode: string;
  readonly targetNode: string;
}

export interface MigrationCandidate {
  readonly migration: Migration;
  /** Usage of everything that moves with the migration. */
  readonly stats: ResourceStats;
}

export interface ScoredMigration {
  readonly migration: Migration;
  /** Node imbalance after the migration, truncated to 15 significant decimals. */
  readonly imbalance: number;
}

export interface ScoringKernel {
  readonly implementation: 'native' | 'typescript';
  /** Dispersion of the node loads: 0 when even, sqrt(n - 1) with all load on one of n nodes. */
  nodeImbalance(nodes: readonly NodeUsage[]): number;
  /** [node name, score] in the order of `nodes`; higher is better, 0..1. */
  scoreNodesToStartResource(nodes: readonly NodeUsage[], resource: ResourceStats): Array<[string, number]>;
  /** The `limit` candidates leaving the smallest imbalance, smallest first. */
  scoreBestBalancingMigrations(
    nodes: readonly NodeUsage[],
    candidates: readonly MigrationCandidate[],
    limit: number,
  ): ScoredMigration[];
  /** The `limit` candidates ranked best by TOPSIS over the usage criteria, best first. */
  scoreBestBalancingMigrationsTopsis(
    nodes: readonly NodeUsage[],
    candidates: readonly MigrationCandidate[],
    limit: number,
  ): ScoredMigration[];
}

/**
 * Spread of node usage that placement avoids: peaks weigh more than averages,
 * and memory more than CPU, since memory cannot be overcommitted safely.
 */
export const USAGE_CRITERIA = normaliseCriteria([
  criterion('average CPU', -1),
  criterion('highest CPU', -2),
  criterion('average memory', -5),
  criterion('highest memory', -10),
]);

export function checkNodeUsages(nodes: readonly NodeUsage[]): void {
  for (const node of nodes) checkNodeStats(node.name, node.stats);
}

export function checkCandidates(candidates: readonly MigrationCandidate[]): void {
  for (const { migration: m, stats } of candidates) {
    checkResourceStats(stats, () => `migration of '${m.sid}' from '${m.sourceNode}' to '${m.targetNode}'`);
  }
}

/** The checks every migration scoring runs first, in both kernels. */
export function checkMigrationInputs(
  nodes: readonly NodeUsage[],
  candidates: readonly MigrationCandidate[],
  limit: number,
): void {
  checkNodeUsages(nodes);
  checkCandidates(candidates);
  checkLimit(limit);
}

export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new Error(`limit must be a non-negative integer, got ${String(limit)}`);
  }
}

/**
 * Nodes grouped by name. The reference matches nodes by name, so nodes
 * sharing a name change together; a group is known by its first node's index.
 */
interface NameGroups {
  readonly byName: ReadonlyMap<string, number>;
  /** For each node, its group. */
  readonly groupOf: Int32Array;
  /** For each group, its nodes; empty for indices that are not a group. */
  readonly members: ReadonlyArray<readonly number[]>;
}

const NO_NODES: readonly number[] = [];

function nameGroups(nodes: readonly NodeUsage[]): NameGroups {
  const byName = new Map<string, number>();
  const groupOf = new Int32Array(nodes.length);
  const members: number[][] = [];
  for (let i = 0; i < nodes.length; i++) {
    let group = byName.get(nodes[i].name);
    if (group === undefined) {
      group = i;
      byName.set(nodes[i].name, i);
    }
    groupOf[i] = group;
    members[i] = [];
    members[group].push(i);
  }
  return { byName, groupOf, members };
}

/**
 * Imbalance of the loads: their coefficient of variation (standard deviation
 * over mean). Deliberately not scaled to 0..1 by its largest possible value,
 * sqrt(n - 1): the reference HA manager's auto-rebalance threshold and
 * margin, and the figures it logs, are in the unscaled measure (a cluster
 * with all load on one of three nodes logs 1.41).
 */
export function imbalanceOfLoads(loads: Float64Array): number {
  const n = loads.length;
  if (n < 2) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += loads[i];
  if (sum === 0) return 0;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = loads[i] - mean;
    squares += d * d;
  }
  const deviation = Math.sqrt(squares / n);
  return deviation / mean;
}

/**
 * Drops the digits below the 15 significant decimals an f64 holds, so that
 * imbalances equal but for rounding noise compare equal and the tie-break on
 * the migration decides.
 */
export function truncateImbalance(imbalance: number): number {
  return Math.trunc(1e15 * imbalance) / 1e15;
}

export function compareMigrations(a: Migration, b: Migration): number {
  return (
    compareCodePoints(a.sid, b.sid) ||
    compareCodePoints(a.sourceNode, b.sourceNode) ||
    compareCodePoints(a.targetNode, b.targetNode)
  );
}

export function compareScoredMigrations(a: ScoredMigration, b: ScoredMigration): number {
  return totalCompare(a.imbalance, b.imbalance) || compareMigrations(a.migration, b.migration);
}

/**
 * Writes the usage criteria for one hypothetical cluster state into row `row`:
 * 1 + the root mean square and 1 + the maximum of the CPU and of the memory
 * loads. The 1 keeps tiny loads from looking vastly different (0.004 is twice
 * 0.002, but 1.004 is barely more than 1.002).
 */
function writeAlternative(matrix: Matrix, row: number, cpu: Float64Array, mem: Float64Array): void {
  const n = cpu.length;
  let highestCpu = 0;
  let squaresCpu = 0;
  let highestMem = 0;
  let squaresMem = 0;
  for (let j = 0; j < n; j++) {
    const c = cpu[j];
    // a comparison rather than Math.max, which would let a NaN through
    if (c > highestCpu) highestCpu = c;
    squaresCpu += c * c;
    const m = mem[j];
    if (m > highestMem) highestMem = m;
    squaresMem += m * m;
  }
  const at = row * 4;
  matrix.values[at] = 1 + Math.sqrt(squaresCpu / n);
  matrix.values[at + 1] = 1 + highestCpu;
  matrix.values[at + 2] = 1 + Math.sqrt(squaresMem / n);
  matrix.values[at + 3] = 1 + highestMem;
}

function emptyMatrix(rows: number): Matrix {
  return { rows, width: 4, values: new Float64Array(rows * 4) };
}

/**
 * Every alternative below differs from the cluster as it is in one or two
 * groups of nodes only: their loads are written into a copy of the base
 * loads, the alternative evaluated, and the base loads put back.
 */
function restore(target: Float64Array, base: Float64Array, indices: readonly number[]): void {
  for (const j of indices) target[j] = base[j];
}

function scoreNodesToStartResource(nodes: readonly NodeUsage[], resource: ResourceStats): Array<[string, number]> {
  checkNodeUsages(nodes);
  checkResourceStats(resource, () => 'resource');
  const n = nodes.length;
  const { groupOf, members } = nameGroups(nodes);
  const baseCpu = new Float64Array(n);
  const baseMem = new Float64Array(n);
  const startedCpu = new Float64Array(n);
  const startedMem = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const { stats } = nodes[j];
    baseCpu[j] = cpuLoad(stats);
    baseMem[j] = memLoad(stats);
    const started = addStartedResource(stats, resource);
    startedCpu[j] = cpuLoad(started);
    startedMem[j] = memLoad(started);
  }
  const matrix = emptyMatrix(n);
  const cpu = baseCpu.slice();
  const mem = baseMem.slice();
  for (let i = 0; i < n; i++) {
    const here = members[groupOf[i]];
    for (const j of here) {
      cpu[j] = startedCpu[j];
      mem[j] = startedMem[j];
    }
    writeAlternative(matrix, i, cpu, mem);
    restore(cpu, baseCpu, here);
    restore(mem, baseMem, here);
  }
  const scores = scoreAlternatives(normaliseMatrix(matrix), USAGE_CRITERIA);
  return nodes.map((node, i) => [node.name, scores[i]]);
}

/** The cluster as a base for trying migrations on. */
interface MigrationBase {
  readonly nodes: readonly NodeUsage[];
  readonly groups: NameGroups;
  readonly loads: Float64Array;
}

function migrationBase(nodes: readonly NodeUsage[]): MigrationBase {
  return { nodes, groups: nameGroups(nodes), loads: Float64Array.from(nodes, (node) => nodeLoad(node.stats)) };
}

/**
 * The nodes a migration changes: those named as its source lose the moved
 * usage, those named as its target (unless also the source) gain it.
 */
function touchedNodes(base: MigrationBase, migration: Migration): { source: readonly number[]; target: readonly number[] } {
  const { byName, members } = base.groups;
  const source = byName.get(migration.sourceNode);
  const target = byName.get(migration.targetNode);
  return {
    source: source === undefined ? NO_NODES : members[source],
    target: target === undefined || target === source ? NO_NODES : members[target],
  };
}

function imbalanceAfter(base: MigrationBase, { migration, stats: moved }: MigrationCandidate, loads: Float64Array): number {
  const { nodes } = base;
  const { source, target } = touchedNodes(base, migration);
  for (const j of source) loads[j] = nodeLoad(removeRunningResource(nodes[j].stats, moved));
  for (const j of target) loads[j] = nodeLoad(addRunningResource(nodes[j].stats, moved));
  const imbalance = truncateImbalance(imbalanceOfLoads(loads));
  restore(loads, base.loads, source);
  restore(loads, base.loads, target);
  return imbalance;
}

function scoreBestBalancingMigrations(
  nodes: readonly NodeUsage[],
  candidates: readonly MigrationCandidate[],
  limit: number,
): ScoredMigration[] {
  checkMigrationInputs(nodes, candidates, limit);
  const base = migrationBase(nodes);
  const loads = base.loads.slice();
  const scored = candidates.map((candidate) => ({
    migration: candidate.migration,
    imbalance: imbalanceAfter(base, candidate, loads),
  }));
  return selectBestMigrations(scored, limit);
}

/**
 * The `limit` smallest scored migrations, by imbalance and then migration,
 * in ascending order. Both kernels choose with this function, so the
 * tie-break on sids and node names is the same code whichever computed the
 * imbalances. `scored` may be reordered.
 */
export function selectBestMigrations(scored: ScoredMigration[], limit: number): ScoredMigration[] {
  return smallest(scored, limit, compareScoredMigrations);
}

/**
 * The `limit` smallest items in ascending order. Items that compare equal are
 * interchangeable here (same imbalance and migration), so which of them is
 * kept does not show in the result.
 */
function smallest<T>(items: T[], limit: number, compare: (a: T, b: T) => number): T[] {
  if (limit === 0) return [];
  // a full sort pays off once many are wanted; otherwise keep a short sorted list
  if (limit >= items.length / 8) return items.sort(compare).slice(0, limit);
  const kept: T[] = [];
  for (const item of items) {
    const full = kept.length === limit;
    if (full && compare(item, kept[limit - 1]) >= 0) continue;
    let at = full ? limit - 1 : kept.length;
    while (at > 0 && compare(item, kept[at - 1]) < 0) {
      kept[at] = kept[at - 1];
      at--;
    }
    kept[at] = item;
  }
  return kept;
}

function scoreBestBalancingMigrationsTopsis(
  nodes: readonly NodeUsage[],
  candidates: readonly MigrationCandidate[],
  limit: number,
): ScoredMigration[] {
  checkMigrationInputs(nodes, candidates, limit);
  const base = migrationBase(nodes);
  const baseCpu = Float64Array.from(nodes, (node) => cpuLoad(node.stats));
  const baseMem = Float64Array.from(nodes, (node) => memLoad(node.stats));
  const cpu = baseCpu.slice();
  const mem = baseMem.slice();
  const matrix = emptyMatrix(candidates.length);
  candidates.forEach(({ migration, stats: moved }, row) => {
    const { source, target } = touchedNodes(base, migration);
    for (const j of source) {
      const stats = removeRunningResource(nodes[j].stats, moved);
      cpu[j] = cpuLoad(stats);
      mem[j] = memLoad(stats);
    }
    for (const j of target) {
      const stats = addRunningResource(nodes[j].stats, moved);
      cpu[j] = cpuLoad(stats);
      mem[j] = memLoad(stats);
    }
    writeAlternative(matrix, row, cpu, mem);
    for (const touched of [source, target]) {
      restore(cpu, baseCpu, touched);
      restore(mem, baseMem, touched);
    }
  });
  const ranking = rankScores(scoreAlternatives(normaliseMatrix(matrix), USAGE_CRITERIA));
  const loads = base.loads.slice();
  return ranking.slice(0, limit).map((i) => ({
    migration: candidates[i].migration,
    imbalance: imbalanceAfter(base, candidates[i], loads),
  }));
}

function nodeImbalance(nodes: readonly NodeUsage[]): number {
  checkNodeUsages(nodes);
  return imbalanceOfLoads(Float64Array.from(nodes, (node) => nodeLoad(node.stats)));
}

export const typescriptScoringKernel: ScoringKernel = {
  implementation: 'typescript',
  nodeImbalance,
  scoreNodesToStartResource,
  scoreBestBalancingMigrations,
  scoreBestBalancingMigrationsTopsis,
};
