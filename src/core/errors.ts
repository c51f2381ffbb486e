/** The message of a caught error, for logging. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
