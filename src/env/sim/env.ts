// One daemon's view of the simulated cluster (the reference's TestEnv): its
// own clock, which advances one second per loop iteration, sleeps that only
// count (they never pass real time) and the cluster file system checks that
// make reads and writes fail while a node's cfs is switched off.

import type { GroupsConfig, RulesConfig } from '../../core/rules/types.js';
import type { Policy } from '../../core/policy.js';
import type { DatacenterSettings, LrmStatus, ManagerStatus, NodeName } from '../../core/types.js';
import type {
  ClusterMembership,
  FenceNotification,
  HaEnv,
  LogLevel,
  ResourceDriver,
  RoundMark,
  ServiceConfigChange,
  ServiceConfigSnapshot,
} from '../env.js';
import { coreTiming, DEFAULT_PROFILE } from '../timing.js';
import { SimError, type SimHardware } from './hardware.js';
import { formatDaemonLogLine } from './log.js';
import { simResourceDriver } from './resources.js';

/** Seconds a cluster lock stays valid without renewal. */
export const LOCK_TIMEOUT = DEFAULT_PROFILE.lockLifetimeMs / 1000;
/** The simulator runs the reference's timing. */
const TIMING = coreTiming(DEFAULT_PROFILE);

export interface SimEnvOptions {
  /** A loop iteration whose sleeps add up to more ends the simulation (reference: 300). */
  maxLoopDelay: number;
  /** The core's behaviour where the reference's is unsafe (src/core/policy.ts). */
  policy: Policy;
}

export interface SimEnv extends HaEnv {
  readonly daemon: 'crm' | 'lrm';
  /** The daemon process died with its node: forget what only it knew (its lease, its watchdog). */
  endProcess(): void;
}

