// Help texts, made from the same declarations the commands are checked
// against (src/admin/operations.ts): usage lines, arguments and options with
// their value shapes, defaults and descriptions.

import { isListParam } from '../../admin/operations.js';
import type { ParamSchema } from '../../admin/schema.js';
import type { CommandArgs } from './argv.js';
import { COMMANDS, commandDescription, commandParams, type CliCommand } from './commands.js';

/** A command's positional arguments and options. */
export function commandArgs(command: CliCommand): CommandArgs {
  const options: Record<string, ParamSchema> = {};
  for (const [name, schema] of Object.entries(commandParams(command))) {
    if (!command.args.includes(name)) options[name] = schema;
  }
  return { args: command.args, options };
}

function valueText(schema: ParamSchema): string {
  if (schema.type === 'string' && schema.enum !== undefined) return `<${schema.enum.join(' | ')}>`;
  if (schema.typetext !== undefined) return schema.typetext;
  if (schema.type === 'integer') {
    return schema.minimum === undefined ? '<integer>' : `<integer> (${schema.minimum} - N)`;
  }
  if (schema.type === 'number') return `<number> (${schema.minimum} - ${schema.maximum})`;
  if (schema.type === 'boolean') return '<boolean>';
  return '<string>';
}

export function usageLine(command: CliCommand): string {
  const { args, options } = commandArgs(command);
  const parts = ['ha-manager', ...command.words, ...args.map((arg) => `<${arg}>`)];
  for (const [name, schema] of Object.entries(options)) {
    if (!schema.optional) parts.push(`--${name} ${valueText(schema)}`);
  }
  if (Object.values(options).some((schema) => schema.optional)) parts.push('[OPTIONS]');
  return parts.join(' ');
}

function describe(schema: ParamSchema): string {
  const notes: string[] = [];
  if (schema.default !== undefined) notes.push(`default ${schema.default}`);
  if (isListParam(schema)) notes.push('may be repeated');
  return notes.length === 0 ? schema.description : `${schema.description} (${notes.join('; ')})`;
}

export function commandHelp(command: CliCommand): string {
  const { args, options } = commandArgs(command);
  const params = commandParams(command);
  let out = `USAGE: ${usageLine(command)}\n\n  ${commandDescription(command)}\n`;
  for (const arg of args) out += `\n  <${arg}>: ${valueText(params[arg])}\n             ${describe(params[arg])}\n`;
  for (const name of Object.keys(options).sort()) {
    const schema = options[name];
    out += `\n  --${name} ${schema.type === 'boolean' ? '[<boolean>]' : valueText(schema)}\n             ${describe(schema)}\n`;
  }
  return out;
}

const GENERAL_HELP =
  'Options may also be written with one dash (-nodes) and as --name=value; a\n' +
  'boolean option alone means 1.\n' +
  '\n' +
  'The cluster store: --store <spec> before the command, else $HA_MANAGER_STORE,\n' +
  'else /etc/pve on a Proxmox VE node. <spec> is dir:<path>, <path>, or\n' +
  'etcd:<url>[,<url>...][?prefix=/path].\n' +
  '\n' +
  'Exit status: 0 done; 1 refused or failed; 2 wrong arguments; 3 not possible\n' +
  'now (no quorum, store unreachable, the HA config lock busy), try again.\n' +
  'Details, and the JSON of status and config: docs/CLI.md.\n';

export function programHelp(): string {
  const lines = COMMANDS.map((command) => usageLine(command));
  lines.push('ha-manager help [<command>...]', 'ha-manager --version');
  return `USAGE: ha-manager <COMMAND> [ARGS] [OPTIONS]\n\n${lines.map((line) => `       ${line}`).join('\n')}\n\n${GENERAL_HELP}`;
}
