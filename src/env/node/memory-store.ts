// An in-process cluster store: for tests, and for embedding the daemons in a
// single process. Membership is whatever the owner sets.

import type { NodeName } from '../../core/types.js';
import { DEFAULT_PROFILE } from '../timing.js';
import {
  DOMAIN_LOCK_TIMEOUT_MS,
  lockGranted,
  LockLostError,
  LockTimeoutError,
  domainLockTitle,
  type ClusterStore,
  type DomainFiles,
  type LockHolder,
  type LockOutcome,
  type StoreMembership,
  type WriteOptions,
} from './store.js';
import { domainFilePath, domainOf, lockName } from './store-paths.js';

export interface MemoryStoreOptions {
  /** Milliseconds; lock leases run on this clock. Default: Date.now. */
  clock?: () => number;
  /** A lock not renewed this long expires (default: the `default` timing profile's). */
  lockLifetimeMs?: number;
  /** Cluster members; all online and quorate unless changed with setMembership. */
  nodes?: readonly NodeName[];
}

export interface MemoryStore extends ClusterStore {
  /** Sets who is online (and when each was last heard from) and whether the partition is quorate. */
  setMembership(membership: StoreMembership): void;
}

function normalise(path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.some((part) => part === '..')) throw new Error(`invalid store path '${path}': '..' is not allowed`);
  return parts.join('/');
}

/** One lock domain of a memory store: a queue of holders, served in order. */
interface DomainQueue {
  tail: Promise<void>;
  holder?: LockHolder & { since: number };
  waiting: number;
}

/** The owner of an `update` of a domain file, as a waiter would be told. */
const UPDATE_HOLDER: LockHolder = { node: 'memory', pid: process.pid, command: 'store update' };

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const clock = options.clock ?? Date.now;
  const files = new Map<string, string>();
  const locks = new Map<string, { holder: NodeName; renewedAt: number }>();
  let membership: StoreMembership = {
    nodes: Object.fromEntries((options.nodes ?? []).map((node) => [node, { online: true }])),
    quorate: true,
  };

  const lifetimeMs = options.lockLifetimeMs ?? DEFAULT_PROFILE.lockLifetimeMs;
  const expired = (renewedAt: number): boolean => clock() - renewedAt > lifetimeMs;

  /**
   * Refuses a fenced change unless the holder has the lock and its lease
   * runs. Every call here is synchronous up to the change, so the check and
   * the change are one step.
   */
  const checkFence = (options: WriteOptions | undefined, what: string): void => {
    const fence = options?.fence;
    if (fence === undefined) return;
    const held = locks.get(fence.lock);
    if (held === undefined) throw new LockLostError(fence, what, 'the lock is free');
    if (held.holder !== fence.holder) throw new LockLostError(fence, what, `'${held.holder}' holds it`);
    if (expired(held.renewedAt)) throw new LockLostError(fence, what, 'its lease expired');
  };
  const domains = new Map<string, DomainQueue>();

  const acquireLock = (name: string, holder: NodeName): LockOutcome => {
    const held = locks.get(name);
    const live = held !== undefined && !expired(held.renewedAt);
    if (live && held.holder !== holder) return 'refused';
    locks.set(name, { holder, renewedAt: clock() });
    // Renewed only while the holder's own lease still ran: past it, anyone could have held the lock between.
    return live && held.holder === holder ? 'renewed' : 'granted';
  };

  const inDomain = async <T>(domain: string, holder: LockHolder, timeoutMs: number, body: () => Promise<T>): Promise<T> => {
    let queue = domains.get(lockName(domain));
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), waiting: 0 };
      domains.set(domain, queue);
    }
    const q = queue;
    const previous = q.tail;
    let release = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    q.tail = done;
    q.waiting++;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        previous,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new LockTimeoutError(domainLockTitle(domain), timeoutMs, q.holder, q.waiting - 1)), timeoutMs);
        }),
      ]);
    } catch (err) {
      // Given up: those queued behind still wait for the ones in front.
      void previous.then(release);
      throw err;
    } finally {
      clearTimeout(timer);
      q.waiting--;
    }
    q.holder = { ...holder, since: Date.now() };
    try {
      return await body();
    } finally {
      q.holder = undefined;
      release();
    }
  };

  const domainFiles = (domain: string): DomainFiles => ({
    read: async (path) => files.get(domainFilePath(domain, path)),
    write: async (path, data) => {
      files.set(domainFilePath(domain, path), data);
    },
    remove: async (path) => files.delete(domainFilePath(domain, path)),
  });

  return {
    description: 'memory',
    async read(path) {
      return files.get(normalise(path));
    },
    async write(path, data, options) {
      const key = normalise(path);
      checkFence(options, `write '${key}'`);
      files.set(key, data);
    },
    async remove(path, options) {
      const key = normalise(path);
      checkFence(options, `remove '${key}'`);
      return files.delete(key);
    },
    async list(dir) {
      const prefix = normalise(dir);
      const names = new Set<string>();
      for (const path of files.keys()) {
        if (prefix !== '' && !path.startsWith(`${prefix}/`)) continue;
        const rest = prefix === '' ? path : path.slice(prefix.length + 1);
        names.add(rest.split('/')[0]);
      }
      return [...names].sort();
    },
    async rename(from, to, options) {
      const source = normalise(from);
      const target = normalise(to);
      checkFence(options, `rename '${source}' to '${target}'`);
      const data = files.get(source);
      if (data === undefined) throw new Error(`rename '${from}' to '${to}' failed - no such file`);
      if (files.has(target)) throw new Error(`rename '${from}' to '${to}' failed - target exists`);
      files.delete(source);
      files.set(target, data);
    },
    async update(path, change, options) {
      const key = normalise(path);
      const apply = async (): Promise<string | undefined> => {
        // Checked when the change is made, after any wait for the domain.
        checkFence(options, `update '${key}'`);
        const next = change(files.get(key));
        if (next === undefined) files.delete(key);
        else files.set(key, next);
        return next;
      };
      // A file of a lock domain changes only when no domain holder is in the middle of its work.
      const domain = key === '' ? undefined : domainOf(key);
      return domain === undefined ? apply() : inDomain(domain, UPDATE_HOLDER, DOMAIN_LOCK_TIMEOUT_MS, apply);
    },
    async lock(name, holder) {
      return lockGranted(acquireLock(name, holder));
    },
    async acquireLock(name, holder) {
      return acquireLock(name, holder);
    },
    async unlock(name, holder) {
      const held = locks.get(name);
      if (held === undefined || held.holder !== holder) return false;
      locks.delete(name);
      return true;
    },
    withDomainLock(domain, holder, body, domainOptions) {
      return inDomain(domain, holder, domainOptions?.timeoutMs ?? DOMAIN_LOCK_TIMEOUT_MS, () => body(domainFiles(domain)));
    },
    async membership() {
      return membership;
    },
    async heartbeat() {
      // membership is set by the owner
    },
    async refresh() {
      return true;
    },
    async close() {
      files.clear();
      locks.clear();
    },
    setMembership(next) {
      membership = next;
    },
  };
}
