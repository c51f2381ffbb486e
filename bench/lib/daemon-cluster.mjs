// A cluster of the real daemons on this machine, for the scale benchmarks and
// the scale test: every node's ha-crm and ha-lrm started from bin/ at real
// time, over a plain directory store or a throwaway etcd on loopback, with
// `exec` services whose script takes about 10 ms per action and leaves one
// marker file per running instance. Counting the markers says how many
// services run, whatever the daemons believe.
//
// Everything lives in one temporary directory; stop() kills every process it
// started (daemons, etcd) and removes the directory. Needs `npm run build`.

import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout whose daemons run; HA_BENCH_REPO points elsewhere to compare with another build. */
export const REPO_ROOT = process.env.HA_BENCH_REPO ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

export function isBuilt() {
  return existsSync(join(REPO_ROOT, 'dist/cli/daemon-main.js'));
}

export function etcdBinary() {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, 'etcd'))) return join(dir, 'etcd');
  }
  return undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

async function startEtcd(dir) {
  const binary = etcdBinary();
  if (binary === undefined) throw new Error('etcd is not on PATH');
  const client = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  const child = spawn(
    binary,
    ['--name', 'm0', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `m0=${peer}`,
      '--initial-cluster-state', 'new', '--log-level', 'error', '--quota-backend-bytes', String(4 * 1024 ** 3)],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}`);
    try {
      const reply = await fetch(`${client}/health`, { signal: AbortSignal.timeout(500) });
      if (reply.ok && (await reply.json()).health === 'true') break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('etcd did not become healthy within 15 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: client, child };
}

/** The script every service runs (symlinked under each service's name): ~10 ms per action. */
function serviceScript(stateDir, actionMs) {
  const pause = actionMs > 0 ? `sleep ${(actionMs / 1000).toFixed(3)}\n` : '';
  return `#!/bin/sh
${pause}marker="${stateDir}/\${0##*/}.$HA_MANAGER_NODE"
case "$1" in
  start) : > "$marker" ;;
  stop) rm -f "$marker" ;;
  status) [ -e "$marker" ] || exit 3 ;;
  *) exit 2 ;;
