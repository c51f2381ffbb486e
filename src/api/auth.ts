// Who is asking: an API token in the reference's header form, or a session
// cookie from the login form. Nothing here logs or returns a secret.

import type { IncomingMessage } from 'node:http';

import { CSRF_HEADER, SESSION_COOKIE, csrfMatches, type Session, type Sessions } from './sessions.js';
import type { Principal, TokenStore } from './tokens.js';

export type Authentication =
  | { ok: true; principal: Principal; via: 'token' }
  | { ok: true; principal: Principal; via: 'cookie'; session: Session }
  /** `tokenId` only when the header named a well-formed one, for the log. */
  | { ok: false; reason: string; tokenId?: string };

/**
 * `PVEAPIToken=USER@REALM!TOKENID=SECRET`; a space may stand for the first
 * `=` (`PVEAPIToken USER@REALM!TOKENID=SECRET`), which is what clients that
 * send `<type> <credentials>` produce (Prometheus' authorization setting).
 */
const TOKEN_HEADER_RE = /^PVEAPIToken[= ]([^=\s]+)=(\S+)$/;

export function sessionCookie(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export async function authenticate(req: IncomingMessage, tokens: TokenStore, sessions: Sessions): Promise<Authentication> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = TOKEN_HEADER_RE.exec(header.trim());
    if (match === null) return { ok: false, reason: 'malformed Authorization header (expected PVEAPIToken=USER@REALM!TOKENID=SECRET)' };
    const [, tokenId, secret] = match;
    const token = await tokens.verify(tokenId, secret);
    if (token === undefined) return { ok: false, reason: 'invalid token', tokenId };
    return { ok: true, principal: { tokenId: token.tokenId, role: token.role }, via: 'token' };
  }
  const id = sessionCookie(req);
  if (id !== undefined) {
    const session = await sessions.use(id);
    if (session === undefined) return { ok: false, reason: 'session expired or ended; log in again' };
    return { ok: true, principal: session.principal, via: 'cookie', session };
  }
  return { ok: false, reason: 'authentication required: send Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET, or log in' };
}

/** A cookie-authenticated change must carry the session's CSRF token; a token header needs none. */
export function csrfProblem(auth: Authentication, req: IncomingMessage): string | undefined {
  if (!auth.ok || auth.via !== 'cookie') return undefined;
  const value = req.headers[CSRF_HEADER];
  return csrfMatches(auth.session, typeof value === 'string' ? value : undefined) ? undefined : 'invalid CSRF prevention token';
}
