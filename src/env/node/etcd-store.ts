// The cluster store on etcd v3, for clusters outside Proxmox VE. etcd is the
// replicated, quorum-backed store pmxcfs is on a Proxmox cluster; its
// transactions, leases and linearizable reads give the same guarantees.
//
// Keys, all below a prefix (default `/ha-manager/`):
//   <prefix><path>                       a file, e.g. /ha-manager/ha/manager_status
//   <prefix>.ha-store/lock/<name>        a lock: the holder's name, on a lease
//   <prefix>.ha-store/members/<node>     a member, registered by its first heartbeat; holds
//                                        the stamp of its latest heartbeat (kept after it goes offline)
//   <prefix>.ha-store/alive/<node>       liveness, on a short lease the heartbeat refreshes
//   <prefix>.ha-store/applied/<id>/<n>   attempt n of a change went through (see ChangeMarks)
// No file path may start with `.ha-store`, so the two never meet.
//
// Fencing tokens: a lock key's create_revision is set when the key is
// created, i.e. when a holder takes a free lock, and kept while that holder
// renews it. The store remembers the one its holder got; a fenced change is
// one transaction that compares the lock key's value (the holder) and its
// create_revision (the token) and changes the file only if both match. A
// holder that lost the lock and took it again has a new token: a change
// prepared under the old one fails.
//
// Every call is bounded by a time budget and moves to another member when
// the one it is on fails (etcd-endpoints.ts); an etcd error or timeout makes
// `lock` answer false (never true without certainty) and reads and writes
// fail with the endpoints in the message. A lock's lease is refreshed during
// the `lock` call, after the call started: a caller that times its lease
// from the start of its request (as the daemons do) never counts on more
// time than etcd gives.
//
// A retried attempt must not apply a change twice. Writing a whole file,
// taking or renewing a lock are the same when repeated. An update, a rename
// and a removal are not: each attempt's transaction also writes a marker key
// of its own, and a retry after an attempt whose outcome is unknown looks
// for the markers first.

import { randomBytes } from 'node:crypto';
import { type Etcd3, type IKeyValue, type IOperation, type ITxnResponse, type Namespace } from 'etcd3';
import type { NodeName } from '../../core/types.js';
import { DEFAULT_PROFILE } from '../timing.js';
import { writeRunningTiming } from '../../config/timing-config.js';
import { withEtcdDomainLock } from './etcd-domain-lock.js';
import { runningTimingPath } from './layout.js';
import { createEtcdEndpoints } from './etcd-endpoints.js';
import { dropLease, grantLease, keepLeaseAlive } from './etcd-leases.js';
import { DOMAIN_LOCK_TIMEOUT_MS, lockGranted, LockLostError, type ClusterStore, type LockOutcome, type StoreFence, type StoreMembership } from './store.js';
import { RESERVED_SEGMENT, dirPath, filePath, holderName, lockName } from './store-paths.js';

export const DEFAULT_ETCD_PREFIX = '/ha-manager/';
export interface EtcdStoreOptions {
  /** Client URLs, e.g. `http://127.0.0.1:2379`. */
  endpoints: readonly string[];
  /** Key prefix (default `/ha-manager/`); a trailing '/' is added when missing. */
  prefix?: string;
  /** Longest a single store call may take, moving between members included (default: the `default` timing profile's store timeout). */
  timeoutMs?: number;
  /** Longest one attempt on one member may take before the call moves on (default a fifth of timeoutMs, at least 250 ms). */
  attemptTimeoutMs?: number;
  /** Longest `update` keeps retrying against concurrent writers (default 10 s). */
  updateTimeoutMs?: number;
  /**
   * Lease of a lock, in etcd's (real) seconds: default the `default` timing
   * profile's lock lifetime. Shorter for tests, for the fast profile, or for
   * daemons on a scaled clock (lifetime / scale).
   */
  lockTtlSeconds?: number;
  /**
   * Lease of a node's liveness key: it is offline this long after its last
   * heartbeat (default: the `default` timing profile's heartbeat timeout, as
   * in the directory store).
   */
  aliveTtlSeconds?: number;
  /** The timing profile the opener runs, announced with each node's first heartbeat (runningTimingPath). */
  profileName?: string;
  /** Its lock lifetime on the cluster's clock, for that announcement (default: lockTtlSeconds). */
  lockLifetimeMs?: number;
  /** Wall-clock milliseconds of the cluster's clock, for heartbeat stamps (default Date.now). */
  clock?: () => number;
}

