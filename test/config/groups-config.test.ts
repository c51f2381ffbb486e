import { describe, expect, it } from 'vitest';

import { parseGroupsConfig, writeGroupsConfig } from '../../src/config/groups-config.js';
import { formatIssue, type ConfigIssue } from '../../src/config/issues.js';

const TEXT = `group: group1
	nodes node1
	restricted 1

group: group2
	comment two nodes
	nodes node3,node2:2
	nofailback 1
`;

describe('groups.cfg', () => {
  it('keeps node entries as written', () => {
    const groups = parseGroupsConfig(TEXT);
    expect(groups.ids).toEqual({
      group1: { type: 'group', nodes: { node1: 1 }, restricted: 1 },
      group2: { type: 'group', nodes: { 'node2:2': 1, node3: 1 }, nofailback: 1, comment: 'two nodes' },
    });
    expect(groups.order).toEqual({ group1: 1, group2: 2 });
  });

  it('writes and round-trips', () => {
    const groups = parseGroupsConfig(TEXT);
    const written = writeGroupsConfig(groups);
    expect(written).toBe(
      'group: group1\n\tnodes node1\n\trestricted 1\n\ngroup: group2\n\tcomment two nodes\n\tnodes node2:2,node3\n\tnofailback 1\n\n',
    );
    const again = parseGroupsConfig(written);
    expect(again.ids).toEqual(groups.ids);
    expect(again.order).toEqual(groups.order);
  });

  it('reports a bad node entry with file, line and field', () => {
    const issues: ConfigIssue[] = [];
    parseGroupsConfig('group: g1\n\tnodes node1:x\n', 'groups', issues);
    expect(issues.map(formatIssue)).toEqual([
      "groups line 2, field 'nodes': 'node1:x' is not a valid node entry (expected <node>[:<priority>], e.g. node1:2)",
      "groups line 1: section 'g1' skipped: missing required property 'nodes'",
    ]);
  });
});
