// The worker pool that runs resource commands: child processes started from
// a program and its arguments (never through a shell), at most `maxWorkers`
// at once, each with an optional timeout, one promise per command, results
// keyed by the command's uid. The addon's pool runs it off the event loop;
// a TypeScript pool with the same behaviour is used when the addon is absent.

import { describeLoadFailures, loadNative } from './loader.js';
import { DEFAULT_MAX_WORKERS, type WorkerPool, type WorkerPoolOptions } from './worker-pool-api.js';
import { nativeWorkerPool } from './worker-pool-native.js';
import { typescriptWorkerPool } from './worker-pool-typescript.js';

export * from './worker-pool-api.js';

function checkMaxWorkers(maxWorkers: number): void {
  if (!Number.isSafeInteger(maxWorkers) || maxWorkers < 1) {
    throw new RangeError(`maxWorkers must be a whole number >= 1, got ${maxWorkers}`);
  }
}

export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  const maxWorkers = options.maxWorkers ?? DEFAULT_MAX_WORKERS;
  checkMaxWorkers(maxWorkers);
  const wanted = options.implementation ?? 'auto';
  if (wanted === 'typescript') return typescriptWorkerPool(maxWorkers);
  const native = options.native ?? loadNative();
  if (native.binding) return nativeWorkerPool(native.binding, maxWorkers);
  if (wanted === 'native') {
    throw new Error(`the native worker pool was requested, but the addon did not load:\n${describeLoadFailures(native)}`);
  }
  return typescriptWorkerPool(maxWorkers);
}
