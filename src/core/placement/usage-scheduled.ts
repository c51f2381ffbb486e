// Static and dynamic usage: node load from service sizes (static: configured
// cores and memory) or from measured use (dynamic), scored by the scheduling
// kernel. Errors while accounting one service are logged and that service
// left out, so a single bad figure cannot stop the whole round.

import type { ClusterServiceStats, HaEnv, NodeUsageStats } from '../../env/env.js';
import { ClusterUsage, type UsageAggregator } from '../scheduling/cluster-usage.js';
import type { ScoringKernel } from '../scheduling/kernel.js';
import type { NodeStats, ResourceStats } from '../scheduling/stats.js';
import { errorText } from '../errors.js';
import type { NodeName, Sid } from '../types.js';
import { serviceLoad, type BalancingMigration, type CompactMigrationCandidate, type OnlineNodeUsage } from './usage.js';

interface ModeSpec {
  mode: 'static' | 'dynamic';
  /** Aggregator for imbalance and migration scoring. */
  balance: UsageAggregator;
  /** Aggregator for start scoring. */
  start: UsageAggregator;
  nodeStats(name: NodeName, stats: NodeUsageStats): NodeStats;
  resourceStats(usage: Readonly<Record<string, unknown>>): ResourceStats;
}

/** A figure the scheduler needs; a missing one fails as the reference's Perl binding reports it. */
function requireNumber(usage: Readonly<Record<string, unknown>>, field: string): number {
  const value = usage[field];
  if (typeof value !== 'number') throw new Error(`error: missing field \`${field}\``);
  return value;
}

const STATIC_MODE: ModeSpec = {
  mode: 'static',
  balance: 'started',
  start: 'started',
  // Node capacity only; the services' sizes are added by the aggregator.
  nodeStats: (_name, stats) => ({
    cpu: 0,
    maxcpu: Math.trunc(stats.maxcpu ?? 0),
    mem: 0,
    maxmem: Math.trunc(stats.maxmem ?? 0),
  }),
  resourceStats: (usage) => {
    const maxcpu = requireNumber(usage, 'maxcpu');
    const maxmem = requireNumber(usage, 'maxmem');
    return { cpu: maxcpu, maxcpu, mem: maxmem, maxmem };
  },
};

const DYNAMIC_MODE: ModeSpec = {
  mode: 'dynamic',
  // Measured node usage already contains the running services.
  balance: 'identity',
  start: 'starting-as-started',
  nodeStats: (_name, stats) => ({
    cpu: stats.cpu ?? 0,
    maxcpu: stats.maxcpu ?? 0,
    mem: stats.mem ?? 0,
    maxmem: stats.maxmem ?? 0,
  }),
  resourceStats: (usage) => ({
    cpu: requireNumber(usage, 'cpu'),
    maxcpu: requireNumber(usage, 'maxcpu'),
    mem: requireNumber(usage, 'mem'),
    maxmem: requireNumber(usage, 'maxmem'),
  }),
};

