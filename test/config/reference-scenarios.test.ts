// Every scenario folder of the reference's regression tests reads without
// a single issue.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { readScenario } from '../../src/config/scenario.js';
import {
  HAVE_REFERENCE_TESTS,
  MISSING_REFERENCE_TESTS,
  REFERENCE_TESTS_DIR,
  referenceEntries,
} from './reference-data.js';

const folders = referenceEntries('', (name) => name.startsWith('test-'));

describe.skipIf(!HAVE_REFERENCE_TESTS)('reference scenario folders', () => {
  it('has folders', () => {
    expect(folders.length).toBeGreaterThan(0);
  });

  it.each(folders)('%s parses', async (name) => {
    const scenario = await readScenario(join(REFERENCE_TESTS_DIR, name));
    // Every folder has these three; they drive the simulation.
    expect(scenario.cmdlist?.length).toBeGreaterThan(0);
    expect(Object.keys(scenario.hardwareStatus ?? {}).length).toBeGreaterThan(0);
    expect(scenario.serviceConfig).toBeDefined();
    for (const name of Object.keys(scenario.raw)) {
      expect(scenario.raw[name as keyof typeof scenario.raw]).toBeTypeOf('string');
    }
  });
});

if (!HAVE_REFERENCE_TESTS) {
  describe('reference scenario folders', () => {
    it.skip(MISSING_REFERENCE_TESTS, () => {});
  });
}
