// The cluster store on etcd v3, for clusters outside Proxmox VE. etcd is the
// replicated, quorum-backed store pmxcfs is on a Proxmox cluster; its
// transactions, leases and linearizable reads give the same guarantees.
//
// Keys, all below a prefix (default `/ha-manager/`):
//   <prefix><path>                       a file, e.g. /ha-manager/ha/manager_status
//   <prefix>.ha-store/lock/<name>        a lock: the holder's name, on a lease
//   <prefix>.ha-store/members/<node>     a member, registered by its first heartbeat
//   <prefix>.ha-store/alive/<node>       liveness, on a short lease the heartbeat refreshes
// No file path may start with `.ha-store`, so the two never meet.
//
// Every call is bounded by a timeout; an etcd error or timeout makes `lock`
// answer false (never true without certainty) and reads and writes fail with
// the endpoint in the message.

import { Etcd3, EtcdLeaseInvalidError, type Lease, type Namespace } from 'etcd3';
import type { NodeName } from '../../core/types.js';
import type { ClusterMembership } from '../env.js';
import { DOMAIN_LOCK_TIMEOUT_MS, LOCK_LIFETIME_SECONDS, type ClusterStore } from './store.js';
import { withEtcdDomainLock } from './etcd-domain-lock.js';
import { RESERVED_SEGMENT, dirPath, filePath, holderName, lockName } from './store-paths.js';

export const DEFAULT_ETCD_PREFIX = '/ha-manager/';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. `http://127.0.0.1:2379`. */
  endpoints: readonly string[];
  /** Key prefix (default `/ha-manager/`); a trailing '/' is added when missing. */
  prefix?: string;
  /** Longest a single store call may take (default 5 s). */
  timeoutMs?: number;
  /** Longest `update` keeps retrying against concurrent writers (default 10 s). */
  updateTimeoutMs?: number;
  /**
   * Lease of a lock, in etcd's (real) seconds: default LOCK_LIFETIME_SECONDS.
   * Shorter for tests, or for daemons on a scaled clock (120 / scale).
   */
  lockTtlSeconds?: number;
  /**
   * Lease of a node's liveness key: it is offline this long after its last
   * heartbeat (default 30 s, three daemon rounds, as in the directory store).
   */
  aliveTtlSeconds?: number;
}

export interface EtcdStore extends ClusterStore {
  readonly endpoints: readonly string[];
  readonly prefix: string;
}

