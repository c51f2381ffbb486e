// The reference's output options for list results: a table (text), or the
// records as JSON (compact or pretty, keys sorted), or nothing (--quiet).

import { toPerlCanonicalJson, type PerlJsonValue } from '../../config/perl-json.js';
import type { CliContext } from './context.js';
import { renderTable, type Cell } from './table.js';

export const OUTPUT_FORMATS = ['text', 'json', 'json-pretty'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ListOutputOptions {
  outputFormat?: OutputFormat;
  noborder?: 0 | 1;
  noheader?: 0 | 1;
  quiet?: 0 | 1;
}

/** A record as the API returns it; nested values only appear in JSON output. */
export type ListRecord = Readonly<Record<string, PerlJsonValue | undefined>>;

function compactJson(value: PerlJsonValue | undefined): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(compactJson).join(',')}]`;
  const record = value as Readonly<Record<string, PerlJsonValue | undefined>>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${compactJson(record[key])}`).join(',')}}`;
}

function cell(value: PerlJsonValue | undefined): Cell {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return compactJson(value);
}

export function printList(
  ctx: CliContext,
  records: readonly ListRecord[],
  columns: readonly string[],
  options: ListOutputOptions,
): void {
  if (options.quiet) return;
  switch (options.outputFormat ?? 'text') {
    case 'json':
      ctx.stdout(`${compactJson(records as PerlJsonValue)}\n`);
      return;
    case 'json-pretty':
      ctx.stdout(toPerlCanonicalJson(records as PerlJsonValue));
      return;
    case 'text': {
      const rows = records.map((record) => Object.fromEntries(columns.map((column) => [column, cell(record[column])])));
      ctx.stdout(
        renderTable(rows, columns, ctx.terminal, {
          noborder: options.noborder === 1,
          noheader: options.noheader === 1,
        }),
      );
      return;
    }
  }
}
