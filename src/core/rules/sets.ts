// Set helpers over plain records used as sets (the reference's hash sets).
// Only key presence counts; values are 1 or, for node lists, priority objects.

type KeySet = Readonly<Record<string, unknown>>;

export function setIntersect(a: KeySet, b: KeySet): Record<string, 1> {
  const result: Record<string, 1> = {};
  for (const key of Object.keys(a)) {
    if (Object.hasOwn(b, key)) result[key] = 1;
  }
  return result;
}

export function setUnion(a: KeySet, b: KeySet): Record<string, 1> {
  const result: Record<string, 1> = {};
  for (const key of Object.keys(a)) result[key] = 1;
  for (const key of Object.keys(b)) result[key] = 1;
  return result;
}

export function setsAreDisjoint(a: KeySet, b: KeySet): boolean {
  for (const key of Object.keys(a)) {
    if (Object.hasOwn(b, key)) return false;
  }
  return true;
}

export function setSize(a: KeySet): number {
  return Object.keys(a).length;
}

/** Perl's `cmp`: code unit order, which equals code point order for the ids we sort. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortedKeys(a: KeySet): string[] {
  return Object.keys(a).sort(compareStrings);
}
