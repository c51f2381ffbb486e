// Cluster locks of the plain directory store: what pmxcfs does for /etc/pve,
// done by the store itself. A lock is a directory `priv/lock/<name>` (the
// path pmxcfs uses) holding a file `holder` with the holder's name; the
// directory's mtime is the lease, set to the store clock on every take and
// renewal. A lease not renewed for the lock lifetime has expired and the
// lock may be taken over.
//
// Every decision — take, renew, take over, release — is made and carried out
// under the lock's guard (store-guard.ts), so reading the holder and the
// lease and acting on them is one step as far as any other process can
// tell: two processes racing for an expired lock are served one after the
// other, and the second finds the lease renewed by the first.
//
// The `lease` file also records the holder's lock lifetime (and profile
// name): every process judges a lease by the longer of its own lifetime
// and the holder's, so a node on another timing profile never takes a lock
// its holder still counts as held.
//
// Every grant — a take of a free lock, a takeover, a re-take by a holder
// whose own lease had run out — writes a new random grant id to the file
// `lease` beside `holder` (the directory store's fencing token); a renewal
// keeps it. The store remembers the grant each of its holders got: a renewal
// that finds another grant, or a lease that ran out, is a new grant
// (`granted`, not `renewed`: the holder lost the lock in between).
//
// A fenced change (a write conditioned on holding the lock) runs under the
// same guard: the holder, the lease and the grant this store got are
// checked and the change made while nobody can take the lock over. A
// process that lost the lock is refused even when a process of the same
// name took it back.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeName } from '../../core/types.js';
import { lockGranted, LockLostError, type LockOutcome, type StoreFence } from './store.js';
import { errnoCode, writeAtomically } from './store-files.js';
import { withGuard } from './store-guard.js';
import { RESERVED_SEGMENT, holderName, lockName } from './store-paths.js';

export const LOCK_DIR = 'priv/lock';

export interface LeaseLocks {
  lock(name: string, holder: NodeName): Promise<boolean>;
  acquireLock(name: string, holder: NodeName): Promise<LockOutcome>;
  unlock(name: string, holder: NodeName): Promise<boolean>;
  /**
   * Runs `change` under the lock's guard, after checking that the fence's
   * holder has the lock and its lease has not run out; otherwise rejects
   * with a LockLostError naming `what`.
   */
  whileHeld<T>(fence: StoreFence, what: string, change: () => Promise<T>): Promise<T>;
}

export interface LeaseLocksOptions {
  /** Milliseconds; leases are stamped and judged with it. */
  clock: () => number;
  /** A lease not renewed this long (on `clock`) has expired. */
  lifetimeMs: number;
  /** Longest wait for a lock's guard before answering false. */
  guardTimeoutMs: number;
  durable: boolean;
  /** The timing profile this store's holders run, recorded in the lock (for people and `timing set`). */
  profileName?: string;
}

interface LockState {
  /** Undefined when the directory has no readable holder file (a half-made or foreign lock). */
  holder: string | undefined;
  renewedAtMs: number;
  /** The grant id (fencing token); undefined for a lock written without one. */
  grant: string | undefined;
  /** The lock lifetime its holder runs on, as recorded; undefined for a lock written without it. */
  lifetimeMs: number | undefined;
}

/** The `lease` file: `key: value` lines. */
function parseLease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([a-z-]+):\s*(\S+)$/.exec(line.trim());
    if (match !== null) fields.set(match[1], match[2]);
  }
  return fields;
}

async function readOptional(path: string): Promise<string | undefined> {
  return fs.readFile(path, 'utf8').then(
    (text) => text,
    (err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    },
  );
}

async function inspect(dir: string): Promise<LockState | undefined> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  if (!stat.isDirectory()) throw new Error(`lock '${dir}' is not a directory`);
  const holder = (await readOptional(join(dir, 'holder')))?.trim() || undefined;
  const lease = parseLease((await readOptional(join(dir, 'lease'))) ?? '');
  const lifetime = Number(lease.get('lifetime-ms'));
  return { holder, renewedAtMs: stat.mtimeMs, grant: lease.get('grant'), lifetimeMs: Number.isFinite(lifetime) && lifetime > 0 ? lifetime : undefined };
}

