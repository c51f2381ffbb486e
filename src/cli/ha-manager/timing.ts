// `ha-manager timing set` writes the cluster's timing (ha/timing.cfg);
// `ha-manager check-timings` shows what it means: the profile's numbers, the
// fence window and the safety inequality with its slack, the store outage
// the cluster rides out and the failover a node reset implies, and, when
// this node's watchdog-mux is reachable, the same inequality on the mux's
// real settings (exit status 1 when unsafe).

import { Command, Option } from 'commander';

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
import type { CliContext } from './context.js';
import { CliError, usageError } from './errors.js';

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

function positive(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw usageError(`expected a positive number, got '${value}'`);
  return n;
}

function wholeMs(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw usageError(`expected whole milliseconds, got '${value}'`);
  return Number(value);
}

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

async function setTiming(ctx: CliContext, options: { profile?: string; timeScale?: number; epoch?: number }): Promise<void> {
  if (options.profile !== undefined && !profileNames().includes(options.profile)) {
    throw usageError(`unknown timing profile '${options.profile}' (known: ${profileNames().join(', ')})`);
  }
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
  if (problem !== undefined) throw new CliError(problem);
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
    if (!profileNames().includes(options.profile)) throw usageError(`unknown timing profile '${options.profile}' (known: ${profileNames().join(', ')})`);
    config = { profile: options.profile, timeScale: 1 };
    source = '--profile';
  } else {
    try {
      config = await readTimingConfig(ctx.store);
    } catch (err) {
      throw new CliError(`cannot read the cluster's timing: ${errorText(err)} (or pass --profile)`);
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
  if (unsafe !== undefined) throw new CliError(`unsafe: the daemons on this node would refuse to arm the watchdog`);
}

/** Registers `timing set` and `check-timings`. */
export function addTimingCommands(program: Command, ctx: CliContext): void {
  const timing = program.command('timing').description("the cluster's timing (ha/timing.cfg)");
  timing
    .command('set')
    .description('set the timing profile, and the clock of a test cluster, that every node must use')
    .addOption(new Option('--profile <name>', `timing profile: ${profileNames().join(', ')}`))
    .addOption(new Option('--time-scale <factor>', 'simulated seconds per real second (test and demonstration clusters; 1: real time)').argParser(positive))
    .addOption(new Option('--epoch <ms>', 'real milliseconds at which scaled time starts (default: now)').argParser(wholeMs))
    .action((options: { profile?: string; timeScale?: number; epoch?: number }) => setTiming(ctx, options));
  program
    .command('check-timings')
    .description("show the timing's numbers, the safety inequality and the failover it implies; check this node's watchdog-mux")
    .addOption(new Option('--profile <name>', "a profile to check instead of the cluster's"))
    .option('--watchdog-socket <path>', 'watchdog-mux socket', DEFAULT_WATCHDOG_MUX_SOCKET)
    .action((options: { profile?: string; watchdogSocket: string }) => checkTimings(ctx, options));
}
