// Locating scenario folders for the scenario tests.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The reference's regression scenarios, beside the repository when present. */
export const REFERENCE_SUITE = resolve(REPO_ROOT, '../shared/pve-ha-tests');

/** The project's own scenarios. */
export const OWN_SUITE = join(REPO_ROOT, 'test/scenarios');

/** Scenario folders (those with a cmdlist) directly under `root`, sorted. */
export function scenarioDirs(root: string, prefix = ''): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => name.startsWith(prefix))
    .map((name) => join(root, name))
    .filter((dir) => statSync(dir).isDirectory() && existsSync(join(dir, 'cmdlist')))
    .sort();
}
