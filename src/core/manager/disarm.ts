// Disarming the HA stack: every LRM releases its agent lock and watchdog,
// services are frozen (freeze mode) or left untracked (ignore mode), until an
// arm-ha command.

import type { HaEnv } from '../../env/env.js';
import { listOnlineNodes } from '../node-status.js';
import type { DisarmStatus, ReportedLrmMode, NodeName, ServiceStatusEntry, Sid } from '../types.js';
import { flushMasterStatus, type Manager } from './state.js';
import { markAllUnprotected } from './unprotected.js';

/** Status fields kept while disarmed; the rest is runtime data to start afresh on re-arm. */
const KEPT_WHILE_DISARMED: ReadonlySet<string> = new Set(['state', 'node', 'uid', 'maintenance_node']);

const FREEZABLE_FOR_DISARM: ReadonlySet<string> = new Set([
  'started',
  'stopped',
  'request_stop',
  'request_start',
  'request_start_balance',
]);

function pruneRuntimeData(sd: ServiceStatusEntry): void {
  for (const key of Object.keys(sd)) {
    if (!KEPT_WHILE_DISARMED.has(key)) delete (sd as unknown as Record<string, unknown>)[key];
  }
}

/**
 * One round of a requested disarm. Returns the services still in a transient
 * state (fence, recovery, migrate, relocate) that must finish first — the
 * round then runs the state machine for those only — or undefined when the
 * disarm was handled and the state machine must be skipped.
 */
export async function handleDisarm(
  env: HaEnv,
  m: Manager,
  disarm: DisarmStatus,
  lrmModes: Readonly<Record<NodeName, ReportedLrmMode>>,
): Promise<Set<Sid> | undefined> {
  const { ss, ns } = m;
  // Safe policy: from now on any LRM may release its lock with guests running.
  markAllUnprotected(env, m);
  const mode: string = disarm.mode;
  if (mode !== 'freeze' && mode !== 'ignore') {
    env.log('err', `unknown disarm-mode '${mode}', ignoring`);
    return undefined;
  }

  const deferred = new Set<Sid>();
  for (const sid of Object.keys(ss).sort()) {
    const state = ss[sid].state;
    if (state === 'fence' || state === 'recovery') {
      env.log('warn', `deferring disarm - service '${sid}' is in '${state}' state`);
      deferred.add(sid);
    } else if (state === 'migrate' || state === 'relocate') {
      env.log('info', `deferring disarm - service '${sid}' is in '${state}' state`);
      deferred.add(sid);
    }
  }
  if (deferred.size > 0) return deferred;

  if (mode === 'freeze') {
    for (const sid of Object.keys(ss).sort()) {
      const sd = ss[sid];
      if (sd.state === 'freeze' || !FREEZABLE_FOR_DISARM.has(sd.state)) continue;
      env.log('info', `disarm: freezing service '${sid}' (was '${sd.state}')`);
      pruneRuntimeData(sd);
      sd.state = 'freeze';
      sd.uid = env.newUid();
      m.serviceChangedAt[sid] = env.getTime();
    }
  } else {
    // Ignore mode keeps the service status; the disarm flag makes the
    // service loops skip these services while disarmed.
    for (const sid of Object.keys(ss).sort()) pruneRuntimeData(ss[sid]);
  }

  const allDisarmed = listOnlineNodes(ns).every((node) => lrmModes[node] === 'disarm');
  if (allDisarmed && disarm.state !== 'disarmed') {
    env.log('info', 'all LRMs disarmed, HA stack is now fully disarmed');
    disarm.state = 'disarmed';
  }
  // Once disarmed, stay so: a node coming back catches up within one round.
  m.allLrmsDisarmed = disarm.state === 'disarmed';

  await flushMasterStatus(env, m);
  return undefined;
}
