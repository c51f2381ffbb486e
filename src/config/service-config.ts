// The simulator's service_config: the resources config as one JSON object,
// sid → settings, with the node each service is on, e.g.
//
//   { "vm:101": { "node": "node1", "state": "started" },
//     "fa:120": { "node": "node2", "max_restart": "0" } }
//
// Sids are `vm:`, `ct:` or `fa:` (a simulated resource that fails on
// purpose) followed by digits.

import type { NodeName, ServiceConfig, Sid } from '../core/types.js';
import { JsonIssues, parseJsonDocument, type JsonPath, type JsonValue } from './json-source.js';
import { RESOURCE_STATE_SETTINGS, requestedState, type ResourceEntry } from './resources-config.js';

/** A service of a scenario: where it is, and the settings resources.cfg would give it. */
export interface ScenarioServiceEntry extends Omit<ResourceEntry, 'type'> {
  node: NodeName;
  /** A guest lock (backup, migrate, ...) set by the simulator's `service <sid> lock`. */
  lock?: string;
}

export type ScenarioServiceConfig = Record<Sid, ScenarioServiceEntry>;

const SID_RE = /^(vm|ct|fa):(\d+)$/;

/** `type` and `name` are accepted because the simulator writes them back derived from the sid. */
const KNOWN_KEYS = [
  'node',
  'state',
  'group',
  'failback',
  'max_restart',
  'max_relocate',
  'comment',
  'lock',
  'type',
  'name',
] as const;

function readFlag(check: JsonIssues, path: JsonPath, value: JsonValue): 0 | 1 | undefined {
  if (value === true || value === 1 || value === '1') return 1;
  if (value === false || value === 0 || value === '0' || value === '') return 0;
  check.add(path, `value ${JSON.stringify(value)} is not a boolean (expected 0 or 1)`);
  return undefined;
}

function readCount(check: JsonIssues, path: JsonPath, value: JsonValue): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
  check.add(path, `value ${JSON.stringify(value)} is not a non-negative integer`);
  return undefined;
}

/** Parses service_config; throws a ConfigError naming file, line and field of every problem. */
export function parseScenarioServiceConfig(text: string, file = 'service_config'): ScenarioServiceConfig {
  const doc = parseJsonDocument(text, file);
  const check = new JsonIssues(doc);
  const result: ScenarioServiceConfig = {};
  const root = check.object([], doc.value);
  for (const [sid, raw] of Object.entries(root ?? {})) {
    const path = [sid];
    if (!SID_RE.test(sid)) {
      check.add(path, `unsupported service id '${sid}' (expected vm:<number>, ct:<number> or fa:<number>)`);
      continue;
    }
    const obj = check.object(path, raw);
    if (obj === undefined) continue;
    check.onlyKeys(path, obj, KNOWN_KEYS);
    if (typeof obj.node !== 'string' || obj.node === '') {
      check.add(path, `service '${sid}' has no node (expected "node": "<node name>")`);
      continue;
    }
    const entry: ScenarioServiceEntry = { node: obj.node };
    if (obj.state !== undefined && obj.state !== '') {
      const state = check.oneOf([sid, 'state'], obj.state, RESOURCE_STATE_SETTINGS);
      if (state !== undefined) entry.state = state;
    }
    if (obj.group !== undefined) {
      const group = check.string([sid, 'group'], obj.group);
      if (group !== undefined) entry.group = group;
    }
    if (obj.failback !== undefined) {
      const failback = readFlag(check, [sid, 'failback'], obj.failback);
      if (failback !== undefined) entry.failback = failback;
    }
    for (const key of ['max_restart', 'max_relocate'] as const) {
      if (obj[key] === undefined) continue;
      const count = readCount(check, [sid, key], obj[key]);
      if (count !== undefined) entry[key] = count;
    }
    for (const key of ['comment', 'lock'] as const) {
      if (obj[key] === undefined) continue;
      const value = check.string([sid, key], obj[key]);
      if (value !== undefined) entry[key] = value;
    }
    for (const key of ['type', 'name'] as const) {
      if (obj[key] === undefined) continue;
      const expected = key === 'type' ? sid.slice(0, sid.indexOf(':')) : sid.slice(sid.indexOf(':') + 1);
      if (String(obj[key]) !== expected) check.add([sid, key], `value ${JSON.stringify(obj[key])} does not match the service id (expected '${expected}')`);
    }
    result[sid] = entry;
  }
  check.settle();
  return result;
}

/** JSON text of a service_config, members in sid order. */
export function writeScenarioServiceConfig(config: Readonly<ScenarioServiceConfig>): string {
  const ordered: Record<string, ScenarioServiceEntry> = {};
  for (const sid of Object.keys(config).sort()) ordered[sid] = config[sid];
  return `${JSON.stringify(ordered, null, 4)}\n`;
}

/**
 * The core's view of a service_config, with the simulator's defaults: an
 * unset state means `disabled` there (not `started` as in resources.cfg),
 * failback on, one restart and one relocation.
 */
export function scenarioToServiceConfig(config: Readonly<ScenarioServiceConfig>): Record<Sid, ServiceConfig> {
  const services: Record<Sid, ServiceConfig> = {};
  for (const sid of Object.keys(config).sort()) {
    const entry = config[sid];
    const colon = sid.indexOf(':');
    services[sid] = {
      type: sid.slice(0, colon),
      name: sid.slice(colon + 1),
      node: entry.node,
      state: requestedState(entry.state, 'disabled'),
      ...(entry.group !== undefined ? { group: entry.group } : {}),
      failback: entry.failback === undefined ? true : entry.failback === 1,
      max_restart: entry.max_restart ?? 1,
      max_relocate: entry.max_relocate ?? 1,
      ...(entry.comment !== undefined ? { comment: entry.comment } : {}),
    };
  }
  return services;
}
