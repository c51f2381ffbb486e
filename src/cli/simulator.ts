// ha-simulator: runs the reference's regression scenario format.
//
//   ha-simulator run DIR          print the simulation log of one scenario
//   ha-simulator test DIR...      compare each scenario with its log.expect
//   ha-simulator regen DIR...     (re)write log.expect of the given scenarios
//
// `--policy safe` runs the core's safe behaviour (src/core/policy.ts) instead
// of the reference's; a scenario folder may name its own in a `policy` file.

import { readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

import { Command } from 'commander';

import { parseScenarioDatacenterConfig } from '../config/datacenter-config.js';
import { parseGroupsConfig } from '../config/groups-config.js';
import { ConfigError, formatIssue } from '../config/issues.js';
import { parseRulesConfig } from '../config/rules-config.js';
import { parseScenario, readScenarioTexts } from '../config/scenario.js';
import { parseScenarioServiceConfig } from '../config/service-config.js';
import { POLICIES, isPolicy, type Policy } from '../core/policy.js';
import type { ScoringKernel } from '../core/scheduling/kernel.js';
import { typescriptScoringKernel } from '../core/scheduling/kernel.js';
import type { SimObserver } from '../env/sim/observer.js';
import { runSimulation } from '../env/sim/runner.js';
import { describeNative, loadNative } from '../native/loader.js';
import type { SimScenario } from '../env/sim/scenario-input.js';
import { unifiedDiff } from './unified-diff.js';
import { versionText } from './version.js';

export interface SimulateOptions {
  kernel?: ScoringKernel;
  maxLoopDelay?: number;
  /** Where warnings about leniently read files go (default: stderr). */
  warn?: (msg: string) => void;
  /** Shown every step of the run (the invariant checkers). */
  observer?: SimObserver;
  /** The core's behaviour (src/core/policy.ts); default: the scenario's `policy` file, else `reference`. */
  policy?: Policy;
}

/**
 * Files the reference's simulator reads leniently: plain JSON whose content
 * it interprets at run time (service_config, datacenter.cfg), and section
 * configs whose bad sections it skips with a warning (rules_config, groups).
 * Their problems are warnings here too; the run goes on with what they hold.
 */
const LENIENT_FILES = ['service_config', 'datacenter.cfg', 'rules_config', 'groups'] as const;

/** Plain JSON, as the reference reads it: invalid JSON ends the run before it starts. */
function parseJsonFile(text: string | undefined, file: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${file}: not valid JSON - ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Checks a leniently read file with its strict parser; problems become warnings. */
function warnAbout(text: string | undefined, check: (text: string) => unknown, warn: (msg: string) => void): void {
  if (text === undefined) return;
  try {
    check(text);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) warn(formatIssue(issue));
  }
}

/**
 * Reads a scenario folder into what the simulator starts from. Problems in
 * the leniently read files are passed to `warn` (default: stderr) and the
 * run goes ahead, as with the reference.
 */
export async function loadScenario(dir: string, warn: (msg: string) => void = defaultWarn): Promise<SimScenario> {
  const { raw, serviceStatus } = await readScenarioTexts(dir);
  const strict = { ...raw };
  for (const name of LENIENT_FILES) delete strict[name];
  const scenario = parseScenario(dir, strict, serviceStatus);
  if (scenario.cmdlist === undefined) throw new Error(`${join(dir, 'cmdlist')}: missing (every scenario needs one)`);

  const serviceFile = join(dir, 'service_config');
  const datacenterFile = join(dir, 'datacenter.cfg');
  warnAbout(raw.service_config, (t) => parseScenarioServiceConfig(t, serviceFile), warn);
  warnAbout(raw['datacenter.cfg'], (t) => parseScenarioDatacenterConfig(t, datacenterFile), warn);
  warnAbout(raw.rules_config, (t) => parseRulesConfig(t, join(dir, 'rules_config')), warn);
  warnAbout(raw.groups, (t) => parseGroupsConfig(t, join(dir, 'groups')), warn);

  return {
    label: basename(resolve(dir)),
    cmdlist: scenario.cmdlist,
    hardwareStatus: scenario.hardwareStatus,
    managerStatus: scenario.managerStatus,
    serviceConfig: parseJsonFile(raw.service_config, serviceFile) as SimScenario['serviceConfig'],
    rulesConfig: raw.rules_config,
    groups: raw.groups,
    datacenter: parseJsonFile(raw['datacenter.cfg'], datacenterFile) as SimScenario['datacenter'],
    staticServiceStats: scenario.staticServiceStats,
    dynamicServiceStats: scenario.dynamicServiceStats,
    serviceStatus: scenario.serviceStatus,
    ...(scenario.policy !== undefined ? { policy: scenario.policy } : {}),
  };
}

function defaultWarn(msg: string): void {
  process.stderr.write(`ha-simulator: warning: ${msg}\n`);
}

/** Runs the scenario in `dir`, handing each log line to `write` as it comes. */
async function streamDir(dir: string, options: SimulateOptions, write: (line: string) => void): Promise<void> {
  const { warn, ...simulation } = options;
  const scenario = await loadScenario(dir, warn);
  await runSimulation(scenario, { write, ...simulation });
}

/** Runs the scenario in `dir` and returns its log. */
export async function simulateDir(dir: string, options: SimulateOptions = {}): Promise<string> {
  const lines: string[] = [];
  await streamDir(dir, options, (line) => lines.push(line));
  return lines.join('');
}

/** How a run that hit the loop-delay bound ends (src/env/sim/env.ts), and what to do about it. */
const LOOP_TOO_LONG = /exit simulation - loop took too long \(\d+ seconds\)/;
function loopTooLongHint(maxLoopDelay: number | undefined): string {
  const bound = maxLoopDelay === undefined ? "300 s, the reference's" : `${maxLoopDelay} s`;
  return (
    `the run ended because a daemon iteration would sleep longer than the loop-delay bound (${bound}); ` +
    'if the scenario means it, allow more with --max-loop-delay <seconds>'
  );
}

/**
 * A progress line on a terminal's stderr for runs longer than a second:
 * simulated time and log lines so far, redrawn at most 4 times a second.
 * The run never yields to timers, so the log writes drive it.
 */
function progressMeter(stream: NodeJS.WriteStream): { line(text: string): void; done(): void } {
  const started = Date.now();
  let shownAt = started;
  let lines = 0;
  let shown = false;
  return {
    line(text) {
      lines++;
      const now = Date.now();
      if (now - started < 1000 || now - shownAt < 250) return;
      shownAt = now;
      shown = true;
      const time = /^\S+\s+(\d+)/.exec(text)?.[1] ?? '?';
      stream.write(`\rha-simulator: simulated time ${time} s, ${lines} log lines, ${Math.round((now - started) / 1000)} s\x1b[K`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

async function readExpected(dir: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, 'log.expect'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface TestOutcome {
  dir: string;
  passed: boolean;
  /** A unified diff, or why the scenario could not be compared. */
  detail: string;
}

export async function testDir(dir: string, options: SimulateOptions = {}): Promise<TestOutcome> {
  const expected = await readExpected(dir);
  if (expected === undefined) return { dir, passed: false, detail: `${dir}: no log.expect to compare with\n` };
  let actual: string;
  try {
    // Comparing with a golden log: warnings about the inputs would only be noise.
    actual = await simulateDir(dir, { warn: () => undefined, ...options });
  } catch (err) {
    return { dir, passed: false, detail: `${dir}: ${err instanceof Error ? err.message : String(err)}\n` };
  }
  const diff = unifiedDiff(expected, actual, join(dir, 'log.expect'), join(dir, '(simulated)'));
  return { dir, passed: diff === '', detail: diff };
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`expected a positive number of seconds, got '${value}'`);
  return n;
}

type KernelChoice = 'auto' | 'native' | 'typescript';

function parsePolicyChoice(value: string): Policy {
  if (isPolicy(value)) return value;
  throw new Error(`unknown policy '${value}' (expected ${POLICIES.join(' or ')})`);
}

function parseKernelChoice(value: string): KernelChoice {
  if (value === 'auto' || value === 'native' || value === 'typescript') return value;
  throw new Error(`unknown kernel '${value}' (expected auto, native or typescript)`);
}

/**
 * Runs the CLI. `nativeKernel` is the addon's scoring kernel when it loaded;
 * both kernels give identical results, the native one is faster.
 */
export async function main(argv: readonly string[], nativeKernel?: ScoringKernel): Promise<number> {
  let status = 0;
  const program = new Command('ha-simulator')
    .description('Deterministic simulator for the HA manager, running regression scenario folders')
    .version(versionText('ha-simulator'), '-V, --version', 'print the version and where the native parts come from')
    .option('--max-loop-delay <seconds>', 'allow daemon iterations to sleep longer than the reference (300 s)', parseSeconds)
    .option('--kernel <which>', 'scheduling kernel: auto, native or typescript', parseKernelChoice, 'auto')
    .option(
      '--policy <name>',
      "core behaviour where the reference's is unsafe: reference or safe (default: the scenario's policy file, else reference)",
      parsePolicyChoice,
    );

  const simOptions = (): SimulateOptions => {
    const { maxLoopDelay, kernel: choice, policy } = program.opts<{ maxLoopDelay?: number; kernel: KernelChoice; policy?: Policy }>();
    if (choice === 'native' && nativeKernel === undefined) {
      throw new Error(`the native addon is not loaded: ${describeNative(loadNative())}`);
    }
    const kernel = choice === 'typescript' ? typescriptScoringKernel : (nativeKernel ?? typescriptScoringKernel);
    return { kernel, ...(maxLoopDelay !== undefined ? { maxLoopDelay } : {}), ...(policy !== undefined ? { policy } : {}) };
  };

  program
    .command('run')
    .argument('<dir>', 'scenario folder')
    .description('print the simulation log of a scenario (the folder is only read)')
    .action(async (dir: string) => {
      // The log streams out as it is made; when it goes to a file, a
      // terminal's stderr shows how far the run is.
      const meter = process.stderr.isTTY && !process.stdout.isTTY ? progressMeter(process.stderr) : undefined;
      let last = '';
      try {
        await streamDir(dir, simOptions(), (line) => {
          process.stdout.write(line);
          meter?.line(line);
          last = line;
        });
      } finally {
        meter?.done();
      }
      if (LOOP_TOO_LONG.test(last)) {
        process.stderr.write(`ha-simulator: ${loopTooLongHint(program.opts<{ maxLoopDelay?: number }>().maxLoopDelay)}\n`);
        status = 1;
      }
    });

  program
    .command('test')
    .argument('<dirs...>', 'scenario folders with a log.expect')
    .description('run scenarios and compare each log with its log.expect')
    .action(async (dirs: string[]) => {
      let passed = 0;
      let failed = 0;
      for (const dir of dirs) {
        const outcome = await testDir(dir, simOptions());
        if (outcome.passed) {
          passed++;
        } else {
          failed++;
          process.stdout.write(`FAIL ${dir}\n${outcome.detail}`);
        }
      }
      process.stdout.write(`${passed} passed, ${failed} failed\n`);
      if (failed > 0) status = 1;
    });

  program
    .command('regen')
    .argument('<dirs...>', 'scenario folders')
    .description("write each scenario's current log as its log.expect (review the diff before committing)")
    .action(async (dirs: string[]) => {
      for (const dir of dirs) {
        await writeFile(join(dir, 'log.expect'), await simulateDir(dir, simOptions()));
        process.stdout.write(`wrote ${join(dir, 'log.expect')}\n`);
      }
    });

  await program.parseAsync([...argv]);
  return status;
}
