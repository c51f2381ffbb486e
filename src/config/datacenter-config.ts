// The HA-relevant part of datacenter.cfg: the `ha` and `crs` property
// strings, e.g.
//
//   ha: shutdown_policy=migrate
//   crs: ha=static,ha-rebalance-on-start=1
//
// and the simulator's JSON variant of the same file,
//
//   { "ha": { "shutdown_policy": "migrate" }, "crs": { "ha": "static" } }.

import type { DatacenterCrsOptions, DatacenterHaOptions, DatacenterSettings } from '../core/types.js';
import { settleIssues, type ConfigIssue } from './issues.js';
import { JsonIssues, describeJson, isJsonObject, parseJsonDocument } from './json-source.js';

type OptionKind =
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'boolean' }
  | { kind: 'number'; minimum?: number; maximum?: number };

/** A key of a property string, and the key that must be set alongside it. */
type OptionSchema = OptionKind & { requires?: string };

const CRS_OPTIONS: Readonly<Record<string, OptionSchema>> = {
  ha: { kind: 'enum', values: ['basic', 'static', 'dynamic'] },
  'ha-rebalance-on-start': { kind: 'boolean' },
  'ha-auto-rebalance': { kind: 'boolean' },
  'ha-auto-rebalance-threshold': { kind: 'number', minimum: 0, maximum: 100, requires: 'ha-auto-rebalance' },
  'ha-auto-rebalance-method': { kind: 'enum', values: ['bruteforce', 'topsis'], requires: 'ha-auto-rebalance' },
  'ha-auto-rebalance-hold-duration': { kind: 'number', minimum: 0, requires: 'ha-auto-rebalance' },
  'ha-auto-rebalance-margin': { kind: 'number', minimum: 0, maximum: 100, requires: 'ha-auto-rebalance' },
};

const HA_OPTIONS: Readonly<Record<string, OptionSchema>> = {
  shutdown_policy: { kind: 'enum', values: ['freeze', 'failover', 'conditional', 'migrate'] },
};

const OPTION_SETS = { ha: HA_OPTIONS, crs: CRS_OPTIONS } as const;
type OptionSet = keyof typeof OPTION_SETS;

type OptionValue = string | number;

