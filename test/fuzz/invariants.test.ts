// Fuzzed scenarios through our simulator with the online invariant checkers
// (src/env/sim/invariants.ts) watching every step: one runner per service,
// guests only under a lock or an armed watchdog, fencing before recovery,
// one master, watchdogs that fire, and a liveness phase once the faults
// heal. Each run draws fresh seeds and prints them; one replays with
//
//   HA_FUZZ_SEED=<seed> npx vitest run test/fuzz/invariants.test.ts
//
// (`123`, `crs:123` or `mutant:123`, as printed; add HA_FUZZ_POLICY=safe for
// a seed of the safe policy's runs, which hold the core's safe behaviour to
// stricter checks, see src/core/policy.ts). The long run is
// `npm run bench` (bench/fuzz-invariants.bench.mjs). The log-form checks of
// invariants.mjs (framing, per-daemon time, state chains) run on every log
// too; the byte-for-byte comparison with the reference needs an oracle and
// lives in run.mjs, outside `npm test`.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { simulateDir } from '../../src/cli/simulator.js';
import { parseScenarioPolicy } from '../../src/config/scenario.js';
import { createInvariantChecker, describeViolation, type InvariantReport } from '../../src/env/sim/invariants.js';
import { requirePrerequisite, skipped } from '../prerequisites.js';
import { OWN_SUITE, REFERENCE_SUITE, scenarioDirs } from '../simulator/scenario-dirs.js';
// @ts-expect-error plain ES module without type declarations
import { generateScenario, writeScenario } from './generate.mjs';
// @ts-expect-error plain ES module without type declarations
import { checkFraming, checkInvariants, checkMonotonicTime } from './invariants.mjs';
// @ts-expect-error plain ES module without type declarations
import { loadBases } from './mutate.mjs';
// @ts-expect-error plain ES module without type declarations
import { checkSeed, pickSeeds, seedLabel, summarize } from './online.mjs';

type Files = Record<string, string>;
type Generated = { seed: number; files: Files; liveness?: { fromRound: number } };
type Spec = { kind: 'generated' | 'crs' | 'mutant'; seed: number };
type Policy = 'reference' | 'safe';
type Checked = { spec: Spec; report: InvariantReport; log: string; policy?: Policy };
type Check = (log: string) => string[];
const generate = (seed: number, options: object = {}) => (generateScenario as (seed: number, o: object) => Generated)(seed, options);
const logInvariants = checkInvariants as Check;
const sim = { simulateDir, createInvariantChecker };
const check = checkSeed as (spec: Spec, s: typeof sim, work: string, bases: unknown[], policy?: Policy) => Promise<Checked>;

/** Fixed seeds for the generator's own properties (they must not flake). */
const FIXED = Array.from({ length: 120 }, (_, i) => 1 + i * 7919);
const bases: unknown[] = scenarioDirs(REFERENCE_SUITE, 'test-').length > 0 ? (loadBases as (d: string[], o: object) => unknown[])([REFERENCE_SUITE], { loadScheduling: true }) : [];
const replay = process.env.HA_FUZZ_SEED;
const replayPolicy = process.env.HA_FUZZ_POLICY ?? 'reference';
if (replayPolicy !== 'reference' && replayPolicy !== 'safe') throw new Error(`HA_FUZZ_POLICY must be reference or safe, got '${replayPolicy}'`);
const pick = pickSeeds as (c: object, o: object) => Spec[];
/** Per run: about 15 s on a quiet 2-core machine, and 10 s more for the safe policy's. */
const fresh: Record<Policy, Spec[]> = {
  reference: replay !== undefined && replayPolicy !== 'reference' ? [] : pick({ generated: 300, crs: 60, mutant: bases.length > 0 ? 60 : 0 }, { replay }),
  safe: replay !== undefined && replayPolicy !== 'safe' ? [] : pick({ generated: 200, crs: 50, mutant: bases.length > 0 ? 50 : 0 }, { replay }),
};
const label = seedLabel as (s: Spec) => string;
const work = mkdtempSync(join(tmpdir(), 'ha-fuzz-'));
const results: Checked[] = [];

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  const t = (summarize as (r: Checked[]) => { seeds: number; loops: number; steps: number; violations: number; failedSeeds: string[] })(results);
  const seeds = (policy: Policy) => results.filter((r) => r.policy === policy).map((r) => label(r.spec)).join(' ');
  process.stdout.write(
    `fuzz invariants: ${t.seeds} seeds, ${t.loops} loops, ${t.steps} steps checked, ${t.violations} violations` +
      `${t.failedSeeds.length > 0 ? ` (seeds ${t.failedSeeds.join(' ')})` : ''}\n` +
      `  seeds run (reference policy): ${seeds('reference')}\n  seeds run (safe policy): ${seeds('safe')}\n` +
      '  replay one: HA_FUZZ_SEED=<seed> [HA_FUZZ_POLICY=safe] npx vitest run test/fuzz/invariants.test.ts\n',
  );
});

