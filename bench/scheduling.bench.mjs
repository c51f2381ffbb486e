// Time to place N services on M nodes one after another, as the HA manager
// does (score the nodes, take the best, account the service there), in each
// scheduler mode, with the TypeScript kernel and with the native one; then
// the time to score balancing migrations. Run after `npm run build`:
//   node bench/scheduling.bench.mjs
// A combination whose estimated time exceeds the budget is skipped.

import { performance } from 'node:perf_hooks';
import { ClusterUsage, typescriptScoringKernel } from '../dist/core/scheduling/index.js';
import { nativeScoringKernel } from '../dist/native/scoring-kernel.js';
import { mulberry32 } from '../test/seeded-random.mjs';

const SERVICE_COUNTS = [100, 1_000, 10_000];
const NODE_COUNTS = [3, 10, 100];
const BUDGET_MS = 30_000;
/** Targets each service is offered in the balancing benchmark. */
const TARGETS_PER_SERVICE = 10;
const GIB = 2 ** 30;

const kernels = [typescriptScoringKernel, nativeScoringKernel()].filter((kernel) => kernel !== undefined);


const int = (random, below) => Math.floor(random() * below);

/** Static mode knows only capacities; dynamic mode also measured usage. */
function cluster(mode, nodeCount, random) {
  const usage = new ClusterUsage();
  for (let i = 0; i < nodeCount; i++) {
    const maxcpu = 16 * (1 + int(random, 8));
    const maxmem = 64 * GIB * (1 + int(random, 8));
    const measured = mode === 'dynamic';
    usage.addNode(`node${String(i).padStart(3, '0')}`, {
      cpu: measured ? random() * maxcpu * 0.3 : 0,
      maxcpu,
      mem: measured ? int(random, maxmem * 0.3) : 0,
      maxmem,
    });
  }
  return usage;
}

function services(mode, count, random) {
  return Array.from({ length: count }, (_, i) => {
    const maxcpu = int(random, 10) === 0 ? 0 : 1 + int(random, 8);
    const maxmem = (1 + int(random, 32)) * GIB;
    // static stats are the configured limits; dynamic ones what the guest uses
    const stats =
      mode === 'dynamic'
        ? { cpu: random() * (maxcpu || 4), maxcpu, mem: int(random, maxmem), maxmem }
        : { cpu: maxcpu, maxcpu, mem: maxmem, maxmem };
    return { sid: `vm:${100 + i}`, stats };
  });
}

/** The node with the fewest services; on a tie the first by name. */
function leastServices(usage) {
  let best;
  let fewest = Infinity;
  for (const name of usage.nodeNames()) {
    const count = usage.nodeResources(name).length;
    if (count < fewest) [best, fewest] = [name, count];
  }
  return best;
}

/** The node with the highest score; on a tie the first by name (nodes come in name order). */
function bestScored(usage, kernel, aggregator, stats) {
  let best;
  let highest = -Infinity;
  for (const [name, score] of kernel.scoreNodesToStartResource(usage.nodeUsages(aggregator), stats)) {
    if (score > highest) [best, highest] = [name, score];
  }
  return best;
}

const AGGREGATOR = { static: 'started', dynamic: 'starting-as-started' };

function placeAll(mode, kernel, usage, toPlace) {
  const started = performance.now();
  for (const { sid, stats } of toPlace) {
    const node = mode === 'basic' ? leastServices(usage) : bestScored(usage, kernel, AGGREGATOR[mode], stats);
    usage.addResource(sid, { stats, state: 'starting', placement: { kind: 'stationary', currentNode: node } });
  }
  return performance.now() - started;
}

function placementRun(mode, kernel, nodeCount, serviceCount) {
  const random = mulberry32(nodeCount * 100_003 + serviceCount);
  const usage = cluster(mode, nodeCount, random);
  const ms = placeAll(mode, kernel, usage, services(mode, serviceCount, random));
  return { ms, usage };
}

/** The best of a few runs for short cases, where timer and GC noise would dominate one. */
function bestOf(run) {
  let best = run();
  for (let total = best, runs = 1; total < 200 && runs < 5; runs++) {
    const ms = run();
    total += ms;
    best = Math.min(best, ms);
  }
  return best;
}

