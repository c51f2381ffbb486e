// The ha-manager command line: the reference's commands, arguments and
// options on commander. Each action lives in the module of its command
// group; this file only maps the command line onto them.

import { Command, CommanderError, Option } from 'commander';

import { RESOURCE_STATE_SETTINGS } from '../../config/resources-config.js';
import { RULE_TYPES, AFFINITIES, type RuleType } from '../../core/rules/types.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';
import { armHa, disarmHa, moveResource, setNodeMaintenance, stopResource, type MotionKind } from './crm-command.js';
import { addGroup, printGroupConfig, printGroupList, removeGroup, setGroup, type GroupSettings } from './groups.js';
import { OUTPUT_FORMATS, type ListOutputOptions } from './list-output.js';
import {
  enumParser,
  integerParser,
  nodeListParser,
  optionNameListParser,
  parseBooleanValue,
  parseComment,
  parseConfigId,
  parseNodeName,
  parseResourceOrVmId,
  resourceListParser,
} from './params.js';
import { addResource, printResourceConfig, removeResource, setResource, type AddOptions, type SetOptions } from './resources.js';
import { addRule, printRuleConfig, printRuleList, removeRule, setRule, type RuleFilter, type RuleSettings } from './rules.js';
import { printStatus } from './status.js';
import { addTimingCommands } from './timing.js';

/** A boolean option: `--flag` alone means 1, or `--flag 0|1|yes|no|...`. */
function flag(name: string, description: string): Option {
  return new Option(`--${name} [bool]`, description).preset('1').argParser(parseBooleanValue);
}

const SID_HELP = 'HA resource id <type>:<name> (e.g. vm:100), or a guest id (e.g. 100)';

function addResourceSettings(command: Command, ctx: CliContext): Command {
  return command
    .addOption(new Option('--type <type>', 'resource type (must match the id)').argParser(enumParser(Object.keys(ctx.resourceTypes))))
    .addOption(new Option('--state <state>', 'requested state: started, stopped, disabled or ignored (enabled means started)').argParser(enumParser(RESOURCE_STATE_SETTINGS)))
    .addOption(new Option('--group <group>', 'HA group (deprecated: use node affinity rules)').argParser(parseConfigId))
    .addOption(new Option('--max_restart <count>', 'restarts on the same node after a failed start').argParser(integerParser(0)))
    .addOption(new Option('--max_relocate <count>', 'moves to another node after failed starts').argParser(integerParser(0)))
    .addOption(flag('failback', 'move back to the preferred node of its node affinity rule when that comes online'))
    .addOption(new Option('--comment <text>', 'description').argParser(parseComment));
}

function addOutputOptions(command: Command): Command {
  return command
    .addOption(new Option('--output-format <format>', 'text (a table), json or json-pretty').argParser(enumParser(OUTPUT_FORMATS)))
    .addOption(flag('noborder', 'no table borders (text format)'))
    .addOption(flag('noheader', 'no column headers (text format)'))
    .addOption(flag('quiet', 'print nothing'));
}

function addRuleFilters(command: Command, run: (filter: RuleFilter, output: ListOutputOptions) => Promise<void>): Command {
  return addOutputOptions(
    command
      .addOption(new Option('--type <type>', 'only rules of this type').argParser(enumParser(RULE_TYPES)))
      .option('--resource <sid>', 'only rules with this resource'),
  ).action(async (options: RuleFilter & ListOutputOptions) => {
    const { type, resource, ...output } = options;
    await run({ type, resource }, output);
  });
}

function addRuleSettings(command: Command): Command {
  return command
    .addOption(new Option('--resources <list>', 'HA resources, comma separated (repeatable)').argParser(resourceListParser))
    .addOption(new Option('--nodes <list>', 'node affinity: nodes as <node>[:<priority>], comma separated (repeatable)').argParser(nodeListParser))
    .addOption(flag('strict', 'node affinity: run only on the listed nodes'))
    .addOption(new Option('--affinity <affinity>', 'resource affinity: keep together (positive) or apart (negative)').argParser(enumParser(AFFINITIES)))
    .addOption(flag('disable', 'disable the rule (`--delete disable` enables it again)'))
    .addOption(new Option('--comment <text>', 'description').argParser(parseComment));
}

