// Comparing a log of ours with the reference's: first difference, a rough
// class for it, and masks for divergences already reported.

/**
 * Masks for divergences already reported, applied to both logs before
 * comparing (the saved logs stay raw):
 *  - die-location: the reference's final error line for a die without a
 *    newline carries Perl's " at FILE line N." and a line break before the
 *    closing space.
 */
export const MASKS = {
  'die-location': (log) => log.replace(/( exit simulation - .*?) at \S+ line \d+\.\n \n$/s, '$1 \n'),
};

export function applyMasks(log, masks) {
  for (const name of masks) {
    const mask = MASKS[name];
    if (mask === undefined) throw new Error(`unknown mask '${name}' (known: ${Object.keys(MASKS).join(', ')})`);
    log = mask(log);
  }
  return log;
}

/** The first line where two logs differ, 1-based, with both versions. */
export function firstDifference(expected, actual) {
  const e = expected.split('\n');
  const a = actual.split('\n');
  const n = Math.max(e.length, a.length);
  for (let i = 0; i < n; i++) {
    if (e[i] !== a[i]) return { line: i + 1, expected: e[i], actual: a[i] };
  }
  return undefined;
}

/** A rough class for a divergence: its first differing lines with numbers and ids blanked. */
export function signature(diff) {
  return `${normalize(diff.expected)}  <=>  ${normalize(diff.actual)}`;
}

export function normalize(s) {
  if (s === undefined) return '<eof>';
  return s
    .replace(/^(\S+)\s+\d+\s+/, '$1 T ')
    .replace(/node\d/g, 'nodeN')
    .replace(/(vm|ct|fa):\d+/g, '$1:N')
    .replace(/\d+/g, 'N');
}

