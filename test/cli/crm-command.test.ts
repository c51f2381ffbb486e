// Requests queued for the master in ha/crm_commands, and the checks made
// before queuing them.

import { describe, expect, it } from 'vitest';

import { PATHS } from '../../src/env/node/layout.js';
import { createHarness, paramError, type Harness } from './harness.js';

const ONLINE = { node1: 'online', node2: 'online', node3: 'online' };

async function cluster(serviceStatus: Record<string, object> = {}, nodeStatus: Record<string, string> = ONLINE): Promise<Harness> {
  const h = createHarness();
  for (const [node, sid] of [
    ['node1', 'vm:100'],
    ['node1', 'vm:101'],
    ['node2', 'vm:102'],
    ['node3', 'ct:103'],
  ]) {
    await h.guest(node, sid);
    await h.run('add', sid);
  }
  await h.managerStatus({
    master_node: 'node1',
    timestamp: h.now,
    node_status: nodeStatus,
    service_status: {
      'vm:100': { node: 'node1', state: 'started', running: 1 },
      'vm:101': { node: 'node1', state: 'started', running: 1 },
      'vm:102': { node: 'node2', state: 'started', running: 1 },
      'ct:103': { node: 'node3', state: 'stopped' },
      ...serviceStatus,
    },
  });
  return h;
}

describe('migrate and relocate', () => {
  it('queue the request, as top-level aliases and as crm-command', async () => {
    const h = await cluster();
    expect(await h.run('migrate', '100', 'node2')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await h.run('relocate', 'ct:103', 'node1')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await h.run('crm-command', 'migrate', 'vm:102', 'node3')).code).toBe(0);
    expect((await h.run('crm-command', 'relocate', '101', 'node3')).code).toBe(0);
    expect(await h.read(PATHS.crmCommands)).toBe(
      'migrate vm:100 node2\nrelocate ct:103 node1\nmigrate vm:102 node3\nrelocate vm:101 node3\n',
    );
  });

  it('append to what is queued, ending an unterminated last line first', async () => {
    const h = await cluster();
    await h.write(PATHS.crmCommands, 'arm-ha');
    await h.run('migrate', 'vm:100', 'node2');
    expect(await h.read(PATHS.crmCommands)).toBe('arm-ha\nmigrate vm:100 node2\n');
  });

  it('name the resources moving along in positive affinity', async () => {
    const h = await cluster();
    await h.run('rules', 'add', 'resource-affinity', 'together', '--resources', 'vm:100,vm:101,ct:103', '--affinity', 'positive');
    expect(await h.run('migrate', 'vm:100', 'node2')).toEqual({
      code: 0,
      stdout:
        "also migrate resource 'ct:103' in positive affinity with resource 'vm:100' to target node 'node2'\n" +
        "also migrate resource 'vm:101' in positive affinity with resource 'vm:100' to target node 'node2'\n",
      stderr: '',
    });
    expect((await h.run('relocate', 'vm:101', 'node3')).stdout).toBe(
      "also relocate resource 'ct:103' in positive affinity with resource 'vm:101' to target node 'node3'\n" +
        "also relocate resource 'vm:100' in positive affinity with resource 'vm:101' to target node 'node3'\n",
    );
    expect(await h.read(PATHS.crmCommands)).toBe('migrate vm:100 node2\nrelocate vm:101 node3\n');
  });

  it('refuse a target where a resource in negative affinity is', async () => {
    const h = await cluster({ 'vm:101': { node: 'node2', state: 'started', running: 1 } });
    await h.run('rules', 'add', 'resource-affinity', 'apart', '--resources', 'vm:100,vm:101,vm:102', '--affinity', 'negative');
    expect(await h.run('migrate', 'vm:100', 'node2')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "cannot migrate resource 'vm:100' to node 'node2':\n\n" +
        "- resource 'vm:101' on target node 'node2' in negative affinity with resource 'vm:100'\n" +
        "- resource 'vm:102' on target node 'node2' in negative affinity with resource 'vm:100'\n",
    });
    expect(await h.read(PATHS.crmCommands)).toBeUndefined();
  });

  it('let a resource leaving the target node not block it, as the reference does', async () => {
    const h = await cluster({ 'ct:103': { node: 'node3', state: 'migrate', target: 'node2' } });
    await h.run('rules', 'add', 'resource-affinity', 'apart', '--resources', 'vm:100,ct:103', '--affinity', 'negative');
    expect((await h.run('relocate', 'vm:100', 'node3')).code).toBe(0);
    expect((await h.run('migrate', 'vm:100', 'node2')).code).toBe(0);
    expect(await h.read(PATHS.crmCommands)).toBe('relocate vm:100 node3\nmigrate vm:100 node2\n');
  });

  it('ignore negative affinity rules the manager drops as infeasible', async () => {
    const h = await cluster();
    await h.write(
      PATHS.rules,
      'resource-affinity: apart\n\taffinity negative\n\tresources vm:100,vm:102\n\n' +
        'resource-affinity: together\n\taffinity positive\n\tresources vm:100,vm:102\n\n',
    );
    expect((await h.run('migrate', 'vm:100', 'node2')).code).toBe(0);
  });

  it.each([
    [['migrate', 'vm:109', 'node2'], "resource 'vm:109' is not HA managed\n"],
    [['migrate', '109', 'node2'], 'unable to detect SID from VMID - VM/CT 109 does not exist\n'],
    [['migrate', 'vm:100', 'node9'], "no such cluster node 'node9'\n"],
    [['relocate', 'vm:100', 'node3'], "cannot relocate resource 'vm:100' to node 'node3': the node is in state 'maintenance' for the HA manager\n"],
    [['migrate', 'vm:101', 'node2'], "service 'vm:101' in error state, must be disabled and fixed first\n"],
  ])('refuse %j', async (args, message) => {
    const h = await cluster({ 'vm:101': { node: 'node1', state: 'error' } }, { ...ONLINE, node3: 'maintenance' });
    expect(await h.run(...args)).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await h.read(PATHS.crmCommands)).toBeUndefined();
  });

  it('refuse an offline target node', async () => {
    const h = await cluster();
    h.store.setMembership({ nodes: { node1: { online: true }, node2: { online: true }, node3: { online: false } }, quorate: true });
    expect((await h.run('migrate', 'vm:100', 'node3')).stderr).toBe(
      "cannot migrate resource 'vm:100' to node 'node3': the node is offline\n",
    );
  });

  it('refuse ignored resources, and every resource while disarmed with resources ignored', async () => {
    const h = await cluster();
    await h.run('set', 'vm:102', '--state', 'ignored');
    expect((await h.run('migrate', 'vm:102', 'node1')).stderr).toBe("resource 'vm:102' is not HA managed\n");
    await h.managerStatus({ master_node: 'node1', timestamp: h.now, node_status: ONLINE, disarm: { mode: 'ignore', state: 'disarmed' } });
    expect((await h.run('migrate', 'vm:100', 'node2')).stderr).toBe("resource 'vm:100' is not HA managed\n");
    expect(await h.read(PATHS.crmCommands)).toBeUndefined();
  });

  it('refuse without quorum', async () => {
    const h = await cluster();
    h.store.setMembership({ nodes: { node1: { online: true }, node2: { online: true }, node3: { online: true } }, quorate: false });
    expect(await h.run('migrate', 'vm:100', 'node2')).toEqual({ code: 3, stdout: '', stderr: 'cluster not ready - no quorum?\n' });
  });
});

