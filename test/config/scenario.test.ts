import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { ConfigError, formatIssue } from '../../src/config/issues.js';
import {
  parseCmdList,
  parseDynamicServiceStats,
  parseHardwareStatus,
  parseScenario,
  parseScenarioPolicy,
  parseStaticServiceStats,
  readScenario,
  writeCmdList,
  writeHardwareStatus,
  writeScenarioPolicy,
  writeServiceStats,
  type HardwareStatus,
} from '../../src/config/scenario.js';

describe('scenario files', () => {
  it('round-trips cmdlist, hardware_status and service stats', () => {
    const cmdlist = [['power node1 on', 'power node2 on'], [], ['service vm:101 migrate node2']];
    expect(parseCmdList(writeCmdList(cmdlist))).toEqual(cmdlist);

    const hardware: HardwareStatus = {
      node1: { power: 'on', network: 'on', maxcpu: 24, maxmem: 137438953472, 'pve-manager-version': '9.0.7' },
      node2: { power: 'off', network: 'off', shutdown: 'reboot', cfs: { rw: false, update: true } },
    };
    expect(parseHardwareStatus(writeHardwareStatus(hardware))).toEqual(hardware);

    const stats = { 'vm:101': { maxcpu: 2, maxmem: 4294967296 }, 'ct:102': { maxcpu: 0.5 } };
    expect(parseStaticServiceStats(writeServiceStats(stats))).toEqual(stats);
    const dynamic = { 'vm:101': { cpu: 1.5, mem: 1073741824 } };
    expect(parseDynamicServiceStats(writeServiceStats(dynamic))).toEqual(dynamic);
  });

  it('round-trips the policy file and names file and line of what it cannot read', () => {
    for (const policy of ['reference', 'safe'] as const) expect(parseScenarioPolicy(writeScenarioPolicy(policy))).toBe(policy);
    expect(parseScenarioPolicy('# the fixes of src/core/policy.ts\n\nsafe\n')).toBe('safe');
    const issues = (text: string): string[] => {
      try {
        parseScenarioPolicy(text, 't/policy');
      } catch (err) {
        if (err instanceof ConfigError) return err.issues.map(formatIssue);
        throw err;
      }
      throw new Error('expected a ConfigError');
    };
    expect(issues('safer\n')).toEqual(["t/policy line 1: unknown policy 'safer' (expected reference or safe)"]);
    expect(issues('safe\nreference\n')).toEqual(["t/policy line 2: a second policy 'reference' (the file names one policy)"]);
    expect(issues('\n# nothing\n')).toEqual(['t/policy: no policy named (expected reference or safe)']);
    expect(parseScenario('t', { cmdlist: '[]', policy: 'safe\n' }).policy).toBe('safe');
  });

  it('reads the simulator\'s cfs flags the way Perl wrote them', () => {
    expect(parseHardwareStatus('{"node1": {"power": "on", "network": "on", "cfs": {"rw": "", "update": 1}}}').node1.cfs).toEqual({
      rw: false,
      update: true,
    });
  });

  it('collects the issues of every file, naming file, line and field', () => {
    try {
      parseScenario('t', {
        cmdlist: '[["power node1 on"], "skip-round crm"]',
        hardware_status: '{\n "node1": { "power": "on", "network": "up" }\n}',
        rules_config: 'resource-affinity: r1\n\tresources vm:1,vm:2\n\taffinity maybe\n',
        'fence.cfg': 'connect x node=node1 a=b\n',
      });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map(formatIssue)).toEqual([
        "t/cmdlist line 1, field '[1]': expected an array of command strings, got 'skip-round crm'",
        "t/hardware_status line 2, field 'node1.network': value 'up' is not one of on, off",
        "t/rules_config line 3, field 'affinity': value 'maybe' is not one of positive, negative",
        "t/rules_config line 1: section 'r1' skipped: missing required property 'affinity'",
        "t/fence.cfg line 1: device 'x' must be declared before you can connect to it",
      ]);
    }
  });

  it('reads a folder, leaving out the files that are absent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    writeFileSync(join(dir, 'cmdlist'), '[["power node1 on"]]');
    writeFileSync(join(dir, 'hardware_status'), '{"node1": {"power": "off", "network": "off"}}');
    writeFileSync(join(dir, 'groups'), 'group: g1\n\tnodes node1\n');
    const scenario = await readScenario(dir);
    expect(Object.keys(scenario.raw).sort()).toEqual(['cmdlist', 'groups', 'hardware_status']);
    expect(scenario.cmdlist).toEqual([['power node1 on']]);
    expect(scenario.groups?.ids.g1.nodes).toEqual({ node1: 1 });
    expect(scenario.serviceConfig).toBeUndefined();
  });
});

describe('initial running guests', () => {
  it('reads service_status_<node> for the scenario nodes only, as truth values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-status-'));
    try {
      writeFileSync(join(dir, 'cmdlist'), '[]');
      writeFileSync(join(dir, 'hardware_status'), '{ "node1": { "power": "off", "network": "off" } }');
      writeFileSync(join(dir, 'service_status_node1'), '{ "vm:101": 1, "vm:102": 0 }');
      writeFileSync(join(dir, 'service_status_node9'), '{ "vm:103": 1 }');
      const scenario = await readScenario(dir);
      expect(scenario.serviceStatus).toEqual({ node1: { 'vm:101': 1, 'vm:102': 0 } });
      writeFileSync(join(dir, 'service_status_node1'), '[1]');
      await expect(readScenario(dir)).rejects.toThrow(/service_status_node1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
