import { describe, expect, it } from 'vitest';

import { parseRulesConfig } from '../../src/config/rules-config.js';
import {
  compileRules,
  findDisjointRulesResourceSets,
  foreachRule,
  getNextOrdinal,
  migrateGroupsToResources,
  migrateGroupsToRules,
  transformRules,
  type GroupsConfig,
  type RulesConfig,
} from '../../src/core/rules/index.js';

const NODES = ['node1', 'node2', 'node3'];

describe('rule bookkeeping', () => {
  it('gives new rules the lowest ordinal plus one', () => {
    expect(getNextOrdinal({ order: {} })).toBe(1);
    expect(getNextOrdinal({ order: { a: 3, b: 7, c: 5 } })).toBe(4);
  });

  it('joins each rule to the first overlapping group only', () => {
    const sets = findDisjointRulesResourceSets({
      r1: { resources: { 'vm:1': 1, 'vm:5': 1 } },
      r2: { resources: { 'vm:2': 1, 'vm:6': 1 } },
      r3: { resources: { 'vm:5': 1, 'vm:6': 1 } },
    });
    // Visited by lowest resource: r1, r2, then r3, which bridges both groups
    // but joins only the first; the reference does not merge them either.
    expect(sets).toEqual([
      { ruleIds: ['r1', 'r3'], resources: { 'vm:1': 1, 'vm:5': 1, 'vm:6': 1 } },
      { ruleIds: ['r2'], resources: { 'vm:2': 1, 'vm:6': 1 } },
    ]);
  });

  it('treats a rule as disabled whenever disable is present, even as 0', () => {
    const rules = parseRulesConfig(
      'resource-affinity: off0\n\tresources vm:1,vm:2\n\taffinity positive\n\tdisable 0\n\nresource-affinity: on1\n\tresources vm:3,vm:4\n\taffinity positive\n',
    );
    const seen: string[] = [];
    foreachRule(rules, (_rule, id) => seen.push(id), { excludeDisabledRules: true });
    expect(seen).toEqual(['on1']);
    expect(Object.keys(compileRules(rules, NODES)['resource-affinity'].positive)).toEqual(['vm:3', 'vm:4']);
  });

  it('visits rules in config order when asked', () => {
    const rules: RulesConfig = parseRulesConfig(
      'resource-affinity: zz\n\tresources vm:1,vm:2\n\taffinity positive\n\nresource-affinity: aa\n\tresources vm:3,vm:4\n\taffinity positive\n',
    );
    const seen: string[] = [];
    foreachRule(rules, (_rule, id) => seen.push(id), { sorted: true, sid: undefined });
    expect(seen).toEqual(['zz', 'aa']);
    const withSid: string[] = [];
    foreachRule(rules, (_rule, id) => withSid.push(id), { sid: 'vm:4' });
    expect(withSid).toEqual(['aa']);
  });
});

describe('transform and compile', () => {
  it('does not check disabled rules and keeps them', () => {
    const rules = parseRulesConfig('resource-affinity: lonely\n\tresources vm:1\n\taffinity positive\n\tdisable\n');
    expect(transformRules(rules, NODES)).toEqual([]);
    expect(Object.keys(rules.ids)).toEqual(['lonely']);
  });

  it('spreads a node affinity rule over the positive group it touches', () => {
    const rules = parseRulesConfig(
      'node-affinity: na\n\tresources vm:1\n\tnodes node1:2,node2:2\n\tstrict 1\n\nresource-affinity: pos\n\tresources vm:1,vm:2\n\taffinity positive\n',
    );
    expect(transformRules(rules, NODES)).toEqual([]);
    expect(compileRules(rules, NODES)['node-affinity']).toEqual({
      'vm:1': { nodes: { node1: { priority: 2 }, node2: { priority: 2 } } },
      'vm:2': { nodes: { node1: { priority: 2 }, node2: { priority: 2 } } },
    });
  });

  it('adds the other cluster nodes at priority -1 for a non-strict rule', () => {
    const rules = parseRulesConfig('node-affinity: na\n\tresources vm:1\n\tnodes node2\n');
    expect(compileRules(rules, NODES)['node-affinity']['vm:1'].nodes).toEqual({
      node1: { priority: -1 },
      node2: { priority: 0 },
      node3: { priority: -1 },
    });
  });

  it('drops every rule of a contradiction and says why, per rule and in check order', () => {
    const rules = parseRulesConfig(
      [
        'resource-affinity: neg\n\tresources vm:1,vm:2,vm:3,vm:4\n\taffinity negative\n',
        'resource-affinity: pos\n\tresources vm:1,vm:2\n\taffinity positive\n',
      ].join('\n'),
    );
    expect(transformRules(rules, NODES)).toEqual([
      "Drop rule 'neg', because rule defines more resources than available nodes.",
      "Drop rule 'neg', because rule shares two or more resources with a positive resource affinity rule.",
      "Drop rule 'pos', because rule shares two or more resources with a negative resource affinity rule.",
    ]);
    expect(rules.ids).toEqual({});
    expect(rules.order).toEqual({});
  });
});

