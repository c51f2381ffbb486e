// Why an administrative request failed, in a form both front ends can use:
// the CLI maps the kind to an exit status, the HTTP API to a status code,
// and both show the message; `errors` names the parameters at fault
// (`{ max_restart: 'value must have a minimum value of 0' }`), as the
// reference's API does.

import { LockTimeoutError } from '../env/node/store.js';

export type AdminErrorKind =
  /** A parameter is malformed or missing: the request can never succeed as made. */
  | 'invalid'
  /** Well-formed, but refused in the cluster's current state (unmanaged resource, infeasible rule, ...). */
  | 'refused'
  /** The resource, rule or group named does not exist. */
  | 'not-found'
  /** It exists already, or the file changed since the digest the caller had. */
  | 'conflict'
  /** Not now: no quorum, the store cannot be reached, the HA config lock was not free in time. Retrying may help. */
  | 'unavailable'
  /** Anything else: the store refused a write, a file cannot be read. */
  | 'failed';

/** HTTP status of each kind, for the API. */
export const ERROR_STATUS: Readonly<Record<AdminErrorKind, number>> = {
  invalid: 400,
  refused: 400,
  'not-found': 404,
  conflict: 409,
  unavailable: 503,
  failed: 500,
};

export class AdminError extends Error {
  readonly kind: AdminErrorKind;
  /** Messages by parameter name. */
  readonly errors: Readonly<Record<string, string>> | undefined;

  constructor(kind: AdminErrorKind, message: string, errors?: Readonly<Record<string, string>>) {
    super(message);
    this.name = 'AdminError';
    this.kind = kind;
    this.errors = errors;
  }

  get status(): number {
    return ERROR_STATUS[this.kind];
  }

  /** The message with each parameter's problem on a line of its own (`param: problem`). */
  describe(): string {
    const lines = Object.keys(this.errors ?? {})
      .sort()
      .map((param) => `${param}: ${this.errors?.[param]}`);
    return [this.message, ...lines].join('\n');
  }
}

/** One parameter at fault. */
export function invalidParam(param: string, problem: string): AdminError {
  return new AdminError('invalid', 'Parameter verification failed.', { [param]: problem });
}

export const refused = (message: string, errors?: Record<string, string>): AdminError => new AdminError('refused', message, errors);
export const notFound = (message: string): AdminError => new AdminError('not-found', message);
export const conflict = (message: string): AdminError => new AdminError('conflict', message);
export const unavailable = (message: string): AdminError => new AdminError('unavailable', message);

/** Any failure as an AdminError: a lock timeout is `unavailable`, the rest `failed`. */
export function toAdminError(err: unknown): AdminError {
  if (err instanceof AdminError) return err;
  if (err instanceof LockTimeoutError) return unavailable(err.message);
  return new AdminError('failed', err instanceof Error ? err.message : String(err));
}

/**
 * The reference prefixes failures of a change made under the HA config lock
 * with what was being done: `create resource failed: ...`.
 */
export async function failingAs<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const error = toAdminError(err);
    throw new AdminError(error.kind, `${what}: ${error.message}`, error.errors);
  }
}
