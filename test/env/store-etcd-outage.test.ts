// The etcd store when etcd fails: a server gone, and a cluster that lost
// its majority while the member the store talks to still answers. Without
// an etcd binary these tests are skipped with the reason (test/prerequisites.ts).

import { describe, expect, it } from 'vitest';
import { createEtcdStore } from '../../src/env/node/etcd-store.js';
import { skipped } from '../prerequisites.js';
import { etcdMissing, findEtcd, startEtcd } from './store-etcd-server.js';

const etcdBinary = findEtcd();
const missing = etcdMissing();
const prefix = `/outage-${process.pid}/`;

describe.concurrent('etcd store in an outage', () => {
  if (missing !== undefined) return skipped(missing);
  it('answers lock false, no quorum and no refresh, and fails reads naming the endpoint, when etcd is gone', async () => {
    const cluster = await startEtcd(etcdBinary ?? 'etcd');
    const store = createEtcdStore({ endpoints: cluster.urls, prefix, timeoutMs: 1_000, aliveTtlSeconds: 2 });
    await store.heartbeat('a');
    expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
    expect((await store.membership()).quorate).toBe(true);
    await cluster.stop();
    const started = Date.now();
    expect(await store.lock('ha_manager_lock', 'a')).toBe(false);
    // Not a refusal: the store cannot tell, so the holder's own lease decides (env.ts).
    expect(await store.acquireLock('ha_manager_lock', 'a')).toBe('unknown');
    expect(await store.refresh()).toBe(false);
    expect(await store.membership()).toEqual({ nodes: { a: { online: false } }, quorate: false });
    await expect(store.read('ha/manager_status')).rejects.toThrow(new RegExp(`etcd ${cluster.urls[0]}: read 'ha/manager_status' failed`));
    await expect(store.write('ha/manager_status', '{}')).rejects.toThrow(cluster.urls[0]);
    expect(Date.now() - started).toBeLessThan(8_000);
    await store.close();
  });

  it('loses quorum with the majority of a three-member cluster: no lock, no quorum, though its member answers', async () => {
    const cluster = await startEtcd(etcdBinary ?? 'etcd', 3);
    try {
      const survivor = cluster.members[0];
      const store = createEtcdStore({ endpoints: [survivor.clientUrl], prefix, timeoutMs: 1_000 });
      expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
      expect((await store.membership()).quorate).toBe(true);
      await cluster.members[1].stop();
      await cluster.members[2].stop();
      const health = await fetch(`${survivor.clientUrl}/version`);
      expect(health.ok).toBe(true); // the survivor is up and answering
      expect(await store.lock('ha_manager_lock', 'a')).toBe(false);
      expect(await store.acquireLock('ha_manager_lock', 'a')).toBe('unknown');
      expect((await store.membership()).quorate).toBe(false);
      expect(await store.refresh()).toBe(false);
      await store.close();
    } finally {
      await cluster.stop();
    }
  });
});
