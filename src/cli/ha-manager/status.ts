// `ha-manager status`: one line per quorum, master, fencing, LRM and
// service, computed from the store the way the reference's status API does,
// with timestamps judged against the current time.

import { toPerlCanonicalJson, type PerlJsonValue } from '../../config/perl-json.js';
import { countActiveServices } from '../../core/service-counts.js';
import type { ManagerStatus, NodeName, ServiceStatusEntry, Sid } from '../../core/types.js';
import type { CliContext } from './context.js';
import { readInventory } from './inventory.js';
import { perlLocaltime } from './localtime.js';
import { checkedResources, type CheckedResource } from './services.js';
import {
  readDatacenterSettings,
  readLrmStatus,
  readManagerStatus,
  readResources,
  type LrmStatusFile,
} from './store-files.js';
import { verboseServiceState } from './verbose-state.js';

/** A daemon's status timestamp judged against now: more than 30 s old, or ahead by more than 2 s. */
function timestampState(now: number, timestamp: number): string {
  const age = now - timestamp;
  if (age > 30) return 'old timestamp - dead?';
  if (age < -2) return 'detected time drift!';
  return 'active';
}

export interface StatusLine {
  type: 'quorum' | 'master' | 'fencing' | 'lrm' | 'service';
  status: string;
}

function masterLine(
  ctx: CliContext,
  ms: ManagerStatus,
  quorate: boolean,
  haveResources: boolean,
  crsMode: string | undefined,
): StatusLine | undefined {
  if (ms.master_node === undefined || ms.timestamp === undefined) return undefined;
  let state = timestampState(ctx.now(), ms.timestamp);
  // A master with nothing to manage stops renewing its status; that is not a failure.
  if (quorate && state !== 'active' && !haveResources) state = 'idle';
  let extra = '';
  if (ms.disarm) extra += ` - ${ms.disarm.state}, resource mode: ${ms.disarm.mode}`;
  if (crsMode !== undefined && crsMode !== '' && crsMode !== 'basic') extra += ` - ${crsMode} load CRS`;
  const time = perlLocaltime(ms.timestamp, ctx.timeZone);
  return { type: 'master', status: `${ms.master_node} (${state}, ${time})${extra}` };
}

function fencingLine(ctx: CliContext, ms: ManagerStatus): StatusLine {
  if (ms.disarm) {
    const watchdog = ms.disarm.state === 'disarmed' ? 'CRM watchdog released' : 'CRM watchdog active';
    return { type: 'fencing', status: `${ms.disarm.state}, resource mode: ${ms.disarm.mode} (${watchdog})` };
  }
  // The CRM holds its watchdog only while it runs as an active master.
  const active =
    ms.master_node !== undefined && ms.timestamp !== undefined && timestampState(ctx.now(), ms.timestamp) === 'active';
  return {
    type: 'fencing',
    status: active ? 'armed (CRM watchdog active)' : 'standby (CRM watchdog standby)',
  };
}

function lrmLine(ctx: CliContext, node: NodeName, file: LrmStatusFile, activeCount: number): StatusLine {
  if (!file.ok || !file.status.timestamp) {
    return { type: 'lrm', status: `${node} (unable to read lrm status)` };
  }
  const lrm = file.status;
  const timestamp = lrm.timestamp as number;
  let state = timestampState(ctx.now(), timestamp);
  const lrmState = lrm.state ?? 'unknown';
  let mode = lrm.mode;

  // The LRM holds its watchdog while it has its agent lock.
  let watchdog: string;
  if (state === 'active' && (lrmState === 'active' || lrmState === 'maintenance')) watchdog = 'watchdog active';
  else if (mode === 'disarm') watchdog = 'watchdog released';
  else watchdog = 'watchdog standby';

  if (state === 'active') {
    mode ??= 'active';
    if (mode !== 'active') state = `${mode} mode`;
    else if (lrmState === 'wait_for_agent_lock' && activeCount === 0) state = 'idle';
    else state = lrmState;
  } else if (mode === 'maintenance' || mode === 'disarm') {
    state = `${mode} mode`;
  }
  return { type: 'lrm', status: `${node} (${state}, ${watchdog}, ${perlLocaltime(timestamp, ctx.timeZone)})` };
}

function serviceLine(
  ms: ManagerStatus,
  sid: Sid,
  sc: CheckedResource | undefined,
  ss: ServiceStatusEntry | undefined,
): StatusLine {
  // '---' only when someone edited the files by hand
  const node = ss?.node ?? sc?.node ?? '---';
  let state = verboseServiceState(ss, sc);
  // While disarmed with resources ignored, that is what holds for every resource.
  if (ms.disarm?.mode === 'ignore') state = 'ignore';
  return { type: 'service', status: `${sid} (${node}, ${state})` };
}

export interface StatusReport {
  lines: StatusLine[];
  /** What `--verbose` dumps: the manager status, quorum and every known node's LRM status. */
  full: PerlJsonValue;
}

export async function collectStatus(ctx: CliContext): Promise<StatusReport> {
  const membership = await ctx.store.membership();
  const quorate = membership.quorate;
  const lines: StatusLine[] = [
    { type: 'quorum', status: quorate ? 'OK' : `No quorum on node '${ctx.nodename}'!` },
  ];

  const { status: ms, raw: rawMs } = await readManagerStatus(ctx);
  const resources = await readResources(ctx);
  const services = checkedResources(ctx, resources, await readInventory(ctx));
  const settings = await readDatacenterSettings(ctx);

  const master = masterLine(ctx, ms, quorate, services.size > 0, settings.crs.ha);
  if (master) lines.push(master);
  lines.push(fencingLine(ctx, ms));

  const ss = ms.service_status ?? {};
  const rawLrm: Record<string, PerlJsonValue> = {};
  for (const node of Object.keys(ms.node_status ?? {}).sort()) {
    const file = await readLrmStatus(ctx, node);
    if (!file.ok && file.problem !== undefined) ctx.stderr(`warning: unable to read ${file.problem}\n`);
    rawLrm[node] = file.raw;
    lines.push(lrmLine(ctx, node, file, countActiveServices(ss, node)));
  }

  for (const sid of Object.keys(ss).sort()) lines.push(serviceLine(ms, sid, services.get(sid), ss[sid]));
  // also those the manager has not taken over yet
  for (const sid of [...services.keys()].sort()) {
    if (!Object.hasOwn(ss, sid)) lines.push(serviceLine(ms, sid, services.get(sid), undefined));
  }

  const full: Record<string, PerlJsonValue> = {
    manager_status: rawMs,
    quorum: { node: ctx.nodename, quorate: quorate ? 1 : '' },
  };
  if (Object.keys(rawLrm).length > 0) full.lrm_status = rawLrm;
  return { lines, full };
}

export async function printStatus(ctx: CliContext, verbose: boolean): Promise<void> {
  const report = await collectStatus(ctx);
  ctx.stdout(report.lines.map((line) => `${line.type} ${line.status}\n`).join(''));
  if (verbose) ctx.stdout(`full cluster state:\n${toPerlCanonicalJson(report.full)}`);
}
