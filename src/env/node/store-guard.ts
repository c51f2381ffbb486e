// Mutual exclusion between processes through a directory, for the plain
// directory store: the "lock of the lock" under which a lease lock is
// inspected and changed, and under which an update (or a whole lock domain,
// withDomainLock) reads, changes and writes files.
//
// Contenders are served in the order they came, by Lamport's bakery
// algorithm on files: a contender announces that it is choosing (a
// `c~<id>` file), lists the directory, takes a ticket one above the highest
// it saw (a `t~<number>~<id>` file), and withdraws the choosing file. It
// holds the guard once no ticket below its own (number, then id) is left
// and every contender that was choosing when it first looked has finished
// choosing. Whoever starts choosing after that sees its ticket and takes a
// higher one, so two contenders never both hold the guard; and since
// tickets only grow while someone waits, nobody is overtaken. (The earlier
// "create, list, back off if not alone" scheme livelocked under load: with
// a hundred contenders almost nobody was ever alone.)
//
// Each file has a unique name, so a claim left by a dead process can be
// removed by name without ever removing a live one: a claim is dead when
// its process is gone (the name carries the host name, the pid and the
// process start time, from /proc, so a reused pid does not keep it alive).
// Claims from another host (shared storage) cannot be checked that way and
// count as dead only after FOREIGN_CLAIM_STALE_MS. A ticket holds a note of
// who holds it (node, pid, command) for the message of a waiter that gives
// up, which names the holder and never the guard's files.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { parseHolderNote, writeHolderNote } from './holder-note.js';
import { LockTimeoutError, type LockHolder, type LockHolderSeen } from './store.js';
import { errnoCode } from './store-files.js';

/** A claim from another host older than this is taken as left by a dead process. */
export const FOREIGN_CLAIM_STALE_MS = 120_000;

const SEPARATOR = '~';
const TICKET_DIGITS = 16;

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

