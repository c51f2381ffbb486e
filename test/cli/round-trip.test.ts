// Values that round-trip: random values go into every option of every
// command that writes a config file; whatever is accepted must come back
// from `config` / `groupconfig` / `rules config` (JSON) as the same value,
// and whatever would not read back must be refused, naming the option,
// with the files left as they were. After every command, accepted or not,
// each file still reads without a single issue, so a further change
// through the CLI still works (the CLI refuses to rewrite a file with
// issues). Seeded: a failure names its seed and command.

import { describe, expect, it } from 'vitest';

import { parseCrmCommand } from '../../src/config/crm-commands.js';
import { parseGroupsConfig } from '../../src/config/groups-config.js';
import { parseResourcesConfig } from '../../src/config/resources-config.js';
import { parseRulesConfig } from '../../src/config/rules-config.js';
import { PATHS } from '../../src/env/node/layout.js';
import { mulberry32 } from '../seeded-random.mjs';
import { createHarness, type Harness } from './harness.js';

const SEED = Number(process.env.ROUND_TRIP_SEED ?? 20240305);
const COMMANDS_PER_MODE = Number(process.env.ROUND_TRIP_COMMANDS ?? 250);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

type Random = () => number;
const pick = <T,>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const int = (random: Random, n: number): number => Math.floor(random() * n);

function digits(random: Random, n: number): string {
  let out = String(1 + int(random, 9));
  for (let i = 1; i < n; i++) out += String(int(random, 10));
  return out;
}

function integerText(random: Random): string {
  return pick(random, [
    () => String(int(random, 10)),
    () => String(int(random, 100_000)),
    () => digits(random, 15 + int(random, 10)), // around and past 2^53
    () => `${'0'.repeat(1 + int(random, 3))}${int(random, 50)}`,
    () => `+${int(random, 9)}`,
    () => `-${1 + int(random, 9)}`,
    () => ` ${int(random, 9)} `,
    () => pick(random, ['', 'x', '1.5', '1e3', '0x10', '١٢', '9007199254740991', '9007199254740992', '99999999999999999']),
  ])();
}

function booleanText(random: Random): string {
  return pick(random, ['1', '0', 'yes', 'no', 'on', 'off', 'true', 'false', 'TRUE', 'Off', '2', 'maybe', '']);
}

const TEXT_PIECES = [
  'web', 'db tier', ' ', '  ', '\t', '\u00a0', '\u2028', '\u3000', '%', '%41', ':', '#', 'ü', '✓', '😀', '\u0001', '\u007f', '\\', '"', "'", ',', ';', '0',
];

function textValue(random: Random): string {
  return pick(random, [
    () => Array.from({ length: int(random, 6) }, () => pick(random, TEXT_PIECES)).join(''),
    () => pick(random, ['', ' ', '\u00a0', ' \t ', '0', 'a\nb', 'a\rb', '\ud800', 'x\udc00y']),
    // about the 4096-character limit, in characters of one or two UTF-16 units
    () => pick(random, ['a', '😀', 'ü']).repeat(4090 + int(random, 12)),
  ])();
}

function nodeEntry(random: Random, nodes: readonly string[]): string {
  const node = pick(random, [...nodes, ...nodes, 'node_1', '-bad', 'n'.repeat(3)]);
  return pick(random, [() => node, () => `${node}:${integerText(random).trim()}`])();
}

function listText(random: Random, items: () => string): string {
  const count = int(random, 4);
  return Array.from({ length: count }, items).join(pick(random, [',', ';', ' ', ', ']));
}

// What a value that is accepted must come back as.
const trimmed = (text: string): string => text.replace(/^\s+|\s+$/g, '');

function expectInteger(shown: unknown, given: string, where: string): void {
  expect(typeof shown, where).toBe('number');
  expect(BigInt(shown as number), where).toBe(BigInt(given.trim()));
  expect(BigInt(given.trim()) <= MAX_SAFE, where).toBe(true);
}

function expectBoolean(shown: unknown, given: string, where: string): void {
  expect(shown, where).toBe(/^(1|on|yes|true)$/i.test(given) ? 1 : 0);
}

function expectComment(shown: unknown, given: string, where: string): void {
  const text = trimmed(given);
  expect(shown, where).toBe(text === '' ? undefined : text);
  expect([...text].length <= 4096 && !/[\r\n]/.test(given), where).toBe(true);
}

/** `node[:priority]` entries as a map node → priority (exact). */
function nodeMap(list: string): Map<string, bigint> {
  const map = new Map<string, bigint>();
  for (const entry of list.split(/[,;\s]+/).filter(Boolean)) {
    const [node, priority] = entry.split(':');
    map.set(node, BigInt(priority ?? '0'));
  }
  return map;
}

