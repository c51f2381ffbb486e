// The simulated cluster: nodes with power, network and cluster file system
// switches, the shared cluster store (configs, statuses, locks, the command
// queue), per-node watchdogs and the running guests. Everything the daemons
// share lives here; each daemon reaches it through its own SimEnv.
//
// Stored documents are kept as frozen JSON snapshots: a writer's later
// changes never leak into what readers got, as with the reference's files.

import { parseGroupsConfig } from '../../config/groups-config.js';
import { parseRulesConfig, setRuleDefaults, writeRulesConfig } from '../../config/rules-config.js';
import type { GroupsConfig, RulesConfig } from '../../core/rules/types.js';
import type { ScoringKernel } from '../../core/scheduling/kernel.js';
import type { LrmStatus, ManagerStatus, NodeName, ServiceConfig, Sid } from '../../core/types.js';
import type { ClusterMembership, ClusterServiceStats, NodeUsageStats, ServiceConfigChange } from '../env.js';
import { DEFAULT_PROFILE } from '../timing.js';
import { formatLogLine } from './log.js';
import { snapshotReusing } from './snapshot.js';
import type { RawServiceConfigEntry, SimNodeHardware, SimScenario } from './scenario-input.js';

/** Seconds without an update after which a watchdog fires: the `default` profile's client timeout. */
export const WATCHDOG_TIMEOUT = DEFAULT_PROFILE.clientTimeoutMs / 1000;
const MIB = 1024 ** 2;
const DEFAULT_SERVICE_CPU = 2.0;
const DEFAULT_SERVICE_MAXCPU = 4.0;
const DEFAULT_SERVICE_MEM = 2048 * MIB;
const DEFAULT_SERVICE_MAXMEM = 4096 * MIB;
const DEFAULT_NODE_MAXCPU = 24.0;
const DEFAULT_NODE_MAXMEM = 131072 * MIB;
/** The pve-manager version nodes report unless the scenario sets one. */
const DEFAULT_NODE_VERSION = '9.0.0~2';

/**
 * An error as the reference's simulator dies with it. Where the reference's
 * message has no trailing newline, Perl appends the location of the `die`,
 * and that text ends up in the log (as the reference's own test harness runs
 * it, relative to its test folder): `origin` names that location, e.g.
 * `Hardware.pm line 939`.
 */
export class SimError extends Error {
  constructor(message: string, origin?: string) {
    super(origin === undefined ? message : `${message} at ../PVE/HA/Sim/${origin}.`);
    this.name = 'SimError';
  }
}

interface NodeHardwareState extends SimNodeHardware {
  /** Cluster file system switches: undefined means working. */
  cfs: { rw?: boolean; update?: boolean };
  shutdown?: 'shutdown' | 'reboot';
}

type StaticStats = { maxcpu?: number; maxmem?: number };
type DynamicStats = { cpu?: number; mem?: number };

export interface ClusterLock {
  time: number;
  node: NodeName;
}

/** Which daemon of a node opened a watchdog. */
export type WatchdogOwner = 'crm' | 'lrm';

export interface Watchdog {
  node: NodeName;
  owner: WatchdogOwner;
  updateTime: number;
}

function perlTrue(value: unknown): boolean {
  return !(value === undefined || value === null || value === false || value === 0 || value === '' || value === '0');
}

export interface SimHardwareOptions {
  kernel: ScoringKernel;
  /** Where log lines go, each ending in a newline. */
  write: (line: string) => void;
}

export class SimHardware {
  /** The simulation clock, in seconds. */
  time = 0;
  readonly nodes: readonly NodeName[];
  readonly hw: Record<NodeName, NodeHardwareState> = {};
  readonly kernel: ScoringKernel;
  readonly #write: (line: string) => void;

