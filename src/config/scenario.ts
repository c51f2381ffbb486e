// A simulator scenario folder: the files the reference's regression tests
// start from, as typed data. Each file is optional; what the simulator
// assumes for a missing file is the simulator's business, not this reader's.
// The command semantics of cmdlist are the simulator's too; here it is only
// split into rounds of command strings.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { POLICIES, isPolicy, type Policy } from '../core/policy.js';
import type { GroupsConfig, RulesConfig } from '../core/rules/types.js';
import type { DatacenterSettings, ManagerStatus, NodeName, Sid } from '../core/types.js';
import { parseScenarioDatacenterConfig } from './datacenter-config.js';
import { FenceConfigError, parseFenceConfig, type FenceConfig } from './fence-config.js';
import { parseGroupsConfig } from './groups-config.js';
import { ConfigError, type ConfigIssue } from './issues.js';
import { JsonIssues, describeJson, parseJsonDocument, type JsonObject, type JsonValue } from './json-source.js';
import { parseManagerStatus } from './manager-status.js';
import { perlTrue } from './pve-text.js';
import { parseRulesConfig } from './rules-config.js';
import { parseScenarioServiceConfig, type ScenarioServiceConfig } from './service-config.js';

export const SCENARIO_FILES = [
  'cmdlist',
  'hardware_status',
  'manager_status',
  'service_config',
  'static_service_stats',
  'dynamic_service_stats',
  'datacenter.cfg',
  'rules_config',
  'groups',
  'fence.cfg',
  'policy',
] as const;
export type ScenarioFileName = (typeof SCENARIO_FILES)[number];

/** Rounds of commands; each round's commands run at the same simulated time. */
export type CmdList = string[][];

export type OnOff = 'on' | 'off';

export interface HardwareNodeStatus {
  power: OnOff;
  network: OnOff;
  /** CPU cores and memory bytes the scheduler sees. */
  maxcpu?: number;
  maxmem?: number;
  'pve-manager-version'?: string;
  /** A shutdown or reboot under way (set by the simulator). */
  shutdown?: 'shutdown' | 'reboot';
  /** Cluster filesystem health (set by the simulator); unset means working. */
  cfs?: { rw?: boolean; update?: boolean };
}

export type HardwareStatus = Record<NodeName, HardwareNodeStatus>;

export interface StaticServiceStats {
  maxcpu?: number;
  maxmem?: number;
}

export interface DynamicServiceStats {
  cpu?: number;
  mem?: number;
}

export interface Scenario {
  dir: string;
  /** The texts of the files present. */
  raw: Partial<Record<ScenarioFileName, string>>;
  cmdlist?: CmdList;
  hardwareStatus?: HardwareStatus;
  managerStatus?: ManagerStatus;
  serviceConfig?: ScenarioServiceConfig;
  staticServiceStats?: Record<Sid, StaticServiceStats>;
  dynamicServiceStats?: Record<Sid, DynamicServiceStats>;
  datacenter?: DatacenterSettings;
  rules?: RulesConfig;
  groups?: GroupsConfig;
  fence?: FenceConfig;
  /** Guests already running at the start, per node (`service_status_<node>`): sid → truth value. */
  serviceStatus?: Record<NodeName, Record<Sid, JsonValue>>;
  /** The core behaviour the scenario is written for (`policy`; the reference's scenarios have none). */
  policy?: Policy;
}

/** The nodes a scenario has: its hardware_status's, or the simulator's default three. */
export function scenarioNodes(hardwareStatus: HardwareStatus | undefined): NodeName[] {
  return hardwareStatus === undefined ? ['node1', 'node2', 'node3'] : Object.keys(hardwareStatus).sort();
}

/** Parses a `service_status_<node>` file: an object of sid → value (truthy: running). */
export function parseServiceStatusFile(text: string, file: string): Record<Sid, JsonValue> {
  const doc = parseJsonDocument(text, file);
  const check = new JsonIssues(doc);
  const root = check.object([], doc.value);
  check.settle();
  return { ...(root ?? {}) };
}

/** Parses cmdlist: a JSON array of rounds, each an array of command strings. */
export function parseCmdList(text: string, file = 'cmdlist'): CmdList {
  const doc = parseJsonDocument(text, file);
  const check = new JsonIssues(doc);
  const rounds: CmdList = [];
  if (!Array.isArray(doc.value)) {
    check.add([], `expected an array of rounds, got ${describeJson(doc.value)}`);
  } else {
    doc.value.forEach((round, i) => {
      if (!Array.isArray(round)) {
        check.add([i], `expected an array of command strings, got ${describeJson(round)}`);
        return;
      }
      const commands: string[] = [];
      round.forEach((cmd, j) => {
        const text = check.string([i, j], cmd);
        if (text !== undefined) commands.push(text);
      });
      rounds.push(commands);
    });
  }
  check.settle();
  return rounds;
}

