// What a daemon counts about itself for /metrics (daemon-metrics.ts): lock
// acquisitions, renewals and losses as the store answers, waits for a worker,
// nodes entering the fence state, and the throttled publication.

import { describe, expect, it } from 'vitest';

import { parseDaemonMetrics } from '../../src/config/daemon-metrics.js';
import type { Crm } from '../../src/core/crm.js';
import type { Lrm } from '../../src/core/lrm.js';
import { PUBLISH_INTERVAL_MS, daemonMetricsHook } from '../../src/env/node/daemon-metrics.js';
import { daemonMetricsPath } from '../../src/env/node/layout.js';
import { createMemoryStore } from '../../src/env/node/memory-store.js';
import { createWorkerPool } from '../../src/native/worker-pool.js';

describe('daemon metrics hook', () => {
  it('counts lock acquisitions, renewals and losses from what the store answers', async () => {
    let now = 0;
    const store = createMemoryStore({ nodes: ['node1', 'node2'], clock: () => now });
    const pool = createWorkerPool({ implementation: 'typescript' });
    const hook = daemonMetricsHook({ daemon: 'lrm', node: 'node1', store, pool, log: () => undefined });
    expect(await hook.store.lock('agent', 'node1')).toBe(true);
    expect(await hook.store.lock('agent', 'node1')).toBe(true);
    expect(await hook.store.lock('agent', 'node1')).toBe(true);
    // someone else takes it after the lease ran out: this holder's next try fails
    now += 200_000;
    expect(await store.lock('agent', 'node2')).toBe(true);
    expect(await hook.store.lock('agent', 'node1')).toBe(false);
    expect(await hook.store.lock('agent', 'node1')).toBe(false);
    expect(hook.snapshot().locks).toEqual({ acquired: 1, renewed: 2, lost: 1 });
    // a voluntary release is no loss
    now += 200_000;
    expect(await hook.store.lock('other', 'node1')).toBe(true);
    expect(await hook.store.unlock('other', 'node1')).toBe(true);
    expect(hook.snapshot().locks).toEqual({ acquired: 2, renewed: 2, lost: 1 });
    await pool.close();
  });

  it('times the wait for a worker: none when a worker is free', async () => {
    const store = createMemoryStore({ nodes: ['node1'] });
    const pool = createWorkerPool({ implementation: 'typescript', maxWorkers: 1 });
    const hook = daemonMetricsHook({ daemon: 'lrm', node: 'node1', store, pool, log: () => undefined });
    await Promise.all([
      hook.pool.run({ uid: 'a', command: '/bin/sleep', args: ['0.3'] }),
      hook.pool.run({ uid: 'b', command: '/bin/true' }),
    ]);
    const wait = hook.snapshot().lrm?.wait_seconds;
    expect(wait?.count).toBe(2);
    // the second waited for the first (0.3 s) — generous bounds, a loaded machine is slow
    expect(wait?.sum).toBeGreaterThan(0.2);
    expect(wait?.counts[wait.le.indexOf(0.1)]).toBeGreaterThanOrEqual(1);
    await pool.close();
  });

  it('counts nodes entering fence and publishes at most every interval', async () => {
    let now = 1_000_000;
    const store = createMemoryStore({ nodes: ['node1'] });
    const pool = createWorkerPool({ implementation: 'typescript' });
    const hook = daemonMetricsHook({ daemon: 'crm', node: 'node1', store, pool, log: () => undefined, now: () => now });
    const crm = (states: Record<string, string>): Crm => ({ status: { state: 'master' }, manager: { ns: { status: states } } }) as unknown as Crm;
    await hook.crmIteration(crm({ node2: 'online', node3: 'fence' }), async () => true);
    await hook.crmIteration(crm({ node2: 'fence', node3: 'fence' }), async () => true);
    await hook.crmIteration(crm({ node2: 'fence', node3: 'unknown' }), async () => true);
    await hook.crmIteration(crm({ node2: 'online', node3: 'fence' }), async () => true);
    const path = daemonMetricsPath('node1', 'crm');
    // published once, at the first iteration
    expect(parseDaemonMetrics((await store.read(path)) as string, path).crm?.fence_events).toBe(0);
    now += PUBLISH_INTERVAL_MS;
    await hook.crmIteration(crm({ node2: 'online', node3: 'fence' }), async () => true);
    const published = parseDaemonMetrics((await store.read(path)) as string, path);
    // node3 was fence when this master started (not counted), node2 entered once, node3 again once
    expect(published.crm?.fence_events).toBe(2);
    expect(published.crm?.master).toBe(true);
    expect(published.crm?.round_seconds.count).toBe(5);
    await pool.close();
  });

  it('reports the LRM’s queued and running workers', async () => {
    const store = createMemoryStore({ nodes: ['node1'] });
    const pool = createWorkerPool({ implementation: 'typescript' });
    const hook = daemonMetricsHook({ daemon: 'lrm', node: 'node1', store, pool, log: () => undefined });
    const workers = new Map([
      ['vm:1', { started: true }],
      ['vm:2', { started: false }],
      ['vm:3', { started: false }],
    ]);
    await hook.lrmIteration({ workers } as unknown as Lrm, async () => true);
    expect(hook.snapshot().lrm).toMatchObject({ queued: 2, running: 1 });
    await pool.close();
  });
});