describe('scenario generator', () => {
  it('is deterministic per seed and varies across seeds', () => {
    expect(generate(42).files).toEqual(generate(42).files);
    expect(generate(42).files.cmdlist).not.toEqual(generate(43).files.cmdlist);
  });

  it('writes the reference folder layout, ending with the heal rounds', () => {
    const { files, liveness } = generate(5);
    for (const name of ['cmdlist', 'hardware_status', 'manager_status', 'service_config']) expect(files[name]).toBeDefined();
    expect(files.manager_status).toBe('{}\n');
    const rounds = JSON.parse(files.cmdlist) as string[][];
    expect(rounds[0].every((cmd) => /^power node\d on$/.test(cmd))).toBe(true);
    const nodes = Object.keys(JSON.parse(files.hardware_status) as object);
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    expect(nodes.length).toBeLessThanOrEqual(5);
    expect(liveness?.fromRound).toBe(rounds.length - 1);
    expect(rounds[rounds.length - 1]).toEqual(nodes.flatMap((n) => [`power ${n} on`, `crm ${n} start`]));
    expect(rounds[rounds.length - 2]).toContain(`crm ${nodes[0]} arm-ha`);
    expect(JSON.parse(generate(5, { heal: false }).files.cmdlist)).toEqual(rounds.slice(0, -2));
  });

  it('sets CRS static or dynamic scheduling on request', () => {
    for (const seed of FIXED.slice(0, 20)) expect(generate(seed, { loadScheduling: true }).files['datacenter.cfg']).toMatch(/"ha": "(static|dynamic)"/);
  });

  it('includes config oddities for some seeds', () => {
    const odd = FIXED.filter((seed) => JSON.stringify(generate(seed).files) !== JSON.stringify(generate(seed, { oddities: false }).files));
    expect(odd.length).toBeGreaterThan(0);
  });

  it('draws every kind of fault, in multi-round stories too', () => {
    const commands = FIXED.flatMap((seed) => (JSON.parse(generate(seed).files.cmdlist) as string[][]).slice(0, -2).flat());
    const seen = (re: RegExp): number => commands.filter((c) => re.test(c)).length;
    for (const re of [
      /^crm \S+ disarm-ha (freeze|ignore)$/,
      /^crm \S+ arm-ha$/,
      /^restart-lrm /,
      /^network \S+ off$/,
      /^power \S+ off$/,
      /^(shutdown|reboot) /,
      /^crm \S+ enable-node-maintenance$/,
      /^service \S+ manual-migrate /,
      /^crm \S+ stop$/,
      /^skip-round /,
      /^cfs \S+ (rw|update) fail$/,
    ]) {
      expect(seen(re), String(re)).toBeGreaterThan(0);
    }
  });

  it('starts a stopped CRM before a shutdown or reboot, which only its exit completes', () => {
    for (const seed of FIXED) {
      const stopped = new Set<string>();
      for (const cmd of (JSON.parse(generate(seed).files.cmdlist) as string[][]).flat()) {
        const [verb, node, action] = cmd.split(' ');
        if (verb === 'crm' && action === 'stop') stopped.add(node);
        else if (verb === 'crm' && action === 'start') stopped.delete(node);
        else if (verb === 'shutdown' || verb === 'reboot') expect(stopped.has(node), `seed ${seed}: ${cmd}`).toBe(false);
      }
    }
  });
});