/**
 * Parses a scenario's `policy` file: the name of the core behaviour its
 * golden log was made with (src/core/policy.ts), alone on one line. Blank
 * lines and `#` comments are allowed.
 */
export function parseScenarioPolicy(text: string, file = 'policy'): Policy {
  let policy: Policy | undefined;
  const issues: ConfigIssue[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (policy !== undefined) {
      issues.push({ file, line: i + 1, message: `a second policy '${line}' (the file names one policy)` });
    } else if (isPolicy(line)) {
      policy = line;
    } else {
      issues.push({ file, line: i + 1, message: `unknown policy '${line}' (expected ${POLICIES.join(' or ')})` });
    }
  });
  if (policy === undefined && issues.length === 0) issues.push({ file, message: `no policy named (expected ${POLICIES.join(' or ')})` });
  if (issues.length > 0 || policy === undefined) throw new ConfigError(issues);
  return policy;
}

export function writeScenarioPolicy(policy: Policy): string {
  return `${policy}\n`;
}

export function writeCmdList(cmdlist: CmdList): string {
  return `[\n${cmdlist.map((round) => `    ${JSON.stringify(round)}`).join(',\n')}\n]\n`;
}

const HARDWARE_KEYS = ['power', 'network', 'maxcpu', 'maxmem', 'pve-manager-version', 'shutdown', 'cfs'] as const;

function readCfs(check: JsonIssues, node: string, value: JsonObject): HardwareNodeStatus['cfs'] {
  const cfs: NonNullable<HardwareNodeStatus['cfs']> = {};
  check.onlyKeys([node, 'cfs'], value, ['rw', 'update']);
  for (const key of ['rw', 'update'] as const) {
    const flag = value[key];
    if (flag === undefined || flag === null) continue;
    if (typeof flag === 'boolean') cfs[key] = flag;
    else if (typeof flag === 'number' || typeof flag === 'string') cfs[key] = perlTrue(flag);
    else check.add([node, 'cfs', key], `expected a boolean, got ${describeJson(flag)}`);
  }
  return cfs;
}

