// The cluster store as a directory, in one of two modes chosen when it is
// opened:
//
// - pmxcfs: the root is a mounted Proxmox cluster file system (it has
//   `.members`), normally /etc/pve. pmxcfs replicates every file, times the
//   locks and knows membership and quorum; the store makes the calls the
//   reference's production environment makes (store-pmxcfs.ts).
// - plain: any other directory (a temp dir, storage the daemons of one
//   machine share). The store provides what pmxcfs would: atomic durable
//   writes, lease locks (store-lease-locks.ts), serialised updates under a
//   guard (store-guard.ts), and membership from heartbeats
//   (store-heartbeats.ts).
//
// Fenced changes (see StoreFence): in plain mode the holder and the lease
// are checked and the change made under the lock's guard. pmxcfs cannot do
// that: it has no conditional write, and its lock state is only visible as
// a directory whose writer pmxcfs checks on renewal, not on other writes.
// The reference writes without any such check; so does pmxcfs mode, and
// the fence is ignored there. The watchdog alone keeps a deposed holder
// from writing: it resets the node before the lock can change hands.
//
// In both, paths are relative to the root; files are written through a
// temporary file and a rename (store-files.ts).

import * as fs from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { NodeName } from '../../core/types.js';
import {
  DOMAIN_LOCK_TIMEOUT_MS,
  LockTimeoutError,
  domainLockTitle,
  type ClusterStore,
  type DomainFiles,
  type WriteOptions,
} from './store.js';
import { writeRunningTiming } from '../../config/timing-config.js';
import { parseHolderNote, writeHolderNote } from './holder-note.js';
import { runningTimingPath } from './layout.js';
import { createRootFiles, type RootFiles } from './store-files.js';
import { withGuard } from './store-guard.js';
import { DEFAULT_PROFILE } from '../timing.js';
import { heartbeatPath, readHeartbeatMembership } from './store-heartbeats.js';
import { createLeaseLocks } from './store-lease-locks.js';
import { RESERVED_SEGMENT, domainFilePath, domainOf, filePath, lockName } from './store-paths.js';
import {
  cfsLockIdFor,
  cfsQuorate,
  cfsReachable,
  createCfsLocks,
  nodeCfsLockFs,
  readCfsMembership,
  withCfsLock,
  type CfsLockFs,
} from './store-pmxcfs.js';

export type DirectoryStoreMode = 'pmxcfs' | 'plain';

export interface DirectoryStoreOptions {
  /** Milliseconds: lock leases and heartbeats run on it. Default: Date.now. */
  clock?: () => number;
  /**
   * Plain mode: a member whose heartbeat is older than this is offline
   * (default: the `default` timing profile's heartbeat timeout). The daemons
   * beat every round, so it must span a few rounds.
   */
  heartbeatTimeoutMs?: number;
  /**
   * Plain mode: a lock not renewed this long expires (default: the
   * `default` profile's lock lifetime). pmxcfs fixes its own.
   */
  lockLifetimeMs?: number;
  /**
   * Plain mode and etcd: the name of the timing profile the opener runs.
   * Recorded with every lock it is granted (beside its lifetime), and
   * announced with its first heartbeat (runningTimingPath), so other nodes
   * and `timing set` can tell which profile a holder runs.
   */
  profileName?: string;
  /**
   * Longest wait for exclusive access (plain mode: a lock's or a file's
   * guard; pmxcfs: the cfs lock of an update). Past it `lock` answers false
   * and `update` fails. Default 10 s, cfs_lock's default; the daemons pass
   * their timing profile's store timeout (a holder stopped inside a guard
   * must not stall their rounds longer than one store call).
   */
  waitTimeoutMs?: number;
  /** pmxcfs mode: the local node, always online (default: `nodename` from `.members`). */
  node?: NodeName;
  /** pmxcfs mode: the lock calls, for tests that fake pmxcfs on a plain directory. */
  cfsLockFs?: CfsLockFs;
  /** pmxcfs mode: pause between attempts to take a busy cfs lock (default 100 ms). */
  cfsRetryMs?: number;
}

