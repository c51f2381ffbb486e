// The cluster lab's campaigns (issue 7 "Done when", issue 8 part 4): many
// seeds of `ha-lab run` against the real daemons, per timing profile, with
// which seeds pass or fail and why (from the checker), and p50/p99/max of
// the downtime per fault kind and of the failover after node resets. Long:
// opt in with `npm run bench -- --lab` (add `lab` to run only these) or
// HA_BENCH_LAB=1 (root, etcd, a built tree).
//
//   HA_BENCH_LAB_CAMPAIGNS  dir, etcd and/or failover (default: all three)
//   HA_BENCH_LAB_PROFILES   timing profiles, each campaign runs once per profile (default "default,fast")
//   HA_BENCH_LAB_SCALE      time scale of the dir/etcd campaigns (default 1: real time; the
//                           failover campaign always runs at real time)
//   HA_BENCH_LAB_SEEDS      seeds per dir/etcd campaign (default 20), seeds 1..N
//   HA_BENCH_LAB_LOCKS      length of a dir/etcd run in lock lifetimes after the quiet
//                           phase (default 10: several faults each; 1511 s with the default
//                           profile, 206 s with fast)
//   HA_BENCH_LAB_DURATION   or the length of a dir/etcd run in cluster seconds, for every profile
//   HA_BENCH_LAB_STORES     stores of the failover campaign (default "dir,etcd")
//   HA_BENCH_LAB_RESETS     node resets per failover campaign (default 20); it runs kill
//                           faults at real time, seed after seed, until it has them
//   HA_BENCH_LAB_JOBS       runs at once (default 1). Labs are independent (own PID namespaces,
//                           ports and directories); on a machine with few cores, parallel fast-
//                           profile runs compete for the CPU and their timings show it
//
// At real time the default profile's dir and etcd campaigns take about 17
// hours together, fast's about 3; HA_BENCH_LAB_SCALE=10 shortens the
// default profile's tenfold (fast allows at most 3). Every run's last
// stdout line (its verdict) is appended to bench/out/lab-<campaign>-<profile>.jsonl.

import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { timingProfile } from '../dist/env/timing.js';
import { quietPhaseS } from '../dist/lab/schedule.js';
import { distribution } from '../dist/lab/stats.js';
import { muxWindowS } from '../dist/lab/timing.js';

