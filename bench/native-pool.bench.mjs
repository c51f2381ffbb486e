// Worker pool throughput, addon against TypeScript: N short commands
// (/bin/true) through a pool of max_worker 4, once with an idle event loop and
// once with the event loop busy in 50 ms slices, as a daemon's is while it
// computes. Run after `npm run build`:
//   node bench/native-pool.bench.mjs

import { createWorkerPool, loadNative } from '../dist/native/index.js';

const COMMANDS = 400;
const MAX_WORKERS = 4;

function busyLoop(until) {
  return new Promise((resolve) => {
    const slice = () => {
      const end = performance.now() + 50;
      while (performance.now() < end);
      if (performance.now() < until()) setImmediate(slice);
      else resolve();
    };
    slice();
  });
}

async function measure(implementation, busy) {
  const pool = createWorkerPool({ maxWorkers: MAX_WORKERS, implementation });
  const started = performance.now();
  let finished = false;
  const all = Promise.all(
    Array.from({ length: COMMANDS }, (_, i) => pool.run({ uid: `cmd-${i}`, command: '/bin/true', captureLimit: 0 })),
  ).then((results) => {
    finished = true;
    return results;
  });
  if (busy) await busyLoop(() => (finished ? 0 : Infinity));
  const results = await all;
  const ms = performance.now() - started;
  await pool.close();
  const failures = results.filter((r) => r.exitCode !== 0).length;
  if (failures > 0) throw new Error(`${failures} commands failed`);
  return ms;
}

const native = loadNative();
if (!native.binding) {
  console.error('the addon is not built; run npm run build');
  process.exit(1);
}
console.log(`${COMMANDS} x /bin/true, maxWorkers ${MAX_WORKERS}`);
for (const busy of [false, true]) {
  for (const implementation of ['native', 'typescript']) {
    await measure(implementation, busy);
    const ms = await measure(implementation, busy);
    const label = `${implementation.padEnd(10)} ${busy ? 'busy event loop' : 'idle event loop'}`;
    console.log(`  ${label}  ${ms.toFixed(0).padStart(6)} ms  ${((COMMANDS / ms) * 1000).toFixed(0).padStart(6)} commands/s`);
  }
}
