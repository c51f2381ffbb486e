// The timing profiles as shipped (share/timing-profiles.cfg, read once) and
// the arithmetic that relates their numbers: the fence window and the
// safety inequality, the store outage a cluster rides out, and the failover
// time a node reset implies. docs/RELIABILITY.md ("Timing") derives each
// formula; `ha-manager check-timings` prints them.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { fenceWindowMs, formatDuration, parseTimingProfiles, type FenceWindow, type TimingProfile } from '../config/timing-profiles.js';
import type { MuxDeviceKind } from '../native/binding.js';
import type { CoreTiming } from './env.js';

export const TIMING_PROFILES_FILE = fileURLToPath(new URL('../../share/timing-profiles.cfg', import.meta.url));

export const TIMING_PROFILES: Readonly<Record<string, TimingProfile>> = parseTimingProfiles(
  readFileSync(TIMING_PROFILES_FILE, 'utf8'),
  TIMING_PROFILES_FILE,
);

export const DEFAULT_PROFILE_NAME = 'default';
export const DEFAULT_PROFILE: TimingProfile = TIMING_PROFILES[DEFAULT_PROFILE_NAME];

export function profileNames(): string[] {
  return Object.keys(TIMING_PROFILES);
}

/** The named profile; throws naming the known ones. */
export function timingProfile(name: string): TimingProfile {
  if (!Object.hasOwn(TIMING_PROFILES, name)) {
    throw new Error(`unknown timing profile '${name}' (known: ${profileNames().join(', ')})`);
  }
  return TIMING_PROFILES[name];
}

export function coreTiming(p: TimingProfile): CoreTiming {
  return {
    lrmRound: p.lrmRoundMs / 1000,
    crmRound: p.crmRoundMs / 1000,
    lockRetry: p.lockRetryMs / 1000,
    fenceDelay: p.fenceDelayMs / 1000,
  };
}

/** After a successful renewal, how long feeding the watchdog stays allowed. */
export function feedSlackMs(p: TimingProfile): number {
  return p.lockLifetimeMs - fenceWindowMs(p);
}

/**
 * The longest store outage that resets no node: the last feed came up to
 * one LRM round before the outage; after it, a lock call in flight may take
 * the store timeout to fail and the next attempt comes one retry interval
 * later. The renewal (and feed) must land within the client timeout.
 */
export function outageWithoutResetMs(p: TimingProfile): number {
  return p.clientTimeoutMs - p.lrmRoundMs - p.lockRetryMs - p.storeTimeoutMs;
}

/**
 * The longest store outage that fences no node: the master sees the node
 * offline a heartbeat timeout after its last beat (up to one LRM round before
 * the outage) and fences a fence delay after the last round that saw it
 * online; the node's first beat after the outage may take a failed call, a
 * retry and a round, and the master must see it in its next round.
 */
export function outageWithoutFenceMs(p: TimingProfile): number {
  return p.heartbeatTimeoutMs + p.fenceDelayMs - 2 * p.lrmRoundMs - p.storeTimeoutMs - p.lockRetryMs - 2 * p.crmRoundMs;
}

/**
 * How often, between rounds, a master whose fence waits for a node's agent
 * lock tries it again, and an LRM looks for newly assigned work (the
 * daemons' safe policy, HaEnv.sleepUntilRoundEnd): one second of the cluster's time.
 */
export const WAKE_LOOK_MS = 1000;

/**
 * Worst failover after the reset of a node that is not the master, from the
 * last moment its service ran to the recovered one being started (plus the
 * service's own start time), for the real daemons: the master fences the
 * node once the fence delay has passed and takes its agent lock at its
 * first look after the lease ran out, recovering the service at once; the
 * target's LRM starts it at its next look (docs/RELIABILITY.md, "Timing").
 */
export function worstFailoverMs(p: TimingProfile): number {
  const fenced = p.heartbeatTimeoutMs + p.crmRoundMs + p.fenceDelayMs;
  return Math.max(p.lockLifetimeMs + WAKE_LOOK_MS, fenced) + WAKE_LOOK_MS;
}

/**
 * The same when the reset node was the master: a slave takes the manager
 * lock once it expired (its attempts are a second apart) and, as a new
 * master, counts the fence delay from the node's last heartbeat plus the
 * heartbeat timeout — where the store keeps heartbeat stamps; on pmxcfs
 * (`heartbeatStamps` false) it waits a full fence delay from its first
 * round.
 */
export function worstMasterFailoverMs(p: TimingProfile, heartbeatStamps = true): number {
  const takeover = Math.max(p.lockLifetimeMs, p.heartbeatTimeoutMs) + 1000;
  const due = heartbeatStamps ? p.heartbeatTimeoutMs + p.fenceDelayMs : takeover + p.fenceDelayMs;
  return Math.max(takeover, due + p.crmRoundMs) + WAKE_LOOK_MS;
}

/** What a running watchdog-mux reports about itself (its status answer), in its own real time. */
export interface MuxSettings {
  readonly clientTimeoutMs: number;
  readonly tickMs?: number;
  readonly deviceTimeoutMs?: number;
  /** What it feeds; absent from a mux that does not say, which counts as a real device. */
  readonly device?: MuxDeviceKind;
}

