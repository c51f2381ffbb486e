// The HA status as the reference's /cluster/ha/status API computes it: one
// entry per quorum, master, fencing, LRM and service, timestamps judged
// against the current time. `status` in the CLI prints each entry's
// `status` text; the entries themselves are the JSON the API and
// `status --output-format json` return.

import type { PerlJsonValue } from '../config/perl-json.js';
import type { ResourceStateSetting } from '../config/resources-config.js';
import { countActiveServices } from '../core/service-counts.js';
import type { ManagerStatus, NodeName, ServiceStatusEntry, Sid } from '../core/types.js';
import type { AdminContext } from './context.js';
import { RESOURCES, fromStore, readDatacenterSettings, readLenient, readLrmStatus, readManagerStatus, type LrmStatusFile } from './ha-files.js';
import { readInventory } from './inventory.js';
import { perlLocaltime } from './localtime.js';
import { checkedResources, type CheckedResource } from './services.js';
import { verboseServiceState } from './verbose-state.js';

export type StatusEntryType = 'quorum' | 'master' | 'fencing' | 'lrm' | 'service';

/** One line of the status, with the fields the reference's API gives each type. */
export interface StatusEntry {
  /** `quorum`, `master`, `fencing`, `lrm:<node>` or `service:<sid>`. */
  id: string;
  type: StatusEntryType;
  node?: NodeName;
  /** The text `ha-manager status` prints after the type. */
  status: string;
  /** quorum: 1 or 0. */
  quorate?: 0 | 1;
  /** master, lrm: seconds since the epoch of the status shown. */
  timestamp?: number;
  /** lrm: the LRM's mode (active, restart, shutdown, maintenance, disarm); not in the reference's API. */
  mode?: string;
  /** fencing */
  'armed-state'?: 'armed' | 'standby' | 'disarming' | 'disarmed' | 'unknown';
  resource_mode?: string;
  /** service */
  sid?: Sid;
  crm_state?: string;
  /**
   * service: the verbose state. master, lrm (not in the reference's API): the
   * word of the status text before its first comma (`active`, `idle`,
   * `maintenance mode`, `old timestamp - dead?`, ...).
   */
  state?: string;
  request_state?: ResourceStateSetting;
  group?: string;
  max_restart?: number;
  max_relocate?: number;
  failback?: 0 | 1;
  comment?: string;
}

/** A daemon's status timestamp judged against now: more than 30 s old, or ahead by more than 2 s. */
function timestampState(now: number, timestamp: number): string {
  const age = now - timestamp;
  if (age > 30) return 'old timestamp - dead?';
  if (age < -2) return 'detected time drift!';
  return 'active';
}

function masterEntry(
  ctx: AdminContext,
  ms: ManagerStatus,
  quorate: boolean,
  haveResources: boolean,
  crsMode: string | undefined,
): StatusEntry | undefined {
  if (ms.master_node === undefined || ms.timestamp === undefined) return undefined;
  let state = timestampState(ctx.now(), ms.timestamp);
  // A master with nothing to manage stops renewing its status; that is not a failure.
  if (quorate && state !== 'active' && !haveResources) state = 'idle';
  let extra = '';
  if (ms.disarm) extra += ` - ${ms.disarm.state}, resource mode: ${ms.disarm.mode}`;
  if (crsMode !== undefined && crsMode !== '' && crsMode !== 'basic') extra += ` - ${crsMode} load CRS`;
  const time = perlLocaltime(ms.timestamp, ctx.timeZone);
  return {
    id: 'master',
    type: 'master',
    node: ms.master_node,
    status: `${ms.master_node} (${state}, ${time})${extra}`,
    timestamp: ms.timestamp,
    state,
  };
}

function fencingEntry(ctx: AdminContext, ms: ManagerStatus): StatusEntry {
  const node = ms.master_node ?? ctx.nodename;
  if (ms.disarm) {
    const watchdog = ms.disarm.state === 'disarmed' ? 'CRM watchdog released' : 'CRM watchdog active';
    return {
      id: 'fencing',
      type: 'fencing',
      node,
      status: `${ms.disarm.state}, resource mode: ${ms.disarm.mode} (${watchdog})`,
      'armed-state': ms.disarm.state,
      resource_mode: ms.disarm.mode,
    };
  }
  // The CRM holds its watchdog only while it runs as an active master.
  const active =
    ms.master_node !== undefined && ms.timestamp !== undefined && timestampState(ctx.now(), ms.timestamp) === 'active';
  return {
    id: 'fencing',
    type: 'fencing',
    node,
    status: active ? 'armed (CRM watchdog active)' : 'standby (CRM watchdog standby)',
    'armed-state': active ? 'armed' : 'standby',
  };
}

