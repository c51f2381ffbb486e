// The reference's output options for results: text (a table for lists),
// JSON (compact or pretty, keys sorted), YAML, or nothing (--quiet).

import { toPerlCanonicalJson, type PerlJsonValue } from '../../config/perl-json.js';
import type { ParamsSchema } from '../../admin/schema.js';
import type { CliContext } from './context.js';
import { renderTable, type Cell } from './table.js';

export const OUTPUT_FORMATS = ['text', 'json', 'json-pretty', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface OutputOptions {
  'output-format'?: OutputFormat;
  noborder?: boolean;
  noheader?: boolean;
  quiet?: boolean;
  'human-readable'?: boolean;
}

/** The reference's standard output options, for commands that print a list. */
export const STANDARD_OUTPUT_OPTIONS = {
  'output-format': {
    type: 'string',
    enum: OUTPUT_FORMATS,
    optional: true,
    default: 'text',
    description: 'Output format: text (a table), json, json-pretty or yaml.',
  },
  noborder: { type: 'boolean', optional: true, default: 0, description: 'Do not draw borders (text format).' },
  noheader: { type: 'boolean', optional: true, default: 0, description: 'Do not show column headers (text format).' },
  quiet: { type: 'boolean', optional: true, description: 'Print nothing.' },
  'human-readable': {
    type: 'boolean',
    optional: true,
    default: 1,
    description: 'Render values for people (text format; no column of these lists needs it, so the output is the same either way).',
  },
} as const satisfies ParamsSchema;

/** The output options of the views beyond the reference (status, config): a format, or nothing. */
export const VIEW_OUTPUT_OPTIONS = {
  'output-format': {
    type: 'string',
    enum: OUTPUT_FORMATS,
    optional: true,
    default: 'text',
    description: 'Output format: text, json, json-pretty or yaml (the JSON schema is in docs/CLI.md).',
  },
  quiet: { type: 'boolean', optional: true, description: 'Print nothing.' },
} as const satisfies ParamsSchema;

/** A value as results hold it; nested values only appear in JSON or YAML output. */
export type OutputValue = PerlJsonValue | undefined;

function compactJson(value: OutputValue): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(compactJson).join(',')}]`;
  const record = value as Readonly<Record<string, OutputValue>>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${compactJson(record[key])}`).join(',')}}`;
}

// YAML: plain scalars where YAML would read them back as the same string,
// double-quoted (JSON escapes are valid YAML) otherwise.
const YAML_PLAIN_RE = /^[A-Za-z_./][A-Za-z0-9_./ :,@+-]*$/;
const YAML_SPECIAL_RE = /^(~|null|true|false|yes|no|on|off|y|n)$/i;

function yamlScalar(value: PerlJsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  const text = value as string;
  const plain = YAML_PLAIN_RE.test(text) && !YAML_SPECIAL_RE.test(text) && !/: |:$| #|\s$/.test(text);
  return plain ? text : JSON.stringify(text);
}

const isCollection = (value: OutputValue): value is PerlJsonValue[] | Readonly<Record<string, OutputValue>> =>
  typeof value === 'object' && value !== null;

/** An empty collection, or a scalar: written on the line of its key or dash. */
function yamlInline(value: PerlJsonValue): string | undefined {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  if (isCollection(value)) return Object.values(value).some((item) => item !== undefined) ? undefined : '{}';
  return yamlScalar(value);
}

/** The lines of a non-empty collection, each starting with `indent`. */
function yamlBlock(value: PerlJsonValue, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item: PerlJsonValue) => {
      const inline = yamlInline(item);
      if (inline !== undefined) return [`${indent}- ${inline}`];
      const lines = yamlBlock(item, `${indent}  `);
      return [`${indent}- ${lines[0].slice(indent.length + 2)}`, ...lines.slice(1)];
    });
  }
  const record = value as Readonly<Record<string, OutputValue>>;
  return Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .flatMap((key) => {
      const item = record[key] as PerlJsonValue;
      const inline = yamlInline(item);
      if (inline !== undefined) return [`${indent}${yamlScalar(key)}: ${inline}`];
      return [`${indent}${yamlScalar(key)}:`, ...yamlBlock(item, `${indent}  `)];
    });
}

/** A YAML document of `value`, keys sorted. */
export function toYaml(value: PerlJsonValue): string {
  const inline = yamlInline(value);
  return inline !== undefined ? `--- ${inline}\n` : `---\n${yamlBlock(value, '').join('\n')}\n`;
}

/**
 * Prints a result: `text` by the given renderer, the others as the data
 * itself. Nothing with --quiet.
 */
export function printResult(ctx: CliContext, data: PerlJsonValue, options: OutputOptions, text: () => string): void {
  if (options.quiet) return;
  switch (options['output-format'] ?? 'text') {
    case 'json':
      ctx.stdout(`${compactJson(data)}\n`);
      return;
    case 'json-pretty':
      ctx.stdout(toPerlCanonicalJson(data));
      return;
    case 'yaml':
      ctx.stdout(toYaml(data));
      return;
    case 'text':
      ctx.stdout(text());
      return;
  }
}

function cell(value: OutputValue): Cell {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return compactJson(value);
}

/** Prints a list of records: a table of the given columns as text. */
export function printList(
  ctx: CliContext,
  records: ReadonlyArray<Readonly<Record<string, OutputValue>>>,
  columns: readonly string[],
  options: OutputOptions,
): void {
  printResult(ctx, records as PerlJsonValue, options, () => {
    const rows = records.map((record) => Object.fromEntries(columns.map((column) => [column, cell(record[column])])));
    return renderTable(rows, columns, ctx.terminal, { noborder: options.noborder === true, noheader: options.noheader === true });
  });
}
