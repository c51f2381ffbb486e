// The native layer of ha-manager: the Rust addon where it loaded, TypeScript
// fallbacks where one exists (worker pool, lease timing), and a clear refusal
// where none may (the watchdog).

export { loadNative, describeLoadFailures, NATIVE_PATH_ENV } from './loader.js';
export type { Implementation, LoadFailure, LoadSource, NativeLoadResult } from './loader.js';
export type { NativeBinding } from './binding.js';
export { platformName, SUPPORTED_PLATFORMS } from './platform.js';
export {
  createWorkerPool,
  DEFAULT_CAPTURE_LIMIT,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_MAX_WORKERS,
} from './worker-pool.js';
export type { CommandRequest, CommandResult, PoolError, WorkerPool, WorkerPoolOptions } from './worker-pool.js';
export {
  fenceWindowMs,
  leaseAcquire,
  leaseExpiresIn,
  leaseFeedDeadline,
  leaseImplementation,
  leaseRenew,
  monotonicNowMs,
  safeToFeed,
  typescriptLeaseOps,
} from './lease.js';
export type { FenceWindow, Lease, LeaseOps } from './lease.js';
export { connectWatchdogMux, DEFAULT_WATCHDOG_MUX_SOCKET } from './watchdog.js';
export type { WatchdogMuxConnection, WatchdogMuxStatus } from './watchdog.js';
export { findWatchdogMuxBinary, WATCHDOG_MUX_PATH_ENV } from './mux-binary.js';
export { nativeScoringKernel, scoringKernelFromAddon } from './scoring-kernel.js';
