// Generated scenarios (with config oddities, with CRS static/dynamic
// scheduling, and mutations of the reference's own scenarios when those are
// present) through our simulator: every run ends the reference's way and its
// log keeps the invariants the reference's logs keep (checked against the
// reference by test/fuzz/run.mjs --check-reference). The
// byte-for-byte comparison with the reference needs the oracle and lives in
// run.mjs, outside `npm test`.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { simulateDir } from '../../src/cli/simulator.js';
import { requirePrerequisite, skipped } from '../prerequisites.js';
import { REFERENCE_SUITE, scenarioDirs } from '../simulator/scenario-dirs.js';
// @ts-expect-error plain ES module without type declarations
import { generateScenario, writeScenario } from './generate.mjs';
// @ts-expect-error plain ES module without type declarations
import { generateMutant, loadBases } from './mutate.mjs';
// @ts-expect-error plain ES module without type declarations
import { checkFraming, checkInvariants, checkMonotonicTime, checkSingleMaster, checkSingleRunner } from './invariants.mjs';

type Files = Record<string, string>;
type Generated = { seed: number; files: Files };
const generate = (seed: number, options: object = {}) => (generateScenario as (seed: number, o: object) => Generated)(seed, options);
const write = writeScenario as (dir: string, files: Files) => void;
const invariants = checkInvariants as (log: string) => string[];
type Check = (log: string) => string[];

const SEEDS = Array.from({ length: 120 }, (_, i) => 1 + i * 7919);
const work = mkdtempSync(join(tmpdir(), 'ha-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs a scenario; warnings about oddly written files are expected and collected, not printed. */
async function simulate(files: Files, name: string): Promise<string> {
  const dir = join(work, name);
  write(dir, files);
  return simulateDir(dir, { warn: () => undefined });
}

describe('scenario generator', () => {
  it('is deterministic per seed and varies across seeds', () => {
    expect(generate(42).files).toEqual(generate(42).files);
    expect(generate(42).files.cmdlist).not.toEqual(generate(43).files.cmdlist);
  });

  it('writes the reference folder layout', () => {
    const { files } = generate(5);
    for (const name of ['cmdlist', 'hardware_status', 'manager_status', 'service_config']) expect(files[name]).toBeDefined();
    expect(files.manager_status).toBe('{}\n');
    const rounds = JSON.parse(files.cmdlist) as string[][];
    expect(rounds[0].every((cmd) => /^power node\d on$/.test(cmd))).toBe(true);
    const nodes = Object.keys(JSON.parse(files.hardware_status) as object);
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    expect(nodes.length).toBeLessThanOrEqual(5);
  });
});

describe('invariant checks', () => {
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

  it('catch a service started on a second node, but not after a power-off', () => {
    const started = (t: number, node: string) => `info   ${t}    ${node}/lrm: service status vm:101 started\n`;
    expect((checkSingleRunner as Check)(head + started(21, 'node1') + started(41, 'node2'))).toHaveLength(1);
    const fenced = `${head}${started(21, 'node1')}info     40      cmdlist: execute power node1 off\n${started(61, 'node2')}`;
    expect((checkSingleRunner as Check)(fenced)).toEqual([]);
    const moved = `${head}${started(21, 'node1')}info     30    node1/lrm: service vm:101 - end migrate to node 'node2'\n${started(41, 'node2')}`;
    expect((checkSingleRunner as Check)(moved)).toEqual([]);
  });

  it('catch two masters at once', () => {
    const master = (node: string) => `info     20    ${node}/crm: status change wait_for_quorum => master\n`;
    expect((checkSingleMaster as Check)(head + master('node1') + master('node2'))).toHaveLength(1);
  });
});

describe('generated scenarios through our simulator', () => {
  it('include config oddities for some seeds', () => {
    const odd = SEEDS.filter((seed) => JSON.stringify(generate(seed).files) !== JSON.stringify(generate(seed, { oddities: false }).files));
    expect(odd.length).toBeGreaterThan(0);
  });

  it.each(SEEDS)('seed %i keeps the invariants', async (seed) => {
    const log = await simulate(generate(seed).files, `s${seed}`);
    expect(invariants(log)).toEqual([]);
  });

  it.each(SEEDS.slice(0, 40))('seed %i with CRS static/dynamic scheduling keeps the invariants', async (seed) => {
    const { files } = generate(seed, { loadScheduling: true });
    expect(files['datacenter.cfg']).toMatch(/"ha": "(static|dynamic)"/);
    const log = await simulate(files, `crs${seed}`);
    expect(invariants(log)).toEqual([]);
  });
});

describe('mutations of the reference scenarios through our simulator', () => {
  const bases = scenarioDirs(REFERENCE_SUITE, 'test-').length > 0 ? (loadBases as (dirs: string[], o: object) => unknown[])([REFERENCE_SUITE], { loadScheduling: true }) : [];
  const missing = requirePrerequisite('reference', bases.length > 0, `no reference scenarios at ${REFERENCE_SUITE}`);
  if (missing !== undefined) return skipped(missing);
  it.each(SEEDS.slice(0, 40))('seed %i keeps the invariants', async (seed) => {
    const { files } = (generateMutant as (seed: number, bases: unknown[]) => Generated)(seed, bases);
    const log = await simulate(files, `m${seed}`);
    expect(invariants(log)).toEqual([]);
  });
});
