// ha/timing.cfg: the cluster's timing profile and clock.

import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/config/issues.js';
import { parseTimingConfig, writeTimingConfig, type TimingConfig } from '../../src/config/timing-config.js';

const PROFILES = ['default', 'fast'];

function issuesOf(text: string): string[] {
  try {
    parseTimingConfig(text, 'ha/timing.cfg', PROFILES);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

describe('timing.cfg', () => {
  it.each<[string, TimingConfig]>([
    ['profile: default\n', { profile: 'default', timeScale: 1 }],
    ['profile: fast\n', { profile: 'fast', timeScale: 1 }],
    ['profile: default\ntime-scale: 20\nepoch: 1712345678901\n', { profile: 'default', timeScale: 20, epochMs: 1712345678901 }],
    ['profile: fast\ntime-scale: 2.5\nepoch: 0\n', { profile: 'fast', timeScale: 2.5, epochMs: 0 }],
  ])('round-trips %j', (text, config) => {
    expect(parseTimingConfig(text, 'ha/timing.cfg', PROFILES)).toEqual(config);
    expect(writeTimingConfig(config)).toBe(text);
  });

  it('reads an absent profile as default, comments and blank lines as nothing', () => {
    expect(parseTimingConfig('# a test cluster\n\ntime-scale: 10\nepoch: 5\n', 'f', PROFILES)).toEqual({ profile: 'default', timeScale: 10, epochMs: 5 });
  });

  it('names file, line and field of every problem', () => {
    expect(issuesOf('profile: slow\ntime-scale: fast\nepoch: -1\nbogus: 1\nprofile: fast\nnonsense\n')).toEqual([
      "ha/timing.cfg line 4, field 'bogus': unknown key (expected one of profile, time-scale, epoch)",
      "ha/timing.cfg line 5, field 'profile': set twice",
      "ha/timing.cfg line 6: expected '<key>: <value>', got 'nonsense'",
      "ha/timing.cfg line 1, field 'profile': unknown profile 'slow' (known: default, fast)",
      "ha/timing.cfg line 2, field 'time-scale': 'fast' is not a positive number",
      "ha/timing.cfg line 3, field 'epoch': '-1' is not a whole number of milliseconds",
    ]);
  });

  it('needs an epoch with a time scale', () => {
    expect(issuesOf('time-scale: 20\n')).toEqual([
      "ha/timing.cfg line 1, field 'epoch': a time scale needs an epoch, so every process computes the same time",
    ]);
    expect(issuesOf('time-scale: 0\nepoch: 1\n')).toEqual(["ha/timing.cfg line 1, field 'time-scale': '0' is not a positive number"]);
  });
});
