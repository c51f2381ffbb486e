// ha-api's request handling: static files of the web interface (public),
// the session calls (access/ticket), and behind authentication every
// administrative operation through the service layer (src/admin/invoke.ts),
// the event stream and /metrics. Each request gets its own AdminContext
// naming who asks, so a waiter for the HA config lock is told which API
// call holds it.

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { performance } from 'node:perf_hooks';

import type { AdminContext, AdminResourceType } from '../admin/context.js';
import { AdminError } from '../admin/errors.js';
import { invoke } from '../admin/invoke.js';
import { OPERATIONS } from '../admin/operations.js';
import { validateParams } from '../admin/schema.js';
import type { ClusterStore } from '../env/node/store.js';
import { authenticate, csrfProblem, type Authentication } from './auth.js';
import { createEventHub, type EventHub } from './events.js';
import { DEFAULT_MAX_BODY, HttpError, readBody, requestParams, sendData, sendError, COMMON_HEADERS } from './http-io.js';
import { createApiMetrics, type ApiMetrics } from './metrics.js';
import { API_PREFIX, matchRoute, type Route } from './routes.js';
import { SESSION_COOKIE, SESSION_IDLE_MS, createSessions, type Sessions } from './sessions.js';
import type { StaticFiles } from './static-files.js';
import { statusView } from './status-view.js';
import type { TokenStore } from './tokens.js';

export type ApiLogLevel = 'info' | 'warn' | 'error';
/** Log lines carry no secret: callers pass token ids, never secrets, headers or bodies. */
export type ApiLog = (level: ApiLogLevel, msg: string, fields?: Record<string, string | number>) => void;

export interface ApiServerOptions {
  store: ClusterStore;
  /** The node ha-api runs on: named in the quorum entry and as the holder of the HA config lock. */
  nodename: string;
  /** Seconds since the epoch on the cluster's clock. */
  now(): number;
  timeZone?: string;
  resourceTypes: Readonly<Record<string, AdminResourceType>>;
  lockTimeoutMs?: number;
  tokens: TokenStore;
  web: StaticFiles;
  log: ApiLog;
  /** Largest request body in bytes (default 64 KiB). */
  maxBody?: number;
  /** How often the event stream reads the status while someone listens (default 1000 ms). */
  pollMs?: number;
  /** Serve TLS with this certificate and key (PEM); the session cookie is then Secure. */
  tls?: { cert: Buffer; key: Buffer };
}

export interface ApiServer {
  readonly server: Server;
  readonly events: EventHub;
  readonly metrics: ApiMetrics;
  close(): Promise<void>;
}

const LOGIN_SCHEMA = {
  username: { type: 'string', maxLength: 256, description: 'Token id: USER@REALM!TOKENID.' },
  password: { type: 'string', maxLength: 256, description: 'The token secret.' },
} as const;

