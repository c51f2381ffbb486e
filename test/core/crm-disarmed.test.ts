// A CRM that was master of a fully disarmed stack (no watchdog, on purpose)
// and later becomes master again of an armed one must open its watchdog as
// it takes the lock, not one round later. Real CRM core over the node
// environment, an in-memory store and a recording watchdog.

import { describe, expect, it } from 'vitest';

import { createCrm, crmIteration } from '../../src/core/crm.js';
import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import { createNodeEnv } from '../../src/env/node/env.js';
import { createMemoryStore } from '../../src/env/node/memory-store.js';
import { recordingWatchdog } from '../../src/env/node/watchdog.js';
import { manualClock } from '../env/manual-clock.js';

function managerStatus(now: number, disarmed: boolean): string {
  return JSON.stringify({
    master_node: 'node1',
    node_status: { node1: 'online', node2: 'online' },
    service_status: { 'exec:web': { node: 'node1', state: 'stopped', uid: 'u1' } },
    ...(disarmed ? { disarm: { mode: 'freeze', state: 'disarmed' } } : {}),
    timestamp: now,
  });
}

describe('a CRM master of a disarmed stack', () => {
  it('opens its watchdog when it becomes master again after the stack was re-armed', async () => {
    const clock = manualClock();
    const store = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2'] });
    await store.write('ha/resources.cfg', 'exec: web\n\tstate stopped\n');
    await store.write('nodes/node1/ha-resources/exec:web', '');
    await store.write('ha/manager_status', managerStatus(clock.seconds(), true));
    const watchdog = recordingWatchdog();
    const logs: string[] = [];
    const env = createNodeEnv({
      node: 'node1',
      daemon: 'crm',
      store,
      clock,
      log: (level, msg) => logs.push(`${level}: ${msg}`),
      watchdog,
      drivers: {},
      scoringKernel: typescriptScoringKernel,
      isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
    });
    const crm = await createCrm(env);
    for (let i = 0; i < 3 && crm.status.state !== 'master'; i++) await crmIteration(crm);
    expect(crm.status.state).toBe('master');
    expect(logs).toContain('info: taking over as disarmed master, skipping watchdog');
    expect(watchdog.armed).toBe(false);

    // It loses the lock (another node holds it for a while) and leaves the master state.
    const getLock = env.getHaManagerLock.bind(env);
    env.getHaManagerLock = async () => false;
    for (let i = 0; i < 3 && crm.status.state === 'master'; i++) await crmIteration(crm);
    expect(crm.status.state).not.toBe('master');

    // Meanwhile the stack was re-armed; the lock is free again.
    await store.write('ha/manager_status', managerStatus(clock.seconds(), false));
    env.getHaManagerLock = getLock;
    for (let i = 0; i < 4 && crm.status.state !== 'master'; i++) await crmIteration(crm);
    expect(crm.status.state).toBe('master');
    // Protected from the first master round on.
    expect(watchdog.armed).toBe(true);
    expect(watchdog.events[0]).toBe('open');
  });
});

describe('a CRM taking the manager lock slowly', () => {
  it('does not become master on a lease too old to arm its watchdog on, and does on the next one', async () => {
    const clock = manualClock();
    const store = createMemoryStore({ clock: clock.millis, nodes: ['node1', 'node2'] });
    await store.write('ha/resources.cfg', 'exec: web\n\tstate stopped\n');
    await store.write('nodes/node1/ha-resources/exec:web', '');
    await store.write('ha/manager_status', managerStatus(clock.seconds(), false));
    const acquireLock = store.acquireLock.bind(store);
    let slow = true;
    store.acquireLock = async (name, holder) => {
      const got = await acquireLock(name, holder);
      // 45 s: past the feed deadline of a 120 s lease with a 76 s fence window.
      if (slow) clock.advance(45);
      slow = false;
      return got;
    };
    const watchdog = recordingWatchdog();
    const env = createNodeEnv({
      node: 'node1',
      daemon: 'crm',
      store,
      clock,
      log: () => {},
      watchdog,
      drivers: {},
      scoringKernel: typescriptScoringKernel,
      isNodeShutdown: async () => ({ shutdown: false, reboot: false }),
    });
    const crm = await createCrm(env);
    await crmIteration(crm);
    expect(crm.status.state).toBe('slave');
    expect(watchdog.events).toEqual(['open', 'close clean']);
    for (let i = 0; i < 3 && crm.status.state !== 'master'; i++) await crmIteration(crm);
    expect(crm.status.state).toBe('master');
    expect(watchdog.armed).toBe(true);
  });
});
