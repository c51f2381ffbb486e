// Reading requests and writing responses of the HTTP API: bodies within a
// size limit, parameters from the path, the query and a JSON or form body
// (each given once), and `{"data": ...}` responses; errors carry an HTTP
// status, a message and, like the reference's API, an `errors` object naming
// each parameter at fault.

import type { IncomingMessage, ServerResponse } from 'node:http';

import type { RawValue } from '../admin/schema.js';

/** Largest request body accepted by default (bytes): every operation's parameters fit many times over. */
export const DEFAULT_MAX_BODY = 64 * 1024;

export class HttpError extends Error {
  readonly status: number;
  readonly errors: Readonly<Record<string, string>> | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, errors?: Readonly<Record<string, string>>, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.errors = errors;
    this.headers = headers;
  }
}

/** The body, refused with 413 past `limit` bytes (the rest is not read). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, `request body too large (at most ${limit} bytes)`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(new HttpError(413, `request body too large (at most ${limit} bytes)`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}

export type Params = Record<string, RawValue>;

/** A record without a prototype: a parameter named `__proto__` is just an unknown parameter. */
function emptyParams(): Params {
  return Object.create(null) as Params;
}

function addParam(params: Params, errors: Record<string, string>, key: string, value: RawValue): void {
  if (Object.hasOwn(params, key)) errors[key] = 'given more than once';
  else params[key] = value;
}

function fromSearchParams(search: URLSearchParams, params: Params, errors: Record<string, string>): void {
  for (const [key, value] of search) addParam(params, errors, key, value);
}

function fromJson(body: Buffer, params: Params, errors: Record<string, string>): void {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `malformed JSON body: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'the JSON body must be an object of parameters');
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (typeof item === 'string' || typeof item === 'boolean' || (typeof item === 'number' && Number.isFinite(item))) {
      addParam(params, errors, key, item);
    } else if (item === null) {
      errors[key] = 'null is not a value (leave the parameter out, or use delete=<name> to reset a setting)';
    } else {
      errors[key] = `expected a string, number or boolean, got ${Array.isArray(item) ? 'an array' : 'an object'}`;
    }
  }
}

const JSON_TYPE_RE = /^application\/json\s*(;|$)/i;
const FORM_TYPE_RE = /^application\/x-www-form-urlencoded\s*(;|$)/i;

/**
 * The request's parameters: path parameters, the query string, and the body
 * as JSON (`application/json`) or a form (`application/x-www-form-urlencoded`).
 * A parameter given twice is refused under its name.
 */
export function requestParams(
  req: IncomingMessage,
  url: URL,
  pathParams: Readonly<Record<string, string>>,
  body: Buffer,
): Params {
  const params = emptyParams();
  const errors = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(pathParams)) params[key] = value;
  fromSearchParams(url.searchParams, params, errors);
  if (body.length > 0) {
    const type = req.headers['content-type'] ?? '';
    if (JSON_TYPE_RE.test(type)) fromJson(body, params, errors);
    else if (FORM_TYPE_RE.test(type)) fromSearchParams(new URLSearchParams(body.toString('utf8')), params, errors);
    else throw new HttpError(415, 'unsupported content type (send application/json or application/x-www-form-urlencoded)');
  }
  if (Object.keys(errors).length > 0) throw new HttpError(400, 'Parameter verification failed.', errors);
  return params;
}

/** Headers every response carries. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** A reason phrase for the status line: the message's first line, printable ASCII only. */
function reason(message: string): string | undefined {
  const line = message.split('\n')[0].replace(/[^\x20-\x7e]/g, '?').slice(0, 120).trim();
  return line === '' ? undefined : line;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'content-type': 'application/json;charset=UTF-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendData(res: ServerResponse, data: unknown, headers: Readonly<Record<string, string>> = {}): void {
  sendJson(res, 200, { data: data ?? null }, headers);
}

export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  errors?: Readonly<Record<string, string>>,
  headers: Readonly<Record<string, string>> = {},
): void {
  const phrase = reason(message);
  if (phrase !== undefined) res.statusMessage = phrase;
  sendJson(res, status, { data: null, message, ...(errors === undefined ? {} : { errors }) }, headers);
}
