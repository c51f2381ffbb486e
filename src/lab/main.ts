// ha-lab: the cluster lab's command line (docs/LAB.md). `run` executes one
// seeded fault campaign against the real daemons and judges it; `up` starts
// a local cluster to play with. SIGINT and SIGTERM stop everything the lab
// started before it exits.

import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { Command, InvalidArgumentError } from 'commander';

import { errorText } from '../core/errors.js';
import { EXIT } from './exit.js';
import { labHostProblems } from './host.js';
import { createOutput } from './output.js';
import { newSeed, parseSeed } from './random.js';
import { labUp } from './up.js';
import { runLab, type RunOptions } from './run.js';
import { ETCD_FAULTS, minimumDurationS, parseFaults, quietPhaseS, type FaultKind } from './schedule.js';
import { serviceIds, type StoreKind } from './cluster.js';
import { profileNames, timingProfile } from '../env/timing.js';
import { maxTimeScale, muxWindowS, scaledMuxTiming } from './timing.js';

const DEFAULT_FAULTS: Record<StoreKind, FaultKind[]> = {
  dir: ['kill', 'pause', 'restart-lrm', 'master'],
  etcd: ['kill', 'pause', 'partition', 'etcd-member', 'etcd-leader'],
};

function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got '${value}'`);
    return n;
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

function storeKind(value: string): StoreKind {
  if (value !== 'dir' && value !== 'etcd') throw new InvalidArgumentError(`expected dir or etcd, got '${value}'`);
  return value;
}

function wrap<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError(errorText(err));
    }
  };
}

interface RunFlags {
  nodes: number;
  store: StoreKind;
  services: number;
  scripts?: string;
  timeScale: number;
  duration?: number;
  seed?: number;
  faults?: FaultKind[];
  profile: string;
  json: boolean;
  keep: boolean;
  workdir?: string;
  /** commander's --no-watchdog */
  watchdog: boolean;
}

/** Checks what commander cannot check alone; throws an error for people. */
export function runOptionsFrom(flags: RunFlags): RunOptions {
  const profile = timingProfile(flags.profile);
  const faults = flags.faults ?? DEFAULT_FAULTS[flags.store];
  const etcdOnly = faults.filter((f) => ETCD_FAULTS.includes(f));
  if (flags.store !== 'etcd' && etcdOnly.length > 0) throw new Error(`fault(s) ${etcdOnly.join(', ')} need --store etcd`);
  // Without a watchdog no mux runs, so nothing limits the scale but the daemons themselves.
  if (flags.watchdog && flags.timeScale > maxTimeScale(profile)) scaledMuxTiming(profile, flags.timeScale); // throws, naming the limit
  const lockLifetimeS = profile.lockLifetimeMs / 1000;
  const window = muxWindowS(profile);
  const minimum = minimumDurationS({ faults, lockLifetimeS, muxWindowS: window });
  const durationS = flags.duration ?? quietPhaseS(lockLifetimeS, window) + 5 * lockLifetimeS;
  if (faults.length > 0 && durationS < minimum) {
    throw new Error(`--duration ${durationS} leaves no room for a fault and the quiet phase after it: give at least ${minimum} (cluster seconds)`);
  }
  let scriptsDir: string | undefined;
  if (flags.scripts !== undefined) {
    scriptsDir = resolve(flags.scripts);
    const missing = serviceIds(flags.services)
      .map((sid) => join(scriptsDir ?? '', sid.slice('exec:'.length)))
      .filter((path) => !existsSync(path) || !statSync(path).isFile());
    if (missing.length > 0) throw new Error(`--scripts ${flags.scripts}: missing script(s) ${missing.join(', ')}`);
  }
  return {
    nodes: flags.nodes,
    store: flags.store,
    services: flags.services,
    scriptsDir,
    timeScale: flags.timeScale,
    durationS,
    seed: flags.seed ?? newSeed(),
    faults,
    profile,
    watchdog: flags.watchdog,
    keep: flags.keep,
    workdir: flags.workdir === undefined ? undefined : resolve(flags.workdir),
  };
}

/** Aborted with the signal's name on the first SIGINT/SIGTERM. */
function abortOnSignals(): AbortSignal {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => controller.abort(sig));
  return controller.signal;
}

function refuseWithoutHost(): void {
  const problems = labHostProblems();
  if (problems.length > 0) throw new Error(`cannot run the lab here: ${problems.join('; ')}`);
}

export async function runHaLab(argv: readonly string[]): Promise<number> {
  let status = 0;
  const program = new Command('ha-lab')
    .description('a cluster lab on one machine: the real daemons as emulated nodes, faults, and a checker of what really ran')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('run')
    .description('run one seeded fault campaign and judge it (exit 0 only without double runs, lost services or lost config)')
    .option('--nodes <n>', 'emulated nodes', wholeNumber(1, 32), 3)
    .option('--store <kind>', 'dir or etcd (3 members on loopback, a fault proxy per node)', storeKind, 'dir' as StoreKind)
    .option('--services <m>', 'services exec:s1 ... exec:sM, placed round robin', wholeNumber(1, 10_000), 6)
    .option('--scripts <dir>', "DIR/sK is exec:sK's script (default: the lab's own service)")
    .option('--time-scale <k>', 'run the cluster clock K times faster than real time', positiveNumber, 1)
    .option('--duration <s>', 'cluster seconds after the services first run: faults, then a quiet phase', positiveNumber)
    .option('--seed <x>', 'replay this seed (printed by every run)', wrap(parseSeed))
    .option('--faults <list>', `subset of kill,pause,restart-lrm,master,partition,etcd-member,etcd-leader (default: ${DEFAULT_FAULTS.dir.join(',')} on dir, ${DEFAULT_FAULTS.etcd.join(',')} on etcd)`, wrap(parseFaults))
    .option('--profile <name>', `timing profile (${profileNames().join(', ')}; share/timing-profiles.cfg)`, 'default')
    .option('--no-watchdog', 'run the daemons without watchdog-mux (--no-watchdog): only software protects the cluster')
    .option('--json', 'all of stdout as JSON lines', false)
    .option('--keep', 'keep the run directory (store, logs) even when the run passes', false)
    .option('--workdir <dir>', 'put the run directory here')
    .action(async (flags: RunFlags) => {
      let options: RunOptions;
      try {
        options = runOptionsFrom(flags);
      } catch (err) {
        process.stderr.write(`ha-lab run: ${errorText(err)}\n`);
        status = EXIT.usage;
        return;
      }
      refuseWithoutHost();
      status = await runLab(options, createOutput(flags.json), abortOnSignals());
    });

  program
    .command('up')
    .description('start a local cluster at real time with a few example services; Ctrl-C stops everything')
    .option('--nodes <n>', 'emulated nodes', wholeNumber(1, 32), 3)
    .option('--store <kind>', 'dir or etcd', storeKind, 'dir' as StoreKind)
    .option('--services <m>', 'example services exec:s1 ... exec:sM', wholeNumber(0, 1000), 3)
    .option('--json', 'all of stdout as JSON lines', false)
    .option('--keep', 'keep the run directory (store, logs) after stopping', false)
    .action(async (flags: { nodes: number; store: StoreKind; services: number; json: boolean; keep: boolean }) => {
      refuseWithoutHost();
      status = await labUp(flags, createOutput(flags.json), abortOnSignals());
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version') return EXIT.pass;
    if (typeof code === 'string' && code.startsWith('commander.')) return EXIT.usage;
    throw err;
  }
  return status;
}

export async function start(): Promise<void> {
  try {
    process.exitCode = await runHaLab(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`ha-lab: ${errorText(err)}\n`);
    process.exitCode = EXIT.labError;
  }
  // Signal handlers and the store client may keep the loop alive: the lab has stopped everything it started.
  process.exit();
}