export interface DirectoryStore extends ClusterStore {
  readonly mode: DirectoryStoreMode;
  /** Absolute path of the root directory. */
  readonly root: string;
}

/** A pmxcfs mount is recognised by the member list pmxcfs serves at its root. */
export async function isPmxcfsRoot(root: string): Promise<boolean> {
  return fs.stat(join(root, '.members')).then(
    (stat) => stat.isFile(),
    () => false,
  );
}

export async function openDirectoryStore(root: string, options: DirectoryStoreOptions = {}): Promise<DirectoryStore> {
  const absolute = resolvePath(root);
  const stat = await fs.stat(absolute).catch(() => undefined);
  if (stat === undefined) {
    throw new Error(`store directory '${absolute}' does not exist: create it first (the store does not, so a mistyped path cannot start a second, empty cluster)`);
  }
  if (!stat.isDirectory()) throw new Error(`store directory '${absolute}' is not a directory`);
  // Key the per-process lock table by the real path, so two spellings of one root agree.
  const real = await fs.realpath(absolute);
  return (await isPmxcfsRoot(real)) ? openPmxcfs(real, options) : openPlain(real, options);
}

/** The files of a lock domain, for the body that holds it. */
function domainFiles(domain: string, files: RootFiles): DomainFiles {
  return {
    read: (path) => files.read(domainFilePath(domain, path)),
    write: (path, data) => files.write(domainFilePath(domain, path), data),
    remove: (path) => files.remove(domainFilePath(domain, path)),
  };
}

/**
 * pmxcfs locks say nothing about their holder; the holder of a domain lock
 * leaves a note beside it (best effort) for those who time out waiting.
 */
function cfsHolderNotePath(domain: string): string {
  return `priv/ha-manager/lock-holder-${domain}`;
}

function openPmxcfs(root: string, options: DirectoryStoreOptions): DirectoryStore {
  const clock = options.clock ?? Date.now;
  const cfs = options.cfsLockFs ?? nodeCfsLockFs;
  const files = createRootFiles(root, { durable: false, noReplace: 'check' });
  const locks = createCfsLocks(root, clock, cfs);
  const lockOptions = {
    timeoutMs: options.waitTimeoutMs ?? 10_000,
    retryMs: options.cfsRetryMs ?? 100,
    quorate: () => cfsQuorate(root),
  };

  return {
    mode: 'pmxcfs',
    root,
    description: `directory ${root} (pmxcfs)`,
    read: files.read,
    // The fence option is ignored: pmxcfs cannot enforce it (see the top).
    write: (path, data) => files.write(path, data),
    remove: (path) => files.remove(path),
    list: files.list,
    rename: (from, to) => files.rename(from, to),
    async update(path, change) {
      const normal = filePath(path);
      return withCfsLock(root, cfsLockIdFor(normal), cfs, lockOptions, () => rewrite(files, normal, change));
    },
    lock: locks.lock,
    acquireLock: locks.acquireLock,
    unlock: locks.unlock,
    async withDomainLock(domain, holder, body, domainOptions) {
      const notePath = cfsHolderNotePath(lockName(domain));
      const timeoutMs = domainOptions?.timeoutMs ?? DOMAIN_LOCK_TIMEOUT_MS;
      const what = domainLockTitle(domain);
      const timeoutError = async (): Promise<Error> => {
        const seen = await files.read(notePath).then((text) => (text === undefined ? undefined : parseHolderNote(text)), () => undefined);
        return new LockTimeoutError(what, timeoutMs, seen);
      };
      return withCfsLock(root, `domain-${domain}`, cfs, { ...lockOptions, timeoutMs, timeoutError }, async () => {
        await files.write(notePath, `${writeHolderNote(holder, Date.now())}\n`).catch(() => undefined);
        try {
          return await body(domainFiles(domain, files));
        } finally {
          await files.remove(notePath).catch(() => undefined);
        }
      });
    },
    membership: () => readCfsMembership(root, options.node),
    async heartbeat() {
      // corosync and pmxcfs know who is up
    },
    refresh: () => cfsReachable(root),
    async close() {},
  };
}

