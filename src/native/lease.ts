// Lock lease timing on the monotonic clock, so the LRM stops feeding its
// watchdog while its lock lease is still safely ahead of expiry.
//
// A cluster lock is held for the timing profile's lock lifetime after its last
// successful renewal; then another node may take it and recover this node's
// services. That is safe only if this node has been reset first, so the
// watchdog may be fed only while the lease has more time left than the
// longest delay from a feed to the reset (the fence window). Timestamps are
// CLOCK_MONOTONIC milliseconds (the clock of process.hrtime), shared by the
// addon and the TypeScript implementation, so leases from either mix freely.

import { fenceWindowMs, type FenceWindow } from '../config/timing-profiles.js';
import { DEFAULT_PROFILE } from '../env/timing.js';
import type { NativeBinding } from './binding.js';
import { loadNative, type Implementation } from './loader.js';

export { fenceWindowMs, type FenceWindow };

export interface Lease {
  readonly acquiredAtMs: number;
  /** When the last successful renewal was *requested* (see leaseAcquire). */
  readonly renewedAtMs: number;
  readonly lifetimeMs: number;
}

/** The `default` profile's fence window, the default of the helpers below. */
const DEFAULT_WINDOW_MS = fenceWindowMs(DEFAULT_PROFILE);

/** The lease operations; the addon's and the TypeScript ones give the same answers. */
export interface LeaseOps {
  readonly implementation: Implementation;
  monotonicNowMs(): number;
  acquire(requestedAtMs: number, lifetimeMs: number): Lease;
  renew(lease: Lease, requestedAtMs: number): Lease;
  expiresIn(lease: Lease, nowMs: number): number;
  feedDeadline(lease: Lease, windowMs: number): number;
  safeToFeed(lease: Lease, nowMs: number, windowMs: number): boolean;
}

function checkMs(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
}

function checkLease(lease: Lease): void {
  checkMs('lease.acquiredAtMs', lease.acquiredAtMs);
  checkMs('lease.renewedAtMs', lease.renewedAtMs);
  checkMs('lease.lifetimeMs', lease.lifetimeMs);
}

export const typescriptLeaseOps: LeaseOps = {
  implementation: 'typescript',
  monotonicNowMs: () => Number(process.hrtime.bigint()) / 1e6,
  acquire(requestedAtMs, lifetimeMs) {
    checkMs('requestedAtMs', requestedAtMs);
    checkMs('lifetimeMs', lifetimeMs);
    return { acquiredAtMs: requestedAtMs, renewedAtMs: requestedAtMs, lifetimeMs };
  },
  renew(lease, requestedAtMs) {
    checkLease(lease);
    checkMs('requestedAtMs', requestedAtMs);
    return { ...lease, renewedAtMs: Math.max(lease.renewedAtMs, requestedAtMs) };
  },
  expiresIn(lease, nowMs) {
    checkLease(lease);
    checkMs('nowMs', nowMs);
    return lease.renewedAtMs + lease.lifetimeMs - nowMs;
  },
  feedDeadline(lease, windowMs) {
    checkLease(lease);
    checkMs('fenceWindowMs', windowMs);
    return Math.max(0, lease.renewedAtMs + lease.lifetimeMs - windowMs);
  },
  safeToFeed(lease, nowMs, windowMs) {
    checkMs('nowMs', nowMs);
    return nowMs < typescriptLeaseOps.feedDeadline(lease, windowMs);
  },
};

export function nativeLeaseOps(binding: NativeBinding): LeaseOps {
  return {
    implementation: 'native',
    monotonicNowMs: () => binding.monotonicNowMs(),
    acquire: (requestedAtMs, lifetimeMs) => binding.leaseAcquire(requestedAtMs, lifetimeMs),
    renew: (lease, requestedAtMs) => binding.leaseRenew(lease, requestedAtMs),
    expiresIn: (lease, nowMs) => binding.leaseExpiresInMs(lease, nowMs),
    feedDeadline: (lease, windowMs) => binding.leaseFeedDeadlineMs(lease, windowMs),
    safeToFeed: (lease, nowMs, windowMs) => binding.leaseSafeToFeed(lease, nowMs, windowMs),
  };
}

let cachedOps: LeaseOps | undefined;

function ops(): LeaseOps {
  if (cachedOps === undefined) {
    const binding = loadNative().binding;
    cachedOps = binding ? nativeLeaseOps(binding) : typescriptLeaseOps;
  }
  return cachedOps;
}

/** Which implementation the lease helpers below use. */
export function leaseImplementation(): Implementation {
  return ops().implementation;
}

export function monotonicNowMs(): number {
  return ops().monotonicNowMs();
}

/**
 * A lease from a successful lock request. Take `requestedAtMs` *before*
 * sending the request: the cluster starts the lock's lifetime when it
 * processes the request, never earlier, so the lease computed here never
 * outlives the real one.
 */
export function leaseAcquire(lifetimeMs: number = DEFAULT_PROFILE.lockLifetimeMs, requestedAtMs: number = monotonicNowMs()): Lease {
  return ops().acquire(requestedAtMs, lifetimeMs);
}

/** The lease after a successful renewal; a late answer to an older request never moves expiry back. */
export function leaseRenew(lease: Lease, requestedAtMs: number = monotonicNowMs()): Lease {
  return ops().renew(lease, requestedAtMs);
}

/** Milliseconds until the lease expires; negative once it has. */
export function leaseExpiresIn(lease: Lease, nowMs: number = monotonicNowMs()): number {
  return ops().expiresIn(lease, nowMs);
}

/** The last moment (monotonic ms) at which feeding the watchdog is still safe. */
export function leaseFeedDeadline(lease: Lease, windowMs: number = DEFAULT_WINDOW_MS): number {
  return ops().feedDeadline(lease, windowMs);
}

/** Whether a watchdog fed now would reset this node before the lease could expire. */
export function safeToFeed(lease: Lease, nowMs: number = monotonicNowMs(), windowMs: number = DEFAULT_WINDOW_MS): boolean {
  return ops().safeToFeed(lease, nowMs, windowMs);
}
