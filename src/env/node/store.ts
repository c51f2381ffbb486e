// The cluster store the real daemons share: a small file system with the
// semantics of the Proxmox cluster file system (pmxcfs) — atomic whole-file
// writes, cluster-wide locks with a lease, membership and quorum. Two
// implementations: a directory (pmxcfs's /etc/pve on a Proxmox node, or any
// directory on a single machine) and etcd (clusters outside Proxmox).
//
// Paths are relative and '/'-separated (`ha/manager_status`); see layout.ts.

import type { NodeName } from '../../core/types.js';

/** A member as the store sees it. */
export interface StoreMember {
  online: boolean;
  /**
   * Wall-clock milliseconds (the store's clock: the cluster's, as the
   * heartbeats are stamped) of the latest heartbeat the store keeps from
   * the node, online or not; undefined where it keeps none (pmxcfs).
   */
  lastHeartbeatMs?: number;
}

/** Every cluster member, online or not, and whether this partition is quorate. */
export interface StoreMembership {
  nodes: Readonly<Record<NodeName, StoreMember>>;
  quorate: boolean;
}

/**
 * A change made only while `holder` still holds `lock` — with the same
 * grant it got when it took the lock, where the store can tell grants apart
 * (etcd's fencing token). A deposed lock holder, one paused past its lease
 * for instance, thereby cannot overwrite what the new holder wrote.
 */
export interface StoreFence {
  lock: string;
  holder: NodeName;
}

export interface WriteOptions {
  /** Only while this lock is held; otherwise the call rejects with a LockLostError and changes nothing. */
  fence?: StoreFence;
}

/** A fenced change refused: the writer no longer holds its lock. The message starts with `lock lost:`. */
export class LockLostError extends Error {
  constructor(
    readonly fence: StoreFence,
    what: string,
    why: string,
  ) {
    super(`lock lost: '${fence.holder}' no longer holds '${fence.lock}' (${why}); ${what} refused`);
    this.name = 'LockLostError';
  }
}

/**
 * Longest wait for a lock domain (withDomainLock) by default. Longer than an
 * update's 10 s: administrators queue behind each other, and a hundred
 * changes made at once must all get their turn.
 */
export const DOMAIN_LOCK_TIMEOUT_MS = 60_000;

/** How messages name a lock domain: `the HA config lock` for `ha`. */
export function domainLockTitle(domain: string): string {
  return domain === 'ha' ? 'the HA config lock' : `lock domain '${domain}'`;
}

/** Who holds (or waits for) a lock domain: told to whoever times out waiting for it. */
export interface LockHolder {
  node: NodeName;
  pid: number;
  /** What the holder is doing, e.g. `ha-manager add vm:100`. */
  command: string;
}

/** A holder as seen by a waiter: since when it has held the lock, when the store can tell. */
export interface LockHolderSeen extends Partial<LockHolder> {
  /** Milliseconds since the epoch. */
  since?: number;
}

/** Gave up waiting for a lock domain: says who holds it, never where the store keeps it. */
export class LockTimeoutError extends Error {
  readonly holder: LockHolderSeen | undefined;

  constructor(what: string, timeoutMs: number, holder: LockHolderSeen | undefined, waiting = 0) {
    super(`cannot get ${what} within ${Number((timeoutMs / 1000).toFixed(1))} s: ${describeHolder(holder)}${waiting > 0 ? `; ${waiting} more waiting` : ''}`);
    this.name = 'LockTimeoutError';
    this.holder = holder;
  }
}

/** `held by node1 (pid 4711: ha-manager add vm:100) for 3 s`, as far as it is known. */
export function describeHolder(holder: LockHolderSeen | undefined, now = Date.now()): string {
  if (holder === undefined || (holder.node === undefined && holder.pid === undefined)) {
    return 'held by another process (the store does not say which)';
  }
  const who = holder.node ?? 'another node';
  const detail = [holder.pid === undefined ? undefined : `pid ${holder.pid}`, holder.command].filter((part) => part !== undefined && part !== '');
  const since = holder.since === undefined ? '' : ` for ${Math.max(0, Math.round((now - holder.since) / 1000))} s`;
  return `held by ${who}${detail.length > 0 ? ` (${detail.join(': ')})` : ''}${since}`;
}

/**
 * The files of a lock domain while it is held (withDomainLock). Only paths
 * below the domain's directory (`ha/` for the `ha` domain).
 */
export interface DomainFiles {
  read(path: string): Promise<string | undefined>;
  write(path: string, data: string): Promise<void>;
  /** False when the file did not exist. */
  remove(path: string): Promise<boolean>;
}

