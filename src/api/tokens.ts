// API tokens: creating one (`ha-api token add`), and checking a presented
// secret against the token file. The file is read again whenever it
// changes, so a token added or removed takes effect without a restart (and
// a removed token ends the sessions opened with it: see sessions.ts).

import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';

import { checkTokenId, parseTokenFile, writeTokenFile, type TokenEntry, type TokenRole } from '../config/token-file.js';

export type { TokenRole } from '../config/token-file.js';

/** Who made a request: the token (its id, never its secret) and its role. */
export interface Principal {
  tokenId: string;
  role: TokenRole;
}

export function hashSecret(salt: string, secret: string): string {
  return createHash('sha256').update(Buffer.from(salt, 'base64url')).update(secret, 'utf8').digest('hex');
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A token whose secret was presented: its principal and stored hash (which ties a session to this very secret). */
export interface VerifiedToken extends Principal {
  hash: string;
}

export interface TokenStore {
  /** The token when `secret` is its secret; undefined otherwise (unknown id included). */
  verify(tokenId: string, secret: string): Promise<VerifiedToken | undefined>;
  /** The token's principal if it still exists with the same secret (a session's token, checked on each use). */
  stillValid(tokenId: string, hash: string): Promise<Principal | undefined>;
}

/**
 * Reads `file` on first use and again when its size or modification time
 * changes. A file that cannot be read fails every check (no token is valid)
 * and the problem is reported once through `warn`.
 */
export function openTokenStore(file: string, warn: (message: string) => void): TokenStore {
  let cached: { key: string; entries: Map<string, TokenEntry> } | undefined;
  let lastProblem: string | undefined;

  const entries = async (): Promise<Map<string, TokenEntry>> => {
    try {
      const info = await stat(file);
      const key = `${info.size}:${info.mtimeMs}:${info.ino}`;
      if (cached?.key !== key) {
        const list = parseTokenFile(await readFile(file, 'utf8'), file);
        cached = { key, entries: new Map(list.map((entry) => [entry.id, entry])) };
      }
      lastProblem = undefined;
      return cached.entries;
    } catch (err) {
      const problem = `cannot read the token file: ${err instanceof Error ? err.message : String(err)}`;
      if (problem !== lastProblem) warn(problem);
      lastProblem = problem;
      cached = undefined;
      return new Map();
    }
  };

  return {
    async verify(tokenId, secret) {
      const entry = (await entries()).get(tokenId);
      // An unknown id costs the same hashing as a known one: timing tells nothing.
      const hash = hashSecret(entry?.salt ?? 'AAAAAAAAAAAAAAAAAAAAAA', secret);
      if (entry === undefined || !sameHash(hash, entry.hash)) return undefined;
      return { tokenId, role: entry.role, hash: entry.hash };
    },
    async stillValid(tokenId, hash) {
      const entry = (await entries()).get(tokenId);
      if (entry === undefined || !sameHash(hash, entry.hash)) return undefined;
      return { tokenId, role: entry.role };
    },
  };
}

/**
 * Adds a token to the file (created with mode 0600 if missing) and returns
 * its secret, which is stored nowhere else. Refuses an id already present.
 */
export async function addToken(file: string, tokenId: string, role: TokenRole): Promise<string> {
  const problem = checkTokenId(tokenId);
  if (problem !== undefined) throw new Error(problem);
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const list = parseTokenFile(text, file);
  if (list.some((entry) => entry.id === tokenId)) {
    throw new Error(`token '${tokenId}' exists already in ${file} (remove its line to replace it)`);
  }
  const secret = randomUUID();
  const salt = randomBytes(16).toString('base64url');
  list.push({ id: tokenId, role, salt, hash: hashSecret(salt, secret) });
  // Written beside the file and renamed over it: a reader sees the old or the new file, never half of one.
  const temp = `${file}.tmp-${process.pid}`;
  await writeFile(temp, writeTokenFile(list), { mode: 0o600 });
  await rename(temp, file);
  return secret;
}
