// Number formatting as the reference's printf-style formats print it.

/**
 * `%.<digits>f` as C's printf renders it: exact halfway cases round to even,
 * where Number#toFixed rounds them up (0.125 → "0.12", not "0.13").
 */
export function formatFixed(value: number, digits: number): string {
  const scaled = value * 10 ** digits;
  const isTie = Number.isFinite(scaled) && !Number.isInteger(scaled) && Number.isInteger(scaled * 2);
  if (!isTie) return value.toFixed(digits);
  const down = Math.trunc(scaled);
  const even = down % 2 === 0 ? down : down + Math.sign(scaled);
  return (even / 10 ** digits).toFixed(digits);
}

/**
 * The number at the start of a string, as Perl reads a string in numeric
 * context: leading whitespace skipped, trailing garbage ignored, 0 when none.
 */
export function leadingNumber(text: string): number {
  const match = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/**
 * Truth as Perl sees a config value: undefined, null, false, 0, '' and '0'
 * are false. Settings read from JSON keep their original types, so "0" must
 * stay false as it does in the reference.
 */
export function isPerlTrue(value: unknown): boolean {
  return !(value === undefined || value === null || value === false || value === 0 || value === '' || value === '0');
}
