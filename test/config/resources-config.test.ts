import { describe, expect, it } from 'vitest';

import { formatIssue, type ConfigIssue } from '../../src/config/issues.js';
import {
  parseResourcesConfig,
  resourcesToServiceConfig,
  writeResourcesConfig,
} from '../../src/config/resources-config.js';

const TEXT = `vm: 100
	state enabled
	group prefer1
	max_relocate 2

ct: 101
	failback 0
	max_restart 0
	comment a container

vm: 102
`;

describe('resources.cfg', () => {
  it('reads type and name from the header into the sid', () => {
    const resources = parseResourcesConfig(TEXT);
    expect(resources.ids).toEqual({
      'vm:100': { type: 'vm', state: 'enabled', group: 'prefer1', max_relocate: 2 },
      'ct:101': { type: 'ct', failback: 0, max_restart: 0, comment: 'a container' },
      'vm:102': { type: 'vm' },
    });
    expect(resources.order).toEqual({ 'vm:100': 1, 'ct:101': 2, 'vm:102': 3 });
  });

  it('writes and round-trips', () => {
    const resources = parseResourcesConfig(TEXT);
    const written = writeResourcesConfig(resources);
    expect(written).toBe(
      'vm: 100\n\tgroup prefer1\n\tmax_relocate 2\n\tstate enabled\n\nct: 101\n\tcomment a container\n\tfailback 0\n\tmax_restart 0\n\nvm: 102\n\n',
    );
    const again = parseResourcesConfig(written);
    expect(again.ids).toEqual(resources.ids);
    expect(again.order).toEqual(resources.order);
  });

  it('rejects unknown types, bad VMIDs and bad values', () => {
    const issues: ConfigIssue[] = [];
    const resources = parseResourcesConfig(
      'lxc: 100\n\tstate started\n\nvm: 7\n\nvm: 103\n\tstate running\n\tmax_restart -1\n\tgroup 9x\n',
      'resources.cfg',
      issues,
    );
    expect(issues.map(formatIssue)).toEqual([
      "resources.cfg line 1: section skipped: no such resource type 'lxc' (expected one of vm, ct)",
      "resources.cfg line 4: section skipped: invalid VMID '7' (expected a number from 10 up)",
      "resources.cfg line 7, field 'state': value 'running' is not one of started, stopped, enabled, disabled, ignored",
      "resources.cfg line 8, field 'max_restart': value -1 is less than the minimum 0",
      "resources.cfg line 9, field 'group': '9x' is not a valid id (expected a letter followed by at least one letter, digit, '_' or '-')",
    ]);
    expect(resources.ids).toEqual({ 'vm:103': { type: 'vm' } });
  });

  it('gives the core view with defaults and the guest node', () => {
    const nodes: Record<string, string> = { '100': 'node1', '101': 'node2' };
    const { services, unlocated } = resourcesToServiceConfig(parseResourcesConfig(TEXT), (_sid, _type, name) => nodes[name]);
    expect(services).toEqual({
      'vm:100': {
        type: 'vm',
        name: '100',
        node: 'node1',
        state: 'started',
        group: 'prefer1',
        failback: true,
        max_restart: 1,
        max_relocate: 2,
      },
      'ct:101': {
        type: 'ct',
        name: '101',
        node: 'node2',
        state: 'started',
        failback: false,
        max_restart: 0,
        max_relocate: 1,
        comment: 'a container',
      },
    });
    expect(unlocated).toEqual(['vm:102']);
  });
});
