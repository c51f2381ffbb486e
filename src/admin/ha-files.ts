// Reading and changing the HA files. Every change happens inside the HA
// config lock (changeHaConfig), as the reference's lock_ha_domain: reading
// what is checked, checking it and writing is one step for every other
// administrator and every daemon's update of an HA file. Reads are lenient
// where the reference's are (a bad line of a section config is skipped and
// reported as a warning); a file about to be rewritten must read cleanly,
// since writing it back would silently drop what could not be read.

import { formatCrmCommand, type CrmCommand } from '../config/crm-commands.js';
import { parseDatacenterConfig } from '../config/datacenter-config.js';
import { parseGroupsConfig, writeGroupsConfig } from '../config/groups-config.js';
import { ConfigError, formatIssue, type ConfigIssue } from '../config/issues.js';
import { parseJsonDocument, type JsonValue } from '../config/json-source.js';
import { parseLrmStatus } from '../config/lrm-status.js';
import { parseManagerStatus } from '../config/manager-status.js';
import { parseResourcesConfig, writeResourcesConfig, type ResourcesConfig } from '../config/resources-config.js';
import { parseRulesConfig, writeRulesConfig } from '../config/rules-config.js';
import type { GroupsConfig, RulesConfig } from '../core/rules/types.js';
import type { DatacenterSettings, LrmStatus, ManagerStatus, NodeName } from '../core/types.js';
import { PATHS, lrmStatusPath } from '../env/node/layout.js';
import type { DomainFiles } from '../env/node/store.js';
import { lockHolder, type AdminContext } from './context.js';
import { AdminError, conflict, failingAs, refused, unavailable } from './errors.js';

/** Where files are read from: the store, or the HA files while their lock is held. */
export type FileSource = Pick<DomainFiles, 'read'>;

export function fromStore(ctx: AdminContext): FileSource {
  return { read: (path) => ctx.store.read(path) };
}

/** A section config file: how it reads (leniently with an issues array, strictly without) and writes. */
interface SectionFile<T> {
  path: string;
  parse(text: string, file: string, issues?: ConfigIssue[]): T;
  write(config: T): string;
}

export type HaFile<T> = (ctx: AdminContext) => SectionFile<T>;

export const RESOURCES: HaFile<ResourcesConfig> = (ctx) => ({
  path: PATHS.resources,
  parse: (text, file, issues) => parseResourcesConfig(text, file, issues, ctx.resourceTypes),
  write: (config) => writeResourcesConfig(config, ctx.resourceTypes),
});

export const GROUPS: HaFile<GroupsConfig> = () => ({ path: PATHS.groups, parse: parseGroupsConfig, write: writeGroupsConfig });

export const RULES: HaFile<RulesConfig> = () => ({ path: PATHS.rules, parse: parseRulesConfig, write: writeRulesConfig });

function warnIssues(ctx: AdminContext, issues: readonly ConfigIssue[]): void {
  for (const issue of issues) ctx.warn(formatIssue(issue));
}

/** The file as the daemons read it: lines that cannot be read are skipped, with a warning each. */
export async function readLenient<T>(ctx: AdminContext, source: FileSource, kind: HaFile<T>): Promise<T> {
  const file = kind(ctx);
  const issues: ConfigIssue[] = [];
  const config = file.parse((await source.read(file.path)) ?? '', file.path, issues);
  warnIssues(ctx, issues);
  return config;
}

/**
 * The file about to be changed: refused when any of it cannot be read,
 * since writing it back would drop that. `before` says what waits for the fix.
 */
export async function readForChange<T>(
  ctx: AdminContext,
  files: FileSource,
  kind: HaFile<T>,
  before = 'changing it (writing it back would drop them)',
): Promise<T> {
  const file = kind(ctx);
  try {
    return file.parse((await files.read(file.path)) ?? '', file.path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw refused(`${file.path} has errors; fix them before ${before}:\n${err.message}`);
  }
}

export async function writeConfig<T>(ctx: AdminContext, files: DomainFiles, kind: HaFile<T>, config: T): Promise<void> {
  const file = kind(ctx);
  await files.write(file.path, file.write(config));
}

/** Refuses when the file changed since the caller read the given digest. */
export function assertUnmodified(config: { digest: string }, digest: string | undefined): void {
  if (digest !== undefined && digest !== config.digest) {
    throw conflict('detected modified configuration - file changed by other user? Try again.');
  }
}

/** The HA settings of datacenter.cfg; an unreadable file counts as no settings, as in the reference. */
export async function readDatacenterSettings(ctx: AdminContext): Promise<DatacenterSettings> {
  const issues: ConfigIssue[] = [];
  const config = parseDatacenterConfig((await ctx.store.read(PATHS.datacenter)) ?? '', PATHS.datacenter, issues);
  warnIssues(ctx, issues);
  return config.settings;
}

export interface ManagerStatusFile {
  status: ManagerStatus;
  /** The file's JSON as written (for the full status); `{}` when there is none. Parsed again on demand. */
  raw(): JsonValue;
}

/** The master's status; a file that does not parse fails the request, as in the reference. */
export async function readManagerStatus(source: FileSource): Promise<ManagerStatusFile> {
  const text = (await source.read(PATHS.managerStatus)) ?? '';
  if (text === '') return { status: {}, raw: () => ({}) };
  try {
    return {
      status: parseManagerStatus(text, PATHS.managerStatus),
      raw: () => parseJsonDocument(text, PATHS.managerStatus).value,
    };
  } catch (err) {
    if (err instanceof ConfigError) throw new AdminError('failed', `unable to read ${err.message}`);
    throw err;
  }
}

export type LrmStatusFile =
  | { ok: true; status: LrmStatus; raw: JsonValue }
  /** No file: the reference reads this as `{ mode: 'unknown' }`. */
  | { ok: false; raw: JsonValue; problem?: string };

/** One node's LRM status; a missing or broken file is reported, not fatal. */
export async function readLrmStatus(ctx: AdminContext, node: NodeName): Promise<LrmStatusFile> {
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

/**
 * Without quorum the cluster file system is read-only in the reference; a
 * store that cannot be reached at all is said to be so.
 */
export async function requireQuorum(ctx: AdminContext): Promise<void> {
  const [membership, reachable] = await Promise.all([
    ctx.store.membership(),
    ctx.store.refresh().catch(() => false),
  ]);
  if (!reachable) throw unavailable(`cannot reach the cluster store (${ctx.store.description})`);
  if (!membership.quorate) throw unavailable('cluster not ready - no quorum?');
}

/**
 * Runs `body` holding the HA config lock, failures prefixed with `what`
 * (`create resource failed: ...`). `body` may run more than once (see
 * ClusterStore.withDomainLock): it reads and writes only through `files`.
 */
export function changeHaConfig<T>(ctx: AdminContext, what: string, body: (files: DomainFiles) => Promise<T>): Promise<T> {
  const options = ctx.lockTimeoutMs === undefined ? {} : { timeoutMs: ctx.lockTimeoutMs };
  return failingAs(what, () => ctx.store.withDomainLock('ha', lockHolder(ctx), body, options));
}

/** Appends one command to the queue the master takes each round. */
export async function queueCrmCommand(files: DomainFiles, command: CrmCommand): Promise<void> {
  const current = (await files.read(PATHS.crmCommands)) ?? '';
  // A queue edited by hand may lack its final newline; the new command must not join that line.
  const queue = current === '' || current.endsWith('\n') ? current : `${current}\n`;
  await files.write(PATHS.crmCommands, `${queue}${formatCrmCommand(command)}\n`);
}
