// Every regression scenario of the reference implementation must produce its
// log.expect byte for byte. The scenarios live outside the repository
// (../shared/pve-ha-tests); without them this suite is skipped with the
// reason, or fails under HA_REQUIRE_REFERENCE=1.

import { basename } from 'node:path';

import { describe, expect, it } from 'vitest';

import { testDir } from '../../src/cli/simulator.js';
import { requirePrerequisite, skipped } from '../prerequisites.js';
import { REFERENCE_SUITE, scenarioDirs } from './scenario-dirs.js';

const dirs = scenarioDirs(REFERENCE_SUITE, 'test-');
const missing = requirePrerequisite('reference', dirs.length > 0, `no reference scenarios at ${REFERENCE_SUITE}`);

describe('reference regression scenarios', () => {
  if (missing !== undefined) return skipped(missing);
  it.each(dirs.map((dir) => [basename(dir), dir]))('%s', async (_name, dir) => {
    const outcome = await testDir(dir);
    expect(outcome.detail).toBe('');
    expect(outcome.passed).toBe(true);
  });
});
