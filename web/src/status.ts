// The live status: ha-api's event stream (/cluster/ha/events) gives a
// snapshot of the status view, then the entries that changed. The browser's
// EventSource reconnects by itself; a reconnect starts from a new snapshot.

import { useEffect, useState } from 'preact/hooks';

export type ViewItem = Readonly<Record<string, string | number | boolean>>;
export type StatusView = Readonly<Record<string, ViewItem>>;

export interface LiveStatus {
  view: StatusView | undefined;
  /** The stream is open (false while connecting or reconnecting). */
  connected: boolean;
  /** Why the server cannot read the status now, if it cannot. */
  problem: string | undefined;
  /** Time of the last event (ms). */
  updated: number | undefined;
}

interface Change {
  id: string;
  old?: ViewItem;
  new?: ViewItem;
}

export function applyChanges(view: StatusView, changes: readonly Change[]): StatusView {
  const next: Record<string, ViewItem> = { ...view };
  for (const change of changes) {
    if (change.new === undefined) delete next[change.id];
    else next[change.id] = change.new;
  }
  return next;
}

export function useLiveStatus(enabled: boolean): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>({ view: undefined, connected: false, problem: undefined, updated: undefined });
  useEffect(() => {
    if (!enabled) return undefined;
    const source = new EventSource('/api2/json/cluster/ha/events');
    source.onopen = () => setStatus((s) => ({ ...s, connected: true }));
    source.onerror = () => setStatus((s) => ({ ...s, connected: false }));
    source.addEventListener('snapshot', (event) => {
      const data = JSON.parse((event as MessageEvent<string>).data) as { view: StatusView };
      setStatus({ view: data.view, connected: true, problem: undefined, updated: Date.now() });
    });
    source.addEventListener('change', (event) => {
      const data = JSON.parse((event as MessageEvent<string>).data) as { changes: Change[] };
      setStatus((s) => ({ ...s, view: applyChanges(s.view ?? {}, data.changes), updated: Date.now() }));
    });
    source.addEventListener('problem', (event) => {
      const data = JSON.parse((event as MessageEvent<string>).data) as { message: string };
      setStatus((s) => ({ ...s, problem: data.message, updated: Date.now() }));
    });
    return () => source.close();
  }, [enabled]);
  return status;
}

/** The entries of one type, in id order. */
export function entriesOf(view: StatusView | undefined, type: string): ViewItem[] {
  if (view === undefined) return [];
  return Object.keys(view)
    .filter((id) => view[id].type === type)
    .sort()
    .map((id) => view[id]);
}

/** Every node the status knows (cluster members, the master's node states, and LRMs). */
export function nodeNames(view: StatusView | undefined): string[] {
  const names = new Set<string>();
  for (const type of ['member', 'node', 'lrm']) for (const item of entriesOf(view, type)) names.add(String(item.node));
  return [...names].sort();
}
