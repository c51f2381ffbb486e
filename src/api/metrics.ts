// GET /metrics: the cluster's HA figures in Prometheus' text format, with
// prom-client. Computed at each scrape: service and node states from the
// service layer's status views, and the figures only the daemons see from
// the files they publish (nodes/<node>/ha-metrics-<daemon>, see
// src/config/daemon-metrics.ts). Every daemon's figures carry node and
// daemon labels; counters restart with their daemon, as Prometheus expects.

import { Counter, Gauge, Histogram, Registry, type MetricValue } from 'prom-client';

import type { AdminContext } from '../admin/context.js';
import { invoke } from '../admin/invoke.js';
import type { StatusEntry } from '../admin/status.js';
import { parseDaemonMetrics, type DaemonMetrics, type HistogramData } from '../config/daemon-metrics.js';
import { NODE_STATES } from '../core/types.js';
import { daemonMetricsPath } from '../env/node/layout.js';
import { nodeStates } from './status-view.js';
import { ROUND_BUCKETS, WAIT_BUCKETS } from '../env/node/daemon-metrics.js';

type Labels = Record<string, string>;

/**
 * A histogram whose buckets are counted elsewhere (by a daemon) and only
 * reported here: prom-client's own Histogram can only count observations it
 * is given, so this one reports the published counts, in the same form.
 */
class PublishedHistogram extends Histogram<string> {
  private published: Array<{ labels: Labels; data: HistogramData }> = [];
  private readonly metricName: string;
  private readonly metricHelp: string;

  constructor(name: string, help: string, buckets: number[], labelNames: string[], registry: Registry) {
    super({ name, help, buckets, labelNames, registers: [registry] });
    this.metricName = name;
    this.metricHelp = help;
  }

  set(values: Array<{ labels: Labels; data: HistogramData }>): void {
    this.published = values;
  }

  private exported(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Array<MetricValue<string> & { metricName: string }> } {
    const values: Array<MetricValue<string> & { metricName: string }> = [];
    for (const { labels, data } of this.published) {
      const name = this.metricName;
      data.le.forEach((le, i) => values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: data.counts[i] }));
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: data.count });
      values.push({ metricName: `${name}_sum`, labels, value: data.sum });
      values.push({ metricName: `${name}_count`, labels, value: data.count });
    }
    return { name: this.metricName, help: this.metricHelp, type: 'histogram', aggregator: 'sum', values };
  }

  override async get(): ReturnType<Histogram<string>['get']> {
    return this.exported() as unknown as Awaited<ReturnType<Histogram<string>['get']>>;
  }

  /** What the registry renders (prom-client asks for this when it exists). */
  async getForPromString(): ReturnType<Histogram<string>['get']> {
    return this.get();
  }
}

export interface MetricsSource {
  /** A context for reading the status through the service layer. */
  context(): AdminContext;
  /** Real milliseconds since the epoch, for the age of the daemons' figures. */
  now(): number;
}

export interface ApiMetrics {
  readonly contentType: string;
  /** The exposition text, freshly computed. */
  render(): Promise<string>;
  /** Counts one API request (by method and status code). */
  request(method: string, status: number): void;
}

async function readDaemonFigures(ctx: AdminContext): Promise<DaemonMetrics[]> {
  const result: DaemonMetrics[] = [];
  for (const node of await ctx.store.list('nodes')) {
    for (const daemon of ['crm', 'lrm'] as const) {
      const path = daemonMetricsPath(node, daemon);
      const text = await ctx.store.read(path);
      if (text === undefined) continue;
      try {
        result.push(parseDaemonMetrics(text, path));
      } catch (err) {
        ctx.warn(err instanceof Error ? err.message : String(err));
      }
    }
  }
  return result;
}