function segmentsOf(pathname: string): string[] {
  const rest = pathname.slice(API_PREFIX.length).replace(/\/+$/, '');
  if (rest === '') return [];
  return rest.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new HttpError(400, `malformed percent-encoding in the path segment '${segment.slice(0, 64)}'`);
    }
  });
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const { log, tokens } = options;
  const sessions: Sessions = createSessions(tokens);
  const maxBody = options.maxBody ?? DEFAULT_MAX_BODY;
  const secure = options.tls !== undefined;

  const adminContext = (what: string): AdminContext => ({
    store: options.store,
    nodename: options.nodename,
    now: options.now,
    timeZone: options.timeZone,
    resourceTypes: options.resourceTypes,
    lockTimeoutMs: options.lockTimeoutMs,
    actor: { pid: process.pid, command: what.length > 120 ? `${what.slice(0, 117)}...` : what },
    warn: (message) => log('warn', message),
  });

  const events = createEventHub({
    pollMs: options.pollMs ?? 1000,
    log: (level, msg) => log(level, msg),
    readView: async () => {
      // Warnings of a poll repeat every second; the requests log them.
      const ctx = { ...adminContext('ha-api event stream'), warn: () => undefined };
      const [entries, full, members] = await Promise.all([
        invoke(ctx, 'status.current', {}),
        invoke(ctx, 'status.manager_status', {}),
        invoke(ctx, 'status.nodes', {}),
      ]);
      return statusView(entries, full, members);
    },
  });
  const metrics = createApiMetrics({ context: () => adminContext('ha-api metrics'), now: Date.now });

  const cookie = (value: string, maxAgeSeconds: number): string =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;

  async function ticket(req: IncomingMessage, res: ServerResponse, method: string, url: URL): Promise<void> {
    if (method === 'POST') {
      const params = requestParams(req, url, {}, await readBody(req, maxBody));
      let login;
      try {
        login = validateParams(LOGIN_SCHEMA, params);
      } catch (err) {
        if (err instanceof AdminError) throw new HttpError(400, err.message, err.errors);
        throw err;
      }
      const token = await tokens.verify(login.username, login.password);
      if (token === undefined) {
        log('warn', 'login failed', { token: /^[\w.@!-]{1,256}$/.test(login.username) ? login.username : '(malformed)' });
        throw new HttpError(401, 'authentication failure (unknown token id or wrong secret)');
      }
      const session = sessions.open(token);
      log('info', 'login', { token: token.tokenId });
      sendData(
        res,
        { username: token.tokenId, role: token.role, CSRFPreventionToken: session.csrf },
        { 'set-cookie': cookie(session.id, SESSION_IDLE_MS / 1000) },
      );
      return;
    }
    const auth = await requireAuth(req);
    if (method === 'GET') {
      sendData(res, {
        username: auth.principal.tokenId,
        role: auth.principal.role,
        ...(auth.via === 'cookie' ? { CSRFPreventionToken: auth.session.csrf } : {}),
      });
      return;
    }
    // DELETE: log out
    const csrf = csrfProblem(auth, req);
    if (csrf !== undefined) throw new HttpError(401, csrf);
    if (auth.via === 'cookie') sessions.close(auth.session.id);
    sendData(res, null, { 'set-cookie': cookie('', 0) });
  }

  async function requireAuth(req: IncomingMessage): Promise<Extract<Authentication, { ok: true }>> {
    const auth = await authenticate(req, tokens, sessions);
    if (!auth.ok) {
      if (auth.tokenId !== undefined) log('warn', 'authentication failed', { token: auth.tokenId });
      throw new HttpError(401, auth.reason, undefined, { 'www-authenticate': 'PVEAPIToken' });
    }
    return auth;
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, who: { token?: string }): Promise<void> {
    const method = req.method ?? 'GET';
    const match = matchRoute(method, segmentsOf(url.pathname));
    if (!match.found) {
      if (match.allow.length > 0) {
        throw new HttpError(405, `method ${method} not allowed here (allowed: ${match.allow.join(', ')})`, undefined, { allow: match.allow.join(', ') });
      }
      throw new HttpError(404, `no such API path '${url.pathname.slice(0, 200)}'`);
    }
    const route: Route = match.route;
    if (route.kind === 'ticket') {
      await ticket(req, res, method, url);
      return;
    }

    const auth = await requireAuth(req);
    who.token = auth.principal.tokenId;
    if (method !== 'GET') {
      const csrf = csrfProblem(auth, req);
      if (csrf !== undefined) throw new HttpError(401, csrf);
    }

    switch (route.kind) {
      case 'index':
        sendData(res, route.entries);
        return;
      case 'events': {
        const stillAuthorized = async (): Promise<boolean> => (await authenticate(req, tokens, sessions)).ok;
        if (!events.attach(res, stillAuthorized)) throw new HttpError(503, 'too many event streams open; try again later');
        return;
      }
      case 'operation': {
        const def = OPERATIONS[route.id];
        if (def.protected && auth.principal.role !== 'admin') {
          throw new HttpError(403, `permission denied: token '${auth.principal.tokenId}' has role ${auth.principal.role}; this call needs admin`);
        }
        const params = requestParams(req, url, match.pathParams, await readBody(req, maxBody));
        const result = await invoke(adminContext(`ha-api ${method} /cluster/ha/${def.path} (${auth.principal.tokenId})`), route.id, params);
        sendData(res, result);
        return;
      }
      default: {
        const unreachable: never = route;
        throw new Error(`unknown route ${JSON.stringify(unreachable)}`);
      }
    }
  }

  async function metricsPage(req: IncomingMessage, res: ServerResponse, who: { token?: string }): Promise<void> {
    if (req.method !== 'GET') throw new HttpError(405, 'method not allowed here (allowed: GET)', undefined, { allow: 'GET' });
    who.token = (await requireAuth(req)).principal.tokenId;
    const text = await metrics.render();
    res.writeHead(200, { ...COMMON_HEADERS, 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const who: { token?: string } = {};
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://ha-api.invalid');
    } catch {
      sendError(res, 400, 'malformed request target');
      return;
    }
    try {
      if (url.pathname.startsWith(API_PREFIX)) await api(req, res, url, who);
      else if (url.pathname === '/metrics') await metricsPage(req, res, who);
      else if ((req.method === 'GET' || req.method === 'HEAD') && options.web.serve(req, res, url.pathname)) return;
      else throw new HttpError(404, options.web.available ? 'not found' : 'not found (the web interface is not built: npm run build)');
    } catch (err) {
      // a body left unread would be read as the next request
      const close: Record<string, string> = req.complete ? {} : { connection: 'close' };
      if (res.headersSent) {
        log('error', `failed after the response began: ${err instanceof Error ? err.message : String(err)}`);
        res.end();
      } else if (err instanceof HttpError) {
        sendError(res, err.status, err.message, err.errors, { ...err.headers, ...close });
      } else if (err instanceof AdminError) {
        sendError(res, err.status, err.message, err.errors, close);
      } else {
        log('error', `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        sendError(res, 500, 'internal error (see the ha-api log)', undefined, close);
      }
    } finally {
      if (url.pathname.startsWith(API_PREFIX) || url.pathname === '/metrics') {
        const fields: Record<string, string | number> = {
          method: req.method ?? '',
          path: url.pathname.slice(0, 200),
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        };
        if (who.token !== undefined) fields.token = who.token;
        log('info', 'request', fields);
        metrics.request(req.method ?? '', res.statusCode);
      }
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res);
  };
  const server = options.tls !== undefined ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createHttpServer(listener);

  return {
    server,
    events,
    metrics,
    close: () =>
      new Promise((resolve) => {
        events.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
