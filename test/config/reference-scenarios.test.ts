// Every scenario folder of the reference's regression tests reads without
// a single issue.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { readScenario } from '../../src/config/scenario.js';
import {
  REFERENCE_MISSING,
  REFERENCE_TESTS_DIR,
  referenceEntries,
} from './reference-data.js';
import { skipped } from '../prerequisites.js';

const folders = referenceEntries('', (name) => name.startsWith('test-'));

describe('reference scenario folders', () => {
  if (REFERENCE_MISSING !== undefined) return skipped(REFERENCE_MISSING);
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