export function createApiMetrics(source: MetricsSource): ApiMetrics {
  const registry = new Registry();
  const reg = { registers: [registry] };

  const services = new Gauge({ name: 'ha_services', help: 'HA resources by state (the verbose state of ha-manager status).', labelNames: ['state'], ...reg });
  const nodes = new Gauge({ name: 'ha_nodes', help: "Cluster nodes by the HA manager's node state.", labelNames: ['state'], ...reg });
  const quorate = new Gauge({ name: 'ha_quorate', help: 'Whether the partition ha-api sees is quorate (1) or not (0).', ...reg });
  const master = new Gauge({ name: 'ha_master', help: 'The node of the current master (1), with its state word.', labelNames: ['node', 'state'], ...reg });
  const armed = new Gauge({ name: 'ha_fencing_armed', help: 'Fencing state: 1 for the current one of armed, standby, disarming, disarmed.', labelNames: ['state'], ...reg });
  const lrms = new Gauge({ name: 'ha_lrm', help: "Each node's LRM (1), with its state word and mode.", labelNames: ['node', 'state', 'mode'], ...reg });

  const fenceEvents = new Counter({ name: 'ha_fence_events_total', help: 'Nodes a master put into the fence state (per master daemon).', labelNames: ['node'], ...reg });
  const lockAcquired = new Counter({ name: 'ha_lock_acquisitions_total', help: 'Cluster locks a daemon took.', labelNames: ['node', 'daemon'], ...reg });
  const lockRenewed = new Counter({ name: 'ha_lock_renewals_total', help: 'Cluster lock renewals by a daemon.', labelNames: ['node', 'daemon'], ...reg });
  const lockLost = new Counter({ name: 'ha_lock_losses_total', help: 'Cluster locks a daemon held and failed to renew.', labelNames: ['node', 'daemon'], ...reg });
  const queue = new Gauge({ name: 'ha_lrm_worker_queue_length', help: 'Resource commands waiting for a worker, per LRM.', labelNames: ['node'], ...reg });
  const running = new Gauge({ name: 'ha_lrm_workers_running', help: 'Resource commands running, per LRM.', labelNames: ['node'], ...reg });
  const age = new Gauge({ name: 'ha_daemon_metrics_age_seconds', help: 'Seconds since a daemon last published its figures.', labelNames: ['node', 'daemon'], ...reg });
  const rounds = new PublishedHistogram('ha_crm_round_duration_seconds', "Busy time of the master's manager rounds (without the wait for the next round).", ROUND_BUCKETS, ['node'], registry);
  const waits = new PublishedHistogram('ha_lrm_worker_wait_seconds', 'Time resource commands waited for a free worker.', WAIT_BUCKETS, ['node'], registry);
  const requests = new Counter({ name: 'ha_api_requests_total', help: 'Requests ha-api answered, by method and status code.', labelNames: ['method', 'code'], ...reg });

  const fromStatus = (entries: readonly StatusEntry[], states: Readonly<Record<string, string>>): void => {
    services.reset();
    nodes.reset();
    master.reset();
    armed.reset();
    lrms.reset();
    for (const state of NODE_STATES) nodes.set({ state }, 0);
    for (const state of Object.values(states)) nodes.inc({ state });
    for (const entry of entries) {
      switch (entry.type) {
        case 'quorum':
          quorate.set(entry.quorate ?? 0);
          break;
        case 'master':
          master.set({ node: entry.node ?? '', state: entry.state ?? '' }, 1);
          break;
        case 'fencing':
          for (const state of ['armed', 'standby', 'disarming', 'disarmed']) armed.set({ state }, entry['armed-state'] === state ? 1 : 0);
          break;
        case 'lrm':
          lrms.set({ node: entry.node ?? '', state: entry.state ?? '', mode: entry.mode ?? '' }, 1);
          break;
        case 'service':
          services.inc({ state: entry.state ?? 'unknown' });
          break;
        default: {
          const unreachable: never = entry.type;
          throw new Error(`unknown status entry type ${String(unreachable)}`);
        }
      }
    }
  };

  const fromDaemons = (figures: readonly DaemonMetrics[]): void => {
    for (const counter of [fenceEvents, lockAcquired, lockRenewed, lockLost]) counter.reset();
    for (const gauge of [queue, running, age]) gauge.reset();
    const roundData: Array<{ labels: Labels; data: HistogramData }> = [];
    const waitData: Array<{ labels: Labels; data: HistogramData }> = [];
    for (const m of figures) {
      const labels = { node: m.node, daemon: m.daemon };
      lockAcquired.inc(labels, m.locks.acquired);
      lockRenewed.inc(labels, m.locks.renewed);
      lockLost.inc(labels, m.locks.lost);
      age.set(labels, Math.max(0, (source.now() - m.time) / 1000));
      if (m.crm !== undefined) {
        fenceEvents.inc({ node: m.node }, m.crm.fence_events);
        roundData.push({ labels: { node: m.node }, data: m.crm.round_seconds });
      }
      if (m.lrm !== undefined) {
        queue.set({ node: m.node }, m.lrm.queued);
        running.set({ node: m.node }, m.lrm.running);
        waitData.push({ labels: { node: m.node }, data: m.lrm.wait_seconds });
      }
    }
    rounds.set(roundData);
    waits.set(waitData);
  };

  return {
    contentType: registry.contentType,
    async render() {
      const ctx = source.context();
      const [entries, full, figures] = await Promise.all([
        invoke(ctx, 'status.current', {}),
        invoke(ctx, 'status.manager_status', {}),
        readDaemonFigures(ctx),
      ]);
      fromStatus(entries, nodeStates(full));
      fromDaemons(figures);
      return registry.metrics();
    },
    request(method, status) {
      requests.inc({ method, code: String(status) });
    },
  };
}
