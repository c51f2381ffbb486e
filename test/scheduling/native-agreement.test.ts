// The native (Rust) and TypeScript kernels must return the same bits for the
// same inputs. Each case is generated from a seed; a failure names it, and
// SCHEDULING_SEED=<seed> replays just that case.

import { describe, expect, it } from 'vitest';
import { typescriptScoringKernel, type ScoringKernel } from '../../src/core/scheduling/index.js';
import { nativeScoringKernel } from '../../src/native/scoring-kernel.js';
import { mulberry32 } from '../seeded-random.mjs';
import { randomCandidates, randomLimit, randomNodes, randomResource, type Random } from './random-cluster.js';
import { firstDifference, outcome } from './same-bits.js';
import { addonMissing } from '../native/addon.js';
import { skipped } from '../prerequisites.js';

const CASES = 400;
const replay = process.env.SCHEDULING_SEED;
const seeds = replay === undefined ? Array.from({ length: CASES }, (_, i) => i + 1) : [Number(replay)];

const native = nativeScoringKernel();
const missing = addonMissing();

function agree(name: string, run: (kernel: ScoringKernel, random: Random) => unknown): void {
  it(name, () => {
    for (const seed of seeds) {
      const typescript = outcome(() => run(typescriptScoringKernel, mulberry32(seed)));
      const rust = outcome(() => run(native as ScoringKernel, mulberry32(seed)));
      const difference = firstDifference(typescript, rust);
      if (difference !== undefined) {
        expect.fail(
          `seed ${seed}: typescript and native differ at ${difference}\n` +
            `replay: SCHEDULING_SEED=${seed} npx vitest run test/scheduling/native-agreement.test.ts`,
        );
      }
    }
  });
}

describe('native and TypeScript kernels agree', () => {
  if (missing !== undefined) return skipped(missing);

  it('the native kernel is the addon one', () => {
    expect(native?.implementation).toBe('native');
  });

  agree('on node imbalance', (kernel, random) => kernel.nodeImbalance(randomNodes(random)));

  agree('on start scores', (kernel, random) => {
    const nodes = randomNodes(random);
    return [0, 1, 2].map(() => outcome(() => kernel.scoreNodesToStartResource(nodes, randomResource(random))));
  });

  agree('on exhaustive migration search', (kernel, random) => {
    const nodes = randomNodes(random);
    const candidates = randomCandidates(random, nodes);
    return kernel.scoreBestBalancingMigrations(nodes, candidates, randomLimit(random, candidates.length));
  });

  agree('on TOPSIS migration ranking', (kernel, random) => {
    const nodes = randomNodes(random);
    const candidates = randomCandidates(random, nodes);
    return kernel.scoreBestBalancingMigrationsTopsis(nodes, candidates, randomLimit(random, candidates.length));
  });

  agree('on invalid input', (kernel, random) => {
    const nodes = randomNodes(random);
    const broken = nodes.map((node, i) => (i === 0 ? { ...node, stats: { ...node.stats, mem: -1 } } : node));
    return [
      outcome(() => kernel.nodeImbalance(broken)),
      outcome(() => kernel.scoreBestBalancingMigrations(nodes, [], 0.5)),
    ];
  });
});