export function createLeaseLocks(root: string, options: LeaseLocksOptions): LeaseLocks {
  const { lifetimeMs } = options;
  const lockDir = (name: string): string => join(root, LOCK_DIR, lockName(name));
  const guardDir = (name: string): string => join(root, RESERVED_SEGMENT, 'guards', `lock-${name}`);
  const stamp = (dir: string, ms: number): Promise<void> => fs.utimes(dir, ms / 1000, ms / 1000);
  /** The grant each holder of this store got, by lock and holder. */
  const grants = new Map<string, string>();
  const grantId = (name: string, holder: NodeName): string => `${name}\0${holder}`;
  // The holder's lifetime, when it recorded one and it is longer: a node on
  // a shorter profile (an older timing.cfg, a node not restarted yet) must
  // not take a lock its holder still counts as held, and its watchdog as armed.
  const expired = (state: LockState, now: number): boolean => now - state.renewedAtMs > Math.max(lifetimeMs, state.lifetimeMs ?? 0);
  const leaseText = (grant: string): string =>
    `grant: ${grant}\nlifetime-ms: ${lifetimeMs}\n${options.profileName !== undefined ? `profile: ${options.profileName}\n` : ''}`;

  const acquireLock = async (name: string, holder: NodeName): Promise<LockOutcome> => {
    const dir = lockDir(name);
    holderName(holder);
    const id = grantId(name, holder);
    try {
      return await withGuard(guardDir(name), { timeoutMs: options.guardTimeoutMs, what: `exclusive access to lock '${name}'` }, async () => {
        const now = options.clock();
        const state = await inspect(dir);
        if (state === undefined) {
          await fs.mkdir(join(root, LOCK_DIR), { recursive: true });
          await fs.mkdir(dir);
        } else if (state.holder !== holder && !expired(state, now)) {
          return 'refused';
        }
        // Renewed only when the lease still ran and the grant is the one this store got.
        const mine = grants.get(id);
        const renewed = state !== undefined && state.holder === holder && !expired(state, now) && mine !== undefined && state.grant === mine;
        if (!renewed) {
          grants.delete(id);
          const grant = randomBytes(8).toString('hex');
          if (state?.holder !== holder) await writeAtomically(join(dir, 'holder'), `${holder}\n`, options.durable);
          await writeAtomically(join(dir, 'lease'), leaseText(grant), options.durable);
          grants.set(id, grant);
        }
        // Last: writing the files moved the mtime to the real time.
        await stamp(dir, now);
        return renewed ? 'renewed' : 'granted';
      });
    } catch {
      return 'unknown'; // no access in time: never true without certainty, never refused without it either
    }
  };

  return {
    acquireLock,
    async lock(name, holder) {
      return lockGranted(await acquireLock(name, holder));
    },

    async unlock(name, holder) {
      const dir = lockDir(name);
      holderName(holder);
      const id = grantId(name, holder);
      const mine = grants.get(id);
      grants.delete(id);
      try {
        return await withGuard(guardDir(name), { timeoutMs: options.guardTimeoutMs, what: `exclusive access to lock '${name}'` }, async () => {
          const state = await inspect(dir);
          if (state === undefined || state.holder !== holder) return false;
          // Taken again since (by a process of the same name): not this store's to release.
          if (mine !== undefined && state.grant !== mine) return false;
          await fs.rm(join(dir, 'lease'), { force: true });
          await fs.unlink(join(dir, 'holder'));
          await fs.rmdir(dir);
          return true;
        });
      } catch {
        return false;
      }
    },

    async whileHeld(fence, what, change) {
      const dir = lockDir(fence.lock);
      holderName(fence.holder);
      // The grant as the change starts, as etcd takes its token: a re-take while it waits for the guard fails it.
      const mine = grants.get(grantId(fence.lock, fence.holder));
      return withGuard(guardDir(fence.lock), { timeoutMs: options.guardTimeoutMs, what: `lock '${fence.lock}'` }, async () => {
        const state = await inspect(dir);
        if (state === undefined) throw new LockLostError(fence, what, 'the lock is free');
        if (state.holder !== fence.holder) throw new LockLostError(fence, what, `'${state.holder ?? '(nobody readable)'}' holds it`);
        if (expired(state, options.clock())) throw new LockLostError(fence, what, 'its lease expired');
        if (mine === undefined) throw new LockLostError(fence, what, 'not held through this store');
        if (state.grant !== mine) throw new LockLostError(fence, what, `taken again since (grant ${mine}, now ${state.grant ?? 'none'})`);
        return change();
      });
    },
  };
}