function createScheduledUsage(
  env: HaEnv,
  spec: ModeSpec,
  kernel: ScoringKernel,
  serviceStats: Readonly<Record<Sid, ClusterServiceStats>>,
  nodeStats: Readonly<Record<NodeName, NodeUsageStats>>,
  onlineNodes: readonly NodeName[],
): OnlineNodeUsage {
  const cluster = new ClusterUsage();
  const { mode } = spec;

  for (const node of onlineNodes) {
    const stats = nodeStats[node];
    if (stats === undefined) throw new Error(`did not get ${mode} node usage information for '${node}'`);
    if (stats.maxcpu === undefined) throw new Error(`${mode} node usage information for '${node}' missing cpu count`);
    if (stats.maxmem === undefined) throw new Error(`${mode} node usage information for '${node}' missing memory`);
    try {
      cluster.addNode(node, spec.nodeStats(node, stats));
    } catch (err) {
      throw new Error(`initializing ${mode} node usage for '${node}' failed - ${errorText(err)}`);
    }
  }

  const nodeSet: ReadonlySet<NodeName> = new Set(cluster.nodeNames());

  const usageOf = (sid: Sid): Readonly<Record<string, unknown>> => {
    const usage = serviceStats[sid]?.usage;
    if (usage === undefined) throw new Error(`did not get ${mode} service usage information for '${sid}'`);
    return usage as Readonly<Record<string, unknown>>;
  };

  const selectMigration = (
    candidates: readonly CompactMigrationCandidate[],
    score: ScoringKernel['scoreBestBalancingMigrations'],
  ): BalancingMigration | undefined => {
    try {
      const expanded = cluster.migrationCandidates(candidates);
      return score.call(kernel, cluster.nodeUsages(spec.balance), expanded, 1)[0];
    } catch (err) {
      env.log('warning', `unable to score best balancing migration - ${errorText(err)}`);
      return undefined;
    }
  };

  return {
    mode,
    listNodes: () => [...cluster.nodeNames()],
    containsNode: (node) => cluster.hasNode(node),
    addServiceUsage(sid, sd) {
      const load = serviceLoad(nodeSet, sd);
      let { current, target } = load;
      if (current === undefined && target === undefined) return;
      // A resource needs a current node; one only heading somewhere (a
      // rebalance on start, a move off a node in maintenance) counts there.
      if (current === undefined) {
        current = target;
        target = undefined;
      }
      try {
        const stats = spec.resourceStats(usageOf(sid));
        cluster.addResource(sid, {
          stats,
          state: load.running ? 'started' : 'starting',
          placement:
            target === undefined
              ? { kind: 'stationary', currentNode: current as NodeName }
              : { kind: 'moving', currentNode: current as NodeName, targetNode: target },
        });
      } catch (err) {
        env.log('warning', `unable to add service '${sid}' - ${errorText(err)}`);
      }
    },
    removeServiceUsage: (sid) => cluster.removeResource(sid),
    calculateNodeImbalance() {
      try {
        return kernel.nodeImbalance(cluster.nodeUsages(spec.balance));
      } catch (err) {
        env.log('warning', `unable to calculate ${mode} node imbalance - ${errorText(err)}`);
        return 0;
      }
    },
    selectBestBalancingMigration: (candidates) => selectMigration(candidates, kernel.scoreBestBalancingMigrations),
    selectBestBalancingMigrationTopsis: (candidates) =>
      selectMigration(candidates, kernel.scoreBestBalancingMigrationsTopsis),
    scoreNodesToStartService(sid) {
      const scores = new Map<NodeName, number>();
      try {
        const stats = spec.resourceStats(usageOf(sid));
        // The kernel's scores are higher-is-better; placement wants lower-is-better.
        for (const [node, score] of kernel.scoreNodesToStartResource(cluster.nodeUsages(spec.start), stats)) {
          scores.set(node, -score);
        }
      } catch (err) {
        env.log('err', `unable to score nodes according to ${mode} usage for service '${sid}' - ${errorText(err)}`);
        if (mode === 'static') for (const node of cluster.nodeNames()) scores.set(node, 0);
      }
      return scores;
    },
  };
}

export function createStaticUsage(
  env: HaEnv,
  serviceStats: Readonly<Record<Sid, ClusterServiceStats>>,
  nodeStats: Readonly<Record<NodeName, NodeUsageStats>>,
  onlineNodes: readonly NodeName[],
): OnlineNodeUsage {
  return createScheduledUsage(env, STATIC_MODE, env.scoringKernel, serviceStats, nodeStats, onlineNodes);
}

export function createDynamicUsage(
  env: HaEnv,
  serviceStats: Readonly<Record<Sid, ClusterServiceStats>>,
  nodeStats: Readonly<Record<NodeName, NodeUsageStats>>,
  onlineNodes: readonly NodeName[],
): OnlineNodeUsage {
  return createScheduledUsage(env, DYNAMIC_MODE, env.scoringKernel, serviceStats, nodeStats, onlineNodes);
}
