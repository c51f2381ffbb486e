// The project's own scenarios (test/scenarios/*): each pins down one
// documented behaviour (see its README) with a golden log. Regenerate a log
// after an intended change with `./bin/ha-simulator regen test/scenarios/<name>`
// and review the diff.

import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { testDir } from '../../src/cli/simulator.js';
import { OWN_SUITE, scenarioDirs } from './scenario-dirs.js';

const dirs = scenarioDirs(OWN_SUITE);

describe('own scenarios', () => {
  it('has at least 25 scenarios, each with a README and a golden log', () => {
    expect(dirs.length).toBeGreaterThanOrEqual(25);
    for (const dir of dirs) {
      expect(existsSync(join(dir, 'README')), `${dir}/README`).toBe(true);
      expect(readFileSync(join(dir, 'README'), 'utf8').trim().length, `${dir}/README`).toBeGreaterThan(20);
      expect(existsSync(join(dir, 'log.expect')), `${dir}/log.expect`).toBe(true);
    }
  });

  it.each(dirs.map((dir) => [basename(dir), dir]))('%s', async (_name, dir) => {
    const outcome = await testDir(dir);
    expect(outcome.detail).toBe('');
    expect(outcome.passed).toBe(true);
  });
});
