// The timing profiles file (share/timing-profiles.cfg): the one definition of
// the HA stack's timing, shared with the Rust crates, which compile the same
// file in (crates/ha-native-core/src/timing.rs) and check it the same way.
//
//   profile: default
//   	lock-lifetime 120s
//   	mux-tick 250ms
//   	...
//
// Every profile sets every field once. A profile whose fence window does not
// end before its lock lifetime is refused: it could let a lock expire before
// the holder's watchdog has fired (docs/RELIABILITY.md, "Timing").

import { ConfigError, type ConfigIssue } from './issues.js';

export interface TimingProfile {
  readonly name: string;
  /** A cluster lock lives this long after its last renewal. */
  readonly lockLifetimeMs: number;
  /** watchdog-mux declares a silent client dead after this. */
  readonly clientTimeoutMs: number;
  /** watchdog-mux's keep-alive interval. */
  readonly muxTickMs: number;
  /** The device resets the node this long after its last keep-alive. */
  readonly deviceTimeoutMs: number;
  /** Scheduling delays and clock differences. */
  readonly marginMs: number;
  readonly lrmRoundMs: number;
  readonly crmRoundMs: number;
  /** Pause between lock attempts while a daemon waits for or has lost its lock. */
  readonly lockRetryMs: number;
  /** Longest a single store call may take: an etcd call, a directory store's wait for exclusive access. */
  readonly storeTimeoutMs: number;
  /** A node silent this long is offline. */
  readonly heartbeatTimeoutMs: number;
  /** The master fences a node that has been offline this long. */
  readonly fenceDelayMs: number;
}

type Field = Exclude<keyof TimingProfile, 'name'>;

interface FieldSpec {
  key: string;
  field: Field;
  /** The value must be whole seconds (a device, etcd or the core counts in seconds). */
  wholeSeconds: boolean;
}

/** The file's keys in the order the writer puts them. */
const FIELDS: readonly FieldSpec[] = [
  { key: 'lock-lifetime', field: 'lockLifetimeMs', wholeSeconds: true },
  { key: 'client-timeout', field: 'clientTimeoutMs', wholeSeconds: false },
  { key: 'mux-tick', field: 'muxTickMs', wholeSeconds: false },
  { key: 'device-timeout', field: 'deviceTimeoutMs', wholeSeconds: true },
  { key: 'margin', field: 'marginMs', wholeSeconds: false },
  { key: 'lrm-round', field: 'lrmRoundMs', wholeSeconds: true },
  { key: 'crm-round', field: 'crmRoundMs', wholeSeconds: true },
  { key: 'lock-retry', field: 'lockRetryMs', wholeSeconds: true },
  { key: 'store-timeout', field: 'storeTimeoutMs', wholeSeconds: false },
  { key: 'heartbeat-timeout', field: 'heartbeatTimeoutMs', wholeSeconds: true },
  { key: 'fence-delay', field: 'fenceDelayMs', wholeSeconds: true },
];

/** A profile's durations in milliseconds, by their keys in the file, in the file's order. */
export function profileDurations(p: TimingProfile): Record<string, number> {
  return Object.fromEntries(FIELDS.map((f) => [f.key, p[f.field]]));
}

const PROFILE_NAME = /^[a-z][a-z0-9-]*$/;

/** `120s`, `250ms`, `1.5s` in milliseconds; undefined when it is not a positive duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  if (match === null) return undefined;
  const ms = match[2] === 's' ? Math.round(Number(match[1]) * 1000) : Number(match[1]);
  return Number.isInteger(ms) && ms > 0 ? ms : undefined;
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The parts of the fence window: from a feed by a daemon to the node's reset. */
export type FenceWindow = Pick<TimingProfile, 'clientTimeoutMs' | 'muxTickMs' | 'deviceTimeoutMs' | 'marginMs'>;

/**
 * The fence window: watchdog-mux declares a silent client dead after the
 * client timeout, notices at its next tick, then the device resets the node
 * after its timeout; the margin covers scheduling delays and clock
 * differences. A feed at t resets the node by t + window - margin at the latest.
 */
