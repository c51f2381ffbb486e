// An in-process cluster store: for tests, and for embedding the daemons in a
// single process. Membership is whatever the owner sets.

import type { NodeName } from '../../core/types.js';
import type { ClusterMembership } from '../env.js';
import { DEFAULT_PROFILE } from '../timing.js';
import type { ClusterStore } from './store.js';

export interface MemoryStoreOptions {
  /** Milliseconds; lock leases run on this clock. Default: Date.now. */
  clock?: () => number;
  /** A lock not renewed this long expires (default: the `default` timing profile's). */
  lockLifetimeMs?: number;
  /** Cluster members; all online and quorate unless changed with setMembership. */
  nodes?: readonly NodeName[];
}

export interface MemoryStore extends ClusterStore {
  /** Sets who is online and whether the partition is quorate. */
  setMembership(membership: ClusterMembership): void;
}

function normalise(path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.some((part) => part === '..')) throw new Error(`invalid store path '${path}': '..' is not allowed`);
  return parts.join('/');
}

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const clock = options.clock ?? Date.now;
  const files = new Map<string, string>();
  const locks = new Map<string, { holder: NodeName; renewedAt: number }>();
  let membership: ClusterMembership = {
    nodes: Object.fromEntries((options.nodes ?? []).map((node) => [node, { online: true }])),
    quorate: true,
  };

  const lifetimeMs = options.lockLifetimeMs ?? DEFAULT_PROFILE.lockLifetimeMs;
  const expired = (renewedAt: number): boolean => clock() - renewedAt > lifetimeMs;

  return {
    description: 'memory',
    async read(path) {
      return files.get(normalise(path));
    },
    async write(path, data) {
      files.set(normalise(path), data);
    },
    async remove(path) {
      return files.delete(normalise(path));
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
    async rename(from, to) {
      const source = normalise(from);
      const target = normalise(to);
      const data = files.get(source);
      if (data === undefined) throw new Error(`rename '${from}' to '${to}' failed - no such file`);
      if (files.has(target)) throw new Error(`rename '${from}' to '${to}' failed - target exists`);
      files.delete(source);
      files.set(target, data);
    },
    async update(path, change) {
      const key = normalise(path);
      const next = change(files.get(key));
      if (next === undefined) files.delete(key);
      else files.set(key, next);
      return next;
    },
    async lock(name, holder) {
      const held = locks.get(name);
      if (held !== undefined && held.holder !== holder && !expired(held.renewedAt)) return false;
      locks.set(name, { holder, renewedAt: clock() });
      return true;
    },
    async unlock(name, holder) {
      const held = locks.get(name);
      if (held === undefined || held.holder !== holder) return false;
      locks.delete(name);
      return true;
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
