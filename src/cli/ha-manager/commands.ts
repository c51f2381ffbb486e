// The ha-manager commands, as the reference's command table: each names the
// operation it calls, which of its parameters are positional arguments,
// any parameters fixed by the command (`node-maintenance enable` is the
// maintenance request with disable=0), the options only the command line
// has (output format, status --verbose, the local watchdog-mux socket), and
// how the result is printed. Every other option is a parameter of the
// operation, checked there. Every command has an operation behind it, so
// the HTTP API can do whatever the command line can (test/api/parity.test.ts).

import { OPERATIONS, type OperationId } from '../../admin/operations.js';
import type { ParamsSchema, RawValue } from '../../admin/schema.js';
import { DEFAULT_WATCHDOG_MUX_SOCKET } from '../../native/mux-socket.js';
import { STANDARD_OUTPUT_OPTIONS, VIEW_OUTPUT_OPTIONS } from './output.js';

/** How a command prints its operation's result (see printers.ts). */
export type PrinterName =
  | 'nothing'
  | 'status'
  | 'resource-config'
  | 'group-config'
  | 'group-list'
  | 'rule-list'
  | 'rule-config'
  | 'motion'
  | 'timing-set'
  | 'timing-check';

export interface CliCommand {
  words: readonly string[];
  /** Parameters given as positional arguments, in order. */
  args: readonly string[];
  op: OperationId;
  /** Parameters the command sets itself; they are no options. */
  fixed?: Readonly<Record<string, RawValue>>;
  /** Options of the command line only. */
  extra?: ParamsSchema;
  printer: PrinterName;
  /** Shown instead of the operation's description. */
  description?: string;
}

/** Every parameter of a command, positional or option, but those it fixes itself. */
export function commandParams(command: CliCommand): ParamsSchema {
  const params: Record<string, ParamsSchema[string]> = {};
  for (const [name, schema] of Object.entries(OPERATIONS[command.op].params as ParamsSchema)) {
    if (command.fixed === undefined || !Object.hasOwn(command.fixed, name)) params[name] = schema;
  }
  return { ...params, ...command.extra };
}

export function commandDescription(command: CliCommand): string {
  return command.description ?? OPERATIONS[command.op].description;
}

const STATUS_OPTIONS = {
  verbose: { type: 'boolean', optional: true, default: 0, description: 'Also print the full manager and LRM status (JSON).' },
  ...VIEW_OUTPUT_OPTIONS,
} as const satisfies ParamsSchema;

export const COMMANDS: readonly CliCommand[] = [
  { words: ['status'], op: 'status.current', args: [], extra: STATUS_OPTIONS, printer: 'status' },
  { words: ['config'], op: 'resources.index', args: [], extra: VIEW_OUTPUT_OPTIONS, printer: 'resource-config' },
  { words: ['add'], op: 'resources.create', args: ['sid'], printer: 'nothing' },
  { words: ['set'], op: 'resources.update', args: ['sid'], printer: 'nothing' },
  { words: ['remove'], op: 'resources.delete', args: ['sid'], printer: 'nothing' },
  {
    words: ['migrate'],
    op: 'resources.migrate',
    args: ['sid', 'node'],
    printer: 'motion',
    description: 'Request an online migration of a resource to another node (alias of crm-command migrate).',
  },
  {
    words: ['relocate'],
    op: 'resources.relocate',
    args: ['sid', 'node'],
    printer: 'motion',
    description: 'Request a relocation of a resource to another node (alias of crm-command relocate).',
  },
  { words: ['crm-command', 'migrate'], op: 'resources.migrate', args: ['sid', 'node'], printer: 'motion' },
  { words: ['crm-command', 'relocate'], op: 'resources.relocate', args: ['sid', 'node'], printer: 'motion' },
  { words: ['crm-command', 'stop'], op: 'resources.stop', args: ['sid', 'timeout'], printer: 'nothing' },
  {
    words: ['crm-command', 'node-maintenance', 'enable'],
    op: 'status.node-maintenance',
    args: ['node'],
    fixed: { disable: false },
    printer: 'nothing',
    description: 'Request maintenance mode for a node: its resources move off and stay off.',
  },
  {
    words: ['crm-command', 'node-maintenance', 'disable'],
    op: 'status.node-maintenance',
    args: ['node'],
    fixed: { disable: true },
    printer: 'nothing',
    description: 'Request the end of maintenance mode for a node.',
  },
  { words: ['crm-command', 'disarm-ha'], op: 'status.disarm-ha', args: ['resource-mode'], printer: 'nothing' },
  { words: ['crm-command', 'arm-ha'], op: 'status.arm-ha', args: [], printer: 'nothing' },
  {
    words: ['groupconfig'],
    op: 'groups.index',
    args: [],
    extra: VIEW_OUTPUT_OPTIONS,
    printer: 'group-config',
    description: 'List the HA groups and their settings (deprecated: groups became node affinity rules).',
  },
  {
    words: ['grouplist'],
    op: 'groups.index',
    args: [],
    extra: STANDARD_OUTPUT_OPTIONS,
    printer: 'group-list',
    description: 'List the HA group names (deprecated).',
  },
  { words: ['groupadd'], op: 'groups.create', args: ['group'], printer: 'nothing' },
  { words: ['groupset'], op: 'groups.update', args: ['group'], printer: 'nothing' },
  { words: ['groupremove'], op: 'groups.delete', args: ['group'], printer: 'nothing' },
  {
    words: ['rules', 'list'],
    op: 'rules.index',
    args: [],
    extra: STANDARD_OUTPUT_OPTIONS,
    printer: 'rule-list',
    description: 'List the HA rule names.',
  },
  {
    words: ['rules', 'config'],
    op: 'rules.index',
    args: [],
    extra: STANDARD_OUTPUT_OPTIONS,
    printer: 'rule-config',
    description: 'List the HA rules: enabled, in use or ignored for conflicts, type, resources.',
  },
  { words: ['rules', 'add'], op: 'rules.create', args: ['type', 'rule'], printer: 'nothing' },
  { words: ['rules', 'set'], op: 'rules.update', args: ['type', 'rule'], printer: 'nothing' },
  { words: ['rules', 'remove'], op: 'rules.delete', args: ['rule'], printer: 'nothing' },
  { words: ['timing', 'set'], op: 'timing.update', args: [], printer: 'timing-set' },
  {
    words: ['check-timings'],
    op: 'timing.read',
    args: [],
    extra: {
      'watchdog-socket': { type: 'string', optional: true, default: DEFAULT_WATCHDOG_MUX_SOCKET, description: "This node's watchdog-mux socket, checked against the timing." },
    },
    printer: 'timing-check',
    description: "Show the timing's numbers, the safety inequality and the failover it implies; check this node's watchdog-mux.",
  },
];

/** The command a command line names, and the arguments after its words. */
export function findCommand(args: readonly string[]): { command: CliCommand; rest: string[] } | undefined {
  let best: CliCommand | undefined;
  for (const command of COMMANDS) {
    if (command.words.every((word, i) => args[i] === word) && (best === undefined || command.words.length > best.words.length)) {
      best = command;
    }
  }
  return best === undefined ? undefined : { command: best, rest: args.slice(best.words.length) };
}

/** The commands below a group of words (`crm-command` → its subcommands). */
export function commandsBelow(words: readonly string[]): CliCommand[] {
  return COMMANDS.filter((command) => command.words.length > words.length && words.every((word, i) => command.words[i] === word));
}
