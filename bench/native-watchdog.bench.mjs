// Keep-alive jitter of watchdog-mux while this Node process is under GC and
// CPU load, next to the jitter of a JavaScript timer feeding at the same
// cadence in this process: why the feeding lives in a native daemon.
// Runs the release build with a simulated device that records each
// keep-alive's CLOCK_MONOTONIC time. Run after `npm run build`:
//   node bench/native-watchdog.bench.mjs

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { connectWatchdogMux, findWatchdogMuxBinary } from '../dist/native/index.js';

const TICK_MS = 50;
const PHASE_MS = 6_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => process.hrtime.bigint();

function stats(timestampsNs) {
  const lateness = timestampsNs
    .slice(1)
    .map((t, i) => Math.abs(Number(t - timestampsNs[i]) / 1e6 - TICK_MS))
    .sort((a, b) => a - b);
  const at = (q) => lateness[Math.min(lateness.length - 1, Math.floor(q * lateness.length))];
  return `n=${String(lateness.length).padStart(4)}  p50=${at(0.5).toFixed(3).padStart(8)} ms  p99=${at(0.99).toFixed(3).padStart(8)} ms  max=${lateness[lateness.length - 1].toFixed(3).padStart(8)} ms`;
}

/** Allocation churn (keeps a sliding window alive so old-generation GCs happen) and busy CPU, in 80 ms slices. */
function loadEventLoop(until) {
  const retained = [];
  return new Promise((resolve) => {
    const slice = () => {
      const end = performance.now() + 80;
      while (performance.now() < end) {
        const batch = Array.from({ length: 2_000 }, (_, i) => ({ i, s: `x${i}`, a: [i, i + 1] }));
        retained.push(batch);
        if (retained.length > 400) retained.splice(0, 100);
      }
      if (Date.now() < until) setImmediate(slice);
      else resolve();
    };
    slice();
  });
}

async function phase(name, record, loaded) {
  const jsTicks = [];
  const timer = setInterval(() => jsTicks.push(nowNs()), TICK_MS);
  const from = nowNs();
  const until = Date.now() + PHASE_MS;
  const spinner = loaded
    ? new Worker('const end = Date.now() + ' + PHASE_MS + '; while (Date.now() < end) {}', { eval: true })
    : undefined;
  if (loaded) await loadEventLoop(until);
  else await sleep(PHASE_MS);
  clearInterval(timer);
  await spinner?.terminate();
  const to = nowNs();
  const mux = readFileSync(record, 'utf8').split('\n').filter(Boolean).map(BigInt).filter((t) => t >= from && t <= to);
  console.log(`${name}`);
  console.log(`  watchdog-mux keep-alive   ${stats(mux)}`);
  console.log(`  JS setInterval in Node    ${stats(jsTicks)}`);
}

const binary = findWatchdogMuxBinary();
if (!binary.path) {
  console.error(`watchdog-mux is not built (looked at ${binary.searched.join(', ')}); run npm run build`);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'ha-bench-mux-'));
const socket = join(dir, 'mux.sock');
const record = join(dir, 'keepalives');
const mux = spawn(
  binary.path,
  ['--socket', socket, '--active-marker', 'none', '--fake-device', '--record-keepalives', record, '--tick-ms', String(TICK_MS), '--no-journal-sync'],
  { stdio: 'ignore' },
);
try {
  while (!existsSync(socket)) await sleep(5);
  const client = connectWatchdogMux(socket);
  const updater = setInterval(() => client.update(), 200);
  let gcCount = 0;
  let gcMs = 0;
  let gcMax = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount++;
      gcMs += entry.duration;
      gcMax = Math.max(gcMax, entry.duration);
    }
  });
  console.log(`keep-alive lateness |interval - ${TICK_MS} ms|, ${PHASE_MS / 1000} s per phase`);
  await phase('idle Node process', record, false);
  gcObserver.observe({ entryTypes: ['gc'] });
  await phase('Node under GC churn (main thread) and a CPU-bound worker thread', record, true);
  gcObserver.disconnect();
  console.log(`  Node GC during the loaded phase: ${gcCount} pauses, ${gcMs.toFixed(0)} ms total, longest ${gcMax.toFixed(1)} ms`);
  clearInterval(updater);
  const status = client.status();
  console.log(`  mux still feeding: ${status.feeding}, client time left ${(status.remainingMs / 1000).toFixed(1)} s of ${status.timeoutMs / 1000} s`);
  client.close(true);
} finally {
  mux.kill('SIGTERM');
  await new Promise((r) => mux.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
