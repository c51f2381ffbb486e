// ha-api on a cluster that runs on a scaled clock: it reads the clock from
// the store's ha/timing.cfg, as the daemons and ha-manager do, so it sees
// the master and every LRM active and every node online. On real time the
// same timestamps would be seconds ahead of it ("detected time drift!") and
// the heartbeats judged on the wrong clock. Clock flags that disagree with
// the store are refused, as the daemons refuse them.

import { execFile } from 'node:child_process';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { StatusEntry } from '../../src/admin/status.js';
import { skipped } from '../prerequisites.js';
import { REPO_ROOT } from '../simulator/scenario-dirs.js';
import { BUILT, startCluster, until, type Cluster } from './cluster.js';

const NODES = ['node1', 'node2', 'node3'];

describe('ha-api on a scaled cluster', () => {
  if (!BUILT) return skipped('dist/ is not built (npm run build)');

  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: NODES, services: ['web'] });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const call = async (method: string, path: string, body?: Record<string, string>): Promise<unknown> => {
    const response = await fetch(`${cluster.url}/api2/json/cluster/ha/${path}`, {
      method,
      headers: { authorization: `PVEAPIToken=${cluster.adminToken}=${cluster.adminSecret}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const result = (await response.json()) as { data: unknown; message?: string };
    expect(response.status, result.message).toBe(200);
    return result.data;
  };
  const get = (path: string): Promise<unknown> => call('GET', path);

  it("judges the daemons' timestamps and heartbeats on the cluster's clock from ha/timing.cfg", async () => {
    expect(cluster.logs()).toMatch(/ha-api: listening on http:\/\/\S+, cluster store directory \S+, timing profile 'default' at time-scale 20/);
    let entries: StatusEntry[] = [];
    // writes need quorum, which the directory store derives from heartbeats
    // that a loaded machine may deliver late at time-scale 20
    await until(
      'the cluster to be quorate',
      async () => {
        entries = (await get('status/current')) as StatusEntry[];
        return entries.find((entry) => entry.type === 'quorum')?.quorate === 1;
      },
      40_000,
      () => `${JSON.stringify(entries, null, 1)}\n${cluster.logs()}`,
    );
    // a master is elected once there is something to manage
    await call('POST', 'resources', { sid: 'exec:web', node: 'node1' });
    await until(
      'the master and every LRM to be shown active',
      async () => {
        entries = (await get('status/current')) as StatusEntry[];
        const master = entries.find((entry) => entry.type === 'master');
        const lrms = entries.filter((entry) => entry.type === 'lrm');
        return master?.state === 'active' && lrms.length === NODES.length;
      },
      40_000,
      () => `${JSON.stringify(entries, null, 1)}\n${cluster.logs()}`,
    );
    for (const entry of entries) {
      expect(entry.state ?? '', entry.status).not.toMatch(/time drift|old timestamp/);
    }
    expect(entries.find((entry) => entry.type === 'quorum')).toMatchObject({ quorate: 1, status: 'OK' });
    expect(await get('status/nodes')).toEqual(NODES.map((node) => ({ node, online: 1 })));
  }, 60_000);

  it('refuses clock flags that disagree with the store, as the daemons do', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(REPO_ROOT, 'bin', 'ha-api'), '--store', `dir:${cluster.store}`, '--listen', '127.0.0.1:0', '--token-file', join(cluster.base, 'tokens'), '--time-scale', '10', '--epoch', '1'],
        { timeout: 20_000 },
        (err, _stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^ha-api: cannot use the cluster's timing: the clock flags \(time-scale 10, epoch 1\) disagree with the cluster's ha\/timing\.cfg \(time-scale 20, epoch \d+\)/,
    );
  });
});