function lrmEntry(ctx: AdminContext, node: NodeName, file: LrmStatusFile, activeCount: number): StatusEntry {
  const id = `lrm:${node}`;
  if (!file.ok || !file.status.timestamp) {
    return { id, type: 'lrm', node, status: `${node} (unable to read lrm status)`, state: 'unable to read lrm status' };
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
  return {
    id,
    type: 'lrm',
    node,
    status: `${node} (${state}, ${watchdog}, ${perlLocaltime(timestamp, ctx.timeZone)})`,
    timestamp,
    state,
    mode: lrm.mode ?? 'active',
  };
}

function serviceEntry(
  ms: ManagerStatus,
  sid: Sid,
  sc: CheckedResource | undefined,
  ss: ServiceStatusEntry | undefined,
): StatusEntry {
  const entry: StatusEntry = { id: `service:${sid}`, type: 'service', sid, status: '' };
  if (ss !== undefined) {
    if (ss.node !== undefined) entry.node = ss.node;
    entry.crm_state = ss.state;
  } else if (sc?.node !== undefined) {
    entry.node = sc.node;
  }
  // '---' only when someone edited the files by hand
  const node = entry.node ?? '---';
  let state = verboseServiceState(ss, sc);
  // While disarmed with resources ignored, that is what holds for every resource.
  if (ms.disarm?.mode === 'ignore') state = 'ignore';
  entry.state = state;
  entry.status = `${sid} (${node}, ${state})`;
  if (sc !== undefined) {
    const { entry: config } = sc;
    entry.request_state = config.state ?? 'started';
    if (config.group !== undefined) entry.group = config.group;
    if (config.max_restart !== undefined) entry.max_restart = config.max_restart;
    if (config.max_relocate !== undefined) entry.max_relocate = config.max_relocate;
    if (config.failback !== undefined) entry.failback = config.failback;
    if (config.comment !== undefined) entry.comment = config.comment;
  }
  return entry;
}

export async function currentStatus(ctx: AdminContext): Promise<StatusEntry[]> {
  const source = fromStore(ctx);
  const [membership, managerStatus, resources, inventory, settings] = await Promise.all([
    ctx.store.membership(),
    readManagerStatus(source),
    readLenient(ctx, source, RESOURCES),
    readInventory(ctx),
    readDatacenterSettings(ctx),
  ]);
  const quorate = membership.quorate;
  const entries: StatusEntry[] = [
    {
      id: 'quorum',
      type: 'quorum',
      node: ctx.nodename,
      status: quorate ? 'OK' : `No quorum on node '${ctx.nodename}'!`,
      quorate: quorate ? 1 : 0,
    },
  ];

  const ms = managerStatus.status;
  const services = checkedResources(ctx, resources, inventory);

  const master = masterEntry(ctx, ms, quorate, services.size > 0, settings.crs.ha);
  if (master) entries.push(master);
  entries.push(fencingEntry(ctx, ms));

  // Frozen, the service counts of all nodes are found in one pass (service-counts.ts).
  const ss = Object.freeze(ms.service_status ?? {});
  const nodes = Object.keys(ms.node_status ?? {}).sort();
  const lrmFiles = await Promise.all(nodes.map((node) => readLrmStatus(ctx, node)));
  nodes.forEach((node, i) => {
    const file = lrmFiles[i];
    if (!file.ok && file.problem !== undefined) ctx.warn(`unable to read ${file.problem}`);
    entries.push(lrmEntry(ctx, node, file, countActiveServices(ss, node)));
  });

  for (const sid of Object.keys(ss).sort()) entries.push(serviceEntry(ms, sid, services.get(sid), ss[sid]));
  // also those the manager has not taken over yet (few: only they are sorted)
  const waiting = [...services.keys()].filter((sid) => !Object.hasOwn(ss, sid));
  for (const sid of waiting.sort()) entries.push(serviceEntry(ms, sid, services.get(sid), undefined));
  return entries;
}

/** The manager status, quorum and every known node's LRM status, as the reference's manager_status call. */
export async function fullStatus(ctx: AdminContext): Promise<Record<string, PerlJsonValue>> {
  const { raw, status } = await readManagerStatus(fromStore(ctx));
  const quorate = (await ctx.store.membership()).quorate;
  const full: Record<string, PerlJsonValue> = {
    manager_status: raw(),
    quorum: { node: ctx.nodename, quorate: quorate ? 1 : '' },
  };
  const nodes = Object.keys(status.node_status ?? {}).sort();
  if (nodes.length > 0) {
    const files = await Promise.all(nodes.map((node) => readLrmStatus(ctx, node)));
    full.lrm_status = Object.fromEntries(nodes.map((node, i) => [node, files[i].raw]));
  }
  return full;
}

/** A cluster member as the store's membership sees it. */
export interface ClusterNode {
  node: NodeName;
  online: 0 | 1;
}

/** Every cluster member, online or not, by name. */
export async function clusterNodes(ctx: AdminContext): Promise<ClusterNode[]> {
  const { nodes } = await ctx.store.membership();
  return Object.keys(nodes)
    .sort()
    .map((node) => ({ node, online: nodes[node].online ? 1 : 0 }));
}