/** Every HA file reads back without a single issue: the CLI can still change each. */
async function expectChangeable(h: Harness, where: string): Promise<void> {
  const read = async (path: string) => (await h.read(path)) ?? '';
  const files = { resources: await read(PATHS.resources), rules: await read(PATHS.rules), groups: await read(PATHS.groups) };
  expect(() => parseResourcesConfig(files.resources, PATHS.resources), where).not.toThrow();
  expect(() => parseRulesConfig(files.rules, PATHS.rules), where).not.toThrow();
  expect(() => parseGroupsConfig(files.groups, PATHS.groups), where).not.toThrow();
}

async function snapshot(h: Harness): Promise<string[]> {
  return Promise.all([PATHS.resources, PATHS.rules, PATHS.groups, PATHS.crmCommands].map(async (path) => (await h.read(path)) ?? ''));
}

const NODES = ['node1', 'node2', 'node3'];
const SIDS = ['vm:100', 'vm:101', 'vm:102', 'vm:103'];

async function cluster(withGroup: boolean): Promise<Harness> {
  const h = createHarness({ nodes: NODES });
  for (const [i, sid] of SIDS.entries()) await h.guest(NODES[i % 3], sid);
  if (withGroup) await h.write(PATHS.groups, 'group: g1\n\tnodes node1\n\n');
  await h.managerStatus({ master_node: 'node1', timestamp: h.now, node_status: Object.fromEntries(NODES.map((n) => [n, 'online'])) });
  return h;
}

type Options = Array<[string, string]>;

/** Random options for `add`/`set`: each present or not, with a random value. */
function resourceOptions(random: Random, withGroup: boolean): Options {
  const options: Options = [];
  if (random() < 0.4) options.push(['state', pick(random, ['started', 'stopped', 'enabled', 'disabled', 'ignored', 'running', ''])]);
  if (withGroup && random() < 0.2) options.push(['group', pick(random, ['g1', 'g-x', '1x'])]);
  if (random() < 0.4) options.push(['failback', booleanText(random)]);
  if (random() < 0.5) options.push(['max_restart', integerText(random)]);
  if (random() < 0.5) options.push(['max_relocate', integerText(random)]);
  if (random() < 0.6) options.push(['comment', textValue(random)]);
  return options;
}

function flags(options: Options): string[] {
  return options.flatMap(([key, value]) => [`--${key}`, value]);
}

async function checkResource(h: Harness, sid: string, options: Options, where: string): Promise<void> {
  const records = JSON.parse((await h.run('config', '--output-format', 'json')).stdout) as Array<Record<string, unknown>>;
  const record = records.find((r) => r.sid === sid);
  expect(record, where).toBeDefined();
  for (const [key, value] of options) {
    const shown = record?.[key];
    if (key === 'max_restart' || key === 'max_relocate') expectInteger(shown, value, `${where} ${key}`);
    else if (key === 'failback') expectBoolean(shown, value, `${where} ${key}`);
    else if (key === 'comment') expectComment(shown, value, `${where} ${key}`);
    else expect(shown, `${where} ${key}`).toBe(value);
  }
}

async function runResourceCommand(h: Harness, random: Random, withGroup: boolean, step: string): Promise<void> {
  const sid = pick(random, SIDS);
  const options = resourceOptions(random, withGroup);
  const command = random() < 0.5 ? 'add' : 'set';
  const args = [command, sid, ...flags(options)];
  const where = `${step} ${JSON.stringify(args)}`;
  const before = await snapshot(h);
  const result = await h.run(...args);
  if (result.code === 0) {
    await checkResource(h, sid, options, where);
  } else {
    expect(await snapshot(h), where).toEqual(before);
    if (result.code === 2) {
      expect(result.stderr, where).toMatch(/^(400 Parameter verification failed\.\n(\S+: .*\n)+|.*\n)\nUSAGE: /);
    }
  }
  await expectChangeable(h, where);
  if (random() < 0.1) expect((await h.run('remove', sid)).code, where).not.toBe(2);
}

async function runGroupCommand(h: Harness, random: Random, step: string): Promise<void> {
  const group = pick(random, ['g1', 'g2', 'g3']);
  const options: Options = [];
  const add = random() < 0.5;
  if (add || random() < 0.5) options.push(['nodes', listText(random, () => nodeEntry(random, NODES))]);
  if (random() < 0.4) options.push(['restricted', booleanText(random)]);
  if (random() < 0.4) options.push(['nofailback', booleanText(random)]);
  if (random() < 0.6) options.push(['comment', textValue(random)]);
  const args = [add ? 'groupadd' : 'groupset', group, ...flags(options)];
  const where = `${step} ${JSON.stringify(args)}`;
  const before = await snapshot(h);
  const result = await h.run(...args);
  if (result.code === 0) {
    const records = JSON.parse((await h.run('groupconfig', '--output-format', 'json')).stdout) as Array<Record<string, unknown>>;
    const record = records.find((r) => r.group === group);
    for (const [key, value] of options) {
      const shown = record?.[key];
      if (key === 'nodes') expect(nodeMap(String(shown)), `${where} nodes`).toEqual(nodeMap(value));
      else if (key === 'comment') expectComment(shown, value, `${where} comment`);
      else expectBoolean(shown, value, `${where} ${key}`);
    }
  } else {
    expect(await snapshot(h), where).toEqual(before);
  }
  await expectChangeable(h, where);
}

