// The etcd store against real etcd servers started for the test (Debian's
// etcd-server, installed by scripts/setup). Without an etcd binary these
// tests are skipped with the reason (test/prerequisites.ts).

import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdStore, type EtcdStore, type EtcdStoreOptions } from '../../src/env/node/etcd-store.js';
import { startStoreChild } from './store-child-client.js';
import { storeContract } from './store-contract.js';
import { skipped } from '../prerequisites.js';
import { etcdMissing, findEtcd, startEtcd, type EtcdCluster } from './store-etcd-server.js';

const etcdBinary = findEtcd();
const missing = etcdMissing();

const LOCK_TTL = 3; // seconds
const ALIVE_TTL = 2; // etcd's shortest lease with these election settings
// Two of these outlast an unrenewed lease (etcd revokes up to 0.5 s late);
// one leaves a renewed lease over a second to spare, for a loaded machine.
const AGE_MS = 1_900;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let prefixes = 0;
const nextPrefix = (): string => `/t${++prefixes}-${process.pid}/`;

describe('etcd store', () => {
  if (missing !== undefined) return skipped(missing);
  let cluster: EtcdCluster;
  const open = (extra: Partial<EtcdStoreOptions> = {}): EtcdStore =>
    createEtcdStore({
      endpoints: cluster.urls,
      lockTtlSeconds: LOCK_TTL,
      aliveTtlSeconds: ALIVE_TTL,
      timeoutMs: 2_000,
      ...extra,
    });

  beforeAll(async () => {
    cluster = await startEtcd(etcdBinary ?? 'etcd');
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  storeContract('etcd', { heartbeats: true, quorumFromHeartbeats: false }, async () => {
    const prefix = nextPrefix();
    const store = open({ prefix });
    const peer = open({ prefix });
    return {
      store,
      peer,
      // A renewal resets the lease; etcd checks for expired leases twice a second.
      ageLocks: () => sleep(AGE_MS),
      expireLocks: () => sleep(LOCK_TTL * 1000 + 1_000),
      staleHeartbeats: () => sleep(ALIVE_TTL * 1000 + 1_000),
      async cleanup() {
        await store.close();
        await peer.close();
      },
    };
  });

  describe.concurrent('keys and leases', () => {
    let raw: Etcd3;
    beforeAll(() => {
      raw = new Etcd3({ hosts: cluster.urls });
    });
    afterAll(() => raw.close());

    it('keeps files as keys below the prefix, and its own records below .ha-store', async () => {
      const prefix = nextPrefix();
      const store = open({ prefix });
      await store.write('ha/manager_status', '{}');
      expect(await raw.get(`${prefix}ha/manager_status`).string()).toBe('{}');
      expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
      const lock = (await raw.get(`${prefix}.ha-store/lock/ha_manager_lock`).exec()).kvs[0];
      expect(lock.value.toString()).toBe('a');
      expect(lock.lease).not.toBe('0');
      const before = Date.now();
      await store.heartbeat('a');
      // The member key holds the stamp of the latest beat (kept once the liveness key has gone).
      const beat = Number(await raw.get(`${prefix}.ha-store/members/a`).string());
      expect(beat).toBeGreaterThanOrEqual(before);
      expect(beat).toBeLessThanOrEqual(Date.now());
      expect(await raw.get(`${prefix}.ha-store/alive/a`).exists()).toBe(true);
      expect(await store.list('')).toEqual(['ha']);
      await expect(store.write('.ha-store/lock/ha_manager_lock', 'b')).rejects.toThrow(/reserved/);
      await store.close();
    });

    it('keeps stores with different prefixes apart', async () => {
      const one = open({ prefix: nextPrefix() });
      const two = open({ prefix: nextPrefix() });
      await one.write('ha/x', 'one');
      expect(await two.read('ha/x')).toBeUndefined();
      expect(await one.lock('l', 'a')).toBe(true);
      expect(await two.lock('l', 'b')).toBe(true);
      await one.close();
      await two.close();
    });

    it('renews on one lease per lock and holder, and refreshes it', async () => {
      const prefix = nextPrefix();
      const store = open({ prefix });
      const key = `${prefix}.ha-store/lock/ha_manager_lock`;
      expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
      const lease = (await raw.get(key).exec()).kvs[0].lease;
      await sleep(AGE_MS);
      expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
      expect((await raw.get(key).exec()).kvs[0].lease).toBe(lease);
      const ttl = await raw.leaseClient.leaseTimeToLive({ ID: lease });
      // Refreshed: at least two whole seconds left (unrefreshed, 1.1 s would be; etcd rounds down).
      expect(Number(ttl.TTL)).toBeGreaterThanOrEqual(LOCK_TTL - 1);
      await store.close();
    });

    it('lets a restarted holder re-assert its lock, moving it onto a lease of its own', async () => {
      const prefix = nextPrefix();
      const before = open({ prefix });
      expect(await before.lock('ha_agent_a_lock', 'a')).toBe(true);
      await before.close(); // the process ends without releasing
      const after = open({ prefix });
      expect(await after.lock('ha_agent_a_lock', 'b')).toBe(false);
      expect(await after.lock('ha_agent_a_lock', 'a')).toBe(true);
      // The key outlives the old process's lease as long as the new one renews.
      await sleep(AGE_MS);
      expect(await after.lock('ha_agent_a_lock', 'a')).toBe(true);
      await sleep(AGE_MS);
      expect(await after.lock('ha_agent_a_lock', 'b')).toBe(false);
      await after.close();
    });

    it('lets exactly one of many clients racing for a free lock win', async () => {
      const prefix = nextPrefix();
      const stores = Array.from({ length: 6 }, () => open({ prefix }));
      for (let round = 0; round < 10; round++) {
        const results = await Promise.all(stores.map((store, i) => store.lock(`race_${round}`, `n${i}`)));
        expect(results.filter(Boolean)).toHaveLength(1);
      }
      await Promise.all(stores.map((store) => store.close()));
    });

    it('queues lock-domain holders on one session lease per store, granted again once it is gone', async () => {
      const prefix = nextPrefix();
      const store = open({ prefix });
      const holder = { node: 'a', pid: 1, command: 'test' };
      const leaseOf = async (): Promise<string> =>
        store.withDomainLock('ha', holder, async () => (await raw.getAll().prefix(`${prefix}.ha-store/domain/ha/`).exec()).kvs[0].lease);
      const first = await leaseOf();
      expect(await leaseOf()).toBe(first);
      expect(await raw.getAll().prefix(`${prefix}.ha-store/domain/`).keys()).toEqual([]);
      // Gone (as after a long idle time): once it is due for a refresh, a new one is granted.
      await raw.leaseClient.leaseRevoke({ ID: first });
      await sleep(5_100);
      const second = await leaseOf();
      expect(second).not.toBe(first);
      await store.close();
    });

    it('moves a file in one transaction: of two racing renames of one source, one wins', async () => {
      const prefix = nextPrefix();
      const one = open({ prefix });
      const two = open({ prefix });
      for (let round = 0; round < 5; round++) {
        await one.write(`src${round}`, 'x');
        const outcomes = await Promise.allSettled([one.rename(`src${round}`, `a${round}`), two.rename(`src${round}`, `b${round}`)]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const placed = [await one.read(`a${round}`), await one.read(`b${round}`)].filter((v) => v !== undefined);
        expect(placed).toEqual(['x']);
      }
      await one.close();
      await two.close();
    });
  });

  describe.concurrent('fencing tokens', () => {
    const A = { fence: { lock: 'ha_manager_lock', holder: 'a' } };
    const B = { fence: { lock: 'ha_manager_lock', holder: 'b' } };

    it("keeps the lock key's create_revision as the token while the holder renews, and compares it in one transaction", async () => {
      const prefix = nextPrefix();
      const store = open({ prefix });
      const raw = new Etcd3({ hosts: cluster.urls });
      const key = `${prefix}.ha-store/lock/ha_manager_lock`;
      expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
      const token = (await raw.get(key).exec()).kvs[0].create_revision;
      await store.write('ha/manager_status', 'a1', A);
      expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
      expect((await raw.get(key).exec()).kvs[0].create_revision).toBe(token);
      await store.write('ha/manager_status', 'a2', A);
      // The lock key rewritten behind the store's back (same holder, new
      // create_revision): the store's token no longer matches.
      await raw.delete().key(key);
      await raw.put(key).value('a');
      await expect(store.write('ha/manager_status', 'a3', A)).rejects.toThrow(
        new RegExp(`^lock lost: 'a' no longer holds 'ha_manager_lock' \\(taken again since \\(fencing token ${token}, now \\d+\\)\\)`),
      );
      expect(await raw.get(`${prefix}ha/manager_status`).string()).toBe('a2');
      raw.close();
      await store.close();
    });

    it('gives a holder that takes the lock anew a new token: a process of the same node with the old one is refused', async () => {
      const prefix = nextPrefix();
      // The same node's daemon twice: one that stalled past its lease, and the one that took over.
      const stalled = open({ prefix });
      const fresh = open({ prefix });
      expect(await stalled.lock('ha_agent_a_lock', 'a')).toBe(true);
      const agent = { fence: { lock: 'ha_agent_a_lock', holder: 'a' } };
      await stalled.write('nodes/a/lrm_status', 'stalled 1', agent);
      await sleep(LOCK_TTL * 1000 + 1_000);
      expect(await fresh.lock('ha_agent_a_lock', 'a')).toBe(true);
      await fresh.write('nodes/a/lrm_status', 'fresh 1', agent);
      await expect(stalled.write('nodes/a/lrm_status', 'stalled 2', agent)).rejects.toThrow(/^lock lost: 'a' no longer holds 'ha_agent_a_lock' \(taken again since/);
      await expect(stalled.update('nodes/a/lrm_status', () => 'stalled 3', agent)).rejects.toThrow(/^lock lost:/);
      expect(await fresh.read('nodes/a/lrm_status')).toBe('fresh 1');
      await stalled.close();
      await fresh.close();
    });

    it("releases only its own grant: a late unlock by a stalled process leaves the same-named holder's new grant alone", async () => {
      const prefix = nextPrefix();
      const stalled = open({ prefix });
      const fresh = open({ prefix });
      const agent = { fence: { lock: 'ha_agent_a_lock', holder: 'a' } };
      try {
        expect(await stalled.acquireLock('ha_agent_a_lock', 'a')).toBe('granted');
        expect(await stalled.acquireLock('ha_agent_a_lock', 'a')).toBe('renewed');
        await sleep(LOCK_TTL * 1000 + 1_000);
        expect(await fresh.acquireLock('ha_agent_a_lock', 'a')).toBe('granted');
        expect(await stalled.unlock('ha_agent_a_lock', 'a')).toBe(false);
        // Still the fresh process's grant: renewed, and its fenced writes pass.
        expect(await fresh.acquireLock('ha_agent_a_lock', 'a')).toBe('renewed');
        await fresh.write('nodes/a/lrm_status', 'fresh', agent);
        // A lock this store never held is not its to release either.
        const bystander = open({ prefix });
        expect(await bystander.unlock('ha_agent_a_lock', 'a')).toBe(false);
        await bystander.close();
        expect(await fresh.unlock('ha_agent_a_lock', 'a')).toBe(true);
      } finally {
        await stalled.close();
        await fresh.close();
      }
    });

    it('refuses, in another process, a paused master that was deposed: the new master keeps its manager_status', async () => {
      const prefix = nextPrefix();
      const spec = `etcd:${cluster.urls.join(',')}?prefix=${prefix}`;
      const { process: child, ready, ask } = startStoreChild(spec, { lockTtlSeconds: LOCK_TTL });
      const successor = open({ prefix });
      try {
        await ready;
        expect(await ask({ op: 'lock', name: 'ha_manager_lock', holder: 'a' })).toBe(true);
        await ask({ op: 'write', path: 'ha/manager_status', data: '{"master_node":"a"}', fence: A.fence });
        child.kill('SIGSTOP');
        await sleep(LOCK_TTL * 1000 + 1_000);
        expect(await successor.lock('ha_manager_lock', 'b')).toBe(true);
        await successor.write('ha/manager_status', '{"master_node":"b"}', B);
        child.kill('SIGCONT');
        await expect(ask({ op: 'write', path: 'ha/manager_status', data: '{"master_node":"a","late":1}', fence: A.fence })).rejects.toThrow(
          /lock lost: 'a' no longer holds 'ha_manager_lock' \('b' holds it\); write 'ha\/manager_status' refused/,
        );
        expect(await successor.read('ha/manager_status')).toBe('{"master_node":"b"}');
        expect(await ask({ op: 'lock', name: 'ha_manager_lock', holder: 'a' })).toBe(false);
      } finally {
        child.kill('SIGKILL');
        await successor.close();
      }
    });
  });
});