  #serviceConfig: Record<Sid, RawServiceConfigEntry>;
  #serviceConfigView: Readonly<Record<Sid, Readonly<ServiceConfig>>> | undefined;
  readonly #serviceEntryViews = new Map<Sid, Readonly<ServiceConfig>>();
  readonly #invalidEntries = new Set<Sid>();
  #running: Record<NodeName, Record<Sid, unknown>> = {};
  #managerStatus: Readonly<ManagerStatus>;
  #managerStatusWrites = 0;
  #lrmStatus: Record<NodeName, Readonly<LrmStatus>> = {};
  #crmCommands = '';
  #locks: Record<string, ClusterLock> = {};
  #watchdogs = new Map<string, Watchdog>();
  #watchdogCounter = 0;
  #rulesText: string | undefined;
  #rulesParsed: { text: string; rules: RulesConfig } | undefined;
  #groupsText: string | undefined;
  #groupsParsed: { text: string; groups: GroupsConfig } | undefined;
  readonly #datacenter: SimScenario['datacenter'];
  readonly #label: string;
  #staticStats: Record<Sid, StaticStats>;
  #dynamicStats: Record<Sid, DynamicStats>;
  #uidCounter = 0;
  /** Start and migrate attempts of `fa:` resources, shared by all nodes. */
  readonly failTries = { start: new Map<string, number>(), migrate: new Map<string, number>() };

