// The simulation loop (the reference's TestHardware): every node's CRM and
// then LRM run one iteration in turn, node by node, with watchdogs checked
// after each node; a loop takes at least 20 simulated seconds; every fifth
// loop the next round of scripted commands (power, network, cfs, services,
// ...) is applied. The run ends 500 s after the last command.

import { createCrm, crmIteration, requestCrmShutdown, type Crm } from '../../core/crm.js';
import { errorText } from '../../core/errors.js';
import { createLrm, lrmIteration, requestLrmShutdown, type Lrm, type LrmProcessState } from '../../core/lrm.js';
import type { ScoringKernel } from '../../core/scheduling/kernel.js';
import { typescriptScoringKernel } from '../../core/scheduling/kernel.js';
import { leadingNumber } from '../../core/format.js';
import type { Policy } from '../../core/policy.js';
import type { NodeName } from '../../core/types.js';
import { createSimEnv, type SimEnv } from './env.js';
import { SimError, SimHardware } from './hardware.js';
import type { SimDaemonStates, SimObservation, SimObserver, SimStep } from './observer.js';
import { assertSimScenario, type SimScenario } from './scenario-input.js';

/** Simulated seconds after the last command at which the run ends. */
const RUN_OUT_SECONDS = 500;
const MIB = 1024 ** 2;

export interface SimulationOptions {
  /** Receives each log line (newline-terminated). */
  write: (line: string) => void;
  kernel?: ScoringKernel;
  /** Upper bound on one daemon iteration's sleeps (reference: 300 s). */
  maxLoopDelay?: number;
  /** Simulated time at which the run is cut off (reference: 10000 s). */
  maxSimTime?: number;
  /** Allow more nodes than the reference's lock and watchdog timing supports (30). */
  allowManyNodes?: boolean;
  /** Shown every step of the run (invariant checkers); it only reads. */
  observer?: SimObserver;
  /**
   * The core's behaviour where the reference's is unsafe (src/core/policy.ts);
   * overrides the scenario's own. Default: the scenario's, else `reference`.
   */
  policy?: Policy;
}

interface NodeDaemons {
  crmEnv: SimEnv;
  lrmEnv: SimEnv;
  crm?: Crm;
  lrm?: Lrm;
  lrmRestart: boolean;
  crmStop: boolean;
}

interface Simulation {
  hw: SimHardware;
  daemons: Record<NodeName, NodeDaemons>;
  lrmProcess: LrmProcessState;
  observer?: SimObserver;
  /** What the observer sees; its counters advance with the run. */
  observation: SimObservation & { loop: number; round: number };
}

function observe(sim: Simulation, step: SimStep): void {
  sim.observer?.step(sim.observation, step);
}

function daemonStates(sim: Simulation, node: NodeName): SimDaemonStates {
  const d = sim.daemons[node];
  return {
    ...(d?.crm ? { crm: d.crm.status.state } : {}),
    ...(d?.lrm ? { lrm: { state: d.lrm.status.state, mode: d.lrm.mode } } : {}),
  };
}

function requireHaResourceId(id: string): string {
  if (!/^[a-z]+:\S+$/.test(id)) throw new SimError('value does not look like a valid ha resource id');
  return id;
}

async function powerOn(sim: Simulation, node: NodeName, d: NodeDaemons): Promise<void> {
  d.crm ??= await createCrm(d.crmEnv);
  d.lrm ??= createLrm(d.lrmEnv, sim.lrmProcess);
  d.lrmRestart = false;
  sim.hw.hw[node].cfs = {};
}

function powerOff(sim: Simulation, node: NodeName, d: NodeDaemons): void {
  if (d.crm) {
    d.crmEnv.log('info', 'killed by poweroff');
    d.crm = undefined;
  }
  if (d.lrm) {
    d.lrmEnv.log('info', 'killed by poweroff');
    d.lrm = undefined;
    d.lrmRestart = false;
  }
  d.crmEnv.endProcess();
  d.lrmEnv.endProcess();
  sim.hw.watchdogReset(node);
  sim.hw.clearRunning(node);
}