/** The file as `change` makes it (removed when it makes nothing), read and written in one go; resolves to it. */
async function rewrite(files: RootFiles, path: string, change: (current: string | undefined) => string | undefined): Promise<string | undefined> {
  const next = change(await files.read(path));
  if (next === undefined) await files.remove(path);
  else await files.write(path, next);
  return next;
}

function openPlain(root: string, options: DirectoryStoreOptions): DirectoryStore {
  const clock = options.clock ?? Date.now;
  const waitTimeoutMs = options.waitTimeoutMs ?? 10_000;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? DEFAULT_PROFILE.heartbeatTimeoutMs;
  const lifetimeMs = options.lockLifetimeMs ?? DEFAULT_PROFILE.lockLifetimeMs;
  const files = createRootFiles(root, { durable: true, noReplace: 'link' });
  const locks = createLeaseLocks(root, {
    clock,
    lifetimeMs,
    guardTimeoutMs: waitTimeoutMs,
    durable: true,
    ...(options.profileName !== undefined ? { profileName: options.profileName } : {}),
  });
  /** The nodes whose running timing this store announced. */
  const announced = new Set<NodeName>();

  /** Runs `change` as is, or under the fence's lock guard once the fence is checked. */
  const fenced = <T>(options: WriteOptions | undefined, what: string, change: () => Promise<T>): Promise<T> =>
    options?.fence === undefined ? change() : locks.whileHeld(options.fence, what, change);

  const description = `directory ${root}`;
  const domainGuard = (domain: string): string => join(root, RESERVED_SEGMENT, 'guards', `domain-${lockName(domain)}`);

  return {
    mode: 'plain',
    root,
    description,
    read: files.read,
    write: async (path, data, options) => fenced(options, `write '${filePath(path)}'`, () => files.write(path, data)),
    remove: async (path, options) => fenced(options, `remove '${filePath(path)}'`, () => files.remove(path)),
    list: files.list,
    rename: async (from, to, options) =>
      fenced(options, `rename '${filePath(from)}' to '${filePath(to)}'`, () => files.rename(from, to)),
    async update(path, change, options) {
      const normal = filePath(path);
      // A file of a lock domain changes only under the domain's lock, as on
      // pmxcfs. The lock's guard (if fenced) is always taken before the
      // file's or the domain's, never the other way round, so two updates
      // cannot wait for each other.
      const domain = domainOf(normal);
      const guard =
        domain === undefined ? join(root, RESERVED_SEGMENT, 'guards', `file-${encodeURIComponent(normal)}`) : domainGuard(domain);
      const what = domain === undefined ? `exclusive access for an update of '${normal}'` : domainLockTitle(domain);
      return fenced(options, `update '${normal}'`, () =>
        withGuard(guard, { timeoutMs: waitTimeoutMs, what, store: description }, () => rewrite(files, normal, change)),
      );
    },
    lock: locks.lock,
    acquireLock: locks.acquireLock,
    unlock: locks.unlock,
    async withDomainLock(domain, holder, body, domainOptions) {
      const timeoutMs = domainOptions?.timeoutMs ?? DOMAIN_LOCK_TIMEOUT_MS;
      return withGuard(domainGuard(domain), { timeoutMs, what: domainLockTitle(domain), holder, store: description }, () =>
        body(domainFiles(domain, files)),
      );
    },
    membership: async () => readHeartbeatMembership(root, clock(), heartbeatTimeoutMs),
    async heartbeat(node) {
      await files.write(heartbeatPath(node), `${clock()}\n`);
      if (options.profileName !== undefined && !announced.has(node)) {
        await files.write(runningTimingPath(node), writeRunningTiming({ profile: options.profileName, lockLifetimeMs: lifetimeMs }));
        announced.add(node);
      }
    },
    async refresh() {
      return fs.stat(root).then(
        (stat) => stat.isDirectory(),
        () => false,
      );
    },
    async close() {},
  };
}

