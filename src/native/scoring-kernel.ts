// The Rust scheduling kernel (crates/ha-scheduling, exposed by the addon's
// scheduling module) as a ScoringKernel. Inputs are checked here, with the
// TypeScript kernel's own checks and texts, then packed into typed arrays;
// the addon answers in typed arrays too. Rust does all the floating-point
// work; the choice among exhaustively scored migrations, whose tie-break
// compares sids, is the TypeScript kernel's own selection function.

import {
  checkMigrationInputs,
  checkNodeUsages,
  checkResourceStats,
  nodeNameKeys,
  packMigrations,
  packNodeStats,
  packResourceStats,
  selectBestMigrations,
  type MigrationCandidate,
  type NodeUsage,
  type ScoredMigration,
  type ScoringKernel,
} from '../core/scheduling/index.js';
import { loadNative } from './loader.js';

/**
 * The scheduling functions of the addon (crates/ha-native/src/scheduling.rs)
 * over the arrays of core/scheduling/packed.ts.
 */
export interface SchedulingAddon {
  schedulingNodeImbalance(nodeStats: Float64Array): number;
  /** Scores in node order. */
  schedulingScoreNodesToStartResource(nodeStats: Float64Array, nodeKeys: Uint32Array, resource: Float64Array): Float64Array;
  /** Each candidate's imbalance after its migration, in candidate order. */
  schedulingMigrationImbalances(
    nodeStats: Float64Array,
    nodeKeys: Uint32Array,
    candidateStats: Float64Array,
    candidateNodes: Uint32Array,
  ): Float64Array;
  /** The chosen candidates as (index, imbalance) pairs, best first. */
  schedulingScoreBestBalancingMigrationsTopsis(
    nodeStats: Float64Array,
    nodeKeys: Uint32Array,
    candidateStats: Float64Array,
    candidateNodes: Uint32Array,
    limit: number,
  ): Float64Array;
}

const ADDON_FUNCTIONS = [
  'schedulingNodeImbalance',
  'schedulingScoreNodesToStartResource',
  'schedulingMigrationImbalances',
  'schedulingScoreBestBalancingMigrationsTopsis',
] as const satisfies readonly (keyof SchedulingAddon)[];

function isSchedulingAddon(addon: unknown): addon is SchedulingAddon {
  if (typeof addon !== 'object' || addon === null) return false;
  const functions = addon as Record<string, unknown>;
  return ADDON_FUNCTIONS.every((name) => typeof functions[name] === 'function');
}

function bestMigrations(
  addon: SchedulingAddon,
  nodes: readonly NodeUsage[],
  candidates: readonly MigrationCandidate[],
  limit: number,
): ScoredMigration[] {
  checkMigrationInputs(nodes, candidates, limit);
  const packed = packMigrations(nodes, candidates);
  const imbalances = addon.schedulingMigrationImbalances(
    packed.nodeStats,
    packed.nodeKeys,
    packed.candidateStats,
    packed.candidateNodes,
  );
  const scored = candidates.map(({ migration }, i) => ({ migration, imbalance: imbalances[i] }));
  return selectBestMigrations(scored, limit);
}

function bestMigrationsTopsis(
  addon: SchedulingAddon,
  nodes: readonly NodeUsage[],
  candidates: readonly MigrationCandidate[],
  limit: number,
): ScoredMigration[] {
  checkMigrationInputs(nodes, candidates, limit);
  const packed = packMigrations(nodes, candidates);
  const pairs = addon.schedulingScoreBestBalancingMigrationsTopsis(
    packed.nodeStats,
    packed.nodeKeys,
    packed.candidateStats,
    packed.candidateNodes,
    limit,
  );
  const chosen: ScoredMigration[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    chosen.push({ migration: candidates[pairs[i]].migration, imbalance: pairs[i + 1] });
  }
  return chosen;
}

/** The addon's kernel, or undefined when the addon lacks the scheduling functions. */
export function scoringKernelFromAddon(addon: unknown): ScoringKernel | undefined {
  if (!isSchedulingAddon(addon)) return undefined;
  return {
    implementation: 'native',
    nodeImbalance(nodes) {
      checkNodeUsages(nodes);
      return addon.schedulingNodeImbalance(packNodeStats(nodes));
    },
    scoreNodesToStartResource(nodes, resource) {
      checkNodeUsages(nodes);
      checkResourceStats(resource, () => 'resource');
      const scores = addon.schedulingScoreNodesToStartResource(
        packNodeStats(nodes),
        nodeNameKeys(nodes),
        packResourceStats(resource),
      );
      return nodes.map((node, i) => [node.name, scores[i]]);
    },
    scoreBestBalancingMigrations: (nodes, candidates, limit) => bestMigrations(addon, nodes, candidates, limit),
    scoreBestBalancingMigrationsTopsis: (nodes, candidates, limit) =>
      bestMigrationsTopsis(addon, nodes, candidates, limit),
  };
}

/** The Rust kernel when the addon is loaded and has it; otherwise undefined. */
export function nativeScoringKernel(): ScoringKernel | undefined {
  return scoringKernelFromAddon(loadNative().binding);
}