async function runRuleCommand(h: Harness, random: Random, step: string): Promise<void> {
  const rule = pick(random, ['r1', 'r2', 'r3']);
  const type = pick(random, ['node-affinity', 'resource-affinity']);
  const options: Options = [];
  const add = random() < 0.5;
  if (add || random() < 0.5) options.push(['resources', listText(random, () => pick(random, [...SIDS, 'vm:100', 'ct:9', 'x']))]);
  if (type === 'node-affinity') {
    if (add || random() < 0.5) options.push(['nodes', listText(random, () => nodeEntry(random, NODES))]);
    if (random() < 0.4) options.push(['strict', booleanText(random)]);
  } else if (add || random() < 0.5) {
    options.push(['affinity', pick(random, ['positive', 'negative', 'neutral'])]);
  }
  if (random() < 0.3) options.push(['disable', booleanText(random)]);
  if (random() < 0.6) options.push(['comment', textValue(random)]);
  const args = ['rules', add ? 'add' : 'set', type, rule, ...flags(options)];
  const where = `${step} ${JSON.stringify(args)}`;
  const before = await snapshot(h);
  const result = await h.run(...args);
  if (result.code === 0) {
    const records = JSON.parse((await h.run('rules', 'config', '--output-format', 'json')).stdout) as Array<Record<string, unknown>>;
    const record = records.find((r) => r.rule === rule);
    for (const [key, value] of options) {
      const shown = record?.[key];
      if (key === 'nodes') {
        const given = nodeMap(value);
        for (const [node, priority] of given) if (priority === 0n) given.set(node, 0n);
        expect(nodeMap(String(shown)), `${where} nodes`).toEqual(given);
      } else if (key === 'resources') {
        expect(String(shown).split(',').sort(), `${where} resources`).toEqual([...new Set(value.split(/[,;\s]+/).filter(Boolean))].sort());
      } else if (key === 'comment') {
        expectComment(shown, value, `${where} comment`);
      } else if (key === 'disable') {
        // A disable of 0 is no setting: `delete disable` enables a rule.
        if (/^(1|on|yes|true)$/i.test(value)) expect(shown, `${where} disable`).toBe(1);
      } else if (key === 'strict') {
        expectBoolean(shown, value, `${where} strict`);
      } else {
        expect(shown, `${where} ${key}`).toBe(value);
      }
    }
  } else {
    expect(await snapshot(h), where).toEqual(before);
  }
  await expectChangeable(h, where);
}

async function runStop(h: Harness, random: Random, step: string): Promise<void> {
  const timeout = integerText(random);
  const sid = pick(random, SIDS);
  const args = ['crm-command', 'stop', sid, timeout];
  const where = `${step} ${JSON.stringify(args)}`;
  await h.write(PATHS.crmCommands, '');
  const result = await h.run(...args);
  if (result.code !== 0) return;
  const queued = parseCrmCommand(((await h.read(PATHS.crmCommands)) ?? '').trim());
  expect(queued?.kind, where).toBe('stop');
  if (queued?.kind === 'stop') {
    expect(BigInt(queued.timeout), where).toBe(BigInt(timeout.trim()));
    expect(BigInt(queued.timeout) <= MAX_SAFE, where).toBe(true);
  }
}

describe(`values round-trip through every option (seed ${SEED})`, () => {
  it('resources and rules, groups migrated', async () => {
    const random = mulberry32(SEED);
    const h = await cluster(false);
    for (const sid of SIDS) await h.run('add', sid);
    for (let step = 0; step < COMMANDS_PER_MODE; step++) {
      const where = `seed ${SEED} step ${step}`;
      const kind = random();
      if (kind < 0.45) await runResourceCommand(h, random, false, where);
      else if (kind < 0.9) await runRuleCommand(h, random, where);
      else {
        await h.managerStatus({
          master_node: 'node1',
          timestamp: h.now,
          node_status: Object.fromEntries(NODES.map((n) => [n, 'online'])),
          service_status: Object.fromEntries(SIDS.map((sid) => [sid, { node: 'node1', state: 'started' }])),
        });
        await runStop(h, random, where);
      }
    }
  });

  it('resources and groups, groups in use', async () => {
    const random = mulberry32(SEED + 1);
    const h = await cluster(true);
    for (let step = 0; step < COMMANDS_PER_MODE; step++) {
      const where = `seed ${SEED + 1} step ${step}`;
      if (random() < 0.5) await runResourceCommand(h, random, true, where);
      else await runGroupCommand(h, random, where);
    }
  });
});
