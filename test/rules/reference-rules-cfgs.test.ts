// Every rules_cfgs case of the reference, run through parse, defaults,
// transform and compile like test_rules_config.pl, compared byte for byte
// with its .expect file.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { toPerlCanonicalJson, type PerlJsonValue } from '../../src/config/perl-json.js';
import { parseRulesConfig, setRuleDefaults } from '../../src/config/rules-config.js';
import { compileRules, transformRules } from '../../src/core/rules/index.js';
import {
  REFERENCE_MISSING,
  REFERENCE_TESTS_DIR,
  referenceEntries,
} from '../config/reference-data.js';
import { skipped } from '../prerequisites.js';

const NODES = ['node1', 'node2', 'node3'];

function runCase(name: string): string {
  const text = readFileSync(join(REFERENCE_TESTS_DIR, 'rules_cfgs', name), 'utf8');
  const rules = parseRulesConfig(text, `rules_cfgs/${name}`);
  for (const rule of Object.values(rules.ids)) setRuleDefaults(rule);
  const messages = transformRules(rules, NODES);
  const compiled = compileRules(rules, NODES);
  return (
    '--- Log ---\n' +
    messages.map((m) => `${m}\n`).join('') +
    '--- Config ---\n' +
    toPerlCanonicalJson(rules as unknown as PerlJsonValue) +
    '--- Compiled Config ---\n' +
    toPerlCanonicalJson(compiled as unknown as PerlJsonValue)
  );
}

const cases = referenceEntries('rules_cfgs', (n) => n.endsWith('.cfg'));

describe('reference rules_cfgs', () => {
  if (REFERENCE_MISSING !== undefined) return skipped(REFERENCE_MISSING);
  it('has cases', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)('%s matches its .expect byte for byte', (name) => {
    const expected = readFileSync(join(REFERENCE_TESTS_DIR, 'rules_cfgs', `${name}.expect`), 'utf8');
    expect(runCase(name)).toBe(expected);
  });
});
