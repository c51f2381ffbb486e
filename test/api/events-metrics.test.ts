// The event stream (a snapshot, then what changed, without polling by the
// client) and /metrics (Prometheus' text format: checked line by line here,
// and by promtool when it is installed), including the figures daemons
// publish into the store.

import { spawnSync } from 'node:child_process';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { writeDaemonMetrics, type DaemonMetrics } from '../../src/config/daemon-metrics.js';
import { PATHS, daemonMetricsPath } from '../../src/env/node/layout.js';
import { NOW, startApi, type ApiHarness } from './server-harness.js';

let h: ApiHarness;
beforeEach(async () => {
  h = await startApi();
});
afterEach(async () => {
  await h.close();
});

type StreamEvent = { event: string; data: Record<string, unknown> };

/** The events of a stream so far, read on as far as a test waits for. */
function eventReader(response: Response): { events: StreamEvent[]; until(enough: (events: StreamEvent[]) => boolean): Promise<void>; close(): Promise<void> } {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: StreamEvent[] = [];
  let buffer = '';
  return {
    events,
    async until(enough) {
      const deadline = Date.now() + 10_000;
      while (!enough(events)) {
        if (Date.now() > deadline) throw new Error(`no such events; got ${JSON.stringify(events)}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    },
    close: () => reader.cancel(),
  };
}

describe('event stream', () => {
  it('sends a snapshot, then the changes of services, nodes and the master', async () => {
    expect((await h.cli('add', 'vm:100')).code).toBe(0);
    const response = await fetch(`${h.url}/api2/json/cluster/ha/events`, { headers: { authorization: `PVEAPIToken=${h.admin}=${h.adminSecret}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream;charset=UTF-8');
    const stream = eventReader(response);
    await stream.until((events) => events.length > 0);

    // the master takes over: a service state, a node being fenced
    await h.store.write(
      PATHS.managerStatus,
      JSON.stringify({
        master_node: 'node2',
        timestamp: NOW,
        node_status: { node1: 'online', node2: 'online', node3: 'fence' },
        service_status: { 'vm:100': { node: 'node1', state: 'started', uid: 'x' } },
      }),
    );
    await stream.until((events) => events.some((e) => e.event === 'change' && JSON.stringify(e.data).includes('"fence"')));
    await stream.close();
    const { events } = stream;
    expect(events[0].event).toBe('snapshot');
    const snapshot = events[0].data.view as Record<string, Record<string, unknown>>;
    expect(snapshot['service:vm:100']).toEqual({ type: 'service', sid: 'vm:100', node: 'node1', state: 'queued', request_state: 'started' });
    expect(snapshot['member:node3']).toEqual({ type: 'member', node: 'node3', online: true });
    const changes = events.filter((e) => e.event === 'change').flatMap((e) => e.data.changes as Array<{ id: string; old?: unknown; new?: unknown }>);
    expect(changes).toContainEqual({ id: 'node:node3', new: { type: 'node', node: 'node3', state: 'fence' } });
    expect(changes).toContainEqual({ id: 'master', new: { type: 'master', node: 'node2', state: 'active' } });
    expect(changes.find((c) => c.id === 'service:vm:100')).toMatchObject({ old: { state: 'queued' }, new: { state: 'starting', crm_state: 'started' } });
  });

  it('needs authentication like every endpoint', async () => {
    const response = await fetch(`${h.url}/api2/json/cluster/ha/events`);
    expect(response.status).toBe(401);
    expect(h.api.events.size).toBe(0);
  });
});

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;

/** The text format's grammar, and each sample belonging to the family declared before it. */
function checkExposition(text: string): Map<string, { type: string; samples: string[] }> {
  const families = new Map<string, { type: string; samples: string[] }>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    if (help !== null) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      expect(families.has(type[1]), `family ${type[1]} declared twice`).toBe(false);
      families.set(type[1], { type: type[2], samples: [] });
      current = type[1];
      continue;
    }
    const sample = SAMPLE_RE.exec(line);
    expect(sample, `not a sample line: ${line}`).not.toBeNull();
    const name = (sample as RegExpExecArray)[1];
    const family = current as string;
    expect([family, `${family}_bucket`, `${family}_sum`, `${family}_count`, `${family}_total`], line).toContain(name);
    families.get(family)?.samples.push(line);
  }
  return families;
}

