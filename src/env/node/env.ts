// The real daemons' environment: HaEnv over a cluster store, a clock, the
// watchdog, the resource drivers and the worker pool. One per daemon
// (crm or lrm) and node; bound once by the daemon's entry point.
//
// Mirrors the reference's production environment where the behaviour is
// observable (lock handling and its log lines, the local node counting as
// online, missing lrm_status meaning mode 'unknown', max_workers from
// datacenter.cfg), and adds guards: the watchdog is armed only when the
// running watchdog-mux's fence window ends before the lock lifetime; it is
// fed only while the daemon's lock lease is safely ahead of expiry; and a
// daemon whose lease lapsed (or whose watchdog would have fired) is told so
// (leaseLapsed), and as CRM cannot write the manager status any more.

import { randomFillSync } from 'node:crypto';

import { parseDatacenterConfig } from '../../config/datacenter-config.js';
import { parseGroupsConfig } from '../../config/groups-config.js';
import type { ConfigIssue } from '../../config/issues.js';
import { formatIssue } from '../../config/issues.js';
import { parseLrmStatus } from '../../config/lrm-status.js';
import { parseManagerStatus, writeManagerStatus } from '../../config/manager-status.js';
import { parseResourcesConfig, resourcesToServiceConfig, writeResourcesConfig } from '../../config/resources-config.js';
import { parseRulesConfig, setRuleDefaults, writeRulesConfig } from '../../config/rules-config.js';
import { errorText } from '../../core/errors.js';
import type { GroupsConfig, RulesConfig } from '../../core/rules/types.js';
import type { ScoringKernel } from '../../core/scheduling/kernel.js';
import type { DatacenterSettings, LrmStatus, ManagerStatus, NodeName, ServiceConfig, Sid } from '../../core/types.js';
import { fenceWindowMs, type TimingProfile } from '../../config/timing-profiles.js';
import { safeToFeed, type Lease } from '../../native/lease.js';
import { checkArming, coreTiming, DEFAULT_PROFILE, WAKE_LOOK_MS } from '../timing.js';
import type {
  ClusterMembership,
  ClusterServiceStats,
  FenceNotification,
  HaEnv,
  LogLevel,
  NodeMembership,
  NodeUsageStats,
  RoundMark,
  ServiceConfigChange,
  ServiceConfigSnapshot,
  ServiceUsage,
} from '../env.js';
import type { Clock } from './clock.js';
import type { NodeResourceDriver } from './drivers.js';
import { guestStaticStats } from './guest-config.js';
import { agentLock, guestConfigPath, lrmStatusPath, MANAGER_LOCK, nodeStatsPath, nodeVersionPath, PATHS } from './layout.js';
import { parseNodeFigures, type NodeFigures } from './node-figures.js';
import { NODE_RESOURCE_TYPES } from './resource-types.js';
import { lockGranted, type ClusterStore, type LockOutcome, type WriteOptions } from './store.js';
import { muxSettingsOf, type WatchdogPort } from './watchdog.js';

const MIB = 1024 ** 2;
/** Sizes assumed for a script service that publishes none. */
const DEFAULT_EXEC_USAGE = { maxcpu: 1, maxmem: 256 * MIB } as const;
/** Warn when one loop iteration takes longer (seconds), as the reference does. */
const SLOW_LOOP_SECONDS = 30;
const DEFAULT_MAX_WORKERS = 4;
/**
 * Seconds (the cluster's) between two looks for work that ends a round's
 * pause early (sleepUntilRoundEnd): a pause lasts at least this long, so waking
 * early cannot turn into a busy loop.
 */
const WAKE_POLL_SECONDS = WAKE_LOOK_MS / 1000;
/** Bytes of randomness per uid, and uids drawn per refill (a master issues one per service and round). */
const UID_BYTES = 16;
const UIDS_PER_REFILL = 256;

export type DaemonLog = (level: LogLevel, msg: string) => void;

