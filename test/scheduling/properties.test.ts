// Properties of the TypeScript kernel on random clusters, checked against
// plain restatements of what each function promises.

import { describe, expect, it } from 'vitest';
import {
  addRunningResource,
  compareScoredMigrations,
  removeRunningResource,
  truncateImbalance,
  typescriptScoringKernel as kernel,
  type MigrationCandidate,
  type NodeUsage,
  type ScoredMigration,
} from '../../src/core/scheduling/index.js';
import { mulberry32 } from '../seeded-random.mjs';
import { randomCandidates, randomLimit, randomNodes, randomResource } from './random-cluster.js';
import { firstDifference, outcome } from './same-bits.js';

const CASES = 300;

function forEachSeed(check: (seed: number) => void): void {
  for (let seed = 1; seed <= CASES; seed++) {
    try {
      check(seed);
    } catch (error) {
      throw new Error(`seed ${seed}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** The imbalance after a migration, from the public imbalance function alone. */
function imbalanceAfter(nodes: readonly NodeUsage[], { migration, stats }: MigrationCandidate): number {
  const moved = nodes.map((node) => {
    if (node.name === migration.sourceNode) return { ...node, stats: removeRunningResource(node.stats, stats) };
    if (node.name === migration.targetNode) return { ...node, stats: addRunningResource(node.stats, stats) };
    return node;
  });
  return truncateImbalance(kernel.nodeImbalance(moved));
}

const referenceErrors = /^(criterion \d+ got invalid value (NaN|inf|-inf)|invalid score .*)$/;

describe('TypeScript kernel on random clusters', () => {
  it('exhaustive search returns the `limit` smallest of all imbalances, sorted', () => {
    forEachSeed((seed) => {
      const random = mulberry32(seed);
      const nodes = randomNodes(random);
      const candidates = randomCandidates(random, nodes);
      const limit = randomLimit(random, candidates.length);
      const expected: ScoredMigration[] = candidates
        .map((candidate) => ({ migration: candidate.migration, imbalance: imbalanceAfter(nodes, candidate) }))
        .sort(compareScoredMigrations)
        .slice(0, limit);
      const difference = firstDifference(kernel.scoreBestBalancingMigrations(nodes, candidates, limit), expected);
      expect(difference).toBeUndefined();
    });
  });

  it('TOPSIS returns `limit` migrations, each with its own imbalance', () => {
    forEachSeed((seed) => {
      const random = mulberry32(seed);
      const nodes = randomNodes(random);
      const candidates = randomCandidates(random, nodes);
      const limit = randomLimit(random, candidates.length);
      const result = outcome(() => kernel.scoreBestBalancingMigrationsTopsis(nodes, candidates, limit));
      if ('error' in result) {
        expect(result.error).toMatch(referenceErrors);
        return;
      }
      expect(result.value).toHaveLength(Math.min(limit, candidates.length));
      for (const scored of result.value) {
        const candidate = candidates.find((c) => c.migration === scored.migration) as MigrationCandidate;
        expect(Object.is(scored.imbalance, imbalanceAfter(nodes, candidate))).toBe(true);
      }
    });
  });

  it('start scores lie in 0..1, or scoring fails with a reference error', () => {
    forEachSeed((seed) => {
      const random = mulberry32(seed);
      const nodes = randomNodes(random);
      const result = outcome(() => kernel.scoreNodesToStartResource(nodes, randomResource(random)));
      if ('error' in result) {
        expect(result.error).toMatch(referenceErrors);
        expect(nodes.some((node) => node.stats.maxcpu === 0 || node.stats.maxmem === 0)).toBe(true);
        return;
      }
      expect(result.value.map(([name]) => name)).toEqual(nodes.map((node) => node.name));
      for (const [, score] of result.value) expect(score >= 0 && score <= 1).toBe(true);
    });
  });

  it('imbalance lies in 0..sqrt(n - 1) unless a node has no capacity', () => {
    forEachSeed((seed) => {
      const nodes = randomNodes(mulberry32(seed));
      const imbalance = kernel.nodeImbalance(nodes);
      if (nodes.some((node) => node.stats.maxcpu === 0 || node.stats.maxmem === 0)) return;
      const worst = Math.sqrt(Math.max(nodes.length - 1, 0));
      expect(imbalance >= 0 && imbalance <= worst * (1 + 1e-12)).toBe(true);
    });
  });
});

describe('the exact comparison used by the agreement tests', () => {
  it('tells -0 from 0, and finds differences in order and length', () => {
    expect(firstDifference([['a', 0]], [['a', -0]])).toMatch(/^\$\[0\]\[1\]: 0 \(0x0+\) vs 0 \(0x8000000000000000\)$/);
    expect(firstDifference([1, 2], [2, 1])).toBeDefined();
    expect(firstDifference([1], [1, 2])).toBe('$: length 1 vs 2');
    expect(firstDifference({ error: 'x' }, { value: 1 })).toBeDefined();
    expect(firstDifference([NaN, { a: 'b' }], [NaN, { a: 'b' }])).toBeUndefined();
  });
});