  constructor(scenario: SimScenario, options: SimHardwareOptions) {
    this.kernel = options.kernel;
    this.#write = options.write;
    this.#managerStatus = snapshotReusing(scenario.managerStatus ?? {});
    this.#rulesText = scenario.rulesConfig;
    this.#groupsText = scenario.groups;
    this.#datacenter = scenario.datacenter;
    this.#label = scenario.label ?? 'scenario';

    const initialConfig: Record<Sid, RawServiceConfigEntry> = scenario.serviceConfig
      ? (JSON.parse(JSON.stringify(scenario.serviceConfig)) as Record<Sid, RawServiceConfigEntry>)
      : {
          'vm:101': { node: 'node1' },
          'vm:102': { node: 'node2' },
          'vm:103': { node: 'node3' },
          'vm:104': { node: 'node1' },
          'vm:105': { node: 'node2' },
          'vm:106': { node: 'node3' },
        };
    this.#serviceConfig = {};
    for (const [sid, entry] of Object.entries(initialConfig)) this.#storeServiceEntry(sid, entry);

    const hardware = scenario.hardwareStatus ?? {
      node1: { power: 'off', network: 'off', maxcpu: DEFAULT_NODE_MAXCPU, maxmem: DEFAULT_NODE_MAXMEM },
      node2: { power: 'off', network: 'off', maxcpu: DEFAULT_NODE_MAXCPU, maxmem: DEFAULT_NODE_MAXMEM },
      node3: { power: 'off', network: 'off', maxcpu: DEFAULT_NODE_MAXCPU, maxmem: DEFAULT_NODE_MAXMEM },
    };
    for (const [node, state] of Object.entries(hardware)) this.hw[node] = { ...state, cfs: {} };
    this.nodes = Object.keys(this.hw).sort();

    if (scenario.staticServiceStats) {
      this.#staticStats = JSON.parse(JSON.stringify(scenario.staticServiceStats)) as Record<Sid, StaticStats>;
    } else {
      this.#staticStats = {};
      for (const sid of Object.keys(this.#serviceConfig)) {
        this.#staticStats[sid] = { maxcpu: DEFAULT_SERVICE_MAXCPU, maxmem: DEFAULT_SERVICE_MAXMEM };
      }
    }
    if (scenario.dynamicServiceStats) {
      this.#dynamicStats = JSON.parse(JSON.stringify(scenario.dynamicServiceStats)) as Record<Sid, DynamicStats>;
    } else {
      this.#dynamicStats = {};
      for (const sid of Object.keys(this.#staticStats)) {
        this.#dynamicStats[sid] = { cpu: DEFAULT_SERVICE_CPU, mem: DEFAULT_SERVICE_MEM };
      }
    }

    for (const node of this.nodes) this.#running[node] = { ...(scenario.serviceStatus?.[node] ?? {}) };
    // A scenario whose config does not load fails right away, as the reference does.
    this.readServiceConfig();
  }

  log(level: string, msg: string, source = 'hardware'): void {
    this.#write(formatLogLine(level, this.time, source, msg));
  }

  /** Writes a line produced elsewhere (a daemon's log). */
  writeLine(line: string): void {
    this.#write(line);
  }

  nextUid(): string {
    this.#uidCounter++;
    return `sim-${this.#uidCounter.toString(36)}`;
  }

  // --- membership and the cluster file system ---

  membership(): ClusterMembership {
    const nodes: Record<NodeName, { online: boolean }> = {};
    let online = 0;
    for (const node of this.nodes) {
      const up = this.hw[node].power === 'on' && this.hw[node].network === 'on';
      nodes[node] = { online: up };
      if (up) online++;
    }
    const quorate = online > Math.trunc(this.nodes.length / 2);
    if (!quorate) for (const node of this.nodes) nodes[node] = { online: false };
    return { nodes, quorate };
  }

  /** cfs 'rw' (reads and writes) or 'update' (state refresh); working unless switched off. */
  cfsWorks(node: NodeName, what: 'rw' | 'update'): boolean {
    return this.hw[node]?.cfs[what] !== false;
  }

  // --- service config ---

  /**
   * The service config with the simulator's defaults applied, frozen. The
   * view is rebuilt lazily after changes, reusing the entries that did not
   * change, so a change costs one entry, not the whole config.
   */
  readServiceConfig(): Readonly<Record<Sid, Readonly<ServiceConfig>>> {
    this.#checkServiceConfig();
    if (this.#serviceConfigView === undefined) {
      const view: Record<Sid, Readonly<ServiceConfig>> = {};
      for (const sid of Object.keys(this.#serviceConfig)) view[sid] = this.#entryView(sid);
      this.#serviceConfigView = Object.freeze(view);
    }
    return this.#serviceConfigView;
  }

  #entryView(sid: Sid): Readonly<ServiceConfig> {
    let entry = this.#serviceEntryViews.get(sid);
    if (entry === undefined) {
      entry = Object.freeze(withSimDefaults(sid, this.#serviceConfig[sid]));
      this.#serviceEntryViews.set(sid, entry);
    }
    return entry;
  }

  /**
   * One bad entry fails every read of the config, as reading the reference's
   * whole file does; bad entries are tracked as they are written.
   */
  #checkServiceConfig(): void {
    if (this.#invalidEntries.size === 0) return;
    const first = [...this.#invalidEntries].sort()[0];
    withSimDefaults(first, this.#serviceConfig[first]);
  }

  /** The raw entry (with lock and other simulator-only fields). */
  rawServiceEntry(sid: Sid): Readonly<RawServiceConfigEntry> | undefined {
    return this.#serviceConfig[sid];
  }

  /**
   * Changes one entry. Like the reference, which reads the whole config
   * (defaults applied) and writes it back, a bad entry anywhere fails the
   * change; defaults need not be written back as every read applies them.
   */
  #modifyServiceEntry(sid: Sid, change: (entry: RawServiceConfigEntry | undefined) => RawServiceConfigEntry | undefined): void {
    this.#checkServiceConfig();
    const updated = change(this.#serviceConfig[sid] === undefined ? undefined : { ...this.#serviceConfig[sid] });
    this.#storeServiceEntry(sid, updated);
  }

  #storeServiceEntry(sid: Sid, entry: RawServiceConfigEntry | undefined): void {
    if (entry === undefined) delete this.#serviceConfig[sid];
    else this.#serviceConfig[sid] = entry;
    this.#serviceEntryViews.delete(sid);
    this.#serviceConfigView = undefined;
    this.#invalidEntries.delete(sid);
    if (entry === undefined) return;
    try {
      this.#entryView(sid);
    } catch {
      this.#invalidEntries.add(sid);
    }
  }

  updateServiceConfig(changes: Readonly<Record<Sid, ServiceConfigChange>>): void {
    this.readServiceConfig();
    for (const sid of Object.keys(changes)) {
      if (this.#serviceConfig[sid] === undefined) throw new SimError(`no such resource '${sid}'`);
    }
    for (const sid of Object.keys(changes).sort()) {
      this.#modifyServiceEntry(sid, (entry) => {
        const updated = { ...entry, ...(changes[sid].param ?? {}) } as RawServiceConfigEntry;
        for (const key of changes[sid].delete ?? []) delete updated[key];
        return updated;
      });
    }
  }

  setServiceState(sid: Sid, state: string): void {
    this.#modifyServiceEntry(sid, (entry) => {
      if (entry === undefined) throw new SimError(`no such service '${sid}'`, 'Hardware.pm line 191');
      return { ...entry, state };
    });
  }

  addService(sid: Sid, entry: RawServiceConfigEntry, running: unknown): void {
    this.#modifyServiceEntry(sid, (existing) => {
      if (existing !== undefined) throw new SimError(`resource ID '${sid}' already defined`);
      return { ...entry };
    });
    const node = String(entry.node);
    if (!this.nodes.includes(node)) {
      // The reference then reads that node's service status file, which a node
      // unknown to the hardware does not have.
      throw new SimError(`can't open '${this.#label}/status/service_status_${node}' - No such file or directory`);
    }
    (this.#running[node] ??= {})[sid] = running;
  }

  deleteService(sid: Sid): void {
    this.#modifyServiceEntry(sid, (entry) => {
      if (entry === undefined) throw new SimError(`no such service '${sid}'`, 'Hardware.pm line 261');
      return undefined;
    });
    delete this.#staticStats[sid];
  }

