// The shape of the ha-native addon (crates/ha-native) as TypeScript sees it,
// and the check that a loaded module really is a compatible build of it.

import { nativeRemedy } from './install.js';

/** Opaque handles created by the addon; only the addon can use them. */
declare const poolHandle: unique symbol;
export type NativePoolHandle = { readonly [poolHandle]: true };
declare const muxHandle: unique symbol;
export type NativeMuxHandle = { readonly [muxHandle]: true };

export interface NativeCommandSpec {
  uid: string;
  command: string;
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  timeoutMs?: number;
  killGraceMs?: number;
  captureLimit?: number;
}

export interface NativeCommandOutcome {
  uid: string;
  exitCode: number | null;
  /** Signal number; the wrapper turns it into a name. */
  signal: number | null;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  spawnError: string | null;
}

export interface NativeLease {
  acquiredAtMs: number;
  renewedAtMs: number;
  lifetimeMs: number;
}

export interface NativeMuxStatus {
  remainingMs: number;
  timeoutMs: number;
  feeding: boolean;
  /** Absent when the mux does not report them (an older watchdog-mux). */
  tickMs?: number;
  deviceTimeoutMs?: number;
  /** Whether the mux feeds a real or a simulated device; absent from an older watchdog-mux. */
  device?: MuxDeviceKind;
}

/** What watchdog-mux feeds: a device that resets the machine, or a simulated one (`--fake-device`). */
export type MuxDeviceKind = 'real' | 'simulated';

/** A timing profile as the Rust side parsed it (crates/ha-native-core/src/timing.rs). */
export interface NativeTimingProfile {
  name: string;
  lockLifetimeMs: number;
  clientTimeoutMs: number;
  muxTickMs: number;
  deviceTimeoutMs: number;
  marginMs: number;
  lrmRoundMs: number;
  crmRoundMs: number;
  lockRetryMs: number;
  storeTimeoutMs: number;
  heartbeatTimeoutMs: number;
  fenceDelayMs: number;
}

/** The functions and constants the addon exports (src/*.rs of the crate). */
export interface NativeBinding {
  readonly abiVersion: number;
  readonly version: string;
  monotonicNowMs(): number;

  leaseAcquire(requestedAtMs: number, lifetimeMs: number): NativeLease;
  leaseRenew(lease: NativeLease, requestedAtMs: number): NativeLease;
  leaseExpiresInMs(lease: NativeLease, nowMs: number): number;
  leaseFeedDeadlineMs(lease: NativeLease, fenceWindowMs: number): number;
  leaseSafeToFeed(lease: NativeLease, nowMs: number, fenceWindowMs: number): boolean;

  poolCreate(maxWorkers: number): NativePoolHandle;
  poolRun(pool: NativePoolHandle, spec: NativeCommandSpec): Promise<NativeCommandOutcome>;
  poolActiveCount(pool: NativePoolHandle): number;
  poolQueuedCount(pool: NativePoolHandle): number;
  /** Whether a queued or running command `uid` was aborted; graceMs: SIGTERM to SIGKILL (default 1000). */
  poolAbort(pool: NativePoolHandle, uid: string, graceMs?: number): boolean;
  /** How many queued and running commands were aborted. */
  poolAbortAll(pool: NativePoolHandle, graceMs?: number): number;
  poolClose(pool: NativePoolHandle): void;

  readonly defaultMuxSocketPath: string;
  muxConnect(socketPath: string): NativeMuxHandle;
  muxUpdate(client: NativeMuxHandle): void;
  muxStatus(client: NativeMuxHandle): NativeMuxStatus;
  muxClose(client: NativeMuxHandle, clean: boolean): void;

  timingProfiles(): NativeTimingProfile[];
}

/** The interface version this TypeScript expects (crates/ha-native/src/info.rs). */
export const EXPECTED_ABI_VERSION = 3;

const FUNCTIONS = [
  'monotonicNowMs',
  'leaseAcquire',
  'leaseRenew',
  'leaseExpiresInMs',
  'leaseFeedDeadlineMs',
  'leaseSafeToFeed',
  'poolCreate',
  'poolRun',
  'poolActiveCount',
  'poolQueuedCount',
  'poolAbort',
  'poolAbortAll',
  'poolClose',
  'muxConnect',
  'muxUpdate',
  'muxStatus',
  'muxClose',
  'timingProfiles',
] as const satisfies readonly (keyof NativeBinding)[];

/**
 * Returns the module as a binding if it is a build of ha-native with the
 * expected interface version; throws an error saying what is off otherwise.
 */
export function asNativeBinding(module: unknown, location: string): NativeBinding {
  if (typeof module !== 'object' || module === null) {
    throw new Error(`${location} did not export an object`);
  }
  const exports = module as Record<string, unknown>;
  if (exports.abiVersion !== EXPECTED_ABI_VERSION) {
    throw new Error(
      `${location} has interface version ${String(exports.abiVersion)}, this build of ha-manager expects ` +
        `${EXPECTED_ABI_VERSION}: ${nativeRemedy()}`,
    );
  }
  const missing = FUNCTIONS.filter((name) => typeof exports[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`${location} lacks the functions ${missing.join(', ')}: ${nativeRemedy()}`);
  }
  return module as NativeBinding;
}