/**
 * The fence window a running mux really gives, in the cluster's time, with
 * the profile's margin; or why it cannot be known (a mux that does not
 * report its tick and device timeout: an older version, or the
 * reference's). The mux counts in real time, so on a clock `timeScale`
 * times faster each of its times lasts that many times longer in the
 * cluster's time (only a simulated device may run on such a clock:
 * checkArming).
 */
function measuredFenceWindow(p: TimingProfile, mux: MuxSettings, timeScale = 1): FenceWindow | string {
  if (mux.tickMs === undefined || mux.deviceTimeoutMs === undefined) {
    return `watchdog-mux reports its client timeout (${formatDuration(mux.clientTimeoutMs)}) but not its tick and device timeout, so the fence window cannot be measured: run this project's watchdog-mux`;
  }
  const cluster = (realMs: number): number => Math.round(realMs * timeScale);
  return {
    clientTimeoutMs: cluster(mux.clientTimeoutMs),
    muxTickMs: cluster(mux.tickMs),
    deviceTimeoutMs: cluster(mux.deviceTimeoutMs),
    marginMs: p.marginMs,
  };
}

/** `client 60s + tick 1s + device 10s + margin 5s = 76s`. */
export function describeFenceWindow(w: FenceWindow): string {
  return (
    `client ${formatDuration(w.clientTimeoutMs)} + tick ${formatDuration(w.muxTickMs)} + device ${formatDuration(w.deviceTimeoutMs)} + ` +
    `margin ${formatDuration(w.marginMs)} = ${formatDuration(fenceWindowMs(w))}`
  );
}

/** The safety inequality with its slack: `window < lock lifetime` or why not. */
export function describeInequality(p: TimingProfile, w: FenceWindow): { safe: boolean; text: string } {
  const window = fenceWindowMs(w);
  const slack = p.lockLifetimeMs - window;
  return slack > 0
    ? { safe: true, text: `fence window ${describeFenceWindow(w)} < lock lifetime ${formatDuration(p.lockLifetimeMs)} (slack ${formatDuration(slack)}): safe` }
    : {
        safe: false,
        text:
          `fence window ${describeFenceWindow(w)} is not shorter than the lock lifetime ${formatDuration(p.lockLifetimeMs)}: ` +
          'a lock could expire before the watchdog has fired, so another node could recover services still running here',
      };
}

/**
 * How a running mux's settings were read into the cluster's time, as a
 * prefix of the inequality: nothing at real time; on a scaled clock, that
 * its simulated device's real-time settings were multiplied by the scale.
 */
function measuredAs(mux: MuxSettings, timeScale: number): string {
  if (timeScale === 1) return mux.device === 'simulated' ? 'simulated device (the node is not protected), ' : '';
  return (
    `simulated device on real time (client ${formatDuration(mux.clientTimeoutMs)}, tick ${formatDuration(mux.tickMs ?? 0)}, ` +
    `device ${formatDuration(mux.deviceTimeoutMs ?? 0)}) at time-scale ${timeScale}, in cluster time: `
  );
}

/** A running mux checked against the profile: the fence window it gives, in the cluster's time, or why the daemons must not arm. */
export type ArmingCheck = { readonly safe: true; readonly text: string; readonly window: FenceWindow } | { readonly safe: false; readonly text: string };

/**
 * Whether a daemon may arm its watchdog with this profile and mux, with the
 * numbers either way. A real device runs on real time: on a scaled clock
 * the lock lifetime shrinks and its fence window does not, so it is refused
 * there. A simulated device (the cluster lab's) is checked in the cluster's
 * time: its real-time window times the scale, plus the profile's margin,
 * must end before the lock lifetime. A mux that does not report its
 * settings, or (on a scaled clock) what it feeds, counts as unsafe.
 */
export function checkArming(p: TimingProfile, mux: MuxSettings, timeScale: number): ArmingCheck {
  if (timeScale !== 1 && mux.device !== 'simulated') {
    return {
      safe: false,
      text:
        `the cluster runs at time-scale ${timeScale}, so its ${formatDuration(p.lockLifetimeMs)} lock lifetime lasts ` +
        `${formatDuration(Math.round(p.lockLifetimeMs / timeScale))} of real time, but watchdog-mux ` +
        `${mux.device === 'real' ? 'feeds a real watchdog device' : 'does not say that its device is simulated'}, which resets the node ` +
        `on real time (client timeout ${formatDuration(mux.clientTimeoutMs)}): a scaled cluster must run with --no-watchdog, ` +
        'or with watchdog-mux --fake-device (the cluster lab)',
    };
  }
  const window = measuredFenceWindow(p, mux, timeScale);
  if (typeof window === 'string') return { safe: false, text: window };
  const { safe, text } = describeInequality(p, window);
  const measured = `${measuredAs(mux, timeScale)}${text}`;
  return safe ? { safe, text: measured, window } : { safe, text: measured };
}
