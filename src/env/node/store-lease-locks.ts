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
// A fenced change (a write conditioned on holding the lock) runs under the
// same guard: the holder and the lease are checked and the change made while
// nobody can take the lock over. The holder file names a node, not a grant,
// so a holder that lost the lock and took it back passes the check again;
// between those two, its changes are refused.

import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeName } from '../../core/types.js';
import { LockLostError, type StoreFence } from './store.js';
import { errnoCode, writeAtomically } from './store-files.js';
import { withGuard } from './store-guard.js';
import { RESERVED_SEGMENT, holderName, lockName } from './store-paths.js';

export const LOCK_DIR = 'priv/lock';

export interface LeaseLocks {
  lock(name: string, holder: NodeName): Promise<boolean>;
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
}

interface LockState {
  /** Undefined when the directory has no readable holder file (a half-made or foreign lock). */
  holder: string | undefined;
  renewedAtMs: number;
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
  const holder = await fs.readFile(join(dir, 'holder'), 'utf8').then(
    (text) => text.trim() || undefined,
    (err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    },
  );
  return { holder, renewedAtMs: stat.mtimeMs };
}

export function createLeaseLocks(root: string, options: LeaseLocksOptions): LeaseLocks {
  const { lifetimeMs } = options;
  const lockDir = (name: string): string => join(root, LOCK_DIR, lockName(name));
  const guardDir = (name: string): string => join(root, RESERVED_SEGMENT, 'guards', `lock-${name}`);
  const stamp = (dir: string, ms: number): Promise<void> => fs.utimes(dir, ms / 1000, ms / 1000);

  return {
    async lock(name, holder) {
      const dir = lockDir(name);
      holderName(holder);
      try {
        return await withGuard(guardDir(name), { timeoutMs: options.guardTimeoutMs, what: `exclusive access to lock '${name}'` }, async () => {
          const now = options.clock();
          const state = await inspect(dir);
          if (state === undefined) {
            await fs.mkdir(join(root, LOCK_DIR), { recursive: true });
            await fs.mkdir(dir);
          } else if (state.holder !== holder && now - state.renewedAtMs <= lifetimeMs) {
            return false;
          }
          if (state?.holder !== holder) await writeAtomically(join(dir, 'holder'), `${holder}\n`, options.durable);
          // Last: writing the holder file moved the mtime to the real time.
          await stamp(dir, now);
          return true;
        });
      } catch {
        return false; // never true without certainty
      }
    },

    async unlock(name, holder) {
      const dir = lockDir(name);
      holderName(holder);
      try {
        return await withGuard(guardDir(name), { timeoutMs: options.guardTimeoutMs, what: `exclusive access to lock '${name}'` }, async () => {
          const state = await inspect(dir);
          if (state === undefined || state.holder !== holder) return false;
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
      return withGuard(guardDir(fence.lock), { timeoutMs: options.guardTimeoutMs, what: `lock '${fence.lock}'` }, async () => {
        const state = await inspect(dir);
        if (state === undefined) throw new LockLostError(fence, what, 'the lock is free');
        if (state.holder !== fence.holder) throw new LockLostError(fence, what, `'${state.holder ?? '(nobody readable)'}' holds it`);
        if (options.clock() - state.renewedAtMs > lifetimeMs) throw new LockLostError(fence, what, 'its lease expired');
        return change();
      });
    },
  };
}
