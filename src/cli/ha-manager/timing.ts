// `ha-manager timing set` writes the cluster's timing (ha/timing.cfg);
// `ha-manager check-timings` shows what it means: the profile's numbers, the
// fence window and the safety inequality with its slack, the store outage
// the cluster rides out and the failover a node reset implies, and, when
// this node's watchdog-mux is reachable, the same inequality on the mux's
// real settings (exit status 1 when unsafe).

import { errorText } from '../../core/errors.js';
import { writeTimingConfig, type TimingConfig } from '../../config/timing-config.js';
import { formatDuration, type TimingProfile } from '../../config/timing-profiles.js';
import { readTimingConfig, storeTimingProblem } from '../../env/node/cluster-timing.js';
import { PATHS } from '../../env/node/layout.js';
import { queryMuxSettings } from '../../env/node/watchdog.js';
import {
  armingProblem,
  describeInequality,
  measuredFenceWindow,
  outageWithoutFenceMs,
  outageWithoutResetMs,
  profileNames,
  timingProfile,
  worstFailoverMs,
  worstMasterFailoverMs,
} from '../../env/timing.js';
import { DEFAULT_WATCHDOG_MUX_SOCKET } from '../../native/watchdog.js';
import { AdminError } from '../../admin/errors.js';
import type { LocalCommand } from './commands.js';
import type { CliContext } from './context.js';

const ROWS: ReadonlyArray<[string, keyof TimingProfile]> = [
  ['lock lifetime', 'lockLifetimeMs'],
  ['mux client timeout', 'clientTimeoutMs'],
  ['mux tick', 'muxTickMs'],
  ['device timeout', 'deviceTimeoutMs'],
  ['margin', 'marginMs'],
  ['LRM round', 'lrmRoundMs'],
  ['CRM round', 'crmRoundMs'],
  ['lock retry', 'lockRetryMs'],
  ['store timeout', 'storeTimeoutMs'],
  ['heartbeat timeout', 'heartbeatTimeoutMs'],
  ['fence delay', 'fenceDelayMs'],
];

/** The profile's numbers and what they imply, one line each. */
export function describeProfile(profile: TimingProfile): string[] {
  const lines = ROWS.map(([label, key]) => `  ${label.padEnd(20)}${formatDuration(profile[key] as number)}`);
  const half = formatDuration(profile.lockLifetimeMs / 2);
  lines.push(
    describeInequality(profile, profile).text,
    `store outage ridden out: up to ${formatDuration(outageWithoutResetMs(profile))} without a reset, ` +
      `${formatDuration(outageWithoutFenceMs(profile))} without a fence (half the lock lifetime: ${half})`,
    `worst failover after a node reset: ${formatDuration(worstFailoverMs(profile))}, ` +
      `${formatDuration(worstMasterFailoverMs(profile))} when it was the master's node (plus the service's start time)`,
  );
  return lines;
}

/** A parameter refused, named as the front ends show it. */
function invalid(param: string, message: string): AdminError {
  return new AdminError('invalid', 'Parameter verification failed.', { [param]: message });
}

async function setTiming(ctx: CliContext, options: { profile?: string; timeScale?: number; epoch?: number }): Promise<void> {
  const current = await readTimingConfig(ctx.store);
  const timeScale = options.timeScale ?? current.timeScale;
  // A new scale starts its clock now, unless told otherwise.
  const epochMs = timeScale === 1 ? undefined : (options.epoch ?? (timeScale === current.timeScale ? current.epochMs : undefined) ?? Date.now());
  const config: TimingConfig = {
    profile: options.profile ?? current.profile,
    timeScale,
    ...(epochMs !== undefined ? { epochMs } : {}),
  };
  const problem = storeTimingProblem(ctx.store, config);
  if (problem !== undefined) throw new AdminError('refused', problem);
  await ctx.store.update(PATHS.timing, () => writeTimingConfig(config));
  ctx.stdout(writeTimingConfig(config));
  ctx.stdout(
    `written to ${PATHS.timing}: daemons read it when they start, so restart every ha-crm and ha-lrm, ` +
      `and start each node's watchdog-mux with --profile ${config.profile}\n`,
  );
}

