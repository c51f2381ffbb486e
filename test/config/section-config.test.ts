import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { formatIssue, type ConfigIssue } from '../../src/config/issues.js';
import {
  idsInOrder,
  parseSectionConfig,
  writeSectionConfig,
  type SectionConfigSchema,
} from '../../src/config/section-config.js';

const SCHEMA: SectionConfigSchema = {
  types: {
    box: {
      properties: {
        size: { kind: 'integer', minimum: 1 },
        color: { kind: 'enum', optional: true, values: ['red', 'blue'] },
        open: { kind: 'boolean', optional: true },
        tags: { kind: 'list', optional: true, checkItem: (t) => (/^[a-z]+$/.test(t) ? undefined : `bad tag '${t}'`) },
        comment: { kind: 'string', optional: true, maxLength: 10 },
        disable: { kind: 'boolean', optional: true },
      },
    },
    bag: { properties: { size: { kind: 'integer' } } },
  },
};

function parse(text: string) {
  const issues: ConfigIssue[] = [];
  const data = parseSectionConfig(SCHEMA, text, 'test.cfg', issues);
  return { data, issues: issues.map(formatIssue) };
}

describe('section config parser', () => {
  it('reads sections, comments and value kinds', () => {
    const text = [
      '# leading comment',
      'box: first',
      '\tsize 3',
      '  # comment inside a section',
      '    color red',
      '\topen',
      '\ttags a, b;c  d',
      '',
      'BAG: second',
      '\tsize -2',
      '',
    ].join('\n');
    const { data, issues } = parse(text);
    expect(issues).toEqual([]);
    expect(data.sections).toEqual({
      first: { type: 'box', id: 'first', line: 2, values: { size: 3, color: 'red', open: 1, tags: ['a', 'b', 'c', 'd'] } },
      second: { type: 'bag', id: 'second', line: 9, values: { size: -2 } },
    });
    expect(data.order).toEqual({ first: 1, second: 2 });
    expect(data.digest).toBe(createHash('sha1').update(text).digest('hex'));
  });

  it('names file, line and field for a bad value and keeps the rest of the section', () => {
    const { data, issues } = parse('box: b1\n\tsize 2\n\tcolor green\n\topen yes\n\ttags ok,Bad\n');
    expect(issues).toEqual([
      "test.cfg line 3, field 'color': value 'green' is not one of red, blue",
      "test.cfg line 4, field 'open': value 'yes' is not a boolean (expected 0 or 1)",
      "test.cfg line 5, field 'tags': bad tag 'Bad'",
    ]);
    expect(data.sections.b1.values).toEqual({ size: 2 });
  });

  it('reports integers out of range, overlong strings, missing values and unknown or repeated keys', () => {
    const { issues } = parse('box: b1\n\tsize 0\n\tcomment 12345678901\n\tcolor\n\tweight 3\n\tsize 1\n\tsize x\n');
    expect(issues).toEqual([
      "test.cfg line 2, field 'size': value 0 is less than the minimum 1",
      "test.cfg line 3, field 'comment': value is 11 characters long (at most 10 allowed)",
      "test.cfg line 4, field 'color': missing value",
      "test.cfg line 5, field 'weight': unknown property for type 'box' (expected one of color, comment, disable, open, size, tags)",
      "test.cfg line 7, field 'size': property given twice; the first value is used",
    ]);
  });

  it('drops a section missing a required property but keeps its ordinal slot', () => {
    const { data, issues } = parse('box: aa\n\tsize 1\n\nbox: bb\n\tcolor red\n\nbox: cc\n\tsize 2\n');
    expect(issues).toEqual(["test.cfg line 4: section 'bb' skipped: missing required property 'size'"]);
    expect(Object.keys(data.sections)).toEqual(['aa', 'cc']);
    expect(data.order).toEqual({ aa: 1, bb: 2, cc: 3 });
  });

  it('skips sections with an invalid id or an unknown type without an ordinal', () => {
    const { data, issues } = parse('box: 1bad\n\tsize 1\n\ncrate: c1\n\tsize 1\n\nbox: ok\n\tsize 1\n');
    expect(issues).toEqual([
      "test.cfg line 1: section skipped: '1bad' is not a valid id (expected a letter followed by at least one letter, digit, '_' or '-')",
      "test.cfg line 4: section 'c1' skipped: unknown section type 'crate' (expected one of box, bag)",
    ]);
    expect(data.order).toEqual({ ok: 1 });
  });

  it('reports lines that are neither header nor property', () => {
    const { data, issues } = parse('just text\n\tsize 1\nbox: aa\n\tsize 1\nnot indented\n');
    expect(issues).toEqual([
      "test.cfg line 1: cannot read line 'just text' (expected a section header '<type>: <id>')",
      "test.cfg line 2: cannot read line '\tsize 1' (expected a section header '<type>: <id>')",
      "test.cfg line 5: cannot read line 'not indented' (expected an indented '<key> <value>')",
    ]);
    expect(data.sections.aa.values).toEqual({ size: 1 });
  });

  it('lets a later section with the same id replace an earlier one', () => {
    const { data } = parse('box: aa\n\tsize 1\n\nbox: aa\n\tsize 2\n');
    expect(data.sections.aa.values).toEqual({ size: 2 });
    expect(data.order).toEqual({ aa: 2 });
  });
});

describe('section config writer', () => {
  it('writes comment first, bare disable, then required and optional keys alphabetically', () => {
    const out = writeSectionConfig(SCHEMA, [
      { type: 'box', id: 'b1', values: { tags: ['x', 'y'], size: 4, open: 0, disable: 1, comment: 'hi', color: undefined } },
      { type: 'bag', id: 'b2', values: { size: 1 } },
    ]);
    expect(out).toBe('box: b1\n\tcomment hi\n\tdisable\n\tsize 4\n\topen 0\n\ttags x,y\n\nbag: b2\n\tsize 1\n\n');
  });

  it('round-trips what it writes', () => {
    const sections = [
      { type: 'box', id: 'one', values: { size: 2, color: 'blue', open: 1, tags: ['p', 'q'], comment: 'note' } },
      { type: 'bag', id: 'two', values: { size: 9 } },
    ];
    const { data, issues } = parse(writeSectionConfig(SCHEMA, sections));
    expect(issues).toEqual([]);
    expect(Object.values(data.sections).map(({ type, id, values }) => ({ type, id, values }))).toEqual(sections);
  });

  it('refuses missing required values, unknown types and line breaks', () => {
    expect(() => writeSectionConfig(SCHEMA, [{ type: 'box', id: 'x', values: {} }])).toThrow(
      "section 'x' - missing value for required option 'size'",
    );
    expect(() => writeSectionConfig(SCHEMA, [{ type: 'crate', id: 'x', values: {} }])).toThrow("unknown section type 'crate'");
    expect(() => writeSectionConfig(SCHEMA, [{ type: 'box', id: 'x', values: { size: 1, comment: 'a\nb' } }])).toThrow(
      'line break',
    );
  });

  it('orders sections by ordinal, unordered ones last', () => {
    expect(idsInOrder(['c', 'a', 'z', 'b'], { a: 2, b: 1, c: 2 })).toEqual(['b', 'a', 'c', 'z']);
  });
});