async function serviceCommand(sim: Simulation, sid: string, action: string, params: string[]): Promise<void> {
  const { hw } = sim;
  const param = params[0];
  switch (action) {
    case 'started':
    case 'disabled':
    case 'stopped':
    case 'ignored':
      hw.setServiceState(sid, action);
      return;
    case 'migrate':
    case 'relocate':
      if (!param) throw new SimError(`sim_hardware_cmd: missing target node for '${action}' command`, 'Hardware.pm line 939');
      hw.queueCrmCommand(`${action} ${sid} ${param}`);
      return;
    case 'stop':
      if (param === undefined) throw new SimError(`sim_hardware_cmd: missing timeout for '${action}' command`, 'Hardware.pm line 946');
      hw.queueCrmCommand(`${action} ${sid} ${param}`);
      return;
    case 'add':
      hw.addService(sid, { state: params[1] || 'started', node: param }, params[2] || 0);
      return;
    case 'set-static-stats':
    case 'set-dynamic-stats': {
      if (params.length === 0) throw new SimError(`sim_hardware_cmd: missing target stat for '${action}' command`, 'Hardware.pm line 959');
      const conversions: Record<string, (value: string) => number> =
        action === 'set-static-stats'
          ? { maxcpu: (v) => leadingNumber(v), maxmem: (v) => leadingNumber(v) * MIB }
          : { cpu: (v) => leadingNumber(v), mem: (v) => leadingNumber(v) * MIB };
      const stats: Record<string, number> = {};
      for (let i = 0; i < params.length; i += 2) {
        const target = params[i];
        const value = params[i + 1];
        if (value === undefined) throw new SimError(`sim_hardware_cmd: missing value for '${action} ${target}' command`, 'Hardware.pm line 969');
        const convert = conversions[target];
        if (convert === undefined) {
          throw new SimError(`sim_hardware_cmd: unknown target stat '${target}' for '${action}' command`, 'Hardware.pm line 972');
        }
        stats[target] = convert(value);
      }
      if (action === 'set-static-stats') hw.setStaticStats(sid, stats);
      else hw.setDynamicStats(sid, stats);
      return;
    }
    case 'manual-migrate': {
      if (!param) throw new SimError(`sim_hardware_cmd: missing target node for '${action}' command`, 'Hardware.pm line 986');
      const entry = hw.rawServiceEntry(sid);
      if (entry === undefined) throw new SimError(`sim_hardware_cmd: service '${sid}' not configured`);
      const current = hw.readServiceConfig()[sid].node;
      const ignored = entry.state === 'ignored';
      const disarmIgnore = hw.readManagerStatus().disarm?.mode === 'ignore';
      if (!ignored && !disarmIgnore) {
        throw new SimError("sim_hardware_cmd: manual-migrate requires service in 'ignored' state or disarm-ha ignore mode");
      }
      hw.changeServiceLocation(sid, current, param);
      return;
    }
    case 'delete':
      hw.deleteService(sid);
      return;
    case 'lock':
      hw.lockService(sid, param);
      return;
    case 'unlock':
      hw.unlockService(sid, param);
      return;
    default:
      throw new SimError(`sim_hardware_cmd: unknown service action '${action}' - not implemented`);
  }
}

async function crmCommand(sim: Simulation, node: NodeName, d: NodeDaemons, action: string, params: string[]): Promise<void> {
  const { hw } = sim;
  switch (action) {
    case 'stop':
      if (d.crm) {
        d.crmStop = true;
        requestCrmShutdown(d.crm);
      }
      return;
    case 'start':
      d.crm ??= await createCrm(d.crmEnv);
      return;
    case 'enable-node-maintenance':
    case 'disable-node-maintenance':
      hw.queueCrmCommand(`${action} ${node}`);
      return;
    case 'disarm-ha': {
      const mode = params[0] ?? '';
      if (mode !== 'freeze' && mode !== 'ignore') throw new SimError(`sim_hardware_cmd: unknown resource mode '${mode}'`);
      hw.queueCrmCommand(`${action} ${mode}`);
      return;
    }
    case 'arm-ha':
      hw.queueCrmCommand(action);
      return;
    default:
      throw new SimError(`sim_hardware_cmd: unknown action '${action}'`, 'Hardware.pm line 924');
  }
}

/** Applies one scripted hardware command, logged under `source`. */
export async function simHardwareCommand(sim: Simulation, command: string, source: string): Promise<void> {
  await applyHardwareCommand(sim, command, source);
  observe(sim, { kind: 'command', command, source });
}

