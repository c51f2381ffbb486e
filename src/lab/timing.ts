// The timing the lab runs a cluster with (contract 1 in the plan; docs/LAB.md):
// the profile's lock lifetime and watchdog-mux settings, the mux arguments on
// a scaled clock, and the cluster's `ha/timing.cfg`.
//
// The profile numbers live in muxTimingFor/lockLifetimeFor only. Stream A
// defines the profiles for the daemons; once that lands, these two functions
// take A's numbers and `fast` stops being pending. Until then the daemons run
// the reference's timing whatever the profile says, so `fast` maps to the
// default numbers here: a mux shorter than the daemons' lock would be unsafe,
// a longer one would make the lab judge timing nobody runs.

import { DEFAULT_PROFILE } from '../env/timing.js';

const LOCK_LIFETIME_SECONDS = DEFAULT_PROFILE.lockLifetimeMs / 1000;

export const PROFILES = ['default', 'fast'] as const;
export type ProfileName = (typeof PROFILES)[number];

/** watchdog-mux settings, in real time at time scale 1. */
export interface MuxTiming {
  /** A client silent this long is dead (`--client-timeout-ms`). */
  readonly clientTimeoutMs: number;
  /** Keep-alive interval (`--tick-ms`). */
  readonly tickMs: number;
  /** The device resets this long after its last keep-alive (`--timeout`, whole seconds). */
  readonly deviceTimeoutS: number;
}

export function parseProfile(text: string): ProfileName {
  const found = PROFILES.find((p) => p === text);
  if (found === undefined) throw new Error(`invalid profile '${text}': expected one of ${PROFILES.join(', ')}`);
  return found;
}

/** Whether the daemons do not run this profile's timing yet (stream A pending). */
export function profilePending(profile: ProfileName): boolean {
  switch (profile) {
    case 'default':
      return false;
    case 'fast':
      return true;
    default: {
      const never: never = profile;
      return never;
    }
  }
}

/** The profile's watchdog-mux settings (the reference's for `default`). */
export function muxTimingFor(profile: ProfileName): MuxTiming {
  switch (profile) {
    case 'default':
    case 'fast':
      return { clientTimeoutMs: 60_000, tickMs: 1_000, deviceTimeoutS: 10 };
    default: {
      const never: never = profile;
      return never;
    }
  }
}

/** Cluster seconds a lock lives without renewal under the profile. */
export function lockLifetimeFor(profile: ProfileName): number {
  switch (profile) {
    case 'default':
    case 'fast':
      return LOCK_LIFETIME_SECONDS;
    default: {
      const never: never = profile;
      return never;
    }
  }
}

/** From the last feed by a daemon to the node's reset, in cluster seconds. */
export function muxWindowS(profile: ProfileName): number {
  const mux = muxTimingFor(profile);
  return (mux.clientTimeoutMs + mux.tickMs) / 1000 + mux.deviceTimeoutS;
}

/** watchdog-mux rounds its device timeout to whole seconds and needs at least this much. */
const MUX_MIN_DEVICE_TIMEOUT_S = 2;
const MUX_MIN_TICK_MS = 10;

/**
 * The mux settings for a cluster whose clock runs `timeScale` times faster:
 * the whole window from a daemon's last feed to the reset shrinks by the
 * scale, as the daemons' lock leases do, so the safety margin between them
 * stays what the profile has. The device timeout cannot go below 2 whole
 * seconds, so at high scales the client timeout gives up what the device
 * cannot; past the point where a client would get less than half its scaled
 * timeout the scale is refused (feeding could not keep up).
 */
export function scaledMuxTiming(profile: ProfileName, timeScale: number): MuxTiming {
  const mux = muxTimingFor(profile);
  if (timeScale === 1) return mux;
  const tickMs = Math.max(MUX_MIN_TICK_MS, Math.round(mux.tickMs / timeScale));
  const deviceTimeoutS = Math.max(MUX_MIN_DEVICE_TIMEOUT_S, Math.ceil(mux.deviceTimeoutS / timeScale));
  const windowMs = (mux.clientTimeoutMs + mux.tickMs + mux.deviceTimeoutS * 1000) / timeScale;
  const clientTimeoutMs = Math.floor(windowMs - tickMs - deviceTimeoutS * 1000);
  const needed = mux.clientTimeoutMs / timeScale / 2;
  if (clientTimeoutMs < needed) {
    throw new Error(
      `time scale ${timeScale} is too fast for profile ${profile}: the fence window of ` +
        `${Math.round(windowMs)} ms (real time) minus the watchdog device's minimum of ${MUX_MIN_DEVICE_TIMEOUT_S} s ` +
        `leaves the daemons ${Math.max(0, clientTimeoutMs)} ms to feed watchdog-mux, and they need at least ` +
        `${Math.ceil(needed)} ms; use a time scale of at most ${maxTimeScale(profile)}`,
    );
  }
  return { clientTimeoutMs, tickMs, deviceTimeoutS };
}

/** The largest whole time scale scaledMuxTiming accepts for the profile. */
export function maxTimeScale(profile: ProfileName): number {
  let scale = 1;
  for (;;) {
    try {
      scaledMuxTiming(profile, scale + 1);
    } catch {
      return scale;
    }
    scale++;
  }
}

function argsOf(mux: MuxTiming): string[] {
  return [
    '--client-timeout-ms', String(mux.clientTimeoutMs),
    '--tick-ms', String(mux.tickMs),
    '--timeout', String(mux.deviceTimeoutS),
  ];
}

/** watchdog-mux's timing arguments for the profile, on a clock `timeScale` times faster (default real time). */
export function muxArgsFor(profile: ProfileName, timeScale = 1): string[] {
  return argsOf(scaledMuxTiming(profile, timeScale));
}

export interface ClusterTiming {
  profile: ProfileName;
  timeScale: number;
  /** Real milliseconds at which the scaled clock starts (all daemons share it). */
  epochMs: number;
}

/**
 * The text of `ha/timing.cfg` (contract 1: `profile:`, and on a scaled clock
 * `time-scale:` and `epoch:`). Stream A owns the file's one parser and
 * writer (src/config/timing-config.ts); at merge this becomes a call of that
 * writer.
 */
export function timingConfigText(timing: ClusterTiming): string {
  const lines = [`profile: ${timing.profile}`];
  if (timing.timeScale !== 1) lines.push(`time-scale: ${timing.timeScale}`, `epoch: ${timing.epochMs}`);
  return `${lines.join('\n')}\n`;
}

export const TIMING_CONFIG_PATH = 'ha/timing.cfg';