async function checkTimings(ctx: CliContext, options: { profile?: string; watchdogSocket: string }): Promise<void> {
  let config: TimingConfig;
  let source: string;
  if (options.profile !== undefined) {
      config = { profile: options.profile, timeScale: 1 };
    source = '--profile';
  } else {
    try {
      config = await readTimingConfig(ctx.store);
    } catch (err) {
      throw new AdminError('failed', `cannot read the cluster's timing: ${errorText(err)} (or pass --profile)`);
    }
    source = PATHS.timing;
  }
  const profile = timingProfile(config.profile);
  const out: string[] = [`timing profile '${profile.name}' (from ${source})`, ...describeProfile(profile)];
  if (config.timeScale !== 1) out.push(`time-scale ${config.timeScale} (epoch ${config.epochMs}): the daemons must run with --no-watchdog`);

  let unsafe: string | undefined;
  let mux;
  try {
    mux = queryMuxSettings(options.watchdogSocket);
  } catch (err) {
    out.push(`watchdog-mux at ${options.watchdogSocket}: not checked - ${errorText(err).split('\n')[0]}`);
  }
  if (mux !== undefined) {
    const window = measuredFenceWindow(profile, mux);
    unsafe = armingProblem(profile, mux, config.timeScale);
    const measured = typeof window === 'string' ? window : describeInequality(profile, window).text;
    out.push(`watchdog-mux at ${options.watchdogSocket}: ${unsafe ?? measured}`);
  }
  ctx.stdout(`${out.join('\n')}\n`);
  if (unsafe !== undefined) throw new AdminError('failed', 'unsafe: the daemons on this node would refuse to arm the watchdog');
}

/** A positive number of simulated seconds per real second. */
function timeScaleOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0)) throw invalid('time-scale', `expected a positive number, got '${text}'`);
  return n;
}

export const TIMING_SET_COMMAND: LocalCommand = {
  words: ['timing', 'set'],
  args: [],
  description: 'Set the timing profile, and the clock of a test cluster, that every node must use (ha/timing.cfg).',
  params: {
    profile: { type: 'string', optional: true, enum: profileNames(), description: 'timing profile' },
    'time-scale': {
      type: 'string',
      optional: true,
      typetext: '<factor>',
      description: 'simulated seconds per real second (test and demonstration clusters; 1: real time)',
    },
    epoch: { type: 'integer', optional: true, minimum: 0, description: 'real milliseconds at which scaled time starts (default: now)' },
  },
  async run(ctx, params) {
    const timeScale = timeScaleOf(params['time-scale'] as string | undefined);
    await setTiming(ctx, {
      ...(params.profile !== undefined ? { profile: params.profile as string } : {}),
      ...(timeScale !== undefined ? { timeScale } : {}),
      ...(params.epoch !== undefined ? { epoch: params.epoch as number } : {}),
    });
  },
};

export const CHECK_TIMINGS_COMMAND: LocalCommand = {
  words: ['check-timings'],
  args: [],
  description: "Show the timing's numbers, the safety inequality and the failover it implies; check this node's watchdog-mux.",
  params: {
    profile: { type: 'string', optional: true, enum: profileNames(), description: "a profile to check instead of the cluster's" },
    'watchdog-socket': { type: 'string', optional: true, default: DEFAULT_WATCHDOG_MUX_SOCKET, description: 'watchdog-mux socket' },
  },
  async run(ctx, params) {
    await checkTimings(ctx, {
      ...(params.profile !== undefined ? { profile: params.profile as string } : {}),
      watchdogSocket: (params['watchdog-socket'] as string | undefined) ?? DEFAULT_WATCHDOG_MUX_SOCKET,
    });
  },
};
