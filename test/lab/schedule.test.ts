// The lab's plan: a seed gives the same schedule everywhere, planned
// outages never overlap, and the watchdog-mux timing follows the profile
// (on a scaled clock, a window the daemons' arming check accepts: the
// profile's, in cluster time).

import { describe, expect, it } from 'vitest';

import { runOptionsFrom } from '../../src/lab/main.js';
import { parseSeed } from '../../src/lab/random.js';
import { FAULT_KINDS, minimumDurationS, parseFaults, planSchedule, quietPhaseS, rebootDelayS, type ScheduleOptions } from '../../src/lab/schedule.js';
import { fenceWindowMs } from '../../src/config/timing-profiles.js';
import { checkArming, DEFAULT_PROFILE, timingProfile } from '../../src/env/timing.js';
import { maxTimeScale, muxArgsFor, muxWindowS, scaledMuxTiming } from '../../src/lab/timing.js';

const base: ScheduleOptions = {
  seed: 1,
  nodes: ['node1', 'node2', 'node3'],
  etcdMembers: 3,
  faults: FAULT_KINDS,
  durationS: 4000,
  lockLifetimeS: 120,
  muxWindowS: 71,
};

describe('fault schedule', () => {
  it('is the same for the same seed and differs between seeds', () => {
    expect(planSchedule(base)).toEqual(planSchedule({ ...base }));
    expect(JSON.stringify(planSchedule(base).faults)).not.toBe(JSON.stringify(planSchedule({ ...base, seed: 2 }).faults));
    expect(rebootDelayS(5, 3, 120)).toBe(rebootDelayS(5, 3, 120));
  });

  it('keeps each planned outage clear of the next fault, and everything inside the fault phase', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const schedule = planSchedule({ ...base, seed });
      expect(schedule.quietS).toBe(quietPhaseS(120, 71));
      expect(schedule.faultPhaseS).toBe(4000 - schedule.quietS);
      let previousEnd = 0;
      for (const fault of schedule.faults) {
        expect(fault.atS).toBeGreaterThanOrEqual(previousEnd);
        const reboot = 2 * 120;
        const hold = fault.holdS ?? 0;
        const outage = {
          kill: reboot,
          pause: Math.max(hold, 71) + reboot,
          'restart-lrm': 30,
          master: 71 + reboot,
          partition: Math.max(hold, 71) + reboot,
          'etcd-member': hold,
          'etcd-leader': hold,
        }[fault.kind];
        previousEnd = fault.atS + outage;
        expect(previousEnd).toBeLessThanOrEqual(schedule.faultPhaseS);
        if (['kill', 'pause', 'restart-lrm', 'partition'].includes(fault.kind)) expect(base.nodes).toContain(fault.node);
        if (fault.kind === 'etcd-member') expect([0, 1, 2]).toContain(fault.member);
      }
    }
  });

  it('uses only the faults asked for, and leaves room for one of them in the minimum duration', () => {
    const faults = parseFaults('kill, restart-lrm,kill');
    expect(faults).toEqual(['kill', 'restart-lrm']);
    const minimum = minimumDurationS({ faults, lockLifetimeS: 120, muxWindowS: 71 });
    for (let seed = 1; seed <= 30; seed++) {
      const schedule = planSchedule({ ...base, seed, faults, durationS: minimum });
      expect(schedule.faults.length).toBeGreaterThan(0);
      expect(schedule.faults.every((f) => faults.includes(f.kind))).toBe(true);
    }
    expect(planSchedule({ ...base, faults: [] }).faults).toEqual([]);
    expect(() => parseFaults('kill,crash')).toThrow(/invalid fault 'crash'/);
  });

  it('refuses options the lab cannot honour, naming what would work', () => {
    const flags = { nodes: 3, store: 'dir' as const, services: 3, timeScale: 20, profile: 'default', json: false, keep: false, watchdog: true };
    expect(() => runOptionsFrom({ ...flags, faults: ['partition'] })).toThrow(/partition need --store etcd/);
    expect(() => runOptionsFrom({ ...flags, timeScale: 40 })).toThrow(/at most 20/);
    expect(() => runOptionsFrom({ ...flags, faults: ['kill'], duration: 100 })).toThrow(/at least \d+/);
    expect(() => runOptionsFrom({ ...flags, profile: 'slow' })).toThrow(/default, fast/);
    expect(() => runOptionsFrom({ ...flags, scripts: '/nonexistent' })).toThrow(/missing script/);
    expect(runOptionsFrom({ ...flags, seed: 7 })).toMatchObject({ seed: 7, faults: ['kill', 'pause', 'restart-lrm', 'master'] });
    expect(() => parseSeed('-1')).toThrow(/whole number/);
  });
});

describe('lab timing', () => {
  const FAST = timingProfile('fast');

  it('starts watchdog-mux with the profile itself at real time', () => {
    expect(muxArgsFor(DEFAULT_PROFILE, 1)).toEqual(['--profile', 'default']);
    expect(muxArgsFor(FAST, 1)).toEqual(['--profile', 'fast']);
    expect(muxWindowS(DEFAULT_PROFILE)).toBe(71);
    expect(muxWindowS(FAST)).toBe(13.75);
  });

  it('shrinks the whole fence window with the time scale, the device keeping its 2 s minimum', () => {
    const t = scaledMuxTiming(DEFAULT_PROFILE, 10);
    expect(t).toEqual({ clientTimeoutMs: 5000, tickMs: 100, deviceTimeoutS: 2 });
    expect(t.clientTimeoutMs + t.tickMs + t.deviceTimeoutS * 1000).toBe(71_000 / 10);
    expect(muxArgsFor(DEFAULT_PROFILE, 10)).toEqual(['--client-timeout-ms', '5000', '--tick-ms', '100', '--timeout', '2']);
    expect(maxTimeScale(DEFAULT_PROFILE)).toBe(20);
    expect(() => scaledMuxTiming(DEFAULT_PROFILE, 21)).toThrow(/at most 20/);
    // fast's device is already at the minimum: little room to scale
    expect(maxTimeScale(FAST)).toBe(3);
  });

  it('gives a mux that the daemons accept on the scaled clock, with the profile\'s window in cluster time at most', () => {
    for (const profile of [DEFAULT_PROFILE, FAST]) {
      for (let scale = 1; scale <= maxTimeScale(profile); scale++) {
        const t = scaledMuxTiming(profile, scale);
        const mux = { clientTimeoutMs: t.clientTimeoutMs, tickMs: t.tickMs, deviceTimeoutMs: t.deviceTimeoutS * 1000, device: 'simulated' as const };
        const check = checkArming(profile, mux, scale);
        expect(check.safe, `${profile.name} at ${scale}x: ${check.text}`).toBe(true);
        if (check.safe) expect(fenceWindowMs(check.window)).toBeLessThanOrEqual(fenceWindowMs(profile));
      }
    }
  });

  it('refuses a scale only when a watchdog-mux would run', () => {
    const flags = { nodes: 3, store: 'dir' as const, services: 3, timeScale: 10, profile: 'fast', json: false, keep: false, watchdog: true };
    expect(() => runOptionsFrom(flags)).toThrow(/too fast for profile fast.*at most 3/);
    expect(runOptionsFrom({ ...flags, watchdog: false }).profile).toBe(FAST);
  });
});
