// Fuzz seeds through our simulator with the online invariant checkers
// (src/env/sim/invariants.ts) watching every step, for the vitest suite and
// the long run in bench/. The simulator's modules are passed in: the tests
// use the sources, the benchmark the build.
//
// A seed is written `123` (a generated scenario), `crs:123` (generated with
// CRS static/dynamic scheduling) or `mutant:123` (a reference scenario
// continued with random rounds; needs the reference suite). Every generated
// scenario ends with two heal rounds, after which the liveness phase runs.

import { randomInt } from 'node:crypto';
import { join } from 'node:path';

import { generateScenario, writeScenario } from './generate.mjs';
import { generateMutant } from './mutate.mjs';

export const KINDS = ['generated', 'crs', 'mutant'];

/** `{ kind, seed }` from its written form; throws on anything else. */
export function parseSeed(text) {
  const m = /^(?:(crs|mutant):)?(\d+)$/.exec(String(text).trim());
  if (m === null) throw new Error(`not a fuzz seed: '${text}' (expected N, crs:N or mutant:N)`);
  return { kind: m[1] ?? 'generated', seed: Number(m[2]) };
}

export function seedLabel({ kind, seed }) {
  return kind === 'generated' ? String(seed) : `${kind}:${seed}`;
}

/**
 * Fresh seeds for one run: `counts` per kind, from a random start (or the
 * one seed `replay` names, alone). Consecutive seeds share nothing: each
 * seeds its own generator.
 */
export function pickSeeds(counts, { replay, start = randomInt(1, 2 ** 31 - 100_000) } = {}) {
  if (replay !== undefined && replay !== '') return [parseSeed(replay)];
  const out = [];
  for (const kind of KINDS) {
    for (let i = 0; i < (counts[kind] ?? 0); i++) out.push({ kind, seed: start + i });
  }
  return out;
}

/** The scenario files of a seed, and the round its liveness phase starts at. */
export function scenarioFor({ kind, seed }, bases = []) {
  switch (kind) {
    case 'generated':
      return generateScenario(seed);
    case 'crs':
      return generateScenario(seed, { loadScheduling: true });
    case 'mutant':
      return generateMutant(seed, bases);
    default:
      throw new Error(`unknown seed kind '${kind}'`);
  }
}

/**
 * Runs one seed with the checkers. `sim` holds `simulateDir` and
 * `createInvariantChecker`; `work` is a scratch folder; `policy` the core
 * behaviour to run and hold the run to (`reference` or `safe`). Returns the
 * checkers' report and the log.
 */
export async function checkSeed(spec, sim, work, bases = [], policy = 'reference') {
  const { files, liveness } = scenarioFor(spec, bases);
  const dir = join(work, `${policy}-${seedLabel(spec).replace(':', '-')}`);
  writeScenario(dir, files);
  const checker = sim.createInvariantChecker({ policy, ...(liveness !== undefined ? { liveness } : {}) });
  // Warnings about oddly written files are expected; they are not the point here.
  const log = await sim.simulateDir(dir, { warn: () => undefined, observer: checker, policy });
  return { spec, report: checker.report(), log };
}

/** Totals over many reports, for a summary line. */
export function summarize(results) {
  const total = { seeds: 0, steps: 0, loops: 0, violations: 0, failedSeeds: [], errorEnds: 0, liveness: 0, slowest: [], exceptions: {}, coverage: {}, exempt: {} };
  for (const { spec, report } of results) {
    total.seeds++;
    total.steps += report.steps;
    total.loops += report.loops;
    total.violations += report.violations.length;
    if (report.violations.length > 0) total.failedSeeds.push(seedLabel(spec));
    if (report.error !== undefined) total.errorEnds++;
    if (report.liveness.applicable) {
      total.liveness++;
      total.slowest.push(report.liveness.slowest);
      for (const [k, v] of Object.entries(report.liveness.excepted ?? {})) total.exempt[k] = (total.exempt[k] ?? 0) + v;
    }
    for (const [k, v] of Object.entries(report.exceptions)) total.exceptions[k] = (total.exceptions[k] ?? 0) + v;
    for (const [k, v] of Object.entries(report.coverage)) total.coverage[k] = (total.coverage[k] ?? 0) + v;
  }
  total.slowest.sort((a, b) => a - b);
  return total;
}
