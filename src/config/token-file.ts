// The API token file of ha-api: one token per line,
//
//   <user>@<realm>!<tokenid> <role> sha256:<salt>:<hash>
//
// with `#` comments and blank lines ignored. The role is `audit` (read only)
// or `admin`. Only a salted hash of each secret is kept: salt is 16 random
// bytes in base64url, hash the hex SHA-256 of salt bytes followed by the
// secret's UTF-8 bytes. The secrets are random (122 bits, a UUID, as the
// reference's token secrets): no password stretching is needed to keep them
// out of reach, and checking one per request stays cheap.

import { ConfigError, type ConfigIssue } from './issues.js';

export const TOKEN_ROLES = ['audit', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export interface TokenEntry {
  /** `user@realm!tokenid`, as in the Authorization header. */
  id: string;
  role: TokenRole;
  /** Base64url salt. */
  salt: string;
  /** Hex SHA-256 of salt bytes + secret. */
  hash: string;
}

/** `user@realm!tokenid`: the reference's user name, realm and token name syntax. */
const TOKEN_ID_RE = /^[^\s:/@!=]+@[A-Za-z][A-Za-z0-9._-]*![A-Za-z][A-Za-z0-9._-]*$/;
const SALT_RE = /^[A-Za-z0-9_-]{16,}$/;
const HASH_RE = /^[0-9a-f]{64}$/;

/** Why `id` is not a valid token id, or undefined. */
export function checkTokenId(id: string): string | undefined {
  if (id.length > 256) return 'token id is longer than 256 characters';
  if (!TOKEN_ID_RE.test(id)) return `'${id}' is not a token id (expected USER@REALM!TOKENID, e.g. root@pam!monitoring)`;
  return undefined;
}

/** Reads a token file; throws a ConfigError naming file, line and field of every problem. */
export function parseTokenFile(text: string, file: string): TokenEntry[] {
  const issues: ConfigIssue[] = [];
  const entries: TokenEntry[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) return;
    const fields = content.split(/\s+/);
    if (fields.length !== 3) {
      issues.push({ file, line, message: `expected '<user@realm!tokenid> <role> sha256:<salt>:<hash>', got ${fields.length} fields` });
      return;
    }
    const [id, role, secret] = fields;
    const idProblem = checkTokenId(id);
    if (idProblem !== undefined) {
      issues.push({ file, line, field: 'id', message: idProblem });
      return;
    }
    if (seen.has(id)) {
      issues.push({ file, line, field: 'id', message: `token '${id}' is listed twice` });
      return;
    }
    if (!(TOKEN_ROLES as readonly string[]).includes(role)) {
      issues.push({ file, line, field: 'role', message: `unknown role '${role}' (expected ${TOKEN_ROLES.join(' or ')})` });
      return;
    }
    const parts = secret.split(':');
    if (parts.length !== 3 || parts[0] !== 'sha256' || !SALT_RE.test(parts[1]) || !HASH_RE.test(parts[2])) {
      // never echo the field: a secret pasted by mistake must not reach a log
      issues.push({ file, line, field: 'secret', message: 'expected sha256:<salt>:<hex hash> (a hashed secret, as written by ha-api token add)' });
      return;
    }
    seen.add(id);
    entries.push({ id, role: role as TokenRole, salt: parts[1], hash: parts[2] });
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return entries;
}

export function writeTokenFile(entries: readonly TokenEntry[]): string {
  const header = '# ha-api tokens: <user@realm!tokenid> <role: audit|admin> sha256:<salt>:<hash>\n';
  return header + entries.map((entry) => `${entry.id} ${entry.role} sha256:${entry.salt}:${entry.hash}\n`).join('');
}
