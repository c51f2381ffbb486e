// The JSON files: manager_status, lrm_status, the simulator's
// service_config and datacenter.cfg, and the JSON reader behind them.

import { describe, expect, it } from 'vitest';

import {
  parseDatacenterConfig,
  parseScenarioDatacenterConfig,
  writeDatacenterConfig,
  writeScenarioDatacenterConfig,
} from '../../src/config/datacenter-config.js';
import { ConfigError, formatIssue, type ConfigIssue } from '../../src/config/issues.js';
import { formatJsonPath, parseJsonDocument } from '../../src/config/json-source.js';
import { parseLrmStatus, writeLrmStatus } from '../../src/config/lrm-status.js';
import { parseManagerStatus, writeManagerStatus } from '../../src/config/manager-status.js';
import {
  parseScenarioServiceConfig,
  scenarioToServiceConfig,
  writeScenarioServiceConfig,
} from '../../src/config/service-config.js';
import type { LrmStatus, ManagerStatus } from '../../src/core/types.js';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatIssue);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('JSON reader', () => {
  it('remembers the line of every member and element', () => {
    const doc = parseJsonDocument('{\n  "a": {\n    "b": [\n      1,\n      "x"\n    ]\n  },\n  "c": true\n}', 'f');
    expect(doc.value).toEqual({ a: { b: [1, 'x'] }, c: true });
    expect(doc.lineOf(['a'])).toBe(2);
    expect(doc.lineOf(['a', 'b'])).toBe(3);
    expect(doc.lineOf(['a', 'b', 1])).toBe(5);
    expect(doc.lineOf(['c'])).toBe(8);
    expect(formatJsonPath(['a', 'b', 1, 'z'])).toBe('a.b[1].z');
  });

  it('rejects what decode_json rejects, naming the line', () => {
    expect(issuesOf(() => parseJsonDocument('{\n "a": 1,\n}', 'x.json'))).toEqual([
      "x.json line 3: invalid JSON: unexpected '}' (expected a quoted member name)",
    ]);
    expect(issuesOf(() => parseJsonDocument('[1 2]', 'x.json'))).toEqual([
      "x.json line 1: invalid JSON: unexpected '2' (expected ',' or ']')",
    ]);
    expect(issuesOf(() => parseJsonDocument('{"a": tru}', 'x.json'))).toEqual([
      "x.json line 1: invalid JSON: unexpected 't' (expected a value)",
    ]);
  });

  it('decodes escapes and keeps __proto__ as an ordinary key', () => {
    const doc = parseJsonDocument('{"__proto__": 1, "s": "a\\n\\u00e4\\ud83d\\ude00"}', 'f');
    expect(Object.keys(doc.value as object)).toEqual(['__proto__', 's']);
    expect((doc.value as Record<string, unknown>).s).toBe('a\nä😀');
  });
});

describe('manager_status', () => {
  const ms: ManagerStatus = {
    master_node: 'node1',
    node_status: { node1: 'online', node2: 'maintenance', node3: 'fence' },
    service_status: {
      'vm:101': { state: 'migrate', node: 'node1', target: 'node2', uid: 'abc' },
      'vm:102': {
        state: 'started',
        node: 'node2',
        uid: 'def',
        running: 1,
        failed_nodes: ['node3'],
        maintenance_node: 'node2',
        cmd: ['stop', '30'],
      },
    },
    node_request: { node2: { maintenance: 1 }, node3: {} },
    disarm: { mode: 'freeze', state: 'disarming' },
    unprotected_nodes: ['node2', 'node3'],
    timestamp: 1200,
  };

  it('round-trips', () => {
    expect(parseManagerStatus(writeManagerStatus(ms))).toEqual(ms);
  });

  it('reads empty text as {} and ignores keys it does not use', () => {
    expect(parseManagerStatus('')).toEqual({});
    expect(parseManagerStatus('{"relocate_tried_nodes": {}, "master_node": "n1"}')).toEqual({ master_node: 'n1' });
  });

  it('names file, line and field of invalid values', () => {
    const text = `{
  "node_status": { "node1": "up" },
  "service_status": {
    "vm:1": { "state": "running", "node": "node1" },
    "vm:2": { "state": "started" },
    "vm:3": { "state": "started", "node": "n", "cmd": ["migrate"] }
  },
  "disarm": { "mode": "freeze", "state": "off" },
  "unprotected_nodes": ["node1", 2]
}`;
    expect(issuesOf(() => parseManagerStatus(text, 'manager_status'))).toEqual([
      "manager_status line 2, field 'node_status.node1': value 'up' is not one of online, maintenance, unknown, fence, gone",
      "manager_status line 4, field 'service_status.vm:1.state': value 'running' is not one of stopped, request_stop, request_start, request_start_balance, started, fence, recovery, migrate, relocate, freeze, error",
      "manager_status line 5, field 'service_status.vm:2.node': expected a string, got nothing",
      'manager_status line 6, field \'service_status.vm:3.cmd\': value ["migrate"] is not a queued command (expected ["migrate" | "relocate", node] or ["stop", timeout])',
      "manager_status line 8, field 'disarm.state': value 'off' is not one of disarming, disarmed",
      "manager_status line 9, field 'unprotected_nodes': expected a list of node names, got an array",
    ]);
  });
});