async function applyHardwareCommand(sim: Simulation, command: string, source: string): Promise<void> {
  const { hw } = sim;
  const [cmd, objectId, action = '', ...params] = command.split(/\s+/);
  if (!objectId) throw new SimError('sim_hardware_cmd: no node or service for command specified', 'Hardware.pm line 812');

  if (cmd === 'service') {
    const sid = requireHaResourceId(objectId);
    hw.log('info', `execute ${command}`, source);
    await serviceCommand(sim, sid, action, params);
    return;
  }

  const node = objectId;
  const d = sim.daemons[node];
  if (d === undefined) throw new SimError(`sim_hardware_cmd: no such node '${node}'`);
  hw.log('info', `execute ${command}`, source);
  const state = hw.hw[node];

  switch (cmd) {
    case 'power':
      if (action !== 'on' && action !== 'off') throw new SimError(`sim_hardware_cmd: unknown action '${action}'`);
      if (state.power !== action) {
        if (action === 'on') await powerOn(sim, node, d);
        else powerOff(sim, node, d);
      }
      state.power = action;
      state.network = action;
      state.shutdown = undefined;
      return;
    case 'network':
      if (action !== 'on' && action !== 'off') {
        throw new SimError(`sim_hardware_cmd: unknown network action '${action}'`, 'Hardware.pm line 867');
      }
      state.network = action;
      return;
    case 'pve-manager-version':
      if (action !== 'set') throw new SimError(`sim_hardware_cmd: unknown version action '${action}'`, 'Hardware.pm line 874');
      state['pve-manager-version'] = params[0];
      return;
    case 'cfs': {
      if (action !== 'rw' && action !== 'update') {
        throw new SimError(`sim_hardware_cmd: unknown cfs action '${action}' for node '${node}'`, 'Hardware.pm line 881');
      }
      const param = params[0] ?? '';
      if (param !== 'work' && param !== 'fail') {
        throw new SimError(`sim_hardware_cmd: unknown cfs command '${param}' for '${action}' on node '${node}'`, 'Hardware.pm line 883');
      }
      state.cfs[action] = param === 'work';
      return;
    }
    case 'reboot':
    case 'shutdown':
      state.shutdown = cmd;
      if (d.lrm) await requestLrmShutdown(d.lrm);
      return;
    case 'restart-lrm':
      if (d.lrm) {
        d.lrmRestart = true;
        await requestLrmShutdown(d.lrm);
      }
      return;
    case 'crm':
      await crmCommand(sim, node, d, action, params);
      return;
    default:
      throw new SimError(`sim_hardware_cmd: unknown command '${command}'`);
  }
}

async function runNode(sim: Simulation, node: NodeName, firstLoop: boolean, skip: { crm: number; lrm: number }): Promise<void> {
  const { hw } = sim;
  const d = sim.daemons[node];

  if (d.crm) {
    let exited = false;
    if (!skip.crm) exited = !(await crmIteration(d.crm));
    else if (firstLoop) hw.log('info', 'skipping CRM round', 'run-loop');
    hw.time = Math.max(hw.time, d.crmEnv.getTime());
    if (!skip.crm) observe(sim, { kind: 'daemon', node, daemon: 'crm' });

    if (exited) {
      d.crmEnv.log('info', 'exit (loop end)');
      d.crm = undefined;
      const shutdown = hw.hw[node].shutdown;
      if (shutdown === 'reboot') {
        await simHardwareCommand(sim, `power ${node} off`, 'reboot');
        await simHardwareCommand(sim, `power ${node} on`, 'reboot');
      } else if (shutdown === 'shutdown') {
        await simHardwareCommand(sim, `power ${node} off`, 'shutdown');
      } else if (!d.crmStop) {
        throw new SimError('unexpected CRM exit - not implemented', 'TestHardware.pm line 156');
      }
      d.crmStop = false;
    }
  }

  if (d.lrm) {
    let exited = false;
    if (!skip.lrm) exited = !(await lrmIteration(d.lrm));
    else if (firstLoop) hw.log('info', 'skipping LRM round', 'run-loop');
    hw.time = Math.max(hw.time, d.lrmEnv.getTime());
    if (!skip.lrm) observe(sim, { kind: 'daemon', node, daemon: 'lrm' });

    if (exited) {
      d.lrmEnv.log('info', 'exit (loop end)');
      d.lrm = undefined;
      const shutdown = hw.hw[node].shutdown;
      if (d.lrmRestart) {
        if (shutdown) throw new SimError('lrm restart during shutdown - not implemented', 'TestHardware.pm line 181');
        d.lrmRestart = false;
        d.lrm = createLrm(d.lrmEnv, sim.lrmProcess);
      } else if (shutdown) {
        // The LRM exits before the CRM, as on a real node.
        await simHardwareCommand(sim, `crm ${node} stop`, shutdown);
      } else {
        throw new SimError('unexpected LRM exit - not implemented', 'TestHardware.pm line 188');
      }
    }
  }

  for (const n of hw.nodes) {
    if (hw.watchdogCheck(n)) continue;
    await simHardwareCommand(sim, `power ${n} off`, 'watchdog');
    hw.log('info', `server '${n}' stopped by poweroff (watchdog)`);
    sim.daemons[n].crm = undefined;
    sim.daemons[n].lrm = undefined;
  }
  observe(sim, { kind: 'turn-end', node });
}

