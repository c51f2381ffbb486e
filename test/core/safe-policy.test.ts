// Parts of the safe policy (src/core/policy.ts) seen from inside, driven with
// the simulator's hardware and environment: the manager keeps going when one
// service's step fails (a cluster store whose rename of the recovered guest's
// config fails), where the reference's round ends before it publishes
// anything (wedged-recovery); an LRM keeps its protection while the guest of
// a stopped or error-state service runs, checking each guest once (inactive).

import { describe, expect, it } from 'vitest';

import { createCrm, crmIteration } from '../../src/core/crm.js';
import { createLrm, lrmIteration } from '../../src/core/lrm.js';
import type { Policy } from '../../src/core/policy.js';
import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import { createSimEnv } from '../../src/env/sim/env.js';
import { SimHardware } from '../../src/env/sim/hardware.js';

/** node1 is master-to-be; vm:201 waits to be recovered from node2 (fenced, off); vm:101 is to be started. */
async function masterRounds(policy: Policy, rounds: number): Promise<{ hw: SimHardware; log: string }> {
  const lines: string[] = [];
  const hw = new SimHardware(
    {
      cmdlist: [],
      hardwareStatus: { node1: { power: 'on', network: 'on' }, node2: { power: 'off', network: 'off' }, node3: { power: 'on', network: 'on' } },
      serviceConfig: { 'vm:101': { node: 'node1', state: 'started' }, 'vm:201': { node: 'node2', state: 'started' } },
      managerStatus: {
        master_node: 'node1',
        node_status: { node1: 'online', node2: 'unknown', node3: 'online' },
        service_status: {
          'vm:101': { state: 'stopped', node: 'node1', uid: 'u1' },
          'vm:201': { state: 'recovery', node: 'node2', uid: 'u2' },
        },
      },
    },
    { kernel: typescriptScoringKernel, write: (line) => lines.push(line) },
  );
  const env = createSimEnv(hw, 'node1', 'crm', { maxLoopDelay: 300, policy });
  env.stealService = async () => {
    throw new Error("rename 'nodes/node2/qemu-server/201.conf' failed: input/output error");
  };
  const crm = await createCrm(env);
  for (let i = 0; i < rounds; i++) {
    await crmIteration(crm);
    hw.time += 20;
  }
  return { hw, log: lines.join('') };
}

describe('a service whose step fails', () => {
  it('ends every round of the reference’s manager: nothing else moves', async () => {
    const { hw, log } = await masterRounds('reference', 3);
    expect(log).toContain("got unexpected error - rename 'nodes/node2/qemu-server/201.conf' failed");
    expect(hw.readManagerStatus().service_status?.['vm:101']?.state).toBe('stopped');
  });

  it('is left as it is by the safe manager, which goes on with the others and publishes', async () => {
    const { hw, log } = await masterRounds('safe', 3);
    expect(log).toContain("service 'vm:201': recovery step failed, leaving it as it is this round - rename 'nodes/node2/qemu-server/201.conf' failed");
    expect(log).not.toContain('got unexpected error');
    const ss = hw.readManagerStatus().service_status ?? {};
    expect(ss['vm:101']?.state).toBe('started');
    expect(ss['vm:201']).toMatchObject({ state: 'recovery', node: 'node2' });
  });
});

/** node1's LRM alone, vm:101 stopped there, its driver's status checks counted. */
function lrmWithStoppedService(policy: Policy) {
  const hw = new SimHardware(
    {
      cmdlist: [],
      hardwareStatus: { node1: { power: 'on', network: 'on' }, node2: { power: 'on', network: 'on' }, node3: { power: 'on', network: 'on' } },
      serviceConfig: { 'vm:101': { node: 'node1', state: 'stopped' } },
      managerStatus: { master_node: 'node2', service_status: { 'vm:101': { state: 'stopped', node: 'node1', uid: 'u1' } } },
    },
    { kernel: typescriptScoringKernel, write: () => undefined },
  );
  const env = createSimEnv(hw, 'node1', 'lrm', { maxLoopDelay: 300, policy });
  const driver = env.resourceDriver('vm');
  if (driver === undefined) throw new Error('no vm driver');
  const counted = { checks: 0 };
  const check = driver.runState.bind(driver);
  driver.runState = async (name) => {
    counted.checks++;
    return check(name);
  };
  const lrm = createLrm(env);
  const iterate = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await lrmIteration(lrm);
      hw.time += 10;
    }
  };
  return { hw, lrm, counted, iterate };
}

describe('an LRM with a stopped service', () => {
  it('under the safe policy, checks its guest once per status entry, and takes its lock while it runs', async () => {
    const { hw, lrm, counted, iterate } = lrmWithStoppedService('safe');
    await iterate(3);
    expect(counted.checks).toBe(1);
    expect(lrm.status.state).toBe('wait_for_agent_lock');
    // The guest runs after all (a stop that failed, say): the master marks the service anew.
    hw.setRunning('node1', 'vm:101', true);
    hw.writeManagerStatus({ master_node: 'node2', service_status: { 'vm:101': { state: 'error', node: 'node1', uid: 'u2' } } });
    await iterate(1);
    expect(counted.checks).toBe(2);
    expect(lrm.status.state).toBe('active');
    expect(hw.lockRecord('ha_agent_node1_lock')?.node).toBe('node1');
  });

  it('under the reference policy, never looks and leaves a running guest unprotected', async () => {
    const { hw, lrm, counted, iterate } = lrmWithStoppedService('reference');
    hw.setRunning('node1', 'vm:101', true);
    await iterate(3);
    expect(counted.checks).toBe(0);
    expect(lrm.status.state).toBe('wait_for_agent_lock');
  });
});