/** What this process says it is doing, for the holder notes: `ha-manager add vm:100`. */
function processCommand(): string {
  const [script, ...args] = process.argv.slice(1);
  const text = [script === undefined ? basename(process.execPath) : basename(script), ...args].join(' ');
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The holder a claim names when its owner gave none. */
function defaultHolder(): LockHolder {
  return { node: hostname().split('.')[0], pid: process.pid, command: processCommand() };
}

interface Claim {
  name: string;
  kind: 'choosing' | 'ticket';
  /** Ticket number; 0 for a claim of the earlier scheme, which counts as ahead of every ticket. */
  number: number;
  host: string;
  pid: number;
  start: string;
}

function parseClaim(name: string): Claim | undefined {
  const parts = name.split(SEPARATOR);
  let kind: Claim['kind'] = 'ticket';
  let number = 0;
  let rest: string[];
  if (parts[0] === 'c' && parts.length === 5) {
    kind = 'choosing';
    rest = parts.slice(1);
  } else if (parts[0] === 't' && parts.length === 6 && /^\d+$/.test(parts[1])) {
    number = Number(parts[1]);
    rest = parts.slice(2);
  } else if (parts.length === 4) {
    rest = parts;
  } else {
    return undefined;
  }
  const pid = Number(rest[1]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { name, kind, number, host: rest[0], pid, start: rest[2] };
}

/** Queue order: ticket number, then name. */
function before(a: Claim, b: Claim): boolean {
  return a.number !== b.number ? a.number < b.number : a.name < b.name;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

async function claimIsDead(dir: string, name: string, claim: Claim | undefined): Promise<boolean> {
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

async function readNote(path: string, claim: Claim): Promise<LockHolderSeen> {
  // a claim of the earlier scheme (empty), or one being written, says only its pid
  const text = await fs.readFile(path, 'utf8').catch(() => '');
  return parseHolderNote(text) ?? { pid: claim.pid };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** In this process, one contender per guard at a time: others queue here instead of in the directory. */
const localQueues = new Map<string, Promise<void>>();

export interface GuardOptions {
  /** Give up after this many milliseconds of waiting (real time). */
  timeoutMs: number;
  /** What the guard protects, for messages: `the HA config lock`, `lock 'ha_manager_lock'`. */
  what: string;
  /** Who takes it, for the message of those who time out waiting (default: this process). */
  holder?: LockHolder;
  /** The store, for messages: `directory /srv/ha`. */
  store?: string;
}

/** A file-system failure said without the guard's internal paths. */
function guardFailure(options: GuardOptions, err: unknown): Error {
  const code = errnoCode(err);
  const where = options.store ?? 'the cluster store';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    const why = code === 'EROFS' ? 'is on a read-only file system' : 'is not writable by this user';
    return new Error(`cannot get ${options.what}: ${where} ${why} (${code})`);
  }
  if (code === 'ENOSPC') return new Error(`cannot get ${options.what}: no space left for ${where} (ENOSPC)`);
  return new Error(`cannot get ${options.what} in ${where}: ${code ?? (err instanceof Error ? err.message : String(err))}`);
}

async function createClaim(path: string, content: string): Promise<void> {
  const handle = await fs.open(path, 'wx', 0o600);
  try {
    if (content !== '') await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
}


/** Takes a ticket; resolves to its claim once it is at the head of the queue. */
async function acquire(dir: string, options: GuardOptions, deadline: number): Promise<Claim> {
  const holder = options.holder ?? defaultHolder();
  const id = [self.host, self.pid, self.start, randomBytes(8).toString('hex')].join(SEPARATOR);
  const choosing = join(dir, `c${SEPARATOR}${id}`);
  let mine: Claim;
  try {
    await fs.mkdir(dir, { recursive: true });
    await createClaim(choosing, '');
  } catch (err) {
    throw guardFailure(options, err);
  }
  try {
    let highest = 0;
    for (const name of await fs.readdir(dir)) {
      const claim = parseClaim(name);
      if (claim?.kind === 'ticket') highest = Math.max(highest, claim.number);
    }
    const name = ['t', String(highest + 1).padStart(TICKET_DIGITS, '0'), id].join(SEPARATOR);
    await createClaim(join(dir, name), writeHolderNote(holder, Date.now()));
    mine = parseClaim(name) as Claim;
  } catch (err) {
    await fs.unlink(choosing).catch(() => undefined);
    throw guardFailure(options, err);
  }
  await fs.unlink(choosing).catch(() => undefined);

  const ticket = join(dir, mine.name);
  let blockers: Set<string> | undefined;
  try {
    for (let round = 0; ; round++) {
      const names = await fs.readdir(dir);
      // Contenders choosing when we first looked may not have seen our
      // ticket; those starting later did, and take higher tickets.
      blockers ??= new Set(names.filter((name) => name !== mine.name && parseClaim(name)?.kind === 'choosing'));
      let first: { name: string; claim: Claim | undefined } | undefined;
      let head: Claim | undefined;
      let ahead = 0;
      for (const name of names) {
        if (name === mine.name) continue;
        const claim = parseClaim(name);
        const blocking = claim === undefined || (claim.kind === 'choosing' ? blockers.has(name) : before(claim, mine));
        if (!blocking) continue;
        ahead++;
        if (claim?.kind === 'ticket' && (head === undefined || before(claim, head))) head = claim;
        // A file that is no claim (foreign, or damaged) is looked at first: only its age can clear it.
        if (first === undefined || (first.claim !== undefined && (claim === undefined || before(claim, first.claim)))) {
          first = { name, claim };
        }
      }
      if (first === undefined) {
        // Ours now: say since when, for those who will wait behind us.
        await fs.writeFile(ticket, writeHolderNote(holder, Date.now())).catch(() => undefined);
        return mine;
      }
      // Only the one in front can be keeping us; the rest are looked at when they get there.
      if ((await claimIsDead(dir, first.name, first.claim)) && (await removeClaim(join(dir, first.name)))) continue;
      if (Date.now() >= deadline) {
        const seen = head === undefined ? undefined : await readNote(join(dir, head.name), head);
        const behind = names.filter((name) => name !== mine.name && parseClaim(name)?.kind === 'ticket').length - 1;
        throw new LockTimeoutError(options.what, options.timeoutMs, seen, Math.max(0, behind));
      }
      // The head of the queue looks often, those further back less often.
      await sleep(Math.min(2 + ahead * 2, 50) * (0.5 + Math.random()));
    }
  } catch (err) {
    await fs.unlink(ticket).catch(() => undefined);
    if (err instanceof LockTimeoutError) throw err;
    throw guardFailure(options, err);
  }
}

/** Who holds each guard in this process, for the message of a waiter queued behind it here. */
const localHolders = new Map<string, LockHolderSeen>();

/** Resolves with `previous`, or rejects with `timeout()` at the deadline. */
async function waitUntil(previous: Promise<void>, deadline: number, timeout: () => Error): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      previous,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeout()), Math.max(0, deadline - Date.now()));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `body` while holding the guard kept in directory `dir`. */
export async function withGuard<T>(dir: string, options: GuardOptions, body: () => Promise<T>): Promise<T> {
  // The wait in this process's queue counts against the timeout too.
  const deadline = Date.now() + options.timeoutMs;
  const previous = localQueues.get(dir) ?? Promise.resolve();
  let finish = (): void => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  // Those queued behind wait for this one, and (should it give up) for the ones in front.
  const tail = previous.then(() => finished);
  localQueues.set(dir, tail);
  try {
    await waitUntil(previous, deadline, () => new LockTimeoutError(options.what, options.timeoutMs, localHolders.get(dir)));
    const claim = await acquire(dir, options, deadline);
    localHolders.set(dir, { ...(options.holder ?? defaultHolder()), since: Date.now() });
    try {
      return await body();
    } finally {
      localHolders.delete(dir);
      await fs.unlink(join(dir, claim.name)).catch(() => undefined);
    }
  } finally {
    finish();
    if (localQueues.get(dir) === tail) localQueues.delete(dir);
  }
}
