// What the directory store does when its root is a mounted Proxmox cluster
// file system (pmxcfs, /etc/pve): the same file-system calls the reference's
// production environment and PVE::Cluster make, so the daemons interoperate
// with a stock Proxmox VE cluster.
//
// pmxcfs gives its lock directories below priv/lock/ their semantics: mkdir
// takes a lock (atomic cluster-wide); setting the mtime to the current time
// renews it, allowed only for the node that wrote it last; setting atime and
// mtime to 0 is an "unlock request" that deletes the lock when pmxcfs has
// seen it unchanged for 120 s (each node times locks with its own clock from
// when it first saw them, not with the stored mtime); rmdir releases it.
// Quorum: pmxcfs makes its tree, and the `local` symlink, read-only without
// quorum, and PVE::Cluster reads quorum from the owner-write bit of `local`.
// `.members` is the member list pmxcfs serves (the same data PVE::Cluster
// gets over IPC): nodelist with online flags, and `nodename`, the local node.

import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeName } from '../../core/types.js';
import { DEFAULT_PROFILE } from '../timing.js';
import { errnoCode } from './store-files.js';
import { lockGranted, type LockOutcome, type StoreMembership } from './store.js';
import { filePath, holderName, lockName } from './store-paths.js';

export const CFS_LOCK_DIR = 'priv/lock';

/**
 * pmxcfs's fixed lock lifetime, which is the `default` timing profile's:
 * that is why a pmxcfs cluster can run no other profile.
 */
const LOCK_LIFETIME_SECONDS = DEFAULT_PROFILE.lockLifetimeMs / 1000;

/**
 * The few calls the lock algorithms make on pmxcfs. Tests substitute a fake
 * that behaves like pmxcfs (writer checks, unlock requests) on a plain
 * directory, since pmxcfs cannot be mounted there.
 */
export interface CfsLockFs {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  /** Seconds, as utime(2) takes them. */
  utimes(path: string, atime: number, mtime: number): Promise<void>;
  isDirectory(path: string): Promise<boolean>;
}

export const nodeCfsLockFs: CfsLockFs = {
  async mkdir(path) {
    await fs.mkdir(path);
  },
  rmdir: (path) => fs.rmdir(path),
  utimes: (path, atime, mtime) => fs.utimes(path, atime, mtime),
  isDirectory: (path) => fs.stat(path).then((stat) => stat.isDirectory(), () => false),
};

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * When this process last held each lock, per store root, lock and holder —
 * the reference keeps this per process. Within the lifetime of the last
 * success a lock is renewed (only its writer may); after it, taken anew.
 * The holder is part of the key so that two holders in one process (which
 * pmxcfs cannot tell apart: both write as this node) never renew each
 * other's lock.
 */
const lastLockStatus = new Map<string, { lockTimeSec: number; gotLock: boolean }>();

export interface CfsLocks {
  lock(name: string, holder: NodeName): Promise<boolean>;
  /** A renewal (pmxcfs let us touch our own lock) is `renewed`; a lock made anew is `granted`. */
  acquireLock(name: string, holder: NodeName): Promise<LockOutcome>;
  unlock(name: string, holder: NodeName): Promise<boolean>;
}

