// bin/ha-lab as a user runs it, on short seeds: the shipped daemons on
// emulated nodes (PID namespaces: root only), faults, and the checker's
// verdict as the last line of stdout. Also: nothing the lab started may
// outlive it — after a normal end, Ctrl-C, SIGTERM, or even SIGKILL.
//
// Skipped with the reason when the machine cannot run the lab (not root, no
// unshare/nsenter/setpriv/perl, no build); HA_REQUIRE_UNSHARE=1 makes that a
// failure (test/prerequisites.ts). The etcd run also needs etcd
// (HA_REQUIRE_ETCD=1 likewise).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { labHostProblems, processesWithEnv } from '../../src/lab/host.js';
import { findWatchdogMuxBinary } from '../../src/native/mux-binary.js';
import { etcdMissing } from '../env/store-etcd-server.js';
import { requirePrerequisite, skipped } from '../prerequisites.js';
import { REPO_ROOT } from '../simulator/scenario-dirs.js';

const problems = labHostProblems();
if (!existsSync(join(REPO_ROOT, 'dist/lab/main.js'))) problems.push('dist/ is not built (run `npm run build`)');
if (findWatchdogMuxBinary().path === undefined) problems.push('watchdog-mux is not built (run `npm run build`)');
const labMissing = requirePrerequisite('unshare', problems.length === 0, `the lab cannot run here: ${problems.join('; ')}`);
const noEtcd = etcdMissing();
/**
 * Fast enough for CI, slow enough that watchdog-mux gives a daemon 40
 * cluster seconds (2.7 s real) between feeds on a busy machine with the
 * default profile: at 20x the device's 2 s minimum leaves only 30 (see
 * src/lab/timing.ts). The fast profile allows 3x at most (2.5 s real).
 */
const SCALE = 15;

interface Lab {
  child: ChildProcess;
  lines: string[];
  stderr: string[];
  exit: Promise<number | null>;
  runDir: string | undefined;
}

type OnFinished = (cleanup: () => Promise<void>) => void;

/** Starts bin/ha-lab; it is killed and its run directory removed when the test ends, however it ends. */
function startLab(args: string[], onTestFinished: OnFinished): Lab {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'ha-lab'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const stderr: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal === null ? code : null)));
  const lab: Lab = { child, lines, stderr, exit, runDir: undefined };
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exit;
    if (lab.runDir !== undefined) rmSync(lab.runDir, { recursive: true, force: true });
  });
  return lab;
}

type Line = Record<string, unknown>;
const parsed = (lab: Lab): Line[] => lab.lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Line);