export interface EtcdStore extends ClusterStore {
  readonly endpoints: readonly string[];
  readonly prefix: string;
}

const LOCKS = `${RESERVED_SEGMENT}/lock/`;
const MEMBERS = `${RESERVED_SEGMENT}/members/`;
const ALIVE = `${RESERVED_SEGMENT}/alive/`;
const APPLIED = `${RESERVED_SEGMENT}/applied/`;
/** Seconds the lease of change markers lives; a lease is used for new markers during the first half. */
const MARK_TTL_SECONDS = 60;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function normaliseEtcdPrefix(prefix: string): string {
  if (!prefix.startsWith('/')) throw new Error(`invalid etcd prefix '${prefix}': it must start with '/' (e.g. '/ha-manager/')`);
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** The first key-value of a range response in a transaction's answer. */
function rangeResult(txn: ITxnResponse, index: number): IKeyValue | undefined {
  return txn.responses[index]?.response_range?.kvs[0];
}

/**
 * Tells a retried change whether an earlier attempt of it was applied: each
 * attempt's transaction writes a marker (on a short lease, so markers go by
 * themselves), and a marker found means that attempt went through. The
 * attempts of one change exclude each other (each compares what it read:
 * the file's revision, or that it exists), so at most one is ever applied;
 * one still in flight when a retry looked and applied later makes the
 * retry's own transaction fail, and the next look finds its marker.
 */
interface ChangeMarks {
  /** The marker put for attempt `n`, to add to its transaction (wrapped: a put builder is a thenable, and would run if awaited). */
  put(kv: Namespace, client: Etcd3, n: number): Promise<IOperation>;
  /** The applied attempt, if any. */
  applied(kv: Namespace): Promise<number | undefined>;
}

/** A held lock: the lease its key is on and the fencing token (the key's create_revision). */
interface HeldLock {
  leaseId: string;
  token: string;
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
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROFILE.storeTimeoutMs;
  const updateTimeoutMs = options.updateTimeoutMs ?? 10_000;
  const lockTtl = options.lockTtlSeconds ?? DEFAULT_PROFILE.lockLifetimeMs / 1000;
  const aliveTtl = options.aliveTtlSeconds ?? DEFAULT_PROFILE.heartbeatTimeoutMs / 1000;
  const clock = options.clock ?? Date.now;
  const cluster = createEtcdEndpoints({
    endpoints,
    prefix,
    timeoutMs,
    attemptTimeoutMs: options.attemptTimeoutMs ?? Math.max(250, Math.round(timeoutMs / 5)),
  });
  const { where, call } = cluster;
  const description = `${where} (prefix ${prefix})`;

  /** The locks this store's holders hold, by lock and holder. */
  const heldLocks = new Map<string, HeldLock>();
  /** The lease of each node's liveness key. */
  const aliveLeases = new Map<NodeName, string>();
  /** The nodes whose running timing this store announced. */
  const announced = new Set<NodeName>();
  let knownMembers: NodeName[] = [];

  let markLease: { id: string; freshUntil: number } | undefined;

  const changeMarks = (): ChangeMarks => {
    const below = `${APPLIED}${randomBytes(8).toString('hex')}/`;
    return {
      async put(kv, client, n) {
        if (markLease === undefined || Date.now() > markLease.freshUntil) {
          const id = await grantLease(client, MARK_TTL_SECONDS);
          markLease = { id, freshUntil: Date.now() + (MARK_TTL_SECONDS * 1000) / 2 };
        }
        const put = kv.put(`${below}${n}`).value('').lease(markLease.id);
        return { op: () => put.op() };
      },
      async applied(kv) {
        const keys = await kv.getAll().prefix(below).keys();
        return keys.length === 0 ? undefined : Number(keys[0].slice(below.length));
      },
    };
  };

  const lockId = (name: string, holder: NodeName): string => `${name}\0${holder}`;
  const lockKey = (name: string): string => LOCKS + lockName(name);

  /** The token a fenced change must find on the lock key; none when this store's holder does not hold it. */
  const tokenFor = (fence: StoreFence, what: string): string => {
    holderName(fence.holder);
    const held = heldLocks.get(lockId(lockName(fence.lock), fence.holder));
    if (held === undefined) throw new LockLostError(fence, what, 'not held through this store');
    return held.token;
  };

  /** The lock key as a refused fenced transaction saw it, told as the reason. */
  const lostBecause = (found: IKeyValue | undefined, fence: StoreFence, token: string): string => {
    if (found === undefined) return 'the lock is free: its lease expired or it was released';
    const holder = found.value.toString('utf8');
    if (holder !== fence.holder) return `'${holder}' holds it`;
    return `taken again since (fencing token ${token}, now ${found.create_revision})`;
  };

  const stillHeld = (found: IKeyValue | undefined, fence: StoreFence, token: string): boolean =>
    found !== undefined && found.value.toString('utf8') === fence.holder && found.create_revision === token;

  /**
   * A transaction: `compare` (a builder with the file's own conditions, or
   * none), the fence's conditions added, `ops` when all hold; otherwise the
   * lock key is read so the caller can tell a lost lock from a changed file.
   */
  const fencedTxn = async (
    kv: Namespace,
    fence: { fence: StoreFence; token: string } | undefined,
    start: (kv: Namespace) => ReturnType<Namespace['if']> | undefined,
    ops: Parameters<ReturnType<Namespace['if']>['then']>,
  ): Promise<ITxnResponse> => {
    let txn = start(kv);
    if (fence !== undefined) {
      const key = lockKey(fence.fence.lock);
      txn = (txn === undefined ? kv.if(key, 'Value', '==', fence.fence.holder) : txn.and(key, 'Value', '==', fence.fence.holder)).and(
        key,
        'Create',
        '==',
        fence.token,
      );
    }
    if (txn === undefined) throw new Error('a transaction needs a condition');
    txn = txn.then(...ops);
    if (fence !== undefined) txn = txn.else(kv.get(lockKey(fence.fence.lock)));
    return txn.commit();
  };

  const listBelow = async (kv: Namespace, dir: string): Promise<string[]> => {
    const below = dir === '' ? '' : `${dir}/`;
    const keys = await kv.getAll().prefix(below).keys();
    const names = new Set<string>();
    for (const key of keys) {
      const name = key.slice(below.length).split('/')[0];
      if (name !== '' && !(dir === '' && name === RESERVED_SEGMENT)) names.add(name);
    }
    return [...names].sort();
  };

  const store: EtcdStore = {
    endpoints,
    prefix,
    description,

    async read(path) {
      const key = filePath(path);
      return await call(`read '${key}'`, async ({ kv }) => (await kv.get(key).string()) ?? undefined);
    },

    async write(path, data, writeOptions) {
      const key = filePath(path);
      const what = `write '${key}'`;
      const fence = writeOptions?.fence;
      if (fence === undefined) {
        await call(what, async ({ kv }) => {
          await kv.put(key).value(data);
        });
        return;
      }
      const token = tokenFor(fence, what);
      await call(what, async ({ kv }) => {
        const txn = await fencedTxn(kv, { fence, token }, () => undefined, [kv.put(key).value(data)]);
        if (!txn.succeeded) throw new LockLostError(fence, what, lostBecause(rangeResult(txn, 0), fence, token));
      });
    },

    async remove(path, writeOptions) {
      const key = filePath(path);
      const what = `remove '${key}'`;
      const fence = writeOptions?.fence;
      const fenceToken = fence === undefined ? undefined : { fence, token: tokenFor(fence, what) };
      const marks = changeMarks();
      let unsure = false;
      return await call(what, async ({ kv, client, mayHaveApplied }) => {
        unsure ||= mayHaveApplied;
        if (unsure && (await marks.applied(kv)) !== undefined) return true;
        // Only an existing file is deleted (and marked): the marker then means "it was there".
        const txn = await fencedTxn(kv, fenceToken, () => kv.if(key, 'Version', '>', 0), [
          kv.delete().key(key),
          await marks.put(kv, client, 0),
        ]);
        if (txn.succeeded) return true;
        if (fenceToken !== undefined && !stillHeld(rangeResult(txn, 0), fenceToken.fence, fenceToken.token)) {
          throw new LockLostError(fenceToken.fence, what, lostBecause(rangeResult(txn, 0), fenceToken.fence, fenceToken.token));
        }
        return false;
      });
    },

    async list(dir) {
      const normal = dirPath(dir);
      return await call(`list '${normal}'`, ({ kv }) => listBelow(kv, normal));
    },

    async rename(from, to, writeOptions) {
      const source = filePath(from);
      const target = filePath(to);
      const what = `rename '${source}' to '${target}'`;
      const fence = writeOptions?.fence;
      const fenceToken = fence === undefined ? undefined : { fence, token: tokenFor(fence, what) };
      const marks = changeMarks();
      let unsure = false;
      // One deadline for every attempt of the move, however often the source changes under it.
      const deadline = Date.now() + timeoutMs;
      for (let n = 0; ; n++) {
        if (n > 0 && Date.now() >= deadline) {
          throw new Error(`${where}: ${what} failed - the source kept changing for ${timeoutMs} ms (${n} attempts)`);
        }
        const outcome = await call(what, async ({ kv, client, mayHaveApplied }) => {
          unsure ||= mayHaveApplied;
          if (unsure && (await marks.applied(kv)) !== undefined) return 'moved';
          const found = (await kv.get(source).exec()).kvs[0];
          if (found === undefined) return 'no such file';
          // One transaction: the source as read is still there, the target
          // is absent (and the fence holds), then move.
          const txn = await fencedTxn(
            kv,
            fenceToken,
            () => kv.if(source, 'Mod', '==', found.mod_revision).and(target, 'Create', '==', 0),
            [kv.put(target).value(found.value), kv.delete().key(source), await marks.put(kv, client, n)],
          );
          if (txn.succeeded) return 'moved';
          if (fenceToken !== undefined && !stillHeld(rangeResult(txn, 0), fenceToken.fence, fenceToken.token)) {
            throw new LockLostError(fenceToken.fence, what, lostBecause(rangeResult(txn, 0), fenceToken.fence, fenceToken.token));
          }
          return (await kv.get(target).exists()) ? 'target exists' : 'retry';
        }, { deadline });
        if (outcome === 'moved') return;
        if (outcome !== 'retry') throw new Error(`${where}: ${what} failed - ${outcome}`);
      }
    },

    // Optimistic: read with the revision, write only if the key is unchanged
    // since (and the fence holds), else read again. `change` may therefore
    // run more than once; the last run's input is what was replaced.
    async update(path, change, writeOptions) {
      const key = filePath(path);
      const what = `update '${key}'`;
      const fence = writeOptions?.fence;
      const fenceToken = fence === undefined ? undefined : { fence, token: tokenFor(fence, what) };
      const deadline = Date.now() + updateTimeoutMs;
      const marks = changeMarks();
      let unsure = false;
      /** Each transaction's input and result, by marker number. */
      const tried: { input: string | undefined; next: string | undefined }[] = [];
      for (let attempt = 0; ; attempt++) {
        const outcome = await call(what, async ({ kv, client, mayHaveApplied }) => {
          unsure ||= mayHaveApplied;
          const applied = unsure ? await marks.applied(kv) : undefined;
          if (applied !== undefined) {
            const { input, next } = tried[applied];
            // The last run of `change` must have seen what was replaced.
            if (tried.at(-1)?.input !== input) change(input);
            return { done: true, next };
          }
          const found = (await kv.get(key).exec()).kvs[0];
          const input = found?.value.toString('utf8');
          const next = change(input);
          const n = tried.push({ input, next }) - 1;
          const txn = await fencedTxn(
            kv,
            fenceToken,
            () => (found === undefined ? kv.if(key, 'Create', '==', 0) : kv.if(key, 'Mod', '==', found.mod_revision)),
            [next === undefined ? kv.delete().key(key) : kv.put(key).value(next), await marks.put(kv, client, n)],
          );
          if (txn.succeeded) return { done: true, next };
          if (fenceToken !== undefined && !stillHeld(rangeResult(txn, 0), fenceToken.fence, fenceToken.token)) {
            throw new LockLostError(fenceToken.fence, what, lostBecause(rangeResult(txn, 0), fenceToken.fence, fenceToken.token));
          }
          return { done: false, next };
        }, { deadline });
        if (outcome.done) return outcome.next;
        if (Date.now() >= deadline) {
          throw new Error(`${where}: ${what} failed - still changed concurrently after ${attempt + 1} attempts in ${updateTimeoutMs} ms`);
        }
        await sleep(Math.random() * Math.min(2 ** attempt, 50));
      }
    },

    // Safe to repeat as a whole on another member: a renewal that was
    // applied makes the retry's renewal succeed again, a take that was
    // applied makes the retry renew it.
    async lock(name, holder) {
      return lockGranted(await store.acquireLock(name, holder));
    },

    // `renewed` only when the lease this store held was refreshed and the
    // key still has the token this store got: a key that had gone with its
    // lease and was created anew is a new grant, however soon.
    async acquireLock(name, holder): Promise<LockOutcome> {
      const key = lockKey(name);
      const id = lockId(name, holderName(holder));
      try {
        return await call(`lock '${name}'`, async ({ kv, client, current }): Promise<LockOutcome> => {
          const held = heldLocks.get(id);
          const refreshed = held !== undefined && (await keepLeaseAlive(client, held.leaseId));
          const leaseId = refreshed ? held.leaseId : await grantLease(client, lockTtl);
          // Renew (or, after a restart, adopt) the holder's own lock: only
          // while the key still names this holder. Else take it if free.
          const put = (): ReturnType<Namespace['put']> => kv.put(key).value(holder).lease(leaseId);
          let txn = await kv.if(key, 'Value', '==', holder).then(put(), kv.get(key)).commit();
          if (!txn.succeeded) txn = await kv.if(key, 'Create', '==', 0).then(put(), kv.get(key)).commit();
          const now = txn.succeeded ? rangeResult(txn, 1) : undefined;
          // An attempt that answered too late: the call has moved on (or ended), and
          // what it remembers is another attempt's or a later call's. A key it put
          // meanwhile stays on its lease until the next renewal moves it back.
          if (!current()) return 'unknown';
          if (now !== undefined) {
            heldLocks.set(id, { leaseId, token: now.create_revision });
            // The key moved off an expired lease, or off a lost reply's: the old one holds nothing.
            if (held !== undefined && held.leaseId !== leaseId) dropLease(client, held.leaseId);
            return refreshed && held.token === now.create_revision ? 'renewed' : 'granted';
          }
          // The key is someone else's: a lease of ours has nothing to keep.
          heldLocks.delete(id);
          dropLease(client, leaseId);
          if (held !== undefined && held.leaseId !== leaseId) dropLease(client, held.leaseId);
          return 'refused';
        });
      } catch {
        // No answer (a member down, an election, the call's budget spent):
        // the lock may still be this holder's, or someone else's.
        return 'unknown';
      }
    },

    // Only the grant this store holds is released: the key must still have
    // its fencing token, so an unlock that comes late (a retried attempt, a
    // stalled process) cannot delete a lock granted anew since, even to a
    // process of the same name. A lock not held through this store is not
    // this store's to release.
    async unlock(name, holder) {
      const key = lockKey(name);
      const id = lockId(name, holderName(holder));
      const held = heldLocks.get(id);
      if (held === undefined) return false;
      heldLocks.delete(id);
      try {
        return await call(`unlock '${name}'`, async ({ kv, client }) => {
          const txn = await kv.if(key, 'Value', '==', holder).and(key, 'Create', '==', held.token).then(kv.delete().key(key)).commit();
          // The lease holds no key of ours now: deleted, or moved to another grant's.
          dropLease(client, held.leaseId);
          return txn.succeeded;
        });
      } catch {
        return false;
      }
    },

    withDomainLock(domain, holder, body, domainOptions) {
      const timeoutMs = domainOptions?.timeoutMs ?? DOMAIN_LOCK_TIMEOUT_MS;
      return withEtcdDomainLock({ cluster, domain, holder, body, timeoutMs });
    },

    // Members are whoever registered; online whoever's liveness key still
    // lives. Reading both needs a quorum (reads are linearizable), so a read
    // that succeeds is the proof of quorum.
    async membership(): Promise<StoreMembership> {
      try {
        return await call('membership', async ({ kv }) => {
          const members = await kv.getAll().prefix(MEMBERS).strings();
          const alive = new Set((await kv.getAll().prefix(ALIVE).keys()).map((key) => key.slice(ALIVE.length)));
          knownMembers = Object.keys(members)
            .map((key) => key.slice(MEMBERS.length))
            .sort();
          return {
            nodes: Object.fromEntries(
              knownMembers.map((node) => {
                // A member registered by an older version holds its name, not a stamp.
                const beat = Number(members[MEMBERS + node]);
                return [node, { online: alive.has(node), ...(Number.isFinite(beat) && beat > 0 ? { lastHeartbeatMs: beat } : {}) }];
              }),
            ),
            quorate: true,
          };
        });
      } catch {
        return { nodes: Object.fromEntries(knownMembers.map((node) => [node, { online: false }])), quorate: false };
      }
    },

    async heartbeat(node) {
      holderName(node);
      await call(`heartbeat of '${node}'`, async ({ kv, client }) => {
        const known = aliveLeases.get(node);
        const leaseId = known !== undefined && (await keepLeaseAlive(client, known)) ? known : await grantLease(client, aliveTtl);
        aliveLeases.set(node, leaseId);
        const stamp = String(clock());
        // The liveness key goes with its lease; the member key keeps the
        // stamp of the latest beat, so a new master knows when a node that
        // is already offline was last alive.
        // Both in one transaction (whichever branch runs), as before.
        const beat = kv.put(ALIVE + node).value(stamp).lease(leaseId);
        const member = kv.put(MEMBERS + node).value(stamp);
        await kv.if(MEMBERS + node, 'Create', '==', 0).then(member, beat).else(member, beat).commit();
      });
      if (options.profileName !== undefined && !announced.has(node)) {
        const running = writeRunningTiming({ profile: options.profileName, lockLifetimeMs: options.lockLifetimeMs ?? lockTtl * 1000 });
        await call(`announce the timing of '${node}'`, ({ kv }) => kv.put(filePath(runningTimingPath(node))).value(running).exec());
        announced.add(node);
      }
    },

    async refresh() {
      try {
        await call('refresh', ({ kv }) => kv.get(`${RESERVED_SEGMENT}/refresh`).exec());
        return true;
      } catch {
        return false;
      }
    },

    async close() {
      // Locks and liveness are left to their leases: a daemon that stops
      // without releasing must not seem to have released.
      heldLocks.clear();
      aliveLeases.clear();
      cluster.close();
    },
  };
  return store;
}
