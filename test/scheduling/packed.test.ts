import { describe, expect, it } from 'vitest';
import {
  nodeNameKeys,
  packMigrations,
  packNodeStats,
  UNKNOWN_NODE,
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

  it('keys candidate nodes by the node with that name, or as unknown', () => {
    const nodes = [node('node2', 0, 1, 0, 1), node('node10', 0, 1, 0, 1), node('node2', 0, 1, 0, 1)];
    const candidates: MigrationCandidate[] = [
      { migration: { sid: 'vm:1', sourceNode: 'node2', targetNode: 'node10' }, stats: resource(1, 2, 3, 4) },
      { migration: { sid: 'vm:2', sourceNode: 'gone', targetNode: 'node2' }, stats: resource(5, 6, 7, 8) },
    ];
    const packed = packMigrations(nodes, candidates);
    expect([...packed.nodeKeys]).toEqual([0, 1, 0]);
    expect([...packed.candidateNodes]).toEqual([0, 1, UNKNOWN_NODE, 0]);
    expect([...packed.candidateStats]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...packed.nodeStats]).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  });
});