export function fenceWindowMs(p: FenceWindow): number {
  return p.clientTimeoutMs + p.muxTickMs + p.deviceTimeoutMs + p.marginMs;
}

/** Why a profile is unsafe, or undefined when its fence window ends before its lock lifetime. */
export function safetyProblem(p: TimingProfile): string | undefined {
  const window = fenceWindowMs(p);
  if (window < p.lockLifetimeMs) return undefined;
  return (
    `fence window ${formatDuration(window)} (client ${formatDuration(p.clientTimeoutMs)} + tick ${formatDuration(p.muxTickMs)} + ` +
    `device ${formatDuration(p.deviceTimeoutMs)} + margin ${formatDuration(p.marginMs)}) is not shorter than the lock lifetime ` +
    `${formatDuration(p.lockLifetimeMs)}: a lock could expire before the holder's watchdog has fired`
  );
}

/**
 * Reads the profiles file. Throws a ConfigError naming file, line and field
 * for every problem: the timing is not something to guess.
 */
export function parseTimingProfiles(text: string, file: string): Readonly<Record<string, TimingProfile>> {
  const issues: ConfigIssue[] = [];
  const profiles: Record<string, TimingProfile> = {};
  let current: { name: string; line: number; values: Partial<Record<Field, number>> } | undefined;

  const finish = (): void => {
    if (current === undefined) return;
    const { name, line, values } = current;
    const missing = FIELDS.filter((f) => values[f.field] === undefined).map((f) => f.key);
    if (missing.length > 0) {
      issues.push({ file, line, message: `profile '${name}' lacks ${missing.join(', ')}` });
      return;
    }
    const profile = { name, ...values } as TimingProfile;
    const problem = safetyProblem(profile);
    if (problem !== undefined) {
      issues.push({ file, line, message: `profile '${name}' is unsafe: ${problem}` });
      return;
    }
    profiles[name] = profile;
  };

  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const header = /^profile:\s*(\S+)\s*$/.exec(raw);
    if (header !== null) {
      finish();
      const name = header[1];
      if (!PROFILE_NAME.test(name)) issues.push({ file, line, message: `invalid profile name '${name}' (lower-case letters, digits, '-')` });
      if (Object.hasOwn(profiles, name)) issues.push({ file, line, message: `profile '${name}' is defined twice` });
      current = { name, line, values: {} };
      return;
    }
    const entry = /^\s+(\S+)\s+(\S+)\s*$/.exec(raw);
    if (entry === null || current === undefined) {
      issues.push({ file, line, message: `expected 'profile: <name>' or an indented '<key> <duration>', got '${raw.trim()}'` });
      return;
    }
    const [, key, value] = entry;
    const spec = FIELDS.find((f) => f.key === key);
    if (spec === undefined) {
      issues.push({ file, line, field: key, message: `unknown key (expected one of ${FIELDS.map((f) => f.key).join(', ')})` });
      return;
    }
    if (current.values[spec.field] !== undefined) {
      issues.push({ file, line, field: key, message: `set twice in profile '${current.name}'` });
      return;
    }
    const ms = parseDuration(value);
    if (ms === undefined) {
      issues.push({ file, line, field: key, message: `'${value}' is not a positive duration (e.g. 120s or 250ms)` });
      return;
    }
    if (spec.wholeSeconds && ms % 1000 !== 0) {
      issues.push({ file, line, field: key, message: `'${value}' must be whole seconds` });
      return;
    }
    current.values[spec.field] = ms;
  });
  finish();
  if (!Object.hasOwn(profiles, 'default') && issues.length === 0) issues.push({ file, message: "no 'default' profile" });
  if (issues.length > 0) throw new ConfigError(issues);
  return profiles;
}

export function writeTimingProfiles(profiles: Readonly<Record<string, TimingProfile>>): string {
  return Object.values(profiles)
    .map((p) => `profile: ${p.name}\n${FIELDS.map((f) => `\t${f.key} ${formatDuration(p[f.field])}\n`).join('')}`)
    .join('\n');
}
