// Talking to ha-api: every call goes below /api2/json/ with the session
// cookie (set by the login call, HttpOnly, so this code never sees it); a
// change also carries the session's CSRF prevention token, which is kept in
// memory only. Failures come back as ApiError with the server's message and
// its per-parameter errors.

export interface Session {
  username: string;
  role: 'audit' | 'admin';
  CSRFPreventionToken?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly errors: Record<string, string>;

  constructor(status: number, message: string, errors: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

export type Params = Record<string, string | number | boolean | undefined>;

let csrf: string | undefined;
let onLoggedOut: (() => void) | undefined;

/** Called when a request finds the session gone (401): the app shows the login form again. */
export function whenLoggedOut(handler: () => void): void {
  onLoggedOut = handler;
}

function clean(params: Params): Record<string, string | number | boolean> {
  const result: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(params)) if (value !== undefined) result[key] = value;
  return result;
}

export async function call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: Params = {}): Promise<T> {
  const values = clean(params);
  let url = `/api2/json/${path}`;
  const init: RequestInit = { method, headers: {}, credentials: 'same-origin' };
  const headers = init.headers as Record<string, string>;
  if (method === 'GET' || method === 'DELETE') {
    const query = new URLSearchParams(Object.entries(values).map(([k, v]) => [k, String(v)])).toString();
    if (query !== '') url += `?${query}`;
  } else {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(values);
  }
  if (method !== 'GET' && csrf !== undefined) headers.CSRFPreventionToken = csrf;
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, `cannot reach ha-api: ${err instanceof Error ? err.message : String(err)}`);
  }
  let body: { data?: T; message?: string; errors?: Record<string, string> } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // a proxy's error page: the status says enough
  }
  if (!response.ok) {
    if (response.status === 401 && path !== 'access/ticket') onLoggedOut?.();
    throw new ApiError(response.status, body.message ?? `${response.status} ${response.statusText}`, body.errors ?? {});
  }
  return body.data as T;
}

export async function login(username: string, password: string): Promise<Session> {
  const session = await call<Session>('POST', 'access/ticket', { username, password });
  csrf = session.CSRFPreventionToken;
  return session;
}

/** The session the cookie stands for, if any (after a reload of the page). */
export async function currentSession(): Promise<Session | undefined> {
  try {
    const session = await call<Session>('GET', 'access/ticket');
    csrf = session.CSRFPreventionToken;
    return session;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return undefined;
    throw err;
  }
}

export async function logout(): Promise<void> {
  try {
    await call('DELETE', 'access/ticket');
  } finally {
    csrf = undefined;
  }
}

/** `/cluster/ha/...` */
export const ha = <T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params?: Params): Promise<T> =>
  call<T>(method, `cluster/ha/${path}`, params);

export const enc = encodeURIComponent;
