// The addon's worker pool behind the WorkerPool interface.

import type { NativeBinding, NativeCommandOutcome } from './binding.js';
import { checkGrace, invalidRequest, poolError, signalName, type CommandRequest, type CommandResult, type WorkerPool } from './worker-pool-api.js';

function result(outcome: NativeCommandOutcome): CommandResult {
  return { ...outcome, signal: signalName(outcome.signal) };
}

export function nativeWorkerPool(binding: NativeBinding, maxWorkers: number): WorkerPool {
  const handle = binding.poolCreate(maxWorkers);
  const inFlight = new Set<Promise<unknown>>();
  return {
    implementation: 'native',
    maxWorkers,
    run(request: CommandRequest): Promise<CommandResult> {
      const invalid = invalidRequest(request);
      if (invalid !== undefined) return Promise.reject(poolError('ERR_INVALID_ARG_VALUE', `invalid command: ${invalid}`));
      const done = binding.poolRun(handle, request).then(result);
      const settled = done.then(
        () => undefined,
        () => undefined,
      );
      inFlight.add(settled);
      void settled.then(() => inFlight.delete(settled));
      return done;
    },
    abort(uid, graceMs) {
      return binding.poolAbort(handle, uid, checkGrace(graceMs));
    },
    abortAll(graceMs) {
      return binding.poolAbortAll(handle, checkGrace(graceMs));
    },
    get activeCount() {
      return binding.poolActiveCount(handle);
    },
    get queuedCount() {
      return binding.poolQueuedCount(handle);
    },
    async close() {
      binding.poolClose(handle);
      await Promise.all(inFlight);
    },
  };
}
