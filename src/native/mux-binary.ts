// Where the watchdog-mux binary is: HA_MANAGER_WATCHDOG_MUX, else (in a
// source checkout) the local release build, else the one shipped in the
// per-platform package.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { installKind } from './install.js';
import { PACKAGE_ROOT, platformName, platformPackageName } from './platform.js';

export const WATCHDOG_MUX_PATH_ENV = 'HA_MANAGER_WATCHDOG_MUX';

/** The first existing candidate, or undefined with the list of places looked at. */
export function findWatchdogMuxBinary(): { path: string | undefined; searched: readonly string[] } {
  const candidates: string[] = [];
  const override = process.env[WATCHDOG_MUX_PATH_ENV];
  if (override) candidates.push(override);
  if (installKind() === 'source') candidates.push(join(PACKAGE_ROOT, 'target', 'release', 'watchdog-mux'));
  try {
    const pkg = createRequire(import.meta.url).resolve(`${platformPackageName(platformName())}/package.json`);
    candidates.push(join(dirname(pkg), 'watchdog-mux'));
  } catch {
    // No platform package installed.
  }
  return { path: candidates.find((c) => existsSync(c)), searched: candidates };
}
