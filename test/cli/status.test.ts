// `ha-manager status`: the lines for quorum, master, fencing, LRMs and
// services in the situations the reference distinguishes, with timestamps
// judged against an injected clock (NOW is Tue Mar  5 12:00:00 2024 UTC).

import { describe, expect, it } from 'vitest';

import { PATHS } from '../../src/env/node/layout.js';
import { createHarness, NOW, type Harness } from './harness.js';

async function status(h: Harness): Promise<string[]> {
  const r = await h.run('status');
  expect(r.code).toBe(0);
  return r.stdout.split('\n').slice(0, -1);
}

describe('quorum, master and fencing', () => {
  it('shows only quorum and fencing before any master ran', async () => {
    const h = createHarness();
    expect(await h.run('status')).toEqual({ code: 0, stdout: 'quorum OK\nfencing standby (CRM watchdog standby)\n', stderr: '' });
  });

  it('reports a missing quorum', async () => {
    const h = createHarness();
    h.store.setMembership({ nodes: { node1: { online: true } }, quorate: false });
    expect((await status(h))[0]).toBe("quorum No quorum on node 'node1'!");
  });

  it.each([
    ['an active master', -10, true, 'master node1 (active, Tue Mar  5 11:59:50 2024)', 'fencing armed (CRM watchdog active)'],
    ['a master 30 s old, still active', -30, true, 'master node1 (active, Tue Mar  5 11:59:30 2024)', 'fencing armed (CRM watchdog active)'],
    ['a master gone quiet', -31, true, 'master node1 (old timestamp - dead?, Tue Mar  5 11:59:29 2024)', 'fencing standby (CRM watchdog standby)'],
    ['an idle master (nothing to manage)', -600, false, 'master node1 (idle, Tue Mar  5 11:50:00 2024)', 'fencing standby (CRM watchdog standby)'],
    ['a master ahead of our clock', 5, true, 'master node1 (detected time drift!, Tue Mar  5 12:00:05 2024)', 'fencing standby (CRM watchdog standby)'],
    ['a master slightly ahead', 2, true, 'master node1 (active, Tue Mar  5 12:00:02 2024)', 'fencing armed (CRM watchdog active)'],
  ])('%s', async (_what, age, withResource, master, fencing) => {
    const h = createHarness();
    if (withResource) {
      await h.guest('node1', 'vm:100');
      await h.run('add', 'vm:100');
    }
    await h.managerStatus({ master_node: 'node1', timestamp: NOW + age, node_status: {} });
    const lines = await status(h);
    expect(lines.slice(1, 3)).toEqual([master, fencing]);
  });

  it('does not call a quiet master idle without quorum', async () => {
    const h = createHarness();
    h.store.setMembership({ nodes: { node1: { online: true } }, quorate: false });
    await h.managerStatus({ master_node: 'node1', timestamp: NOW - 600 });
    expect((await status(h))[1]).toBe('master node1 (old timestamp - dead?, Tue Mar  5 11:50:00 2024)');
  });

  it('names the CRS mode unless it is basic', async () => {
    const h = createHarness();
    await h.managerStatus({ master_node: 'node2', timestamp: NOW });
    await h.write(PATHS.datacenter, 'keyboard: en-us\ncrs: ha=static,ha-rebalance-on-start=1\n');
    expect((await status(h))[1]).toBe('master node2 (active, Tue Mar  5 12:00:00 2024) - static load CRS');
    await h.write(PATHS.datacenter, 'crs: ha=basic\n');
    expect((await status(h))[1]).toBe('master node2 (active, Tue Mar  5 12:00:00 2024)');
  });

  it.each([
    ['freeze', 'disarming', 'CRM watchdog active'],
    ['freeze', 'disarmed', 'CRM watchdog released'],
    ['ignore', 'disarmed', 'CRM watchdog released'],
  ])('shows the stack disarmed (%s, %s)', async (mode, state, watchdog) => {
    const h = createHarness();
    await h.managerStatus({ master_node: 'node1', timestamp: NOW, disarm: { mode, state } });
    await h.write(PATHS.datacenter, 'crs: ha=dynamic\n');
    expect((await status(h)).slice(1)).toEqual([
      `master node1 (active, Tue Mar  5 12:00:00 2024) - ${state}, resource mode: ${mode} - dynamic load CRS`,
      `fencing ${state}, resource mode: ${mode} (${watchdog})`,
    ]);
  });

  it('prints times in the configured time zone', async () => {
    const h = createHarness();
    await h.managerStatus({ master_node: 'node1', timestamp: NOW });
    const r = await h.run('status');
    expect(r.stdout).toContain('Tue Mar  5 12:00:00 2024');
  });
});