const LOCKS = `${RESERVED_SEGMENT}/lock/`;
const MEMBERS = `${RESERVED_SEGMENT}/members/`;
const ALIVE = `${RESERVED_SEGMENT}/alive/`;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `p`, or a rejection after `ms`; `p` is still awaited quietly so a late failure goes nowhere. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => undefined);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function normaliseEtcdPrefix(prefix: string): string {
  if (!prefix.startsWith('/')) throw new Error(`invalid etcd prefix '${prefix}': it must start with '/' (e.g. '/ha-manager/')`);
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

export function createEtcdStore(options: EtcdStoreOptions): EtcdStore {
  if (options.endpoints.length === 0) throw new Error('etcd store: no endpoint given (expected e.g. http://127.0.0.1:2379)');
  for (const endpoint of options.endpoints) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) {
      throw new Error(`invalid etcd endpoint '${endpoint}': expected http://host:port or https://host:port`);
    }
  }
  const endpoints = [...options.endpoints];
  const prefix = normaliseEtcdPrefix(options.prefix ?? DEFAULT_ETCD_PREFIX);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const updateTimeoutMs = options.updateTimeoutMs ?? 10_000;
  const lockTtl = options.lockTtlSeconds ?? LOCK_LIFETIME_SECONDS;
  const aliveTtl = options.aliveTtlSeconds ?? 30;
  const where = `etcd ${endpoints.join(',')}`;
  const description = `${where} (prefix ${prefix})`;

  const client = new Etcd3({
    hosts: endpoints,
    // Each gRPC call carries a deadline, so a stalled endpoint cannot hold a call forever.
    defaultCallOptions: () => ({ deadline: Date.now() + timeoutMs }),
  });
  const kv: Namespace = client.namespace(prefix);

  /** One lease per lock per holder, and one per node for its liveness key. */
  const lockLeases = new Map<string, Lease>();
  const aliveLeases = new Map<NodeName, Lease>();
  let knownMembers: NodeName[] = [];
  let closed = false;

  const call = async <T>(what: string, body: () => Promise<T>): Promise<T> => {
    if (closed) throw new Error(`${where}: ${what} failed - the store is closed`);
    try {
      return await withTimeout(body(), timeoutMs);
    } catch (err) {
      throw new Error(`${where}: ${what} failed - ${message(err)}`);
    }
  };

  const newLease = async (ttl: number): Promise<Lease> => {
    const lease = kv.lease(ttl, { autoKeepAlive: false });
    lease.on('lost', () => undefined); // losses are seen when the lease is next refreshed
    await lease.grant();
    return lease;
  };

  /** Refreshes a lease; undefined when etcd no longer has it (expired or revoked). */
  const refreshLease = async (lease: Lease | undefined): Promise<Lease | undefined> => {
    if (lease === undefined || lease.revoked()) return undefined;
    try {
      await lease.keepaliveOnce();
      return lease;
    } catch (err) {
      if (err instanceof EtcdLeaseInvalidError) return undefined;
      throw err;
    }
  };

  const dropLease = (lease: Lease | undefined): void => {
    // Revoking deletes the keys on the lease: only ever leases whose key is
    // not (or no longer) this holder's lock.
    lease?.revoke().catch(() => undefined);
  };

  const listBelow = async (dir: string): Promise<string[]> => {
    const below = dir === '' ? '' : `${dir}/`;
    const keys = await kv.getAll().prefix(below).keys();
    const names = new Set<string>();
    for (const key of keys) {
      const name = key.slice(below.length).split('/')[0];
      if (name !== '' && !(dir === '' && name === RESERVED_SEGMENT)) names.add(name);
    }
    return [...names].sort();
  };

  return {
    endpoints,
    prefix,
    description,

    async read(path) {
      const key = filePath(path);
      return await call(`read '${key}'`, async () => (await kv.get(key).string()) ?? undefined);
    },

    async write(path, data) {
      const key = filePath(path);
      await call(`write '${key}'`, async () => {
        await kv.put(key).value(data);
      });
    },

    async remove(path) {
      const key = filePath(path);
      return await call(`remove '${key}'`, async () => Number((await kv.delete().key(key)).deleted) > 0);
    },

    async list(dir) {
      const normal = dirPath(dir);
      return await call(`list '${normal}'`, () => listBelow(normal));
    },

    async rename(from, to) {
      const source = filePath(from);
      const target = filePath(to);
      const what = `rename '${source}' to '${target}'`;
      for (;;) {
        const outcome = await call(what, async () => {
          const found = (await kv.get(source).exec()).kvs[0];
          if (found === undefined) return 'no such file';
          // One transaction: the source as read is still there and the
          // target is absent, then move.
          const txn = await kv
            .if(source, 'Mod', '==', found.mod_revision)
            .and(target, 'Create', '==', 0)
            .then(kv.put(target).value(found.value), kv.delete().key(source))
            .commit();
          if (txn.succeeded) return 'moved';
          return (await kv.get(target).exists()) ? 'target exists' : 'retry';
        });
        if (outcome === 'moved') return;
        if (outcome !== 'retry') throw new Error(`${where}: ${what} failed - ${outcome}`);
      }
    },

    // Optimistic: read with the revision, write only if the key is unchanged
    // since, else read again. `change` may therefore run more than once; the
    // last run's input is what was replaced.
    async update(path, change) {
      const key = filePath(path);
      const deadline = Date.now() + updateTimeoutMs;
      for (let attempt = 0; ; attempt++) {
        const found = await call(`update '${key}' (read)`, async () => (await kv.get(key).exec()).kvs[0]);
        const next = change(found?.value.toString('utf8'));
        const done = await call(`update '${key}' (write)`, async () => {
          const unchanged =
            found === undefined ? kv.if(key, 'Create', '==', 0) : kv.if(key, 'Mod', '==', found.mod_revision);
          const txn = await unchanged.then(next === undefined ? kv.delete().key(key) : kv.put(key).value(next)).commit();
          return txn.succeeded;
        });
        if (done) return next;
        if (Date.now() >= deadline) {
          throw new Error(`${where}: update '${key}' failed - still changed concurrently after ${attempt + 1} attempts in ${updateTimeoutMs} ms`);
        }
        await sleep(Math.random() * Math.min(2 ** attempt, 50));
      }
    },

    async lock(name, holder) {
      const key = LOCKS + lockName(name);
      const id = `${name}\0${holderName(holder)}`;
      try {
        return await call(`lock '${name}'`, async () => {
          let lease = await refreshLease(lockLeases.get(id));
          if (lease === undefined) {
            lockLeases.delete(id);
            lease = await newLease(lockTtl);
          }
          const leaseId = await lease.grant();
          // Renew (or, after a restart, adopt) the holder's own lock: only
          // while the key still names this holder.
          const renewed = await kv.if(key, 'Value', '==', holder).then(kv.put(key).value(holder).lease(leaseId)).commit();
          const taken =
            renewed.succeeded ||
            (await kv.if(key, 'Create', '==', 0).then(kv.put(key).value(holder).lease(leaseId)).commit()).succeeded;
          if (taken) {
            lockLeases.set(id, lease);
            return true;
          }
          // The key is someone else's: a lease of ours has nothing to keep.
          lockLeases.delete(id);
          dropLease(lease);
          return false;
        });
      } catch {
        return false;
      }
    },

    async unlock(name, holder) {
      const key = LOCKS + lockName(name);
      const id = `${name}\0${holderName(holder)}`;
      try {
        return await call(`unlock '${name}'`, async () => {
          const txn = await kv.if(key, 'Value', '==', holder).then(kv.delete().key(key)).commit();
          dropLease(lockLeases.get(id));
          lockLeases.delete(id);
          return txn.succeeded;
        });
      } catch {
        return false;
      }
    },

    withDomainLock(domain, holder, body, domainOptions) {
      const timeoutMs = domainOptions?.timeoutMs ?? DOMAIN_LOCK_TIMEOUT_MS;
      return withEtcdDomainLock({ kv, call, domain, holder, body, timeoutMs });
    },

    // Members are whoever registered; online whoever's liveness key still
    // lives. Reading both needs a quorum (reads are linearizable), so a read
    // that succeeds is the proof of quorum.
    async membership(): Promise<ClusterMembership> {
      try {
        return await call('membership', async () => {
          const members = await kv.getAll().prefix(MEMBERS).keys();
          const alive = new Set((await kv.getAll().prefix(ALIVE).keys()).map((key) => key.slice(ALIVE.length)));
          knownMembers = members.map((key) => key.slice(MEMBERS.length)).sort();
          return {
            nodes: Object.fromEntries(knownMembers.map((node) => [node, { online: alive.has(node) }])),
            quorate: true,
          };
        });
      } catch {
        return { nodes: Object.fromEntries(knownMembers.map((node) => [node, { online: false }])), quorate: false };
      }
    },

    async heartbeat(node) {
      holderName(node);
      await call(`heartbeat of '${node}'`, async () => {
        let lease = await refreshLease(aliveLeases.get(node));
        if (lease === undefined) {
          lease = await newLease(aliveTtl);
          aliveLeases.set(node, lease);
        }
        const leaseId = await lease.grant();
        const beat = kv.put(ALIVE + node).value(String(Date.now())).lease(leaseId);
        await kv
          .if(MEMBERS + node, 'Create', '==', 0)
          .then(kv.put(MEMBERS + node).value(node), beat)
          .else(beat)
          .commit();
      });
    },

    async refresh() {
      try {
        await call('refresh', () => kv.get(`${RESERVED_SEGMENT}/refresh`).exec());
        return true;
      } catch {
        return false;
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      // Locks and liveness are left to their leases: a daemon that stops
      // without releasing must not seem to have released.
      for (const lease of [...lockLeases.values(), ...aliveLeases.values()]) lease.release();
      lockLeases.clear();
      aliveLeases.clear();
      client.close();
    },
  };
}
