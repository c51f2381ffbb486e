// Cluster locks of the plain directory store: what pmxcfs does for /etc/pve,
// done by the store itself. A lock is a directory `priv/lock/<name>` (the
// path pmxcfs uses) holding a file `holder` with the holder's name; the
// directory's mtime is the lease, set to the store clock on every take and
// renewal. A lease not renewed for LOCK_LIFETIME_SECONDS has expired and the
// lock may be taken over.
//
// Every decision — take, renew, take over, release — is made and carried out
// under the lock's guard (store-guard.ts), so reading the holder and the
// lease and acting on them is one step as far as any other process can
// tell: two processes racing for an expired lock are served one after the
// other, and the second finds the lease renewed by the first.

import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeName } from '../../core/types.js';
import { LOCK_LIFETIME_SECONDS } from './store.js';
import { errnoCode, writeAtomically } from './store-files.js';
import { withGuard } from './store-guard.js';
import { RESERVED_SEGMENT, holderName, lockName } from './store-paths.js';

export const LOCK_DIR = 'priv/lock';

export interface LeaseLocks {
  lock(name: string, holder: NodeName): Promise<boolean>;
  unlock(name: string, holder: NodeName): Promise<boolean>;
}

export interface LeaseLocksOptions {
  /** Milliseconds; leases are stamped and judged with it. */
  clock: () => number;
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
  const lifetimeMs = LOCK_LIFETIME_SECONDS * 1000;
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
  };
}