function addGroupSettings(command: Command): Command {
  return command
    .addOption(flag('restricted', 'run the resources only on the group nodes'))
    .addOption(flag('nofailback', 'do not move resources back to a higher priority node coming online'))
    .addOption(new Option('--comment <text>', 'description').argParser(parseComment))
    .addOption(new Option('--type <type>', 'section type (only group)').argParser(enumParser(['group'])));
}

function motionCommand(parent: Command, kind: MotionKind, ctx: CliContext, description: string): Command {
  return parent
    .command(kind)
    .description(description)
    .argument('<sid>', SID_HELP, parseResourceOrVmId)
    .argument('<node>', 'target node', parseNodeName)
    .action((sid: string, node: string) => moveResource(ctx, kind, sid, node));
}

const MIGRATE_HELP = 'request an online migration of a resource to another node';
const RELOCATE_HELP = 'request a relocation of a resource: stopped on its node, started on the target';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('ha-manager')
    .description('Manage the HA stack: resources, rules, groups and requests to the cluster resource manager')
    .exitOverride()
    // Descriptions only: commander would show the `1` a bare boolean flag stands for as a "preset".
    .configureHelp({ optionDescription: (option) => option.description })
    .configureOutput({
      writeOut: (text) => ctx.stdout(text),
      writeErr: (text) => ctx.stderr(text),
    })
    .showHelpAfterError("(run 'ha-manager help' for the commands, 'ha-manager <command> --help' for one)")
    .addHelpText(
      'after',
      '\nThe cluster store: --store <spec> before the command, else $HA_MANAGER_STORE,\n' +
        'else /etc/pve on a Proxmox VE node. <spec> is dir:<path>, <path>, or\n' +
        'etcd:<url>[,<url>...][?prefix=/path].\n' +
        'Exit status: 0 done, 1 refused or failed, 2 wrong arguments.',
    );

  program
    .command('status')
    .description('show the HA status: quorum, master, fencing, every LRM and every resource')
    .addOption(flag('verbose', 'also print the full manager and LRM status (JSON)'))
    .action((options: { verbose?: 0 | 1 }) => printStatus(ctx, options.verbose === 1));

  program
    .command('config')
    .description('list the HA resources and their settings')
    .addOption(new Option('--type <type>', 'only resources of this type').argParser(enumParser(Object.keys(ctx.resourceTypes))))
    .action((options: { type?: string }) => printResourceConfig(ctx, options.type));

  addResourceSettings(
    program
      .command('add')
      .description('put a resource under HA management')
      .argument('<sid>', SID_HELP, parseResourceOrVmId),
    ctx,
  )
    .addOption(new Option('--node <node>', 'for resources that are not guests: the node it is on now').argParser(parseNodeName))
    .action((sid: string, options: AddOptions) => addResource(ctx, sid, options));

  addResourceSettings(
    program
      .command('set')
      .description("change an HA resource's settings")
      .argument('<sid>', SID_HELP, parseResourceOrVmId),
    ctx,
  )
    .addOption(new Option('--delete <options>', 'settings to reset, comma separated').argParser(optionNameListParser))
    .option('--digest <sha1>', 'refuse if resources.cfg changed since it had this digest')
    .action((sid: string, options: SetOptions) => setResource(ctx, sid, options));

  program
    .command('remove')
    .description('take a resource out of HA management')
    .argument('<sid>', SID_HELP, parseResourceOrVmId)
    .addOption(flag('purge', 'also remove it from its rules, deleting rules left empty (default 1)'))
    .action((sid: string, options: { purge?: 0 | 1 }) => removeResource(ctx, sid, options.purge !== 0));

  motionCommand(program, 'migrate', ctx, `${MIGRATE_HELP} (alias of crm-command migrate)`);
  motionCommand(program, 'relocate', ctx, `${RELOCATE_HELP} (alias of crm-command relocate)`);

  const crm = program.command('crm-command').description('queue a request to the cluster resource manager');
  motionCommand(crm, 'migrate', ctx, MIGRATE_HELP);
  motionCommand(crm, 'relocate', ctx, RELOCATE_HELP);
  crm
    .command('stop')
    .description('request a resource to be stopped')
    .argument('<sid>', SID_HELP, parseResourceOrVmId)
    .argument('<timeout>', 'seconds to wait for a clean shutdown; 0 stops it hard', integerParser(0))
    .action((sid: string, timeout: number) => stopResource(ctx, sid, timeout));
  const maintenance = crm.command('node-maintenance').description('move resources off a node and keep them off, or end that');
  for (const enable of [true, false]) {
    maintenance
      .command(enable ? 'enable' : 'disable')
      .description(enable ? 'request maintenance mode for a node' : 'request the end of maintenance mode for a node')
      .argument('<node>', 'cluster node', parseNodeName)
      .action((node: string) => setNodeMaintenance(ctx, node, enable));
  }
  crm
    .command('disarm-ha')
    .description('request the HA stack to release all watchdogs cluster-wide')
    .argument('<resource-mode>', "freeze: resources keep their state; ignore: resources are left to be managed by hand", enumParser(['freeze', 'ignore'] as const))
    .action((mode: 'freeze' | 'ignore') => disarmHa(ctx, mode));
  crm
    .command('arm-ha')
    .description('request the HA stack to be armed again after disarm-ha')
    .action(() => armHa(ctx));

  program
    .command('groupconfig')
    .description('list the HA groups and their settings (deprecated: groups became node affinity rules)')
    .action(() => printGroupConfig(ctx));
  addOutputOptions(program.command('grouplist').description('list the HA group names (deprecated)')).action(
    (options: ListOutputOptions) => printGroupList(ctx, options),
  );
  addGroupSettings(
    program
      .command('groupadd')
      .description('create an HA group (deprecated)')
      .argument('<group>', 'group name', parseConfigId)
      .addOption(new Option('--nodes <list>', 'nodes as <node>[:<priority>], comma separated').argParser(nodeListParser).makeOptionMandatory()),
  ).action((group: string, options: GroupSettings & { type?: string }) => addGroup(ctx, group, options));
  addGroupSettings(
    program
      .command('groupset')
      .description("change an HA group's settings (deprecated)")
      .argument('<group>', 'group name', parseConfigId)
      .addOption(new Option('--nodes <list>', 'nodes as <node>[:<priority>], comma separated').argParser(nodeListParser)),
  )
    .addOption(new Option('--delete <options>', 'settings to reset, comma separated').argParser(optionNameListParser))
    .option('--digest <sha1>', 'refuse if groups.cfg changed since it had this digest')
    .action((group: string, options: GroupSettings & { type?: string; delete?: string; digest?: string }) =>
      setGroup(ctx, group, options),
    );
  program
    .command('groupremove')
    .description('delete an HA group (deprecated)')
    .argument('<group>', 'group name', parseConfigId)
    .action((group: string) => removeGroup(ctx, group));

  const rules = program.command('rules').description('HA rules: node affinity and resource affinity');
  addRuleFilters(rules.command('list').description('list the rule names'), (filter, output) =>
    printRuleList(ctx, filter, output),
  );
  addRuleFilters(rules.command('config').description('list the rules: enabled, in use or ignored, type, resources'), (filter, output) =>
    printRuleConfig(ctx, filter, output),
  );
  addRuleSettings(
    rules
      .command('add')
      .description('create a rule')
      .argument('<type>', RULE_TYPES.join(' or '), enumParser(RULE_TYPES))
      .argument('<rule>', 'rule name', parseConfigId),
  ).action((type: RuleType, rule: string, options: RuleSettings) => addRule(ctx, type, rule, options));
  addRuleSettings(
    rules
      .command('set')
      .description('change a rule')
      .argument('<type>', RULE_TYPES.join(' or '), enumParser(RULE_TYPES))
      .argument('<rule>', 'rule name', parseConfigId),
  )
    .addOption(new Option('--delete <options>', 'settings to reset, comma separated').argParser(optionNameListParser))
    .option('--digest <sha1>', 'refuse if rules.cfg changed since it had this digest')
    .action((type: RuleType, rule: string, options: RuleSettings & { delete?: string; digest?: string }) =>
      setRule(ctx, type, rule, options),
    );
  rules
    .command('remove')
    .description('delete a rule')
    .argument('<rule>', 'rule name', parseConfigId)
    .action((rule: string) => removeRule(ctx, rule));

  addTimingCommands(program, ctx);
  return program;
}

/** Runs one command line (without the program name); resolves to the exit status. */
export async function runHaManager(args: readonly string[], ctx: CliContext): Promise<number> {
  try {
    await buildProgram(ctx).parseAsync([...args], { from: 'user' });
    return 0;
  } catch (err) {
    // commander has printed its own message (or the help) already
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      ctx.stderr(`${err.message}\n`);
      return err.exitCode;
    }
    ctx.stderr(`ha-manager: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