describe('log form checks', () => {
  const head = 'info      0     hardware: starting simulation\n';
  it('accept a done run and an error exit split by the reference', () => {
    expect((checkFraming as Check)(`${head}info    720     hardware: exit simulation - done\n`)).toEqual([]);
    const err = `${head}err     120     hardware: exit simulation - no such service 'vm:9' at ../PVE/HA/Sim/Hardware.pm line 191.\n \n`;
    expect((checkFraming as Check)(err)).toEqual([]);
    expect((checkFraming as Check)(`${head}info     20    node1/crm: status change startup => wait_for_quorum\n`)).not.toEqual([]);
  });

  it('catch time running backwards within a daemon', () => {
    const log = `${head}info     40    node1/lrm: a\ninfo     20    node2/lrm: b\ninfo     39    node1/lrm: c\n`;
    expect((checkMonotonicTime as Check)(log)).toEqual(['node1/lrm: time goes back from 40 (line 2) to 39 (line 4)']);
  });
});

/** The policy a scenario folder is written for (its `policy` file), else the reference's. */
function scenarioPolicy(dir: string): Policy {
  const file = join(dir, 'policy');
  return existsSync(file) ? parseScenarioPolicy(readFileSync(file, 'utf8'), file) : 'reference';
}

/** Scenario folders with the checkers attached (held to their policy): logs unchanged, no invariant broken. */
async function checkFixed(dirs: string[]): Promise<void> {
  expect(dirs.length).toBeGreaterThan(0);
  for (const dir of dirs) {
    const checker = createInvariantChecker({ policy: scenarioPolicy(dir) });
    const log = await simulateDir(dir, { warn: () => undefined, observer: checker });
    const expected = join(dir, 'log.expect');
    if (existsSync(expected)) expect(log, dir).toBe(readFileSync(expected, 'utf8'));
    expect(checker.report().violations.map((v) => describeViolation(v, dir)), dir).toEqual([]);
  }
}

describe('own scenarios with the online checkers', () => {
  it('keep their logs byte for byte and break no invariant', () => checkFixed(scenarioDirs(OWN_SUITE)));

  it('each of the safe policy’s pins a fix: run the reference’s way, it fails the safe checks', async () => {
    const dirs = scenarioDirs(OWN_SUITE).filter((dir) => scenarioPolicy(dir) === 'safe');
    expect(dirs.length).toBeGreaterThanOrEqual(5);
    for (const dir of dirs) {
      // The last round heals what the scenario broke: liveness from there.
      const fromRound = (JSON.parse(readFileSync(join(dir, 'cmdlist'), 'utf8')) as unknown[]).length - 1;
      const violations = async (policy: Policy): Promise<string[]> => {
        const checker = createInvariantChecker({ policy: 'safe', liveness: { fromRound } });
        await simulateDir(dir, { warn: () => undefined, observer: checker, policy });
        return checker.report().violations.map((v) => describeViolation(v, dir));
      };
      expect(await violations('safe'), dir).toEqual([]);
      expect((await violations('reference')).length, dir).toBeGreaterThan(0);
    }
  });
});

describe('reference scenarios with the online checkers', () => {
  const dirs = scenarioDirs(REFERENCE_SUITE, 'test-');
  const missing = requirePrerequisite('reference', dirs.length > 0, `no reference scenarios at ${REFERENCE_SUITE}`);
  if (missing !== undefined) return skipped(missing);
  it('keep their logs byte for byte and break no invariant', () => checkFixed(dirs));
});