async function until(lab: Lab, what: string, check: (lines: Line[]) => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check(parsed(lab))) {
    if (Date.now() > deadline || lab.child.exitCode !== null) {
      throw new Error(`ha-lab: no ${what}\n${lab.lines.slice(-30).join('\n')}\n${lab.stderr.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The lab's run directory, from its info lines (every process it starts carries it in HA_LAB_RUN). */
function runDirOf(lab: Lab): string {
  const dir = parsed(lab).find((l) => typeof l.runDir === 'string')?.runDir;
  if (typeof dir !== 'string') throw new Error(`no run directory reported:\n${lab.lines.join('\n')}`);
  lab.runDir = dir;
  return dir;
}

async function finished(lab: Lab): Promise<{ code: number | null; result: Line }> {
  const code = await lab.exit;
  const all = parsed(lab);
  return { code, result: all[all.length - 1] ?? {} };
}

async function nothingLeft(runDir: string): Promise<void> {
  // The kernel may take a moment to reap a killed namespace.
  for (let i = 0; i < 50 && processesWithEnv('HA_LAB_RUN', runDir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const left = processesWithEnv('HA_LAB_RUN', runDir);
  if (left.length > 0) throw new Error(`processes of ${runDir} left behind: ${left.join(', ')}`);
}

describe('ha-lab on the real daemons', () => {
  if (labMissing !== undefined) return skipped(labMissing);

  // The two long runs share the machine, as a CI runner would anyway: one on
  // each profile, both on a scaled clock with the simulated watchdog the
  // daemons must accept there (its window measured in cluster time).
  it.concurrent('dir store, fast profile at 3x, kill and restart-lrm: the services recover, nothing runs twice', async ({ onTestFinished, expect }) => {
    // Seed 10 plans a restart-lrm, then a kill, inside this duration (asserted below).
    const lab = startLab(['run', '--nodes', '3', '--services', '3', '--store', 'dir', '--profile', 'fast', '--time-scale', '3',
      '--faults', 'kill,restart-lrm', '--duration', '100', '--seed', '10', '--json', '--keep'], onTestFinished);
    const { code, result } = await finished(lab);
    const dir = runDirOf(lab);
    expect(result).toMatchObject({ seed: 10, profile: 'fast', timeScale: 3, watchdog: true });
    const schedule = result.schedule as { faults: { kind: string }[] };
    expect(schedule.faults.map((f) => f.kind)).toEqual(['restart-lrm', 'kill']);
    const injected = result.injected as { kind: string; target?: string }[];
    expect(injected.map((f) => [f.kind, typeof f.target])).toEqual([['restart-lrm', 'string'], ['kill', 'string']]);
    const resets = result.resets as { cause: string }[];
    expect(resets.map((r) => r.cause)).toContain('power-off');
    expect(result.doubleRuns).toEqual([]);
    expect(result.notRunningAtEnd).toEqual([]);
    expect(result.lostConfig).toEqual([]);
    expect(result.leftovers).toEqual([]);
    expect(result.pass, lab.lines.slice(-5).join('\n')).toBe(true);
    expect(code).toBe(0);
    // Every line of stdout is JSON with --json, and services really ran (the checker saw them).
    expect(parsed(lab).filter((l) => l.event === 'service' && l.change === 'started').length).toBeGreaterThanOrEqual(3);
    await nothingLeft(dir);
  }, 150_000);

  if (noEtcd !== undefined) skipped(noEtcd);
  else it.concurrent('etcd store, a member killed and restarted at 15x', async ({ onTestFinished, expect }) => {
    const lab = startLab(['run', '--nodes', '3', '--services', '3', '--store', 'etcd', '--time-scale', String(SCALE),
      '--faults', 'etcd-member', '--duration', '470', '--seed', '3', '--json', '--keep'], onTestFinished);
    const { code, result } = await finished(lab);
    const dir = runDirOf(lab);
    const injected = result.injected as { kind: string; target?: string }[];
    expect(injected.map((f) => f.kind)).toEqual(['etcd-member']);
    expect(injected[0].target).toMatch(/^etcd\d$/);
    expect(parsed(lab).some((l) => l.event === 'heal' && l.kind === 'etcd-member'), 'the member was restarted').toBe(true);
    expect(result.doubleRuns).toEqual([]);
    expect(result.notRunningAtEnd).toEqual([]);
    expect(result.lostConfig).toEqual([]);
    expect(result.pass, lab.lines.slice(-5).join('\n')).toBe(true);
    expect(code).toBe(0);
    await nothingLeft(dir);
  }, 150_000);

  it('ha-lab up: Ctrl-C stops every process it started', async ({ onTestFinished }) => {
    const lab = startLab(['up', '--nodes', '2', '--services', '2', '--json'], onTestFinished);
    await until(lab, 'both nodes booted', (lines) => lines.filter((l) => l.event === 'boot').length >= 2);
    // The run directory is reported once the cluster is up, just after the boots.
    await until(lab, 'the run directory', (lines) => lines.some((l) => typeof l.runDir === 'string'));
    const dir = runDirOf(lab);
    expect(processesWithEnv('HA_LAB_RUN', dir).length, 'inits, muxes, daemons').toBeGreaterThanOrEqual(2 * 4);
    lab.child.kill('SIGINT');
    const { code, result } = await finished(lab);
    expect(result).toMatchObject({ stopped: 'SIGINT', leftovers: [] });
    expect(code).toBe(0);
    await nothingLeft(dir);
    expect(existsSync(dir), 'the run directory is removed').toBe(false);
  }, 60_000);

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`ha-lab run: ${signal} mid-run ends every process, services included`, async ({ onTestFinished }) => {
      const run = startLab(['run', '--nodes', '2', '--services', '2', '--time-scale', '20', '--faults', 'kill', '--seed', '1', '--json'], onTestFinished);
      await until(run, 'fault phase', (lines) => lines.some((l) => l.info === 'fault phase begins'));
      const runDir = runDirOf(run);
      expect(parsed(run).filter((l) => l.event === 'service' && l.change === 'started').length).toBe(2);
      run.child.kill(signal);
      const { code, result } = await finished(run);
      if (signal === 'SIGTERM') {
        expect(code).toBe(130);
        expect(result).toMatchObject({ interrupted: 'SIGTERM', leftovers: [] });
      }
      // On SIGKILL no handler runs: the parent-death signal and the namespaces do the work.
      await nothingLeft(runDir);
    }, 60_000);
  }
});
