// A lock domain (ClusterStore.withDomainLock) on etcd, the recipe of etcd's
// own lock service: every contender puts a key below
// `<prefix>.ha-store/domain/<name>/` on the session lease of its store; the
// key with the lowest create revision holds the domain, the others wait
// their turn in that order. A contender that dies lets its session lease
// run out (SESSION_TTL seconds) and drops out of the queue; one that gives
// up deletes its key.
//
// The holder's changes are committed at the end in one transaction, and
// only if its key is still the one it created (the lease may have run out)
// and every file it read is unchanged: an `update` (compare-and-swap, which
// does not queue) may have changed one meanwhile. Then the body runs again
// on what is there now.

import { randomUUID } from 'node:crypto';
import type { EtcdEndpoints } from './etcd-endpoints.js';
import { grantLease, keepLeaseAlive } from './etcd-leases.js';
import { parseHolderNote, writeHolderNote } from './holder-note.js';
import { LockTimeoutError, domainLockTitle, type DomainFiles, type LockHolder } from './store.js';
import { RESERVED_SEGMENT, domainFilePath, lockName } from './store-paths.js';

/** Seconds a dead contender keeps its place; a live store keeps its session lease alive. */
const SESSION_TTL = 15;
/** Runs of the body when files it read keep changing under it. */
const MAX_RUNS = 20;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface EtcdDomainLockRequest<T> {
  /** The store's members: bounded, error-naming calls that move to another member on failure. */
  cluster: EtcdEndpoints;
  domain: string;
  holder: LockHolder;
  body: (files: DomainFiles) => Promise<T>;
  timeoutMs: number;
}

/**
 * One lease per store (its members) for all its contenders: a lease per
 * lock taken would cost etcd a grant and a revoke each time. It is kept
 * alive by the contenders themselves (no keep-alive stream or timer that
 * would hold a finished command's process open), and granted anew when it
 * ran out while nobody used it. Leases are cluster-wide: any member's client
 * grants and refreshes it.
 */
interface Session {
  id: string;
  refreshedAt: number;
}

const sessions = new WeakMap<EtcdEndpoints, Promise<Session>>();

async function grant(cluster: EtcdEndpoints, title: string): Promise<Session> {
  const id = await cluster.call(`take ${title}`, ({ client }) => grantLease(client, SESSION_TTL));
  return { id, refreshedAt: Date.now() };
}

/** The store's session lease, refreshed when a third of its time has gone. */
async function session(cluster: EtcdEndpoints, title: string): Promise<Session> {
  let current = sessions.get(cluster);
  if (current === undefined) {
    current = grant(cluster, title);
    sessions.set(cluster, current);
    current.catch(() => {
      if (sessions.get(cluster) === current) sessions.delete(cluster);
    });
  }
  const found = await current;
  if (Date.now() - found.refreshedAt < (SESSION_TTL * 1000) / 3) return found;
  if (await cluster.call(`take ${title}`, ({ client }) => keepLeaseAlive(client, found.id))) {
    found.refreshedAt = Date.now();
    return found;
  }
  if (sessions.get(cluster) === current) sessions.delete(cluster);
  return session(cluster, title);
}


export async function withEtcdDomainLock<T>(request: EtcdDomainLockRequest<T>): Promise<T> {
  const { cluster, domain, holder, body, timeoutMs } = request;
  const title = domainLockTitle(domain);
  const queue = `${RESERVED_SEGMENT}/domain/${lockName(domain)}/`;
  const deadline = Date.now() + timeoutMs;
  const note = (): string => writeHolderNote(holder, Date.now());
  const key = `${queue}${randomUUID()}`;
  const { id: leaseId } = await session(cluster, title);
  try {
    await cluster.call(`take ${title}`, ({ kv }) => kv.put(key).value(note()).lease(leaseId).exec());

    let created: string | undefined;
    for (let round = 0; ; round++) {
      const waiting = (await cluster.call(`take ${title}`, ({ kv }) => kv.getAll().prefix(queue).sort('Create', 'Ascend').exec())).kvs;
      const mine = waiting.find((entry) => entry.key.toString('utf8') === key);
      if (mine === undefined) throw new Error(`lock lost: ${title} - the lease ran out while waiting`);
      if (waiting[0] === mine) {
        created = mine.create_revision;
        break;
      }
      if (Date.now() >= deadline) {
        throw new LockTimeoutError(title, timeoutMs, parseHolderNote(waiting[0].value.toString('utf8')), waiting.length - 2);
      }
      // Polling, less often the further back: each look is a request to etcd.
      await session(cluster, title);
      const ahead = waiting.indexOf(mine);
      await sleep(Math.min(10 * ahead + 5 * Math.min(round, 20), 250) * (0.5 + Math.random()));
    }
    // Rewriting the note keeps the key's create revision, and says since when it is held.
    await cluster.call(`take ${title}`, ({ kv }) => kv.put(key).value(note()).lease(leaseId).exec());

    for (let run = 1; ; run++) {
      const seen = new Map<string, string>();
      const pending = new Map<string, string | undefined>();
      const readKey = async (file: string): Promise<string | undefined> => {
        if (pending.has(file)) return pending.get(file);
        const found = (await cluster.call(`read '${file}'`, ({ kv }) => kv.get(file).exec())).kvs[0];
        // An absent key compares as revision 0.
        if (!seen.has(file)) seen.set(file, found?.mod_revision ?? '0');
        return found?.value.toString('utf8');
      };
      const files: DomainFiles = {
        read: (path) => readKey(domainFilePath(domain, path)),
        async write(path, data) {
          pending.set(domainFilePath(domain, path), data);
        },
        async remove(path) {
          const file = domainFilePath(domain, path);
          const existed = (await readKey(file)) !== undefined;
          pending.set(file, undefined);
          return existed;
        },
      };
      const result = await body(files);
      if (pending.size === 0) return result;

      // The commit writes a marker of its own in the same transaction, so a
      // retry after an attempt whose reply was lost can tell it went through.
      const marker = `${RESERVED_SEGMENT}/applied/domain-${randomUUID()}`;
      const committed = await cluster.call(`write ${[...pending.keys()].join(', ')}`, async ({ kv, mayHaveApplied }) => {
        if (mayHaveApplied && (await kv.get(marker).exists())) return true;
        let txn = kv.if(key, 'Create', '==', created);
        for (const [file, revision] of seen) txn = txn.and(file, 'Mod', '==', revision);
        const ops = [...pending].map(([file, data]) => (data === undefined ? kv.delete().key(file) : kv.put(file).value(data)));
        return (await txn.then(...ops, kv.put(marker).value('').lease(leaseId)).commit()).succeeded;
      });
      if (committed) return result;
      if (!(await cluster.call(`check ${title}`, ({ kv }) => kv.get(key).exists()))) {
        throw new Error(`lock lost: ${title} - the lease ran out before the change was written; nothing was written`);
      }
      if (run >= MAX_RUNS) throw new Error(`the HA files kept changing while ${title} was held (${run} attempts); nothing was written`);
    }
  } finally {
    // The next in the queue goes on; should this fail, the session lease takes the key away.
    await cluster.call(`release ${title}`, ({ kv }) => kv.delete().key(key).exec()).catch(() => undefined);
  }
}
