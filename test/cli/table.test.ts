// The list table layout inferred from the reference's CLI formatter
// (PVE::CLIFormatter::print_text_table): borders, header rule, sorting by the
// first column, multi-line cells, unpadded last column without borders.

import { describe, expect, it } from 'vitest';

import { renderTable } from '../../src/cli/ha-manager/table.js';

const ROWS = [
  { name: 'beta', kind: 'x', note: 'two\nlines' },
  { name: 'alpha', kind: 'longer kind', note: undefined },
];
const COLUMNS = ['name', 'kind', 'note'];

describe('renderTable', () => {
  it('draws ASCII borders, sorted by the first column, multi-line cells on extra lines', () => {
    expect(renderTable(ROWS, COLUMNS, { utf8: false })).toBe(
      [
        '+-------+-------------+-------+',
        '| name  | kind        | note  |',
        '+=======+=============+=======+',
        '| alpha | longer kind |       |',
        '+-------+-------------+-------+',
        '| beta  | x           | two   |',
        '|       |             | lines |',
        '+-------+-------------+-------+',
        '',
      ].join('\n'),
    );
  });

  it('draws box-drawing borders on a UTF-8 terminal', () => {
    expect(renderTable(ROWS, COLUMNS, { utf8: true })).toBe(
      [
        '┌───────┬─────────────┬───────┐',
        '│ name  │ kind        │ note  │',
        '╞═══════╪═════════════╪═══════╡',
        '│ alpha │ longer kind │       │',
        '├───────┼─────────────┼───────┤',
        '│ beta  │ x           │ two   │',
        '│       │             │ lines │',
        '└───────┴─────────────┴───────┘',
        '',
      ].join('\n'),
    );
  });

  it('without a header starts with the plain rule', () => {
    expect(renderTable(ROWS.slice(1), COLUMNS, { utf8: false }, { noheader: true })).toBe(
      ['+-------+-------------+------+', '| alpha | longer kind |      |', '+-------+-------------+------+', ''].join('\n'),
    );
  });

  it('without borders pads all but the last column', () => {
    expect(renderTable(ROWS, COLUMNS, { utf8: false }, { noborder: true })).toBe(
      ['name  kind        note', 'alpha longer kind ', 'beta  x           two', '                  lines', ''].join('\n'),
    );
  });

  it('keeps the one-column ASCII header rule one character short, as the reference draws it', () => {
    expect(renderTable([{ rule: 'r1' }], ['rule'], { utf8: false })).toBe('+------+\n| rule |\n+======\n| r1   |\n+------+\n');
  });

  it('cuts lines to the terminal width and prints nothing for no rows', () => {
    expect(renderTable(ROWS, COLUMNS, { utf8: false, columns: 12 }).split('\n')[3]).toBe('| alpha | lo');
    expect(renderTable([], COLUMNS, { utf8: false })).toBe('');
  });

  it('counts characters, not UTF-16 units, for the width', () => {
    expect(renderTable([{ c: 'né😀' }], ['c'], { utf8: false }, { noheader: true, noborder: true })).toBe('né😀\n');
    expect(renderTable([{ c: 'né😀' }, { c: 'abcd' }], ['c'], { utf8: true }, { noheader: true }).split('\n')[1]).toBe('│ abcd │');
    expect(renderTable([{ c: 'né😀' }, { c: 'abcd' }], ['c'], { utf8: true }, { noheader: true }).split('\n')[3]).toBe('│ né😀  │');
  });
});
