// The arming check (src/env/timing.ts checkArming): a running watchdog-mux
// measured against the cluster's profile. At real time its fence window
// must end before the lock lifetime. On a scaled clock a real device is
// refused outright (it resets on real time while the lock shrinks), and a
// simulated one is judged in cluster time: its real-time window times the
// scale, plus the profile's margin.

import { describe, expect, it } from 'vitest';

import { fenceWindowMs } from '../../src/config/timing-profiles.js';
import { checkArming, DEFAULT_PROFILE, timingProfile, type MuxSettings } from '../../src/env/timing.js';

const FAST = timingProfile('fast');

/** What `watchdog-mux --profile default` reports. */
const DEFAULT_MUX: MuxSettings = { clientTimeoutMs: 60_000, tickMs: 1_000, deviceTimeoutMs: 10_000 };

describe('checkArming at real time', () => {
  it('passes a mux with the profile\'s settings, real or simulated, with its window', () => {
    const real = checkArming(DEFAULT_PROFILE, { ...DEFAULT_MUX, device: 'real' }, 1);
    expect(real).toEqual({
      safe: true,
      text: 'fence window client 60s + tick 1s + device 10s + margin 5s = 76s < lock lifetime 120s (slack 44s): safe',
      window: { clientTimeoutMs: 60_000, muxTickMs: 1_000, deviceTimeoutMs: 10_000, marginMs: 5_000 },
    });
    const simulated = checkArming(DEFAULT_PROFILE, { ...DEFAULT_MUX, device: 'simulated' }, 1);
    expect(simulated.safe).toBe(true);
    expect(simulated.text).toBe(`simulated device (the node is not protected), ${real.text}`);
  });

  it('refuses a window that does not end before the lock lifetime, naming the numbers', () => {
    const check = checkArming(FAST, { clientTimeoutMs: 14_000, tickMs: 250, deviceTimeoutMs: 2_000, device: 'real' }, 1);
    expect(check).toEqual({
      safe: false,
      text:
        'fence window client 14s + tick 250ms + device 2s + margin 1s = 17250ms is not shorter than the lock lifetime 16s: ' +
        'a lock could expire before the watchdog has fired, so another node could recover services still running here',
    });
  });

  it('refuses a mux that does not report its tick and device timeout', () => {
    const check = checkArming(DEFAULT_PROFILE, { clientTimeoutMs: 60_000 }, 1);
    expect(check.safe).toBe(false);
    expect(check.text).toContain('the fence window cannot be measured');
  });
});

describe('checkArming on a scaled clock', () => {
  it('refuses a real device whatever its settings', () => {
    const check = checkArming(DEFAULT_PROFILE, { clientTimeoutMs: 5_000, tickMs: 100, deviceTimeoutMs: 2_000, device: 'real' }, 10);
    expect(check).toEqual({
      safe: false,
      text:
        'the cluster runs at time-scale 10, so its 120s lock lifetime lasts 12s of real time, but watchdog-mux feeds a real ' +
        'watchdog device, which resets the node on real time (client timeout 5s): a scaled cluster must run with --no-watchdog, ' +
        'or with watchdog-mux --fake-device (the cluster lab)',
    });
  });

  it('refuses a mux that does not say what it feeds (an older one): it may be real', () => {
    const check = checkArming(DEFAULT_PROFILE, { clientTimeoutMs: 5_000, tickMs: 100, deviceTimeoutMs: 2_000 }, 10);
    expect(check.safe).toBe(false);
    expect(check.text).toContain('but watchdog-mux does not say that its device is simulated, which resets the node on real time');
  });

  it('measures a simulated device in cluster time: real-time window × scale, plus the profile\'s margin', () => {
    // The lab's default profile at 10x: 71 s of mux window shrunk to 7.1 s real.
    const check = checkArming(DEFAULT_PROFILE, { clientTimeoutMs: 5_000, tickMs: 100, deviceTimeoutMs: 2_000, device: 'simulated' }, 10);
    expect(check).toEqual({
      safe: true,
      text:
        'simulated device on real time (client 5s, tick 100ms, device 2s) at time-scale 10, in cluster time: ' +
        'fence window client 50s + tick 1s + device 20s + margin 5s = 76s < lock lifetime 120s (slack 44s): safe',
      window: { clientTimeoutMs: 50_000, muxTickMs: 1_000, deviceTimeoutMs: 20_000, marginMs: 5_000 },
    });
    if (check.safe) expect(fenceWindowMs(check.window)).toBe(fenceWindowMs(DEFAULT_PROFILE));
  });

  it('refuses a simulated device whose window, scaled, outlasts the lock', () => {
    // The profile's own real-time mux on a 10x clock: 71 s real is 710 s of cluster time.
    const check = checkArming(DEFAULT_PROFILE, { ...DEFAULT_MUX, device: 'simulated' }, 10);
    expect(check).toEqual({
      safe: false,
      text:
        'simulated device on real time (client 60s, tick 1s, device 10s) at time-scale 10, in cluster time: ' +
        'fence window client 600s + tick 10s + device 100s + margin 5s = 715s is not shorter than the lock lifetime 120s: ' +
        'a lock could expire before the watchdog has fired, so another node could recover services still running here',
    });
    // The margin counts: 15.5 s of scaled mux window ends before the 16 s lock, but not 1 s before it.
    const tight = checkArming(FAST, { clientTimeoutMs: 5_500, tickMs: 250, deviceTimeoutMs: 2_000, device: 'simulated' }, 2);
    expect(tight.safe).toBe(false);
    expect(tight.text).toContain('fence window client 11s + tick 500ms + device 4s + margin 1s = 16500ms is not shorter than the lock lifetime 16s');
  });
});