describe('stop', () => {
  it('queues the stop with its timeout', async () => {
    const h = await cluster();
    expect(await h.run('crm-command', 'stop', '100', '0')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await h.run('crm-command', 'stop', 'ct:103', '120')).code).toBe(0);
    expect(await h.read(PATHS.crmCommands)).toBe('stop vm:100 0\nstop ct:103 120\n');
  });

  it.each([
    [['crm-command', 'stop', 'vm:100', '-1'], 2, paramError('ha-manager crm-command stop <sid> <timeout>', { timeout: 'value must have a minimum value of 0' })],
    [['crm-command', 'stop', 'vm:100'], 2, paramError('ha-manager crm-command stop <sid> <timeout>', { timeout: 'property is missing and it is not optional' })],
    [['crm-command', 'stop', 'vm:100', '99999999999999999999999'], 2, paramError('ha-manager crm-command stop <sid> <timeout>', { timeout: 'value must have a maximum value of 9007199254740991' })],
    [['crm-command', 'stop', 'vm:109', '10'], 1, "resource 'vm:109' is not HA managed\n"],
    [['crm-command', 'stop', 'vm:101', '10'], 1, "service 'vm:101' in error state, must be disabled and fixed first\n"],
  ])('refuses %j', async (args, code, message) => {
    const h = await cluster({ 'vm:101': { node: 'node1', state: 'error' } });
    const r = await h.run(...args);
    expect(r.code).toBe(code);
    expect(r.stderr.startsWith(message)).toBe(true);
    expect(await h.read(PATHS.crmCommands)).toBeUndefined();
  });
});

describe('node maintenance, disarm and arm', () => {
  it('queue the requests', async () => {
    const h = await cluster();
    for (const args of [
      ['crm-command', 'node-maintenance', 'enable', 'node2'],
      ['crm-command', 'node-maintenance', 'disable', 'node2'],
      ['crm-command', 'disarm-ha', 'freeze'],
      ['crm-command', 'disarm-ha', 'ignore'],
      ['crm-command', 'arm-ha'],
    ]) {
      expect(await h.run(...args)).toEqual({ code: 0, stdout: '', stderr: '' });
    }
    expect(await h.read(PATHS.crmCommands)).toBe(
      'enable-node-maintenance node2\ndisable-node-maintenance node2\ndisarm-ha freeze\ndisarm-ha ignore\narm-ha\n',
    );
  });

  it('refuse a node that is not a cluster member, and an unknown resource mode', async () => {
    const h = await cluster();
    expect(await h.run('crm-command', 'node-maintenance', 'enable', 'node7')).toEqual({
      code: 1,
      stdout: '',
      stderr: "no such cluster node 'node7'\n",
    });
    const r = await h.run('crm-command', 'disarm-ha', 'stop');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      paramError('ha-manager crm-command disarm-ha <resource-mode>', { 'resource-mode': "value 'stop' does not have a value in the enumeration 'freeze, ignore'" }),
    );
    expect((await h.run('crm-command', 'node-maintenance', 'pause', 'node1')).code).toBe(2);
    expect(await h.read(PATHS.crmCommands)).toBeUndefined();
  });
});