  changeServiceLocation(sid: Sid, currentNode: NodeName, newNode: NodeName): void {
    this.#modifyServiceEntry(sid, (entry) => {
      if (entry === undefined) throw new SimError(`no such service '${sid}'`);
      if (currentNode !== entry.node) {
        throw new SimError(`current_node for '${sid}' does not match (${currentNode} != ${String(entry.node)})`);
      }
      return { ...entry, node: newNode };
    });
  }

  serviceLock(sid: Sid): string | undefined {
    this.#checkServiceConfig();
    const entry = this.#serviceConfig[sid];
    if (entry === undefined) throw new SimError(`no such service '${sid}'`);
    const lock = entry.lock;
    return perlTrue(lock) ? String(lock) : undefined;
  }

  lockService(sid: Sid, lock: string | undefined): void {
    this.#modifyServiceEntry(sid, (entry) => {
      if (entry === undefined) throw new SimError(`no such service '${sid}'`);
      return { ...entry, lock: lock || 'backup' };
    });
  }

  /** Removes the service's lock (only `lock`, when given); returns what was removed. */
  unlockService(sid: Sid, lock?: string): string | undefined {
    this.#checkServiceConfig();
    const current = this.#serviceConfig[sid];
    if (current === undefined) throw new SimError(`no such service '${sid}'`);
    if (current.lock === undefined || current.lock === null) return undefined;
    if (lock !== undefined && current.lock !== lock) return undefined;
    const removed = String(current.lock);
    this.#modifyServiceEntry(sid, (entry) => {
      const updated = { ...entry } as RawServiceConfigEntry;
      delete updated.lock;
      return updated;
    });
    return removed;
  }

  // --- running guests ---

  isRunning(node: NodeName, sid: Sid): boolean {
    return perlTrue(this.#running[node]?.[sid]);
  }

  setRunning(node: NodeName, sid: Sid, running: boolean): void {
    (this.#running[node] ??= {})[sid] = running ? 1 : 0;
  }

  /** The services whose guest runs on `node` by its status flag (whether the node is powered or not). */
  runningSids(node: NodeName): Sid[] {
    const status = this.#running[node];
    if (status === undefined) return [];
    return Object.keys(status).filter((sid) => perlTrue(status[sid]));
  }

  forgetRunning(node: NodeName, sid: Sid): void {
    const status = this.#running[node];
    if (status !== undefined) delete status[sid];
  }

  clearRunning(node: NodeName): void {
    this.#running[node] = {};
  }

  // --- status documents ---

  readManagerStatus(): Readonly<ManagerStatus> {
    return this.#managerStatus;
  }

  writeManagerStatus(status: ManagerStatus): void {
    this.#managerStatusWrites++;
    this.#managerStatus = snapshotReusing(status, this.#managerStatus);
  }

  /** How many times the manager status was written: lets an observer tell who wrote it. */
  get managerStatusWrites(): number {
    return this.#managerStatusWrites;
  }

  readLrmStatus(node: NodeName): Readonly<LrmStatus> {
    return this.#lrmStatus[node] ?? EMPTY;
  }

  writeLrmStatus(node: NodeName, status: LrmStatus): void {
    this.#lrmStatus[node] = snapshotReusing(status, this.#lrmStatus[node]);
  }

  // --- rules and groups ---

  /** A fresh, mutable copy on every read: the manager transforms what it reads. */
  readRulesConfig(): RulesConfig {
    const text = this.#rulesText ?? '';
    if (this.#rulesParsed?.text !== text) {
      const rules = parseRulesConfig(text, 'rules_config', []);
      for (const rule of Object.values(rules.ids)) setRuleDefaults(rule);
      this.#rulesParsed = { text, rules: snapshotReusing(rules) };
    }
    return JSON.parse(JSON.stringify(this.#rulesParsed.rules)) as RulesConfig;
  }

  writeRulesConfig(rules: RulesConfig): void {
    this.#rulesText = writeRulesConfig(rules);
  }

  readGroupConfig(): GroupsConfig {
    const text = this.#groupsText ?? '';
    if (this.#groupsParsed?.text !== text) {
      this.#groupsParsed = { text, groups: snapshotReusing(parseGroupsConfig(text, 'groups', [])) };
    }
    return this.#groupsParsed.groups;
  }

  deleteGroupConfig(): void {
    if (this.#groupsText === undefined) throw new SimError('failed to remove group config: No such file or directory');
    this.#groupsText = undefined;
  }

  // --- crm command queue ---

  queueCrmCommand(cmd: string): void {
    this.#crmCommands += `${cmd.replace(/\n$/, '')}\n`;
  }

  anyPendingCrmCommand(): boolean {
    return this.#crmCommands.length > 0;
  }

  takeCrmCommands(): string {
    const queued = this.#crmCommands;
    this.#crmCommands = '';
    return queued;
  }

  // --- cluster locks ---

  /**
   * Takes, renews or (with `unlock`) releases a lock for `node` at `time`.
   * An expired lock goes to whoever asks first. Returns undefined when
   * releasing a lock nobody holds, like the reference.
   */
  lock(name: string, node: NodeName, time: number, timeout: number, unlock: boolean, log: (msg: string) => void): boolean | undefined {
    const held = this.#locks[name];
    if (unlock) {
      if (held === undefined) return undefined;
      const age = time - held.time;
      if (age > timeout) return true;
      if (held.node === node) {
        delete this.#locks[name];
        return true;
      }
      return false;
    }
    if (held !== undefined) {
      if (time - held.time <= timeout) {
        if (held.node !== node) return false;
        held.time = time;
        return true;
      }
      log(`got lock '${name}'`);
      this.#locks[name] = { node, time };
      return true;
    }
    this.#locks[name] = { node, time };
    log(`got lock '${name}'`);
    return true;
  }

  /** A lock's holder and last renewal as stored (expired or not); undefined when free. */
  lockRecord(name: string): Readonly<ClusterLock> | undefined {
    const held = this.#locks[name];
    return held === undefined ? undefined : { ...held };
  }

  // --- watchdogs ---

  watchdogOpen(node: NodeName, owner: WatchdogOwner): string {
    this.#watchdogCounter++;
    const id = `WD:${node}:${this.#watchdogCounter}`;
    this.#watchdogs.set(id, { node, owner, updateTime: this.time });
    return id;
  }

  /** Every open watchdog, expired or not (an expired one fires at the next check). */
  openWatchdogs(): Readonly<Watchdog>[] {
    return [...this.#watchdogs.values()].map((wd) => ({ ...wd }));
  }

  watchdogUpdate(id: string): void {
    const wd = this.#watchdogs.get(id);
    if (wd === undefined) throw new SimError(`no such watchdog handle '${id}'`);
    if (this.time - wd.updateTime > WATCHDOG_TIMEOUT) throw new SimError('watchdog expired', 'Hardware.pm line 1161');
    wd.updateTime = this.time;
  }

  watchdogClose(id: string): void {
    const wd = this.#watchdogs.get(id);
    if (wd === undefined) throw new SimError(`no such watchdog handle '${id}'`);
    if (this.time - wd.updateTime > WATCHDOG_TIMEOUT) throw new SimError('watchdog expired', 'Hardware.pm line 1184');
    this.#watchdogs.delete(id);
  }

  /** Whether the watchdog is still open (neither closed nor fired). */
  hasWatchdog(id: string): boolean {
    return this.#watchdogs.has(id);
  }

  /** False when one of the node's watchdogs expired (it is removed then). */
  watchdogCheck(node: NodeName): boolean {
    let alive = true;
    for (const [id, wd] of [...this.#watchdogs]) {
      if (wd.node !== node) continue;
      if (this.time - wd.updateTime > WATCHDOG_TIMEOUT) {
        alive = false;
        this.#watchdogs.delete(id);
      }
    }
    return alive;
  }

  watchdogReset(node: NodeName): void {
    for (const [id, wd] of [...this.#watchdogs]) if (wd.node === node) this.#watchdogs.delete(id);
  }

  // --- datacenter settings and usage statistics ---

  datacenter(): { ha: Record<string, unknown>; crs: Record<string, unknown> } {
    return { ha: this.#datacenter?.ha ?? {}, crs: this.#datacenter?.crs ?? {} };
  }

  nodeVersion(node: NodeName): string {
    return this.hw[node]?.['pve-manager-version'] ?? DEFAULT_NODE_VERSION;
  }

  setStaticStats(sid: Sid, stats: { maxcpu?: number; maxmem?: number }): void {
    if (this.readServiceConfig()[sid] === undefined) throw new SimError(`no such service '${sid}'`, 'Hardware.pm line 204');
    this.#staticStats[sid] = { ...(this.#staticStats[sid] ?? {}), ...stats };
  }

  setDynamicStats(sid: Sid, stats: { cpu?: number; mem?: number }): void {
    if (this.readServiceConfig()[sid] === undefined) throw new SimError(`no such service '${sid}'`, 'Hardware.pm line 223');
    this.#dynamicStats[sid] = { ...(this.#dynamicStats[sid] ?? {}), ...stats };
  }

  #clusterServiceStats(): Record<Sid, ClusterServiceStats> {
    const config = this.readServiceConfig();
    const stats: Record<Sid, ClusterServiceStats> = {};
    for (const sid of Object.keys(config)) {
      const cd = config[sid];
      stats[sid] = { node: cd.node, state: cd.state, running: cd.state === 'started', usage: {} };
    }
    return stats;
  }

  serviceStats(mode: 'basic' | 'static' | 'dynamic'): Record<Sid, ClusterServiceStats> {
    const stats = this.#clusterServiceStats();
    if (mode === 'static') {
      for (const sid of Object.keys(stats)) {
        const usage = this.#staticStats[sid];
        if (usage !== undefined) stats[sid].usage = { ...usage };
      }
    } else if (mode === 'dynamic') {
      const sids = Object.keys(stats).sort();
      // The reference merges both figure sets by dereferencing each: a
      // service without either (added at run time, say) ends the dynamic init
      // with Perl's error, and the manager falls back to basic. It meets that
      // service at a hash-order position; checking all first logs no
      // overcommit warnings before the error, the likeliest of its orders.
      for (const sid of sids) {
        if (this.#staticStats[sid] === undefined || this.#dynamicStats[sid] === undefined) {
          throw new SimError("Can't use an undefined value as a HASH reference", 'Hardware.pm line 1245');
        }
      }
      for (const sid of sids) {
        const usage = { ...this.#staticStats[sid], ...this.#dynamicStats[sid] };
        stats[sid].usage = usage;
        if ((usage.cpu ?? 0) > (usage.maxcpu ?? 0)) this.log('warning', `overcommitted cpu on '${sid}'`);
        if ((usage.mem ?? 0) > (usage.maxmem ?? 0)) this.log('warning', `overcommitted mem on '${sid}'`);
      }
    }
    return stats;
  }

  nodeStats(mode: 'static' | 'dynamic'): Record<NodeName, NodeUsageStats> {
    const stats: Record<NodeName, NodeUsageStats> = {};
    for (const node of this.nodes) {
      const { maxcpu, maxmem } = this.hw[node];
      stats[node] = {
        ...(maxcpu !== undefined ? { maxcpu } : {}),
        ...(maxmem !== undefined ? { maxmem } : {}),
      };
    }
    if (mode === 'static') return stats;

    for (const node of this.nodes) {
      const s = stats[node];
      stats[node] = {
        maxcpu: s.maxcpu ?? DEFAULT_NODE_MAXCPU,
        cpu: 0,
        maxmem: s.maxmem ?? DEFAULT_NODE_MAXMEM,
        mem: 0,
      };
    }
    const config = this.readServiceConfig();
    const services = this.serviceStats('dynamic');
    for (const sid of Object.keys(config).sort()) {
      const node = config[sid].node;
      // Only services the node's LRM actually runs load the node.
      if (!this.isRunning(node, sid)) continue;
      const s = stats[node];
      if (s === undefined) continue;
      const { cpu, mem } = services[sid].usage;
      if (cpu === undefined) throw new SimError(`unknown cpu load for '${sid}'`, 'Hardware.pm line 1295');
      s.cpu = (s.cpu ?? 0) + cpu;
      if ((s.cpu ?? 0) > (s.maxcpu ?? 0)) this.log('warning', `overcommitted cpu on '${node}'`);
      if (mem === undefined) throw new SimError(`unknown memory usage for '${sid}'`, 'Hardware.pm line 1300');
      s.mem = (s.mem ?? 0) + mem;
      if ((s.mem ?? 0) > (s.maxmem ?? 0)) this.log('warning', `overcommitted mem on '${node}'`);
    }
    return stats;
  }
}

const EMPTY: Readonly<LrmStatus> = Object.freeze({});

/**
 * The simulator's reading of a service_config entry: no state means
 * disabled, `enabled` means started, and failback, max_restart and
 * max_relocate default to 1.
 */
export function withSimDefaults(sid: Sid, entry: Readonly<RawServiceConfigEntry>): ServiceConfig {
  if (!perlTrue(entry.node)) throw new SimError(`service '${sid}' without assigned node!`, 'Hardware.pm line 107');
  const match = /^(vm|ct|fa):(\d+)$/.exec(sid);
  if (match === null) throw new SimError('implement me', 'Hardware.pm line 113');
  let state = perlTrue(entry.state) ? String(entry.state) : 'disabled';
  if (state === 'enabled') state = 'started';
  const config: ServiceConfig = {
    type: match[1],
    name: match[2],
    node: String(entry.node),
    state: state as ServiceConfig['state'],
    failback: entry.failback === undefined || entry.failback === null ? true : perlTrue(entry.failback),
    max_restart: entry.max_restart === undefined || entry.max_restart === null ? 1 : Number(entry.max_restart),
    max_relocate: entry.max_relocate === undefined || entry.max_relocate === null ? 1 : Number(entry.max_relocate),
  };
  if (typeof entry.group === 'string') config.group = entry.group;
  if (typeof entry.comment === 'string') config.comment = entry.comment;
  return config;
}