function checkOption(schema: OptionSchema, raw: string): { value: OptionValue } | { problem: string } {
  switch (schema.kind) {
    case 'enum':
      if (schema.values.includes(raw)) return { value: raw };
      return { problem: `value '${raw}' is not one of ${schema.values.join(', ')}` };
    case 'boolean':
      if (/^(1|on|yes|true)$/i.test(raw)) return { value: 1 };
      if (/^(0|off|no|false)$/i.test(raw)) return { value: 0 };
      return { problem: `value '${raw}' is not a boolean (expected 0 or 1)` };
    case 'number': {
      if (!/^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(raw)) {
        return { problem: `value '${raw}' is not a number` };
      }
      const value = Number(raw);
      if (schema.minimum !== undefined && value < schema.minimum) {
        return { problem: `value ${raw} is less than the minimum ${schema.minimum}` };
      }
      if (schema.maximum !== undefined && value > schema.maximum) {
        return { problem: `value ${raw} is more than the maximum ${schema.maximum}` };
      }
      return { value };
    }
    default: {
      const unreachable: never = schema;
      throw new Error(`unknown option kind ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Checks `requires` between the keys present; returns the problems by key. */
function checkRequires(set: OptionSet, values: Readonly<Record<string, OptionValue>>): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  for (const key of Object.keys(values)) {
    const requires = OPTION_SETS[set][key]?.requires;
    if (requires !== undefined && values[requires] === undefined) {
      problems.push([key, `'${requires}' must be set too`]);
    }
  }
  return problems;
}

/** Parses a `key=value,...` property string of the `ha` or `crs` line. */
function parsePropertyString(
  set: OptionSet,
  text: string,
  report: (field: string | undefined, message: string) => void,
): Record<string, OptionValue> {
  const schema = OPTION_SETS[set];
  const known = Object.keys(schema).join(', ');
  const values: Record<string, OptionValue> = {};
  for (const part of text.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const m = /^([^=]+)=(.+)$/.exec(part);
    if (!m) {
      report(undefined, `'${part}' is not a key=value pair (known keys: ${known})`);
      continue;
    }
    const [, key, raw] = m;
    const field = `${set}.${key}`;
    if (values[key] !== undefined) {
      report(field, 'key given twice');
      continue;
    }
    const option = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (option === undefined) {
      report(field, `unknown key (expected one of ${known})`);
      continue;
    }
    const checked = checkOption(option, raw);
    if ('problem' in checked) report(field, checked.problem);
    else values[key] = checked.value;
  }
  for (const [key, problem] of checkRequires(set, values)) report(`${set}.${key}`, problem);
  return values;
}

function toSettings(ha: Record<string, OptionValue>, crs: Record<string, OptionValue>): DatacenterSettings {
  return { ha: ha as DatacenterHaOptions, crs: crs as DatacenterCrsOptions };
}

/** datacenter.cfg as read: the HA settings, and every other line kept as text. */
export interface DatacenterConfig {
  settings: DatacenterSettings;
  /** The other lines (other keys, comments), trimmed, in file order; blank lines are dropped. */
  other: string[];
}

/**
 * Parses datacenter.cfg. If `ha` or `crs` is invalid the reference fails to
 * read the whole file and runs with defaults; in lenient mode (an `issues`
 * array given) so does this, both settings falling back to `{}`, while an
 * unreadable other line is only reported. Without `issues` any problem
 * throws a ConfigError.
 */
export function parseDatacenterConfig(text: string, file = 'datacenter.cfg', issues?: ConfigIssue[]): DatacenterConfig {
  const found: ConfigIssue[] = [];
  let ha: Record<string, OptionValue> = {};
  let crs: Record<string, OptionValue> = {};
  const other: string[] = [];
  let settingsInvalid = false;

  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      other.push(line);
      return;
    }
    const lineno = index + 1;
    const m = /^(\S+?):\s*(.*)$/.exec(line);
    if (!m) {
      found.push({ file, line: lineno, message: `cannot read line '${line}' (expected '<key>: <value>')` });
      return;
    }
    const [, key, value] = m;
    const report = (field: string | undefined, message: string) => {
      settingsInvalid = true;
      found.push({ file, line: lineno, field: field ?? key, message });
    };
    if (key === 'ha' || key === 'crs') {
      // An empty crs line counts as absent, as in the reference.
      const parsed = parsePropertyString(key, value, report);
      if (key === 'ha') ha = parsed;
      else crs = parsed;
    } else {
      other.push(line);
    }
  });

  settleIssues(found, issues);
  if (settingsInvalid) return { settings: { ha: {}, crs: {} }, other };
  return { settings: toSettings(ha, crs), other };
}

function formatPropertyString(set: OptionSet, values: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  for (const key of Object.keys(values).sort()) {
    const value = values[key];
    if (value === undefined) continue;
    if (!Object.hasOwn(OPTION_SETS[set], key)) throw new Error(`unknown ${set} option '${key}'`);
    const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    if (text.includes(',')) throw new Error(`${set} option '${key}' contains a comma`);
    parts.push(`${key}=${text}`);
  }
  return parts.join(',');
}

/** Writes datacenter.cfg: `ha` and `crs` (when not empty), then the other lines. */
export function writeDatacenterConfig(config: DatacenterConfig): string {
  let out = '';
  const ha = formatPropertyString('ha', config.settings.ha as Record<string, unknown>);
  const crs = formatPropertyString('crs', config.settings.crs as Record<string, unknown>);
  if (ha !== '') out += `ha: ${ha}\n`;
  if (crs !== '') out += `crs: ${crs}\n`;
  for (const line of config.other) out += `${line}\n`;
  return out;
}

/**
 * Parses the simulator's JSON datacenter.cfg: `ha` and `crs` objects with the
 * same keys and values as the property strings (booleans as 0/1 or
 * true/false). Throws a ConfigError naming file, line and field.
 */
export function parseScenarioDatacenterConfig(text: string, file = 'datacenter.cfg'): DatacenterSettings {
  if (text.trim() === '') return { ha: {}, crs: {} };
  const doc = parseJsonDocument(text, file);
  const check = new JsonIssues(doc);
  const root = check.object([], doc.value) ?? {};
  const sets: Record<OptionSet, Record<string, OptionValue>> = { ha: {}, crs: {} };
  for (const key of Object.keys(root)) {
    if (key !== 'ha' && key !== 'crs') continue;
    const obj = root[key];
    if (obj === null) continue;
    if (!isJsonObject(obj)) {
      check.add([key], `expected an object, got ${describeJson(obj)}`);
      continue;
    }
    for (const [option, value] of Object.entries(obj)) {
      const schema = Object.hasOwn(OPTION_SETS[key], option) ? OPTION_SETS[key][option] : undefined;
      if (schema === undefined) {
        check.add([key, option], `unknown key (expected one of ${Object.keys(OPTION_SETS[key]).join(', ')})`);
        continue;
      }
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        check.add([key, option], `expected a string or number, got ${describeJson(value)}`);
        continue;
      }
      const raw = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      const checked = checkOption(schema, raw);
      if ('problem' in checked) check.add([key, option], checked.problem);
      else sets[key][option] = checked.value;
    }
    for (const [option, problem] of checkRequires(key, sets[key])) check.add([key, option], problem);
  }
  check.settle();
  return toSettings(sets.ha, sets.crs);
}

/** JSON text of the simulator's datacenter.cfg. */
export function writeScenarioDatacenterConfig(settings: DatacenterSettings): string {
  const out: Record<string, unknown> = {};
  if (Object.keys(settings.ha).length > 0) out.ha = settings.ha;
  if (Object.keys(settings.crs).length > 0) out.crs = settings.crs;
  return `${JSON.stringify(out, null, 4)}\n`;
}
