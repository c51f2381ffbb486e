// The README's one-machine cluster, driven with the CLI: three nodes' real
// ha-crm and ha-lrm on a directory store at time-scale 20 (so heartbeats and
// timestamps are on a clock 20 times faster than real time). The daemons
// record that clock in ha/timing.cfg, and ha-manager reads it: it sees the
// quorum, `add` works, and the service reaches `started`.

import { chmodSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { BUILT, createCluster, until, type Cluster } from '../env/cluster-processes.js';

const NODES = ['node1', 'node2', 'node3'];
let cluster: Cluster | undefined;

afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

describe("the README's scaled one-machine cluster", () => {
  if (!BUILT) {
    it.skip('skipped: dist/ is not built (run `npm run build`)', () => undefined);
    return;
  }
  it('is managed with ha-manager: quorum, add, started', async () => {
    const c = (cluster = createCluster(NODES));
    const running = join(c.base, 'web.running');
    writeFileSync(
      join(c.scripts, 'web'),
      `#!/bin/sh\ncase "$1" in start) echo "$HA_MANAGER_NODE" > "${running}";; stop|kill) rm -f "${running}";; status) [ -e "${running}" ] || exit 3;; *) exit 2;; esac\n`,
    );
    chmodSync(join(c.scripts, 'web'), 0o755);

    const epoch = Date.now();
    for (const node of NODES) {
      for (const kind of ['crm', 'lrm'] as const) c.start(kind, node, ['--no-watchdog', '--time-scale', '20', '--epoch', String(epoch)]);
    }
    await until('the daemons to record the cluster clock', () => existsSync(join(c.store, 'ha/timing.cfg')), 20_000, c.logs);
    expect(readFileSync(join(c.store, 'ha/timing.cfg'), 'utf8')).toBe(`profile: default\ntime-scale: 20\nepoch: ${epoch}\n`);

    let status = '';
    await until(
      'ha-manager status to show the quorum',
      async () => {
        status = (await c.cli('status')).stdout;
        return status.startsWith('quorum OK\n');
      },
      20_000,
      () => `${status}\n${c.logs()}`,
    );

    const added = await c.cli('add', 'exec:web', '--node', 'node1');
    expect(added).toEqual({ code: 0, stdout: '', stderr: '' });

    await until(
      'exec:web to be started',
      async () => {
        status = (await c.cli('status')).stdout;
        return status.includes('service exec:web (node1, started)') && existsSync(running);
      },
      30_000,
      () => `${status}\n${c.logs()}`,
    );
    expect(readFileSync(running, 'utf8')).toBe('node1\n');
    // the master's line is judged on the cluster's clock too: an active master, not a dead one
    expect(status).toMatch(/^master node\d \(active, /m);
    expect(status).toMatch(/^lrm node1 \(active, /m);
  }, 90_000);
});