if (process.env.HA_BENCH_LAB !== '1') {
  console.log('skipped: the lab campaigns take hours; run them with `npm run bench -- --lab lab` or HA_BENCH_LAB=1 (as root)');
  process.exit(0);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const results = fileURLToPath(new URL('./out/', import.meta.url));
mkdirSync(results, { recursive: true });
const env = process.env;
const list = (text) => text.split(',').map((w) => w.trim()).filter(Boolean);
const seeds = Number(env.HA_BENCH_LAB_SEEDS ?? 20);
const scale = Number(env.HA_BENCH_LAB_SCALE ?? 1);
const locks = Number(env.HA_BENCH_LAB_LOCKS ?? 10);
const campaigns = list(env.HA_BENCH_LAB_CAMPAIGNS ?? 'dir,etcd,failover');
const profiles = list(env.HA_BENCH_LAB_PROFILES ?? 'default,fast').map((name) => timingProfile(name));
const failoverStores = list(env.HA_BENCH_LAB_STORES ?? 'dir,etcd');
const wantedResets = Number(env.HA_BENCH_LAB_RESETS ?? 20);
const jobs = Math.max(1, Number(env.HA_BENCH_LAB_JOBS ?? 1));

const CAMPAIGNS = {
  dir: ['--nodes', '3', '--store', 'dir', '--faults', 'kill,pause,restart-lrm,master'],
  etcd: ['--nodes', '3', '--store', 'etcd', '--faults', 'kill,pause,partition,etcd-member,etcd-leader'],
};
for (const campaign of campaigns) {
  if (campaign !== 'failover' && CAMPAIGNS[campaign] === undefined) throw new Error(`unknown campaign '${campaign}' (dir, etcd, failover)`);
}

/** Cluster seconds of one dir/etcd run under the profile. */
function durationS(profile) {
  if (env.HA_BENCH_LAB_DURATION !== undefined) return Number(env.HA_BENCH_LAB_DURATION);
  const lockS = profile.lockLifetimeMs / 1000;
  return quietPhaseS(lockS, muxWindowS(profile)) + locks * lockS;
}

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

function report(name, profile, runs) {
  const downtime = {};
  const failovers = [];
  let resets = 0;
  for (const run of runs) {
    for (const gap of run.verdict?.downtimes ?? []) (downtime[gap.after] ??= []).push(gap.ms);
    for (const f of run.verdict?.failovers ?? []) if (f.ms !== undefined) failovers.push(f.ms);
    resets += run.verdict?.resets?.length ?? 0;
  }
  const passed = runs.filter((r) => r.code === 0);
  const doubleRuns = runs.reduce((n, r) => n + (r.verdict?.doubleRuns?.length ?? 0), 0);
  console.log(`\n${name}: ${passed.length}/${runs.length} seeds pass, ${doubleRuns} double runs, ${resets} node resets (cluster time; all figures over every seed)`);
  for (const run of runs.filter((r) => r.code !== 0)) console.log(`  FAIL seed ${run.seed}: ${why(run)}\n       replay: ${run.verdict?.replay ?? '?'}`);
  // Issue 8: a store hiccup shorter than half the lock lifetime must cause neither a fence nor a reset.
  const halfLockMs = profile.lockLifetimeMs / 2;
  const windowMs = muxWindowS(profile) * 1000;
  const hiccups = runs.flatMap((run) =>
    (run.verdict?.injected ?? [])
      .filter((f) => f.kind === 'partition' && f.target !== undefined && f.healedAtMs !== undefined && f.healedAtMs - f.atMs < halfLockMs)
      .map((f) => ({ run, f, reset: (run.verdict.resets ?? []).some((r) => r.node === f.target && r.atMs >= f.atMs && r.atMs <= f.healedAtMs + windowMs) })),
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
  for (const profile of profiles) {
    if (campaign === 'failover') {
      for (const store of failoverStores) {
        const runs = [];
        let resets = 0;
        let broken = false;
        for (let first = 1; resets < wantedResets && !broken; first += jobs) {
          // A batch of `jobs` seeds at once; stop after the batch that reaches the count.
          const batch = Array.from({ length: jobs }, (_, i) => first + i);
          await Promise.all(
            batch.map(async (seed) => {
              const started = Date.now();
              const args = ['--nodes', '3', '--store', store, '--faults', 'kill', '--profile', profile.name, '--time-scale', '1', '--seed', String(seed)];
              const run = { seed, ...(await labRun(args)) };
              runs.push(run);
              appendFileSync(`${results}lab-failover-${store}-${profile.name}.jsonl`, `${JSON.stringify(run.verdict ?? { seed, code: run.code, stderr: run.stderr })}\n`);
              resets += run.verdict?.resets?.length ?? 0;
              console.log(`failover ${store} ${profile.name} seed ${seed}: exit ${run.code}, ${resets}/${wantedResets} resets, ${Math.round((Date.now() - started) / 1000)} s`);
              if (run.verdict === undefined) broken = true; // the lab itself cannot run: more seeds would not help
            }),
          );
        }
        runs.sort((a, b) => a.seed - b.seed);
        report(`failover on ${store} at real time, profile ${profile.name}`, profile, runs);
      }
      continue;
    }
    const args = [...CAMPAIGNS[campaign], '--profile', profile.name];
    const duration = durationS(profile);
    const runs = [];
    const pending = Array.from({ length: seeds }, (_, i) => i + 1);
    const worker = async () => {
      for (let seed = pending.shift(); seed !== undefined; seed = pending.shift()) {
        const started = Date.now();
        const run = { seed, ...(await labRun([...args, '--time-scale', String(scale), '--duration', String(duration), '--seed', String(seed)])) };
        runs.push(run);
        appendFileSync(`${results}lab-${campaign}-${profile.name}.jsonl`, `${JSON.stringify(run.verdict ?? { seed, code: run.code, stderr: run.stderr })}\n`);
        console.log(`${campaign} ${profile.name} seed ${seed}: ${run.code === 0 ? 'pass' : `FAIL (${why(run)})`}, ${Math.round((Date.now() - started) / 1000)} s`);
      }
    };
    await Promise.all(Array.from({ length: jobs }, worker));
    runs.sort((a, b) => a.seed - b.seed);
    report(`${campaign} (${args.join(' ')}, time scale ${scale}, duration ${duration} s)`, profile, runs);
  }
}
