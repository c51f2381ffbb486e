// A command's arguments and options, read the way the reference's command
// line reads them (Getopt::Long under PVE::CLIHandler): options are
// `--name value`, `-name value`, `--name=value` or `-name=value`, in any
// place after the command words; an option that takes a value takes the
// next argument whatever it looks like; a boolean option alone means 1, and
// takes the next argument as its value unless that is an option; list
// options may be repeated and add up; `--` ends the options. The values
// are handed on as given: checking them is the service layer's job
// (validateParams), so a bad value gets the same message from every front
// end.

import { isListParam } from '../../admin/operations.js';
import type { ParamsSchema } from '../../admin/schema.js';

export interface CommandArgs {
  /** Positional parameters, in order. */
  args: readonly string[];
  options: ParamsSchema;
}

export type ParsedArgs = { help: true } | { help: false; values: Record<string, string> };

/** A command line that cannot be read: unknown or repeated options, too many arguments. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const HELP_OPTIONS = new Set(['--help', '-h', '-help']);
/** `-name`, `--name`, with `=value` or not; not `-5` (a negative number is a value). */
const OPTION_RE = /^--?([A-Za-z][A-Za-z0-9_-]*)(?:=(.*))?$/s;

export function parseArgs(command: CommandArgs, tokens: readonly string[]): ParsedArgs {
  if (tokens.some((token) => HELP_OPTIONS.has(token))) return { help: true };
  const values: Record<string, string> = {};
  const positional: string[] = [];
  let optionsEnded = false;

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (optionsEnded || token === '-' || !token.startsWith('-')) {
      positional.push(token);
      continue;
    }
    if (token === '--') {
      optionsEnded = true;
      continue;
    }
    const m = OPTION_RE.exec(token);
    if (m === null) {
      // `-5` and the like: a value where an argument is expected
      positional.push(token);
      continue;
    }
    const [, name, inline] = m;
    const schema = Object.hasOwn(command.options, name) ? command.options[name] : undefined;
    if (schema === undefined) {
      const known = Object.keys(command.options).sort();
      throw new UsageError(
        `unknown option '${token.replace(/=.*$/s, '')}'${known.length > 0 ? ` (options: ${known.map((k) => `--${k}`).join(', ')})` : ' (this command takes no options)'}`,
      );
    }
    let value: string;
    if (inline !== undefined) {
      value = inline;
    } else if (schema.type === 'boolean') {
      const next = tokens[i + 1];
      if (next !== undefined && !next.startsWith('-')) {
        value = next;
        i++;
      } else {
        value = '1';
      }
    } else {
      if (i + 1 >= tokens.length) throw new UsageError(`option '${token}' needs a value (${schema.typetext ?? `<${schema.type}>`})`);
      value = tokens[++i];
    }
    if (Object.hasOwn(values, name)) {
      if (!isListParam(schema)) throw new UsageError(`option '--${name}' given twice`);
      values[name] = `${values[name]},${value}`;
    } else {
      values[name] = value;
    }
  }

  if (positional.length > command.args.length) {
    const extra = positional.slice(command.args.length);
    throw new UsageError(`too many arguments: ${extra.map((arg) => `'${arg}'`).join(' ')}`);
  }
  command.args.forEach((name, i) => {
    if (i < positional.length) values[name] = positional[i];
  });
  return { help: false, values };
}