/** Every service offered to the next TARGETS_PER_SERVICE nodes after its own. */
function balancingCandidates(usage) {
  const names = usage.nodeNames();
  const candidates = [];
  names.forEach((sourceNode, n) => {
    for (const sid of usage.nodeResources(sourceNode)) {
      const { stats } = usage.getResource(sid);
      for (let t = 1; t <= Math.min(TARGETS_PER_SERVICE, names.length - 1); t++) {
        candidates.push({ migration: { sid, sourceNode, targetNode: names[(n + t) % names.length] }, stats });
      }
    }
  });
  return candidates;
}

function formatMs(ms) {
  if (ms === undefined) return 'skipped';
  return ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : ms.toFixed(0);
}

function printTable(title, header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
}

/**
 * Runs `measure` for growing sizes, skipping a size once the last time,
 * scaled by `growth(previous, next)`, would exceed the budget.
 */
function withinBudget(sizes, growth, measure) {
  const times = new Map();
  let previous;
  for (const size of sizes) {
    if (previous !== undefined && times.get(previous) * growth(previous, size) > BUDGET_MS) continue;
    times.set(size, measure(size));
    previous = size;
  }
  return times;
}

function placementBenchmark() {
  const rows = [];
  for (const mode of ['basic', 'static', 'dynamic']) {
    // the basic mode scores by service count and uses no kernel
    const modeKernels = mode === 'basic' ? [typescriptScoringKernel] : kernels;
    for (const nodeCount of NODE_COUNTS) {
      const times = modeKernels.map((kernel) =>
        withinBudget(
          SERVICE_COUNTS,
          (a, b) => (b / a) * 1.5,
          (serviceCount) => bestOf(() => placementRun(mode, kernel, nodeCount, serviceCount).ms),
        ),
      );
      for (const serviceCount of SERVICE_COUNTS) {
        const [typescript, native] = times.map((t) => t.get(serviceCount));
        const cells = [mode, String(nodeCount), String(serviceCount), formatMs(typescript)];
        if (mode !== 'basic' && kernels.length > 1) {
          cells.push(formatMs(native), native && typescript ? `${(typescript / native).toFixed(1)}x` : '-');
        } else {
          cells.push('-', '-');
        }
        cells.push(typescript === undefined ? '-' : ((typescript * 1000) / serviceCount).toFixed(1));
        rows.push(cells);
      }
    }
  }
  printTable(
    'Placement: N services placed one by one on M nodes (score, take the best, account it)',
    ['mode', 'M', 'N', 'typescript ms', 'native ms', 'speed-up', 'ts µs/service'],
    rows,
  );
}

function balancingBenchmark() {
  const rows = [];
  for (const nodeCount of NODE_COUNTS) {
    for (const serviceCount of SERVICE_COUNTS) {
      const { usage } = placementRun('dynamic', typescriptScoringKernel, nodeCount, serviceCount);
      const nodes = usage.nodeUsages('identity');
      const candidates = balancingCandidates(usage);
      for (const method of ['scoreBestBalancingMigrations', 'scoreBestBalancingMigrationsTopsis']) {
        const times = kernels.map((kernel) =>
          bestOf(() => {
            const started = performance.now();
            kernel[method](nodes, candidates, 1);
            return performance.now() - started;
          }),
        );
        const [typescript, native] = times;
        rows.push([
          method === 'scoreBestBalancingMigrations' ? 'exhaustive' : 'topsis',
          String(nodeCount),
          String(candidates.length),
          formatMs(typescript),
          native === undefined ? '-' : formatMs(native),
          native === undefined ? '-' : `${(typescript / native).toFixed(1)}x`,
        ]);
      }
    }
  }
  printTable(
    `Balancing: best of C migration candidates on M nodes (N services x up to ${TARGETS_PER_SERVICE} targets)`,
    ['method', 'M', 'C', 'typescript ms', 'native ms', 'speed-up'],
    rows,
  );
}

// let the JIT compile the hot paths before anything is timed
for (const kernel of kernels) {
  for (const mode of ['basic', 'static', 'dynamic']) placementRun(mode, kernel, 10, 300);
}

console.log(
  `scheduling kernels: ${kernels.map((k) => k.implementation).join(', ')}` +
    (kernels.length === 1 ? ' (native addon not built: run npm run build:native)' : ''),
);
placementBenchmark();
balancingBenchmark();
