// The worker pool in TypeScript, for machines without the addon. Same
// interface and behaviour as the native one: each command in a process group
// of its own, SIGTERM to the group on timeout or abort, SIGKILL after the
// grace period. One difference it cannot avoid: Node reaps a child before it
// reports the exit, so a timeout racing the exit could, in theory, signal a
// recycled process group; the native pool signals only unreaped children.

import { spawn } from 'node:child_process';
import {
  checkGrace,
  DEFAULT_CAPTURE_LIMIT,
  DEFAULT_KILL_GRACE_MS,
  invalidRequest,
  poolError,
  type CommandRequest,
  type CommandResult,
  type WorkerPool,
} from './worker-pool-api.js';

/** How long to wait for output after the exit: a process the command left behind may hold the pipes open. */
const OUTPUT_DRAIN_WAIT_MS = 200;
/** The longest delay setTimeout honours; Node turns a longer one into 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fire` after `ms`, however long (the Rust pool's timeouts are
 * Durations, so a timeout of weeks must mean weeks here too). Returns the
 * function that cancels it.
 */
export function setLongTimeout(fire: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout;
  const arm = (left: number): void => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fire()), Math.min(left, MAX_TIMER_MS));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

interface Job {
  readonly request: CommandRequest;
  readonly resolve: (result: CommandResult) => void;
  readonly reject: (err: Error) => void;
}

/** Keeps the last `limit` bytes written to it. */
function tail(limit: number): { add(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      while (chunks.length > 1 && size - chunks[0].length >= limit) size -= chunks.shift()!.length;
    },
    text() {
      const all = Buffer.concat(chunks);
      return all.subarray(Math.max(0, all.length - limit)).toString('utf8');
    },
  };
}

/** Ends a running command early; set by execute() once the command is spawned. */
interface Abortable {
  /** Whether it was still running (and is now being ended). */
  abort(graceMs: number): boolean;
}

/** The result of a command aborted before it started. */
function dropped(uid: string): CommandResult {
  return { uid, exitCode: null, signal: null, timedOut: false, aborted: true, durationMs: 0, stdout: '', stderr: '', spawnError: null };
}

function execute(request: CommandRequest, control: { current?: Abortable }): Promise<CommandResult> {
  const started = performance.now();
  const limit = request.captureLimit ?? DEFAULT_CAPTURE_LIMIT;
  const output = limit > 0 ? 'pipe' : 'ignore';
  return new Promise((resolve) => {
    const stdout = tail(limit);
    const stderr = tail(limit);
    let timedOut = false;
    let aborted = false;
    let exited = false;
    const timers: (() => void)[] = [];
    const finish = (fields: Pick<CommandResult, 'exitCode' | 'signal' | 'spawnError'>): void => {
      for (const cancel of timers) cancel();
      resolve({
        uid: request.uid,
        ...fields,
        timedOut,
        aborted,
        durationMs: performance.now() - started,
        stdout: stdout.text(),
        stderr: stderr.text(),
      });
    };
    const child = spawn(request.command, request.args ?? [], {
      cwd: request.cwd,
      env: { ...process.env, ...request.env },
      stdio: ['ignore', output, output],
      detached: true,
    });
    child.stdout?.on('data', (chunk: Buffer) => stdout.add(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.add(chunk));
    child.once('error', (err) => {
      if (child.pid !== undefined) return;
      const place = request.cwd === undefined ? '' : ` in ${request.cwd}`;
      finish({ exitCode: null, signal: null, spawnError: `cannot run ${JSON.stringify(request.command)}${place}: ${err.message}` });
    });
    child.once('exit', (exitCode, signal) => {
      exited = true;
      let done = false;
      const complete = (): void => {
        if (done) return;
        done = true;
        finish({ exitCode, signal, spawnError: null });
      };
      child.once('close', complete);
      timers.push(setLongTimeout(complete, OUTPUT_DRAIN_WAIT_MS));
    });
    const signalGroup = (signal: NodeJS.Signals, reason: 'timeout' | 'abort'): boolean => {
      if (exited || child.pid === undefined) return false;
      if (reason === 'timeout') timedOut = true;
      else aborted = true;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
      return true;
    };
    const terminate = (grace: number, reason: 'timeout' | 'abort'): boolean => {
      if (!signalGroup(grace > 0 ? 'SIGTERM' : 'SIGKILL', reason)) return false;
      if (grace > 0) timers.push(setLongTimeout(() => signalGroup('SIGKILL', reason), grace));
      return true;
    };
    if (request.timeoutMs) {
      const grace = request.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
      timers.push(setLongTimeout(() => terminate(grace, 'timeout'), request.timeoutMs));
    }
    control.current = { abort: (grace) => terminate(grace, 'abort') };
  });
}

export function typescriptWorkerPool(maxWorkers: number): WorkerPool {
  const queue: Job[] = [];
  const uids = new Set<string>();
  const running = new Set<Promise<void>>();
  /** Running commands by uid: their abort, once spawned. */
  const controls = new Map<string, { current?: Abortable }>();
  let closed = false;

  const pump = (): void => {
    while (running.size < maxWorkers && queue.length > 0) {
      const job = queue.shift()!;
      const control: { current?: Abortable } = {};
      controls.set(job.request.uid, control);
      const run = execute(job.request, control).then((result) => {
        running.delete(run);
        uids.delete(job.request.uid);
        controls.delete(job.request.uid);
        job.resolve(result);
        pump();
      });
      running.add(run);
    }
  };

  const abortQueued = (at: number): void => {
    const [job] = queue.splice(at, 1);
    uids.delete(job.request.uid);
    job.resolve(dropped(job.request.uid));
  };

  return {
    implementation: 'typescript',
    maxWorkers,
    run(request) {
      const invalid = invalidRequest(request);
      if (invalid !== undefined) return Promise.reject(poolError('ERR_INVALID_ARG_VALUE', `invalid command: ${invalid}`));
      if (closed) return Promise.reject(poolError('ERR_POOL_CLOSED', 'the worker pool is closed and accepts no more commands'));
      if (uids.has(request.uid)) {
        return Promise.reject(
          poolError(
            'ERR_POOL_DUPLICATE_UID',
            `a command with uid ${JSON.stringify(request.uid)} is already queued or running in this pool`,
          ),
        );
      }
      uids.add(request.uid);
      return new Promise<CommandResult>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        pump();
      });
    },
    abort(uid, graceMs) {
      const grace = checkGrace(graceMs);
      const at = queue.findIndex((job) => job.request.uid === uid);
      if (at >= 0) {
        abortQueued(at);
        return true;
      }
      // execute() spawns synchronously, so a running command always has its abort.
      return controls.get(uid)?.current?.abort(grace) ?? false;
    },
    abortAll(graceMs) {
      const grace = checkGrace(graceMs);
      let count = queue.length;
      while (queue.length > 0) abortQueued(0);
      for (const control of controls.values()) if (control.current?.abort(grace) === true) count++;
      return count;
    },
    get activeCount() {
      return running.size;
    },
    get queuedCount() {
      return queue.length;
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) {
        uids.delete(job.request.uid);
        job.reject(
          poolError(
            'ERR_POOL_CANCELLED',
            `command ${JSON.stringify(job.request.uid)} was cancelled: the worker pool closed before it started`,
          ),
        );
      }
      await Promise.all(running);
    },
  };
}