describe('checkers on runs of known seeds', () => {
  // Fixed seeds, so that what the checkers must have seen cannot flake.
  it('see disarms, LRM restarts, fencing, recoveries, resets, manual migrations and CRM restarts', async () => {
    const runs: Checked[] = [];
    for (let seed = 1; seed <= 100; seed++) runs.push(await check({ kind: 'generated', seed }, sim, work, bases));
    const total = (summarize as (r: Checked[]) => { violations: number; coverage: Record<string, number>; exceptions: Record<string, number>; liveness: number })(runs);
    expect(runs.flatMap((r) => r.report.violations.map((v) => describeViolation(v, r.spec.seed)))).toEqual([]);
    for (const event of ['lrm-give-up/disarm', 'lrm-give-up/restart', 'fence-ack', 'recovery', 'watchdog-reset', 'manual-migrate', 'command/crm stop', 'command/crm start', 'guest-start']) {
      expect(total.coverage[event] ?? 0, event).toBeGreaterThan(0);
    }
    // The reference's own unsafe paths, seen and excused: a disarmed node
    // fenced while its guests run on (seeds 44, 65); a guest added running
    // on a node that is off, recovered, and run again when it boots (81).
    expect(total.exceptions['single-runner/disarm'] ?? 0).toBeGreaterThan(0);
    expect(total.exceptions['single-runner/unclaimed'] ?? 0).toBeGreaterThan(0);
    expect(total.liveness).toBeGreaterThan(80);
  });

  it('hold the safe policy to stricter checks on the same seeds, which it keeps', async () => {
    const runs: Checked[] = [];
    for (let seed = 1; seed <= 100; seed++) runs.push(await check({ kind: 'generated', seed }, sim, work, bases, 'safe'));
    const total = (summarize as (r: Checked[]) => { exceptions: Record<string, number>; exempt: Record<string, number>; liveness: number })(runs);
    expect(runs.flatMap((r) => r.report.violations.map((v) => describeViolation(v, r.spec.seed)))).toEqual([]);
    // LRMs still give up their protection for disarms and freezes, but no
    // guest so left is fenced, recovered or run twice any more.
    expect(total.exceptions['protection/disarm'] ?? 0).toBeGreaterThan(0);
    const unsafe = Object.keys(total.exceptions).filter((k) => /^(single-runner|fencing)\/(disarm|freeze|inactive|manual-move)$/.test(k));
    expect(unsafe).toEqual([]);
    expect(Object.keys(total.exempt).filter((k) => k === 'stuck-restart' || k === 'wedged-recovery')).toEqual([]);
    expect(total.liveness).toBeGreaterThan(80);
  });

  it('find the reference policy’s disarm double runs when holding it to the safe checks', async () => {
    // Seeds 44 and 65: a disarmed node cut off, re-armed, fenced by its free lock while its guests run.
    for (const seed of [44, 65]) {
      const { files, liveness } = generate(seed);
      const dir = join(work, `as-safe-${seed}`);
      (writeScenario as (d: string, f: Files) => void)(dir, files);
      const checks = async (policy: Policy): Promise<string[]> => {
        const checker = createInvariantChecker({ policy: 'safe', ...(liveness !== undefined ? { liveness } : {}) });
        await simulateDir(dir, { warn: () => undefined, observer: checker, policy });
        return checker.report().violations.map((v) => v.check);
      };
      expect(await checks('reference'), `seed ${seed}`).toContain('single-runner');
      expect(await checks('safe'), `seed ${seed}`).toEqual([]);
    }
  });
});

async function checkFresh(spec: Spec, policy: Policy): Promise<void> {
  const result = await check(spec, sim, work, bases, policy);
  results.push({ ...result, policy });
  const seed = label(spec);
  expect(result.report.violations.map((v) => describeViolation(v, seed))).toEqual([]);
  expect(logInvariants(result.log)).toEqual([]);
}

const cases = (policy: Policy, kinds: Spec['kind'][]) => fresh[policy].filter((s) => kinds.includes(s.kind)).map((spec) => [label(spec), spec] as const);

for (const policy of ['reference', 'safe'] as const) {
  describe(`fresh generated seeds through our simulator, ${policy} policy`, () => {
    const own = cases(policy, ['generated', 'crs']);
    if (own.length > 0) it.each(own)('seed %s keeps every invariant', (_, spec) => checkFresh(spec, policy));
  });

  describe(`fresh mutations of the reference scenarios through our simulator, ${policy} policy`, () => {
    const mutants = cases(policy, ['mutant']);
    if (replay !== undefined && mutants.length === 0) return;
    if (mutants.length > 0 && bases.length === 0) throw new Error(`cannot replay ${replay}: no reference scenarios at ${REFERENCE_SUITE}`);
    const missing = requirePrerequisite('reference', bases.length > 0, `no reference scenarios at ${REFERENCE_SUITE}`);
    if (missing !== undefined) return skipped(missing);
    it.each(mutants)('seed %s keeps every invariant', (_, spec) => checkFresh(spec, policy));
  });
}
