// Where the reference's test data lives: ../shared/pve-ha-tests next to the
// repository. It is not part of the project; suites using it are skipped
// when it is absent (and fail under HA_REQUIRE_REFERENCE=1).

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { requirePrerequisite } from '../prerequisites.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const REFERENCE_TESTS_DIR = resolve(repoRoot, '..', 'shared', 'pve-ha-tests');
export const HAVE_REFERENCE_TESTS = existsSync(REFERENCE_TESTS_DIR);
/** Why the suites of the reference data are skipped, or undefined when it is there. */
export const REFERENCE_MISSING = requirePrerequisite(
  'reference',
  HAVE_REFERENCE_TESTS,
  `reference test data not found at ${REFERENCE_TESTS_DIR}`,
);

/** Names of entries in a folder of the reference data, sorted; empty when the data is absent. */
export function referenceEntries(sub: string, filter: (name: string) => boolean): string[] {
  if (!HAVE_REFERENCE_TESTS) return [];
  const dir = sub === '' ? REFERENCE_TESTS_DIR : join(REFERENCE_TESTS_DIR, sub);
  return readdirSync(dir).filter(filter).sort();
}
