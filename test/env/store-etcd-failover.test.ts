// The etcd store while members die and while this node is cut off, seen by
// a master that renews its lock every round through the node environment
// (the daemons' own renewal path: lock log lines, the lease that gates the
// watchdog) and writes its fenced manager status. Rounds are one second
// here. A real 3-member cluster on loopback; a cut is a TCP proxy per
// member that stops. Without an etcd binary these tests are reported as
// skipped, with the reason.

import { Etcd3 } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';

import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import type { LogLevel } from '../../src/env/env.js';
import { createClock } from '../../src/env/node/clock.js';
import { createNodeEnv, type NodeEnv } from '../../src/env/node/env.js';
import { createEtcdStore, type EtcdStore } from '../../src/env/node/etcd-store.js';
import { recordingWatchdog, type RecordingWatchdog } from '../../src/env/node/watchdog.js';
import { DEFAULT_PROFILE } from '../../src/env/timing.js';
import { skipped } from '../prerequisites.js';
import { etcdMissing, findEtcd, startEtcd, type EtcdCluster } from './store-etcd-server.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const etcdBinary = findEtcd();
const missing = etcdMissing();

const ROUND_MS = 1_000;
const LOCK_TTL = 30; // seconds: every renewal must succeed through a member's death, not merely one within the lease
/** The daemons' store call budget; the bound a renewal must stay within (their rounds are 10 s). */
const CALL_BUDGET_MS = 5_000;
/** The master's mux client timeout and margin: a lock kept without an answer lasts no longer than they allow after a feed. */
const CLIENT_TIMEOUT_MS = 20_000;
const MARGIN_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let toStop: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of toStop.reverse()) await stop().catch(() => undefined);
  toStop = [];
});

interface Master {
  env: NodeEnv;
  store: EtcdStore;
  watchdog: RecordingWatchdog;
  logs: string[];
}

/** A master's environment over an etcd store on `endpoints`: node n1's CRM. */
function master(endpoints: string[], prefix: string, budgetMs = CALL_BUDGET_MS): Master {
  const store = createEtcdStore({ endpoints, prefix, lockTtlSeconds: LOCK_TTL, timeoutMs: budgetMs });
  const watchdog = recordingWatchdog();
  const logs: string[] = [];
  const env = createNodeEnv({
    node: 'n1',
    daemon: 'crm',
    store,
    clock: createClock(),
    log: (level: LogLevel, msg: string) => logs.push(`${level}: ${msg}`),
    watchdog,
    drivers: {},
    scoringKernel: typescriptScoringKernel,
    isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
    // The lock lifetime is etcd's lease. The fence window (client + tick +
    // device + margin, 22 s) leaves 8 s to feed after a renewal, and a
    // client timeout of 20 s outlasts the cut-off rounds below: no lapse.
    profile: { ...DEFAULT_PROFILE, lockLifetimeMs: LOCK_TTL * 1000, clientTimeoutMs: CLIENT_TIMEOUT_MS, muxTickMs: 500, deviceTimeoutMs: 1_000, marginMs: MARGIN_MS },
  });
  toStop.push(() => store.close());
  return { env, store, watchdog, logs };
}

interface Round {
  lock: boolean;
  lockMs: number;
  /** The round's fenced write and its read-back, or what failed. */
  io: 'ok' | string;
  ioMs: number;
  quorate: boolean;
}

/** One master round: renew, feed the watchdog if the lease allows, write and read the status. */
async function round(m: Master, n: number): Promise<Round> {
  const started = Date.now();
  const lock = await m.env.getHaManagerLock();
  const lockMs = Date.now() - started;
  if (lock && !m.watchdog.armed) await m.env.watchdogOpen();
  else if (m.watchdog.armed) await m.env.watchdogUpdate('n1/crm:watchdog');
  const ioStarted = Date.now();
  let io = 'ok';
  try {
    await m.env.writeManagerStatus({ master_node: 'n1', timestamp: n });
    const back = await m.env.readManagerStatus();
    if (back.timestamp !== n) io = `read back timestamp ${String(back.timestamp)}, wrote ${n}`;
  } catch (err) {
    io = err instanceof Error ? err.message : String(err);
  }
  const ioMs = Date.now() - ioStarted;
  const quorate = await m.env.quorate();
  return { lock, lockMs, io, ioMs, quorate };
}

/** Runs rounds every ROUND_MS; `during` runs alongside, from the start of round `at`. */
async function rounds(m: Master, count: number, first: number, fault?: { at: number; run: () => Promise<void> }): Promise<Round[]> {
  const out: Round[] = [];
  let faulted: Promise<void> | undefined;
  for (let i = 0; i < count; i++) {
    const started = Date.now();
    if (fault !== undefined && i === fault.at) faulted = fault.run();
    out.push(await round(m, first + i));
    await sleep(Math.max(0, started + ROUND_MS - Date.now()));
  }
  await faulted;
  return out;
}

function figures(label: string, samples: Round[]): string {
  const lock = samples.map((s) => s.lockMs);
  const io = samples.map((s) => s.ioMs);
  return `${label}: renewal ms [${lock.join(', ')}] (max ${Math.max(...lock)}), write+read ms max ${Math.max(...io)}`;
}