export function createSimEnv(hw: SimHardware, nodename: NodeName, daemon: 'crm' | 'lrm', options: SimEnvOptions): SimEnv {
  let curTime = 0;
  let loopDelay = 0;
  const source = `${nodename}/${daemon}`;
  const drivers = new Map<string, ResourceDriver | undefined>();

  const log = (level: LogLevel | 'email', msg: string): void => {
    if (level === 'debug') return;
    hw.writeLine(formatDaemonLogLine(level, curTime, source, msg));
  };

  const assertCfsCanRw = (): void => {
    if (!hw.cfsWorks(nodename, 'rw')) throw new SimError('cfs connection refused - not mounted?');
  };

  const quorate = (): boolean => {
    const { nodes, quorate } = hw.membership();
    return nodes[nodename]?.online === true && quorate;
  };

  const lock = (name: string, unlock: boolean): boolean => {
    if (!quorate()) return false;
    return hw.lock(name, nodename, curTime, LOCK_TIMEOUT, unlock, (msg) => log('info', msg)) === true;
  };

  // The lock this daemon's watchdog protects: when it was last renewed, and
  // the watchdog opened for it. The hardware's watchdog fires (and powers
  // the node off) before the lease can run out, so a running daemon never
  // sees either lapse; the check is bound all the same.
  const protectedLock = daemon === 'crm' ? 'ha_manager_lock' : `ha_agent_${nodename}_lock`;
  let renewedAt: number | undefined;
  let watchdogHandle: string | undefined;
  const takeLock = (name: string): boolean => {
    const got = lock(name, false);
    if (got && name === protectedLock) renewedAt = curTime;
    return got;
  };

  const agentLockName = (node: NodeName = nodename): string => `ha_agent_${node}_lock`;

  const env: SimEnv = {
    nodename,
    daemon,
    timing: TIMING,
    policy: options.policy,
    getTime: () => curTime,
    log,
    sendNotification(notification: FenceNotification) {
      // Only the subject, to keep the log readable.
      log('email', `${notification.prefix}: ${notification.status}`);
    },
    async sleep(seconds) {
      loopDelay += seconds;
    },
    roundStart: () => env.getTime() as RoundMark,
    // The simulated clock moves one second per iteration, never within one,
    // so nothing can wake a pause early (`wake` is not asked): the
    // reference's round timing.
    async sleepUntilRoundEnd(start, seconds) {
      const time = start + seconds;
      const now = curTime + loopDelay;
      if (now >= time) return;
      loopDelay += time - now;
    },
    loopStartHook() {
      loopDelay = 0;
      if (hw.time < curTime) throw new SimError('strange start time', 'TestEnv.pm line 94');
      curTime = hw.time;
    },
    loopEndHook() {
      const delay = loopDelay;
      loopDelay = 0;
      if (delay > options.maxLoopDelay) throw new SimError(`loop took too long (${delay} seconds)`);
      // Each iteration takes one second of simulated time, whatever it slept.
      curTime += 1;
    },

    async readManagerStatus(): Promise<Readonly<ManagerStatus>> {
      assertCfsCanRw();
      return hw.readManagerStatus();
    },
    async writeManagerStatus(status) {
      assertCfsCanRw();
      hw.writeManagerStatus(status);
    },
    async readLrmStatus(node = nodename): Promise<Readonly<LrmStatus>> {
      assertCfsCanRw();
      return hw.readLrmStatus(node);
    },
    async writeLrmStatus(status) {
      assertCfsCanRw();
      hw.writeLrmStatus(nodename, status);
    },

    async readServiceConfig(): Promise<ServiceConfigSnapshot> {
      assertCfsCanRw();
      return { services: hw.readServiceConfig() };
    },
    async updateServiceConfig(changes: Readonly<Record<string, ServiceConfigChange>>) {
      hw.updateServiceConfig(changes);
    },
    async readRulesConfig(): Promise<RulesConfig> {
      assertCfsCanRw();
      return hw.readRulesConfig();
    },
    async writeRulesConfig(rules) {
      assertCfsCanRw();
      hw.writeRulesConfig(rules);
    },
    async readGroupConfig(): Promise<GroupsConfig> {
      assertCfsCanRw();
      return hw.readGroupConfig();
    },
    async deleteGroupConfig() {
      assertCfsCanRw();
      hw.deleteGroupConfig();
    },
    async stealService(sid, currentNode, newNode) {
      assertCfsCanRw();
      hw.changeServiceLocation(sid, currentNode, newNode);
    },

    async queueCrmCommand(cmd) {
      assertCfsCanRw();
      hw.queueCrmCommand(cmd);
    },
    async anyPendingCrmCommand() {
      assertCfsCanRw();
      return hw.anyPendingCrmCommand();
    },
    async readCrmCommands() {
      assertCfsCanRw();
      return hw.takeCrmCommands();
    },

    async getHaManagerLock() {
      const result = takeLock('ha_manager_lock');
      loopDelay += 1;
      return result;
    },
    async releaseHaManagerLock() {
      return lock('ha_manager_lock', true);
    },
    async getHaAgentLock(node) {
      const result = takeLock(agentLockName(node));
      loopDelay += 1;
      return result;
    },
    async releaseHaAgentLock() {
      return lock(agentLockName(), true);
    },

    async quorate() {
      return quorate();
    },
    async getNodeInfo(): Promise<ClusterMembership> {
      // No heartbeat stamps (lastOnline): a new master starts a node's fence
      // delay at its first round, as the reference's does, under either policy.
      return hw.membership();
    },
    async clusterStateUpdate() {
      return hw.cfsWorks(nodename, 'update');
    },
    async isNodeShutdown() {
      const target = hw.hw[nodename]?.shutdown;
      return { shutdown: target !== undefined, reboot: target === 'reboot' };
    },

    async watchdogOpen() {
      watchdogHandle = hw.watchdogOpen(nodename, daemon);
      return watchdogHandle;
    },
    async watchdogUpdate(handle) {
      hw.watchdogUpdate(handle);
    },
    async watchdogClose(handle) {
      hw.watchdogClose(handle);
      if (handle === watchdogHandle) watchdogHandle = undefined;
    },
    async watchdogAbandon(handle) {
      // Left open and never fed again: it fires at its expiry, resetting the node.
      if (handle === watchdogHandle) watchdogHandle = undefined;
    },
    endProcess() {
      renewedAt = undefined;
      watchdogHandle = undefined;
    },
    leaseLapsed() {
      if (renewedAt !== undefined && curTime - renewedAt > LOCK_TIMEOUT) return true;
      return watchdogHandle !== undefined && !hw.hasWatchdog(watchdogHandle);
    },

    // No forking in the simulator: commands run inline, one after another.
    getMaxWorkers: () => 0,
    // Workers run inline here: none is running to abort.
    abortWorkerCommands: (settled) => settled,
    resourceDriver(type) {
      if (!drivers.has(type)) drivers.set(type, simResourceDriver(hw, env, type));
      return drivers.get(type);
    },

    async getDatacenterSettings(): Promise<DatacenterSettings> {
      const { ha, crs } = hw.datacenter();
      return { ha, crs } as DatacenterSettings;
    },
    async getServiceStats(mode) {
      return hw.serviceStats(mode);
    },
    async getNodeStats(mode) {
      return hw.nodeStats(mode);
    },
    async getNodeVersion(node) {
      return hw.nodeVersion(node);
    },
    scoringKernel: hw.kernel,
    newUid: () => hw.nextUid(),
  };
  return env;
}
