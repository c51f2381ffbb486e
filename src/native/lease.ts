// Lock lease timing on the monotonic clock, so the LRM stops feeding its
// watchdog while its lock lease is still safely ahead of expiry.
//
// A cluster lock is held for CLUSTER_LOCK_LIFETIME_MS after its last
// successful renewal; then another node may take it and recover this node's
// services. That is safe only if this node has been reset first, so the
// watchdog may be fed only while the lease has more time left than the
// longest delay from a feed to the reset (the fence window). Timestamps are
// CLOCK_MONOTONIC milliseconds (the clock of process.hrtime), shared by the
// addon and the TypeScript implementation, so leases from either mix freely.

import { loadNative, type Implementation } from './loader.js';

export interface Lease {
  readonly acquiredAtMs: number;
  /** When the last successful renewal was *requested* (see leaseAcquire). */
  readonly renewedAtMs: number;
  readonly lifetimeMs: number;
}

/** Lifetime the cluster filesystem grants a lock after each renewal. */
export const CLUSTER_LOCK_LIFETIME_MS = 120_000;

/** The parts of the fence window: from a feed by the daemon to the node's reset. */
export interface FenceWindow {
  /** watchdog-mux declares a silent client dead after this. */
  readonly clientTimeoutMs: number;
  /** ...and notices at its next tick. */
  readonly muxTickMs: number;
  /** Then the device resets the node after this. */
  readonly deviceTimeoutMs: number;
  /** Scheduling delays and clock differences between nodes. */
  readonly marginMs: number;
}

export const DEFAULT_FENCE_WINDOW: FenceWindow = {
  clientTimeoutMs: 60_000,
  muxTickMs: 1_000,
  deviceTimeoutMs: 10_000,
  marginMs: 5_000,
};

export function fenceWindowMs(window: FenceWindow = DEFAULT_FENCE_WINDOW): number {
  return window.clientTimeoutMs + window.muxTickMs + window.deviceTimeoutMs + window.marginMs;
}

const DEFAULT_WINDOW_MS = fenceWindowMs();

function native() {
  return loadNative().binding;
}

/** Which implementation the lease helpers use. */
export function leaseImplementation(): Implementation {
  return native() ? 'native' : 'typescript';
}

export function monotonicNowMs(): number {
  const addon = native();
  return addon ? addon.monotonicNowMs() : Number(process.hrtime.bigint()) / 1e6;
}

function checkMs(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
}

/**
 * A lease from a successful lock request. Take `requestedAtMs` *before*
 * sending the request: the cluster starts the lock's lifetime when it
 * processes the request, never earlier, so the lease computed here never
 * outlives the real one.
 */
export function leaseAcquire(lifetimeMs: number = CLUSTER_LOCK_LIFETIME_MS, requestedAtMs: number = monotonicNowMs()): Lease {
  const addon = native();
  if (addon) return addon.leaseAcquire(requestedAtMs, lifetimeMs);
  checkMs('requestedAtMs', requestedAtMs);
  checkMs('lifetimeMs', lifetimeMs);
  return { acquiredAtMs: requestedAtMs, renewedAtMs: requestedAtMs, lifetimeMs };
}

/** The lease after a successful renewal; a late answer to an older request never moves expiry back. */
export function leaseRenew(lease: Lease, requestedAtMs: number = monotonicNowMs()): Lease {
  const addon = native();
  if (addon) return addon.leaseRenew(lease, requestedAtMs);
  checkMs('requestedAtMs', requestedAtMs);
  return { ...lease, renewedAtMs: Math.max(lease.renewedAtMs, requestedAtMs) };
}

/** Milliseconds until the lease expires; negative once it has. */
export function leaseExpiresIn(lease: Lease, nowMs: number = monotonicNowMs()): number {
  const addon = native();
  if (addon) return addon.leaseExpiresInMs(lease, nowMs);
  checkMs('nowMs', nowMs);
  return lease.renewedAtMs + lease.lifetimeMs - nowMs;
}

/** The last moment (monotonic ms) at which feeding the watchdog is still safe. */
export function leaseFeedDeadline(lease: Lease, windowMs: number = DEFAULT_WINDOW_MS): number {
  const addon = native();
  if (addon) return addon.leaseFeedDeadlineMs(lease, windowMs);
  checkMs('fenceWindowMs', windowMs);
  return Math.max(0, lease.renewedAtMs + lease.lifetimeMs - windowMs);
}

/** Whether a watchdog fed now would reset this node before the lease could expire. */
export function safeToFeed(lease: Lease, nowMs: number = monotonicNowMs(), windowMs: number = DEFAULT_WINDOW_MS): boolean {
  const addon = native();
  if (addon) return addon.leaseSafeToFeed(lease, nowMs, windowMs);
  checkMs('nowMs', nowMs);
  return nowMs < leaseFeedDeadline(lease, windowMs);
}
