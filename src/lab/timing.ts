// The timing the lab runs a cluster with. The numbers are the timing
// profiles' (share/timing-profiles.cfg through src/env/timing.ts), the same
// the daemons read from the cluster's ha/timing.cfg; what the lab adds is
// watchdog-mux's settings on a scaled clock, where the mux (on real time,
// with a simulated device) must give a fence window that, counted in
// cluster time, is still the profile's — the daemons check exactly that
// before they arm (checkArming, docs/RELIABILITY.md "Timing").

import type { TimingProfile } from '../config/timing-profiles.js';

/** watchdog-mux settings, in real time. */
export interface MuxTiming {
  /** A client silent this long is dead (`--client-timeout-ms`). */
  readonly clientTimeoutMs: number;
  /** Keep-alive interval (`--tick-ms`). */
  readonly tickMs: number;
  /** The device resets this long after its last keep-alive (`--timeout`, whole seconds). */
  readonly deviceTimeoutS: number;
}

/** From the last feed by a daemon to the node's reset, in cluster seconds: client timeout, tick, device timeout. */
export function muxWindowS(profile: TimingProfile): number {
  return (profile.clientTimeoutMs + profile.muxTickMs + profile.deviceTimeoutMs) / 1000;
}

/** watchdog-mux rounds its device timeout to whole seconds and needs at least this much. */
const MUX_MIN_DEVICE_TIMEOUT_S = 2;
const MUX_MIN_TICK_MS = 10;

/**
 * The mux settings for a cluster whose clock runs `timeScale` times faster:
 * the whole window from a daemon's last feed to the reset shrinks by the
 * scale, as the daemons' lock leases do, so that in cluster time it stays
 * the profile's (never longer: the parts are rounded so their sum does not
 * grow). The device timeout cannot go below 2 whole seconds, so at high
 * scales the client timeout gives up what the device cannot; past the point
 * where a client would get less than half its scaled timeout the scale
 * does not fit (feeding could not keep up).
 */
function shrunk(profile: TimingProfile, timeScale: number): { mux: MuxTiming; windowMs: number; neededMs: number; fits: boolean } {
  const deviceS = profile.deviceTimeoutMs / 1000;
  if (timeScale === 1) {
    const mux = { clientTimeoutMs: profile.clientTimeoutMs, tickMs: profile.muxTickMs, deviceTimeoutS: deviceS };
    return { mux, windowMs: muxWindowS(profile) * 1000, neededMs: 0, fits: true };
  }
  const tickMs = Math.max(MUX_MIN_TICK_MS, Math.round(profile.muxTickMs / timeScale));
  const deviceTimeoutS = Math.max(MUX_MIN_DEVICE_TIMEOUT_S, Math.ceil(deviceS / timeScale));
  const windowMs = (muxWindowS(profile) * 1000) / timeScale;
  const clientTimeoutMs = Math.floor(windowMs - tickMs - deviceTimeoutS * 1000);
  const neededMs = profile.clientTimeoutMs / timeScale / 2;
  return { mux: { clientTimeoutMs, tickMs, deviceTimeoutS }, windowMs, neededMs, fits: clientTimeoutMs >= neededMs };
}

/** The mux settings for a clock `timeScale` times faster (see shrunk); throws naming the largest scale that works. */
export function scaledMuxTiming(profile: TimingProfile, timeScale: number): MuxTiming {
  const { mux, windowMs, neededMs, fits } = shrunk(profile, timeScale);
  if (!fits) {
    throw new Error(
      `time scale ${timeScale} is too fast for profile ${profile.name}: the fence window of ` +
        `${Math.round(windowMs)} ms (real time) minus the watchdog device's minimum of ${MUX_MIN_DEVICE_TIMEOUT_S} s ` +
        `leaves the daemons ${Math.max(0, mux.clientTimeoutMs)} ms to feed watchdog-mux, and they need at least ` +
        `${Math.ceil(neededMs)} ms; use a time scale of at most ${maxTimeScale(profile)}`,
    );
  }
  return mux;
}

/** The largest whole time scale scaledMuxTiming accepts for the profile. */
export function maxTimeScale(profile: TimingProfile): number {
  let scale = 1;
  while (shrunk(profile, scale + 1).fits) scale++;
  return scale;
}

/**
 * watchdog-mux's timing arguments: at real time the profile itself
 * (`--profile NAME`, as an operator starts it); on a faster clock the
 * profile's numbers scaled (scaledMuxTiming).
 */
export function muxArgsFor(profile: TimingProfile, timeScale: number): string[] {
  if (timeScale === 1) return ['--profile', profile.name];
  const mux = scaledMuxTiming(profile, timeScale);
  return ['--client-timeout-ms', String(mux.clientTimeoutMs), '--tick-ms', String(mux.tickMs), '--timeout', String(mux.deviceTimeoutS)];
}
