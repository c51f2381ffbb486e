// ha-crm and ha-lrm: the daemons of one node. Binds the environment once —
// the cluster store, the clock, the watchdog (watchdog-mux), the resource
// drivers, the worker pool and the scoring kernel — then runs until a
// SIGTERM/SIGINT has been handled the daemon's way (the LRM stops or freezes
// its services first, per the shutdown policy).

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command } from 'commander';
import pino from 'pino';
import pinoPretty from 'pino-pretty';

import { errorText } from '../core/errors.js';
import { typescriptScoringKernel } from '../core/scheduling/kernel.js';
import type { LogLevel } from '../env/env.js';
import { RULES_CAPABLE_VERSION, startDaemon } from '../env/node/daemon.js';
import { openClusterStore, type ClusterTiming } from '../env/node/cluster-timing.js';
import { muxWatchdog, queryMuxSettings, recordingWatchdog } from '../env/node/watchdog.js';
import { checkArming, describeInequality, worstFailoverMs, worstMasterFailoverMs, type MuxSettings } from '../env/timing.js';
import { formatDuration } from '../config/timing-profiles.js';
import { DEFAULT_WATCHDOG_MUX_SOCKET } from '../native/watchdog.js';
import { createWorkerPool } from '../native/worker-pool.js';
import { nativeScoringKernel } from '../native/scoring-kernel.js';
import { versionText } from './version.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_SCRIPTS_DIR = '/etc/ha-manager/resources';
export const DEFAULT_PVE_AGENT = join(PACKAGE_ROOT, 'share', 'pve-ha-agent');

interface DaemonCliOptions {
  node: string;
  store?: string;
  watchdogSocket: string;
  watchdog: boolean;
  scripts: string;
  pveAgent: string;
  logFormat: LogFormat;
  timeScale?: number;
  epoch?: number;
}

const PINO_LEVEL: Record<string, 'fatal' | 'error' | 'warn' | 'info' | 'debug'> = {
  crit: 'fatal',
  err: 'error',
  warning: 'warn',
  warn: 'warn',
  notice: 'info',
  info: 'info',
  debug: 'debug',
};

/**
 * `auto`: pretty on a terminal, JSON lines otherwise (for a collector);
 * `text`: `<time> <level> <node>/<daemon>: <msg>`, one plain line each (the
 * systemd units use it: the journal adds its own metadata).
 */
const LOG_FORMATS = ['auto', 'pretty', 'json', 'text'] as const;
type LogFormat = (typeof LOG_FORMATS)[number];

function parseLogFormat(value: string): LogFormat {
  const format = LOG_FORMATS.find((f) => f === value);
  if (format === undefined) throw new Error(`expected one of ${LOG_FORMATS.join(', ')}, got '${value}'`);
  return format;
}

function logDestination(source: string, format: Exclude<LogFormat, 'auto'>): pino.DestinationStream {
  switch (format) {
    case 'json':
      return process.stdout;
    case 'pretty':
      return pinoPretty({ ignore: 'pid,hostname,source,ha_level', messageFormat: '{source}: {msg}', translateTime: 'SYS:standard' });
    case 'text':
      return {
        write(line: string) {
          const record = JSON.parse(line) as { time: number; ha_level: string; msg: string };
          process.stdout.write(`${new Date(record.time).toISOString()} ${record.ha_level} ${source}: ${record.msg}\n`);
        },
      };
    default: {
      const never: never = format;
      throw new Error(`unknown log format ${String(never)}`);
    }
  }
}

/** Daemon logging through pino, in the chosen format. */
function daemonLogger(source: string, format: LogFormat): (level: LogLevel, msg: string) => void {
  const resolved = format === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : format;
  const logger = pino({ base: { source }, level: 'debug' }, logDestination(source, resolved));
  return (level, msg) => {
    // The reference's levels; one of its calls passes a mangled level, read as info.
    const name = level.trim();
    logger[PINO_LEVEL[name] ?? 'info']({ ha_level: PINO_LEVEL[name] ? name : 'info' }, msg.replace(/\n$/, ''));
  };
}

/** The pve-manager version on a Proxmox VE node; else what every node of this stack reports. */
function nodeVersion(): Promise<string> {
  return new Promise((resolve) => {
    if (!existsSync('/usr/bin/pveversion')) {
      resolve(RULES_CAPABLE_VERSION);
      return;
    }
    execFile('/usr/bin/pveversion', [], { timeout: 10_000 }, (err, stdout) => {
      const match = /pve-manager\/(\S+?)\//.exec(stdout);
      resolve(err === null && match !== null ? match[1] : RULES_CAPABLE_VERSION);
    });
  });
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`expected a positive number, got '${value}'`);
  return n;
}

/**
 * The timing check at start, logged once: the profile's safety inequality,
 * and with a watchdog the same on the running mux's own settings (in the
 * cluster's time; on a scaled clock only a simulated device passes). A
 * combination that could let a lock expire before the watchdog has fired
 * ends the daemon here, naming the numbers; the same check runs again
 * whenever the watchdog is armed.
 */
