// Sessions of the web interface: the login form exchanges a token for a
// session, kept in the server's memory and named by an HttpOnly cookie. Each
// session has its own CSRF prevention token, which every cookie-authenticated
// write must carry in a header (a page of another site can make the browser
// send the cookie, but cannot read the token). A session lasts SESSION_IDLE_MS
// after its last use, and no longer than its token: it is checked against
// the token file on every use.

import { randomBytes, timingSafeEqual } from 'node:crypto';

import type { Principal, TokenStore, VerifiedToken } from './tokens.js';

export const SESSION_COOKIE = 'HAAuthCookie';
export const CSRF_HEADER = 'csrfpreventiontoken';
/** Two hours after its last use, as the reference's tickets live. */
export const SESSION_IDLE_MS = 2 * 3600 * 1000;
/** Sessions kept at most; the least recently used goes first. */
const MAX_SESSIONS = 1000;

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly principal: Principal;
  readonly hash: string;
  lastUsed: number;
}

export interface Sessions {
  open(token: VerifiedToken): Session;
  /** The live session with this id, its token still valid; its idle time starts again. */
  use(id: string): Promise<Session | undefined>;
  close(id: string): void;
}

export function createSessions(tokens: TokenStore, now: () => number = Date.now): Sessions {
  // A Map keeps insertion order: re-inserting on use keeps the least recently used first.
  const sessions = new Map<string, Session>();
  return {
    open(token) {
      const session: Session = {
        id: randomBytes(32).toString('base64url'),
        csrf: randomBytes(24).toString('base64url'),
        principal: { tokenId: token.tokenId, role: token.role },
        hash: token.hash,
        lastUsed: now(),
      };
      sessions.set(session.id, session);
      while (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
      return session;
    },
    async use(id) {
      const session = sessions.get(id);
      if (session === undefined) return undefined;
      if (now() - session.lastUsed > SESSION_IDLE_MS) {
        sessions.delete(id);
        return undefined;
      }
      const principal = await tokens.stillValid(session.principal.tokenId, session.hash);
      if (principal === undefined || principal.role !== session.principal.role) {
        sessions.delete(id);
        return undefined;
      }
      session.lastUsed = now();
      sessions.delete(id);
      sessions.set(id, session);
      return session;
    },
    close(id) {
      sessions.delete(id);
    },
  };
}

/** Whether the header carries this session's CSRF token (compared in constant time). */
export function csrfMatches(session: Session, header: string | undefined): boolean {
  if (header === undefined) return false;
  const given = Buffer.from(header, 'utf8');
  const expected = Buffer.from(session.csrf, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