export interface NodeEnvOptions {
  node: NodeName;
  daemon: 'crm' | 'lrm';
  store: ClusterStore;
  clock: Clock;
  log: DaemonLog;
  watchdog: WatchdogPort;
  drivers: Readonly<Record<string, NodeResourceDriver>>;
  scoringKernel: ScoringKernel;
  /** Whether the machine is shutting down or rebooting (e.g. from systemd's job list). */
  isNodeShutdown: () => Promise<{ shutdown: boolean; reboot: boolean }>;
  /** Called for fencing notifications, after they are logged. */
  notify?: (notification: FenceNotification) => void;
  /** The cluster's timing profile (default: `default`). */
  profile?: TimingProfile;
  /** The cluster's time scale (default 1); a real watchdog refuses to arm on a scaled clock. */
  timeScale?: number;
  /** HaEnv.abortWorkerCommands: the daemon's, over its worker pool (workerCommandRunners); without it, only waits. */
  abortWorkerCommands?: (settled: Promise<void>) => Promise<void>;
}

export interface NodeEnv extends HaEnv {
  readonly daemon: 'crm' | 'lrm';
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** datacenter.cfg's `max_workers`, from its other lines; 4 when unset or invalid. */
function maxWorkersOf(lines: readonly string[]): number {
  for (const line of lines) {
    const match = /^max_workers:\s*(\d+)$/.exec(line);
    if (match !== null && Number(match[1]) > 0) return Number(match[1]);
  }
  return DEFAULT_MAX_WORKERS;
}

/** A service id from a guest file name in a node's directory, if it is one. */
function sidOfGuestFile(dir: string, file: string): Sid | undefined {
  if (dir === 'qemu-server' || dir === 'lxc') {
    const match = /^([1-9][0-9]+)\.conf$/.exec(file);
    return match === null ? undefined : `${dir === 'lxc' ? 'ct' : 'vm'}:${match[1]}`;
  }
  return /^[a-z]+:\S+$/.test(file) ? file : undefined;
}

const GUEST_DIRS = ['qemu-server', 'lxc', 'ha-resources'] as const;

export function createNodeEnv(options: NodeEnvOptions): NodeEnv {
  const { node, daemon, store, clock, watchdog } = options;
  const profile = options.profile ?? DEFAULT_PROFILE;
  const timeScale = options.timeScale ?? 1;
  const lockLifetimeMs = profile.lockLifetimeMs;
  /** Replaced by the running mux's own once it is armed. */
  let windowMs = fenceWindowMs(profile);
  let clientTimeoutMs = profile.clientTimeoutMs;
  /** Scheduling slack kept before the mux would declare this daemon dead (the window's margin). */
  let marginMs = profile.marginMs;
  const source = `${node}/${daemon}`;

  let loopStart = 0;
  let lastManagerStatus: { text: string; status: Readonly<ManagerStatus> } | undefined;
  let serviceConfigCache: ServiceConfigSnapshot | undefined;
  let locationsCache: Map<Sid, NodeName> | undefined;
  let maxWorkers = DEFAULT_MAX_WORKERS;
  const reportedIssues = new Set<string>();
  const heldLocks = new Map<string, boolean>();
  /**
   * The lease of the lock this daemon's watchdog protects, from its last
   * successful renewal; kept when a renewal fails, so a lapse can be told.
   */
  let lease: Lease | undefined;
  /**
   * The store found that lease broken at the last renewal: the lock had been
   * lost and was granted anew (LockOutcome 'granted' to a holder). A lapse,
   * however short the gap looked from here, until the next renewal.
   */
  let leaseBroken = false;
  /** Monotonic time of the last feed (or of arming, which starts the mux's expiry). */
  let lastFeedAt: number | undefined;
  let watchdogWarned = false;
  const uidBytes = Buffer.alloc(UID_BYTES * UIDS_PER_REFILL);
  let uidOffset = uidBytes.length;

  const leaseLapsed = (): boolean => {
    if (lease === undefined) return false;
    if (leaseBroken) return true;
    const now = clock.monotonicMillis();
    if (now >= lease.renewedAtMs + lease.lifetimeMs) return true;
    return watchdog.armed && lastFeedAt !== undefined && now - lastFeedAt > clientTimeoutMs;
  };

  const log: DaemonLog = (level, msg) => options.log(level, msg);

  /**
   * How much longer the protected lock counts as held without an answer from
   * the store: until its lease, counted from the last renewal that answered,
   * runs out — and, with the watchdog armed, not until the mux would declare
   * this daemon dead (its feeds stop once the lease is too short to feed):
   * a master that then lets go closes its watchdog cleanly in time, as on
   * any lost lock, instead of resetting its node.
   */
  const unconfirmedHoldMs = (now: number): number => {
    if (lease === undefined || leaseBroken) return 0;
    const leaseLeft = lease.renewedAtMs + lease.lifetimeMs - now;
    if (!watchdog.armed || lastFeedAt === undefined) return leaseLeft;
    return Math.min(leaseLeft, lastFeedAt + clientTimeoutMs - marginMs - now);
  };

  /** Closes the watchdog; protection ends here: whatever the lock does next is a new lease. */
  const endProtection = (magicClose: boolean): void => {
    watchdog.close(magicClose);
    lease = undefined;
    leaseBroken = false;
    lastFeedAt = undefined;
  };

  // Stale writers: every write of the master is conditioned on its holding
  // the manager lock, and the LRM's status on its agent lock while it has it
  // (while waiting for it, it writes without, as the reference does). A
  // deposed daemon's write then fails with 'lock lost:' instead of
  // overwriting its successor's.
  const managerFence: WriteOptions = { fence: { lock: MANAGER_LOCK, holder: node } };
  const agentFence = (): WriteOptions | undefined =>
    heldLocks.get(agentLock(node)) === true ? { fence: { lock: agentLock(node), holder: node } } : undefined;

  const reportIssues = (issues: readonly ConfigIssue[]): void => {
    for (const issue of issues) {
      const text = formatIssue(issue);
      if (reportedIssues.has(text)) continue;
      reportedIssues.add(text);
      log('err', text);
    }
  };

  const invalidate = (): void => {
    serviceConfigCache = undefined;
    locationsCache = undefined;
  };

  /** Where every guest lives, from the directories its config or marker file is in. */
  const guestLocations = async (): Promise<Map<Sid, NodeName>> => {
    if (locationsCache !== undefined) return locationsCache;
    const locations = new Map<Sid, NodeName>();
    for (const member of await store.list('nodes')) {
      for (const dir of GUEST_DIRS) {
        for (const file of await store.list(`nodes/${member}/${dir}`)) {
          const sid = sidOfGuestFile(dir, file);
          if (sid !== undefined) locations.set(sid, member);
        }
      }
    }
    locationsCache = locations;
    return locations;
  };

  const readFigures = async (): Promise<Record<NodeName, NodeFigures>> => {
    const figures: Record<NodeName, NodeFigures> = {};
    for (const member of await store.list('nodes')) {
      const parsed = parseNodeFigures(await store.read(nodeStatsPath(member)));
      if (parsed !== undefined) figures[member] = parsed;
    }
    return figures;
  };

  /** Takes or renews a lock, logging when it is gained or lost (as the reference does). */
  const takeLock = async (name: string, protectsWatchdog: boolean): Promise<boolean> => {
    const requestedAt = clock.monotonicMillis();
    let outcome: LockOutcome = 'unknown';
    let problem = '';
    try {
      outcome = await store.acquireLock(name, node);
    } catch (err) {
      problem = errorText(err);
    }
    const had = heldLocks.get(name) ?? false;
    if (outcome === 'unknown') {
      // The store did not answer (an etcd election, a member down, a guard
      // not granted in time): the lock is as it was. A holder of the lock
      // its watchdog protects keeps it for what is left of its lease, counted
      // from the last renewal that did answer; leaseLapsed and safeToFeed
      // end it there. Any other lock (the master's hold on a fenced node's)
      // needs an answer.
      const leftMs = protectsWatchdog ? unconfirmedHoldMs(requestedAt) : 0;
      const keep = had && leftMs > 0;
      heldLocks.set(name, keep);
      if (keep) log('warning', `could not renew lock '${name}'${problem ? ` - ${problem}` : ''} - still held for the ${Math.round(leftMs)} ms left of its lease`);
      else if (had) log('err', `lost lock '${name}${problem ? ` - ${problem}` : ' - the store did not answer'}`);
      return keep;
    }
    const got = lockGranted(outcome);
    // Held, renewed, and the store says it is a new grant: lost in between.
    const broken = had && outcome === 'granted';
    heldLocks.set(name, got);
    if (broken) {
      log('crit', `lock '${name}' was lost since its last renewal and granted anew - treating it as a lapsed lease`);
    } else if (got !== had) {
      if (got) log('info', `successfully acquired lock '${name}'`);
      else log('err', `lost lock '${name}${problem ? ` - ${problem}` : ''}`);
    }
    if (protectsWatchdog && got) {
      // The lease counts from the request, not the reply: a slow store only
      // shortens the time left, never lengthens it. A broken one is over:
      // leaseLapsed says so until the next renewal.
      lease = { acquiredAtMs: (broken ? undefined : lease?.acquiredAtMs) ?? requestedAt, renewedAtMs: requestedAt, lifetimeMs: lockLifetimeMs };
      leaseBroken = broken;
    }
    return got;
  };

  const releaseLock = async (name: string, protectsWatchdog: boolean): Promise<boolean> => {
    heldLocks.delete(name);
    if (protectsWatchdog) {
      lease = undefined;
      leaseBroken = false;
    }
    return store.unlock(name, node);
  };

  const readResources = async () => {
    const issues: ConfigIssue[] = [];
    const resources = parseResourcesConfig((await store.read(PATHS.resources)) ?? '', PATHS.resources, issues, NODE_RESOURCE_TYPES);
    reportIssues(issues);
    return resources;
  };

  const env: NodeEnv = {
    nodename: node,
    daemon,
    timing: coreTiming(profile),
    // Real nodes: where the reference's design is unsafe, do better (src/core/policy.ts).
    policy: 'safe',
    getTime: () => clock.seconds(),
    log,
    sendNotification(notification) {
      log('notice', `${notification.prefix}: ${notification.status}`);
      options.notify?.(notification);
    },
    sleep: (seconds) => clock.sleep(seconds),
    // Rounds run on the monotonic clock (scaled like the cluster's), to the
    // millisecond: a stepped wall clock must not stretch or skip one, and a
    // 1 s round must not be rounded to whole wall-clock seconds.
    roundStart: () => clock.monotonicMillis() as RoundMark,
    async sleepUntilRoundEnd(start, seconds, wake) {
      const endMs = start + seconds * 1000;
      for (;;) {
        const leftMs = endMs - clock.monotonicMillis();
        if (leftMs <= 0) return;
        if (wake === undefined) return clock.sleep(leftMs / 1000);
        await clock.sleep(Math.min(WAKE_POLL_SECONDS, leftMs / 1000));
        if (endMs - clock.monotonicMillis() <= 0) return;
        try {
          if (await wake()) return;
        } catch {
          // A failed look changes nothing: the round comes as planned and
          // reports what is wrong (a store outage would repeat it every look).
        }
      }
    },
    loopStartHook() {
      loopStart = clock.seconds();
      invalidate();
    },
    loopEndHook() {
      const took = clock.seconds() - loopStart;
      if (took > SLOW_LOOP_SECONDS) log('warning', `loop took too long (${took} seconds)`);
    },

    async readManagerStatus(): Promise<Readonly<ManagerStatus>> {
      const text = await store.read(PATHS.managerStatus);
      if (text === undefined || text.trim() === '') return deepFreeze({});
      // An LRM looks every second while it waits (sleepUntilRoundEnd); the master
      // writes once a round. Unchanged text: the same frozen status.
      if (text === lastManagerStatus?.text) return lastManagerStatus.status;
      const status = deepFreeze(parseManagerStatus(text, PATHS.managerStatus));
      lastManagerStatus = { text, status };
      return status;
    },
    async writeManagerStatus(status) {
      // A master paused past its lease may have been replaced: its view is stale.
      if (daemon === 'crm' && leaseLapsed()) throw new Error(`lock lost: the lease of '${MANAGER_LOCK}' lapsed, not writing the manager status`);
      await store.write(PATHS.managerStatus, writeManagerStatus(status), managerFence);
    },
    async readLrmStatus(of = node): Promise<Readonly<LrmStatus>> {
      const text = await store.read(lrmStatusPath(of));
      // A node without an lrm_status may have been deleted: its mode is not known.
      if (text === undefined) return deepFreeze({ mode: 'unknown' });
      if (text.trim() === '') return deepFreeze({});
      return deepFreeze(parseLrmStatus(text, lrmStatusPath(of)));
    },
    async writeLrmStatus(status) {
      await store.write(lrmStatusPath(node), `${JSON.stringify(status)}\n`, agentFence());
    },

    async readServiceConfig() {
      if (serviceConfigCache !== undefined) return serviceConfigCache;
      const resources = await readResources();
      const locations = await guestLocations();
      const { services, unlocated } = resourcesToServiceConfig(resources, (sid) => locations.get(sid));
      for (const sid of unlocated) reportIssues([{ file: PATHS.resources, message: `resource '${sid}' has no guest on any node` }]);
      serviceConfigCache = { services: deepFreeze(services), digest: resources.digest };
      return serviceConfigCache;
    },
    async updateServiceConfig(changes: Readonly<Record<Sid, ServiceConfigChange>>) {
      await store.update(PATHS.resources, (text) => {
        const resources = parseResourcesConfig(text ?? '', PATHS.resources, undefined, NODE_RESOURCE_TYPES);
        for (const sid of Object.keys(changes).sort()) {
          const entry = resources.ids[sid];
          if (entry === undefined) throw new Error(`no such resource '${sid}'`);
          const { param = {}, delete: remove = [] } = changes[sid];
          if (param.state !== undefined) entry.state = param.state;
          if (param.failback !== undefined) entry.failback = param.failback ? 1 : 0;
          for (const key of remove) delete (entry as unknown as Record<string, unknown>)[key];
        }
        return writeResourcesConfig(resources, NODE_RESOURCE_TYPES);
      }, managerFence);
      invalidate();
    },
    async readRulesConfig(): Promise<RulesConfig> {
      const issues: ConfigIssue[] = [];
      const rules = parseRulesConfig((await store.read(PATHS.rules)) ?? '', PATHS.rules, issues);
      reportIssues(issues);
      for (const rule of Object.values(rules.ids)) setRuleDefaults(rule);
      return rules;
    },
    async writeRulesConfig(rules) {
      await store.write(PATHS.rules, writeRulesConfig(rules), managerFence);
    },
    async readGroupConfig(): Promise<GroupsConfig> {
      const issues: ConfigIssue[] = [];
      const groups = parseGroupsConfig((await store.read(PATHS.groups)) ?? '', PATHS.groups, issues);
      reportIssues(issues);
      return groups;
    },
    async deleteGroupConfig() {
      if (!(await store.remove(PATHS.groups, managerFence))) throw new Error(`failed to remove group config: ${PATHS.groups} does not exist`);
    },
    async stealService(sid, currentNode, newNode) {
      await store.rename(guestConfigPath(currentNode, sid), guestConfigPath(newNode, sid), managerFence);
      invalidate();
    },

    async queueCrmCommand(cmd) {
      await store.update(PATHS.crmCommands, (text) => `${text ?? ''}${cmd.replace(/\n$/, '')}\n`);
    },
    async anyPendingCrmCommand() {
      return ((await store.read(PATHS.crmCommands)) ?? '').length > 0;
    },
    async readCrmCommands() {
      let taken = '';
      await store.update(
        PATHS.crmCommands,
        (text) => {
          taken = text ?? '';
          return '';
        },
        managerFence,
      );
      return taken;
    },

    getHaManagerLock: () => takeLock(MANAGER_LOCK, daemon === 'crm'),
    releaseHaManagerLock: () => releaseLock(MANAGER_LOCK, daemon === 'crm'),
    getHaAgentLock: (of = node) => takeLock(agentLock(of), daemon === 'lrm' && of === node),
    releaseHaAgentLock: () => releaseLock(agentLock(node), daemon === 'lrm'),

    async quorate() {
      try {
        return (await store.membership()).quorate;
      } catch {
        return false;
      }
    },
    async getNodeInfo(): Promise<ClusterMembership> {
      const membership = await store.membership();
      // Without quorum the store's view of the others is no view: an etcd
      // store that could not be read in time reports every node offline,
      // and a master that believed it would fence them all. No round then;
      // the next one sees the quorum lost or the store back.
      if (!membership.quorate) throw new Error(`cluster membership unknown - ${store.description} reports no quorum`);
      const nodes: Record<NodeName, NodeMembership> = {};
      for (const [member, { online, lastHeartbeatMs }] of Object.entries(membership.nodes)) {
        // The store counted the member online until its latest beat was a
        // heartbeat timeout old; the stamps are on the cluster's clock, as
        // getTime() is.
        nodes[member] =
          lastHeartbeatMs === undefined ? { online } : { online, lastOnline: Math.floor((lastHeartbeatMs + profile.heartbeatTimeoutMs) / 1000) };
      }
      // The local node always counts as up, as in the reference.
      nodes[node] = { online: true };
      return { nodes, quorate: membership.quorate };
    },
    async clusterStateUpdate() {
      try {
        await store.heartbeat(node);
        const ok = await store.refresh();
        await env.getDatacenterSettings(); // also refreshes max_workers
        return ok;
      } catch (err) {
        log('warning', `cluster file system update failed - ${errorText(err)}`);
        return false;
      }
    },
    isNodeShutdown: () => options.isNodeShutdown(),

    async watchdogOpen() {
      watchdog.open();
      let status;
      try {
        status = watchdog.status();
      } catch (err) {
        // A mux that cannot tell its settings (the reference's never answers): nothing depended on this connection yet.
        watchdog.close(true);
        throw new Error(`refusing to arm the watchdog: its fence window cannot be measured - ${errorText(err)}`);
      }
      if (status !== undefined) {
        // A watchdog-mux: the fence window is what it gives (in this clock's time), not what the profile hopes for.
        const check = checkArming(profile, muxSettingsOf(status), timeScale);
        if (!check.safe) {
          // Nothing depended on this connection yet: release it cleanly.
          watchdog.close(true);
          throw new Error(`refusing to arm the watchdog: ${check.text}`);
        }
        windowMs = fenceWindowMs(check.window);
        clientTimeoutMs = check.window.clientTimeoutMs;
        marginMs = check.window.marginMs;
      }
      if (lease === undefined || !safeToFeed(lease, clock.monotonicMillis(), windowMs)) {
        // Armed now, the watchdog could fire only after the lease ran out.
        // Nothing depended on this connection yet: release it cleanly.
        watchdog.close(true);
        log('err', 'not arming the watchdog - the lock lease is already too close to expiry, trying again with a new lease');
        return undefined;
      }
      lastFeedAt = clock.monotonicMillis();
      log('info', 'watchdog active');
      return `${source}:watchdog`;
    },
    async watchdogUpdate() {
      if (leaseLapsed()) {
        // Too late: the node may have been fenced. Feeding now would pretend otherwise.
        if (!watchdogWarned) log('err', 'watchdog not updated - the lock lease lapsed');
        watchdogWarned = true;
        return;
      }
      if (lease === undefined || !safeToFeed(lease, clock.monotonicMillis(), windowMs)) {
        // Feeding now could outlive the lock: let the watchdog run out instead.
        if (!watchdogWarned) log('err', 'watchdog not updated - the lock lease is too close to expiry');
        watchdogWarned = true;
        return;
      }
      watchdogWarned = false;
      watchdog.update();
      lastFeedAt = clock.monotonicMillis();
    },
    leaseLapsed,
    async watchdogClose() {
      endProtection(true);
      log('info', 'watchdog closed (disabled)');
    },
    async watchdogAbandon() {
      // No magic close: this node should have been reset, so a real mux stops feeding and the device fires.
      endProtection(false);
      log('crit', 'watchdog closed without disarming it - a real watchdog resets this node');
    },

    getMaxWorkers: () => maxWorkers,
    abortWorkerCommands: options.abortWorkerCommands ?? ((settled) => settled),
    resourceDriver: (type) => (Object.hasOwn(options.drivers, type) ? options.drivers[type] : undefined),

    async getDatacenterSettings(): Promise<DatacenterSettings> {
      const issues: ConfigIssue[] = [];
      let config;
      try {
        config = parseDatacenterConfig((await store.read(PATHS.datacenter)) ?? '', PATHS.datacenter, issues);
      } catch (err) {
        log('err', `unable to get HA settings from datacenter.cfg - ${errorText(err)}`);
        return { ha: {}, crs: {} };
      }
      reportIssues(issues);
      maxWorkers = maxWorkersOf(config.other);
      return config.settings;
    },

    async getServiceStats(mode) {
      const locations = await guestLocations();
      const figures = await readFigures();
      const stats: Record<Sid, ClusterServiceStats> = {};
      for (const [sid, where] of [...locations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const guest = figures[where]?.guests[sid];
        const running = guest?.running === true;
        let usage: ServiceUsage = {};
        if (mode !== 'basic') {
          const type = sid.slice(0, sid.indexOf(':'));
          const sizes =
            type === 'vm' || type === 'ct'
              ? guestStaticStats(type, (await store.read(guestConfigPath(where, sid))) ?? '')
              : {
                  maxcpu: guest?.usage?.maxcpu ?? DEFAULT_EXEC_USAGE.maxcpu,
                  maxmem: guest?.usage?.maxmem ?? DEFAULT_EXEC_USAGE.maxmem,
                };
          usage = mode === 'static' ? sizes : { ...sizes, cpu: guest?.usage?.cpu ?? 0, mem: guest?.usage?.mem ?? 0 };
        }
        stats[sid] = { node: where, state: running ? 'started' : 'stopped', running, usage };
      }
      return stats;
    },
    async getNodeStats(mode) {
      const stats: Record<NodeName, NodeUsageStats> = {};
      for (const [member, f] of Object.entries(await readFigures())) {
        stats[member] = mode === 'static' ? { maxcpu: f.maxcpu, maxmem: f.maxmem } : { maxcpu: f.maxcpu, maxmem: f.maxmem, cpu: f.cpu, mem: f.mem };
      }
      return stats;
    },
    async getNodeVersion(of) {
      return (await store.read(nodeVersionPath(of)))?.trim() || undefined;
    },
    scoringKernel: options.scoringKernel,
    newUid() {
      if (uidOffset === uidBytes.length) {
        randomFillSync(uidBytes);
        uidOffset = 0;
      }
      uidOffset += UID_BYTES;
      return uidBytes.toString('base64', uidOffset - UID_BYTES, uidOffset).slice(0, 22);
    },
  };
  return env;
}

export type { ServiceConfig };
