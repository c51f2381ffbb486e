// Resource drivers of the real daemons, one per resource type:
//
// - `exec`: a service run by a script, `<scripts>/<name> start|stop|status`
//   (LSB style: `status` exits 0 while running, 3 when not; anything else
//   means it cannot tell: `unknown`, never taken for stopped), with an optional `stats`
//   action printing `{"cpu":..,"mem":..,"maxcpu":..,"maxmem":..}` for the
//   scheduler, and an optional `kill` action: stop at once, no graceful
//   shutdown, as a node reset would (used when the node finds itself fenced;
//   a script without it gets `stop 0`, a stop with no time to shut down).
//   It cannot live-migrate: moving it stops it here and moves its location
//   marker; the target's LRM starts it there.
// - `vm` / `ct`: Proxmox VE guests, driven through an agent command
//   (`<agent> vm|ct start|shutdown|stop|migrate|status <vmid> ...`; `status`
//   exits as an exec script's does) that calls
//   the node's API as the HA stack, so the API does not hand the request back
//   to HA. Their location is the guest config file's directory.
//
// Every command is a child process with arguments (never a shell), run
// through the worker pool with a timeout.

import type { TimingProfile } from '../../config/timing-profiles.js';
import type { NodeName, Sid } from '../../core/types.js';
import type { LogLevel, ResourceDriver, RunState, ServiceUsage } from '../env.js';
import { removeGuestLock } from './guest-config.js';
import { guestConfigPath } from './layout.js';
import type { ClusterStore, WriteOptions } from './store.js';

export interface CommandOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Ended (or never started) by an abort: the LRM acting as fenced. */
  aborted: boolean;
  stderr: string;
  stdout: string;
  spawnError: string | null;
}

export interface DriverContext {
  node: NodeName;
  store: ClusterStore;
  /**
   * The lock the daemon must still hold for the drivers' store changes (a
   * migration moving a service's marker, the master clearing a fenced
   * guest's locks); see StoreFence.
   */
  writeOptions?: WriteOptions;
  /** Real milliseconds a guest migration may take (migrateTimeoutMs). */
  migrateTimeoutMs: number;
  run(command: string, args: readonly string[], timeoutMs: number): Promise<CommandOutcome>;
  /** Runs at once, not behind queued commands: for hard stops. */
  runNow(command: string, args: readonly string[], timeoutMs: number): Promise<CommandOutcome>;
  log(level: LogLevel, msg: string): void;
}

export interface NodeResourceDriver extends ResourceDriver {
  /** Measured use of a service running here, for the dynamic scheduler. */
  usage?(name: string): Promise<ServiceUsage | undefined>;
}

const STATUS_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 10 * 60_000;
/** The reference's default shutdown timeout, in seconds. */
const DEFAULT_STOP_TIMEOUT = 60;
/** A hard stop that takes longer than this has failed. */
const HARD_STOP_TIMEOUT_MS = 10_000;
/** LRM rounds a guest migration may take, and its floor (cluster time). */
const MIGRATE_TIMEOUT_ROUNDS = 360;
const MIGRATE_TIMEOUT_FLOOR_MS = 30 * 60_000;

/**
 * How long (real milliseconds) a guest migration may take before it is
 * killed and reported failed: 360 LRM rounds, at least 30 minutes, in the
 * cluster's time (`default`: 1 h; `fast`: 30 min; both divided by the time
 * scale). Long enough for a large guest's live migration; bounded so that a
 * hung agent cannot hold a worker, and the service in `migrate`, forever.
 */
export function migrateTimeoutMs(profile: TimingProfile, timeScale = 1): number {
  return Math.round(Math.max(MIGRATE_TIMEOUT_FLOOR_MS, MIGRATE_TIMEOUT_ROUNDS * profile.lrmRoundMs) / timeScale);
}

