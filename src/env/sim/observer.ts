// What an observer of a simulation (the invariant checkers) is shown, and
// when: after every daemon iteration, every hardware command and every
// node's turn. Observers only read; a run with or without one writes the
// same log, byte for byte.

import type { CrmState, LrmMode, LrmState, NodeName } from '../../core/types.js';
import type { SimHardware } from './hardware.js';

/** One step of the run, reported after it happened. */
export type SimStep =
  /** The hardware as the scenario sets it up, before anything runs. */
  | { kind: 'start' }
  /** A cmdlist round (0-based) is about to run its commands. */
  | { kind: 'round'; index: number }
  /** One daemon iteration, before the runner handles the daemon's exit. */
  | { kind: 'daemon'; node: NodeName; daemon: 'crm' | 'lrm' }
  /** A hardware command, scripted (`cmdlist`) or issued by the hardware itself (`watchdog`, `reboot`, `shutdown`). */
  | { kind: 'command'; command: string; source: string }
  /** A node's turn is over and every watchdog was checked. */
  | { kind: 'turn-end'; node: NodeName };

/** A daemon as its own memory has it; undefined when not running. */
export interface SimDaemonStates {
  crm?: CrmState | 'startup';
  lrm?: { state: LrmState | 'startup'; mode: LrmMode };
}

export interface SimObservation {
  readonly hw: SimHardware;
  /** Loops of the run loop begun so far (1 during the first loop). */
  readonly loop: number;
  /** Cmdlist rounds begun so far. */
  readonly round: number;
  daemons(node: NodeName): SimDaemonStates;
}

export interface SimObserver {
  step(obs: SimObservation, step: SimStep): void;
  /** The run is over: `error` is the message it ended with, if it did not end normally. */
  end(obs: SimObservation, error?: string): void;
}
