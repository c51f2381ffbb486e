// "A curl with a token can do everything ha-manager can": every command of
// ha-manager's command table runs an operation that ha-api routes at the
// operation's method and path, every option of a command is a parameter of
// that call or one of the command line's own (how it prints; check-timings'
// local watchdog-mux), and docs/CLI.md's table ("Every command is an API
// call") lists each command with its call, and nothing else but the
// program's own help and version. A command added without a route, or
// without its row, fails here.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { OPERATIONS } from '../../src/admin/operations.js';
import type { RawValue } from '../../src/admin/schema.js';
import { COMMANDS, commandParams, type CliCommand } from '../../src/cli/ha-manager/commands.js';
import { API_PREFIX, matchRoute } from '../../src/api/routes.js';
import { REPO_ROOT } from '../simulator/scenario-dirs.js';

/** The command line's own options: how a result is printed, and what only the local node has. */
const CLI_ONLY_OPTIONS = new Set(['output-format', 'noborder', 'noheader', 'quiet', 'human-readable', 'verbose', 'watchdog-socket']);
/** Rows of the table with no API call: handled before the command table is consulted. */
const LOCAL_ROWS = new Set(['help [<command>...]', '--version']);

interface DocRow {
  command: string;
  call: string;
  cliOnly: string[];
}

function docRows(): DocRow[] {
  const text = readFileSync(join(REPO_ROOT, 'docs', 'CLI.md'), 'utf8');
  const section = text.slice(text.indexOf('## Every command is an API call'));
  const table = section.slice(0, section.indexOf('\n## '));
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [command, call, cliOnly] = line.split(' | ').map((cell) => cell.replace(/^\| |\s*\|$/g, ''));
      return {
        command: command.replace(/`/g, ''),
        call: call.replace(/`/g, ''),
        cliOnly: [...cliOnly.matchAll(/`--([\w-]+)`/g)].map((m) => m[1]),
      };
    });
}

const usage = (command: CliCommand): string => [...command.words, ...command.args.map((arg) => `<${arg}>`)].join(' ');

function fixedText(fixed: Readonly<Record<string, RawValue>> | undefined): string {
  if (fixed === undefined) return '';
  const pairs = Object.entries(fixed).map(([key, value]) => `${key}=${value === true ? 1 : value === false ? 0 : String(value)}`);
  return ` with ${pairs.join(', ')}`;
}

describe('every ha-manager command has its API call', () => {
  it.each(COMMANDS.map((command) => [usage(command), command] as const))('%s is routed by ha-api', (_usage, command) => {
    const def = OPERATIONS[command.op];
    const segments = ['cluster', 'ha', ...def.path.split('/').map((segment) => (segment.startsWith('{') ? 'x' : segment))];
    const match = matchRoute(def.method, segments);
    expect(match, `${def.method} ${API_PREFIX}cluster/ha/${def.path}`).toMatchObject({ found: true, route: { kind: 'operation', id: command.op } });
  });

  it.each(COMMANDS.map((command) => [usage(command), command] as const))('every option of %s is a parameter of its call or the command line’s own', (_usage, command) => {
    const apiParams = OPERATIONS[command.op].params as Readonly<Record<string, unknown>>;
    for (const name of Object.keys(commandParams(command))) {
      expect(Object.hasOwn(apiParams, name) || CLI_ONLY_OPTIONS.has(name), `--${name}`).toBe(true);
    }
    for (const name of Object.keys(command.extra ?? {})) expect(CLI_ONLY_OPTIONS.has(name), `--${name}`).toBe(true);
    for (const name of Object.keys(command.fixed ?? {})) expect(Object.hasOwn(apiParams, name), `fixed ${name}`).toBe(true);
  });

  it("docs/CLI.md lists each command with its call and its own options, and no other but help and --version", () => {
    const rows = docRows();
    const expected = COMMANDS.map((command) => ({
      command: usage(command),
      call: `${OPERATIONS[command.op].method} ${OPERATIONS[command.op].path}${fixedText(command.fixed)}`,
      cliOnly: Object.keys(command.extra ?? {}).sort(),
    }));
    const documented = rows
      .filter((row) => !LOCAL_ROWS.has(row.command))
      .map((row) => ({ ...row, cliOnly: [...row.cliOnly].sort() }));
    expect(documented).toEqual(expected);
    expect(rows.filter((row) => LOCAL_ROWS.has(row.command)).map((row) => row.call)).toEqual([
      "none: the program's own help",
      "none: the program's version and native parts",
    ]);
  });
});