export function createCfsLocks(root: string, clock: () => number, cfs: CfsLockFs): CfsLocks {
  const lockDir = join(root, CFS_LOCK_DIR);
  const key = (name: string, holder: NodeName): string => `${root}\0${name}\0${holder}`;

  const acquireLock = async (name: string, holder: NodeName): Promise<LockOutcome> => {
      const path = join(lockDir, lockName(name));
      const id = key(name, holderName(holder));
      const last = lastLockStatus.get(id) ?? { lockTimeSec: 0, gotLock: false };
      const now = Math.floor(clock() / 1000);
      let got = false;
      let renewed = false;
      try {
        await cfs.mkdir(lockDir).catch(() => undefined);
        if (!(await cfs.isDirectory(lockDir))) throw new Error(`can't create '${lockDir}' (pmxcfs not mounted?)`);
        if (now - last.lockTimeSec < LOCK_LIFETIME_SECONDS) {
          // Held within the lifetime: renew. pmxcfs refuses it if another
          // node wrote the lock since; then the lock is lost, and not
          // retaken until the lifetime since our last success has passed.
          await cfs.utimes(path, 0, now);
          got = true;
          renewed = true;
        } else {
          try {
            await cfs.mkdir(path);
            got = true;
          } catch {
            // Ask pmxcfs to drop the lock if it is older than its lifetime.
            await cfs.utimes(path, 0, 0).catch(() => undefined);
          }
        }
      } catch {
        got = false;
      }
      lastLockStatus.set(id, { lockTimeSec: got ? now : last.lockTimeSec, gotLock: got });
      return !got ? 'refused' : renewed ? 'renewed' : 'granted';
  };

  return {
    acquireLock,
    async lock(name, holder) {
      return lockGranted(await acquireLock(name, holder));
    },

    async unlock(name, holder) {
      const path = join(lockDir, lockName(name));
      const id = key(name, holderName(holder));
      const last = lastLockStatus.get(id);
      lastLockStatus.delete(id);
      // Only a lock this process holds within its lifetime is ours to
      // remove: past that, another node may have taken it over.
      const now = Math.floor(clock() / 1000);
      if (last === undefined || !last.gotLock || now - last.lockTimeSec >= LOCK_LIFETIME_SECONDS) return false;
      try {
        await cfs.rmdir(path);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * The lock PVE serialises a file's read-modify-write with: the HA files
 * share the `ha` domain lock (PVE::HA::Config's lock_ha_domain, taken by the
 * stock ha-manager too), any other file the per-file lock of cfs_lock_file.
 */
export function cfsLockIdFor(path: string): string {
  const normal = filePath(path);
  if (normal.startsWith('ha/')) return 'domain-ha';
  return `file-${normal.replace(/[./]/g, '_')}`;
}

export interface CfsLockOptions {
  /** Milliseconds to wait for the lock (cfs_lock's default is 10 s). */
  timeoutMs: number;
  /** Pause between attempts. */
  retryMs: number;
  quorate: () => Promise<boolean>;
  /** The error to fail with when the wait times out (default: cfs_lock's message). */
  timeoutError?: () => Promise<Error>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `body` holding a pmxcfs lock, as cfs_lock does: mkdir until it
 * succeeds, with an unlock request after every failed attempt (so a lock
 * left by a dead holder goes after its lifetime), rmdir afterwards.
 */
export async function withCfsLock<T>(
  root: string,
  lockId: string,
  cfs: CfsLockFs,
  options: CfsLockOptions,
  body: () => Promise<T>,
): Promise<T> {
  const lockDir = join(root, CFS_LOCK_DIR);
  const path = join(lockDir, lockId);
  const fail = async (why: string): Promise<never> => {
    const reason = (await options.quorate().catch(() => false)) ? why : 'no quorum!';
    throw new Error(`cfs-lock '${lockId}' error: ${reason}`);
  };
  await cfs.mkdir(lockDir).catch(() => undefined);
  if (!(await cfs.isDirectory(lockDir))) await fail(`pve cluster filesystem not online (no '${lockDir}')`);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      await cfs.mkdir(path);
      break;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') await fail(`cannot create '${path}' - ${message(err)}`);
    }
    if (Date.now() >= deadline) {
      if (options.timeoutError !== undefined && (await options.quorate().catch(() => false))) throw await options.timeoutError();
      await fail('got lock request timeout');
    }
    await cfs.utimes(path, 0, 0).catch(() => undefined);
    await sleep(options.retryMs * (0.5 + Math.random()));
  }
  try {
    return await body();
  } finally {
    await cfs.rmdir(path).catch(() => undefined);
  }
}

/** Membership as the reference's get_node_info sees it on pmxcfs. */
export async function readCfsMembership(root: string, localNode: NodeName | undefined): Promise<StoreMembership> {
  // corosync tells who is up, not when a node was last heard from: no heartbeat stamps.
  const nodes: Record<NodeName, { online: boolean }> = {};
  let local = localNode;
  try {
    const members: unknown = JSON.parse(await fs.readFile(join(root, '.members'), 'utf8'));
    if (typeof members === 'object' && members !== null) {
      const record = members as { nodename?: unknown; nodelist?: unknown };
      if (local === undefined && typeof record.nodename === 'string') local = record.nodename;
      if (typeof record.nodelist === 'object' && record.nodelist !== null) {
        for (const [name, info] of Object.entries(record.nodelist as Record<string, unknown>)) {
          const online = typeof info === 'object' && info !== null && (info as { online?: unknown }).online;
          nodes[name] = { online: Boolean(online) };
        }
      }
    }
  } catch {
    // pmxcfs down or the file torn: no member list, as when the reference's
    // cluster info is empty; the local node still counts.
  }
  if (local !== undefined) nodes[local] = { online: true };
  return { nodes, quorate: await cfsQuorate(root) };
}

/** PVE::Cluster::check_cfs_quorum: the owner-write bit of `local`, which pmxcfs clears without quorum. */
export async function cfsQuorate(root: string): Promise<boolean> {
  try {
    const stat = await fs.lstat(join(root, 'local'));
    return (stat.mode & 0o200) !== 0;
  } catch {
    return false;
  }
}

/** Like cfs_update: pmxcfs answers with its start time (here through `.version`). */
export async function cfsReachable(root: string): Promise<boolean> {
  try {
    const version: unknown = JSON.parse(await fs.readFile(join(root, '.version'), 'utf8'));
    return typeof version === 'object' && version !== null && Boolean((version as { starttime?: unknown }).starttime);
  } catch {
    return false;
  }
}