function checkTimingAtStart(
  options: DaemonCliOptions,
  timing: ClusterTiming,
  log: (level: LogLevel, msg: string) => void,
  heartbeatStamps: boolean,
): void {
  const { profile, config } = timing;
  const failover = `worst failover ${formatDuration(worstFailoverMs(profile))} (master's node ${formatDuration(worstMasterFailoverMs(profile, heartbeatStamps))})`;
  if (!options.watchdog) {
    log('info', `timing: profile '${profile.name}', ${describeInequality(profile, profile).text} (no watchdog to measure), ${failover}`);
    return;
  }
  let mux: MuxSettings;
  try {
    mux = queryMuxSettings(options.watchdogSocket);
  } catch (err) {
    const why = errorText(err).split('\n')[0];
    if (config.timeScale !== 1) {
      // Only a simulated device may run on a scaled clock, and only a running mux can say it has one.
      throw new Error(
        `refusing to run with a watchdog: the cluster runs at time-scale ${config.timeScale}, and watchdog-mux at ` +
          `${options.watchdogSocket} cannot tell whether its device is simulated (${why}): start it first (--fake-device), or run with --no-watchdog`,
      );
    }
    log('warning', `timing: watchdog-mux at ${options.watchdogSocket} not checked now (${why}); it is when the watchdog is armed`);
    return;
  }
  const check = checkArming(profile, mux, config.timeScale);
  if (!check.safe) throw new Error(`refusing to run with watchdog-mux at ${options.watchdogSocket}: ${check.text}`);
  log('info', `timing: profile '${profile.name}', watchdog-mux ${check.text}, ${failover}`);
}

export async function runDaemonCli(daemon: 'crm' | 'lrm', argv: readonly string[]): Promise<number> {
  const program = new Command(`ha-${daemon}`)
    .description(
      daemon === 'crm'
        ? 'cluster resource manager: whoever holds the manager lock decides for all HA services'
        : "local resource manager: runs this node's HA services as the master decides",
    )
    .version(versionText(`ha-${daemon}`), '-V, --version', 'print the version and where the native parts come from')
    .option('--node <name>', 'this node', hostname().split('.')[0])
    .option('--store <spec>', 'cluster store: dir:<path> or etcd:<url>[,...][?prefix=/p] (default: $HA_MANAGER_STORE, else /etc/pve)')
    .option('--watchdog-socket <path>', 'watchdog-mux socket', DEFAULT_WATCHDOG_MUX_SOCKET)
    .option('--no-watchdog', 'run without a watchdog: NOT SAFE, fencing cannot work (tests and demonstrations only)')
    .option('--scripts <dir>', 'directory of the exec resource scripts', DEFAULT_SCRIPTS_DIR)
    .option('--pve-agent <path>', 'agent command for Proxmox VE guests (vm, ct)', DEFAULT_PVE_AGENT)
    .option('--log-format <format>', 'auto (pretty on a terminal, else json), pretty, json or text', parseLogFormat, 'auto')
    .option(
      '--time-scale <factor>',
      "run time faster by this factor (tests and demonstrations); must agree with the store's ha/timing.cfg, and is recorded there when the cluster has none",
      positiveNumber,
    )
    .option('--epoch <ms>', 'start of scaled time; all daemons of a cluster share it (ha/timing.cfg)', positiveNumber);
  program.parse([...argv]);
  const options = program.opts<DaemonCliOptions>();

  const source = `${options.node}/${daemon}`;
  const log = daemonLogger(source, options.logFormat);
  const { store, timing } = await openClusterStore(options.store, {
    node: options.node,
    flags: {
      ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
      ...(options.epoch !== undefined ? { epochMs: options.epoch } : {}),
    },
  });
  const { clock, profile } = timing;
  try {
    // pmxcfs keeps no heartbeat stamps (see worstMasterFailoverMs).
    checkTimingAtStart(options, timing, log, (store as { mode?: string }).mode !== 'pmxcfs');
  } catch (err) {
    await store.close();
    throw err;
  }
  if (!options.watchdog) {
    log('crit', 'running WITHOUT a watchdog: this node cannot be fenced, recovery of its services is not safe');
  }
  const watchdog = options.watchdog ? muxWatchdog(options.watchdogSocket) : recordingWatchdog();
  const pool = createWorkerPool({});
  log(
    'info',
    `starting, cluster store ${store.description}, timing profile '${profile.name}'` +
      `${timing.config.timeScale !== 1 ? ` at time-scale ${timing.config.timeScale}` : ''}, worker pool ${pool.implementation}`,
  );

  const running = await startDaemon({
    daemon,
    node: options.node,
    store,
    clock,
    profile,
    timeScale: timing.config.timeScale,
    log,
    watchdog,
    pool,
    scoringKernel: nativeScoringKernel() ?? typescriptScoringKernel,
    scriptsDir: options.scripts,
    pveAgent: options.pveAgent,
    version: await nodeVersion(),
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    log('info', `received ${signal}, shutting down`);
    running.requestShutdown();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await running.done;
  } finally {
    await pool.close();
    await store.close();
  }
  log('info', 'exit');
  return 0;
}

export async function start(daemon: 'crm' | 'lrm'): Promise<void> {
  try {
    process.exitCode = await runDaemonCli(daemon, process.argv);
  } catch (err) {
    process.stderr.write(`ha-${daemon}: ${errorText(err)}\n`);
    process.exitCode = 1;
  }
}
