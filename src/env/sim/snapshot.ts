// Frozen JSON snapshots of what is written to the simulated cluster store.
// A written document must not change under its readers when the writer goes
// on changing its own objects, as with the reference's files. Most of a
// status document is unchanged from one write to the next, so a new snapshot
// reuses every part of the previous one that is still equal: only what
// changed is copied, and equal parts compare identical (===), which lets
// readers memoise what they derive from them.

/** JSON's view of a value: what survives JSON.stringify / JSON.parse. */
function isDropped(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

function jsonScalar(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  return value;
}

/**
 * A deep, frozen, JSON-faithful copy of `next` that shares every subtree
 * equal to the corresponding subtree of `previous` (a snapshot made by this
 * function earlier).
 */
export function snapshotReusing<T>(next: T, previous?: unknown): T {
  return copy(next, previous) as T;
}

function copy(next: unknown, previous: unknown): unknown {
  if (next === null || typeof next !== 'object') return jsonScalar(next);
  if (typeof (next as { toJSON?: unknown }).toJSON === 'function') {
    return snapshotReusing(JSON.parse(JSON.stringify(next)) as unknown, previous);
  }

  if (Array.isArray(next)) {
    const prev = Array.isArray(previous) ? previous : undefined;
    let same = prev !== undefined && prev.length === next.length;
    const items = next.map((item, i) => {
      const value = isDropped(item) ? null : copy(item, prev?.[i]);
      if (same && value !== prev?.[i]) same = false;
      return value;
    });
    return same ? prev : Object.freeze(items);
  }

  const prev =
    previous !== null && typeof previous === 'object' && !Array.isArray(previous)
      ? (previous as Record<string, unknown>)
      : undefined;
  const result: Record<string, unknown> = {};
  let count = 0;
  let same = prev !== undefined;
  for (const key of Object.keys(next)) {
    const item = (next as Record<string, unknown>)[key];
    if (isDropped(item)) continue;
    const value = copy(item, prev?.[key]);
    result[key] = value;
    count++;
    if (same && (prev as Record<string, unknown>)[key] !== value) same = false;
  }
  if (same && prev !== undefined && Object.keys(prev).length === count) return prev;
  return Object.freeze(result);
}
