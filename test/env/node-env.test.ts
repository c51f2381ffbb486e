// The node environment's own behaviour, over the in-memory store with a
// clock the test moves: locks and their log lines, the watchdog lease guard,
// config and status reading, the crm command queue, stealing a guest.

import { describe, expect, it } from 'vitest';

import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import type { LogLevel } from '../../src/env/env.js';
import type { Clock } from '../../src/env/node/clock.js';
import { createNodeEnv } from '../../src/env/node/env.js';
import { createMemoryStore } from '../../src/env/node/memory-store.js';
import { recordingWatchdog } from '../../src/env/node/watchdog.js';

function manualClock(startMs = 1_000_000): Clock & { advance(seconds: number): void } {
  let now = startMs;
  return {
    millis: () => now,
    seconds: () => Math.floor(now / 1000),
    sleep: async (seconds) => {
      now += seconds * 1000;
    },
    advance(seconds) {
      now += seconds * 1000;
    },
  };
}

function setup(daemon: 'crm' | 'lrm' = 'lrm', node = 'node1') {
  const clock = manualClock();
  const store = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2', 'node3'] });
  const watchdog = recordingWatchdog();
  const logs: string[] = [];
  const env = createNodeEnv({
    node,
    daemon,
    store,
    clock,
    log: (level: LogLevel, msg: string) => logs.push(`${level}: ${msg}`),
    watchdog,
    drivers: {},
    scoringKernel: typescriptScoringKernel,
    isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
    fenceWindowMs: 76_000,
  });
  return { env, store, clock, watchdog, logs };
}

describe('node environment', () => {
  it('logs a lock only when it is gained or lost', async () => {
    const { env, store, logs } = setup('lrm');
    expect(await env.getHaAgentLock()).toBe(true);
    expect(await env.getHaAgentLock()).toBe(true);
    expect(logs).toEqual(["info: successfully acquired lock 'ha_agent_node1_lock'"]);
    // someone else holds it now (after a release), so ours fails
    await env.releaseHaAgentLock();
    expect(await store.lock('ha_agent_node1_lock', 'node2')).toBe(true);
    expect(await env.getHaAgentLock()).toBe(false);
    expect(await env.getHaAgentLock()).toBe(false);
    expect(logs.filter((l) => l.startsWith('err'))).toEqual([]);
  });

  it('reports a lock lost while held', async () => {
    const { env, store, clock, logs } = setup('crm');
    expect(await env.getHaManagerLock()).toBe(true);
    clock.advance(121);
    expect(await store.lock('ha_manager_lock', 'node2')).toBe(true);
    expect(await env.getHaManagerLock()).toBe(false);
    expect(logs).toContain("err: lost lock 'ha_manager_lock");
  });

  it('feeds the watchdog only while the lock lease is safely ahead of expiry', async () => {
    const { env, clock, watchdog, logs } = setup('lrm');
    expect(await env.getHaAgentLock()).toBe(true);
    const handle = await env.watchdogOpen();
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open', 'update']);
    // 120 s lease minus a 76 s fence window: feeding stops after 44 s without renewal
    clock.advance(45);
    await env.watchdogUpdate(handle);
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open', 'update']);
    expect(logs.filter((l) => l.includes('watchdog not updated'))).toHaveLength(1);
    // a renewal makes it safe again
    expect(await env.getHaAgentLock()).toBe(true);
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open', 'update', 'update']);
    await env.watchdogClose(handle);
    expect(watchdog.events.at(-1)).toBe('close clean');
  });

  it('issues distinct 22-character uids, across refills of its random block', () => {
    const { env } = setup('crm');
    const uids = Array.from({ length: 1000 }, () => env.newUid());
    expect(new Set(uids).size).toBe(1000);
    for (const uid of uids) expect(uid).toMatch(/^[A-Za-z0-9+/]{22}$/);
  });

  it('never feeds the watchdog for a lock it does not hold', async () => {
    const { env, store, watchdog } = setup('lrm');
    await store.lock('ha_agent_node1_lock', 'node2');
    expect(await env.getHaAgentLock()).toBe(false);
    const handle = await env.watchdogOpen();
    await env.watchdogUpdate(handle);
    expect(watchdog.events).toEqual(['open']);
  });

  it('reads a missing lrm_status as mode unknown, and the services with their guests’ nodes', async () => {
    const { env, store } = setup('crm');
    expect(await env.readLrmStatus('node9')).toEqual({ mode: 'unknown' });
    await store.write('ha/resources.cfg', 'vm: 100\n\tstate stopped\n\nexec: web\n\nct: 101\n');
    await store.write('nodes/node2/qemu-server/100.conf', 'memory: 1024\n');
    await store.write('nodes/node3/ha-resources/exec:web', '');
    const { services } = await env.readServiceConfig();
    expect(Object.keys(services)).toEqual(['exec:web', 'vm:100']);
    expect(services['vm:100']).toMatchObject({ node: 'node2', state: 'stopped', failback: true, max_restart: 1, max_relocate: 1 });
    expect(services['exec:web']).toMatchObject({ node: 'node3', state: 'started', type: 'exec', name: 'web' });
  });

  it('queues crm commands and hands them out once', async () => {
    const { env } = setup('crm');
    expect(await env.anyPendingCrmCommand()).toBe(false);
    await env.queueCrmCommand('migrate vm:100 node2');
    await env.queueCrmCommand('arm-ha\n');
    expect(await env.anyPendingCrmCommand()).toBe(true);
    expect(await env.readCrmCommands()).toBe('migrate vm:100 node2\narm-ha\n');
    expect(await env.readCrmCommands()).toBe('');
  });

  it('moves a fenced guest to its recovery node and updates the resources config', async () => {
    const { env, store } = setup('crm');
    await store.write('ha/resources.cfg', 'vm: 100\n\tgroup g1\n');
    await store.write('nodes/node1/qemu-server/100.conf', 'lock: backup\n');
    env.loopStartHook();
    await env.stealService('vm:100', 'node1', 'node3');
    expect(await store.read('nodes/node3/qemu-server/100.conf')).toBe('lock: backup\n');
    expect((await env.readServiceConfig()).services['vm:100'].node).toBe('node3');
    await env.updateServiceConfig({ 'vm:100': { param: { state: 'stopped', failback: false }, delete: ['group'] } });
    expect(await store.read('ha/resources.cfg')).toBe('vm: 100\n\tfailback 0\n\tstate stopped\n\n');
  });

  it('takes max_workers from datacenter.cfg', async () => {
    const { env, store } = setup('lrm');
    expect(env.getMaxWorkers()).toBe(4);
    await store.write('datacenter.cfg', 'keyboard: en-us\nmax_workers: 7\nha: shutdown_policy=migrate\n');
    expect((await env.getDatacenterSettings()).ha.shutdown_policy).toBe('migrate');
    expect(env.getMaxWorkers()).toBe(7);
  });
});