describe('group migration', () => {
  const groups = (): GroupsConfig => ({
    ids: {
      group1: { type: 'group', nodes: { node1: 1 }, restricted: 1 },
      group2: { type: 'group', nodes: { 'node2:2': 1, node3: 1 }, nofailback: 1, comment: 'from the old days' },
      unused: { type: 'group', nodes: { node3: 1 } },
    },
    order: { group1: 1, group2: 2, unused: 3 },
    digest: 'x',
  });

  it('turns the failback flag of grouped resources into the group\'s nofailback', () => {
    const resources = {
      'vm:1': { group: 'group1', failback: false },
      'vm:2': { group: 'group2', failback: true },
      'vm:3': { group: 'missing', failback: false },
      'vm:4': { failback: false },
    };
    const config = groups();
    migrateGroupsToResources(config, resources);
    expect(resources).toEqual({
      'vm:1': { group: 'group1', failback: true },
      'vm:2': { group: 'group2', failback: false },
      'vm:3': { group: 'missing', failback: true },
      'vm:4': { failback: false },
    });
    // the reference's lookup creates the missing group, empty
    expect(config.ids.missing).toEqual({ type: 'group', nodes: {} });
  });

  it('gives a resource of a missing group an empty rule that conflicts with its other node affinity rule', () => {
    const config = groups();
    const resources = { 'vm:1': { group: 'missing', failback: true } };
    const rules = parseRulesConfig('node-affinity: na1\n\tresources vm:1\n\tnodes node2\n');
    migrateGroupsToResources(config, resources);
    migrateGroupsToRules(rules, config, resources);
    expect(rules.ids['ha-group-missing']).toEqual({
      type: 'node-affinity',
      resources: { 'vm:1': 1 },
      nodes: {},
      comment: "Generated from HA group 'missing'.",
    });
    expect(transformRules(rules, NODES)).toEqual([
      "Drop rule 'ha-group-missing', because resource 'vm:1' is already used in another node affinity rule.",
      "Drop rule 'na1', because resource 'vm:1' is already used in another node affinity rule.",
    ]);
  });

  it('adds one node affinity rule per used group', () => {
    const rules = parseRulesConfig('resource-affinity: keep\n\tresources vm:5,vm:6\n\taffinity positive\n');
    migrateGroupsToRules(rules, groups(), {
      'vm:1': { group: 'group1' },
      'vm:2': { group: 'group2' },
      'vm:3': { group: 'group2' },
      'vm:4': { group: 'missing' },
      'vm:5': {},
    });
    expect(rules.ids['ha-group-group1']).toEqual({
      type: 'node-affinity',
      resources: { 'vm:1': 1 },
      nodes: { node1: { priority: 0 } },
      strict: 1,
      comment: "Generated from HA group 'group1'.",
    });
    expect(rules.ids['ha-group-group2']).toEqual({
      type: 'node-affinity',
      resources: { 'vm:2': 1, 'vm:3': 1 },
      nodes: { node2: { priority: 2 }, node3: { priority: 0 } },
      comment: 'from the old days',
    });
    expect(Object.keys(rules.ids).sort()).toEqual(['ha-group-group1', 'ha-group-group2', 'keep']);
    expect(rules.order).toEqual({ keep: 1, 'ha-group-group1': 2, 'ha-group-group2': 2 });
    expect(transformRules(rules, NODES)).toEqual([]);
    expect(compileRules(rules, NODES)['node-affinity']['vm:2'].nodes).toEqual({
      node1: { priority: -1 },
      node2: { priority: 2 },
      node3: { priority: 0 },
    });
  });
});
