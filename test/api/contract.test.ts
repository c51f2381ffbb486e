// The API against the CLI: every read endpoint returns what `ha-manager ...
// --output-format json` prints for the same store, and every change made
// through the API leaves the store as the same change made with ha-manager
// does (one service layer behind both).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { PATHS, lrmStatusPath } from '../../src/env/node/layout.js';
import { NOW, startApi, type ApiHarness } from './server-harness.js';

let h: ApiHarness;
beforeEach(async () => {
  h = await startApi();
});
afterEach(async () => {
  await h.close();
});

const HA = '/api2/json/cluster/ha';

async function populate(harness: ApiHarness): Promise<void> {
  for (const args of [
    ['add', 'vm:100', '--max_restart', '2', '--comment', 'front'],
    ['add', 'ct:101', '--state', 'stopped'],
    ['add', 'exec:web'],
    ['rules', 'add', 'node-affinity', 'r1', '--resources', 'vm:100', '--nodes', 'node1:2,node2', '--strict', '1'],
    ['rules', 'add', 'resource-affinity', 'r2', '--resources', 'ct:101,exec:web', '--affinity', 'negative'],
  ]) {
    const r = await harness.cli(...args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
  await harness.store.write(
    PATHS.managerStatus,
    JSON.stringify({
      master_node: 'node2',
      timestamp: NOW - 5,
      node_status: { node1: 'online', node2: 'online', node3: 'fence' },
      service_status: { 'vm:100': { node: 'node1', state: 'started', uid: 'a' }, 'ct:101': { node: 'node2', state: 'stopped', uid: 'b' } },
    }),
  );
  await harness.store.write(lrmStatusPath('node1'), JSON.stringify({ state: 'active', mode: 'active', timestamp: NOW - 3, results: {} }));
  await harness.store.write(lrmStatusPath('node2'), JSON.stringify({ state: 'wait_for_agent_lock', mode: 'maintenance', timestamp: NOW - 2, results: {} }));
}

async function cliJson(...args: string[]): Promise<unknown> {
  const r = await h.cli(...args, '--output-format', 'json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function apiData(path: string): Promise<unknown> {
  const r = await h.request('GET', `${HA}/${path}`);
  expect(r.status, r.body.message).toBe(200);
  return r.body.data;
}

describe('read endpoints give what the CLI prints as JSON', () => {
  it.each([
    ['status/current', ['status']],
    ['resources', ['config']],
  ])('GET %s = ha-manager %j', async (path, args) => {
    await populate(h);
    const data = await apiData(path);
    expect(data).toEqual(await cliJson(...args));
    expect((data as unknown[]).length).toBeGreaterThan(2);
  });

  it('GET rules = ha-manager rules config, less the columns the CLI derives (enabled, state)', async () => {
    await populate(h);
    const cli = (await cliJson('rules', 'config')) as Array<Record<string, unknown>>;
    expect(cli.map((rule) => rule.state)).toEqual(['in use', 'in use']);
    expect(await apiData('rules')).toEqual(cli.map(({ enabled: _enabled, state: _state, ...rule }) => rule));
  });

  it('GET groups and groups/{group} = ha-manager groupconfig (a cluster that still has groups)', async () => {
    await h.store.write(PATHS.groups, 'group: g1\n\tnodes node1:2,node2\n\trestricted 1\n\ngroup: g2\n\tnodes node3\n\tcomment spare\n\n');
    const cli = (await cliJson('groupconfig')) as Array<{ group: string }>;
    expect(cli.map((group) => group.group)).toEqual(['g1', 'g2']);
    expect(await apiData('groups')).toEqual(cli);
    for (const group of cli) expect(await apiData(`groups/${group.group}`)).toEqual(group);
  });

  it('GET status/manager_status = the manager_status of ha-manager status --verbose', async () => {
    await populate(h);
    const verbose = (await cliJson('status', '--verbose')) as { manager_status: unknown };
    expect(await apiData('status/manager_status')).toEqual(verbose.manager_status);
  });

  it('GET resources/{sid}, rules/{rule} are the matching entries of the lists', async () => {
    await populate(h);
    const resources = (await cliJson('config')) as Array<{ sid: string }>;
    for (const resource of resources) expect(await apiData(`resources/${encodeURIComponent(resource.sid)}`)).toEqual(resource);
    for (const rule of (await apiData('rules')) as Array<{ rule: string }>) expect(await apiData(`rules/${rule.rule}`)).toEqual(rule);
  });

  it('a resource given by guest id resolves as the CLI resolves it', async () => {
    await populate(h);
    expect(await apiData('resources/100')).toEqual(await apiData('resources/vm%3A100'));
  });

  it('GET status/nodes lists the cluster members', async () => {
    expect(await apiData('status/nodes')).toEqual([
      { node: 'node1', online: 1 },
      { node: 'node2', online: 1 },
      { node: 'node3', online: 1 },
    ]);
  });

  it('GET timing describes the cluster’s timing as data; ha-manager check-timings prints the same numbers', async () => {
    await h.store.write(PATHS.timing, 'profile: fast\ntime-scale: 20\nepoch: 1000\n');
    const timing = await apiData('timing');
    expect(timing).toEqual({
      source: 'ha/timing.cfg',
      profile: 'fast',
      'time-scale': 20,
      epoch: 1000,
      durations: {
        'lock-lifetime': 16000,
        'client-timeout': 11500,
        'mux-tick': 250,
        'device-timeout': 2000,
        margin: 1000,
        'lrm-round': 1000,
        'crm-round': 1000,
        'lock-retry': 1000,
        'store-timeout': 1000,
        'heartbeat-timeout': 14000,
        'fence-delay': 1000,
      },
      'fence-window': 14750,
      slack: 1250,
      safe: 1,
      inequality: 'fence window client 11500ms + tick 250ms + device 2s + margin 1s = 14750ms < lock lifetime 16s (slack 1250ms): safe',
      'outage-without-reset': 8500,
      'outage-without-fence': 9000,
      failover: 18000,
      'master-failover': 18000,
    });
    const cli = await h.cli('check-timings', '--watchdog-socket', '/nonexistent/mux.sock');
    expect(cli.stdout).toContain(`${(timing as { inequality: string }).inequality}\n`);
    expect(cli.stdout).toContain('worst failover after a node reset: 18s, 18s when it was the master');
    // a profile by name, as check-timings --profile
    expect(await apiData('timing?profile=default')).toMatchObject({ source: 'parameter', profile: 'default', 'time-scale': 1, failover: 122000 });
  });

  it('the directory indexes are the reference’s', async () => {
    expect(await apiData('status')).toEqual([{ name: 'current' }, { name: 'manager_status' }, { name: 'disarm-ha' }, { name: 'arm-ha' }]);
    expect((await apiData('')) as unknown[]).toContainEqual({ id: 'resources' });
  });
});

/** A change through the API, and the same change through ha-manager. */
const CHANGES: Array<[string, string, Record<string, unknown>, string[]]> = [
  ['POST', 'resources', { sid: 'vm:102', max_relocate: 0, comment: 'db', failback: false }, ['add', 'vm:102', '--max_relocate', '0', '--comment', 'db', '--failback', '0']],
  ['POST', 'resources', { sid: 'exec:db', node: 'node3', state: 'stopped' }, ['add', 'exec:db', '--node', 'node3', '--state', 'stopped']],
  ['PUT', 'resources/vm%3A100', { max_restart: 5, delete: 'comment' }, ['set', 'vm:100', '--max_restart', '5', '--delete', 'comment']],
  ['DELETE', 'resources/exec%3Aweb', {}, ['remove', 'exec:web']],
  ['POST', 'resources/vm%3A100/migrate', { node: 'node2' }, ['migrate', 'vm:100', 'node2']],
  ['POST', 'resources/vm%3A100/relocate', { node: 'node2' }, ['relocate', 'vm:100', 'node2']],
  ['POST', 'resources/vm%3A100/stop', { timeout: 30 }, ['crm-command', 'stop', 'vm:100', '30']],
  ['POST', 'rules', { type: 'node-affinity', rule: 'r3', resources: 'ct:101', nodes: 'node3' }, ['rules', 'add', 'node-affinity', 'r3', '--resources', 'ct:101', '--nodes', 'node3']],
  ['PUT', 'rules/r1', { type: 'node-affinity', strict: 0, comment: 'soft' }, ['rules', 'set', 'node-affinity', 'r1', '--strict', '0', '--comment', 'soft']],
  ['DELETE', 'rules/r2', {}, ['rules', 'remove', 'r2']],
  ['POST', 'status/disarm-ha', { 'resource-mode': 'freeze' }, ['crm-command', 'disarm-ha', 'freeze']],
  ['POST', 'status/arm-ha', {}, ['crm-command', 'arm-ha']],
  ['POST', 'status/node-maintenance', { node: 'node2', disable: 0 }, ['crm-command', 'node-maintenance', 'enable', 'node2']],
  ['PUT', 'timing', { profile: 'fast', 'time-scale': 2.5, epoch: 1000 }, ['timing', 'set', '--profile', 'fast', '--time-scale', '2.5', '--epoch', '1000']],
];

describe('changes through the API write what ha-manager writes', () => {
  it.each(CHANGES)('%s %s %j = ha-manager %j', async (method, path, body, args) => {
    await populate(h);
    const r = await h.request(method, `${HA}/${path}`, method === 'DELETE' ? {} : { body });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const viaApi = await h.files();

    const twin = await startApi();
    try {
      await populate(twin);
      const c = await twin.cli(...args);
      expect(c.code, c.stderr).toBe(0);
      const viaCli = await twin.files();
      // the files differ only in what the two stores name differently: nothing
      expect(viaApi).toEqual(viaCli);
    } finally {
      await twin.close();
    }
  });
});
