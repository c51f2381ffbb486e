// The daemons as processes at a scale where the old worker scheduling
// starved services (it never started more than ~76 per node): 3 nodes'
// ha-crm and ha-lrm from bin/ at real time over a directory store, 100 exec
// services per node with ~10 ms scripts, max_workers 4. Every service must
// run within a generous bound, counted from the services' own marker files.
// Speed is measured in bench/daemons-scale.bench.mjs, not here.

import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

// @ts-expect-error -- a plain JavaScript module shared with the benchmarks
import { startCluster, waitFor } from '../../bench/lib/daemon-cluster.mjs';
import { REPO_ROOT } from '../simulator/scenario-dirs.js';

const BUILT = existsSync(join(REPO_ROOT, 'dist/cli/daemon-main.js'));
const PER_NODE = 100;
/** Seconds from the daemons' start until every service must run; ~15 s on an idle machine. */
const BOUND_SECONDS = 90;

interface Cluster {
  total: number;
  startedAt: number;
  running(): number;
  stop(): Promise<void>;
}

describe('daemon processes at scale', () => {
  if (!BUILT) {
    it.skip('skipped: dist/ is not built (run `npm run build`)', () => undefined);
    return;
  }
  it(`start all of ${3 * PER_NODE} services on 3 nodes within ${BOUND_SECONDS} s`, async () => {
    const cluster = (await startCluster({ store: 'dir', servicesPerNode: PER_NODE })) as Cluster;
    try {
      const all = await waitFor(() => cluster.running() === cluster.total, BOUND_SECONDS * 1000);
      const seconds = ((performance.now() - cluster.startedAt) / 1000).toFixed(1);
      expect(all, `${cluster.running()} of ${cluster.total} services running after ${seconds} s`).toBe(true);
    } finally {
      await cluster.stop();
    }
  }, (BOUND_SECONDS + 60) * 1000);
});
