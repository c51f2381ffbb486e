// The ha-manager command line: a thin front end over the service layer
// (src/admin). It finds the command, reads its arguments, hands them to the
// operation unchecked (the operation checks them, for every front end
// alike), prints the result, and maps failures to the exit status:
// 0 done, 1 refused or failed, 2 wrong arguments, 3 not possible now.

import type { AdminContext } from '../../admin/context.js';
import { AdminError, type AdminErrorKind } from '../../admin/errors.js';
import { invoke } from '../../admin/invoke.js';
import { validateParams, type RawValue } from '../../admin/schema.js';
import { UsageError, parseArgs } from './argv.js';
import { commandParams, commandsBelow, findCommand, type CliCommand } from './commands.js';
import type { CliContext } from './context.js';
import { commandArgs, commandHelp, programHelp, usageLine } from './help.js';
import { CommandFailure, printCommandResult, type PrintOptions } from './printers.js';

export const EXIT_STATUS: Readonly<Record<AdminErrorKind, number>> = {
  invalid: 2,
  refused: 1,
  'not-found': 1,
  conflict: 1,
  failed: 1,
  unavailable: 3,
};

const HELP_HINT = "(run 'ha-manager help' for the commands, 'ha-manager help <command>' for one)";

function adminContext(ctx: CliContext, args: readonly string[]): AdminContext {
  const command = ['ha-manager', ...args].join(' ');
  return {
    store: ctx.store,
    nodename: ctx.nodename,
    now: ctx.now,
    timeZone: ctx.timeZone,
    resourceTypes: ctx.resourceTypes,
    lockTimeoutMs: ctx.lockTimeoutMs,
    actor: { pid: ctx.pid ?? process.pid, command: command.length > 120 ? `${command.slice(0, 117)}...` : command },
    warn: (message) => ctx.stderr(`warning: ${message}\n`),
  };
}

/** `help`, `help <words>`: the program's or one command's help. */
function help(ctx: CliContext, words: readonly string[]): number {
  const found = findCommand(words);
  if (words.length === 0) {
    ctx.stdout(programHelp());
    return 0;
  }
  if (found !== undefined && found.rest.length === 0) {
    ctx.stdout(commandHelp(found.command));
    return 0;
  }
  const below = commandsBelow(words);
  if (below.length > 0) {
    ctx.stdout(`${below.map((command) => `USAGE: ${usageLine(command)}`).join('\n')}\n`);
    return 0;
  }
  ctx.stderr(`unknown command 'ha-manager ${words.join(' ')}'\n${HELP_HINT}\n`);
  return 2;
}

/** Runs one command of the table with the arguments after its words. */
async function runCommand(ctx: CliContext, args: readonly string[], command: CliCommand, rest: readonly string[]): Promise<number> {
  const spec = commandArgs(command);
  let parsed;
  try {
    parsed = parseArgs(spec, rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    ctx.stderr(`${err.message}\n\nUSAGE: ${usageLine(command)}\n${HELP_HINT}\n`);
    return 2;
  }
  if (parsed.help) {
    ctx.stdout(commandHelp(command));
    return 0;
  }
  const admin = adminContext(ctx, args);
  try {
    // Every value, the command line's own options included, is checked at once, so each problem is named.
    const checked = validateParams(commandParams(command), parsed.values) as Record<string, unknown>;
    const extra = command.extra ?? {};
    const params = Object.fromEntries(Object.entries(checked).filter(([key]) => !Object.hasOwn(extra, key)));
    const options = Object.fromEntries(Object.entries(checked).filter(([key]) => Object.hasOwn(extra, key))) as PrintOptions;
    const result = await invoke(admin, command.op, { ...params, ...command.fixed } as Record<string, RawValue>);
    await printCommandResult(command.printer, command.words, ctx, admin, result, options);
    return 0;
  } catch (err) {
    if (err instanceof CommandFailure) {
      ctx.stderr(`${err.message}\n`);
      return 1;
    }
    if (!(err instanceof AdminError)) throw err;
    if (err.kind === 'invalid') {
      ctx.stderr(`400 ${err.describe()}\n\nUSAGE: ${usageLine(command)}\n${HELP_HINT}\n`);
      return EXIT_STATUS.invalid;
    }
    ctx.stderr(`${err.describe()}\n`);
    return EXIT_STATUS[err.kind];
  }
}

/** Runs one command line (without the program name); resolves to the exit status. */
export async function runHaManager(args: readonly string[], ctx: CliContext): Promise<number> {
  if (args.length === 0 || args[0] === '--help' || args[0] === '-h' || args[0] === '-help') return help(ctx, []);
  if (args[0] === 'help') return help(ctx, args.slice(1).filter((arg) => !arg.startsWith('-')));
  const found = findCommand(args);
  if (found === undefined) {
    const known = commandsBelow(args.slice(0, 1));
    const what = known.length > 0 ? `'ha-manager ${args.slice(0, 2).join(' ')}'` : `'${args[0]}'`;
    ctx.stderr(`unknown command ${what}\n${HELP_HINT}\n`);
    return 2;
  }
  try {
    return await runCommand(ctx, args, found.command, found.rest);
  } catch (err) {
    ctx.stderr(`ha-manager: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
