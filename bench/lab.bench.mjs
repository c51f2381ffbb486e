// The cluster lab's campaigns (issue 7 "Done when", issue 8 part 4): many
// seeds of `ha-lab run` against the real daemons, with which seeds pass or
// fail and why (from the checker), and p50/p99/max of the downtime per fault
// kind and of the failover after node resets. Long: opt in with
// `npm run bench -- --lab` or HA_BENCH_LAB=1 (root, etcd, a built tree).
//
//   HA_BENCH_LAB_CAMPAIGNS  dir,etcd (default) and/or failover
//   HA_BENCH_LAB_SEEDS      seeds per campaign (default 20), seeds 1..N
//   HA_BENCH_LAB_SCALE      time scale of dir/etcd campaigns (default 10)
//   HA_BENCH_LAB_DURATION   cluster seconds per dir/etcd run (default 1500: several faults each)
//   HA_BENCH_LAB_PROFILES   profiles of the failover campaign (default "default,fast")
//   HA_BENCH_LAB_RESETS     node resets per failover campaign (default 20); it runs
//                           at real time, seed after seed, until it has them
//
// Every run's last stdout line (its verdict) is appended to
// bench/out/lab-<campaign>.jsonl for later study.

import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { distribution } from '../dist/lab/stats.js';
import { lockLifetimeFor, muxWindowS } from '../dist/lab/timing.js';

