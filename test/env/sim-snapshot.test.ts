// Snapshots of written documents: deep, frozen, JSON-faithful, and sharing
// what did not change since the previous snapshot.

import { describe, expect, it } from 'vitest';

import { snapshotReusing } from '../../src/env/sim/snapshot.js';

describe('snapshotReusing', () => {
  it('copies deeply and freezes, as a written and re-read JSON file would be', () => {
    const doc = { a: { b: [1, { c: 'x' }] }, gone: undefined, n: Number.NaN };
    const snap = snapshotReusing(doc);
    expect(snap).toEqual(JSON.parse(JSON.stringify(doc)));
    expect(Object.isFrozen(snap) && Object.isFrozen(snap.a) && Object.isFrozen(snap.a.b)).toBe(true);
    doc.a.b.push(2);
    expect(snap.a.b).toHaveLength(2);
    expect('gone' in snap).toBe(false);
  });

  it('reuses unchanged subtrees and copies changed ones', () => {
    const status = { services: { 'vm:1': { state: 'started' }, 'vm:2': { state: 'stopped' } }, time: 1 };
    const first = snapshotReusing(status);
    status.services['vm:2'].state = 'started';
    status.time = 2;
    const second = snapshotReusing(status, first);
    expect(second.services['vm:1']).toBe(first.services['vm:1']);
    expect(second.services['vm:2']).not.toBe(first.services['vm:2']);
    expect(second.services['vm:2'].state).toBe('started');
    expect(first.services['vm:2'].state).toBe('stopped');
    // nothing changed: the whole previous snapshot comes back
    expect(snapshotReusing(status, second)).toBe(second);
  });

  it('notices removed keys and shorter arrays', () => {
    const first = snapshotReusing({ a: 1, b: 2, list: [1, 2, 3] });
    const second = snapshotReusing({ a: 1, list: [1, 2] }, first);
    expect(second).toEqual({ a: 1, list: [1, 2] });
    expect(second).not.toBe(first);
  });
});
