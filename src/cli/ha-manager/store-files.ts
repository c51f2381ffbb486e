// Reading and changing the HA files in the cluster store. Reads are lenient
// where the reference's are (a bad line of a section config is skipped and
// reported as a warning); a file the command is about to rewrite must read
// cleanly, since writing it back would silently drop what could not be read.

import { formatCrmCommand, type CrmCommand } from '../../config/crm-commands.js';
import { ConfigError, formatIssue, type ConfigIssue } from '../../config/issues.js';
import { parseDatacenterConfig } from '../../config/datacenter-config.js';
import { parseGroupsConfig, writeGroupsConfig } from '../../config/groups-config.js';
import { parseJsonDocument, type JsonValue } from '../../config/json-source.js';
import { parseLrmStatus } from '../../config/lrm-status.js';
import { parseManagerStatus } from '../../config/manager-status.js';
import { parseResourcesConfig, writeResourcesConfig, type ResourcesConfig } from '../../config/resources-config.js';
import { parseRulesConfig, writeRulesConfig } from '../../config/rules-config.js';
import type { GroupsConfig, RulesConfig } from '../../core/rules/types.js';
import type { DatacenterSettings, LrmStatus, ManagerStatus, NodeName } from '../../core/types.js';
import { PATHS, lrmStatusPath } from '../../env/node/layout.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

function warnIssues(ctx: CliContext, issues: readonly ConfigIssue[]): void {
  for (const issue of issues) ctx.stderr(`warning: ${formatIssue(issue)}\n`);
}

type LenientParser<T> = (text: string, file: string, issues: ConfigIssue[]) => T;

async function readLenient<T>(ctx: CliContext, path: string, parse: LenientParser<T>): Promise<T> {
  const issues: ConfigIssue[] = [];
  const config = parse((await ctx.store.read(path)) ?? '', path, issues);
  warnIssues(ctx, issues);
  return config;
}

export function readResources(ctx: CliContext): Promise<ResourcesConfig> {
  return readLenient(ctx, PATHS.resources, (text, file, issues) =>
    parseResourcesConfig(text, file, issues, ctx.resourceTypes),
  );
}

export function readGroups(ctx: CliContext): Promise<GroupsConfig> {
  return readLenient(ctx, PATHS.groups, parseGroupsConfig);
}

export function readRules(ctx: CliContext): Promise<RulesConfig> {
  return readLenient(ctx, PATHS.rules, parseRulesConfig);
}

/** The HA settings of datacenter.cfg; an unreadable file counts as no settings, as in the reference. */
export async function readDatacenterSettings(ctx: CliContext): Promise<DatacenterSettings> {
  return (await readLenient(ctx, PATHS.datacenter, parseDatacenterConfig)).settings;
}

function unreadable(err: unknown): never {
  if (err instanceof ConfigError) throw new CliError(`unable to read ${err.message}`);
  throw err;
}

export interface ManagerStatusFile {
  status: ManagerStatus;
  /** The file's JSON as written (for `status --verbose`); `{}` when there is none. */
  raw: JsonValue;
}

/** The master's status; a file that does not parse fails the command, as in the reference. */
export async function readManagerStatus(ctx: CliContext): Promise<ManagerStatusFile> {
  const text = (await ctx.store.read(PATHS.managerStatus)) ?? '';
  if (text === '') return { status: {}, raw: {} };
  try {
    return {
      status: parseManagerStatus(text, PATHS.managerStatus),
      raw: parseJsonDocument(text, PATHS.managerStatus).value,
    };
  } catch (err) {
    return unreadable(err);
  }
}

export type LrmStatusFile =
  | { ok: true; status: LrmStatus; raw: JsonValue }
  /** No file: the reference reads this as `{ mode: 'unknown' }`. */
  | { ok: false; raw: JsonValue; problem?: string };

/** One node's LRM status; a missing or broken file is reported, not fatal. */
export async function readLrmStatus(ctx: CliContext, node: NodeName): Promise<LrmStatusFile> {
  const path = lrmStatusPath(node);
  const text = await ctx.store.read(path);
  if (text === undefined) return { ok: false, raw: { mode: 'unknown' } };
  try {
    const status = parseLrmStatus(text, path);
    return { ok: true, status, raw: text === '' ? {} : parseJsonDocument(text, path).value };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, raw: null, problem: err.message };
  }
}

export async function requireQuorum(ctx: CliContext): Promise<void> {
  if (!(await ctx.store.membership()).quorate) throw new CliError('cluster not ready - no quorum?');
}

/**
 * Read-modify-write of a section config, serialised by the store. `change`
 * edits the parsed config in place and may throw a CliError to refuse; then
 * nothing is written. Checks quorum first: without it the cluster file
 * system is read-only in the reference.
 */
async function updateSectionConfig<T extends { digest: string }>(
  ctx: CliContext,
  path: string,
  parse: (text: string, file: string) => T,
  write: (config: T) => string,
  change: (config: T) => void,
): Promise<void> {
  await requireQuorum(ctx);
  await ctx.store.update(path, (current) => {
    let config: T;
    try {
      config = parse(current ?? '', path);
    } catch (err) {
      if (err instanceof ConfigError) {
        throw new CliError(`${path} has errors; fix them before changing it (writing it back would drop them):\n${err.message}`);
      }
      throw err;
    }
    change(config);
    return write(config);
  });
}

export function updateResources(ctx: CliContext, change: (config: ResourcesConfig) => void): Promise<void> {
  return updateSectionConfig(
    ctx,
    PATHS.resources,
    (text, file) => parseResourcesConfig(text, file, undefined, ctx.resourceTypes),
    (config) => writeResourcesConfig(config, ctx.resourceTypes),
    change,
  );
}

export function updateGroups(ctx: CliContext, change: (config: GroupsConfig) => void): Promise<void> {
  return updateSectionConfig(ctx, PATHS.groups, (text, file) => parseGroupsConfig(text, file), writeGroupsConfig, change);
}

export function updateRules(ctx: CliContext, change: (config: RulesConfig) => void): Promise<void> {
  return updateSectionConfig(ctx, PATHS.rules, (text, file) => parseRulesConfig(text, file), writeRulesConfig, change);
}

/** Refuses when the file changed since the caller read the given digest. */
export function assertUnmodified(config: { digest: string }, digest: string | undefined): void {
  if (digest !== undefined && digest !== config.digest) {
    throw new CliError('detected modified configuration - file changed by other user? Try again.');
  }
}

/** Appends one command to the queue the master takes each round. */
export async function queueCrmCommand(ctx: CliContext, command: CrmCommand): Promise<void> {
  await requireQuorum(ctx);
  await ctx.store.update(PATHS.crmCommands, (current) => {
    // A queue edited by hand may lack its final newline; the new command must not join that line.
    const queue = current === undefined || current === '' || current.endsWith('\n') ? (current ?? '') : `${current}\n`;
    return `${queue}${formatCrmCommand(command)}\n`;
  });
}
