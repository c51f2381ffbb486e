// Automatic rebalancing of running services (static and dynamic scheduler
// modes): when the node load imbalance stays above the threshold for the hold
// duration, migrate the one service bundle that improves it most.

import type { HaEnv } from '../../env/env.js';
import type { CompactMigrationCandidate } from '../placement/usage.js';
import {
  applyNegativeResourceAffinity,
  getAffinitiveResources,
  getNodeAffinity,
  getResourceAffinity,
} from '../rules/index.js';
import type { CompiledRules } from '../rules/types.js';
import type { NodeName, ServiceStatusEntry, Sid } from '../types.js';
import { anyResourceMotionQueuedOrRunning, queueResourceMotion } from './commands.js';
import { splitSid } from '../sid.js';
import { usageOf, type Manager } from './state.js';
import { formatFixed } from '../format.js';

/**
 * Running services that are not moving, grouped with the services in
 * positive affinity with them that run on the same node. Keyed by the
 * bundle's leader: its alphabetically first member.
 */
export function activeStationaryBundles(
  ss: Readonly<Record<Sid, ServiceStatusEntry>>,
  resourceAffinity: CompiledRules['resource-affinity'],
): Map<Sid, Sid[]> {
  const bundles = new Map<Sid, Sid[]>();
  bundle: for (const sid of Object.keys(ss).sort()) {
    if (ss[sid].state !== 'started') continue;
    let members: Sid[] = [sid];
    const nodes = new Set<NodeName>([ss[sid].node]);
    const { together } = getAffinitiveResources(resourceAffinity, sid);
    if (together.size > 0) {
      for (const csid of together) {
        const csd = ss[csid];
        if (csd === undefined) continue;
        // A bundle with a moving member is not stationary.
        if (csd.state === 'migrate' || csd.state === 'relocate') continue bundle;
        if (csd.state !== 'started') continue;
        nodes.add(csd.node);
        members.push(csid);
      }
      members = members.sort();
    }
    if (nodes.size > 1) continue;
    bundles.set(members[0], members);
  }
  return bundles;
}

export function resourceMigrationCandidates(m: Manager): CompactMigrationCandidate[] {
  const rules = m.compiledRules;
  if (rules === undefined) return [];
  const usage = usageOf(m);
  const bundles = activeStationaryBundles(m.ss, rules['resource-affinity']);
  const onlineNodes = new Set(usage.listNodes());

  const candidates: CompactMigrationCandidate[] = [];
  for (const leader of [...bundles.keys()].sort()) {
    const currentNode = m.ss[leader].node;
    const { preferred } = getNodeAffinity(rules['node-affinity'], leader, onlineNodes);
    const targets = new Set(preferred);
    const { separate } = getResourceAffinity(rules['resource-affinity'], leader, m.ss, onlineNodes);
    applyNegativeResourceAffinity(separate, targets);
    targets.delete(currentNode);
    if (targets.size === 0) continue;
    candidates.push({ leader, nodes: [...targets].sort(), resources: bundles.get(leader) ?? [leader] });
  }
  return candidates;
}

export function loadBalance(env: HaEnv, m: Manager): void {
  const { crs } = m;
  const options = crs.autoRebalance;
  if (!options.enable) return;
  if (crs.scheduler !== 'static' && crs.scheduler !== 'dynamic') return;
  if (anyResourceMotionQueuedOrRunning(m)) return;

  const usage = usageOf(m);
  const imbalance = usage.calculateNodeImbalance();

  // `<=` keeps a perfectly balanced cluster (imbalance 0) from ever triggering.
  if (imbalance <= options.threshold) {
    m.sustainedImbalanceRound = 0;
    return;
  }
  m.sustainedImbalanceRound += 1;
  if (m.sustainedImbalanceRound < options.holdDuration) return;
  m.sustainedImbalanceRound = 0;

  const candidates = resourceMigrationCandidates(m);
  let result;
  if (options.method === 'bruteforce') {
    result = usage.selectBestBalancingMigration(candidates);
  } else if (options.method === 'topsis') {
    result = usage.selectBestBalancingMigrationTopsis(candidates);
  }
  if (result === undefined) return;

  const target = result.imbalance;
  const relativeChange = (imbalance - target) / imbalance;
  if (relativeChange < options.margin) return;

  const { sid, targetNode } = result.migration;
  const { type } = splitSid(sid);
  const task = type === 'vm' ? 'migrate' : 'relocate';
  const cmd = `${task} ${sid} ${targetNode}`;
  env.log(
    'info',
    `auto rebalance - ${task} ${sid} to ${targetNode} (expected change for imbalance from ${formatFixed(imbalance, 2)} to ${formatFixed(target, 2)})`,
  );
  queueResourceMotion(env, m, cmd, task, sid, targetNode);
}
