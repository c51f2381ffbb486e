// Tables as the reference's CLI formatter draws list results: a header row
// of property names, one row per item (sorted by the first column unless
// told otherwise), columns as wide as their widest cell, bordered with
// box-drawing characters on a UTF-8 terminal and ASCII otherwise, each line
// cut to the terminal's width.

import type { TerminalOptions } from './context.js';

export interface TableOptions {
  noborder?: boolean;
  noheader?: boolean;
}

export type Cell = string | number | undefined;

/** A cell's text lines: numbers as printed, missing values empty. */
function cellLines(value: Cell): string[] {
  if (value === undefined) return [];
  return String(value).split('\n');
}

const width = (text: string): number => [...text].length;
const cut = (text: string, n: number): string => [...text].slice(0, n).join('');
const pad = (text: string, n: number): string => text + ' '.repeat(Math.max(0, n - width(text)));

interface BorderPieces {
  left: string;
  inner: string;
  right: string;
  fill: string;
  /** The reference's ASCII header rule of a one-column table lacks its closing corner. */
  rightSingle?: string;
}

interface Borders {
  top: BorderPieces;
  header: BorderPieces;
  middle: BorderPieces;
  bottom: BorderPieces;
}

const UTF8_BORDERS: Borders = {
  top: { left: '┌─', inner: '─┬─', right: '─┐', fill: '─' },
  header: { left: '╞═', inner: '═╪═', right: '═╡', fill: '═' },
  middle: { left: '├─', inner: '─┼─', right: '─┤', fill: '─' },
  bottom: { left: '└─', inner: '─┴─', right: '─┘', fill: '─' },
};

const ASCII_MIDDLE: BorderPieces = { left: '+-', inner: '-+-', right: '-+', fill: '-' };
const ASCII_BORDERS: Borders = {
  top: ASCII_MIDDLE,
  header: { left: '+=', inner: '=+=', right: '=+', fill: '=', rightSingle: '=' },
  middle: ASCII_MIDDLE,
  bottom: ASCII_MIDDLE,
};

function rule(pieces: BorderPieces, widths: readonly number[]): string {
  const right = widths.length === 1 && pieces.rightSingle !== undefined ? pieces.rightSingle : pieces.right;
  return pieces.left + widths.map((w) => pieces.fill.repeat(w)).join(pieces.inner) + right;
}

/**
 * Renders `rows` (objects keyed by column) as text. Values are shown as
 * they are; sorting compares the first column's text.
 */
export function renderTable(
  rows: ReadonlyArray<Readonly<Record<string, Cell>>>,
  columns: readonly string[],
  terminal: TerminalOptions,
  options: TableOptions = {},
): string {
  if (rows.length === 0) return '';
  const sortKey = columns[0];
  const sorted = [...rows].sort((a, b) => {
    const x = a[sortKey];
    const y = b[sortKey];
    if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1;
    const xs = String(x);
    const ys = String(y);
    return xs < ys ? -1 : xs > ys ? 1 : 0;
  });

  const cells = sorted.map((row) => columns.map((column) => cellLines(row[column])));
  const widths = columns.map((column, i) =>
    Math.max(width(column), ...cells.map((row) => Math.max(0, ...row[i].map(width)))),
  );

  const lines: string[] = [];
  const border = !options.noborder;
  const borders = terminal.utf8 ? UTF8_BORDERS : ASCII_BORDERS;
  const formatRow = (texts: readonly string[]): string => {
    if (border) {
      const sep = terminal.utf8 ? ' │ ' : ' | ';
      const edge = terminal.utf8 ? '│' : '|';
      return `${edge} ${texts.map((t, i) => pad(cut(t, widths[i]), widths[i])).join(sep)} ${edge}`;
    }
    // without borders the last column is neither padded nor cut
    return texts.map((t, i) => (i === texts.length - 1 ? t : `${pad(cut(t, widths[i]), widths[i])} `)).join('');
  };

  if (border) lines.push(rule(borders.top, widths));
  let separator = borders.middle;
  if (!options.noheader) {
    lines.push(formatRow(columns));
    separator = borders.header;
  }
  cells.forEach((row, index) => {
    if (border && (index > 0 || !options.noheader)) {
      lines.push(rule(separator, widths));
      separator = borders.middle;
    }
    const height = Math.max(1, ...row.map((c) => c.length));
    for (let line = 0; line < height; line++) lines.push(formatRow(row.map((c) => c[line] ?? '')));
  });
  if (border) lines.push(rule(borders.bottom, widths));

  const columnsLimit = terminal.columns;
  return lines.map((line) => `${columnsLimit ? cut(line, columnsLimit) : line}\n`).join('');
}
