// The online invariant checkers on hand-made hardware states: each check
// must catch what it is for, and let the documented exceptions pass. The
// hardware is driven directly (no daemons), and each step is announced to
// the checker the way the runner announces it.

import { describe, expect, it } from 'vitest';

import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import type { LrmMode } from '../../src/core/types.js';
import { SimHardware } from '../../src/env/sim/hardware.js';
import { createInvariantChecker, describeViolation, type InvariantChecker } from '../../src/env/sim/invariants.js';
import { LIVENESS_BOUND } from '../../src/env/sim/liveness.js';
import type { SimDaemonStates, SimObservation, SimStep } from '../../src/env/sim/observer.js';

const ON = { power: 'on', network: 'on' } as const;

/** Three powered nodes, vm:101 configured and placed on node1 by the manager. */
function cluster(state = 'started'): SimHardware {
  return new SimHardware(
    {
      cmdlist: [],
      hardwareStatus: { node1: { ...ON }, node2: { ...ON }, node3: { ...ON } },
      serviceConfig: { 'vm:101': { node: 'node1', state } },
      managerStatus: { service_status: { 'vm:101': { node: 'node1', state: 'started', uid: 'u1' } } },
    },
    { kernel: typescriptScoringKernel, write: () => undefined },
  );
}

/** A checker and a way to announce steps, with daemon states set by the test. */
function harness(hw: SimHardware, options: Parameters<typeof createInvariantChecker>[0] = {}) {
  const daemons: Record<string, SimDaemonStates> = {};
  const obs: SimObservation & { loop: number; round: number } = { hw, loop: 1, round: 0, daemons: (node) => daemons[node] ?? {} };
  const checker: InvariantChecker = createInvariantChecker(options);
  const step = (s: SimStep): void => checker.step(obs, s);
  const lrm = (node: string): void => step({ kind: 'daemon', node, daemon: 'lrm' });
  const crm = (node: string): void => step({ kind: 'daemon', node, daemon: 'crm' });
  const setLrm = (node: string, mode: LrmMode): void => {
    daemons[node] = { ...daemons[node], lrm: { state: 'active', mode } };
  };
  const setCrm = (node: string, state: 'master' | 'slave'): void => {
    daemons[node] = { ...daemons[node], crm: state };
  };
  const checks = (): string[] => checker.report().violations.map((v) => v.check);
  step({ kind: 'start' });
  return { obs, checker, step, lrm, crm, setLrm, setCrm, checks };
}

const takeLock = (hw: SimHardware, name: string, node: string): boolean | undefined =>
  hw.lock(name, node, hw.time, 120, false, () => undefined);
const agentLock = (node: string): string => `ha_agent_${node}_lock`;

/** node1's LRM holds its lock and watchdog and has started vm:101. */
function running(hw: SimHardware, h: ReturnType<typeof harness>): string {
  h.setLrm('node1', 'active');
  takeLock(hw, agentLock('node1'), 'node1');
  const wd = hw.watchdogOpen('node1', 'lrm');
  hw.setRunning('node1', 'vm:101', true);
  h.lrm('node1');
  return wd;
}