if (process.env.HA_BENCH_LAB !== '1') {
  console.log('skipped: the lab campaigns take hours; run them with `npm run bench -- --lab` or HA_BENCH_LAB=1 (as root)');
  process.exit(0);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const results = fileURLToPath(new URL('./out/', import.meta.url));
mkdirSync(results, { recursive: true });
const env = process.env;
const seeds = Number(env.HA_BENCH_LAB_SEEDS ?? 20);
const scale = Number(env.HA_BENCH_LAB_SCALE ?? 10);
const duration = Number(env.HA_BENCH_LAB_DURATION ?? 1500);
const campaigns = (env.HA_BENCH_LAB_CAMPAIGNS ?? 'dir,etcd').split(',').filter(Boolean);
const profiles = (env.HA_BENCH_LAB_PROFILES ?? 'default,fast').split(',').filter(Boolean);
const wantedResets = Number(env.HA_BENCH_LAB_RESETS ?? 20);

/** The dir/etcd campaigns run the default profile: its lock lifetime and fence window (cluster ms), for the hiccup check. */
const HALF_LOCK_MS = (lockLifetimeFor('default') * 1000) / 2;
const FENCE_WINDOW_MS = muxWindowS('default') * 1000;

const CAMPAIGNS = {
  dir: ['--nodes', '3', '--store', 'dir', '--faults', 'kill,pause,restart-lrm,master'],
  etcd: ['--nodes', '3', '--store', 'etcd', '--faults', 'kill,pause,partition,etcd-member,etcd-leader'],
};

/** One `ha-lab run`; resolves to its exit status and verdict (the last stdout line). */
function labRun(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${root}bin/ha-lab`, 'run', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      let verdict;
      try {
        verdict = JSON.parse(last);
      } catch {
        verdict = undefined;
      }
      resolve({ code, verdict, stderr: err.trim() });
    });
  });
}

const secs = (ms) => (ms === undefined ? '-' : (ms / 1000).toFixed(1).padStart(7));
const row = (name, d) => `  ${name.padEnd(16)} n=${String(d.count).padStart(4)}  p50=${secs(d.p50)} s  p99=${secs(d.p99)} s  max=${secs(d.max)} s`;

function why(run) {
  const v = run.verdict;
  if (v === undefined) return `no verdict (exit ${run.code}): ${run.stderr.split('\n').pop()}`;
  const parts = [];
  if (v.doubleRuns?.length) parts.push(`${v.doubleRuns.length} double run(s): ${v.doubleRuns.map((d) => `${d.sid} on ${d.nodes.join('+')} ${Math.round(d.ms)} ms`).join(', ')}`);
  if (v.notRunningAtEnd?.length) parts.push(`not running at the end: ${v.notRunningAtEnd.join(', ')}`);
  if (v.lostConfig?.length) parts.push(`config lost: ${v.lostConfig.join(', ')}`);
  if (v.leftovers?.length) parts.push(`processes left behind: ${v.leftovers.length}`);
  if (v.interrupted) parts.push(`interrupted (${v.interrupted})`);
  return parts.join('; ') || `exit ${run.code}`;
}

function report(name, runs) {
  const downtime = {};
  const failovers = [];
  let resets = 0;
  for (const run of runs) {
    for (const gap of run.verdict?.downtimes ?? []) (downtime[gap.after] ??= []).push(gap.ms);
    for (const f of run.verdict?.failovers ?? []) if (f.ms !== undefined) failovers.push(f.ms);
    resets += run.verdict?.resets?.length ?? 0;
  }
  const passed = runs.filter((r) => r.code === 0);
  console.log(`\n${name}: ${passed.length}/${runs.length} seeds pass, ${resets} node resets (cluster time; all figures over every seed)`);
  for (const run of runs.filter((r) => r.code !== 0)) console.log(`  FAIL seed ${run.seed}: ${why(run)}\n       replay: ${run.verdict?.replay ?? '?'}`);
  // Issue 8: a store hiccup shorter than half the lock lifetime must cause neither a fence nor a reset.
  const hiccups = runs.flatMap((run) =>
    (run.verdict?.injected ?? [])
      .filter((f) => f.kind === 'partition' && f.target !== undefined && f.healedAtMs !== undefined && f.healedAtMs - f.atMs < HALF_LOCK_MS)
      .map((f) => ({ run, f, reset: (run.verdict.resets ?? []).some((r) => r.node === f.target && r.atMs >= f.atMs && r.atMs <= f.healedAtMs + FENCE_WINDOW_MS) })),
  );
  if (hiccups.length > 0) {
    const bad = hiccups.filter((h) => h.reset);
    console.log(`  partitions shorter than half the lock lifetime: ${hiccups.length}, followed by a reset of the cut node: ${bad.length}${bad.length ? ` (seeds ${bad.map((h) => h.run.seed).join(', ')})` : ''}`);
  }
  console.log('  downtime by the fault before it:');
  for (const [kind, samples] of Object.entries(downtime).sort()) console.log(row(kind, distribution(samples)));
  console.log(row('failover', distribution(failovers)));
}

for (const campaign of campaigns) {
  if (campaign === 'failover') {
    for (const profile of profiles) {
      const runs = [];
      let resets = 0;
      for (let seed = 1; resets < wantedResets; seed++) {
        const started = Date.now();
        const run = { seed, ...(await labRun(['--nodes', '3', '--store', 'dir', '--faults', 'kill', '--profile', profile, '--time-scale', '1', '--seed', String(seed)])) };
        runs.push(run);
        appendFileSync(`${results}lab-failover-${profile}.jsonl`, `${JSON.stringify(run.verdict ?? { seed, code: run.code, stderr: run.stderr })}\n`);
        resets += run.verdict?.resets?.length ?? 0;
        console.log(`failover ${profile} seed ${seed}: exit ${run.code}, ${resets}/${wantedResets} resets, ${Math.round((Date.now() - started) / 1000)} s`);
        if (run.verdict === undefined) break; // the lab itself cannot run: more seeds would not help
      }
      report(`failover at real time, profile ${profile}`, runs);
    }
    continue;
  }
  const args = CAMPAIGNS[campaign];
  if (args === undefined) throw new Error(`unknown campaign '${campaign}' (dir, etcd, failover)`);
  const runs = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const started = Date.now();
    const run = { seed, ...(await labRun([...args, '--time-scale', String(scale), '--duration', String(duration), '--seed', String(seed)])) };
    runs.push(run);
    appendFileSync(`${results}lab-${campaign}.jsonl`, `${JSON.stringify(run.verdict ?? { seed, code: run.code, stderr: run.stderr })}\n`);
    console.log(`${campaign} seed ${seed}: ${run.code === 0 ? 'pass' : `FAIL (${why(run)})`}, ${Math.round((Date.now() - started) / 1000)} s`);
  }
  report(`${campaign} (${args.join(' ')}, time scale ${scale}, duration ${duration} s)`, runs);
}