async function run(sim: Simulation, cmdlist: string[][], options: Required<Omit<SimulationOptions, 'write' | 'kernel' | 'observer' | 'policy'>>): Promise<void> {
  const { hw } = sim;
  const rounds = cmdlist.map((round) => [...round]);
  let lastCommandTime = 0;
  let nextCommandAt = 0;
  let loopCount = 0;
  const skip = { crm: 0, lrm: 0 };

  for (;;) {
    sim.observation.loop++;
    const start = hw.time;
    const loopTime = Math.max(20, hw.nodes.length * 2);
    if (loopTime >= 60 && !options.allowManyNodes) {
      throw new SimError('unable to simulate so many nodes. You need to increase watchdog/lock timeouts.');
    }

    let firstLoop = true;
    for (const node of hw.nodes) {
      await runNode(sim, node, firstLoop, skip);
      firstLoop = false;
    }

    if (skip.crm) skip.crm--;
    if (skip.lrm) skip.lrm--;

    if (hw.time - start < loopTime) hw.time = start + loopTime;
    if (hw.time > options.maxSimTime) {
      throw new SimError(`simulation exceeded maximum time (${options.maxSimTime}) - force end`);
    }

    for (const node of hw.nodes) {
      sim.daemons[node].lrmEnv.loopStartHook();
      sim.daemons[node].crmEnv.loopStartHook();
    }

    if (hw.time < nextCommandAt) continue;

    if (loopCount % 5 === 0) {
      const round = rounds.shift();
      if (round === undefined && hw.time - lastCommandTime > RUN_OUT_SECONDS) return;
      if (round !== undefined) {
        observe(sim, { kind: 'round', index: sim.observation.round });
        sim.observation.round++;
      }
      for (const command of round ?? []) {
        lastCommandTime = hw.time;
        const delay = /^delay\s+(\d+)\s*$/.exec(command);
        const skipRound = /^skip-round\s+(lrm|crm)(?:\s+(\d+))?\s*$/.exec(command);
        if (delay) {
          hw.log('info', `execute ${command}`, 'cmdlist');
          nextCommandAt = hw.time + Number(delay[1]);
        } else if (skipRound) {
          hw.log('info', `execute ${command}`, 'cmdlist');
          skip[skipRound[1] as 'crm' | 'lrm'] += skipRound[2] !== undefined ? Number(skipRound[2]) : 1;
        } else {
          await simHardwareCommand(sim, command, 'cmdlist');
        }
      }
    }
    loopCount++;
  }
}

/**
 * The reference's final line for an error: its message (which in Perl always
 * ends in a newline), then a line holding a lone space.
 */
function exitMessage(err: unknown): string {
  return `exit simulation - ${errorText(err)}\n `;
}

/**
 * Runs a scenario to its end and writes the log. Rejects when the scenario
 * is no scenario object or cannot even be set up (bad files); failures
 * during the run end it with the reference's error line instead.
 */
export async function runSimulation(scenario: SimScenario, options: SimulationOptions): Promise<void> {
  assertSimScenario(scenario);
  if (typeof options?.write !== 'function') {
    throw new TypeError('runSimulation needs options.write, a function that receives each log line');
  }
  const hw = new SimHardware(scenario, { kernel: options.kernel ?? typescriptScoringKernel, write: options.write });
  const envOptions = { maxLoopDelay: options.maxLoopDelay ?? 300, policy: options.policy ?? scenario.policy ?? 'reference' };
  const sim: Simulation = {
    hw,
    daemons: {},
    lrmProcess: { wroteStatusAtStartup: false },
    observer: options.observer,
    observation: { hw, loop: 0, round: 0, daemons: (node) => daemonStates(sim, node) },
  };
  for (const node of hw.nodes) {
    sim.daemons[node] = {
      crmEnv: createSimEnv(hw, node, 'crm', envOptions),
      lrmEnv: createSimEnv(hw, node, 'lrm', envOptions),
      lrmRestart: false,
      crmStop: false,
    };
  }

  hw.log('info', 'starting simulation');
  observe(sim, { kind: 'start' });
  try {
    await run(sim, scenario.cmdlist, {
      maxLoopDelay: envOptions.maxLoopDelay,
      maxSimTime: options.maxSimTime ?? 10000,
      allowManyNodes: options.allowManyNodes ?? false,
    });
  } catch (err) {
    hw.log('err', exitMessage(err));
    sim.observer?.end(sim.observation, errorText(err));
    return;
  }
  hw.log('info', 'exit simulation - done');
  sim.observer?.end(sim.observation);
}