describe('online invariant checkers', () => {
  it('accept a guest that runs protected, and report nothing', () => {
    const hw = cluster();
    const h = harness(hw);
    running(hw, h);
    hw.time += 20;
    takeLock(hw, agentLock('node1'), 'node1');
    h.lrm('node1');
    h.step({ kind: 'turn-end', node: 'node1' });
    expect(h.checker.report().violations).toEqual([]);
    expect(h.checker.report().coverage['guest-start']).toBe(1);
  });

  it('catch an LRM starting a guest without lock or watchdog', () => {
    const hw = cluster();
    const h = harness(hw);
    hw.setRunning('node1', 'vm:101', true);
    h.lrm('node1');
    expect(h.checks()).toEqual(['protection']);
  });

  it('catch a recovery without fencing, and the second runner it makes', () => {
    const hw = cluster();
    const h = harness(hw);
    running(hw, h);
    h.setCrm('node2', 'master');
    takeLock(hw, 'ha_manager_lock', 'node2');
    hw.changeServiceLocation('vm:101', 'node1', 'node2');
    hw.writeManagerStatus({ service_status: { 'vm:101': { node: 'node2', state: 'started', uid: 'u2' } } });
    h.crm('node2');
    expect(h.checks()).toEqual(['fencing', 'fencing']);
    takeLock(hw, agentLock('node2'), 'node2');
    hw.watchdogOpen('node2', 'lrm');
    hw.setRunning('node2', 'vm:101', true);
    h.lrm('node2');
    expect(h.checks()).toContain('single-runner');
    const v = h.checker.report().violations.find((x) => x.check === 'single-runner');
    expect(v && describeViolation(v, 42)).toMatch(/^seed 42, loop 1 \(t=0\), cmdlist round 0: single-runner: vm:101 runs on node1 \(unmanaged\) and node2 \(claimed\)$/);
  });

  it('do not count the guests of a powered-off node', () => {
    const hw = cluster();
    const h = harness(hw);
    running(hw, h);
    hw.hw.node1.power = 'off';
    hw.setRunning('node2', 'vm:101', true);
    h.step({ kind: 'command', command: 'power node1 off', source: 'cmdlist' });
    expect(h.checks()).not.toContain('single-runner');
  });

  it('catch a guest left running once the lock lapsed and no watchdog guards it', () => {
    const hw = cluster();
    const h = harness(hw);
    const wd = running(hw, h);
    hw.watchdogClose(wd);
    h.crm('node2');
    expect(h.checks()).toEqual([]); // the lock still protects it
    hw.time += 121;
    h.crm('node2');
    expect(h.checks()).toEqual(['protection']);
  });

  it('count a disarm that leaves guests unprotected as the documented exception', () => {
    const hw = cluster();
    const h = harness(hw);
    const wd = running(hw, h);
    h.setLrm('node1', 'disarm');
    hw.lock(agentLock('node1'), 'node1', hw.time, 120, true, () => undefined);
    hw.watchdogClose(wd);
    h.lrm('node1');
    expect(h.checker.report().violations).toEqual([]);
    expect(h.checker.report().exceptions).toEqual({ 'protection/disarm': 1 });
    // Fenced while disarmed and started elsewhere: excused, counted.
    takeLock(hw, agentLock('node1'), 'node2');
    hw.setRunning('node2', 'vm:101', true);
    h.crm('node2');
    expect(h.checker.report().violations).toEqual([]);
    expect(h.checker.report().exceptions).toMatchObject({ 'fencing/disarm': 1, 'single-runner/disarm': 1 });
  });

  it('under the safe policy, excuse the disarm release but not a fence, recovery or second runner of its guest', () => {
    for (const policy of ['reference', 'safe'] as const) {
      const hw = cluster();
      const h = harness(hw, { policy });
      const wd = running(hw, h);
      h.setLrm('node1', 'disarm');
      hw.lock(agentLock('node1'), 'node1', hw.time, 120, true, () => undefined);
      hw.watchdogClose(wd);
      h.lrm('node1');
      expect(h.checker.report().violations, policy).toEqual([]);
      expect(h.checker.report().exceptions, policy).toEqual({ 'protection/disarm': 1 });
      // node2's master fences node1 by its free lock and recovers vm:101, whose guest node1 still runs.
      h.setCrm('node2', 'master');
      takeLock(hw, 'ha_manager_lock', 'node2');
      takeLock(hw, agentLock('node1'), 'node2');
      h.crm('node2');
      hw.changeServiceLocation('vm:101', 'node1', 'node2');
      hw.writeManagerStatus({ service_status: { 'vm:101': { node: 'node2', state: 'started', uid: 'u2' } } });
      h.crm('node2');
      takeLock(hw, agentLock('node2'), 'node2');
      hw.watchdogOpen('node2', 'lrm');
      hw.setRunning('node2', 'vm:101', true);
      h.lrm('node2');
      if (policy === 'reference') {
        expect(h.checks()).toEqual([]);
        expect(h.checker.report().exceptions).toMatchObject({ 'fencing/disarm': 2, 'single-runner/disarm': 1 });
      } else {
        expect(h.checks()).toEqual(['fencing', 'fencing', 'single-runner']);
      }
    }
  });

  it('excuse an LRM leaving a stopped service’s guest running for maintenance only under the reference policy', () => {
    for (const [policy, mode, expected] of [
      ['reference', 'maintenance', []],
      ['safe', 'maintenance', ['protection']],
      ['safe', 'restart', []],
    ] as const) {
      const hw = cluster('stopped');
      // The stop failed: the manager counts the service stopped, its guest runs on.
      hw.writeManagerStatus({ service_status: { 'vm:101': { node: 'node1', state: 'stopped', uid: 'u2' } } });
      const h = harness(hw, { policy });
      const wd = running(hw, h);
      h.setLrm('node1', mode);
      hw.lock(agentLock('node1'), 'node1', hw.time, 120, true, () => undefined);
      hw.watchdogClose(wd);
      h.lrm('node1');
      expect(h.checks(), `${policy}, ${mode}`).toEqual(expected);
    }
  });

  it('do not vouch for a guest HA did not start, even under a lock left from before a power cycle', () => {
    const hw = cluster();
    const h = harness(hw);
    running(hw, h);
    hw.hw.node1.power = 'off';
    hw.clearRunning('node1');
    hw.watchdogReset('node1');
    h.step({ kind: 'command', command: 'power node1 off', source: 'cmdlist' });
    hw.setRunning('node1', 'vm:101', true); // added as running while the node is off
    hw.hw.node1.power = 'on';
    h.step({ kind: 'command', command: 'power node1 on', source: 'cmdlist' });
    hw.time += 121;
    takeLock(hw, agentLock('node1'), 'node2');
    hw.changeServiceLocation('vm:101', 'node1', 'node2');
    h.crm('node2');
    expect(h.checker.report().violations).toEqual([]);
    expect(h.checker.report().exceptions).toEqual({ 'fencing/unclaimed': 1 });
  });

  it('catch a fence acknowledged while the node’s LRM watchdog is armed', () => {
    const hw = cluster();
    const h = harness(hw);
    hw.watchdogClose(running(hw, h));
    hw.time += 121; // the lock lapsed; a watchdog armed moments ago
    hw.watchdogOpen('node1', 'lrm');
    takeLock(hw, agentLock('node1'), 'node2');
    h.crm('node2');
    expect(h.checks()).toEqual(['fencing', 'fencing']);
  });

  it('treat the guest a manual migration leaves behind as a ghost', () => {
    const hw = cluster('ignored');
    const h = harness(hw);
    running(hw, h);
    hw.changeServiceLocation('vm:101', 'node1', 'node2');
    h.step({ kind: 'command', command: 'service vm:101 manual-migrate node2', source: 'cmdlist' });
    takeLock(hw, agentLock('node2'), 'node2');
    hw.setRunning('node2', 'vm:101', true);
    h.lrm('node2');
    expect(h.checker.report().violations).toEqual([]);
  });

  it('catch a manager status write by a CRM without the manager lock, and two masters', () => {
    const hw = cluster();
    const h = harness(hw);
    takeLock(hw, 'ha_manager_lock', 'node1');
    h.setCrm('node1', 'master');
    hw.writeManagerStatus({ master_node: 'node1' });
    h.crm('node1');
    expect(h.checks()).toEqual([]);
    h.setCrm('node2', 'master');
    hw.writeManagerStatus({ master_node: 'node2' });
    h.crm('node2');
    expect(h.checks()).toEqual(['single-master', 'single-master']);
  });

  it('catch a watchdog that expired without firing by the end of a turn', () => {
    const hw = cluster();
    const h = harness(hw);
    hw.watchdogOpen('node3', 'crm');
    hw.time += 61;
    h.step({ kind: 'turn-end', node: 'node3' });
    expect(h.checks()).toEqual(['watchdog']);
  });

  it('require every started service to run once within the bound after the heal', () => {
    const hw = cluster();
    const h = harness(hw, { liveness: { fromRound: 0 } });
    h.setLrm('node1', 'active');
    h.step({ kind: 'round', index: 0 });
    hw.time += LIVENESS_BOUND + 1;
    h.crm('node2');
    expect(h.checks()).toEqual(['liveness']);
    h.checker.end(h.obs);
    expect(h.checker.report().liveness).toMatchObject({ applicable: true, services: 1 });
  });

  it('require a settled service to stay so to the end, but for a move in the last loops', () => {
    for (const [gone, expected] of [[30, []], [90, ['liveness']]] as const) {
      const hw = cluster();
      const h = harness(hw, { liveness: { fromRound: 0 } });
      running(hw, h);
      h.step({ kind: 'round', index: 0 });
      h.lrm('node1');
      hw.setRunning('node1', 'vm:101', false);
      hw.time += gone;
      h.lrm('node1');
      h.checker.end(h.obs);
      expect(h.checks(), `stopped for ${gone} s`).toEqual(expected);
    }
  });

  it('exempt services in the error state from liveness', () => {
    const hw = cluster();
    hw.writeManagerStatus({ service_status: { 'vm:101': { node: 'node1', state: 'error', uid: 'u2' } } });
    const h = harness(hw, { liveness: { fromRound: 0 } });
    h.step({ kind: 'round', index: 0 });
    hw.time += LIVENESS_BOUND + 1;
    h.lrm('node1');
    h.checker.end(h.obs);
    expect(h.checker.report().violations).toEqual([]);
    expect(h.checker.report().liveness).toMatchObject({ applicable: true, services: 0, excepted: { error: 1 } });
  });

  it('exempt the services of a restarting LRM from liveness only under the reference policy', () => {
    for (const [policy, expected] of [
      ['reference', []],
      ['safe', ['liveness']],
    ] as const) {
      // Requested stopped, its guest runs on behind an LRM restart that never ends.
      const hw = cluster('stopped');
      const h = harness(hw, { policy, liveness: { fromRound: 0 } });
      const wd = running(hw, h);
      h.setLrm('node1', 'restart');
      h.step({ kind: 'round', index: 0 });
      for (let waited = 0; waited <= LIVENESS_BOUND; waited += 30) {
        hw.time += 30;
        takeLock(hw, agentLock('node1'), 'node1');
        hw.watchdogUpdate(wd);
        h.lrm('node1');
      }
      expect(h.checks(), policy).toEqual(expected);
    }
  });

  it('settle a stopped service once it runs nowhere, and report the time it took', () => {
    const hw = cluster('stopped');
    const h = harness(hw, { liveness: { fromRound: 0 } });
    running(hw, h);
    h.step({ kind: 'round', index: 0 });
    hw.time += 30;
    hw.setRunning('node1', 'vm:101', false);
    h.lrm('node1');
    h.checker.end(h.obs);
    expect(h.checker.report().violations).toEqual([]);
    expect(h.checker.report().liveness).toMatchObject({ applicable: true, services: 1, slowest: 30 });
  });
});
