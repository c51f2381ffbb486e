// Small questions about plain records that the daemons ask every round.

const emptiness = new WeakMap<object, boolean>();

/**
 * Whether a record has no keys. Listing the keys of a record costs time in
 * proportion to its size, so for frozen records — published status and
 * config snapshots, asked about again and again — the answer is remembered.
 */
export function isEmptyRecord(record: Readonly<Record<string, unknown>>): boolean {
  // Look up first: checking frozenness walks every key of a large record.
  const known = emptiness.get(record);
  if (known !== undefined) return known;
  let empty = true;
  for (const _key in record) {
    empty = false;
    break;
  }
  if (Object.isFrozen(record)) emptiness.set(record, empty);
  return empty;
}
