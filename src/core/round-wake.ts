// What ends a daemon's pause between rounds early under the safe policy
// (HaEnv.sleepUntilRoundEnd). The reference waits for the next round whatever
// happened meanwhile; after a node reset that adds up to a CRM round (the
// master notices the failed node's agent lock has expired only at its next
// round) and an LRM round (the node that receives the recovered service
// starts it only at its next round) to the failover. These wakes remove
// both waits; rounds otherwise run, renew their locks and feed their
// watchdogs exactly as before.

import type { HaEnv } from '../env/env.js';
import { listNodes, nodeState, type NodeStatus } from './node-status.js';
import type { ServiceStatusEntry, Sid } from './types.js';

type Wake = () => Promise<boolean>;

/**
 * The master's: a node waits to be fenced (its agent lock was refused this
 * round, as its lease has not yet run out) and its agent lock can now be
 * had. The lock is taken right here, as the next round's fencing would;
 * that round then finds it held and acknowledges the fence. Taking it early
 * changes no safety argument: the lock is free only once the node's LRM has
 * not renewed it for the whole lock lifetime, by which time its watchdog has
 * reset the node (docs/RELIABILITY.md, "Timing").
 */
export function fenceLockWake(env: HaEnv, ns: NodeStatus): Wake | undefined {
  if (env.policy !== 'safe') return undefined;
  const waiting = listNodes(ns).filter((node) => nodeState(ns, node) === 'fence');
  if (waiting.length === 0) return undefined;
  return async () => {
    for (const node of waiting) if (await env.getHaAgentLock(node)) return true;
    return false;
  };
}

/**
 * The LRM's: the manager status gives this node work it has not seen — a
 * service placed on (or moving to) this node whose state, node or target
 * differs from the status the LRM last read (`seen`). The uids the master
 * renews every round for unchanged services do not count, so an LRM wakes
 * only for a real change; the last read is refreshed by the round it wakes.
 */
export function newWorkWake(env: HaEnv, seen: () => Readonly<Record<Sid, Readonly<ServiceStatusEntry>>>): Wake | undefined {
  if (env.policy !== 'safe') return undefined;
  const node = env.nodename;
  return async () => {
    const current = (await env.readManagerStatus()).service_status ?? {};
    const before = seen();
    for (const sid of Object.keys(current)) {
      const sd = current[sid];
      if (sd.node !== node && sd.target !== node) continue;
      const old = before[sid];
      if (old === undefined || old.state !== sd.state || old.node !== sd.node || old.target !== sd.target) return true;
    }
    return false;
  };
}
