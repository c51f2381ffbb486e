// Failures of a command, with the exit status they map to: 1 when the
// command was refused or failed, 2 when it was called wrongly.

export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A wrong call: bad arguments or option values. */
export function usageError(message: string): CliError {
  return new CliError(message, 2);
}