/**
 * A started 3-member cluster with etcd's own default raft timing (as a
 * production cluster has: a dead leader is replaced within 1-2 s), its
 * endpoints ordered so the store talks to `first(leader)` first.
 */
async function cluster3(first: (leader: number) => number): Promise<{ cluster: EtcdCluster; victim: number; endpoints: string[] }> {
  const cluster = await startEtcd(etcdBinary ?? 'etcd', 3, { heartbeatMs: 100, electionTimeoutMs: 1_000 });
  toStop.push(() => cluster.stop());
  const victim = first(await cluster.leader());
  const endpoints = [cluster.urls[victim], ...cluster.urls.filter((_, i) => i !== victim)];
  return { cluster, victim, endpoints };
}

function expectNoRoundLost(m: Master, samples: Round[]): void {
  expect(samples.map((s) => s.lock)).toEqual(samples.map(() => true));
  expect(samples.map((s) => s.io)).toEqual(samples.map(() => 'ok'));
  expect(samples.map((s) => s.quorate)).toEqual(samples.map(() => true));
  for (const s of samples) expect(s.lockMs).toBeLessThan(CALL_BUDGET_MS);
  expect(m.logs.filter((line) => line.includes('lost lock') || line.includes('watchdog not updated'))).toEqual([]);
  // Fed every round but the first, which opened it.
  expect(m.watchdog.events).toEqual(['open', ...samples.slice(1).map(() => 'update')]);
}

describe('etcd store when members die', () => {
  if (missing !== undefined) return skipped(missing);
  it('loses no lock and no round when the member it talks to, a follower, is killed', async () => {
    // The store's first endpoint is a follower, the one killed.
    const { cluster, victim, endpoints } = await cluster3((leader) => (leader + 1) % 3);
    const m = master(endpoints, '/failover-follower/');
    const samples = await rounds(m, 9, 0, { at: 3, run: () => cluster.members[victim].stop() });
    console.log(figures('follower killed at round 3', samples));
    expectNoRoundLost(m, samples);
  });

  it('loses no lock and no round when the leader, the member it talks to, is killed', async () => {
    const { cluster, victim, endpoints } = await cluster3((leader) => leader);
    const m = master(endpoints, '/failover-leader/');
    const samples = await rounds(m, 9, 0, { at: 3, run: () => cluster.members[victim].stop() });
    console.log(figures('leader killed at round 3', samples));
    expectNoRoundLost(m, samples);
    // A new leader among the two left.
    expect(await cluster.leader()).not.toBe(victim);
  });
});

describe('etcd store cut off from its cluster', () => {
  if (missing !== undefined) return skipped(missing);
  const proxied = async (): Promise<{ cluster: EtcdCluster; proxies: TcpProxy[] }> => {
    const cluster = await startEtcd(etcdBinary ?? 'etcd', 3);
    toStop.push(() => cluster.stop());
    const proxies: TcpProxy[] = [];
    for (const url of cluster.urls) {
      const proxy = await startTcpProxy(url);
      proxies.push(proxy);
      toStop.push(() => proxy.close());
    }
    return { cluster, proxies };
  };

  it('keeps its lock for the lease left and answers no quorum at once while cut off, and has its writes back when the network returns', async () => {
    const { proxies } = await proxied();
    const m = master(
      proxies.map((p) => p.url),
      '/failover-cut/',
    );
    const before = await rounds(m, 2, 0);
    expect(before.map((s) => s.lock)).toEqual([true, true]);

    await Promise.all(proxies.map((p) => p.cut()));
    const cut = await rounds(m, 3, 2);
    console.log(figures('cut off', cut));
    // No answer is not a refusal: the lease granted before the cut still
    // runs, so the lock is kept (and the watchdog fed) for what is left of
    // it, with a warning each round, while quorum and writes fail at once.
    expect(cut.map((s) => s.lock)).toEqual([true, true, true]);
    expect(cut.map((s) => s.quorate)).toEqual([false, false, false]);
    // No member reachable: the answer comes at once, not after the budget.
    for (const s of cut) expect(s.lockMs).toBeLessThan(CALL_BUDGET_MS / 2);
    const held = m.logs.filter((line) => line.startsWith("warning: could not renew lock 'ha_manager_lock'"));
    expect(held).toHaveLength(3);
    // Held no longer than both the lease (30 s from the last answered
    // renewal) and the watchdog (client timeout minus margin from the last
    // feed) allow; here the watchdog is the tighter bound.
    const left = held.map((line) => Number(/still held for the (\d+) ms/.exec(line)?.[1]));
    for (const ms of left) {
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThanOrEqual(CLIENT_TIMEOUT_MS - MARGIN_MS);
    }
    expect(m.logs.filter((line) => line.includes('lost lock') || line.includes('watchdog not updated'))).toEqual([]);
    expect(cut.every((s) => s.io !== 'ok')).toBe(true);

    await Promise.all(proxies.map((p) => p.restore()));
    const after = await rounds(m, 4, 5);
    console.log(figures('network back', after));
    // Back within two rounds, the lock still its own (its lease outlived the cut), writes going through.
    expect(after.slice(2).map((s) => s.lock)).toEqual([true, true]);
    expect(after.slice(2).map((s) => s.io)).toEqual(['ok', 'ok']);
    expect(after.at(-1)?.quorate).toBe(true);
    // Never lost, so never acquired again.
    expect(m.logs.filter((line) => line.startsWith("info: successfully acquired lock 'ha_manager_lock'"))).toHaveLength(1);
  });

  it('keeps its lock on the lease left, deciding within its budget, when its packets are dropped (connections hang, nothing is refused), and recovers on new connections', async () => {
    const budgetMs = 1_000;
    const { proxies } = await proxied();
    // One endpoint: every connection the store has is one the blackhole swallows.
    const m = master([proxies[0].url], '/failover-blackhole/', budgetMs);
    expect((await rounds(m, 2, 0)).map((s) => s.lock)).toEqual([true, true]);

    proxies[0].blackhole();
    const dark = await rounds(m, 2, 2);
    console.log(figures('packets dropped', dark));
    expect(dark.map((s) => s.lock)).toEqual([true, true]);
    expect(dark.map((s) => s.quorate)).toEqual([false, false]);
    expect(m.logs.filter((line) => line.startsWith("warning: could not renew lock 'ha_manager_lock'"))).toHaveLength(2);
    expect(m.logs.filter((line) => line.includes('lost lock'))).toEqual([]);
    // Tried until the budget is spent, then the lock kept on its lease (with the timer's slack).
    for (const s of dark) expect(s.lockMs).toBeLessThan(budgetMs + 500);

    // The old connections stay dead: only the fresh ones the store opened after its timeouts work.
    await proxies[0].restore();
    const after = await rounds(m, 4, 4);
    console.log(figures('packets pass again', after));
    expect(after.slice(2).map((s) => s.lock)).toEqual([true, true]);
    expect(after.slice(2).map((s) => s.io)).toEqual(['ok', 'ok']);
  });
});