describe('lrm_status', () => {
  const status: LrmStatus = {
    state: 'active',
    mode: 'maintenance',
    results: { uid1: { sid: 'vm:101', state: 'started', exit_code: 0 } },
    timestamp: 42,
  };

  it('round-trips', () => {
    expect(parseLrmStatus(writeLrmStatus(status))).toEqual(status);
    expect(parseLrmStatus('')).toEqual({});
  });

  it('names file, line and field of invalid values', () => {
    expect(
      issuesOf(() => parseLrmStatus('{"state": "active",\n "mode": "sleeping",\n "results": {"u": {"sid": "vm:1", "state": "started"}}}', 'lrm_status_node1')),
    ).toEqual([
      "lrm_status_node1 line 2, field 'mode': value 'sleeping' is not one of active, reboot, shutdown, restart, maintenance, disarm",
      "lrm_status_node1 line 3, field 'results.u.exit_code': expected a number, got nothing",
    ]);
  });
});

describe('service_config (simulator)', () => {
  const text = `{
    "vm:101": { "node": "node1", "state": "enabled" },
    "vm:102": { "node": "node2" },
    "fa:103": { "node": "node3", "state": "started", "max_restart": "0", "max_relocate": 2, "failback": 0, "group": "g1" },
    "ct:104": { "node": "node1", "state": "ignored", "type": "ct", "name": "104", "lock": "backup" }
}`;

  it('reads entries and applies the simulator defaults (unset state is disabled)', () => {
    const config = parseScenarioServiceConfig(text);
    expect(config['fa:103']).toEqual({ node: 'node3', state: 'started', max_restart: 0, max_relocate: 2, failback: 0, group: 'g1' });
    expect(scenarioToServiceConfig(config)).toEqual({
      'ct:104': { type: 'ct', name: '104', node: 'node1', state: 'ignored', failback: true, max_restart: 1, max_relocate: 1 },
      'fa:103': { type: 'fa', name: '103', node: 'node3', state: 'started', group: 'g1', failback: false, max_restart: 0, max_relocate: 2 },
      'vm:101': { type: 'vm', name: '101', node: 'node1', state: 'started', failback: true, max_restart: 1, max_relocate: 1 },
      'vm:102': { type: 'vm', name: '102', node: 'node2', state: 'disabled', failback: true, max_restart: 1, max_relocate: 1 },
    });
  });

  it('round-trips', () => {
    const config = parseScenarioServiceConfig(text);
    expect(parseScenarioServiceConfig(writeScenarioServiceConfig(config))).toEqual(config);
  });

  it('names file, line and field of invalid entries', () => {
    const bad = `{
  "vm:1": { "node": "node1", "state": "on" },
  "web:1": { "node": "node1" },
  "vm:2": { "state": "started" },
  "vm:3": { "node": "n", "max_restart": -1, "colour": "red" }
}`;
    expect(issuesOf(() => parseScenarioServiceConfig(bad, 'test-x/service_config'))).toEqual([
      "test-x/service_config line 2, field 'vm:1.state': value 'on' is not one of started, stopped, enabled, disabled, ignored",
      "test-x/service_config line 3, field 'web:1': unsupported service id 'web:1' (expected vm:<number>, ct:<number> or fa:<number>)",
      "test-x/service_config line 4, field 'vm:2': service 'vm:2' has no node (expected \"node\": \"<node name>\")",
      "test-x/service_config line 5, field 'vm:3.colour': unknown key (expected one of node, state, group, failback, max_restart, max_relocate, comment, lock, type, name)",
      "test-x/service_config line 5, field 'vm:3.max_restart': value -1 is not a non-negative integer",
    ]);
  });
});