/** Script names stay inside the scripts directory. */
const SCRIPT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function describe(outcome: CommandOutcome): string {
  if (outcome.spawnError !== null) return outcome.spawnError;
  if (outcome.aborted) return outcome.signal !== null ? `aborted (${outcome.signal})` : 'aborted before it started';
  if (outcome.timedOut) return 'timed out';
  if (outcome.signal !== null) return `killed by ${outcome.signal}`;
  const tail = outcome.stderr.trim().split('\n').slice(-3).join(' | ');
  return `exit code ${outcome.exitCode}${tail ? `: ${tail}` : ''}`;
}

/** LSB status exit codes: 0 runs, 3 does not; anything else (a failure, a timeout, a signal) cannot tell. */
function runStateOf(outcome: CommandOutcome): RunState {
  if (outcome.exitCode === 0) return 'running';
  if (outcome.exitCode === 3) return 'stopped';
  return 'unknown';
}

function stopTimeoutMs(timeout: string | undefined): number {
  const seconds = timeout === undefined ? DEFAULT_STOP_TIMEOUT : Number(timeout);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_STOP_TIMEOUT) * 1000 + 30_000;
}

function parseUsage(text: string): ServiceUsage | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object') return undefined;
    const usage: ServiceUsage = {};
    for (const key of ['cpu', 'mem', 'maxcpu', 'maxmem'] as const) {
      const n = (value as Record<string, unknown>)[key];
      if (typeof n === 'number' && Number.isFinite(n) && n >= 0) usage[key] = n;
    }
    return usage;
  } catch {
    return undefined;
  }
}

export function execDriver(ctx: DriverContext, scriptsDir: string): NodeResourceDriver {
  const script = (name: string): string => {
    if (!SCRIPT_NAME.test(name)) throw new Error(`invalid exec resource name '${name}' (letters, digits, '.', '_', '-')`);
    return `${scriptsDir}/${name}`;
  };
  const sidOf = (name: string): Sid => `exec:${name}`;

  const statusOf = (name: string, outcome: CommandOutcome): RunState => {
    const state = runStateOf(outcome);
    if (state === 'unknown') ctx.log('warning', `status of ${sidOf(name)} failed - ${describe(outcome)}`);
    return state;
  };
  const runState = async (name: string): Promise<RunState> =>
    statusOf(name, await ctx.run(script(name), ['status'], STATUS_TIMEOUT_MS));

  const stop = async (name: string, timeout?: string): Promise<void> => {
    const outcome = await ctx.run(script(name), timeout === undefined ? ['stop'] : ['stop', timeout], stopTimeoutMs(timeout));
    if (outcome.exitCode !== 0) ctx.log('warning', `stop of ${sidOf(name)} failed - ${describe(outcome)}`);
  };

  return {
    runState,
    async start(name) {
      const outcome = await ctx.run(script(name), ['start'], START_TIMEOUT_MS);
      if (outcome.exitCode !== 0) ctx.log('warning', `start of ${sidOf(name)} failed - ${describe(outcome)}`);
    },
    shutdown: stop,
    async hardStop(name) {
      // `kill`, then `status` decides: a script that does not know `kill`
      // may well exit 0 having done nothing.
      // A status that cannot tell may mean it still runs: stop it too.
      await ctx.runNow(script(name), ['kill'], HARD_STOP_TIMEOUT_MS);
      const after = statusOf(name, await ctx.runNow(script(name), ['status'], HARD_STOP_TIMEOUT_MS));
      if (after === 'stopped') return after;
      const outcome = await ctx.runNow(script(name), ['stop', '0'], HARD_STOP_TIMEOUT_MS);
      if (outcome.exitCode !== 0) ctx.log('warning', `hard stop of ${sidOf(name)} failed - ${describe(outcome)}`);
      return statusOf(name, await ctx.runNow(script(name), ['status'], HARD_STOP_TIMEOUT_MS));
    },
    async migrate(name, target) {
      // A script service has no live migration: stop here, hand it over.
      if ((await runState(name)) !== 'stopped') await stop(name);
      if ((await runState(name)) !== 'stopped') return false;
      const sid = sidOf(name);
      await ctx.store.rename(guestConfigPath(ctx.node, sid), guestConfigPath(target, sid), ctx.writeOptions);
      return true;
    },
    async removeLocks() {
      return undefined; // script services have no guest locks
    },
    async usage(name) {
      const outcome = await ctx.run(script(name), ['stats'], STATUS_TIMEOUT_MS);
      return outcome.exitCode === 0 ? parseUsage(outcome.stdout) : undefined;
    },
  };
}

