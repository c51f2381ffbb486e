// User commands queued in crm_commands (migrate, relocate, stop, node
// maintenance, disarm/arm), taken into the manager's state each round.

import { crmCommandParseError, parseCrmCommand, splitCrmCommands } from '../../config/crm-commands.js';
import type { HaEnv } from '../../env/env.js';
import { isNodeOnline, nodeState } from '../node-status.js';
import { getAffinitiveResources } from '../rules/index.js';
import type { NodeName, Sid } from '../types.js';
import type { Manager } from './state.js';

/**
 * Queues a migration or relocation of `sid` to `target`, together with every
 * service in positive affinity with it, unless a service in negative
 * affinity with it is on, or heading to, the target.
 */
export function queueResourceMotion(
  env: HaEnv,
  m: Manager,
  cmd: string,
  task: 'migrate' | 'relocate',
  sid: Sid,
  target: NodeName,
): void {
  const { ss } = m;
  const resourceAffinity = m.compiledRules?.['resource-affinity'];
  const { together, separate } = resourceAffinity
    ? getAffinitiveResources(resourceAffinity, sid)
    : { together: new Set<Sid>(), separate: new Set<Sid>() };

  for (const csid of [...separate].sort()) {
    const csd = ss[csid];
    if (csd === undefined) continue;
    if ((csd.state as string) === 'ignored') continue;
    if (csd.node && csd.node !== target) continue;
    if (csd.target && csd.target !== target) continue;
    env.log(
      'err',
      `crm command '${cmd}' error - service '${csid}' on node '${target}' in negative affinity with service '${sid}'`,
    );
    return;
  }

  env.log('info', `got crm command: ${cmd}`);
  ss[sid].cmd = [task, target];

  const companions: Sid[] = [];
  for (const csid of [...together].sort()) {
    const csd = ss[csid];
    if (csd === undefined) continue;
    if ((csd.state as string) === 'ignored') continue;
    if (csd.node && csd.node === target) continue;
    if (csd.target && csd.target === target) continue;
    companions.push(csid);
  }
  for (const csid of companions) {
    env.log(
      'info',
      `crm command '${cmd}' - ${task} service '${csid}' to node '${target}' (service '${csid}' in positive affinity with service '${sid}')`,
    );
    ss[csid].cmd = [task, target];
  }
}

/** True while any service moves or has a move queued. */
export function anyResourceMotionQueuedOrRunning(m: Manager): boolean {
  for (const sd of Object.values(m.ss)) {
    if (sd.state === 'migrate' || sd.state === 'relocate') return true;
    const cmd = sd.cmd?.[0];
    if (cmd === 'migrate' || cmd === 'relocate') return true;
  }
  return false;
}

export async function updateCrmCommands(env: HaEnv, m: Manager): Promise<void> {
  const { ms, ns, ss } = m;
  const raw = await env.readCrmCommands();

  for (const line of splitCrmCommands(raw)) {
    const command = parseCrmCommand(line);
    if (command === undefined) {
      env.log('err', crmCommandParseError(line));
      continue;
    }
    switch (command.kind) {
      case 'migrate':
      case 'relocate': {
        const sd = ss[command.sid];
        if (sd === undefined) {
          env.log('err', `crm command error - no such service: ${line}`);
        } else if (!isNodeOnline(ns, command.node)) {
          env.log('err', `crm command error - node not online: ${line}`);
        } else if (command.node === sd.node) {
          env.log('info', `ignore crm command - service already on target node: ${line}`);
        } else {
          queueResourceMotion(env, m, line, command.kind, command.sid, command.node);
        }
        break;
      }
      case 'stop': {
        const sd = ss[command.sid];
        if (sd === undefined) {
          env.log('err', `crm command error - no such service: ${line}`);
        } else {
          env.log('info', `got crm command: ${line}`);
          sd.cmd = ['stop', command.timeout];
        }
        break;
      }
      case 'enable-node-maintenance': {
        const state = nodeState(ns, command.node);
        if (ms.disarm) {
          env.log('warn', `ignoring maintenance command for node ${command.node} - HA stack is disarmed`);
        } else if (state === 'online') {
          ms.node_request ??= {};
          ms.node_request[command.node] = { ...ms.node_request[command.node], maintenance: 1 };
        } else if (state === 'maintenance') {
          env.log('info', `ignoring crm command - node ${command.node} is already in maintenance state`);
        } else {
          env.log('err', `crm command error - node not online: ${line}`);
        }
        break;
      }
      case 'disable-node-maintenance': {
        const state = nodeState(ns, command.node);
        if (state !== 'maintenance') {
          env.log('warn', `clearing maintenance of node ${command.node} requested, but it's in state ${state}`);
        }
        // The (possibly empty) request entry stays until the status is flushed, as before.
        ms.node_request ??= {};
        const request = (ms.node_request[command.node] ??= {});
        delete request.maintenance;
        break;
      }
      case 'disarm-ha': {
        if (ms.disarm) {
          env.log('notice', `ignoring disarm-ha command - already in disarm state (${ms.disarm.state})`);
        } else {
          env.log('info', `got crm command: disarm-ha ${command.mode}`);
          if (command.mode === 'ignore') {
            for (const sid of Object.keys(ss).sort()) {
              env.log('info', `disarm: suspending HA tracking for service '${sid}'`);
            }
          }
          ms.disarm = { mode: command.mode, state: 'disarming' };
        }
        break;
      }
      case 'arm-ha': {
        if (!ms.disarm) {
          env.log('notice', 'ignoring arm-ha command - HA stack is not disarmed');
          break;
        }
        env.log('info', 'got crm command: arm-ha');
        if (ms.disarm.mode === 'ignore') {
          // Services may have been moved by hand while HA tracking was suspended.
          const { services } = await env.readServiceConfig();
          for (const sid of Object.keys(ss).sort()) {
            const cd = services[sid];
            if (cd === undefined || cd.node === ss[sid].node) continue;
            const waiting = ss[sid].state === 'fence' || ss[sid].state === 'recovery';
            if (waiting && env.policy === 'safe') {
              // The reference moves it too, and then fences the new node (an
              // innocent one) or recovers the service from it although nobody
              // fenced it, while the guest the admin moved there may run: a
              // double run. It stays on its failed node until that is fenced;
              // the recovery then finds the config gone and lets the service
              // go on where it is (services.ts, stepRecovery).
              env.log('info', `service '${sid}': node changed to '${cd.node}' while disarmed, but it waits in '${ss[sid].state}' on '${ss[sid].node}' - leaving it there, its recovery follows the config`);
              continue;
            }
            env.log('info', `service '${sid}': updating node '${ss[sid].node}' => '${cd.node}' (changed while disarmed)`);
            ss[sid].node = cd.node;
          }
        }
        delete ms.disarm;
        break;
      }
      default: {
        const unreachable: never = command;
        throw new Error(`unhandled crm command ${JSON.stringify(unreachable)}`);
      }
    }
  }
}
