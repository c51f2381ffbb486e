// Mutual exclusion between processes on one machine through a directory,
// for the plain directory store: the "lock of the lock" under which a lease
// lock is inspected and changed, and under which an update reads, changes
// and writes a file.
//
// A contender announces itself by creating a file with a unique name in the
// guard directory (O_EXCL), then lists the directory: alone, it has the
// guard; not alone, it withdraws its file and tries again after a random
// pause. Two contenders can never both be alone: each created its file
// before listing, so whichever listed second saw the other's file. Unlike a
// single well-known lock file, recovering from a contender that died inside
// the guard needs no compare-and-delete (which plain files cannot do without
// a race): the dead one's file has a unique name that nobody else will ever
// use, so removing it by name can never remove a live contender's claim.
//
// A claim is dead when its process is gone: the name carries the host name,
// the pid and the process start time (from /proc, so a reused pid does not
// keep a dead claim alive). Claims from another host (shared storage) cannot
// be checked that way and count as dead only after FOREIGN_CLAIM_STALE_MS.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { errnoCode } from './store-files.js';

/** A claim from another host older than this is taken as left by a dead process. */
export const FOREIGN_CLAIM_STALE_MS = 120_000;

const SEPARATOR = '~';

/** Start time of a process (clock ticks since boot), or '0' where /proc cannot tell. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count
    // fields from the last ')'. Start time is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '0';
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && pid !== process.pid) return undefined;
    return '0';
  }
}

const self = {
  host: encodeURIComponent(hostname()),
  pid: process.pid,
  start: processStart(process.pid) ?? '0',
};

interface Claim {
  host: string;
  pid: number;
  start: string;
}

function parseClaim(name: string): Claim | undefined {
  const parts = name.split(SEPARATOR);
  if (parts.length !== 4) return undefined;
  const pid = Number(parts[1]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { host: parts[0], pid, start: parts[2] };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

async function claimIsDead(dir: string, name: string): Promise<boolean> {
  const claim = parseClaim(name);
  if (claim !== undefined && claim.host === self.host) {
    if (!processAlive(claim.pid)) return true;
    const start = processStart(claim.pid);
    return start === undefined || (start !== '0' && claim.start !== '0' && start !== claim.start);
  }
  // Another host, or a file that is no claim of ours: only age can tell.
  const stat = await fs.stat(join(dir, name)).catch(() => undefined);
  return stat !== undefined && Date.now() - stat.mtimeMs > FOREIGN_CLAIM_STALE_MS;
}

/** Removes a dead claim; true when it is gone (also when someone else removed it first). */
async function removeClaim(path: string): Promise<boolean> {
  try {
    await fs.unlink(path);
    return true;
  } catch (err) {
    return errnoCode(err) === 'ENOENT';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** In this process, one contender per guard at a time: others queue here instead of spinning. */
const localQueues = new Map<string, Promise<unknown>>();

export interface GuardOptions {
  /** Give up after this many milliseconds of waiting (real time). */
  timeoutMs: number;
  /** For the error message: what the guard protects, e.g. `lock 'ha_manager_lock'`. */
  what: string;
}

async function acquire(dir: string, options: GuardOptions, deadline: number): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const name = [self.host, self.pid, self.start, randomBytes(8).toString('hex')].join(SEPARATOR);
    const mine = join(dir, name);
    const handle = await fs.open(mine, 'wx', 0o600);
    await handle.close();
    let others: string[];
    try {
      others = (await fs.readdir(dir)).filter((entry) => entry !== name);
    } catch (err) {
      await fs.unlink(mine).catch(() => undefined);
      throw err;
    }
    if (others.length === 0) return mine;
    await fs.unlink(mine);
    let blocked = false;
    for (const other of others) {
      if (!(await claimIsDead(dir, other))) blocked = true;
      else if (!(await removeClaim(join(dir, other)))) blocked = true;
    }
    // Only dead claims were in the way and they are gone: go again at once,
    // however late (that is progress, not waiting).
    if (!blocked) continue;
    if (Date.now() >= deadline) {
      throw new Error(`cannot get exclusive access for ${options.what} within ${options.timeoutMs} ms: busy (${others.join(', ')} in ${dir})`);
    }
    await sleep(1 + Math.random() * Math.min(2 ** attempt, 20));
  }
}

/** Runs `body` while holding the guard kept in directory `dir`. */
export async function withGuard<T>(dir: string, options: GuardOptions, body: () => Promise<T>): Promise<T> {
  // The wait in this process's queue counts against the timeout too.
  const deadline = Date.now() + options.timeoutMs;
  const previous = localQueues.get(dir) ?? Promise.resolve();
  const run = previous.then(
    () => undefined,
    () => undefined,
  ).then(async () => {
    const claim = await acquire(dir, options, deadline);
    try {
      return await body();
    } finally {
      await fs.unlink(claim).catch(() => undefined);
    }
  });
  localQueues.set(dir, run);
  try {
    return await run;
  } finally {
    if (localQueues.get(dir) === run) localQueues.delete(dir);
  }
}