describe('/metrics', () => {
  const figures = (daemon: 'crm' | 'lrm'): DaemonMetrics => ({
    daemon,
    node: 'node2',
    pid: 4711,
    started: Date.now() - 60_000,
    time: Date.now() - 2000,
    locks: { acquired: 2, renewed: 40, lost: 1 },
    ...(daemon === 'crm'
      ? { crm: { master: true, fence_events: 3, round_seconds: { le: [0.01, 0.1, 1], counts: [5, 9, 10], count: 11, sum: 2.5 } } }
      : { lrm: { queued: 4, running: 2, wait_seconds: { le: [0.1, 1], counts: [7, 8], count: 8, sum: 1.25 } } }),
  });

  it('scrapes cleanly, with the cluster’s states and the daemons’ figures', async () => {
    expect((await h.cli('add', 'vm:100')).code).toBe(0);
    expect((await h.cli('add', 'ct:101', '--state', 'stopped')).code).toBe(0);
    await h.store.write(
      PATHS.managerStatus,
      JSON.stringify({
        master_node: 'node2',
        timestamp: NOW,
        node_status: { node1: 'online', node2: 'online', node3: 'fence' },
        service_status: { 'ct:101': { node: 'node2', state: 'stopped', uid: 'y' } },
      }),
    );
    await h.store.write(daemonMetricsPath('node2', 'crm'), writeDaemonMetrics(figures('crm')));
    await h.store.write(daemonMetricsPath('node2', 'lrm'), writeDaemonMetrics(figures('lrm')));
    await h.store.write(daemonMetricsPath('node3', 'lrm'), '{"daemon": "lrm"');

    const r = await fetch(`${h.url}/metrics`, { headers: { authorization: `PVEAPIToken=${h.audit}=${h.auditSecret}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    const families = checkExposition(text);
    expect(text).toContain('ha_services{state="queued"} 1\n');
    expect(text).toContain('ha_services{state="stopped"} 1\n');
    expect(text).toContain('ha_nodes{state="fence"} 1\n');
    expect(text).toContain('ha_nodes{state="online"} 2\n');
    expect(text).toContain('ha_quorate 1\n');
    expect(text).toContain('ha_fence_events_total{node="node2"} 3\n');
    expect(text).toContain('ha_lock_renewals_total{node="node2",daemon="crm"} 40\n');
    expect(text).toContain('ha_lock_losses_total{node="node2",daemon="lrm"} 1\n');
    expect(text).toContain('ha_lrm_worker_queue_length{node="node2"} 4\n');
    expect(text).toContain('ha_crm_round_duration_seconds_bucket{node="node2",le="0.1"} 9\n');
    expect(text).toContain('ha_crm_round_duration_seconds_bucket{node="node2",le="+Inf"} 11\n');
    expect(text).toContain('ha_crm_round_duration_seconds_sum{node="node2"} 2.5\n');
    expect(text).toContain('ha_lrm_worker_wait_seconds_count{node="node2"} 8\n');
    expect(families.get('ha_crm_round_duration_seconds')?.type).toBe('histogram');
    expect(families.get('ha_lock_renewals_total')?.type).toBe('counter');
    // the broken file of node3 is skipped (and said so in the log), not fatal
    expect(h.logs.some((line) => line.includes(daemonMetricsPath('node3', 'lrm')))).toBe(true);

    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error === undefined) expect(promtool.status, promtool.stdout + promtool.stderr).toBe(0);
  });
});