describe('LRM lines', () => {
  async function lrm(
    lrmStatus: object | undefined,
    serviceStatus: Record<string, object> = {},
  ): Promise<string> {
    const h = createHarness();
    await h.managerStatus({ master_node: 'node1', timestamp: NOW, node_status: { node2: 'online' }, service_status: serviceStatus });
    if (lrmStatus !== undefined) await h.lrmStatus('node2', lrmStatus);
    const lines = await status(h);
    return lines.find((line) => line.startsWith('lrm ')) ?? '';
  }
  const T = 'Tue Mar  5 11:59:55 2024';
  const OLD = 'Tue Mar  5 11:50:00 2024';

  it.each([
    ['active', { state: 'active', mode: 'active', timestamp: NOW - 5 }, {}, `lrm node2 (active, watchdog active, ${T})`],
    ['active without a mode', { state: 'active', timestamp: NOW - 5 }, {}, `lrm node2 (active, watchdog active, ${T})`],
    ['idle: waiting for the lock with nothing to run', { state: 'wait_for_agent_lock', mode: 'active', timestamp: NOW - 5 }, { 'vm:100': { node: 'node2', state: 'stopped' } }, `lrm node2 (idle, watchdog standby, ${T})`],
    ['waiting for the lock with work to do', { state: 'wait_for_agent_lock', mode: 'active', timestamp: NOW - 5 }, { 'vm:100': { node: 'node2', state: 'started' } }, `lrm node2 (wait_for_agent_lock, watchdog standby, ${T})`],
    ['waiting for the lock as a migration target', { state: 'wait_for_agent_lock', mode: 'active', timestamp: NOW - 5 }, { 'vm:100': { node: 'node1', state: 'migrate', target: 'node2' } }, `lrm node2 (wait_for_agent_lock, watchdog standby, ${T})`],
    ['lost its lock', { state: 'lost_agent_lock', mode: 'active', timestamp: NOW - 5 }, {}, `lrm node2 (lost_agent_lock, watchdog standby, ${T})`],
    ['in maintenance', { state: 'maintenance', mode: 'maintenance', timestamp: NOW - 5 }, {}, `lrm node2 (maintenance mode, watchdog active, ${T})`],
    ['restarting', { state: 'active', mode: 'restart', timestamp: NOW - 5 }, {}, `lrm node2 (restart mode, watchdog active, ${T})`],
    ['shutting down', { state: 'active', mode: 'shutdown', timestamp: NOW - 5 }, {}, `lrm node2 (shutdown mode, watchdog active, ${T})`],
    ['disarmed', { state: 'wait_for_agent_lock', mode: 'disarm', timestamp: NOW - 5 }, {}, `lrm node2 (disarm mode, watchdog released, ${T})`],
    ['dead', { state: 'active', mode: 'active', timestamp: NOW - 600 }, {}, `lrm node2 (old timestamp - dead?, watchdog standby, ${OLD})`],
    ['dead in maintenance', { state: 'maintenance', mode: 'maintenance', timestamp: NOW - 600 }, {}, `lrm node2 (maintenance mode, watchdog standby, ${OLD})`],
    ['dead while disarmed', { state: 'active', mode: 'disarm', timestamp: NOW - 600 }, {}, `lrm node2 (disarm mode, watchdog released, ${OLD})`],
    ['ahead of our clock', { state: 'active', mode: 'active', timestamp: NOW + 60 }, {}, 'lrm node2 (detected time drift!, watchdog standby, Tue Mar  5 12:01:00 2024)'],
    ['without a status file', undefined, {}, 'lrm node2 (unable to read lrm status)'],
    ['without a timestamp', { state: 'active', mode: 'active' }, {}, 'lrm node2 (unable to read lrm status)'],
  ])('%s', async (_what, lrmStatus, serviceStatus, line) => {
    expect(await lrm(lrmStatus, serviceStatus)).toBe(line);
  });

  it('lists every node the master tracks, sorted, and warns about a broken status file', async () => {
    const h = createHarness();
    await h.managerStatus({ master_node: 'node1', timestamp: NOW, node_status: { node3: 'online', node1: 'online', node2: 'unknown' } });
    await h.lrmStatus('node1', { state: 'active', mode: 'active', timestamp: NOW });
    await h.write('nodes/node3/lrm_status', '{"state": "active", "mode": "sleepy", "timestamp": 1}');
    const r = await h.run('status');
    expect(r.stdout.split('\n').filter((line) => line.startsWith('lrm '))).toEqual([
      'lrm node1 (active, watchdog active, Tue Mar  5 12:00:00 2024)',
      'lrm node2 (unable to read lrm status)',
      'lrm node3 (unable to read lrm status)',
    ]);
    expect(r.stderr).toBe(
      "warning: unable to read nodes/node3/lrm_status line 1, field 'mode': value 'sleepy' is not one of active, reboot, shutdown, restart, maintenance, disarm\n",
    );
  });
});

