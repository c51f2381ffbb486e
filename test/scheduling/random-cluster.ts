// Seeded random clusters for property tests: node and resource stats with the
// edge cases the kernels must agree on (idle nodes, nodes without cores or
// memory, unlimited CPU, overcommit, identical nodes, names shared by two
// nodes or beyond U+FFFF, candidates naming unknown nodes).

import type { MigrationCandidate, NodeUsage, ResourceStats } from '../../src/core/scheduling/index.js';

export type Random = () => number;

const GIB = 2 ** 30;

function int(random: Random, below: number): number {
  return Math.floor(random() * below);
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[int(random, items.length)];
}

function chance(random: Random, p: number): boolean {
  return random() < p;
}

function nodeName(random: Random, i: number): string {
  if (chance(random, 0.05)) return `n\u{1F600}${i}`;
  if (chance(random, 0.05)) return `n\uFF21${i}`;
  return `node${i}`;
}

export function randomNodes(random: Random): NodeUsage[] {
  const count = chance(random, 0.3) ? 1 + int(random, 5) : 1 + int(random, 100);
  const uniform = chance(random, 0.15);
  const withoutCores = chance(random, 0.03);
  const withoutMemory = chance(random, 0.02);
  const sharingNames = chance(random, 0.1);
  const nodes: NodeUsage[] = [];
  for (let i = 0; i < count; i++) {
    let name = nodeName(random, i);
    if (sharingNames && i > 0 && chance(random, 0.1)) name = nodes[int(random, i)].name;
    if (uniform && i > 0) {
      nodes.push({ name, stats: nodes[0].stats });
      continue;
    }
    const maxcpu = withoutCores && chance(random, 0.2) ? 0 : 1 + int(random, 256);
    const maxmem = withoutMemory && chance(random, 0.2) ? 0 : chance(random, 0.5) ? (1 + int(random, 1024)) * GIB : int(random, 2 ** 42);
    const cpu = chance(random, 0.15) ? 0 : chance(random, 0.1) ? random() * 1e-6 : random() * maxcpu * 1.3;
    const mem = chance(random, 0.15) ? 0 : int(random, maxmem * 1.2 + 1);
    nodes.push({ name, stats: { cpu, maxcpu, mem, maxmem } });
  }
  return nodes;
}

export function randomResource(random: Random): ResourceStats {
  const maxcpu = chance(random, 0.2) ? 0 : chance(random, 0.5) ? 1 + int(random, 16) : random() * 16;
  const maxmem = chance(random, 0.1) ? 0 : chance(random, 0.5) ? (1 + int(random, 64)) * GIB : int(random, 2 ** 36);
  const cpu = chance(random, 0.2) ? 0 : random() * (maxcpu || 8);
  const mem = chance(random, 0.2) ? 0 : int(random, maxmem + 1);
  return { cpu, maxcpu, mem, maxmem };
}

export function randomCandidates(random: Random, nodes: readonly NodeUsage[]): MigrationCandidate[] {
  const names = nodes.map((node) => node.name);
  const nodeOf = () => (chance(random, 0.05) ? `gone${int(random, 3)}` : pick(random, names));
  const bundles = int(random, 40);
  const candidates: MigrationCandidate[] = [];
  for (let b = 0; b < bundles; b++) {
    const sid = chance(random, 0.05) ? `ct:\u{10400}${int(random, 50)}` : `vm:${100 + int(random, 60)}`;
    const sourceNode = nodeOf();
    const stats = chance(random, 0.1) && candidates.length > 0 ? candidates[0].stats : randomResource(random);
    const targets = 1 + int(random, Math.min(names.length, 8));
    for (let t = 0; t < targets; t++) {
      candidates.push({ migration: { sid, sourceNode, targetNode: nodeOf() }, stats });
    }
  }
  return candidates;
}

export function randomLimit(random: Random, candidates: number): number {
  return chance(random, 0.5) ? int(random, 4) : int(random, candidates + 3);
}
