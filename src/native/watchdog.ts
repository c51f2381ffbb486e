// Client of watchdog-mux for the CRM and LRM. The hardware watchdog has no
// TypeScript fallback: without the addon a daemon cannot arm it, and must
// refuse to run services rather than run them unprotected.

import type { MuxDeviceKind, NativeBinding, NativeMuxHandle } from './binding.js';
import { nativeRemedy } from './install.js';
import { describeLoadFailures, loadNative, type NativeLoadResult } from './loader.js';

import { DEFAULT_WATCHDOG_MUX_SOCKET } from './mux-socket.js';

export { DEFAULT_WATCHDOG_MUX_SOCKET };

export interface WatchdogMuxStatus {
  /** Time left before the mux considers this client dead. */
  readonly remainingMs: number;
  /** The client timeout. */
  readonly timeoutMs: number;
  /** False once the mux stopped feeding the device: the node will reset. */
  readonly feeding: boolean;
  /** The mux's keep-alive interval; absent from a mux that does not report it. */
  readonly tickMs?: number;
  /** The device's applied timeout; absent from a mux that does not report it. */
  readonly deviceTimeoutMs?: number;
  /**
   * Whether the mux feeds a real device or a simulated one (`--fake-device`);
   * absent from a mux that does not report it, which must count as real.
   */
  readonly device?: MuxDeviceKind;
}

export interface WatchdogMuxConnection {
  /** Proves this daemon is alive; restarts its expiry at the mux. */
  update(): void;
  /** The mux's view of this client (a round trip to the mux). */
  status(): WatchdogMuxStatus;
  remainingMs(): number;
  /**
   * `clean`: magic close, the mux stops watching this client. Otherwise the
   * mux stops feeding and the node resets: close cleanly only when no
   * service on this node needs fencing protection.
   */
  close(clean: boolean): void;
  readonly closed: boolean;
}

function unavailable(native: NativeLoadResult): Error {
  return Object.assign(
    new Error(
      'cannot arm the watchdog: it needs the ha-native addon, which did not load; this node must not run HA ' +
        `services until it does (${nativeRemedy()}).\n${describeLoadFailures(native)}`,
    ),
    { code: 'ERR_WATCHDOG_UNAVAILABLE' },
  );
}

function connection(binding: NativeBinding, handle: NativeMuxHandle): WatchdogMuxConnection {
  let closed = false;
  return {
    update: () => binding.muxUpdate(handle),
    status: () => binding.muxStatus(handle),
    remainingMs: () => binding.muxStatus(handle).remainingMs,
    close(clean) {
      binding.muxClose(handle, clean);
      closed = true;
    },
    get closed() {
      return closed;
    },
  };
}

/** Connects to watchdog-mux; from now on the caller must update() within the mux's client timeout. */
export function connectWatchdogMux(
  socketPath: string = DEFAULT_WATCHDOG_MUX_SOCKET,
  native: NativeLoadResult = loadNative(),
): WatchdogMuxConnection {
  const binding = native.binding;
  if (!binding) throw unavailable(native);
  return connection(binding, binding.muxConnect(socketPath));
}
