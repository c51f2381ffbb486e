// The timing profiles: the shipped file, its parser and writer, the Rust
// side's reading of the same file, and the arithmetic the profiles promise
// (docs/RELIABILITY.md, "Timing").

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/config/issues.js';
import {
  fenceWindowMs,
  parseDuration,
  parseTimingProfiles,
  safetyProblem,
  writeTimingProfiles,
} from '../../src/config/timing-profiles.js';
import {
  DEFAULT_PROFILE,
  feedSlackMs,
  outageWithoutFenceMs,
  outageWithoutResetMs,
  TIMING_PROFILES,
  TIMING_PROFILES_FILE,
  timingProfile,
  worstFailoverMs,
  worstMasterFailoverMs,
} from '../../src/env/timing.js';
import { loadNative } from '../../src/native/loader.js';

const FAST = timingProfile('fast');

const BODY = [
  '\tclient-timeout 60s',
  '\tmux-tick 1s',
  '\tdevice-timeout 10s',
  '\tmargin 5s',
  '\tlrm-round 10s',
  '\tcrm-round 10s',
  '\tlock-retry 5s',
  '\tstore-timeout 5s',
  '\theartbeat-timeout 30s',
  '\tfence-delay 60s',
].join('\n');

function issuesOf(text: string): string[] {
  try {
    parseTimingProfiles(text, 't.cfg');
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

describe('the shipped profiles', () => {
  it('default has the reference numbers', () => {
    expect(DEFAULT_PROFILE).toEqual({
      name: 'default',
      lockLifetimeMs: 120_000,
      clientTimeoutMs: 60_000,
      muxTickMs: 1_000,
      deviceTimeoutMs: 10_000,
      marginMs: 5_000,
      lrmRoundMs: 10_000,
      crmRoundMs: 10_000,
      lockRetryMs: 5_000,
      storeTimeoutMs: 5_000,
      heartbeatTimeoutMs: 30_000,
      fenceDelayMs: 60_000,
    });
    expect(fenceWindowMs(DEFAULT_PROFILE)).toBe(76_000);
  });

  it('fast keeps a lock alive until the watchdog has fired (safety)', () => {
    expect(safetyProblem(FAST)).toBeUndefined();
    expect(fenceWindowMs(FAST)).toBeLessThan(FAST.lockLifetimeMs);
    // A renewal that succeeds within the store timeout still leaves time to feed.
    expect(feedSlackMs(FAST)).toBeGreaterThan(FAST.storeTimeoutMs);
    // etcd leases are whole seconds.
    expect(FAST.lockLifetimeMs % 1000).toBe(0);
  });

  it('fast rides out a store outage of half the lock lifetime (liveness)', () => {
    expect(outageWithoutResetMs(FAST)).toBeGreaterThanOrEqual(FAST.lockLifetimeMs / 2);
    expect(outageWithoutFenceMs(FAST)).toBeGreaterThanOrEqual(FAST.lockLifetimeMs / 2);
  });

  it('fast fails over within 18 s, the reset node master or not; default within 130 s, except on pmxcfs', () => {
    expect(worstFailoverMs(FAST)).toBe(18_000);
    expect(worstMasterFailoverMs(FAST)).toBe(18_000);
    expect(worstFailoverMs(DEFAULT_PROFILE)).toBe(122_000);
    expect(worstMasterFailoverMs(DEFAULT_PROFILE)).toBe(122_000);
    // pmxcfs keeps no heartbeat stamps: a new master waits a full fence delay.
    expect(worstMasterFailoverMs(DEFAULT_PROFILE, false)).toBe(192_000);
  });

  it('the default profile is what the reference tolerates: outages up to 40 s', () => {
    expect(outageWithoutResetMs(DEFAULT_PROFILE)).toBe(40_000);
    expect(outageWithoutFenceMs(DEFAULT_PROFILE)).toBe(40_000);
  });

  it('an unknown profile name is an error naming the known ones', () => {
    expect(() => timingProfile('slow')).toThrow("unknown timing profile 'slow' (known: default, fast)");
  });

  const native = loadNative().binding;
  const skipReason = 'SKIPPED: the native addon is not built (run `npm run build:native`)';
  if (native === undefined) {
    if (process.env.HA_REQUIRE_NATIVE === '1') throw new Error(`HA_REQUIRE_NATIVE=1: ${skipReason}`);
    console.warn(`timing profiles, Rust agreement: ${skipReason}`);
  }
  it.skipIf(native === undefined)('the Rust crates read the same numbers', () => {
    expect(native?.timingProfiles()).toEqual(Object.values(TIMING_PROFILES));
  });
});

describe('the profiles file format', () => {
  it('round-trips through the writer', () => {
    const text = readFileSync(TIMING_PROFILES_FILE, 'utf8');
    const parsed = parseTimingProfiles(text, TIMING_PROFILES_FILE);
    const written = writeTimingProfiles(parsed);
    expect(parseTimingProfiles(written, 'written')).toEqual(parsed);
    expect(writeTimingProfiles(parseTimingProfiles(written, 'written'))).toBe(written);
    expect(written).toContain('\tmux-tick 250ms\n');
  });

  it('reads durations in s and ms', () => {
    expect(parseDuration('120s')).toBe(120_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1_500);
    for (const bad of ['120', '0s', '-1s', '1.5ms', 's', '.5s', '1e3ms']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('refuses an unsafe profile, naming the numbers', () => {
    expect(issuesOf(`profile: default\n\tlock-lifetime 70s\n${BODY}\n`)).toEqual([
      "t.cfg line 1: profile 'default' is unsafe: fence window 76s (client 60s + tick 1s + device 10s + margin 5s) " +
        "is not shorter than the lock lifetime 70s: a lock could expire before the holder's watchdog has fired",
    ]);
  });

  it('names file, line and field of every problem', () => {
    expect(issuesOf(`profile: default\n\tlock-lifetime 120.5s\n${BODY}\n\tbogus 1s\n\tmargin 1s\n\tmux-tick soon\nstray\n`)).toEqual([
      "t.cfg line 2, field 'lock-lifetime': '120.5s' must be whole seconds",
      "t.cfg line 13, field 'bogus': unknown key (expected one of lock-lifetime, client-timeout, mux-tick, device-timeout, " +
        'margin, lrm-round, crm-round, lock-retry, store-timeout, heartbeat-timeout, fence-delay)',
      "t.cfg line 14, field 'margin': set twice in profile 'default'",
      "t.cfg line 15, field 'mux-tick': set twice in profile 'default'",
      "t.cfg line 16: expected 'profile: <name>' or an indented '<key> <duration>', got 'stray'",
      "t.cfg line 1: profile 'default' lacks lock-lifetime",
    ]);
  });

  it('needs a default profile', () => {
    expect(issuesOf(`profile: other\n\tlock-lifetime 120s\n${BODY}\n`)).toEqual(["t.cfg: no 'default' profile"]);
  });
});
