// The cluster store the real daemons share: a small file system with the
// semantics of the Proxmox cluster file system (pmxcfs) — atomic whole-file
// writes, cluster-wide locks with a lease, membership and quorum. Two
// implementations: a directory (pmxcfs's /etc/pve on a Proxmox node, or any
// directory on a single machine) and etcd (clusters outside Proxmox).
//
// Paths are relative and '/'-separated (`ha/manager_status`); see layout.ts.

import type { NodeName } from '../../core/types.js';
import type { ClusterMembership } from '../env.js';

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
  /** Releases the lock if `holder` has it; false otherwise. */
  unlock(name: string, holder: NodeName): Promise<boolean>;

  /** Every cluster member, online or not, and whether this partition is quorate. */
  membership(): Promise<ClusterMembership>;
  /** Announces `node` alive, for stores that derive membership from heartbeats. */
  heartbeat(node: NodeName): Promise<void>;
  /** Refreshes cached cluster state; false when it could not be brought up to date. */
  refresh(): Promise<boolean>;

  close(): Promise<void>;
}
