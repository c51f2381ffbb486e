// ha/timing.cfg: the cluster's timing, which every node must share, so it
// lives in the store rather than in a flag:
//
//   profile: fast
//   time-scale: 20
//   epoch: 1712345678901
//
// `profile` names a timing profile (share/timing-profiles.cfg); absent, it
// is `default`. `time-scale` and `epoch` are for test and demonstration
// clusters on a scaled clock: simulated seconds per real second, and the
// real millisecond at which scaled time starts. A scale needs an epoch, since
// every process of the cluster must compute the same time. An absent file
// means profile default at real time.

import { ConfigError, type ConfigIssue } from './issues.js';

export interface TimingConfig {
  readonly profile: string;
  /** Simulated seconds per real second; 1 is real time. */
  readonly timeScale: number;
  /** Real milliseconds at which scaled time starts; set whenever timeScale is not 1. */
  readonly epochMs?: number;
}

export const DEFAULT_TIMING_CONFIG: TimingConfig = { profile: 'default', timeScale: 1 };

const KEYS = ['profile', 'time-scale', 'epoch'] as const;

/**
 * Reads timing.cfg. `profiles` are the known profile names. Throws a
 * ConfigError naming file, line and field for every problem: a daemon must
 * not guess its cluster's timing.
 */
export function parseTimingConfig(text: string, file: string, profiles: readonly string[]): TimingConfig {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, { value: string; line: number }>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = /^([a-z-]+):\s*(\S+)$/.exec(trimmed);
    if (match === null) {
      issues.push({ file, line, message: `expected '<key>: <value>', got '${trimmed}'` });
      return;
    }
    const [, key, value] = match;
    if (!(KEYS as readonly string[]).includes(key)) {
      issues.push({ file, line, field: key, message: `unknown key (expected one of ${KEYS.join(', ')})` });
    } else if (seen.has(key)) {
      issues.push({ file, line, field: key, message: 'set twice' });
    } else {
      seen.set(key, { value, line });
    }
  });

  let profile = DEFAULT_TIMING_CONFIG.profile;
  const profileEntry = seen.get('profile');
  if (profileEntry !== undefined) {
    if (profiles.includes(profileEntry.value)) profile = profileEntry.value;
    else issues.push({ file, line: profileEntry.line, field: 'profile', message: `unknown profile '${profileEntry.value}' (known: ${profiles.join(', ')})` });
  }

  let timeScale = 1;
  const scaleEntry = seen.get('time-scale');
  if (scaleEntry !== undefined) {
    const n = Number(scaleEntry.value);
    if (/^\d+(\.\d+)?$/.test(scaleEntry.value) && n > 0) timeScale = n;
    else issues.push({ file, line: scaleEntry.line, field: 'time-scale', message: `'${scaleEntry.value}' is not a positive number` });
  }

  let epochMs: number | undefined;
  const epochEntry = seen.get('epoch');
  if (epochEntry !== undefined) {
    const n = Number(epochEntry.value);
    if (/^\d+$/.test(epochEntry.value) && Number.isSafeInteger(n)) epochMs = n;
    else issues.push({ file, line: epochEntry.line, field: 'epoch', message: `'${epochEntry.value}' is not a whole number of milliseconds` });
  }
  if (timeScale !== 1 && epochMs === undefined && scaleEntry !== undefined && issues.length === 0) {
    issues.push({ file, line: scaleEntry.line, field: 'epoch', message: 'a time scale needs an epoch, so every process computes the same time' });
  }

  if (issues.length > 0) throw new ConfigError(issues);
  return timeScale === 1 ? { profile, timeScale } : { profile, timeScale, epochMs };
}

export function writeTimingConfig(config: TimingConfig): string {
  let text = `profile: ${config.profile}\n`;
  if (config.timeScale !== 1) text += `time-scale: ${config.timeScale}\n`;
  if (config.timeScale !== 1 && config.epochMs !== undefined) text += `epoch: ${config.epochMs}\n`;
  return text;
}

/**
 * nodes/<node>/ha-timing: the timing profile a node's daemons run, which
 * their store announces with its first heartbeat, so `timing set` can tell
 * whether a change would leave live daemons on another profile:
 *
 *   profile: default
 *   lock-lifetime-ms: 120000
 */
export interface RunningTiming {
  readonly profile: string;
  readonly lockLifetimeMs: number;
}

export function writeRunningTiming(running: RunningTiming): string {
  return `profile: ${running.profile}\nlock-lifetime-ms: ${running.lockLifetimeMs}\n`;
}

/** Undefined when the text is no such record (then the node's profile is unknown). */
export function parseRunningTiming(text: string): RunningTiming | undefined {
  const profile = /^profile: (\S+)$/m.exec(text)?.[1];
  const lifetime = /^lock-lifetime-ms: (\d+)$/m.exec(text)?.[1];
  if (profile === undefined || lifetime === undefined) return undefined;
  return { profile, lockLifetimeMs: Number(lifetime) };
}