esac
`;
}

export function serviceName(i) {
  return `s${String(i).padStart(5, '0')}`;
}

/** CPU seconds (own, and of reaped children) and resident memory of a process, from /proc. */
export function processUsage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17
  const own = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  const children = (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu: own, childrenCpu: children, rssBytes: rss === null ? 0 : Number(rss[1]) * 1024 };
}

/** Machine-wide: the 1-minute load average and the number of cores, to state what else ran. */
export function machineLoad() {
  const [one] = readFileSync('/proc/loadavg', 'utf8').split(' ');
  return { load1: Number(one), cores: readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length };
}

/**
 * Starts a cluster. Options: store 'dir' | 'etcd'; nodes (default node1..3);
 * servicesPerNode; actionMs (script time per action, default 10);
 * maxWorkers (default 4). Daemon logs go to <base>/logs/<node>-<daemon>.log.
 */
export async function startCluster(options) {
  const nodes = options.nodes ?? ['node1', 'node2', 'node3'];
  const perNode = options.servicesPerNode;
  const base = mkdtempSync(join(tmpdir(), 'ha-scale-'));
  const scriptsDir = join(base, 'scripts');
  const stateDir = join(base, 'state');
  const logsDir = join(base, 'logs');
  for (const dir of [scriptsDir, stateDir, logsDir]) mkdirSync(dir);
  const cluster = { base, nodes, stateDir, logsDir, total: perNode * nodes.length, daemons: [], etcd: undefined, storeSpec: '' };

  try {
    const script = join(scriptsDir, '.service');
    writeFileSync(script, serviceScript(stateDir, options.actionMs ?? 10));
    chmodSync(script, 0o755);

    if (options.store === 'etcd') {
      cluster.etcd = await startEtcd(base);
      cluster.storeSpec = `etcd:${cluster.etcd.url}`;
    } else {
      mkdirSync(join(base, 'store'));
      cluster.storeSpec = `dir:${join(base, 'store')}`;
    }
    const { openStore } = await import(join(REPO_ROOT, 'dist/env/node/open-store.js'));
    const store = await openStore(cluster.storeSpec, {});
    try {
      await store.write('datacenter.cfg', `max_workers: ${options.maxWorkers ?? 4}\n`);
      let resources = '';
      const markers = [];
      for (const [n, node] of nodes.entries()) {
        for (let i = 0; i < perNode; i++) {
          const name = serviceName(n * perNode + i);
          symlinkSync('.service', join(scriptsDir, name));
          resources += `exec: ${name}\n\tstate started\n\n`;
          markers.push(`nodes/${node}/ha-resources/exec:${name}`);
        }
      }
      for (let i = 0; i < markers.length; i += 200) await Promise.all(markers.slice(i, i + 200).map((m) => store.write(m, '')));
      await store.write('ha/resources.cfg', resources);
    } finally {
      await store.close();
    }

    cluster.startedAt = performance.now();
    for (const node of nodes) for (const kind of ['crm', 'lrm']) cluster.daemons.push(startDaemon(cluster, kind, node, scriptsDir));
  } catch (err) {
    await stopCluster(cluster);
    throw err;
  }

  cluster.running = () => readdirSync(stateDir).length;
  cluster.stop = () => stopCluster(cluster);
  return cluster;
}

function startDaemon(cluster, kind, node, scriptsDir) {
  const log = openSync(join(cluster.logsDir, `${node}-${kind}.log`), 'a');
  // HA_BENCH_NODE_ARGS: extra node options for the daemons, e.g. --cpu-prof for profiling.
  const nodeArgs = (process.env.HA_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(
    process.execPath,
    [...nodeArgs, join(REPO_ROOT, 'bin', `ha-${kind}`), '--node', node, '--store', cluster.storeSpec, '--no-watchdog', '--scripts', scriptsDir,
      '--log-format', 'text'],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  return { node, kind, child, pid: child.pid, exited: exited(child) };
}

/** Waits until `check()` is true; false after `timeoutMs`. */
export async function waitFor(check, timeoutMs, pollMs = 200) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** The CRMs' published metrics (nodes/<node>/ha-metrics-crm, see src/config/daemon-metrics.ts). */
async function crmMetrics(cluster) {
  const { openStore } = await import(join(REPO_ROOT, 'dist/env/node/open-store.js'));
  const store = await openStore(cluster.storeSpec, {});
  try {
    const all = {};
    for (const node of cluster.nodes) {
      const text = await store.read(`nodes/${node}/ha-metrics-crm`);
      if (text !== undefined) all[node] = JSON.parse(text);
    }
    return all;
  } finally {
    await store.close();
  }
}

/** The master's rounds between two metrics snapshots: how many, their mean, the bucket bounding them all. */
function masterRounds(before, after) {
  const node = Object.keys(after).find((n) => after[n].crm?.master === true);
  const now = node === undefined ? undefined : after[node].crm.round_seconds;
  const then = node === undefined || before[node]?.started !== after[node].started ? undefined : before[node].crm?.round_seconds;
  if (now === undefined || then === undefined || now.count === then.count) return undefined;
  const count = now.count - then.count;
  const bound = now.le.find((_, i) => now.counts[i] - then.counts[i] === count);
  return { node, count, meanMs: ((now.sum - then.sum) / count) * 1000, allBelowMs: bound === undefined ? undefined : bound * 1000 };
}

/**
 * CPU share of one core and RSS of each daemon over `seconds`, and the
 * master's round durations in that time (from the metrics it publishes:
 * busy time, its sleep to the next round left out).
 */
export async function sampleDaemons(cluster, seconds) {
  const metricsBefore = await crmMetrics(cluster);
  const before = cluster.daemons.map((d) => processUsage(d.pid));
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const elapsed = (performance.now() - t0) / 1000;
  const daemons = cluster.daemons.map((d, i) => {
    const after = processUsage(d.pid);
    return {
      daemon: `${d.node}/${d.kind}`,
      cpuShare: (after.cpu - before[i].cpu) / elapsed,
      childrenCpuShare: (after.childrenCpu - before[i].childrenCpu) / elapsed,
      rssBytes: after.rssBytes,
    };
  });
  return { daemons, rounds: masterRounds(metricsBefore, await crmMetrics(cluster)) };
}

async function stopCluster(cluster) {
  for (const d of cluster.daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
  await Promise.all(cluster.daemons.map((d) => d.exited));
  if (cluster.etcd !== undefined) {
    cluster.etcd.child.kill('SIGKILL');
    await exited(cluster.etcd.child);
  }
  // Service scripts still running are children of the killed daemons: gone soon.
  rmSync(cluster.base, { recursive: true, force: true });
}
