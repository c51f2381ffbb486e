// The holder note of a lock domain: written by every store's domain lock,
// read back by a waiter that gives up to say who holds the lock.

import { describe, expect, it } from 'vitest';

import { parseHolderNote, writeHolderNote } from '../../src/env/node/holder-note.js';
import { describeHolder } from '../../src/env/node/store.js';

describe('the holder note', () => {
  it('reads back what was written', () => {
    const holder = { node: 'node2', pid: 4711, command: 'ha-manager add vm:100' };
    const text = writeHolderNote(holder, 1_000);
    expect(parseHolderNote(text)).toEqual({ ...holder, since: 1_000 });
    // the directory store ends its note file with a newline
    expect(parseHolderNote(`${text}\n`)).toEqual({ ...holder, since: 1_000 });
    expect(describeHolder(parseHolderNote(text), 4_000)).toBe('held by node2 (pid 4711: ha-manager add vm:100) for 3 s');
  });

  it('keeps the fields of the right type, and is nothing for what is no JSON object', () => {
    expect(parseHolderNote('{"node":"node1","pid":"12","since":5}')).toEqual({ node: 'node1', since: 5 });
    for (const text of ['', '{"node":', 'null', '42', '"node1"']) expect(parseHolderNote(text), text).toBeUndefined();
  });
});
