import { describe, expect, it } from 'vitest';
import {
  compareCodePoints,
  nodeNameKeys,
  packMigrations,
  packNodeStats,
  type MigrationCandidate,
} from '../../src/core/scheduling/index.js';
import { node, resource } from './fixtures.js';

describe('packing for the addon', () => {
  it('lays node stats out as cpu, maxcpu, mem, maxmem per node', () => {
    expect([...packNodeStats([node('a', 0.5, 2, 3, 4), node('b', 5, 6, 7, 8)])]).toEqual([0.5, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keys nodes equal exactly where their names are', () => {
    const nodes = [node('x', 0, 1, 0, 1), node('y', 0, 1, 0, 1), node('x', 0, 1, 0, 1)];
    expect([...nodeNameKeys(nodes)]).toEqual([0, 1, 0]);
  });

  it('keys names by rank, so keys compare as the names do', () => {
    const nodes = [node('node2', 0, 1, 0, 1), node('node10', 0, 1, 0, 1)];
    const names = ['vm:9', 'vm:10', '\u{1F600}', '\uFF21', 'node2'];
    const candidates: MigrationCandidate[] = names.map((sid, i) => ({
      migration: { sid, sourceNode: 'node2', targetNode: i % 2 ? 'node10' : 'elsewhere' },
      stats: resource(i, 0, 0, 0),
    }));
    const packed = packMigrations(nodes, candidates);
    const keyOf = new Map<string, number>();
    const record = (name: string, key: number) => {
      expect(keyOf.get(name) ?? key).toBe(key);
      keyOf.set(name, key);
    };
    nodes.forEach((n, i) => record(n.name, packed.nodeKeys[i]));
    candidates.forEach(({ migration: m }, i) => {
      record(m.sid, packed.candidateKeys[3 * i]);
      record(m.sourceNode, packed.candidateKeys[3 * i + 1]);
      record(m.targetNode, packed.candidateKeys[3 * i + 2]);
    });
    const all = [...keyOf.keys()];
    for (const a of all) {
      for (const b of all) {
        expect(Math.sign(keyOf.get(a)! - keyOf.get(b)!)).toBe(Math.sign(compareCodePoints(a, b)));
      }
    }
    expect([...packed.candidateStats.filter((_, i) => i % 4 === 0)]).toEqual([0, 1, 2, 3, 4]);
  });
});
