// Simulator benchmarks (run after `npm run build`):
//  1. the reference regression suite in one `ha-simulator test` process;
//  2. a generated large scenario — 10 nodes, services spread round robin, one
//     node losing its network, a dozen migrations, the node coming back —
//     at 100, 1,000 and 10,000 services, to show how time grows.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { runSimulation } = await import(join(root, 'dist/env/sim/runner.js'));

function referenceSuite() {
  const suite = resolve(root, '../shared/pve-ha-tests');
  if (!existsSync(suite)) {
    console.log('reference suite: skipped (no ../shared/pve-ha-tests)');
    return;
  }
  const dirs = readdirSync(suite)
    .filter((name) => name.startsWith('test-'))
    .map((name) => join(suite, name));
  const start = process.hrtime.bigint();
  const result = spawnSync(join(root, 'bin/ha-simulator'), ['test', ...dirs], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const summary = result.stdout.trim().split('\n').pop();
  console.log(`reference suite: ${dirs.length} scenarios in one process: ${seconds.toFixed(2)} s (${summary})`);
}

/** The large scenario's files, generated in memory. */
function largeScenario(services, nodes = 10) {
  const names = Array.from({ length: nodes }, (_, i) => `node${i + 1}`);
  const hardwareStatus = Object.fromEntries(names.map((n) => [n, { power: 'off', network: 'off' }]));
  const serviceConfig = {};
  for (let i = 0; i < services; i++) {
    serviceConfig[`vm:${1000 + i}`] = { node: names[i % nodes], state: 'started' };
  }
  const migrations = Array.from({ length: 12 }, (_, i) => {
    const sid = `vm:${1000 + i * nodes}`; // all on node1
    return `service ${sid} migrate ${names[1 + (i % (nodes - 1))]}`;
  });
  return {
    cmdlist: [
      names.map((n) => `power ${n} on`),
      ['network node3 off'],
      migrations,
      ['delay 300'],
      ['power node3 on'],
    ],
    hardwareStatus,
    managerStatus: {},
    serviceConfig,
  };
}

async function timeLarge(services) {
  let lines = 0;
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const start = process.hrtime.bigint();
  // Starting hundreds of services per node sleeps the LRM past the
  // reference's 300 s per-iteration limit; lift it for this shape.
  await runSimulation(largeScenario(services), {
    write: () => {
      lines++;
    },
    maxLoopDelay: Number.POSITIVE_INFINITY,
    maxSimTime: Number.POSITIVE_INFINITY,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const heapMiB = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  return { seconds, lines, heapMiB };
}

referenceSuite();
console.log('large scenario (10 nodes, one network loss, 12 migrations, node back):');
console.log('  services   seconds   log lines   heap growth MiB');
let previous;
for (const services of [100, 1000, 10000]) {
  const { seconds, lines, heapMiB } = await timeLarge(services);
  const growth = previous ? `  (x${(seconds / previous).toFixed(1)} for x10 services)` : '';
  console.log(`  ${String(services).padStart(8)}  ${seconds.toFixed(3).padStart(8)}  ${String(lines).padStart(10)}  ${heapMiB.toFixed(1).padStart(16)}${growth}`);
  previous = seconds;
}
