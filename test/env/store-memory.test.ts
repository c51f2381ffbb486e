// The in-memory store against the shared contract; its membership is set by
// its owner rather than derived from heartbeats.

import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/env/node/memory-store.js';
import { DEFAULT_PROFILE } from '../../src/env/timing.js';
import { storeContract } from './store-contract.js';

storeContract('memory', { heartbeats: false, quorumFromHeartbeats: false }, async () => {
  let now = 1_000_000;
  const store = createMemoryStore({ clock: () => now });
  return {
    store,
    ageLocks: async () => void (now += DEFAULT_PROFILE.lockLifetimeMs * 0.75),
    expireLocks: async () => void (now += DEFAULT_PROFILE.lockLifetimeMs + 1_000),
    cleanup: () => store.close(),
  };
});

describe('memory store membership', () => {
  it('reports the nodes it was given as online and quorate, then what its owner sets', async () => {
    const store = createMemoryStore({ nodes: ['a', 'b'] });
    expect(await store.membership()).toEqual({ nodes: { a: { online: true }, b: { online: true } }, quorate: true });
    store.setMembership({ nodes: { a: { online: true }, b: { online: false } }, quorate: false });
    await store.heartbeat('b'); // no effect: membership is the owner's
    expect(await store.membership()).toEqual({ nodes: { a: { online: true }, b: { online: false } }, quorate: false });
  });
});