describe('service lines', () => {
  async function services(
    config: string,
    serviceStatus: Record<string, object>,
    managerExtra: object = {},
  ): Promise<string[]> {
    const h = createHarness();
    for (const [node, sid] of [
      ['node1', 'vm:100'],
      ['node2', 'vm:101'],
      ['node3', 'ct:102'],
    ]) {
      await h.guest(node, sid);
    }
    await h.write(PATHS.resources, config);
    await h.managerStatus({ master_node: 'node1', timestamp: NOW, service_status: serviceStatus, ...managerExtra });
    return (await status(h)).filter((line) => line.startsWith('service '));
  }

  it.each([
    ['started', 'started', { state: 'started', running: 1 }, 'started'],
    ['started, not yet confirmed running', 'started', { state: 'started' }, 'starting'],
    ['stopped, start requested', 'started', { state: 'stopped' }, 'starting'],
    ['stopped, requested stopped', 'stopped', { state: 'stopped' }, 'stopped'],
    ['stopped, requested disabled', 'disabled', { state: 'stopped' }, 'disabled'],
    ['started, stop requested', 'stopped', { state: 'started', running: 1 }, 'stopping'],
    ['started, disable requested', 'disabled', { state: 'started', running: 1 }, 'stopping'],
    ['error', 'started', { state: 'error' }, 'error'],
    ['error, disable requested', 'disabled', { state: 'error' }, 'clearing error flag'],
    ['request_stop', 'stopped', { state: 'request_stop' }, 'request_stop'],
    ['request_start', 'started', { state: 'request_start' }, 'request_start'],
    ['migrate', 'started', { state: 'migrate', target: 'node2' }, 'migrate'],
    ['relocate', 'started', { state: 'relocate', target: 'node2' }, 'relocate'],
    ['fence', 'started', { state: 'fence' }, 'fence'],
    ['recovery', 'started', { state: 'recovery' }, 'recovery'],
    ['freeze', 'started', { state: 'freeze' }, 'freeze'],
    ['the old `enabled`', 'enabled', { state: 'stopped' }, 'starting'],
  ])('%s', async (_what, requested, sd, shown) => {
    const lines = await services(`vm: 100\n\tstate ${requested}\n\n`, { 'vm:100': { node: 'node1', ...sd } });
    expect(lines).toEqual([`service vm:100 (node1, ${shown})`]);
  });

  it('shows the states outside the manager: queued, deleting, ignored, not found', async () => {
    const lines = await services(
      'vm: 100\n\nvm: 101\n\tstate ignored\n\nvm: 105\n\nct: 102\n\tstate stopped\n\n',
      { 'vm:104': { node: 'node2', state: 'stopped' }, 'vm:101': { node: 'node2', state: 'started', running: 1 } },
    );
    expect(lines).toEqual([
      'service vm:101 (node2, ignored)',
      'service vm:104 (node2, deleting)',
      'service ct:102 (node3, queued)',
      'service vm:100 (node1, queued)',
      'service vm:105 (---, not found)',
    ]);
  });

  it('shows the manager node over the guest location while it moves', async () => {
    const lines = await services('vm: 100\n\n', { 'vm:100': { node: 'node2', state: 'migrate', target: 'node1' } });
    expect(lines).toEqual(['service vm:100 (node2, migrate)']);
  });

  it('shows every resource as ignore while disarmed with resources ignored', async () => {
    const lines = await services('vm: 100\n\nvm: 101\n\tstate stopped\n\n', { 'vm:100': { node: 'node1', state: 'started', running: 1 } }, {
      disarm: { mode: 'ignore', state: 'disarmed' },
    });
    expect(lines).toEqual(['service vm:100 (node1, ignore)', 'service vm:101 (node2, ignore)']);
  });

  it('keeps the states while disarmed with resources frozen', async () => {
    const lines = await services('vm: 100\n\n', { 'vm:100': { node: 'node1', state: 'started', running: 1 } }, {
      disarm: { mode: 'freeze', state: 'disarmed' },
    });
    expect(lines).toEqual(['service vm:100 (node1, started)']);
  });
});

