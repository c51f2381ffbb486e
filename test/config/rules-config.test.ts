import { describe, expect, it } from 'vitest';

import { ConfigError, formatIssue, type ConfigIssue } from '../../src/config/issues.js';
import { parseRulesConfig, setRuleDefaults, writeRulesConfig } from '../../src/config/rules-config.js';
import type { RulesConfig } from '../../src/core/rules/types.js';

const TEXT = `# comment
node-affinity: prefer-node1
	comment keep%20them%3A near
	resources vm:102,vm:101 ct:200
	nodes node1:2,node2,node3:0
	strict 1

resource-affinity: apart
	disable
	resources vm:101;vm:103
	affinity negative
`;

describe('rules.cfg', () => {
  it('decodes resources, node priorities, booleans and comments', () => {
    const rules = parseRulesConfig(TEXT);
    expect(rules.ids).toEqual({
      'prefer-node1': {
        type: 'node-affinity',
        comment: 'keep them: near',
        resources: { 'vm:101': 1, 'vm:102': 1, 'ct:200': 1 },
        nodes: { node1: { priority: 2 }, node2: { priority: 0 }, node3: { priority: 0 } },
        strict: 1,
      },
      apart: {
        type: 'resource-affinity',
        disable: 1,
        resources: { 'vm:101': 1, 'vm:103': 1 },
        affinity: 'negative',
      },
    });
    expect(rules.order).toEqual({ 'prefer-node1': 1, apart: 2 });
    expect(rules.digest).toMatch(/^[0-9a-f]{40}$/);
  });

  it('writes sorted resources, node:priority only when non-zero, and encoded comments', () => {
    expect(writeRulesConfig(parseRulesConfig(TEXT))).toBe(`node-affinity: prefer-node1
	comment keep them%3A near
	nodes node1:2,node2,node3
	resources ct:200,vm:101,vm:102
	strict 1

resource-affinity: apart
	disable
	affinity negative
	resources vm:101,vm:103

`);
  });

  it('round-trips', () => {
    const rules = parseRulesConfig(TEXT);
    const again = parseRulesConfig(writeRulesConfig(rules));
    expect(again.ids).toEqual(rules.ids);
    expect(again.order).toEqual(rules.order);
  });

  it('round-trips comments with any characters', () => {
    const rules: RulesConfig = {
      ids: {
        cc: { type: 'resource-affinity', affinity: 'positive', resources: { 'vm:1': 1, 'vm:2': 1 }, comment: '100% ok: ä\tx' },
      },
      order: { cc: 1 },
      digest: '',
    };
    expect(parseRulesConfig(writeRulesConfig(rules)).ids).toEqual(rules.ids);
  });

  it('names file, line and field of a bad value', () => {
    const text = 'resource-affinity: r1\n\tresources vm:1,vm:2\n\taffinity maybe\n';
    expect(() => parseRulesConfig(text, 'rules.cfg')).toThrow(ConfigError);
    const issues: ConfigIssue[] = [];
    parseRulesConfig(`\n\n\n\n${text}`, 'rules.cfg', issues);
    expect(issues.map(formatIssue)).toEqual([
      "rules.cfg line 7, field 'affinity': value 'maybe' is not one of positive, negative",
      "rules.cfg line 5: section 'r1' skipped: missing required property 'affinity'",
    ]);
  });

  it('rejects invalid resource ids, node entries and properties of the other rule type', () => {
    const issues: ConfigIssue[] = [];
    const rules = parseRulesConfig(
      'node-affinity: n1\n\tresources vm:1,100\n\tnodes node1\n\nnode-affinity: n2\n\tresources vm:2\n\tnodes node_1\n\tstrict 1\n\nnode-affinity: n3\n\tresources vm:3\n\tnodes node1\n\taffinity positive\n',
      'rules.cfg',
      issues,
    );
    expect(issues.map(formatIssue)).toEqual([
      "rules.cfg line 2, field 'resources': '100' is not a valid resource id (expected <type>:<name>, e.g. vm:100)",
      "rules.cfg line 1: section 'n1' skipped: missing required property 'resources'",
      "rules.cfg line 7, field 'nodes': 'node_1' is not a valid node entry (expected <node>[:<priority>], e.g. node1:2)",
      "rules.cfg line 5: section 'n2' skipped: missing required property 'nodes'",
      "rules.cfg line 13, field 'affinity': unknown property for type 'node-affinity' (expected one of comment, disable, nodes, resources, strict)",
    ]);
    expect(Object.keys(rules.ids)).toEqual(['n3']);
    expect(rules.order).toEqual({ n1: 1, n2: 2, n3: 3 });
  });

  it('drops disable 0 on write (the reference writes disable only when set)', () => {
    const rules = parseRulesConfig('resource-affinity: r1\n\tresources vm:1,vm:2\n\taffinity positive\n\tdisable 0\n');
    expect(rules.ids.r1.disable).toBe(0);
    expect(parseRulesConfig(writeRulesConfig(rules)).ids.r1.disable).toBeUndefined();
  });

  it('leaves rules unchanged when setting defaults (the only default, strict 0, is false)', () => {
    const rules = parseRulesConfig(TEXT);
    const before = structuredClone(rules.ids);
    for (const rule of Object.values(rules.ids)) setRuleDefaults(rule);
    expect(rules.ids).toEqual(before);
    const loose = parseRulesConfig('node-affinity: n1\n\tresources vm:1\n\tnodes node1\n').ids.n1;
    setRuleDefaults(loose);
    expect(loose).not.toHaveProperty('strict');
  });
});
