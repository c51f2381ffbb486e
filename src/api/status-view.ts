// The status as the event stream sends it: the service layer's status
// entries (src/admin/status.ts) and the master's node states, reduced to the
// fields whose change matters to an operator (no timestamps, so a daemon
// renewing its status is not a change), keyed by entry id. Two views differ
// by the entries added, removed or changed: that is an event.

import type { PerlJsonValue } from '../config/perl-json.js';
import type { ClusterNode, StatusEntry } from '../admin/status.js';

export type ViewValue = string | number | boolean;
export type ViewItem = Readonly<Record<string, ViewValue>>;
/** By id: `quorum`, `master`, `fencing`, `member:<node>`, `lrm:<node>`, `node:<node>`, `service:<sid>`. */
export type StatusView = Readonly<Record<string, ViewItem>>;

export interface ViewChange {
  id: string;
  /** Absent: the entry is new. */
  old?: ViewItem;
  /** Absent: the entry is gone. */
  new?: ViewItem;
}

function item(fields: Record<string, ViewValue | undefined>): ViewItem {
  const result: Record<string, ViewValue> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) result[key] = value;
  return result;
}

function entryItem(entry: StatusEntry): ViewItem | undefined {
  switch (entry.type) {
    case 'quorum':
      return item({ type: 'quorum', node: entry.node, quorate: entry.quorate === 1 });
    case 'master':
      return item({ type: 'master', node: entry.node, state: entry.state });
    case 'fencing':
      return item({ type: 'fencing', node: entry.node, armed_state: entry['armed-state'], resource_mode: entry.resource_mode });
    case 'lrm':
      return item({ type: 'lrm', node: entry.node, state: entry.state, mode: entry.mode });
    case 'service':
      return item({
        type: 'service',
        sid: entry.sid,
        node: entry.node,
        state: entry.state,
        crm_state: entry.crm_state,
        request_state: entry.request_state,
      });
    default: {
      const unreachable: never = entry.type;
      throw new Error(`unknown status entry type ${String(unreachable)}`);
    }
  }
}

function isRecord(value: PerlJsonValue | undefined): value is { readonly [key: string]: PerlJsonValue | undefined } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The master's node states (`node_status` of the manager status), from status.manager_status. */
export function nodeStates(full: Readonly<Record<string, PerlJsonValue>>): Record<string, string> {
  const ms = full.manager_status;
  const states: Record<string, string> = {};
  const status = isRecord(ms) ? ms.node_status : undefined;
  if (!isRecord(status)) return states;
  for (const node of Object.keys(status).sort()) {
    const state = status[node];
    if (typeof state === 'string') states[node] = state;
  }
  return states;
}

/**
 * The view of a status (status.current), the full manager status
 * (status.manager_status) and the cluster members (status.nodes).
 */
export function statusView(
  entries: readonly StatusEntry[],
  full: Readonly<Record<string, PerlJsonValue>>,
  members: readonly ClusterNode[],
): StatusView {
  const view: Record<string, ViewItem> = {};
  for (const member of members) view[`member:${member.node}`] = item({ type: 'member', node: member.node, online: member.online === 1 });
  for (const entry of entries) {
    const viewItem = entryItem(entry);
    if (viewItem !== undefined) view[entry.id] = viewItem;
  }
  for (const [node, state] of Object.entries(nodeStates(full))) view[`node:${node}`] = item({ type: 'node', node, state });
  return view;
}

function sameItem(a: ViewItem, b: ViewItem): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

/** What changed from `before` to `after`, in id order. */
export function diffViews(before: StatusView, after: StatusView): ViewChange[] {
  const changes: ViewChange[] = [];
  const ids = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const id of [...ids].sort()) {
    const old = Object.hasOwn(before, id) ? before[id] : undefined;
    const now = Object.hasOwn(after, id) ? after[id] : undefined;
    if (old !== undefined && now !== undefined && sameItem(old, now)) continue;
    changes.push({ id, ...(old === undefined ? {} : { old }), ...(now === undefined ? {} : { new: now }) });
  }
  return changes;
}
