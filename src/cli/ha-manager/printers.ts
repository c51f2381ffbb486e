// How each command prints its operation's result: the reference's texts
// (status lines, `config` and `groupconfig` sections, list tables), or the
// result itself as JSON or YAML. The JSON is the API's (docs/CLI.md).

import type { AdminContext } from '../../admin/context.js';
import type { MotionResult } from '../../admin/commands.js';
import type { GroupRecord } from '../../admin/groups.js';
import { invoke, type OperationResults } from '../../admin/invoke.js';
import type { ResourceRecord } from '../../admin/resources.js';
import type { RuleRecord } from '../../admin/rules.js';
import type { StatusEntry } from '../../admin/status.js';
import { toPerlCanonicalJson, type PerlJsonValue } from '../../config/perl-json.js';
import type { CliContext } from './context.js';
import type { PrinterName } from './commands.js';
import { printList, printResult, type OutputOptions } from './output.js';

/** A refusal found in a result (a blocked migration): exit status 1. */
export class CommandFailure extends Error {}

export interface PrintOptions extends OutputOptions {
  verbose?: boolean;
  'watchdog-socket'?: string;
}

type Printer = (cli: CliContext, admin: AdminContext, result: never, options: PrintOptions, words: readonly string[]) => Promise<void> | void;

function configText(records: readonly ResourceRecord[], cli: CliContext): string {
  let out = '';
  for (const record of [...records].sort((a, b) => (a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0))) {
    out += `${record.sid}\n`;
    for (const key of Object.keys(record).sort()) {
      if (key === 'digest' || key === 'sid' || key === 'type' || key === 'errors') continue;
      out += `\t${key} ${String(record[key as keyof ResourceRecord])}\n`;
    }
    for (const [param, problem] of Object.entries(record.errors ?? {})) cli.stderr(`error: property '${param}' - ${problem}\n`);
    out += '\n';
  }
  return out;
}

function groupConfigText(records: readonly GroupRecord[]): string {
  let out = '';
  for (const record of records) {
    out += `group: ${record.group}\n`;
    for (const key of Object.keys(record).sort()) {
      if (key === 'digest' || key === 'group' || key === 'type') continue;
      out += `\t${key} ${String(record[key as keyof GroupRecord])}\n`;
    }
    out += '\n';
  }
  return out;
}

function motionPrinter(cli: CliContext, result: MotionResult, command: 'migrate' | 'relocate'): void {
  const { sid, 'requested-node': node } = result;
  const blocking = result['blocking-resources'];
  if (blocking !== undefined) {
    const lines = blocking.map((b) => `- resource '${b.sid}' on target node '${node}' in negative affinity with resource '${sid}'`);
    throw new CommandFailure(`cannot ${command} resource '${sid}' to node '${node}':\n\n${lines.join('\n')}`);
  }
  for (const csid of result['comigrated-resources'] ?? []) {
    cli.stdout(`also ${command} resource '${csid}' in positive affinity with resource '${sid}' to target node '${node}'\n`);
  }
}

const PRINTERS: Readonly<Record<PrinterName, Printer>> = {
  nothing: () => undefined,
  async status(cli, admin, entries: OperationResults['status.current'], options) {
    if (options.quiet) return;
    const full = options.verbose ? await invoke(admin, 'status.manager_status', {}) : undefined;
    if ((options['output-format'] ?? 'text') !== 'text') {
      const data = full === undefined ? entries : { current: entries, manager_status: full };
      printResult(cli, data as unknown as PerlJsonValue, options, () => '');
      return;
    }
    cli.stdout(entries.map((entry: StatusEntry) => `${entry.type} ${entry.status}\n`).join(''));
    if (full !== undefined) cli.stdout(`full cluster state:\n${toPerlCanonicalJson(full)}`);
  },
  'resource-config': (cli, _admin, records: ResourceRecord[], options) =>
    printResult(cli, records as unknown as PerlJsonValue, options, () => configText(records, cli)),
  'group-config': (cli, _admin, records: GroupRecord[], options) =>
    printResult(cli, records as unknown as PerlJsonValue, options, () => groupConfigText(records)),
  'group-list': (cli, _admin, records: GroupRecord[], options) => printList(cli, records as unknown as [], ['group'], options),
  'rule-list': (cli, _admin, records: RuleRecord[], options) => printList(cli, records as unknown as [], ['rule'], options),
  'rule-config': (cli, _admin, records: RuleRecord[], options) => {
    const rows = records.map((record) => ({
      ...record,
      enabled: record.disable === undefined ? 1 : 0,
      state: record.errors === undefined ? 'in use' : 'ignored (conflicts)',
    }));
    printList(cli, rows as unknown as [], ['enabled', 'state', 'rule', 'type', 'resources', 'comment'], options);
  },
  motion: (cli, _admin, result: MotionResult, _options, words) =>
    motionPrinter(cli, result, words[words.length - 1] === 'relocate' ? 'relocate' : 'migrate'),
  // loaded here only: it reaches the watchdog-mux client, which no other command needs
  'timing-set': async (cli, _admin, report: OperationResults['timing.update']) => (await import('./timing.js')).printTimingSet(cli, report),
  'timing-check': async (cli, _admin, report: OperationResults['timing.read'], options) => {
    const { printTimingCheck } = await import('./timing.js');
    const unsafe = printTimingCheck(cli, report, options['watchdog-socket']);
    if (unsafe !== undefined) throw new CommandFailure('unsafe: the daemons on this node would refuse to arm the watchdog');
  },
};

export async function printCommandResult(
  name: PrinterName,
  words: readonly string[],
  cli: CliContext,
  admin: AdminContext,
  result: unknown,
  options: PrintOptions,
): Promise<void> {
  await PRINTERS[name](cli, admin, result as never, options, words);
}