describe('etcd store when a reply is lost', () => {
  if (missing !== undefined) return skipped(missing);
  it('applies an update, a removal and a rename exactly once when the reply to the applied attempt never comes', async () => {
    const cluster = await startEtcd(etcdBinary ?? 'etcd', 3);
    toStop.push(() => cluster.stop());
    const proxy = await startTcpProxy(cluster.urls[0]);
    toStop.push(() => proxy.close());
    const prefix = '/reply-lost/';
    const open = (endpoints: string[]): EtcdStore => {
      const store = createEtcdStore({ endpoints, prefix, timeoutMs: 5_000, attemptTimeoutMs: 1_000 });
      toStop.push(() => store.close());
      return store;
    };
    const other = open(cluster.urls);
    /**
     * A store whose first member is behind the proxy, where the reply to its
     * next change is lost: the proxy drops replies once a request names a
     * change marker, which only a change's transaction does.
     */
    const muted = async (): Promise<EtcdStore> => {
      await proxy.restore();
      const store = open([proxy.url, cluster.urls[1], cluster.urls[2]]);
      await store.read('ha/crm_commands'); // connected, so the change goes out at once
      proxy.loseRepliesAfter('.ha-store/applied/');
      return store;
    };
    const raw = new Etcd3({ hosts: cluster.urls });
    toStop.push(async () => raw.close());
    /** Waits until `n` change markers are in etcd: the change went through, though its sender does not know. */
    const applied = async (n: number): Promise<void> => {
      while ((await raw.getAll().prefix(`${prefix}.ha-store/applied/`).keys()).length < n) await sleep(5);
    };
    await other.write('ha/crm_commands', 'first\n');
    await other.write('ha/groups.cfg', 'group: g\n');
    await other.write('nodes/n1/ha-resources/exec:s1', '');

    // The update is applied through the proxy; before the store retries
    // elsewhere, another writer appends twice.
    const a = await muted();
    const updating = a.update('ha/crm_commands', (text) => `${text ?? ''}mine\n`);
    await applied(1);
    await other.update('ha/crm_commands', (text) => `${text ?? ''}theirs 1\n`);
    await other.update('ha/crm_commands', (text) => `${text ?? ''}theirs 2\n`);
    expect(await updating).toBe('first\nmine\n');
    expect(proxy.connectionsLosingReplies).toBe(1);
    expect(await other.read('ha/crm_commands')).toBe('first\nmine\ntheirs 1\ntheirs 2\n');

    expect(await (await muted()).remove('ha/groups.cfg')).toBe(true);
    expect(proxy.connectionsLosingReplies).toBe(2);
    expect(await other.read('ha/groups.cfg')).toBeUndefined();

    await (await muted()).rename('nodes/n1/ha-resources/exec:s1', 'nodes/n2/ha-resources/exec:s1');
    expect(await other.list('nodes')).toEqual(['n2']);
    expect(proxy.connectionsLosingReplies).toBe(3);
  });
});
