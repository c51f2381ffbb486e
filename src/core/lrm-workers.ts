// The LRM's queue of resource commands ("workers", one per service at most)
// and the rules that order it when commands run in the background
// (max_workers > 0). The reference polls its workers once a second, starts
// at most max_workers per poll and resets a command's age whenever the
// master re-issues it; the master re-issues a command for every started
// service each round (a new uid, so that a service that died is started
// again), so on a node with many services the same few won every round and
// the rest never started. Here:
//
// - a command keeps its place when the master re-issues it for the same
//   service (its age counts from the first time it was queued);
// - a worker that finishes wakes the LRM at once (see `Wakeup`);
// - a command repeating what the LRM confirmed for that service a short while
//   ago (started and running, or stopped) is answered from that confirmation
//   without a process; confirmations live for `recheckSeconds` (a round, or
//   longer on large nodes), so every service is still really checked at that
//   interval;
// - commands that only re-check such a service (its confirmation expired) run
//   after every other command: they never delay a start, stop or migration.
//
// With max_workers 0 (the simulator) commands run inline, in sid order, as
// in the reference; none of this applies.

import type { Sid } from './types.js';

/** Parameters of a queued command. */
export interface CommandParams {
  target?: string;
  timeout?: string;
}

/** How a worker ended, like a process's wait status. */
export type WorkerOutcome =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: number }
  | { kind: 'failed' };

export interface Worker {
  sid: Sid;
  /** Undefined marks a stop job queued by a node shutdown; its result goes nowhere. */
  uid?: string;
  state: string;
  params?: CommandParams;
  /** Order in which the service's command was first queued; a re-issued command keeps it. */
  queued: number;
  /** When, and under which LRM status, it started in the background (max_workers > 0); unset while it waits. */
  started?: { at: number; during: object };
  /** Resolves when a started worker has finished (its outcome is set). */
  settled?: Promise<void>;
  outcome?: WorkerOutcome;
}

/** Commands whose success is remembered, to answer their repetition without a process. */
export type ConfirmedState = 'started' | 'stopped';

/** What a successful command proved about a service. */
export interface Confirmation {
  state: ConfirmedState;
  /** When the proving command started: the proof is at least this fresh. */
  at: number;
  /** The LRM status (object) it was made under: any LRM state change voids it. */
  during: object;
}

/** Resolves a promise when a background worker finishes; a new one after each. */
export interface Wakeup {
  readonly promise: Promise<void>;
  readonly wake: () => void;
}

export function wakeup(): Wakeup {
  let wake!: () => void;
  const promise = new Promise<void>((resolve) => {
    wake = resolve;
  });
  return { promise, wake };
}

/** Scheduling state of the background workers. */
export interface WorkerSchedule {
  /** Next value of `Worker.queued`. */
  nextQueued: number;
  confirmed: Map<Sid, Confirmation>;
  /** Background workers that finished and wait to be reaped, in the order they finished. */
  finished: Worker[];
  /** Background workers started and not yet reaped. */
  running: number;
  /** Woken when a background worker finishes. */
  wakeup: Wakeup;
}

export function createWorkerSchedule(): WorkerSchedule {
  return { nextQueued: 0, confirmed: new Map(), finished: [], running: 0, wakeup: wakeup() };
}

/** Real status checks per second a node spends at most on its confirmed services. */
const RECHECKS_PER_SECOND = 20;

/**
 * How long a confirmation answers on a node with `services` services and
 * rounds of `roundSeconds`: one round (as often as the reference checks),
 * or longer on large nodes so that re-checks stay below RECHECKS_PER_SECOND
 * (1,000 services: 50 s).
 */
export function recheckSeconds(services: number, roundSeconds: number): number {
  return Math.max(roundSeconds, Math.ceil(services / RECHECKS_PER_SECOND));
}

function confirmedState(state: string): ConfirmedState | undefined {
  return state === 'started' || state === 'stopped' ? state : undefined;
}

/** The confirmation this waiting command would repeat, if any. */
export function repeatedConfirmation(
  schedule: WorkerSchedule,
  worker: Worker,
  during: object,
): Confirmation | undefined {
  const confirmation = schedule.confirmed.get(worker.sid);
  if (confirmation === undefined || confirmation.during !== during) return undefined;
  return confirmation.state === confirmedState(worker.state) ? confirmation : undefined;
}

/** Remembers (or forgets) what a finished background command proved. */
export function recordConfirmation(schedule: WorkerSchedule, worker: Worker, exitCode: number): void {
  const state = confirmedState(worker.state);
  if (state !== undefined && exitCode === 0 && worker.started !== undefined) {
    schedule.confirmed.set(worker.sid, { state, at: worker.started.at, during: worker.started.during });
  } else {
    schedule.confirmed.delete(worker.sid);
  }
}

/**
 * Waiting workers in the order they get a process: first every command that
 * is not a mere re-check, oldest first; then the re-checks, the one whose
 * confirmation is oldest first.
 */
export function startOrder(schedule: WorkerSchedule, waiting: readonly Worker[], during: object): Worker[] {
  const commands: Worker[] = [];
  const rechecks: { worker: Worker; at: number }[] = [];
  for (const worker of waiting) {
    const confirmation = repeatedConfirmation(schedule, worker, during);
    if (confirmation === undefined) commands.push(worker);
    else rechecks.push({ worker, at: confirmation.at });
  }
  commands.sort((a, b) => a.queued - b.queued);
  rechecks.sort((a, b) => a.at - b.at || a.worker.queued - b.worker.queued);
  return [...commands, ...rechecks.map((r) => r.worker)];
}
