// The cluster's timing as administrative operations: `GET timing` describes
// the profile ha/timing.cfg names (or one asked for by name) and what its
// numbers imply, as data; `PUT timing` writes the file. `ha-manager timing
// set` and `check-timings` print these results; checking this node's
// watchdog-mux stays in the CLI, being about the node it runs on.

import {
  DEFAULT_TIMING_CONFIG,
  parseRunningTiming,
  parseTimingConfig,
  writeTimingConfig,
  type TimingConfig,
} from '../config/timing-config.js';
import { fenceWindowMs, profileDurations } from '../config/timing-profiles.js';
import { errorText } from '../core/errors.js';
import { readTimingConfig, storeTimingProblem } from '../env/node/cluster-timing.js';
import { PATHS, runningTimingPath } from '../env/node/layout.js';
import {
  describeInequality,
  outageWithoutFenceMs,
  outageWithoutResetMs,
  profileNames,
  timingProfile,
  worstFailoverMs,
  worstMasterFailoverMs,
} from '../env/timing.js';
import type { AdminContext } from './context.js';
import { AdminError, refused } from './errors.js';
import type { Infer } from './schema.js';
import type { ParamsOf } from './operations.js';

/** Where a described timing comes from: the cluster's file, or the `profile` parameter. */
export type TimingSource = typeof PATHS.timing | 'parameter';

/** A timing and what it implies; every duration in milliseconds (docs/API.md). */
export interface TimingReport {
  source: TimingSource;
  profile: string;
  /** Simulated seconds per real second; 1 is real time. */
  'time-scale': number;
  /** Real milliseconds at which scaled time starts; only when time-scale is not 1. */
  epoch?: number;
  /** The profile's durations, by their names in share/timing-profiles.cfg (lock-lifetime, client-timeout, ...). */
  durations: Record<string, number>;
  /** client-timeout + mux-tick + device-timeout + margin: from a daemon's last feed to its node's reset. */
  'fence-window': number;
  /** lock-lifetime - fence-window: how long before a lock can expire the watchdog has fired. */
  slack: number;
  /** 1 when the fence window ends before the lock lifetime. */
  safe: 0 | 1;
  /** The inequality in words, as the daemons log it. */
  inequality: string;
  /** The longest store outage that resets no node. */
  'outage-without-reset': number;
  /** The longest store outage that fences no node. */
  'outage-without-fence': number;
  /** Worst failover after a node reset, plus the service's own start time. */
  failover: number;
  /** The same when the reset node ran the master. */
  'master-failover': number;
}

/** `heartbeatStamps`: whether the store keeps them (not pmxcfs; see worstMasterFailoverMs). */
export function timingReport(config: TimingConfig, source: TimingSource, heartbeatStamps = true): TimingReport {
  const profile = timingProfile(config.profile);
  const window = fenceWindowMs(profile);
  return {
    source,
    profile: profile.name,
    'time-scale': config.timeScale,
    ...(config.epochMs !== undefined ? { epoch: config.epochMs } : {}),
    durations: profileDurations(profile),
    'fence-window': window,
    slack: profile.lockLifetimeMs - window,
    safe: window < profile.lockLifetimeMs ? 1 : 0,
    inequality: describeInequality(profile, profile).text,
    'outage-without-reset': outageWithoutResetMs(profile),
    'outage-without-fence': outageWithoutFenceMs(profile),
    failover: worstFailoverMs(profile),
    'master-failover': worstMasterFailoverMs(profile, heartbeatStamps),
  };
}

export async function readTiming(ctx: AdminContext, params: Infer<ParamsOf<'timing.read'>>): Promise<TimingReport> {
  if (params.profile !== undefined) return timingReport({ profile: params.profile, timeScale: 1 }, 'parameter');
  let config: TimingConfig;
  try {
    config = await readTimingConfig(ctx.store);
  } catch (err) {
    throw new AdminError('failed', `cannot read the cluster's timing: ${errorText(err)} (name a profile to describe one anyway)`);
  }
  return timingReport(config, PATHS.timing, keepsHeartbeatStamps(ctx));
}

/** pmxcfs keeps no heartbeat stamps: corosync knows who is up, not since when. */
function keepsHeartbeatStamps(ctx: AdminContext): boolean {
  return (ctx.store as { mode?: string }).mode !== 'pmxcfs';
}

/** The file's timing; a file that cannot be read is replaced, from the default timing. */
function currentTiming(ctx: AdminContext, text: string | undefined): TimingConfig {
  if (text === undefined) return DEFAULT_TIMING_CONFIG;
  try {
    return parseTimingConfig(text, PATHS.timing, profileNames());
  } catch (err) {
    ctx.warn(`replacing ${PATHS.timing}, which cannot be read: ${errorText(err)}`);
    return DEFAULT_TIMING_CONFIG;
  }
}

/**
 * The live nodes (online in the store's membership) whose daemons announced
 * a profile other than `profile`, as `node1 (default)`. A node whose
 * daemons announced nothing (none started yet, or a version that does not
 * announce) is not counted: its profile cannot be told.
 */
async function nodesOnOtherProfile(ctx: AdminContext, profile: string): Promise<string[]> {
  const membership = await ctx.store.membership();
  const found: string[] = [];
  for (const [node, { online }] of Object.entries(membership.nodes).sort(([a], [b]) => a.localeCompare(b))) {
    if (!online) continue;
    const text = await ctx.store.read(runningTimingPath(node));
    const running = text === undefined ? undefined : parseRunningTiming(text);
    if (running !== undefined && running.profile !== profile) found.push(`${node} (${running.profile})`);
  }
  return found;
}

export async function updateTiming(ctx: AdminContext, params: Infer<ParamsOf<'timing.update'>>): Promise<TimingReport> {
  // Daemons on different profiles judge the same locks by different
  // lifetimes: one on a shorter lifetime could take a lock whose holder's
  // watchdog has not fired yet. A profile change therefore waits until no
  // daemon runs the old one; there is no override.
  if (params.profile !== undefined) {
    const others = await nodesOnOtherProfile(ctx, params.profile);
    if (others.length > 0) {
      throw refused(
        `refusing to set timing profile '${params.profile}': HA daemons are running with another profile on ${others.join(', ')}. ` +
          `Stop ha-crm and ha-lrm on every node, wait until their nodes show offline (the heartbeat timeout), set the profile, then start them again`,
      );
    }
  }
  let written = DEFAULT_TIMING_CONFIG;
  await ctx.store.update(PATHS.timing, (text) => {
    const current = currentTiming(ctx, text);
    const timeScale = params['time-scale'] ?? current.timeScale;
    // A new scale starts its clock now, unless told otherwise.
    const epochMs =
      timeScale === 1 ? undefined : (params.epoch ?? (timeScale === current.timeScale ? current.epochMs : undefined) ?? Date.now());
    const config: TimingConfig = { profile: params.profile ?? current.profile, timeScale, ...(epochMs !== undefined ? { epochMs } : {}) };
    const problem = storeTimingProblem(ctx.store, config);
    if (problem !== undefined) throw refused(problem);
    written = config;
    return writeTimingConfig(config);
  });
  return timingReport(written, PATHS.timing, keepsHeartbeatStamps(ctx));
}
