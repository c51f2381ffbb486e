// Figures only a daemon can see, published into the cluster store for ha-api's
// /metrics: `nodes/<node>/ha-metrics-crm` and `nodes/<node>/ha-metrics-lrm`,
// one JSON object each, rewritten by the daemon at most every few seconds.
// Counters count from the daemon's start (`started`); a consumer treats a
// new `started` as a counter reset, as Prometheus does.
//
//   {
//     "daemon": "crm" | "lrm", "node": "node1", "pid": 4711,
//     "started": <ms since the epoch>, "time": <ms since the epoch, this write>,
//     "locks": { "acquired": n, "renewed": n, "lost": n },
//     "crm": { "master": bool, "fence_events": n, "round_seconds": <histogram> },
//     "lrm": { "queued": n, "running": n, "wait_seconds": <histogram> }
//   }
//
// A histogram is { "le": [upper bounds], "counts": [cumulative count per
// bound], "count": n, "sum": seconds }, the last bound +Inf is implied by
// `count`.

import { JsonIssues, parseJsonDocument, type JsonValue } from './json-source.js';

export interface HistogramData {
  /** Upper bounds in seconds, ascending. */
  le: number[];
  /** Observations at or below each bound (cumulative). */
  counts: number[];
  count: number;
  sum: number;
}

export interface DaemonMetrics {
  daemon: 'crm' | 'lrm';
  node: string;
  pid: number;
  started: number;
  time: number;
  locks: { acquired: number; renewed: number; lost: number };
  crm?: { master: boolean; fence_events: number; round_seconds: HistogramData };
  lrm?: { queued: number; running: number; wait_seconds: HistogramData };
}

function parseHistogram(check: JsonIssues, path: string[], value: JsonValue | undefined): HistogramData | undefined {
  const obj = check.object(path, value);
  if (obj === undefined) return undefined;
  const numbers = (key: string): number[] | undefined => {
    const list = obj[key];
    if (!Array.isArray(list)) {
      check.add([...path, key], 'expected an array of numbers');
      return undefined;
    }
    const result: number[] = [];
    list.forEach((item, i) => {
      const n = check.number([...path, key, i], item);
      if (n !== undefined) result.push(n);
    });
    return result.length === list.length ? result : undefined;
  };
  const le = numbers('le');
  const counts = numbers('counts');
  const count = check.number([...path, 'count'], obj.count);
  const sum = check.number([...path, 'sum'], obj.sum);
  if (le === undefined || counts === undefined || count === undefined || sum === undefined) return undefined;
  if (le.length !== counts.length) {
    check.add([...path, 'counts'], `expected one count per bound (${le.length}), got ${counts.length}`);
    return undefined;
  }
  return { le, counts, count, sum };
}

/** Parses a daemon metrics file; throws a ConfigError naming file, line and field of every problem. */
export function parseDaemonMetrics(text: string, file: string): DaemonMetrics {
  const doc = parseJsonDocument(text, file);
  const check = new JsonIssues(doc);
  // not an object: reported, and every field below is then missing too
  const root = check.object([], doc.value) ?? {};
  const daemon = check.oneOf(['daemon'], root.daemon, ['crm', 'lrm'] as const);
  const node = check.string(['node'], root.node);
  const pid = check.number(['pid'], root.pid);
  const started = check.number(['started'], root.started);
  const time = check.number(['time'], root.time);
  const locksObj = check.object(['locks'], root.locks);
  const locks = locksObj && {
    acquired: check.number(['locks', 'acquired'], locksObj.acquired),
    renewed: check.number(['locks', 'renewed'], locksObj.renewed),
    lost: check.number(['locks', 'lost'], locksObj.lost),
  };
  let crm: DaemonMetrics['crm'];
  if (root.crm !== undefined) {
    const obj = check.object(['crm'], root.crm);
    if (obj !== undefined) {
      const master = obj.master;
      if (typeof master !== 'boolean') check.add(['crm', 'master'], 'expected true or false');
      const fence = check.number(['crm', 'fence_events'], obj.fence_events);
      const rounds = parseHistogram(check, ['crm', 'round_seconds'], obj.round_seconds);
      if (typeof master === 'boolean' && fence !== undefined && rounds !== undefined) {
        crm = { master, fence_events: fence, round_seconds: rounds };
      }
    }
  }
  let lrm: DaemonMetrics['lrm'];
  if (root.lrm !== undefined) {
    const obj = check.object(['lrm'], root.lrm);
    if (obj !== undefined) {
      const queued = check.number(['lrm', 'queued'], obj.queued);
      const running = check.number(['lrm', 'running'], obj.running);
      const wait = parseHistogram(check, ['lrm', 'wait_seconds'], obj.wait_seconds);
      if (queued !== undefined && running !== undefined && wait !== undefined) lrm = { queued, running, wait_seconds: wait };
    }
  }
  check.settle();
  const result: DaemonMetrics = {
    daemon: daemon as DaemonMetrics['daemon'],
    node: node as string,
    pid: pid as number,
    started: started as number,
    time: time as number,
    locks: locks as DaemonMetrics['locks'],
  };
  if (crm !== undefined) result.crm = crm;
  if (lrm !== undefined) result.lrm = lrm;
  return result;
}

export function writeDaemonMetrics(metrics: DaemonMetrics): string {
  return `${JSON.stringify(metrics)}\n`;
}