export interface DomainLockOptions {
  /** Give up waiting after this many milliseconds (default DOMAIN_LOCK_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * What a lock call came to. `renewed`: the holder's hold goes on unbroken
 * (the same grant, the same fencing token). `granted`: a new grant — the
 * lock was free, or taken over after its lease ran out, including this
 * holder's own lease: a holder that renews and gets `granted` lost the lock
 * in between (another node may have held it meanwhile), and must act as if
 * its lease had lapsed, never as if it had held the lock throughout.
 * `refused`: someone else holds it. `unknown`: the store could not tell (no
 * answer in time, a member down, a guard not granted): nothing is known of
 * the lock, so a holder counts its lease from its last renewal, as if this
 * attempt had never been made, and nobody else may count it as free.
 */
export type LockOutcome = 'renewed' | 'granted' | 'refused' | 'unknown';

/** Whether the outcome gives the lock to the caller: never without certainty. */
export function lockGranted(outcome: LockOutcome): boolean {
  return outcome === 'renewed' || outcome === 'granted';
}

export interface ClusterStore {
  /** For logs and errors, e.g. `directory /etc/pve` or `etcd http://127.0.0.1:2379 (prefix /ha)`. */
  readonly description: string;

  /** The file's content, or undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  // The changes below take an optional fence (see StoreFence). pmxcfs
  // cannot condition a write on a lock, so a store in pmxcfs mode ignores
  // it, as the reference does; every other store enforces it.

  /** Replaces the file atomically: readers see the old or the new content, never a mix. */
  write(path: string, data: string, options?: WriteOptions): Promise<void>;
  /** Removes the file; false when it did not exist. */
  remove(path: string, options?: WriteOptions): Promise<boolean>;
  /** Names of the entries directly below a directory path (files and subdirectories), sorted; [] when it does not exist. */
  list(dir: string): Promise<string[]>;
  /**
   * Moves a file atomically (the master moving a fenced node's guest config
   * to the recovery node). Fails when `from` is missing or `to` exists.
   */
  rename(from: string, to: string, options?: WriteOptions): Promise<void>;
  /**
   * Read-modify-write of one file, serialised cluster-wide against every
   * other update of the same file (the CLI appending to crm_commands while
   * the master takes them, two admins editing resources.cfg). `change`
   * returns the new content, or undefined to remove the file; the result is
   * what was written. `change` may run more than once (a store that retries
   * on a concurrent write, as etcd's does): keep it free of other effects
   * than remembering its input, and the last call's input is what was
   * replaced.
   */
  update(
    path: string,
    change: (current: string | undefined) => string | undefined,
    options?: WriteOptions,
  ): Promise<string | undefined>;

  /**
   * Takes the named lock for `holder`, or renews it when `holder` has it. A
   * lock not renewed for the lock lifetime (the cluster's timing profile;
   * pmxcfs fixes it at 120 s) expires and can be taken by anyone. False
   * when someone else holds it, or the store cannot tell (never true
   * without certainty: the fencing guarantee rests on it).
   */
  lock(name: string, holder: NodeName): Promise<boolean>;
  /**
   * `lock`, telling a renewal of an unbroken hold from a new grant (see
   * LockOutcome). `lock(...)` is `lockGranted(await acquireLock(...))`.
   */
  acquireLock(name: string, holder: NodeName): Promise<LockOutcome>;
  /** Releases the lock if `holder` has it; false otherwise. */
  unlock(name: string, holder: NodeName): Promise<boolean>;

  /**
   * Runs `body` holding the named lock domain, as the reference's
   * cfs_lock_domain: every read-check-write of the files below `<domain>/`
   * made through `files` is one step for every other holder of the domain
   * and every `update` of a file there. Waiters are served in the order
   * they came (pmxcfs: as pmxcfs serves them); past the timeout it fails
   * with a LockTimeoutError naming the holder. `body` may run more than
   * once (etcd re-runs it when a file it read was changed by an `update`
   * meanwhile): keep it free of other effects than its writes through
   * `files`.
   */
  withDomainLock<T>(domain: string, holder: LockHolder, body: (files: DomainFiles) => Promise<T>, options?: DomainLockOptions): Promise<T>;

  /** Every cluster member, online or not, and whether this partition is quorate. */
  membership(): Promise<StoreMembership>;
  /** Announces `node` alive, for stores that derive membership from heartbeats. */
  heartbeat(node: NodeName): Promise<void>;
  /** Refreshes cached cluster state; false when it could not be brought up to date. */
  refresh(): Promise<boolean>;

  close(): Promise<void>;
}
