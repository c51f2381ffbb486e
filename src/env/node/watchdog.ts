// The watchdog as a daemon sees it. In production: a connection to
// watchdog-mux, which feeds the hardware (or softdog) device only while every
// connected daemon keeps updating. A daemon holds at most one connection, as
// in the reference. The in-memory variant is for tests and demonstrations,
// where nothing may reset the machine.

import {
  connectWatchdogMux,
  DEFAULT_WATCHDOG_MUX_SOCKET,
  type WatchdogMuxConnection,
  type WatchdogMuxStatus,
} from '../../native/watchdog.js';
import type { MuxSettings } from '../timing.js';

export interface WatchdogPort {
  /** Arms: from now on update() must come in time. Throws when it cannot arm. */
  open(): void;
  update(): void;
  /**
   * The running mux's view and settings, once open; undefined for a watchdog
   * that resets nothing (there is no fence window to measure). Throws when
   * the mux does not answer.
   */
  status(): WatchdogMuxStatus | undefined;
  /** `clean`: disarm (magic close). Otherwise the node will be reset. */
  close(clean: boolean): void;
  readonly armed: boolean;
}

/** watchdog-mux over its Unix socket (needs the native addon). */
export function muxWatchdog(socketPath: string = DEFAULT_WATCHDOG_MUX_SOCKET): WatchdogPort {
  let connection: WatchdogMuxConnection | undefined;
  return {
    open() {
      if (connection !== undefined) throw new Error('watchdog already open');
      connection = connectWatchdogMux(socketPath);
    },
    update() {
      if (connection === undefined) throw new Error('watchdog not open');
      connection.update();
    },
    status() {
      if (connection === undefined) throw new Error('watchdog not open');
      return connection.status();
    },
    close(clean) {
      if (connection === undefined) return;
      connection.close(clean);
      connection = undefined;
    },
    get armed() {
      return connection !== undefined;
    },
  };
}

export interface RecordingWatchdog extends WatchdogPort {
  /** Every event, for tests: 'open', 'update', 'close clean', 'close unclean'. */
  readonly events: readonly string[];
}

/** A watchdog that only records what it is told; it can never reset anything. */
export function recordingWatchdog(): RecordingWatchdog {
  const events: string[] = [];
  let armed = false;
  return {
    events,
    open() {
      if (armed) throw new Error('watchdog already open');
      armed = true;
      events.push('open');
    },
    update() {
      if (!armed) throw new Error('watchdog not open');
      events.push('update');
    },
    status: () => undefined,
    close(clean) {
      if (!armed) return;
      armed = false;
      events.push(clean ? 'close clean' : 'close unclean');
    },
    get armed() {
      return armed;
    },
  };
}

/** The settings a mux's status answer reports (what it leaves out stays out: an older mux). */
export function muxSettingsOf(status: WatchdogMuxStatus): MuxSettings {
  return {
    clientTimeoutMs: status.timeoutMs,
    ...(status.tickMs !== undefined ? { tickMs: status.tickMs } : {}),
    ...(status.deviceTimeoutMs !== undefined ? { deviceTimeoutMs: status.deviceTimeoutMs } : {}),
    ...(status.device !== undefined ? { device: status.device } : {}),
  };
}

/**
 * Asks the watchdog-mux at `socketPath` for its settings, without becoming
 * a client it watches: connect, query, close cleanly. Throws when it cannot
 * be reached or does not answer (the reference's mux never answers).
 */
export function queryMuxSettings(socketPath: string = DEFAULT_WATCHDOG_MUX_SOCKET): MuxSettings {
  const connection = connectWatchdogMux(socketPath);
  try {
    return muxSettingsOf(connection.status());
  } finally {
    connection.close(true);
  }
}
