// The etcd store's member failover (etcd-endpoints.ts), without an etcd:
// the attempts' bodies below never use their connection, so only the
// call's own bookkeeping — which attempt is current, when the call ends —
// is under test.

import { describe, expect, it } from 'vitest';
import { createEtcdEndpoints } from '../../src/env/node/etcd-endpoints.js';

// Nothing listens there, and nothing is sent: the bodies do not touch the members.
const ENDPOINTS = ['http://127.0.0.1:9', 'http://127.0.0.1:10'];

describe('etcd endpoints: one call, several attempts', () => {
  it('tells an attempt that was cut short, and answers after another won, that it is no longer current', async () => {
    const cluster = createEtcdEndpoints({ endpoints: ENDPOINTS, prefix: '/t/', timeoutMs: 5_000, attemptTimeoutMs: 50 });
    let releaseSlow = (): void => undefined;
    const slowMayFinish = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const seen: string[] = [];
    let attempts = 0;
    let slowDone: Promise<void> | undefined;
    try {
      const result = await cluster.call('lock test', async ({ current }) => {
        attempts++;
        if (attempts === 1) {
          // A member that answers only after the call moved on.
          slowDone = slowMayFinish.then(() => {
            seen.push(`slow attempt current: ${current()}`);
          });
          await slowDone;
          return 'slow';
        }
        seen.push(`fast attempt current: ${current()}`);
        return 'fast';
      });
      expect(result).toBe('fast');
      releaseSlow();
      await slowDone;
      expect(seen).toEqual(['fast attempt current: true', 'slow attempt current: false']);
    } finally {
      cluster.close();
    }
  });

  it('tells an attempt still running when the call failed that it is no longer current', async () => {
    const cluster = createEtcdEndpoints({ endpoints: ENDPOINTS.slice(0, 1), prefix: '/t/', timeoutMs: 100, attemptTimeoutMs: 100 });
    let check: (() => boolean) | undefined;
    try {
      await expect(
        cluster.call('lock test', ({ current }) => {
          check = current;
          return new Promise<never>(() => undefined);
        }),
      ).rejects.toThrow(/lock test failed - no answer within/);
      expect(check?.()).toBe(false);
    } finally {
      cluster.close();
    }
  });

  it("ends a call at the operation's deadline when that comes before the call's own budget", async () => {
    const cluster = createEtcdEndpoints({ endpoints: ENDPOINTS, prefix: '/t/', timeoutMs: 60_000, attemptTimeoutMs: 20 });
    try {
      await expect(cluster.call('rename test', () => new Promise<never>(() => undefined), { deadline: Date.now() + 150 })).rejects.toThrow(
        /rename test failed - no answer within 1[0-5]\d ms/,
      );
      await expect(cluster.call('rename test', async () => 'never run', { deadline: Date.now() - 1 })).rejects.toThrow(/no time left/);
    } finally {
      cluster.close();
    }
  });
});
