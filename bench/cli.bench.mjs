// ha-manager start-up and `status` (run after `npm run build`), each beside
// a bare `node -e 0` run the same way, so the figures say what the CLI adds
// to Node's own start:
//  1. `ha-manager --help` (no store opened);
//  2. `ha-manager status` on a plain directory store of a 3-node cluster
//     with one service;
//  3. `ha-manager status` at 10,000 services (resources.cfg, a guest config
//     each, the master's status of all of them, three LRM statuses).
// Each is run RUNS times; the median and the fastest run are printed.
// Targets (issue 10): 1 and 2 within 100 ms of `node -e 0`, 3 under 300 ms.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(root, 'bin/ha-manager');
const RUNS = Number(process.env.CLI_BENCH_RUNS ?? 15);
const NODES = ['node1', 'node2', 'node3'];

function makeStore(services) {
  const dir = mkdtempSync(join(tmpdir(), 'ha-cli-bench-'));
  const now = Math.floor(Date.now() / 1000);
  for (const node of NODES) {
    mkdirSync(join(dir, 'nodes', node, 'qemu-server'), { recursive: true });
    writeFileSync(join(dir, 'nodes', node, 'lrm_status'), JSON.stringify({ state: 'active', mode: 'active', timestamp: now, results: {} }));
  }
  mkdirSync(join(dir, 'ha'));
  let resources = '';
  const serviceStatus = {};
  for (let i = 0; i < services; i++) {
    const id = 1000 + i;
    const node = NODES[i % NODES.length];
    resources += `vm: ${id}\n\tstate started\n\n`;
    writeFileSync(join(dir, 'nodes', node, 'qemu-server', `${id}.conf`), 'memory: 1024\n');
    serviceStatus[`vm:${id}`] = { node, state: 'started', running: 1, uid: `u${id}` };
  }
  writeFileSync(join(dir, 'ha', 'resources.cfg'), resources);
  writeFileSync(
    join(dir, 'ha', 'manager_status'),
    JSON.stringify({
      master_node: 'node1',
      timestamp: now,
      node_status: Object.fromEntries(NODES.map((node) => [node, 'online'])),
      service_status: serviceStatus,
    }),
  );
  return dir;
}

/** Milliseconds of each of RUNS runs of `args`. */
function time(args, env) {
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], min: samples[0] };
}

const ms = (t) => `median ${t.median.toFixed(0)} ms, fastest ${t.min.toFixed(0)} ms`;

function compare(title, args, env, target) {
  const bare = time(['-e', '0'], {});
  const cli = time(args, env);
  const added = cli.median - bare.median;
  console.log(`${title}: ${ms(cli)}; node -e 0: ${ms(bare)}; added ${added.toFixed(0)} ms (${target})`);
}

const small = makeStore(1);
const large = makeStore(10_000);
try {
  const env = { HA_MANAGER_NODE: 'node1', TZ: 'UTC' };
  console.log(`${RUNS} runs each`);
  compare('ha-manager --help', [BIN, '--help'], env, 'target: within 100 ms of node -e 0');
  compare('ha-manager status, directory store, 1 service', [BIN, '--store', `dir:${small}`, 'status'], env, 'target: within 100 ms of node -e 0');
  const bare = time(['-e', '0'], {});
  const status = time([BIN, '--store', `dir:${large}`, 'status'], env);
  console.log(`ha-manager status, directory store, 10,000 services: ${ms(status)}; node -e 0: ${ms(bare)} (target: under 300 ms)`);
} finally {
  rmSync(small, { recursive: true, force: true });
  rmSync(large, { recursive: true, force: true });
}
