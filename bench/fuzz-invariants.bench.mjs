// The long fuzz run (run after `npm run build`): thousands of fresh seeds
// through the simulator with the online invariant checkers, then a summary:
// seeds, loops and steps checked, violations (each with the seed that
// replays it), documented exceptions seen, the liveness phase's settle
// times, and how long it took.
//
//   node bench/fuzz-invariants.bench.mjs [--seeds N] [--start S] [--kinds generated,crs,mutant] [--policy reference|safe]
//
// Also HA_FUZZ_BENCH_SEEDS=N. Default: 2,000 seeds (70 % generated, 15 % CRS
// scheduling, 15 % mutations of the reference suite when it is present),
// about a minute on a quiet machine, for each policy: the same seeds run
// with the reference's behaviour and with the core's safe one, which is held
// to stricter checks (src/core/policy.ts); `--policy reference|safe` (or
// HA_FUZZ_POLICY) runs one. Exits 1 when an invariant broke.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { simulateDir } = await import(join(root, 'dist/cli/simulator.js'));
const { createInvariantChecker, describeViolation } = await import(join(root, 'dist/env/sim/invariants.js'));
const { LIVENESS_BOUND } = await import(join(root, 'dist/env/sim/liveness.js'));
const { checkSeed, pickSeeds, seedLabel, summarize } = await import(join(root, 'test/fuzz/online.mjs'));
const { loadBases } = await import(join(root, 'test/fuzz/mutate.mjs'));

function parseArgs(argv) {
  const opts = { seeds: Number(process.env.HA_FUZZ_BENCH_SEEDS ?? 2000), start: undefined, kinds: ['generated', 'crs', 'mutant'], policies: (process.env.HA_FUZZ_POLICY ?? 'reference,safe').split(',') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seeds') opts.seeds = Number(val());
    else if (a === '--start') opts.start = Number(val());
    else if (a === '--kinds') opts.kinds = val().split(',');
    else if (a === '--policy') opts.policies = val().split(',');
    else throw new Error(`unknown argument '${a}' (expected --seeds N, --start S, --kinds LIST, --policy reference|safe)`);
  }
  for (const p of opts.policies) if (p !== 'reference' && p !== 'safe') throw new Error(`--policy must be reference or safe, got '${p}'`);
  if (!Number.isInteger(opts.seeds) || opts.seeds < 1) throw new Error(`--seeds must be a positive integer, got ${opts.seeds}`);
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const suite = resolve(root, '../shared/pve-ha-tests');
const bases = opts.kinds.includes('mutant') && existsSync(suite) ? loadBases([suite], { loadScheduling: true }) : [];
const share = { generated: 0.7, crs: 0.15, mutant: bases.length > 0 ? 0.15 : 0 };
const kinds = opts.kinds.filter((k) => share[k] > 0);
const weight = kinds.reduce((sum, k) => sum + share[k], 0);
const counts = Object.fromEntries(kinds.map((k) => [k, Math.round((opts.seeds * share[k]) / weight)]));
const seeds = pickSeeds(counts, opts.start !== undefined ? { start: opts.start } : {});
if (opts.kinds.includes('mutant') && bases.length === 0) console.log(`mutant seeds skipped: no reference suite at ${suite}`);

const line = (obj) =>
  Object.entries(obj)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

/** Runs every seed under one policy and prints its summary; returns the number of violations. */
async function runPolicy(policy) {
  console.log(`fuzz invariants, ${policy} policy: ${seeds.length} seeds (${kinds.map((k) => `${counts[k]} ${k}`).join(', ')}), from ${seeds[0]?.seed ?? '-'}`);
  const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ha-fuzz-bench-'));
  const results = [];
  const firstViolations = [];
  const started = process.hrtime.bigint();
  try {
    for (const spec of seeds) {
      const { report } = await checkSeed(spec, { simulateDir, createInvariantChecker }, work, bases, policy);
      results.push({ spec, report });
      if (report.violations.length > 0) firstViolations.push(describeViolation(report.violations[0], seedLabel(spec)));
      if (results.length % 500 === 0) process.stderr.write(`.. ${results.length}/${seeds.length}\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const t = summarize(results);
  const pct = (p) => (t.slowest.length > 0 ? t.slowest[Math.min(t.slowest.length - 1, Math.floor(t.slowest.length * p))] : '-');
  console.log(`  ${t.seeds} seeds, ${t.loops} loops (rounds of the run loop), ${t.steps} steps checked in ${seconds.toFixed(1)} s (${(t.seeds / seconds).toFixed(0)} seeds/s)`);
  console.log(`  violations: ${t.violations} in ${t.failedSeeds.length} seeds`);
  for (const v of firstViolations.slice(0, 20)) console.log(`    ${v}`);
  if (t.failedSeeds.length > 0) console.log(`    replay one: HA_FUZZ_SEED=<seed> HA_FUZZ_POLICY=${policy} npx vitest run test/fuzz/invariants.test.ts`);
  console.log(`  runs ended by an error (invalid commands, reference limits): ${t.errorEnds}`);
  console.log(`  documented exceptions seen: ${line(t.exceptions)}`);
  console.log(`  liveness phase: ${t.liveness} runs; settled after the heal within p50 ${pct(0.5)} s, p99 ${pct(0.99)} s, max ${pct(1)} s (bound ${LIVENESS_BOUND} s)`);
  console.log(`  liveness exemptions (services): ${line(t.exempt)}`);
  const events = ['guest-start', 'fence-ack', 'recovery', 'watchdog-reset', 'manual-migrate', 'lrm-give-up/disarm', 'lrm-give-up/restart', 'lrm-give-up/maintenance', 'command/crm disarm-ha', 'command/crm stop', 'command/restart-lrm', 'command/network', 'command/power'];
  console.log(`  events: ${events.map((e) => `${e} ${t.coverage[e] ?? 0}`).join(', ')}`);
  return t.violations;
}

let violations = 0;
for (const policy of opts.policies) violations += await runPolicy(policy);
process.exitCode = violations > 0 ? 1 : 0;
