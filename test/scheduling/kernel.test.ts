import { describe, expect, it } from 'vitest';
import {
  compareScoredMigrations,
  imbalanceOfLoads,
  truncateImbalance,
  typescriptScoringKernel as kernel,
  type MigrationCandidate,
  type NodeUsage,
  type ResourceStats,
} from '../../src/core/scheduling/index.js';
import { alike, GIB, node, resource, unlike, vm101Candidates } from './fixtures.js';

function startOrder(nodes: readonly NodeUsage[], stats: ResourceStats): string[] {
  return kernel
    .scoreNodesToStartResource(nodes, stats)
    .sort((a, b) => b[1] - a[1])
    .map(([name]) => name);
}

function targets(scored: ReadonlyArray<{ migration: { targetNode: string } }>): string[] {
  return scored.map((s) => s.migration.targetNode);
}

describe('node imbalance', () => {
  it('is 0 for no, one or evenly loaded nodes, and for idle ones', () => {
    expect(kernel.nodeImbalance([])).toBe(0);
    const one = node('node1', 1.7, 16, 224395264, 68719476736);
    expect(kernel.nodeImbalance([one])).toBe(0);
    expect(kernel.nodeImbalance([one, one, one])).toBe(0);
    const idle = node('node1', 0, 16, 0, 64 * GIB);
    expect(kernel.nodeImbalance([idle, idle])).toBe(0);
  });

  it('is the coefficient of variation, unscaled as the HA manager logs it', () => {
    // loads 0.75 and 0.25: mean 0.5, deviation 0.25
    expect(imbalanceOfLoads(Float64Array.of(0.75, 0.25))).toBe(0.5);
    // everything on one node of three is the worst case: sqrt(n - 1)
    const busy = node('busy', 8, 16, 32 * GIB, 64 * GIB);
    const idle = node('idle', 0, 16, 0, 64 * GIB);
    expect(kernel.nodeImbalance([busy, idle, idle])).toBeCloseTo(Math.SQRT2, 15);
    expect(imbalanceOfLoads(Float64Array.of(0.5))).toBe(0);
    expect(imbalanceOfLoads(Float64Array.of(0, 0, 0))).toBe(0);
  });

  it('matches the reference for its sample clusters', () => {
    expect(kernel.nodeImbalance(alike)).toBeCloseTo(0.4893954724628247, 15);
    // exact bits, as computed by the Rust kernel (crates/ha-scheduling)
    expect(kernel.nodeImbalance(unlike)).toBe(0.33026013056867354);
  });
});

describe('start scoring', () => {
  it('ranks nodes of a cluster of alike nodes as the reference does', () => {
    expect(startOrder(alike, resource(0, 1, 0, 12 * GIB))).toEqual(['node2', 'node3', 'node1']);
    expect(startOrder(alike, resource(0, 12, 0, 0))).toEqual(['node1', 'node3', 'node2']);
    // no CPU limit: it may take all 16 cores of whichever node
    expect(startOrder(alike, resource(0, 0, 0, 0))).toEqual(['node1', 'node3', 'node2']);
    expect(startOrder(alike, resource(0, 12, 0, 12 * GIB))).toEqual(['node2', 'node3', 'node1']);
  });

  it('ranks nodes of a cluster of unlike nodes as the reference does', () => {
    expect(startOrder(unlike, resource(0, 1, 0, 12 * GIB))).toEqual(['node2', 'node1', 'node3']);
    expect(startOrder(unlike, resource(0, 12, 0, 0))).toEqual(['node3', 'node2', 'node1']);
    expect(startOrder(unlike, resource(0, 0, 0, 0))).toEqual(['node1', 'node3', 'node2']);
    expect(startOrder(unlike, resource(0, 12, 0, 12 * GIB))).toEqual(['node2', 'node1', 'node3']);
  });

  it('returns the exact scores of the Rust kernel, in node order', () => {
    expect(kernel.scoreNodesToStartResource(unlike, resource(0, 12, 0, 12 * GIB))).toEqual([
      ['node1', 0.7480435823743989],
      ['node2', 0.9142177418212399],
      ['node3', 0.09411644874291693],
    ]);
  });

  it('scores a lone node, or identical empty nodes, 0', () => {
    expect(kernel.scoreNodesToStartResource([node('n', 1, 8, GIB, 8 * GIB)], resource(0, 1, 0, GIB))).toEqual([
      ['n', 0],
    ]);
    const empty = node('a', 0, 4, 0, 4 * GIB);
    expect(kernel.scoreNodesToStartResource([empty, { ...empty, name: 'b' }], resource(0, 1, 0, GIB))).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    expect(kernel.scoreNodesToStartResource([], resource(0, 1, 0, GIB))).toEqual([]);
  });

  it('treats nodes sharing a name as one, as the reference matches by name', () => {
    const a = node('a', 0, 4, 0, 4 * GIB);
    const scores = kernel.scoreNodesToStartResource([a, { ...a, name: 'b' }, a], resource(0, 1, 0, GIB));
    expect(scores[0][1]).toBe(scores[2][1]);
    expect(scores[1][1]).toBeGreaterThan(scores[0][1]);
  });

  it('fails as the reference does on a node without cores', () => {
    const nodes = [node('node1', 0, 0, 0, 8 * GIB), node('node2', 0, 4, 0, 8 * GIB)];
    expect(() => kernel.scoreNodesToStartResource(nodes, resource(0, 1, 0, GIB))).toThrow(
      new Error('criterion 0 got invalid value NaN'),
    );
  });

  it('rejects byte and core counts that are not non-negative integers', () => {
    expect(() => kernel.scoreNodesToStartResource([node('n', 0, 4, 1.5, 8)], resource(0, 1, 0, 1))).toThrow(
      new Error("node 'n': mem must be a non-negative integer, got 1.5"),
    );
    expect(() => kernel.scoreNodesToStartResource([node('n', 0, 4, 0, 8)], resource(0, 1, -1, 1))).toThrow(
      new Error('resource: mem must be a non-negative integer, got -1'),
    );
    expect(() => kernel.nodeImbalance([node('n', 0, 2 ** 53, 0, 8)])).toThrow(/maxcpu must be a non-negative integer/);
  });
});

