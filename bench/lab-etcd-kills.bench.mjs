// etcd member and leader kills against a 3-node lab cluster (the `fast`
// profile, real time): each cycle kills one member for 5 s and, 10 s later,
// the leader for 15 s, then waits 35 s. No fault ever touches a node, so
// every node reset (from the lab's own watchdog emulation, not the daemons'
// logs) is a failure: a dead member must cost no lock. The daemons' logs are
// counted too, as figures: locks lost, renewals kept without an answer,
// fence requests, and the master's rounds that failed.
//
// HA_BENCH_LAB=1 (root, etcd, a built tree); HA_BENCH_ETCD_KILL_CYCLES
// (default 10, about 45 s each); HA_BENCH_ETCD_KILL_PROFILE (default fast);
// HA_BENCH_ETCD_KILL_KEEP=1 keeps the run directory. Exits 1 on a reset, a
// lost lock or a fence request.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timingProfile } from '../dist/env/timing.js';
import { startLabCluster } from '../dist/lab/cluster.js';

if (process.env.HA_BENCH_LAB !== '1') {
  console.log('skipped: the etcd kill cycles take minutes; run them with `npm run bench -- --lab lab-etcd` or HA_BENCH_LAB=1 (as root)');
  process.exit(0);
}

const cycles = Number(process.env.HA_BENCH_ETCD_KILL_CYCLES ?? 10);
const profile = timingProfile(process.env.HA_BENCH_ETCD_KILL_PROFILE ?? 'fast');
const runDir = mkdtempSync(join(tmpdir(), 'ha-etcd-kills-'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let labError;
const cluster = await startLabCluster({
  nodes: 3,
  store: 'etcd',
  services: 6,
  scriptsDir: undefined,
  timeScale: 1,
  profile,
  watchdog: true,
  seed: 1,
  runDir,
  event: () => {},
  fail: (err) => (labError = err),
});

let kills = 0;
try {
  // Every service started, every lock taken (a new master waits out a lock lifetime at most).
  await sleep(Math.max(40_000, 2 * profile.lockLifetimeMs + 10_000));
  for (let i = 0; i < cycles && labError === undefined; i++) {
    await cluster.inject({ atS: 0, kind: 'etcd-member', member: i % 3, holdS: 5 });
    await sleep(10_000);
    await cluster.inject({ atS: 0, kind: 'etcd-leader', holdS: 15 });
    kills += 2;
    await sleep(35_000);
    console.log(`cycle ${i + 1}/${cycles}: ${cluster.resets.length} node reset(s) so far`);
  }
} finally {
  await cluster.teardown();
}

/** Lines of every daemon log of one kind that match. */
function count(daemon, pattern) {
  let n = 0;
  for (const node of readdirSync(join(runDir, 'nodes'))) {
    for (const file of readdirSync(join(runDir, 'nodes', node))) {
      if (!file.endsWith(`.${daemon}.log`)) continue;
      n += readFileSync(join(runDir, 'nodes', node, file), 'utf8').split('\n').filter((line) => pattern.test(line)).length;
    }
  }
  return n;
}
/** Failed rounds of the master: a round is failed by an error or skipped for an inconsistent cluster state. */
function masterFailedRounds() {
  let n = 0;
  for (const node of readdirSync(join(runDir, 'nodes'))) {
    for (const file of readdirSync(join(runDir, 'nodes', node))) {
      if (!file.endsWith('.crm.log')) continue;
      let master = false;
      for (const line of readFileSync(join(runDir, 'nodes', node, file), 'utf8').split('\n')) {
        if (/status change \S+ => master/.test(line)) master = true;
        else if (/status change master => /.test(line)) master = false;
        else if (master && /got unexpected error|skip round/.test(line)) n++;
      }
    }
  }
  return n;
}

const figures = {
  profile: profile.name,
  cycles,
  etcdKills: kills,
  nodeResets: cluster.resets.length,
  lostLocks: count('crm', /lost lock/) + count('lrm', /lost lock/),
  renewalsKeptWithoutAnswer: count('crm', /could not renew lock/) + count('lrm', /could not renew lock/),
  fenceRequests: count('crm', /FENCE: Try to fence/),
  masterFailedRounds: masterFailedRounds(),
};
console.log(JSON.stringify(figures));
console.log(
  `${profile.name} profile, ${kills} etcd kills (a member, then the leader, ${cycles} times): ${figures.nodeResets} node resets, ${figures.lostLocks} locks lost, ` +
    `${figures.fenceRequests} fence requests, ${figures.renewalsKeptWithoutAnswer} renewals kept without an answer, ` +
    `${figures.masterFailedRounds} master rounds failed (${(figures.masterFailedRounds / Math.max(1, kills)).toFixed(2)} per kill)`,
);
if (labError !== undefined) console.error(`the lab failed: ${labError.message}`);
const pass = labError === undefined && figures.nodeResets === 0 && figures.lostLocks === 0 && figures.fenceRequests === 0;
if (pass && process.env.HA_BENCH_ETCD_KILL_KEEP !== '1') rmSync(runDir, { recursive: true, force: true });
else console.log(`run directory kept: ${runDir}`);
process.exit(pass ? 0 : 1);
