// The one seam between the pure core (src/core) and the world. The CRM, the
// LRM and the manager reach the clock, the cluster store, locks, quorum, the
// watchdog and the resources only through this interface; each entry point
// (simulator, daemons, embedding code) binds one implementation once.
//
// Everything that may do I/O returns a promise. The simulator resolves them
// at once, so a simulated run stays deterministic; the daemons really wait.

import type {
  DatacenterSettings,
  LrmStatus,
  ManagerStatus,
  NodeName,
  ServiceConfig,
  Sid,
} from '../core/types.js';
import type { GroupsConfig, RulesConfig } from '../core/rules/types.js';
import type { ScoringKernel } from '../core/scheduling/kernel.js';
import type { Policy } from '../core/policy.js';

/**
 * Log levels as the reference uses them. Logs print the first four letters
 * of the level, so `warning` and `warn` print alike.
 */
export type LogLevel = 'crit' | 'err' | 'warning' | 'warn' | 'notice' | 'info' | 'debug';

export interface NodeMembership {
  online: boolean;
  /**
   * The last moment the store counted this node online, on this
   * environment's clock (getTime() seconds): its latest heartbeat as the
   * store records it, plus the heartbeat timeout. Undefined where the store
   * keeps no such record (pmxcfs, whose membership comes from corosync; the
   * simulator, which so keeps the reference's behaviour). Under the safe
   * policy a new master counts a node's fence delay from here instead of
   * from its own first round (node-status.ts).
   */
  lastOnline?: number;
}

export interface ClusterMembership {
  /** Every cluster member, online or not; a node missing here is gone. */
  nodes: Readonly<Record<NodeName, NodeMembership>>;
  quorate: boolean;
}

/** The services config as the core reads it: defaults applied. */
export interface ServiceConfigSnapshot {
  services: Readonly<Record<Sid, Readonly<ServiceConfig>>>;
  /** A content digest when the store offers one (it triggers a rules recompile). */
  digest?: string;
}

/** A change to one service's config entry: keys to set and keys to delete. */
export interface ServiceConfigChange {
  param?: Partial<Pick<ServiceConfig, 'state' | 'failback' | 'node'>>;
  delete?: readonly string[];
}

export type ServiceUsageMode = 'basic' | 'static' | 'dynamic';

/** Usage figures of one service, in the units the scheduler expects. */
export interface ServiceUsage {
  maxcpu?: number;
  maxmem?: number;
  cpu?: number;
  mem?: number;
}

/** What the scheduler knows about a service that is not necessarily HA managed. */
export interface ClusterServiceStats {
  node: NodeName;
  state: string;
  running: boolean;
  usage: ServiceUsage;
}

export interface NodeUsageStats {
  maxcpu?: number;
  maxmem?: number;
  cpu?: number;
  mem?: number;
}

/** Data of a fencing notification; the simulator only prints its subject. */
export interface FenceNotification {
  prefix: 'FENCE' | 'SUCCEED';
  status: string;
  failedNode: NodeName;
  masterNode?: NodeName;
  timestamp?: number;
  nodes: Array<{ node: NodeName; status: string }>;
  resources: Array<{ resource: Sid; state: string; node: NodeName; running?: 1 }>;
}

/**
 * A resource type's operations on this node (vm, ct, ...). Bound to the
 * environment that handed it out, so it logs and sleeps through it.
 */
/**
 * What a status check found. `unknown`: it could not tell (the check failed,
 * timed out, answered with a code it does not document, its agent was not
 * reachable). The resource may run; it is never taken for `stopped`.
 */
export type RunState = 'running' | 'stopped' | 'unknown';

export interface ResourceDriver {
  runState(name: string): Promise<RunState>;
  start(name: string): Promise<void>;
  shutdown(name: string, timeout?: string): Promise<void>;
  /**
   * Stops the resource at once, without a graceful shutdown: what a node
   * reset would do to it. Used by an LRM that finds itself fenced.
   * Resolves to what a status check found afterwards (run at once, as the
   * stop): only `stopped` confirms it.
   */
  hardStop(name: string): Promise<RunState>;
  /** Moves the resource to `target`; resolves true when it left this node. */
  migrate(name: string, target: NodeName, online: boolean): Promise<boolean>;
  /** Removes the first of `locks` found on the resource; returns it. */
  removeLocks(name: string, locks: readonly string[], serviceNode: NodeName): Promise<string | undefined>;
}

/**
 * The core's timing, in whole seconds, from the cluster's timing profile
 * (src/env/timing.ts). The simulator binds the `default` profile, the
 * reference's numbers.
 */
export interface CoreTiming {
  /** An active LRM round lasts at least this long. */
  readonly lrmRound: number;
  /** A master round lasts at least this long. */
  readonly crmRound: number;
  /** Pause between lock attempts while a daemon waits for or has lost its lock. */
  readonly lockRetry: number;
  /** The master fences a node that has been offline this long. */
  readonly fenceDelay: number;
}

/** When a round started, from HaEnv.roundStart (opaque to the core). */
export type RoundMark = number & { readonly __roundMark: unique symbol };

/** An opaque watchdog client handle. */
export type WatchdogHandle = string;

export interface HaEnv {
  readonly nodename: NodeName;
  readonly timing: CoreTiming;
  /**
   * Where the reference's design is unsafe or gets stuck: follow it
   * (`reference`, the simulator's default) or do better (`safe`, the real
   * daemons). See src/core/policy.ts.
   */
  readonly policy: Policy;

