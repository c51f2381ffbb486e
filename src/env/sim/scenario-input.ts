// What a simulation starts from: the scenario folder's files, already read
// and decoded. The CLI reads a folder into this shape; tests and benchmarks
// may build one directly.

import { isPolicy, type Policy } from '../../core/policy.js';
import type { ManagerStatus, NodeName, Sid } from '../../core/types.js';

export type PowerState = 'on' | 'off';

export interface SimNodeHardware {
  power: PowerState;
  network: PowerState;
  maxcpu?: number;
  maxmem?: number;
  'pve-manager-version'?: string;
}

/** A service_config entry as written in the scenario (JSON), before defaults. */
export type RawServiceConfigEntry = Record<string, unknown> & { node?: string; state?: string };

export interface SimScenario {
  /**
   * The scenario folder's name, as the reference's tester is given it; it
   * shows in the one error message that prints a status file's path.
   */
  label?: string;
  /** Rounds of commands; one round runs every fifth loop. */
  cmdlist: string[][];
  hardwareStatus?: Record<NodeName, SimNodeHardware>;
  managerStatus?: ManagerStatus;
  serviceConfig?: Record<Sid, RawServiceConfigEntry>;
  /** Raw section-config text of rules_config. */
  rulesConfig?: string;
  /** Raw section-config text of groups. */
  groups?: string;
  /** The scenario's datacenter.cfg (JSON in the simulator). */
  datacenter?: { ha?: Record<string, unknown>; crs?: Record<string, unknown> };
  staticServiceStats?: Record<Sid, { maxcpu?: number; maxmem?: number }>;
  dynamicServiceStats?: Record<Sid, { cpu?: number; mem?: number }>;
  /** Initial running services per node (service_status_<node>). */
  serviceStatus?: Record<NodeName, Record<Sid, unknown>>;
  /**
   * The core behaviour the scenario is written for (its `policy` file); the
   * reference's scenarios have none and run `reference`.
   */
  policy?: Policy;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string '${value}'`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}

const OPTIONAL_OBJECTS = [
  'hardwareStatus',
  'managerStatus',
  'serviceConfig',
  'datacenter',
  'staticServiceStats',
  'dynamicServiceStats',
  'serviceStatus',
] as const;

/**
 * Throws a TypeError saying what is wrong unless `value` has the shape of a
 * SimScenario: library callers (JavaScript ones included) hand it in
 * directly, and a folder name passed instead must not start a run.
 */
export function assertSimScenario(value: unknown): asserts value is SimScenario {
  const hint = 'read a scenario folder with loadScenario(dir), or run one with simulateDir(dir)';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`expected a scenario object, got ${describeValue(value)} (${hint})`);
  }
  const scenario = value as Record<string, unknown>;
  const cmdlist = scenario.cmdlist;
  if (!Array.isArray(cmdlist) || !cmdlist.every((round) => Array.isArray(round) && round.every((c) => typeof c === 'string'))) {
    throw new TypeError(`scenario.cmdlist must be an array of rounds, each an array of command strings (${hint})`);
  }
  for (const key of OPTIONAL_OBJECTS) {
    const field = scenario[key];
    if (field !== undefined && (typeof field !== 'object' || field === null || Array.isArray(field))) {
      throw new TypeError(`scenario.${key} must be an object when given, got ${describeValue(field)}`);
    }
  }
  if (scenario.policy !== undefined && !(typeof scenario.policy === 'string' && isPolicy(scenario.policy))) {
    throw new TypeError(`scenario.policy must be 'reference' or 'safe' when given, got ${describeValue(scenario.policy)}`);
  }
  for (const key of ['label', 'rulesConfig', 'groups'] as const) {
    if (scenario[key] !== undefined && typeof scenario[key] !== 'string') {
      throw new TypeError(`scenario.${key} must be a string when given, got ${describeValue(scenario[key])}`);
    }
  }
}