describe('datacenter.cfg', () => {
  const text = 'keyboard: de\n# a note\nha: shutdown_policy=migrate\ncrs: ha=static,ha-rebalance-on-start=yes,ha-auto-rebalance=1,ha-auto-rebalance-threshold=25.5\n';

  it('reads the ha and crs property strings', () => {
    const config = parseDatacenterConfig(text);
    expect(config.settings).toEqual({
      ha: { shutdown_policy: 'migrate' },
      crs: { ha: 'static', 'ha-rebalance-on-start': 1, 'ha-auto-rebalance': 1, 'ha-auto-rebalance-threshold': 25.5 },
    });
    expect(config.other).toEqual(['keyboard: de', '# a note']);
  });

  it('writes and round-trips', () => {
    const config = parseDatacenterConfig(text);
    const written = writeDatacenterConfig(config);
    expect(written).toBe(
      'ha: shutdown_policy=migrate\ncrs: ha=static,ha-auto-rebalance=1,ha-auto-rebalance-threshold=25.5,ha-rebalance-on-start=1\nkeyboard: de\n# a note\n',
    );
    expect(parseDatacenterConfig(written)).toEqual(config);
  });

  it('names line and field of bad keys and values; lenient reading falls back to defaults', () => {
    const bad = 'crs: ha=fancy,ha-auto-rebalance-method=topsis,foo=1\nha: shutdown_policy\n';
    const issues: ConfigIssue[] = [];
    expect(parseDatacenterConfig(bad, 'datacenter.cfg', issues).settings).toEqual({ ha: {}, crs: {} });
    expect(issues.map(formatIssue)).toEqual([
      "datacenter.cfg line 1, field 'crs.ha': value 'fancy' is not one of basic, static, dynamic",
      "datacenter.cfg line 1, field 'crs.foo': unknown key (expected one of ha, ha-rebalance-on-start, ha-auto-rebalance, ha-auto-rebalance-threshold, ha-auto-rebalance-method, ha-auto-rebalance-hold-duration, ha-auto-rebalance-margin)",
      "datacenter.cfg line 1, field 'crs.ha-auto-rebalance-method': 'ha-auto-rebalance' must be set too",
      "datacenter.cfg line 2, field 'ha': 'shutdown_policy' is not a key=value pair (known keys: shutdown_policy)",
    ]);
  });

  it('reads the simulator JSON variant', () => {
    const settings = parseScenarioDatacenterConfig(
      '{\n  "ha": { "shutdown_policy": "freeze" },\n  "crs": { "ha": "dynamic", "ha-auto-rebalance": 1,\n\t"ha-auto-rebalance-method": "topsis", "ha-auto-rebalance-hold-duration": 0 }\n}',
    );
    expect(settings).toEqual({
      ha: { shutdown_policy: 'freeze' },
      crs: { ha: 'dynamic', 'ha-auto-rebalance': 1, 'ha-auto-rebalance-method': 'topsis', 'ha-auto-rebalance-hold-duration': 0 },
    });
    expect(parseScenarioDatacenterConfig(writeScenarioDatacenterConfig(settings))).toEqual(settings);
    expect(parseScenarioDatacenterConfig('')).toEqual({ ha: {}, crs: {} });
  });

  it('names line and field in the JSON variant', () => {
    expect(
      issuesOf(() => parseScenarioDatacenterConfig('{\n "crs": {\n  "ha": "static",\n  "ha-rebalance-on-start": "maybe"\n }\n}', 'dc.json')),
    ).toEqual(["dc.json line 4, field 'crs.ha-rebalance-on-start': value 'maybe' is not a boolean (expected 0 or 1)"]);
  });
});