  /** Seconds, monotonic within a run. */
  getTime(): number;
  log(level: LogLevel, msg: string): void;
  sendNotification(notification: FenceNotification): void;
  sleep(seconds: number): Promise<void>;
  /**
   * Marks the start of a round, for sleepUntilRoundEnd. Opaque: the
   * simulator's is its time, a real node's its monotonic clock, so a
   * stepped wall clock neither stretches nor skips a round.
   */
  roundStart(): RoundMark;
  /**
   * The pause at the end of a daemon round: sleeps until `seconds` after
   * `start` (no sleep if that has passed), unless `wake` finds work that
   * should not wait for the next round. An environment that can (the real
   * daemons) asks `wake` at most about once a second while it waits, and
   * ends the pause once it resolves true; the simulator, whose clock moves
   * only between iterations, just sleeps. Only between rounds: ending a
   * pause early brings the next round, and the lock renewal and watchdog
   * feed in it, forward; it never delays them.
   */
  sleepUntilRoundEnd(start: RoundMark, seconds: number, wake?: () => Promise<boolean>): Promise<void>;
  loopStartHook(): void;
  loopEndHook(): void;

  readManagerStatus(): Promise<Readonly<ManagerStatus>>;
  writeManagerStatus(status: ManagerStatus): Promise<void>;
  readLrmStatus(node?: NodeName): Promise<Readonly<LrmStatus>>;
  writeLrmStatus(status: LrmStatus): Promise<void>;

  readServiceConfig(): Promise<ServiceConfigSnapshot>;
  updateServiceConfig(changes: Readonly<Record<Sid, ServiceConfigChange>>): Promise<void>;
  readRulesConfig(): Promise<RulesConfig>;
  writeRulesConfig(rules: RulesConfig): Promise<void>;
  readGroupConfig(): Promise<GroupsConfig>;
  deleteGroupConfig(): Promise<void>;
  /** Moves a service's config to another node; only the master does this, to recover fenced services. */
  stealService(sid: Sid, currentNode: NodeName, newNode: NodeName): Promise<void>;

  queueCrmCommand(cmd: string): Promise<void>;
  anyPendingCrmCommand(): Promise<boolean>;
  /** Returns the queued commands (one per line) and empties the queue. */
  readCrmCommands(): Promise<string>;

  getHaManagerLock(): Promise<boolean>;
  releaseHaManagerLock(): Promise<boolean>;
  getHaAgentLock(node?: NodeName): Promise<boolean>;
  releaseHaAgentLock(): Promise<boolean>;

  quorate(): Promise<boolean>;
  getNodeInfo(): Promise<ClusterMembership>;
  /** False while the cluster state could not be refreshed (a cfs restart, say). */
  clusterStateUpdate(): Promise<boolean>;
  isNodeShutdown(): Promise<{ shutdown: boolean; reboot: boolean }>;

  /**
   * Arms the watchdog for the lock just taken. Undefined when that lock's
   * lease is already too close to expiry to be fed (a slow renewal): armed
   * now, the watchdog could fire only after the lease ran out. The caller
   * counts the lock as not taken and tries again (a new renewal, a new lease).
   */
  watchdogOpen(): Promise<WatchdogHandle | undefined>;
  watchdogUpdate(handle: WatchdogHandle): Promise<void>;
  /** Disarms the watchdog (a magic close): only when nothing here needs fencing protection any more. */
  watchdogClose(handle: WatchdogHandle): Promise<void>;
  /**
   * Lets go of the watchdog without disarming it, as a daemon whose lease
   * lapsed must: it should have been reset, so a real watchdog still fires
   * (watchdog-mux stops feeding its device). The handle is invalid after.
   */
  watchdogAbandon(handle: WatchdogHandle): Promise<void>;
  /**
   * Whether the lease of the lock this daemon's watchdog protects (the LRM's
   * own agent lock, the CRM's manager lock) has run out since its last
   * successful renewal, or the watchdog would have fired by now (no feed
   * within the client timeout). Either way another node may have taken the
   * lock: the daemon must behave as if its node had been reset. Meaningful
   * while the daemon holds that lock and its watchdog.
   */
  leaseLapsed(): boolean;

  /** 0 runs resource commands inline, one after another (the simulator). */
  getMaxWorkers(): number;
  /**
   * Aborts every resource command of the LRM's workers, queued or running
   * (process group: SIGTERM, then SIGKILL after a short grace; not the hard
   * stops, which run apart), and refuses their further commands — each
   * reports aborted at once — until `settled` (the aborted workers have
   * finished) resolves; resolves then. For an LRM acting as fenced. The
   * simulator runs its workers inline: none runs when it acts as fenced.
   */
  abortWorkerCommands(settled: Promise<void>): Promise<void>;
  resourceDriver(type: string): ResourceDriver | undefined;

  getDatacenterSettings(): Promise<DatacenterSettings>;
  getServiceStats(mode: ServiceUsageMode): Promise<Record<Sid, ClusterServiceStats>>;
  getNodeStats(mode: 'static' | 'dynamic'): Promise<Record<NodeName, NodeUsageStats>>;
  getNodeVersion(node: NodeName): Promise<string | undefined>;
  readonly scoringKernel: ScoringKernel;

  /** A new unique id for a service state change; LRM results are keyed by it. */
  newUid(): string;
}