/** Parses hardware_status: node → power, network and optional capacity, version and health. */
export function parseHardwareStatus(text: string, file = 'hardware_status'): HardwareStatus {
  const doc = parseJsonDocument(text, file);
  const check = new JsonIssues(doc);
  const status: HardwareStatus = {};
  for (const [node, value] of Object.entries(check.object([], doc.value) ?? {})) {
    const obj = check.object([node], value);
    if (obj === undefined) continue;
    check.onlyKeys([node], obj, HARDWARE_KEYS);
    const power = check.oneOf([node, 'power'], obj.power, ['on', 'off'] as const);
    const network = check.oneOf([node, 'network'], obj.network, ['on', 'off'] as const);
    if (power === undefined || network === undefined) continue;
    const entry: HardwareNodeStatus = { power, network };
    for (const key of ['maxcpu', 'maxmem'] as const) {
      if (obj[key] === undefined) continue;
      const n = check.number([node, key], obj[key]);
      if (n !== undefined) entry[key] = n;
    }
    if (obj['pve-manager-version'] !== undefined) {
      const version = check.string([node, 'pve-manager-version'], obj['pve-manager-version']);
      if (version !== undefined) entry['pve-manager-version'] = version;
    }
    if (obj.shutdown !== undefined && obj.shutdown !== null) {
      const shutdown = check.oneOf([node, 'shutdown'], obj.shutdown, ['shutdown', 'reboot'] as const);
      if (shutdown !== undefined) entry.shutdown = shutdown;
    }
    if (obj.cfs !== undefined && obj.cfs !== null) {
      const cfs = check.object([node, 'cfs'], obj.cfs);
      if (cfs !== undefined) entry.cfs = readCfs(check, node, cfs);
    }
    Object.defineProperty(status, node, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  check.settle();
  return status;
}

export function writeHardwareStatus(status: Readonly<HardwareStatus>): string {
  return `${JSON.stringify(status, null, 2)}\n`;
}

function parseStats<K extends string>(
  text: string,
  file: string,
  keys: readonly K[],
): Record<Sid, Partial<Record<K, number>>> {
  const doc = parseJsonDocument(text, file);
  const check = new JsonIssues(doc);
  const stats: Record<Sid, Partial<Record<K, number>>> = {};
  for (const [sid, value] of Object.entries(check.object([], doc.value) ?? {})) {
    const obj = check.object([sid], value);
    if (obj === undefined) continue;
    check.onlyKeys([sid], obj, keys);
    const entry: Partial<Record<K, number>> = {};
    for (const key of keys) {
      if (obj[key] === undefined) continue;
      const n = check.number([sid, key], obj[key]);
      if (n !== undefined) entry[key] = n;
    }
    Object.defineProperty(stats, sid, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  check.settle();
  return stats;
}

/** Parses static_service_stats: sid → configured CPU cores (maxcpu) and memory bytes (maxmem). */
export function parseStaticServiceStats(text: string, file = 'static_service_stats'): Record<Sid, StaticServiceStats> {
  return parseStats(text, file, ['maxcpu', 'maxmem'] as const);
}

/** Parses dynamic_service_stats: sid → CPU cores used (cpu) and memory bytes used (mem). */
export function parseDynamicServiceStats(text: string, file = 'dynamic_service_stats'): Record<Sid, DynamicServiceStats> {
  return parseStats(text, file, ['cpu', 'mem'] as const);
}

export function writeServiceStats(stats: Readonly<Record<Sid, StaticServiceStats | DynamicServiceStats>>): string {
  return `${JSON.stringify(stats, null, 2)}\n`;
}

function fenceIssues(err: FenceConfigError): ConfigIssue[] {
  return err.lineErrors.map((e) => ({ file: err.file, line: e.line, message: e.message }));
}

/**
 * Parses the texts of a scenario folder (`dir` only names the files in
 * issues). Throws one ConfigError with the issues of every file.
 */
export function parseScenario(
  dir: string,
  raw: Partial<Record<ScenarioFileName, string>>,
  serviceStatusTexts: Readonly<Record<NodeName, string>> = {},
): Scenario {
  const scenario: Scenario = { dir, raw };
  const issues: ConfigIssue[] = [];
  const attempt = (name: ScenarioFileName, parse: (text: string, file: string) => void) => {
    const text = raw[name];
    if (text === undefined) return;
    try {
      parse(text, join(dir, name));
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else if (err instanceof FenceConfigError) issues.push(...fenceIssues(err));
      else throw err;
    }
  };

  attempt('cmdlist', (t, f) => (scenario.cmdlist = parseCmdList(t, f)));
  attempt('hardware_status', (t, f) => (scenario.hardwareStatus = parseHardwareStatus(t, f)));
  attempt('manager_status', (t, f) => (scenario.managerStatus = parseManagerStatus(t, f)));
  attempt('service_config', (t, f) => (scenario.serviceConfig = parseScenarioServiceConfig(t, f)));
  attempt('static_service_stats', (t, f) => (scenario.staticServiceStats = parseStaticServiceStats(t, f)));
  attempt('dynamic_service_stats', (t, f) => (scenario.dynamicServiceStats = parseDynamicServiceStats(t, f)));
  attempt('datacenter.cfg', (t, f) => (scenario.datacenter = parseScenarioDatacenterConfig(t, f)));
  attempt('rules_config', (t, f) => (scenario.rules = parseRulesConfig(t, f)));
  attempt('groups', (t, f) => (scenario.groups = parseGroupsConfig(t, f)));
  attempt('fence.cfg', (t, f) => (scenario.fence = parseFenceConfig(t, f)));
  attempt('policy', (t, f) => (scenario.policy = parseScenarioPolicy(t, f)));

  for (const node of Object.keys(serviceStatusTexts).sort()) {
    const file = join(dir, `service_status_${node}`);
    try {
      scenario.serviceStatus ??= {};
      scenario.serviceStatus[node] = parseServiceStatusFile(serviceStatusTexts[node], file);
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
    }
  }

  if (issues.length > 0) throw new ConfigError(issues);
  return scenario;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The texts of a scenario folder's files, and of the nodes' initial running guests. */
export interface ScenarioTexts {
  raw: Partial<Record<ScenarioFileName, string>>;
  serviceStatus: Record<NodeName, string>;
}

/**
 * Reads and parses a scenario folder; see parseScenario. Initial running
 * guests are read for the scenario's nodes only, as the simulator does.
 */
export async function readScenario(dir: string): Promise<Scenario> {
  const { raw, serviceStatus } = await readScenarioTexts(dir);
  return parseScenario(dir, raw, serviceStatus);
}

/** Reads the files of a scenario folder without parsing them (see readScenario). */
export async function readScenarioTexts(dir: string): Promise<ScenarioTexts> {
  const raw: Partial<Record<ScenarioFileName, string>> = {};
  for (const name of SCENARIO_FILES) {
    const text = await readIfPresent(join(dir, name));
    if (text !== undefined) raw[name] = text;
  }
  let hardware: HardwareStatus | undefined;
  try {
    hardware = raw.hardware_status === undefined ? undefined : parseHardwareStatus(raw.hardware_status, join(dir, 'hardware_status'));
  } catch {
    hardware = undefined; // reported by parseScenario
  }
  const serviceStatus: Record<NodeName, string> = {};
  for (const node of scenarioNodes(hardware)) {
    const text = await readIfPresent(join(dir, `service_status_${node}`));
    if (text !== undefined) serviceStatus[node] = text;
  }
  return { raw, serviceStatus };
}
