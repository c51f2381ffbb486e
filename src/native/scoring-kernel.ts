// The Rust scheduling kernel (crates/ha-scheduling, exposed by the addon's
// scheduling module) as a ScoringKernel. Inputs are checked here, with the
// TypeScript kernel's own checks and texts, then packed into typed arrays;
// the addon answers in typed arrays too.

import {
  checkCandidates,
  checkLimit,
  checkNodeUsages,
  checkResourceStats,
  nodeNameKeys,
  packMigrations,
  packNodeStats,
  packResourceStats,
  type MigrationCandidate,
  type NodeUsage,
  type ScoredMigration,
  type ScoringKernel,
} from '../core/scheduling/index.js';
import { loadNative } from './loader.js';

/** The scheduling functions of the addon (crates/ha-native/src/scheduling.rs). */
export interface SchedulingAddon {
  schedulingNodeImbalance(nodeStats: Float64Array): number;
  /** Scores in node order. */
  schedulingScoreNodesToStartResource(nodeStats: Float64Array, nodeKeys: Uint32Array, resource: Float64Array): Float64Array;
  /** Chosen candidates as (index, imbalance) pairs, best first. */
  schedulingScoreBestBalancingMigrations(
    nodeStats: Float64Array,
    nodeKeys: Uint32Array,
    candidateStats: Float64Array,
    candidateKeys: Uint32Array,
    limit: number,
    topsis: boolean,
  ): Float64Array;
}

function isSchedulingAddon(addon: unknown): addon is SchedulingAddon {
  if (typeof addon !== 'object' || addon === null) return false;
  const functions = addon as Record<string, unknown>;
  return (
    typeof functions.schedulingNodeImbalance === 'function' &&
    typeof functions.schedulingScoreNodesToStartResource === 'function' &&
    typeof functions.schedulingScoreBestBalancingMigrations === 'function'
  );
}

function bestMigrations(
  addon: SchedulingAddon,
  nodes: readonly NodeUsage[],
  candidates: readonly MigrationCandidate[],
  limit: number,
  topsis: boolean,
): ScoredMigration[] {
  checkNodeUsages(nodes);
  checkCandidates(candidates);
  checkLimit(limit);
  const packed = packMigrations(nodes, candidates);
  const pairs = addon.schedulingScoreBestBalancingMigrations(
    packed.nodeStats,
    packed.nodeKeys,
    packed.candidateStats,
    packed.candidateKeys,
    limit,
    topsis,
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
      checkResourceStats('resource', resource);
      const scores = addon.schedulingScoreNodesToStartResource(
        packNodeStats(nodes),
        nodeNameKeys(nodes),
        packResourceStats(resource),
      );
      return nodes.map((node, i) => [node.name, scores[i]]);
    },
    scoreBestBalancingMigrations: (nodes, candidates, limit) => bestMigrations(addon, nodes, candidates, limit, false),
    scoreBestBalancingMigrationsTopsis: (nodes, candidates, limit) =>
      bestMigrations(addon, nodes, candidates, limit, true),
  };
}

/** The Rust kernel when the addon is loaded and has it; otherwise undefined. */
export function nativeScoringKernel(): ScoringKernel | undefined {
  return scoringKernelFromAddon(loadNative().binding);
}
