// Lease timing: the addon and TypeScript agree, share the clock of
// process.hrtime, and stop allowing feeds one fence window before expiry.

import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE } from '../../src/env/timing.js';
import {
  fenceWindowMs,
  leaseAcquire,
  leaseExpiresIn,
  leaseImplementation,
  leaseRenew,
  monotonicNowMs,
  nativeLeaseOps,
  safeToFeed,
  typescriptLeaseOps,
  type LeaseOps,
} from '../../src/native/lease.js';
import { loadNative } from '../../src/native/loader.js';
import { skipped } from '../prerequisites.js';
import { addonMissing } from './addon.js';

const binding = loadNative().binding;
const missing = addonMissing();
const implementations: [string, LeaseOps][] = [
  ...(binding ? [['native', nativeLeaseOps(binding)] as [string, LeaseOps]] : []),
  ['typescript', typescriptLeaseOps],
];

it('the default fence window is client timeout + tick + device timeout + margin, within the lock lifetime', () => {
  expect(fenceWindowMs(DEFAULT_PROFILE)).toBe(76_000);
  expect(fenceWindowMs({ ...DEFAULT_PROFILE, marginMs: 0 })).toBe(71_000);
  expect(fenceWindowMs(DEFAULT_PROFILE)).toBeLessThan(DEFAULT_PROFILE.lockLifetimeMs);
});

describe.each(implementations)('%s lease operations', (_, ops) => {
  it('read the clock of process.hrtime', () => {
    const before = Number(process.hrtime.bigint()) / 1e6;
    const now = ops.monotonicNowMs();
    const after = Number(process.hrtime.bigint()) / 1e6;
    expect(now).toBeGreaterThanOrEqual(before - 0.001);
    expect(now).toBeLessThanOrEqual(after + 0.001);
  });

  it('count expiry from the request time', () => {
    const lease = ops.acquire(1_000, 120_000);
    expect(lease).toEqual({ acquiredAtMs: 1_000, renewedAtMs: 1_000, lifetimeMs: 120_000 });
    expect(ops.expiresIn(lease, 101_000)).toBe(20_000);
    expect(ops.expiresIn(lease, 131_000)).toBe(-10_000);
  });

  it('renew forward only', () => {
    const lease = ops.renew(ops.acquire(1_000, 120_000), 50_000);
    expect(lease).toEqual({ acquiredAtMs: 1_000, renewedAtMs: 50_000, lifetimeMs: 120_000 });
    expect(ops.renew(lease, 40_000).renewedAtMs).toBe(50_000);
  });

  it('stop allowing feeds one fence window before expiry', () => {
    const lease = ops.acquire(0, 120_000);
    expect(ops.feedDeadline(lease, 76_000)).toBe(44_000);
    expect(ops.safeToFeed(lease, 43_999, 76_000)).toBe(true);
    expect(ops.safeToFeed(lease, 44_000, 76_000)).toBe(false);
    expect(ops.safeToFeed(ops.acquire(0, 60_000), 0, 76_000)).toBe(false);
  });

  it('refuse negative or non-finite times', () => {
    expect(() => ops.acquire(-1, 1000)).toThrow(/requestedAtMs must be a finite number >= 0, got -1/);
    expect(() => ops.expiresIn(ops.acquire(0, 1000), Number.NaN)).toThrow(/nowMs/);
  });
});

describe('native lease operations', () => {
  if (missing !== undefined || binding === undefined) return skipped(missing ?? 'no addon');
  const native = nativeLeaseOps(binding);

  it('are what the public helpers use', () => {
    expect(leaseImplementation()).toBe('native');
  });

  it('agree with TypeScript on a sweep of leases', () => {
    const ts = typescriptLeaseOps;
    for (let renewedAt = 0; renewedAt <= 200_000; renewedAt += 12_345) {
      for (const lifetime of [30_000, 60_000, 120_000]) {
        const lease = ts.renew(ts.acquire(0, lifetime), renewedAt);
        expect(native.renew(native.acquire(0, lifetime), renewedAt)).toEqual(lease);
        for (const now of [renewedAt, renewedAt + 43_210, renewedAt + lifetime, renewedAt + 150_000]) {
          expect(native.expiresIn(lease, now)).toBe(ts.expiresIn(lease, now));
          expect(native.safeToFeed(lease, now, 76_000)).toBe(ts.safeToFeed(lease, now, 76_000));
        }
        expect(native.feedDeadline(lease, 76_000)).toBe(ts.feedDeadline(lease, 76_000));
      }
    }
  });
});

it('a lease taken now is safe to feed at first and expires after its lifetime', () => {
  const lease = leaseAcquire();
  expect(safeToFeed(lease)).toBe(true);
  expect(leaseExpiresIn(lease)).toBeGreaterThan(DEFAULT_PROFILE.lockLifetimeMs - 1_000);
  expect(leaseExpiresIn(lease, lease.renewedAtMs + DEFAULT_PROFILE.lockLifetimeMs + 1)).toBeLessThan(0);
  expect(leaseRenew(lease).renewedAtMs).toBeGreaterThanOrEqual(lease.renewedAtMs);
  expect(monotonicNowMs()).toBeGreaterThanOrEqual(lease.acquiredAtMs);
});
