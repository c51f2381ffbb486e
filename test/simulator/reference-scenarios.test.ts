// Every regression scenario of the reference implementation must produce its
// log.expect byte for byte. The scenarios live outside the repository
// (../shared/pve-ha-tests); without them this suite is reported as skipped.

import { basename } from 'node:path';

import { describe, expect, it } from 'vitest';

import { testDir } from '../../src/cli/simulator.js';
import { REFERENCE_SUITE, scenarioDirs } from './scenario-dirs.js';

const dirs = scenarioDirs(REFERENCE_SUITE, 'test-');

describe('reference regression scenarios', () => {
  if (dirs.length === 0) {
    it.skip(`skipped: no reference scenarios at ${REFERENCE_SUITE}`, () => undefined);
    return;
  }
  it.each(dirs.map((dir) => [basename(dir), dir]))('%s', async (_name, dir) => {
    const outcome = await testDir(dir);
    expect(outcome.detail).toBe('');
    expect(outcome.passed).toBe(true);
  });
});
