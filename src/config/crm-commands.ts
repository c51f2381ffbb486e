// The crm_commands queue: one user command per line, appended by the CLI/API
// and taken by the manager each round, e.g.
//
//   migrate vm:100 node2
//   stop vm:101 30
//   enable-node-maintenance node3
//   disarm-ha freeze

import type { DisarmMode, NodeName, Sid } from '../core/types.js';
import { dropTrailingEmpty } from './pve-text.js';

export type CrmCommand =
  | { kind: 'migrate' | 'relocate'; sid: Sid; node: NodeName }
  /** `timeout` is kept as given; the manager hands it on unchanged. */
  | { kind: 'stop'; sid: Sid; timeout: string }
  | { kind: 'enable-node-maintenance' | 'disable-node-maintenance'; node: NodeName }
  | { kind: 'disarm-ha'; mode: DisarmMode }
  | { kind: 'arm-ha' };

/**
 * Parses one queued line; undefined when it is none of the known commands
 * (the manager then logs crmCommandParseError(line)). Arguments are
 * whitespace separated and must be present, no more and no fewer.
 */
export function parseCrmCommand(line: string): CrmCommand | undefined {
  let m = /^(migrate|relocate)\s+(\S+)\s+(\S+)$/.exec(line);
  if (m) return { kind: m[1] as 'migrate' | 'relocate', sid: m[2], node: m[3] };
  m = /^stop\s+(\S+)\s+(\S+)$/.exec(line);
  if (m) return { kind: 'stop', sid: m[1], timeout: m[2] };
  m = /^(enable-node-maintenance|disable-node-maintenance)\s+(\S+)$/.exec(line);
  if (m) return { kind: m[1] as 'enable-node-maintenance' | 'disable-node-maintenance', node: m[2] };
  m = /^disarm-ha\s+(freeze|ignore)$/.exec(line);
  if (m) return { kind: 'disarm-ha', mode: m[1] as DisarmMode };
  if (line === 'arm-ha') return { kind: 'arm-ha' };
  return undefined;
}

/** The manager's log message for a line parseCrmCommand rejects. */
export function crmCommandParseError(line: string): string {
  return `unable to parse crm command: ${line}`;
}

/**
 * The queue's lines as the manager reads them: split on newlines, trailing
 * empty lines dropped, empty lines in between kept (they fail to parse).
 */
export function splitCrmCommands(queue: string): string[] {
  return dropTrailingEmpty(queue.split('\n'));
}

export function formatCrmCommand(command: CrmCommand): string {
  switch (command.kind) {
    case 'migrate':
    case 'relocate':
      return `${command.kind} ${command.sid} ${command.node}`;
    case 'stop':
      return `${command.kind} ${command.sid} ${command.timeout}`;
    case 'enable-node-maintenance':
    case 'disable-node-maintenance':
      return `${command.kind} ${command.node}`;
    case 'disarm-ha':
      return `${command.kind} ${command.mode}`;
    case 'arm-ha':
      return command.kind;
    default: {
      const unreachable: never = command;
      throw new Error(`unknown crm command ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The queue text for `commands`: one line each, newline-terminated, as appended by the CLI. */
export function writeCrmCommands(commands: readonly CrmCommand[]): string {
  return commands.map((c) => `${formatCrmCommand(c)}\n`).join('');
}
