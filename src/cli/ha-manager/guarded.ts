// The reference reports failures inside its cluster-wide HA lock prefixed
// with what was being done ("create resource failed: ...").

import { CliError } from './errors.js';

export async function failingAs<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof CliError) throw new CliError(`${what}: ${err.message}`, err.exitCode);
    throw err;
  }
}
