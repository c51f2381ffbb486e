// Simulated resource types: virtual machines (vm), containers (ct, which
// cannot live-migrate while running) and 'fa', whose id encodes how it fails:
//
//   fa:<a><b><c>[<d>[<e>[<f>]]] — a: free to tell resources apart;
//   b: failed start attempts before one succeeds; c: likewise for migrations;
//   d: non-zero when shutdown never succeeds; e: what exists() answers
//   (default 1); f: limits b and c to node<f> (0: every node).

import type { HaEnv, ResourceDriver } from '../env.js';
import type { SimHardware } from './hardware.js';

/** Seconds a simulated start, stop or live migration takes. */
const OPERATION_SECONDS = 2;

interface FailureSpec {
  startFailures: number;
  migrateFailures: number;
  cannotStop: boolean;
  exists: boolean;
  limitToNode: number;
}

export function decodeFailureSpec(id: string): FailureSpec {
  const match = /^\d(\d)(\d)(\d)?(\d)?(\d)?/.exec(id);
  const digit = (i: number, fallback: number): number =>
    match?.[i] !== undefined ? Number(match[i]) : fallback;
  return {
    startFailures: digit(1, 0),
    migrateFailures: digit(2, 0),
    cannotStop: digit(3, 0) !== 0,
    exists: digit(4, 1) !== 0,
    limitToNode: digit(5, 0),
  };
}

/**
 * The plain simulated guest. `self` is the driver as finally assembled, so a
 * relocation stops the guest through the type's own shutdown.
 */
function baseDriver(hw: SimHardware, env: HaEnv, type: string, self: () => ResourceDriver): ResourceDriver {
  const node = env.nodename;
  const sidOf = (name: string): string => `${type}:${name}`;

  return {
    async runState(name) {
      return hw.isRunning(node, sidOf(name)) ? 'running' : 'stopped';
    },
    async start(name) {
      const sid = sidOf(name);
      const lock = hw.serviceLock(sid);
      if (lock !== undefined) {
        env.log('err', `service '${sid}' locked (${lock}), unable to start!`);
        return;
      }
      await env.sleep(OPERATION_SECONDS);
      hw.setRunning(node, sid, true);
    },
    async shutdown(name) {
      const sid = sidOf(name);
      const lock = hw.serviceLock(sid);
      if (lock !== undefined) {
        env.log('err', `service '${sid}' locked (${lock}), unable to shutdown!`);
        return;
      }
      await env.sleep(OPERATION_SECONDS);
      hw.setRunning(node, sid, false);
    },
    async hardStop(name) {
      // As a power cut: no lock check, no delay, whatever the guest is.
      hw.setRunning(node, sidOf(name), false);
      return 'stopped';
    },
    async migrate(name, target, online) {
      const sid = sidOf(name);
      const task = online ? 'migrate' : 'relocate';
      env.log('info', `service ${sid} - start ${task} to node '${target}'`);
      const lock = hw.serviceLock(sid);
      if (lock !== undefined) {
        env.log('err', `service '${sid}' locked (${lock}), unable to ${task}!`);
        return false;
      }
      // A relocation stops the service first; a live migration just takes time.
      if (!online && (await self().runState(name)) === 'running') {
        env.log('info', `stopping service ${sid} (relocate)`);
        await self().shutdown(name);
        env.log('info', `service status ${sid} stopped`);
      } else {
        await env.sleep(OPERATION_SECONDS);
      }
      hw.changeServiceLocation(sid, node, target);
      env.log('info', `service ${sid} - end ${task} to node '${target}'`);
      hw.forgetRunning(node, sid);
      return true;
    },
    async removeLocks(name, locks) {
      const sid = sidOf(name);
      for (const lock of locks) {
        const removed = hw.unlockService(sid, lock);
        if (removed !== undefined) return removed;
      }
      return undefined;
    },
  };
}

function containerDriver(hw: SimHardware, env: HaEnv): ResourceDriver {
  const base = baseDriver(hw, env, 'ct', () => driver);
  const driver: ResourceDriver = {
    ...base,
    async migrate(name, target, online) {
      if (online && hw.isRunning(env.nodename, `ct:${name}`)) {
        env.log('warn', 'unable to live migrate running container, fallback to relocate');
        return base.migrate(name, target, false);
      }
      return base.migrate(name, target, online);
    },
  };
  return driver;
}

function failingDriver(hw: SimHardware, env: HaEnv): ResourceDriver {
  const base = baseDriver(hw, env, 'fa', () => driver);
  const appliesHere = (spec: FailureSpec): boolean =>
    spec.limitToNode === 0 || env.nodename === `node${spec.limitToNode}`;

  /** Counts an attempt; true when it is still one of the attempts meant to fail. */
  const failsNow = (tries: Map<string, number>, name: string, failures: number, spec: FailureSpec): boolean => {
    if (appliesHere(spec)) {
      const attempt = (tries.get(name) ?? 0) + 1;
      tries.set(name, attempt);
      if (failures >= attempt) return true;
    }
    tries.set(name, 0);
    return false;
  };

  const driver: ResourceDriver = {
    ...base,
    async start(name) {
      const spec = decodeFailureSpec(name);
      if (failsNow(hw.failTries.start, name, spec.startFailures, spec)) return;
      await base.start(name);
    },
    async shutdown(name) {
      if (decodeFailureSpec(name).cannotStop) return;
      await base.shutdown(name);
    },
    async migrate(name, target, online) {
      const spec = decodeFailureSpec(name);
      if (failsNow(hw.failTries.migrate, name, spec.migrateFailures, spec)) return false;
      return base.migrate(name, target, online);
    },
  };
  return driver;
}

export function simResourceDriver(hw: SimHardware, env: HaEnv, type: string): ResourceDriver | undefined {
  switch (type) {
    case 'vm': {
      const driver: ResourceDriver = baseDriver(hw, env, 'vm', () => driver);
      return driver;
    }
    case 'ct':
      return containerDriver(hw, env);
    case 'fa':
      return failingDriver(hw, env);
    default:
      return undefined;
  }
}
