// One rule for every suite that needs something outside the repository (the
// reference scenarios, an etcd binary, the native addon, ...): without it the
// suite is skipped with the reason in the skipped test's name, and the test
// run's summary lists those reasons (test/skip-reporter.ts); with
// HA_REQUIRE_<NAME>=1 (as .ci/run sets them) a missing prerequisite fails the
// run instead, so CI cannot pass by skipping.

import { it } from 'vitest';

export type Prerequisite = 'reference' | 'etcd' | 'native' | 'dpkg' | 'unshare' | 'browser';

/** The environment variable that turns a missing `name` into a failure. */
export function requireVariable(name: Prerequisite): string {
  return `HA_REQUIRE_${name.toUpperCase()}`;
}

/**
 * Undefined when the prerequisite is available; otherwise the reason to skip.
 * Throws (failing the suite at load) when its HA_REQUIRE_ variable is `1`.
 */
export function requirePrerequisite(name: Prerequisite, available: boolean, reason: string): string | undefined {
  if (available) return undefined;
  const variable = requireVariable(name);
  if (process.env[variable] === '1') throw new Error(`${variable}=1 but ${reason}`);
  return reason;
}

/** Marks the enclosing suite as skipped for `reason` (call inside `describe`, then return). */
export function skipped(reason: string): void {
  it.skip(`skipped: ${reason}`, () => undefined);
}