export function pveGuestDriver(ctx: DriverContext, type: 'vm' | 'ct', agent: string): NodeResourceDriver {
  const checkVmid = (name: string): string => {
    if (!/^[1-9][0-9]+$/.test(name)) throw new Error(`invalid VMID '${name}'`);
    return name;
  };
  const agentRun = (action: string, name: string, args: readonly string[], timeoutMs: number) =>
    ctx.run(agent, [type, action, checkVmid(name), ...args], timeoutMs);

  const statusOfGuest = (name: string, outcome: CommandOutcome): RunState => {
    const state = runStateOf(outcome);
    if (state === 'unknown') ctx.log('warning', `status of ${type}:${name} failed - ${describe(outcome)}`);
    return state;
  };
  const runState = async (name: string): Promise<RunState> =>
    statusOfGuest(name, await agentRun('status', name, [], STATUS_TIMEOUT_MS));
  const shutdown = async (name: string, timeout?: string): Promise<void> => {
    const seconds = timeout ?? String(DEFAULT_STOP_TIMEOUT);
    // A timeout of 0 asks for a hard stop, as in the reference.
    const outcome =
      Number(seconds) === 0
        ? await agentRun('stop', name, [], STATUS_TIMEOUT_MS)
        : await agentRun('shutdown', name, [seconds], stopTimeoutMs(seconds));
    if (outcome.exitCode !== 0) ctx.log('warning', `shutdown of ${type}:${name} failed - ${describe(outcome)}`);
  };

  return {
    runState,
    async start(name) {
      const outcome = await agentRun('start', name, [], START_TIMEOUT_MS);
      if (outcome.exitCode !== 0) ctx.log('warning', `start of ${type}:${name} failed - ${describe(outcome)}`);
    },
    shutdown,
    async hardStop(name) {
      const outcome = await ctx.runNow(agent, [type, 'stop', checkVmid(name)], STATUS_TIMEOUT_MS);
      if (outcome.exitCode !== 0) ctx.log('warning', `hard stop of ${type}:${name} failed - ${describe(outcome)}`);
      return statusOfGuest(name, await ctx.runNow(agent, [type, 'status', checkVmid(name)], STATUS_TIMEOUT_MS));
    },
    async migrate(name, target, online) {
      // Containers cannot migrate live: they are stopped first either way.
      if ((type === 'ct' || !online) && (await runState(name)) !== 'stopped') await shutdown(name);
      const before = guestConfigPath(ctx.node, `${type}:${name}`);
      const outcome = await agentRun('migrate', name, [target, online ? '1' : '0'], ctx.migrateTimeoutMs);
      if (outcome.timedOut) {
        // Killed part way: a failure whatever it got done. Where the guest
        // stands is logged; the master decides from the failure.
        const state = await runState(name);
        ctx.log(
          'err',
          `migration of ${type}:${name} to ${target} timed out after ${Math.round(ctx.migrateTimeoutMs / 1000)} s and was killed - failed; status here afterwards: ${state}`,
        );
        return false;
      }
      if (outcome.exitCode !== 0) ctx.log('warning', `migration of ${type}:${name} failed - ${describe(outcome)}`);
      // moved when its config left this node
      return (await ctx.store.read(before)) === undefined;
    },
    async removeLocks(name, locks, serviceNode) {
      let removed: string | undefined;
      await ctx.store.update(guestConfigPath(serviceNode, `${type}:${name}`), (text) => {
        if (text === undefined) return undefined;
        const result = removeGuestLock(text, locks);
        removed = result.removed;
        return result.text;
      }, ctx.writeOptions);
      return removed;
    },
  };
}
