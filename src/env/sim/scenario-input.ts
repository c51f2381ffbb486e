// What a simulation starts from: the scenario folder's files, already read
// and decoded. The CLI reads a folder into this shape; tests and benchmarks
// may build one directly.

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
}
