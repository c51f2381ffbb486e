// The daemons' clock. Normally wall-clock seconds, like the reference's
// time(). Tests and demonstrations may run a cluster faster than real time:
// with a scale of 10, every process that shares the same epoch sees ten
// simulated seconds per real second, and sleeps last a tenth as long, so
// lock leases, fence delays and timeouts all shrink together.
//
// Wall-clock time is what processes share (heartbeats, lock stamps in the
// store, status timestamps); it may be stepped by NTP or an admin. A
// daemon's own lock lease is timed on the monotonic clock instead, which
// never jumps: a wall clock stepped back must not make an expired lease look
// alive, nor one stepped forward make a live lease look expired.

import { monotonicNowMs } from '../../native/lease.js';

export interface Clock {
  /** Seconds (integer), as the core expects. */
  seconds(): number;
  /** Wall-clock milliseconds, shared between processes: lock stamps and heartbeats in the store. */
  millis(): number;
  /**
   * Monotonic milliseconds (CLOCK_MONOTONIC, scaled like the others), for
   * this process's own lease timing. Only differences mean anything.
   */
  monotonicMillis(): number;
  /** Waits `seconds` of this clock's time. */
  sleep(seconds: number): Promise<void>;
}

export interface ClockOptions {
  /** Simulated seconds per real second (default 1). */
  scale?: number;
  /** Real milliseconds at which scaled time starts; processes of one cluster must share it. */
  epochMs?: number;
}

export function createClock(options: ClockOptions = {}): Clock {
  const scale = options.scale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`clock scale must be a positive number, got ${String(scale)}`);
  const epoch = options.epochMs ?? 0;
  const millis = (): number => (scale === 1 ? Date.now() : epoch + (Date.now() - epoch) * scale);
  return {
    millis,
    seconds: () => Math.floor(millis() / 1000),
    monotonicMillis: () => monotonicNowMs() * scale,
    sleep: (seconds) =>
      new Promise((resolve) => {
        setTimeout(resolve, Math.max(0, (seconds * 1000) / scale));
      }),
  };
}