describe('balancing migrations', () => {
  it('by exhaustive search prefer the less loaded target', () => {
    for (const nodes of [alike, unlike]) {
      const best = kernel.scoreBestBalancingMigrations(nodes, vm101Candidates, 2);
      expect(targets(best)).toEqual(['node3', 'node2']);
      expect(best[0].imbalance).toBeLessThan(best[1].imbalance);
    }
  });

  it('by TOPSIS prefer the target with less memory used', () => {
    for (const nodes of [alike, unlike]) {
      expect(targets(kernel.scoreBestBalancingMigrationsTopsis(nodes, vm101Candidates, 2))).toEqual([
        'node2',
        'node3',
      ]);
    }
  });

  it('carry the exact imbalances of the Rust kernel', () => {
    expect(kernel.scoreBestBalancingMigrations(unlike, vm101Candidates, 2).map((s) => s.imbalance)).toEqual([
      0.52503185055771, 0.579417704060553,
    ]);
    expect(kernel.scoreBestBalancingMigrationsTopsis(unlike, vm101Candidates, 2).map((s) => s.imbalance)).toEqual([
      0.579417704060553, 0.52503185055771,
    ]);
  });

  it('are none without candidates, and at most `limit`', () => {
    expect(kernel.scoreBestBalancingMigrations(alike, [], 2)).toEqual([]);
    expect(kernel.scoreBestBalancingMigrationsTopsis(alike, [], 2)).toEqual([]);
    expect(kernel.scoreBestBalancingMigrations(alike, vm101Candidates, 1)).toHaveLength(1);
    expect(kernel.scoreBestBalancingMigrations(alike, vm101Candidates, 0)).toEqual([]);
    expect(kernel.scoreBestBalancingMigrationsTopsis(alike, vm101Candidates, 1)).toHaveLength(1);
    expect(() => kernel.scoreBestBalancingMigrations(alike, vm101Candidates, -1)).toThrow(
      new Error('limit must be a non-negative integer, got -1'),
    );
  });

  it('of equal imbalance are ordered by sid, source and target', () => {
    const nodes = [node('node1', 4, 16, 16 * GIB, 64 * GIB), node('node2', 0, 16, 0, 64 * GIB), node('node3', 0, 16, 0, 64 * GIB)];
    const stats = resource(1, 1, GIB, GIB);
    const candidates: MigrationCandidate[] = [
      { migration: { sid: 'vm:102', sourceNode: 'node1', targetNode: 'node3' }, stats },
      { migration: { sid: 'vm:102', sourceNode: 'node1', targetNode: 'node2' }, stats },
      { migration: { sid: 'vm:101', sourceNode: 'node1', targetNode: 'node3' }, stats },
    ];
    const best = kernel.scoreBestBalancingMigrations(nodes, candidates, 3);
    expect(best.map((s) => `${s.migration.sid}->${s.migration.targetNode}`)).toEqual([
      'vm:101->node3',
      'vm:102->node2',
      'vm:102->node3',
    ]);
    // the same order whether the limit selects or the whole list is sorted
    for (let limit = 1; limit <= 3; limit++) {
      expect(kernel.scoreBestBalancingMigrations(nodes, candidates, limit)).toEqual(best.slice(0, limit));
    }
  });

  it('keep the `limit` smallest of many, in order', () => {
    const nodes = [node('a', 12, 16, 48 * GIB, 64 * GIB), node('b', 0, 16, 0, 64 * GIB)];
    const candidates: MigrationCandidate[] = Array.from({ length: 100 }, (_, i) => ({
      migration: { sid: `vm:${1000 + i}`, sourceNode: 'a', targetNode: 'b' },
      stats: resource((i % 13) / 2, 1, (i % 7) * GIB, GIB),
    }));
    const all = kernel.scoreBestBalancingMigrations(nodes, candidates, 100);
    expect(kernel.scoreBestBalancingMigrations(nodes, candidates, 5)).toEqual(all.slice(0, 5));
    const sorted = [...all].sort(compareScoredMigrations);
    expect(all).toEqual(sorted);
  });
});

describe('scored migration order', () => {
  it('truncates imbalances to 15 decimals so that rounding noise ties', () => {
    expect(truncateImbalance(0.7231749488916931)).toBe(0.723174948891693);
    expect(truncateImbalance(0.723174948891693)).toBe(0.723174948891693);
    expect(truncateImbalance(0.723174948891693 + 1e-15)).toBeGreaterThan(0.723174948891693);
  });

  it('orders by imbalance, then by migration', () => {
    const scored = (sid: string, targetNode: string, imbalance: number) => ({
      migration: { sid, sourceNode: 'node1', targetNode },
      imbalance: truncateImbalance(imbalance),
    });
    const first = scored('vm:102', 'node2', 0.7231749488916931);
    const second = scored('vm:102', 'node3', 0.723174948891693);
    const third = scored('vm:101', 'node2', 0.723174948891693 + 1e-15);
    expect([second, third, first].sort(compareScoredMigrations)).toEqual([first, second, third]);
  });
});
