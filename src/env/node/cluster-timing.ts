// Opening the cluster store on the cluster's own timing. ha/timing.cfg in
// the store says which timing profile the cluster runs and, for test and
// demonstration clusters, its clock scale and epoch; every daemon and
// ha-manager reads it before anything else, so they all time locks,
// heartbeats and rounds alike. The store is first opened plainly to read
// the file, then again with the options the timing asks for (lock lifetime,
// heartbeat timeout, etcd lease lengths and call timeout, the scaled clock).

import { errorText } from '../../core/errors.js';
import { DEFAULT_TIMING_CONFIG, parseTimingConfig, writeTimingConfig, type TimingConfig } from '../../config/timing-config.js';
import type { TimingProfile } from '../../config/timing-profiles.js';
import { profileNames, timingProfile } from '../timing.js';
import { createClock, type Clock } from './clock.js';
import { PATHS } from './layout.js';
import { openStore, type OpenStoreOptions } from './open-store.js';
import type { ClusterStore } from './store.js';

/** The store opened, but the cluster's timing cannot be used (a broken or disagreeing timing.cfg). */
export class ClusterTimingError extends Error {
  constructor(message: string) {
    super(`cannot use the cluster's timing: ${message}`);
    this.name = 'ClusterTimingError';
  }
}

export interface ClusterTiming {
  readonly config: TimingConfig;
  readonly profile: TimingProfile;
  /** The cluster's clock: real time, or the scaled time all its processes share. */
  readonly clock: Clock;
}

/** A daemon's `--time-scale` and `--epoch`, when given: they may only confirm the store's. */
export interface ClockFlags {
  timeScale?: number;
  epochMs?: number;
}

export interface OpenClusterOptions {
  node: string;
  env?: Readonly<Record<string, string | undefined>>;
  flags?: ClockFlags;
}

/** ha/timing.cfg as stored; the default timing when there is none. */
export async function readTimingConfig(store: ClusterStore): Promise<TimingConfig> {
  const text = await store.read(PATHS.timing);
  return text === undefined ? DEFAULT_TIMING_CONFIG : parseTimingConfig(text, PATHS.timing, profileNames());
}

function describeClock(config: TimingConfig): string {
  return config.timeScale === 1 ? 'real time' : `time-scale ${config.timeScale}, epoch ${config.epochMs}`;
}

/**
 * The timing a process with these flags runs on, given what the store says
 * (undefined: no timing.cfg). Flags that disagree with the store are an
 * error; flags alone, with no file, describe a new scaled cluster.
 */
export function settleClockFlags(stored: TimingConfig | undefined, flags: ClockFlags): TimingConfig {
  const base = stored ?? DEFAULT_TIMING_CONFIG;
  const timeScale = flags.timeScale ?? base.timeScale;
  const epochMs = timeScale === 1 ? undefined : (flags.epochMs ?? base.epochMs);
  if (timeScale !== 1 && epochMs === undefined) {
    throw new Error(`--time-scale ${timeScale} needs --epoch <ms>: every process of a cluster must compute the same time`);
  }
  const wanted: TimingConfig = epochMs === undefined ? { profile: base.profile, timeScale } : { profile: base.profile, timeScale, epochMs };
  if (stored !== undefined && (wanted.timeScale !== stored.timeScale || wanted.epochMs !== stored.epochMs)) {
    throw new Error(
      `the clock flags (${describeClock(wanted)}) disagree with the cluster's ${PATHS.timing} (${describeClock(stored)}): ` +
        `every node runs on the cluster's clock; drop the flags or change the file (ha-manager timing set ...)`,
    );
  }
  return wanted;
}

/** Why this store cannot run this timing, if it cannot. */
export function storeTimingProblem(store: ClusterStore, config: TimingConfig): string | undefined {
  if ((store as { mode?: string }).mode !== 'pmxcfs') return undefined;
  if (config.profile !== 'default') {
    return `${PATHS.timing} asks for timing profile '${config.profile}', but ${store.description} fixes the lock lifetime at 120 s: only the 'default' profile works on pmxcfs`;
  }
  if (config.timeScale !== 1) {
    return `${PATHS.timing} asks for time-scale ${config.timeScale}, but ${store.description} times its locks in real time: pmxcfs runs at time-scale 1 only`;
  }
  return undefined;
}

/** The store options that make a store keep the profile's times on the cluster's clock. */
export function storeTimingOptions(profile: TimingProfile, config: TimingConfig, clock: Clock): OpenStoreOptions {
  // etcd leases run in real, whole seconds; rounding up keeps a lock at
  // least as long as the lease the holder computes.
  const realSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000 / config.timeScale));
  return {
    clock: clock.millis,
    lockLifetimeMs: profile.lockLifetimeMs,
    profileName: profile.name,
    heartbeatTimeoutMs: profile.heartbeatTimeoutMs,
    lockTtlSeconds: realSeconds(profile.lockLifetimeMs),
    aliveTtlSeconds: realSeconds(profile.heartbeatTimeoutMs),
    timeoutMs: profile.storeTimeoutMs,
    // A directory store's wait for exclusive access is its store call: bounded
    // alike, so a holder stopped inside a guard (a paused daemon) cannot stall
    // a round beyond what the timing allows for one call.
    waitTimeoutMs: profile.storeTimeoutMs,
  };
}

/**
 * Opens the store `spec` names on the cluster's timing. With clock flags
 * (a daemon's), a cluster that has no timing.cfg yet gets one recording
 * them, so ha-manager and every later daemon read the same clock.
 */
export async function openClusterStore(
  spec: string | undefined,
  options: OpenClusterOptions,
): Promise<{ store: ClusterStore; timing: ClusterTiming }> {
  const plain = await openStore(spec, { node: options.node, ...(options.env ? { env: options.env } : {}) });
  let config: TimingConfig;
  try {
    const text = await plain.read(PATHS.timing);
    let stored = text === undefined ? undefined : parseTimingConfig(text, PATHS.timing, profileNames());
    config = stored ?? DEFAULT_TIMING_CONFIG;
    const flags = options.flags ?? {};
    if (flags.timeScale !== undefined || flags.epochMs !== undefined) {
      config = settleClockFlags(stored, flags);
      if (stored === undefined && config.timeScale !== 1) {
        // The first daemon records the cluster's clock; a concurrent one may have been first.
        const written = await plain.update(PATHS.timing, (current) => current ?? writeTimingConfig(config));
        stored = parseTimingConfig(written ?? '', PATHS.timing, profileNames());
        config = settleClockFlags(stored, flags);
      }
    }
    const problem = storeTimingProblem(plain, config);
    if (problem !== undefined) throw new Error(problem);
  } catch (err) {
    await plain.close().catch(() => undefined);
    throw new ClusterTimingError(errorText(err));
  }
  await plain.close();

  const profile = timingProfile(config.profile);
  const clock = createClock({ scale: config.timeScale, ...(config.epochMs !== undefined ? { epochMs: config.epochMs } : {}) });
  const store = await openStore(spec, {
    node: options.node,
    ...(options.env ? { env: options.env } : {}),
    ...storeTimingOptions(profile, config, clock),
  });
  return { store, timing: { config, profile, clock } };
}
