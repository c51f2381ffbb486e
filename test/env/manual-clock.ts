// A node clock the test moves by hand, for the node environment's tests.
import type { Clock } from '../../src/env/node/clock.js';

export interface ManualClock extends Clock {
  /** Moves real time: the wall and the monotonic clock alike. */
  advance(seconds: number): void;
  /** Steps only the wall clock, as NTP or an admin would. */
  stepWall(seconds: number): void;
}

/** Starts at `startMs` on the wall clock; sleeping moves both clocks at once. */
export function manualClock(startMs = 1_000_000): ManualClock {
  let now = startMs;
  let mono = 5_000;
  return {
    millis: () => now,
    seconds: () => Math.floor(now / 1000),
    monotonicMillis: () => mono,
    sleep: async (seconds) => {
      now += seconds * 1000;
      mono += seconds * 1000;
    },
    advance(seconds) {
      now += seconds * 1000;
      mono += seconds * 1000;
    },
    stepWall(seconds) {
      now += seconds * 1000;
    },
  };
}
