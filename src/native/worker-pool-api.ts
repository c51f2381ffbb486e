// What both worker pools (the addon's and the TypeScript one) promise:
// requests, results, errors, and the checks they share so that both refuse
// the same requests with the same words.

import { constants } from 'node:os';
import type { Implementation, NativeLoadResult } from './loader.js';

/** datacenter.cfg's `max_workers` default. */
export const DEFAULT_MAX_WORKERS = 4;
export const DEFAULT_KILL_GRACE_MS = 5000;
/** Time between SIGTERM and SIGKILL when a command is aborted: short, an abort is urgent. */
export const DEFAULT_ABORT_GRACE_MS = 1000;
/** Bytes kept (the tail) of each of stdout and stderr. */
export const DEFAULT_CAPTURE_LIMIT = 64 * 1024;

export interface CommandRequest {
  /** Key of the result; unique among queued and running commands. */
  readonly uid: string;
  /** Program to run: a path, or a name looked up in PATH. */
  readonly command: string;
  readonly args?: readonly string[];
  /** Variables added to (or overriding) this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** After this long the command's process group gets SIGTERM; 0 or absent: no limit. */
  readonly timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL after a timeout. */
  readonly killGraceMs?: number;
  /** Bytes of output kept; 0 discards it. */
  readonly captureLimit?: number;
}

export interface CommandResult {
  readonly uid: string;
  /** Set when the command exited by itself. */
  readonly exitCode: number | null;
  /** Set when a signal ended it (after a timeout or an abort: SIGTERM, or SIGKILL if it ignored that). */
  readonly signal: SignalName | null;
  readonly timedOut: boolean;
  /**
   * Set when abort()/abortAll() ended it; a command aborted while queued
   * never ran (exitCode and signal null).
   */
  readonly aborted: boolean;
  readonly durationMs: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the command could not be started at all. */
  readonly spawnError: string | null;
}

export interface WorkerPool {
  readonly implementation: Implementation;
  readonly maxWorkers: number;
  /**
   * Queues a command. The promise resolves with its result whatever the exit
   * status, and rejects only if the pool refused it (code ERR_POOL_CLOSED,
   * ERR_POOL_DUPLICATE_UID, ERR_INVALID_ARG_VALUE) or was closed before it
   * started (ERR_POOL_CANCELLED).
   */
  run(request: CommandRequest): Promise<CommandResult>;
  /**
   * Aborts the command `uid`: a queued one is dropped (its promise resolves
   * aborted, without having run); a running one's process group gets
   * SIGTERM, then SIGKILL after `graceMs` (default DEFAULT_ABORT_GRACE_MS),
   * and its promise resolves aborted with the signal that ended it. Returns
   * false when no such command is queued or running. The pool goes on.
   */
  abort(uid: string, graceMs?: number): boolean;
  /** Aborts every queued and running command, as abort() each; returns how many. */
  abortAll(graceMs?: number): number;
  /** Commands running now. */
  readonly activeCount: number;
  readonly queuedCount: number;
  /** Refuses new commands, cancels queued ones, resolves when running ones have finished. */
  close(): Promise<void>;
}

export interface WorkerPoolOptions {
  readonly maxWorkers?: number;
  /** `auto` (default): the addon if it loaded, else TypeScript. */
  readonly implementation?: 'auto' | Implementation;
  /** Result of loadNative(), for tests; loaded on demand otherwise. */
  readonly native?: NativeLoadResult;
}

/** An Error with a Node-style `code`. */
export interface PoolError extends Error {
  readonly code: string;
}

export function poolError(code: string, message: string): PoolError {
  return Object.assign(new Error(message), { code });
}

/**
 * A signal's name, `SIGTERM` say. Not NodeJS.Signals: the public types must
 * not need @types/node, which is only a development dependency.
 */
export type SignalName = `SIG${string}`;

const SIGNAL_NAMES = new Map<number, SignalName>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as SignalName]),
);

export function signalName(signal: number | null): SignalName | null {
  if (signal === null) return null;
  return SIGNAL_NAMES.get(signal) ?? `SIG${signal}`;
}

function isWholeMs(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Checks an abort's grace period, the same way in both pools. */
export function checkGrace(graceMs: number | undefined): number {
  if (graceMs === undefined) return DEFAULT_ABORT_GRACE_MS;
  if (!isWholeMs(graceMs)) throw new RangeError(`graceMs must be a whole number >= 0, got ${String(graceMs)}`);
  return graceMs;
}

/** Why a request is unacceptable, or undefined. Shared so both pools refuse the same requests. */
export function invalidRequest(request: CommandRequest): string | undefined {
  if (typeof request !== 'object' || request === null) return 'a command must be an object with uid and command';
  if (typeof request.uid !== 'string' || request.uid === '') return 'uid must be a non-empty string';
  const of = `command ${JSON.stringify(request.uid)}`;
  if (typeof request.command !== 'string' || request.command === '') return `${of} has no program to run`;
  if (request.args !== undefined && !(Array.isArray(request.args) && request.args.every((a) => typeof a === 'string'))) {
    return `${of}: args must be an array of strings`;
  }
  if (request.env !== undefined && Object.values(request.env).some((v) => typeof v !== 'string')) {
    return `${of}: env values must be strings`;
  }
  if (request.cwd !== undefined && typeof request.cwd !== 'string') return `${of}: cwd must be a string`;
  for (const key of ['timeoutMs', 'killGraceMs', 'captureLimit'] as const) {
    if (request[key] !== undefined && !isWholeMs(request[key])) {
      return `${of}: ${key} must be a whole number >= 0, got ${String(request[key])}`;
    }
  }
  return undefined;
}

