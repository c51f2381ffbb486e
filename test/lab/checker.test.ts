// The lab's checker on synthetic lifetimes: it must find what really went
// wrong — two nodes running one service at once, long downtimes, services
// gone at the end, config lost — and measure failovers from the moment the
// reset node's instance died.

import { describe, expect, it } from 'vitest';

import { check, findDoubleRuns, type CheckInput, type Instance } from '../../src/lab/checker.js';
import { distribution, percentile } from '../../src/lab/stats.js';

const life = (sid: string, node: string, startMs: number, endMs?: number, boot = 1): Instance => ({ sid, node, boot, startMs, endMs });

function input(extra: Partial<CheckInput>): CheckInput {
  return { services: ['exec:s1', 'exec:s2'], instances: [], faults: [], resets: [], endMs: 100_000, configured: ['exec:s1', 'exec:s2'], ...extra };
}

describe('lab checker', () => {
  it('reports two instances of one service alive at once on different nodes, with the overlap', () => {
    const verdict = check(
      input({
        instances: [
          life('exec:s1', 'node1', 1_000, 50_000),
          life('exec:s1', 'node2', 40_000), // started before node1's copy died
          life('exec:s2', 'node3', 1_000),
        ],
      }),
    );
    expect(verdict.doubleRuns).toEqual([
      { sid: 'exec:s1', nodes: ['node1', 'node2'], fromMs: 40_000, toMs: 50_000, ms: 10_000, open: false, afterHeal: undefined },
    ]);
    expect(verdict.pass).toBe(false);
  });

  it('tells how long a double run went on after the paused node resumed', () => {
    // Without a watchdog: node3 paused, its service recovered on node1, node3 resumed at 290 s.
    const paused = { kind: 'pause' as const, atMs: 50_000, target: 'node3', healedAtMs: 290_000 };
    const stopsIn2s = check(
      input({
        services: ['exec:s3'],
        instances: [life('exec:s3', 'node3', 0, 292_000), life('exec:s3', 'node1', 180_000)],
        faults: [paused],
        configured: ['exec:s3'],
        endMs: 400_000,
      }),
    );
    expect(stopsIn2s.doubleRuns).toMatchObject([{ fromMs: 180_000, toMs: 292_000, open: false, afterHeal: { kind: 'pause', target: 'node3', ms: 2_000 } }]);
    const keepsIt = check(
      input({
        services: ['exec:s3'],
        instances: [life('exec:s3', 'node3', 0), life('exec:s3', 'node1', 180_000)],
        faults: [paused],
        configured: ['exec:s3'],
        endMs: 400_000,
      }),
    );
    expect(keepsIt.doubleRuns).toMatchObject([{ toMs: 400_000, open: true, afterHeal: { ms: 110_000 } }]);
  });

  it('does not call a hand-over a double run, nor two lives on one node', () => {
    const runs = findDoubleRuns(
      [
        life('exec:s1', 'node1', 0, 10_000),
        life('exec:s1', 'node2', 10_000, 20_000), // starts the instant the first died
        life('exec:s1', 'node2', 15_000, 30_000), // same node: not a double run across nodes
        life('exec:s2', 'node1', 0, 5_000),
        life('exec:s2', 'node2', 6_000),
      ],
      100_000,
    );
    expect(runs).toEqual([]);
  });

  it('finds every overlapping pair, including one still running at the end', () => {
    const runs = findDoubleRuns(
      [life('exec:s1', 'node1', 0), life('exec:s1', 'node2', 1_000, 3_000), life('exec:s1', 'node3', 2_000)],
      10_000,
    );
    expect(runs.map((r) => [r.nodes.join('+'), r.fromMs, r.toMs])).toEqual([
      ['node1+node2', 1_000, 3_000],
      ['node1+node3', 2_000, 10_000],
      ['node2+node3', 2_000, 3_000],
    ]);
  });

  it('measures the longest downtime per service from its first start, and attributes it to the fault before it', () => {
    const verdict = check(
      input({
        instances: [
          life('exec:s1', 'node1', 5_000, 20_000),
          life('exec:s1', 'node2', 145_000), // 125 s without exec:s1
          life('exec:s2', 'node2', 2_000, 30_000),
          life('exec:s2', 'node3', 31_000),
        ],
        faults: [
          { kind: 'kill', atMs: 19_000, target: 'node1' },
          { kind: 'pause', atMs: 29_000, target: 'node2' },
          { kind: 'master', atMs: 1_000, target: undefined }, // skipped: attributes nothing
        ],
        endMs: 200_000,
      }),
    );
    expect(verdict.longestDowntimeMs).toEqual({ 'exec:s1': 125_000, 'exec:s2': 1_000 });
    expect(verdict.maxDowntimeMs).toBe(125_000);
    expect(verdict.downtimeByFault.kill).toEqual({ count: 1, p50: 125_000, p99: 125_000, max: 125_000 });
    expect(verdict.downtimeByFault.pause?.count).toBe(1);
    expect(verdict.doubleRuns).toEqual([]);
    // A long downtime alone does not fail a run: the services are back.
    expect(verdict.pass).toBe(true);
  });

  it('fails a run with a service down at the end, or missing from resources.cfg', () => {
    const verdict = check(
      input({
        instances: [life('exec:s1', 'node1', 0, 90_000), life('exec:s2', 'node2', 0)],
        configured: ['exec:s2'],
      }),
    );
    expect(verdict.notRunningAtEnd).toEqual(['exec:s1']);
    expect(verdict.downtimes).toEqual([{ sid: 'exec:s1', fromMs: 90_000, toMs: 100_000, ms: 10_000, open: true, after: 'none' }]);
    expect(verdict.lostConfig).toEqual(['exec:s1']);
    expect(verdict.pass).toBe(false);
    // An unreadable resources.cfg loses everything, as far as anyone can tell.
    expect(check(input({ instances: [life('exec:s1', 'a', 0), life('exec:s2', 'b', 0)], configured: undefined })).lostConfig).toEqual([
      'exec:s1',
      'exec:s2',
    ]);
  });

  it('measures failovers of a reset node’s services from their death to their next start anywhere', () => {
    const verdict = check(
      input({
        instances: [
          life('exec:s1', 'node1', 0, 50_040, 1),
          life('exec:s1', 'node2', 175_040, undefined, 1),
          life('exec:s2', 'node1', 0, 30_000, 1), // stopped before the reset: no failover
          life('exec:s2', 'node1', 35_000, 50_050, 1),
          life('exec:s2', 'node1', 80_050, undefined, 2), // back on the rebooted node
        ],
        resets: [{ node: 'node1', boot: 1, atMs: 50_000, cause: 'watchdog' }],
        endMs: 300_000,
      }),
    );
    expect(verdict.failovers.map((f) => [f.sid, f.cause, f.ms, f.recoveredOn])).toEqual([
      ['exec:s1', 'watchdog', 125_000, 'node2'],
      ['exec:s2', 'watchdog', 30_000, 'node1'],
    ]);
    expect(verdict.failover).toEqual({ count: 2, p50: 30_000, p99: 125_000, max: 125_000 });
  });

  it('reports a service never recovered after a reset without a figure', () => {
    const verdict = check(
      input({
        services: ['exec:s1'],
        instances: [life('exec:s1', 'node1', 0, 10_000)],
        resets: [{ node: 'node1', boot: 1, atMs: 9_990, cause: 'power-off' }],
        configured: ['exec:s1'],
      }),
    );
    expect(verdict.failovers[0]).toMatchObject({ sid: 'exec:s1', recoveredAtMs: undefined, ms: undefined });
    expect(verdict.failover.count).toBe(0);
    expect(verdict.notRunningAtEnd).toEqual(['exec:s1']);
  });

  it('takes nearest-rank percentiles: every figure is a sample that occurred', () => {
    const samples = Array.from({ length: 20 }, (_, i) => (i + 1) * 1000);
    expect(distribution(samples)).toEqual({ count: 20, p50: 10_000, p99: 20_000, max: 20_000 });
    expect(percentile([3, 1, 2].sort(), 0.5)).toBe(2);
    expect(distribution([])).toEqual({ count: 0, p50: undefined, p99: undefined, max: undefined });
  });
});
