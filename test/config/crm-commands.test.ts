import { describe, expect, it } from 'vitest';

import {
  crmCommandParseError,
  formatCrmCommand,
  parseCrmCommand,
  splitCrmCommands,
  writeCrmCommands,
  type CrmCommand,
} from '../../src/config/crm-commands.js';

const COMMANDS: Array<[string, CrmCommand]> = [
  ['migrate vm:100 node2', { kind: 'migrate', sid: 'vm:100', node: 'node2' }],
  ['relocate ct:101 node3', { kind: 'relocate', sid: 'ct:101', node: 'node3' }],
  ['stop vm:100 30', { kind: 'stop', sid: 'vm:100', timeout: '30' }],
  ['enable-node-maintenance node1', { kind: 'enable-node-maintenance', node: 'node1' }],
  ['disable-node-maintenance node1', { kind: 'disable-node-maintenance', node: 'node1' }],
  ['disarm-ha freeze', { kind: 'disarm-ha', mode: 'freeze' }],
  ['disarm-ha ignore', { kind: 'disarm-ha', mode: 'ignore' }],
  ['arm-ha', { kind: 'arm-ha' }],
];

describe('crm commands', () => {
  it.each(COMMANDS)('parses and formats %s', (line, command) => {
    expect(parseCrmCommand(line)).toEqual(command);
    expect(formatCrmCommand(command)).toBe(line);
  });

  it('accepts any whitespace between arguments', () => {
    expect(parseCrmCommand('migrate \t vm:100   node2')).toEqual({ kind: 'migrate', sid: 'vm:100', node: 'node2' });
  });

  it.each([
    'migrate vm:100',
    'migrate vm:100 node2 now',
    ' migrate vm:100 node2',
    'stop vm:100',
    'disarm-ha',
    'disarm-ha stop',
    'arm-ha now',
    'reboot node1',
    '',
  ])('rejects %j', (line) => {
    expect(parseCrmCommand(line)).toBeUndefined();
  });

  it('words the parse error as the manager logs it', () => {
    expect(crmCommandParseError('bogus x')).toBe('unable to parse crm command: bogus x');
  });

  it('writes a queue and splits it back like the manager', () => {
    const queue = writeCrmCommands(COMMANDS.map(([, c]) => c));
    expect(queue).toBe(`${COMMANDS.map(([l]) => l).join('\n')}\n`);
    expect(splitCrmCommands(queue).map(parseCrmCommand)).toEqual(COMMANDS.map(([, c]) => c));
    expect(splitCrmCommands('a\n\nb\n\n')).toEqual(['a', '', 'b']);
    expect(splitCrmCommands('')).toEqual([]);
  });
});
