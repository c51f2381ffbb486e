// A cluster store that cannot be reached is reported as such, with exit
// status 3 (try again), not as a lost quorum.

import { describe, expect, it } from 'vitest';

import { GUEST_RESOURCE_TYPES } from '../../src/admin/context.js';
import type { CliContext } from '../../src/cli/ha-manager/context.js';
import { runHaManager } from '../../src/cli/ha-manager/program.js';
import { createEtcdStore } from '../../src/env/node/etcd-store.js';

describe('an unreachable etcd', () => {
  it('is said to be unreachable when a change is asked for', async () => {
    // Nothing listens on port 1 of the loopback address.
    const store = createEtcdStore({ endpoints: ['http://127.0.0.1:1'], timeoutMs: 500 });
    let stderr = '';
    const ctx: CliContext = {
      store,
      nodename: 'node1',
      now: () => 0,
      resourceTypes: GUEST_RESOURCE_TYPES,
      terminal: { utf8: false },
      stdout: () => undefined,
      stderr: (text) => {
        stderr += text;
      },
    };
    try {
      for (const args of [['add', 'vm:100'], ['set', 'vm:100', '--state', 'stopped'], ['rules', 'remove', 'r1'], ['crm-command', 'arm-ha']]) {
        stderr = '';
        expect(await runHaManager(args, ctx)).toBe(3);
        expect(stderr).toBe(`cannot reach the cluster store (${store.description})\n`);
      }
    } finally {
      await store.close();
    }
  });
});