describe('a whole cluster', () => {
  it('prints every line in order, and with --verbose the full state', async () => {
    const h = createHarness();
    await h.guest('node1', 'vm:100');
    await h.guest('node2', 'ct:101');
    await h.run('add', 'vm:100');
    await h.run('add', 'ct:101', '--state', 'stopped');
    await h.managerStatus({
      master_node: 'node1',
      timestamp: NOW - 2,
      node_status: { node1: 'online', node2: 'maintenance' },
      node_request: { node2: { maintenance: 1 } },
      service_status: { 'vm:100': { node: 'node1', state: 'started', running: 1, uid: 'Xq1' } },
    });
    await h.lrmStatus('node1', { state: 'active', mode: 'active', timestamp: NOW - 1, results: { Xq1: { sid: 'vm:100', state: 'started', exit_code: 0 } } });
    await h.lrmStatus('node2', { state: 'maintenance', mode: 'maintenance', timestamp: NOW - 1, results: {} });

    const expectedLines =
      'quorum OK\n' +
      'master node1 (active, Tue Mar  5 11:59:58 2024)\n' +
      'fencing armed (CRM watchdog active)\n' +
      'lrm node1 (active, watchdog active, Tue Mar  5 11:59:59 2024)\n' +
      'lrm node2 (maintenance mode, watchdog active, Tue Mar  5 11:59:59 2024)\n' +
      'service vm:100 (node1, started)\n' +
      'service ct:101 (node2, queued)\n';
    expect(await h.run('status')).toEqual({ code: 0, stdout: expectedLines, stderr: '' });

    const verbose = await h.run('status', '--verbose');
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toBe(
      `${expectedLines}full cluster state:\n` +
        [
          '{',
          '   "lrm_status" : {',
          '      "node1" : {',
          '         "mode" : "active",',
          '         "results" : {',
          '            "Xq1" : {',
          '               "exit_code" : 0,',
          '               "sid" : "vm:100",',
          '               "state" : "started"',
          '            }',
          '         },',
          '         "state" : "active",',
          `         "timestamp" : ${NOW - 1}`,
          '      },',
          '      "node2" : {',
          '         "mode" : "maintenance",',
          '         "results" : {},',
          '         "state" : "maintenance",',
          `         "timestamp" : ${NOW - 1}`,
          '      }',
          '   },',
          '   "manager_status" : {',
          '      "master_node" : "node1",',
          '      "node_request" : {',
          '         "node2" : {',
          '            "maintenance" : 1',
          '         }',
          '      },',
          '      "node_status" : {',
          '         "node1" : "online",',
          '         "node2" : "maintenance"',
          '      },',
          '      "service_status" : {',
          '         "vm:100" : {',
          '            "node" : "node1",',
          '            "running" : 1,',
          '            "state" : "started",',
          '            "uid" : "Xq1"',
          '         }',
          '      },',
          `      "timestamp" : ${NOW - 2}`,
          '   },',
          '   "quorum" : {',
          '      "node" : "node1",',
          '      "quorate" : 1',
          '   }',
          '}',
          '',
        ].join('\n'),
    );
  });

  it('dumps an empty state before any master ran', async () => {
    const h = createHarness();
    h.store.setMembership({ nodes: {}, quorate: false });
    expect((await h.run('status', '--verbose')).stdout).toBe(
      "quorum No quorum on node 'node1'!\nfencing standby (CRM watchdog standby)\nfull cluster state:\n" +
        '{\n   "manager_status" : {},\n   "quorum" : {\n      "node" : "node1",\n      "quorate" : ""\n   }\n}\n',
    );
  });

  it('fails on a manager status it cannot read, naming file, line and field', async () => {
    const h = createHarness();
    await h.write(PATHS.managerStatus, '{\n "master_node": "node1",\n "timestamp": "soon"\n}');
    expect(await h.run('status')).toEqual({
      code: 1,
      stdout: '',
      stderr: "unable to read ha/manager_status line 3, field 'timestamp': expected a number, got 'soon'\n",
    });
  });
});
