// The cluster usage: which resources are on which nodes, with their stats,
// and the node usages the kernel scores, seen through one of three
// aggregators.
//
// The reference keeps nodes and resources in hash maps and so sums node
// stats in an arbitrary order, which can change the last bits of a score.
// Here the order is fixed: nodes by name, and the resources of a node by sid,
// both in code point order (the order of Rust strings). The same cluster
// therefore always yields the same bits, in both kernels.

import type { MigrationCandidate, NodeUsage } from './kernel.js';
import { compareCodePoints } from './ordering.js';
import {
  checkNodeStats,
  checkResourceStats,
  startedCpu,
  sumResourceStats,
  type NodeStats,
  type ResourceStats,
} from './stats.js';

export type ResourceState = 'stopped' | 'starting' | 'started';

export type ResourcePlacement =
  | { readonly kind: 'stationary'; readonly currentNode: string }
  /** Being moved: loads both nodes until the move is over. */
  | { readonly kind: 'moving'; readonly currentNode: string; readonly targetNode: string };

export interface Resource {
  readonly stats: ResourceStats;
  readonly state: ResourceState;
  readonly placement: ResourcePlacement;
}

/**
 * How node stats are derived from the cluster usage:
 * - `identity`: the node stats as given (measured usage already includes
 *   running resources);
 * - `started`: every resource on the node added as started, using its
 *   limits (for nodes given with no usage of their own);
 * - `starting-as-started`: the node stats plus the resources that are still
 *   starting, as if already started.
 */
export type UsageAggregator = 'identity' | 'started' | 'starting-as-started';

/** A bundle of resources that move together, its leader and where it may go. */
export interface CompactMigrationCandidate {
  readonly leader: string;
  readonly resources: readonly string[];
  readonly nodes: readonly string[];
}

interface UsageNode {
  readonly stats: NodeStats;
  /** Sids placed on the node, sorted. */
  readonly sids: string[];
  /** The resources of `sids`, index for index, kept here to aggregate without lookups. */
  readonly members: Resource[];
  /** Aggregated stats, dropped whenever `sids` changes. */
  readonly aggregated: Map<UsageAggregator, NodeStats>;
}

function sortedIndex(sorted: readonly string[], key: string): { index: number; found: boolean } {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = compareCodePoints(sorted[middle], key);
    if (order === 0) return { index: middle, found: true };
    if (order < 0) low = middle + 1;
    else high = middle;
  }
  return { index: low, found: false };
}

function placeOn(node: UsageNode, sid: string, resource: Resource): void {
  const { index, found } = sortedIndex(node.sids, sid);
  if (found) return;
  node.sids.splice(index, 0, sid);
  node.members.splice(index, 0, resource);
  node.aggregated.clear();
}

function takeFrom(node: UsageNode | undefined, sid: string): void {
  if (node === undefined) return;
  const { index, found } = sortedIndex(node.sids, sid);
  if (!found) return;
  node.sids.splice(index, 1);
  node.members.splice(index, 1);
  node.aggregated.clear();
}

export class ClusterUsage {
  readonly #nodes = new Map<string, UsageNode>();
  readonly #resources = new Map<string, Resource>();
  /** Node names, sorted; rebuilt lazily after nodes come or go. */
  #names: string[] | undefined;

  addNode(name: string, stats: NodeStats): void {
    if (this.#nodes.has(name)) throw new Error(`node '${name}' already exists`);
    checkNodeStats(name, stats);
    this.#nodes.set(name, { stats: { ...stats }, sids: [], members: [], aggregated: new Map() });
    this.#names = undefined;
  }

  /**
   * Removes a node. Resources that were only there go with it; a resource
   * moving from or to it stays, now stationary on its other node.
   */
  removeNode(name: string): void {
    const node = this.#nodes.get(name);
    if (node === undefined) return;
    this.#nodes.delete(name);
    this.#names = undefined;
    for (const sid of node.sids) {
      const resource = this.#resources.get(sid);
      if (resource === undefined) continue;
      const { placement } = resource;
      if (placement.kind === 'stationary') {
        if (placement.currentNode === name) this.#resources.delete(sid);
      } else if (placement.currentNode === name || placement.targetNode === name) {
        const currentNode = placement.currentNode === name ? placement.targetNode : placement.currentNode;
        const settled: Resource = { ...resource, placement: { kind: 'stationary', currentNode } };
        this.#resources.set(sid, settled);
        const other = this.#nodes.get(currentNode);
        const at = other && sortedIndex(other.sids, sid);
        if (other && at?.found) other.members[at.index] = settled;
      }
    }
  }

  hasNode(name: string): boolean {
    return this.#nodes.has(name);
  }

  /** Node names in code point order. */
  nodeNames(): readonly string[] {
    this.#names ??= [...this.#nodes.keys()].sort(compareCodePoints);
    return this.#names;
  }

  nodeStats(name: string): NodeStats | undefined {
    return this.#nodes.get(name)?.stats;
  }

  /** Sids placed on the node (moving ones on both of theirs), sorted. */
  nodeResources(name: string): readonly string[] {
    return this.#nodes.get(name)?.sids ?? [];
  }

  /** Fails if the sid is taken or the resource's nodes are unknown. */
  addResource(sid: string, resource: Resource): void {
    if (this.#resources.has(sid)) throw new Error(`resource '${sid}' already exists`);
    const placement = { ...resource.placement };
    const added: Resource = { stats: { ...resource.stats }, state: resource.state, placement };
    if (placement.kind === 'stationary') {
      const current = this.#nodes.get(placement.currentNode);
      if (current === undefined) throw new Error(`current node for resource '${sid}' does not exist`);
      checkResourceStats(resource.stats, () => `resource '${sid}'`);
      placeOn(current, sid, added);
    } else {
      if (placement.currentNode === placement.targetNode) {
        throw new Error(`resource '${sid}' has the same current and target node`);
      }
      const current = this.#nodes.get(placement.currentNode);
      const target = this.#nodes.get(placement.targetNode);
      if (current === undefined || target === undefined) throw new Error(`nodes for resource '${sid}' do not exist`);
      checkResourceStats(resource.stats, () => `resource '${sid}'`);
      placeOn(current, sid, added);
      placeOn(target, sid, added);
    }
    this.#resources.set(sid, added);
  }

  removeResource(sid: string): void {
    const resource = this.#resources.get(sid);
    if (resource === undefined) return;
    this.#resources.delete(sid);
    const { placement } = resource;
    takeFrom(this.#nodes.get(placement.currentNode), sid);
    if (placement.kind === 'moving') takeFrom(this.#nodes.get(placement.targetNode), sid);
  }

  getResource(sid: string): Resource | undefined {
    return this.#resources.get(sid);
  }

  hasResource(sid: string): boolean {
    return this.#resources.has(sid);
  }

  /** The node usages to score, in node name order. */
  nodeUsages(aggregator: UsageAggregator): NodeUsage[] {
    return this.nodeNames().map((name) => {
      const node = this.#nodes.get(name) as UsageNode;
      let stats = node.aggregated.get(aggregator);
      if (stats === undefined) {
        stats = this.#aggregate(node, aggregator);
        node.aggregated.set(aggregator, stats);
      }
      return { name, stats };
    });
  }

  #aggregate(node: UsageNode, aggregator: UsageAggregator): NodeStats {
    if (aggregator === 'identity') return node.stats;
    // addStartedResource, folded over the resources without an object per step
    const { maxcpu, maxmem } = node.stats;
    let { cpu, mem } = node.stats;
    for (const resource of node.members) {
      if (aggregator === 'started' || resource.state === 'starting') {
        cpu += startedCpu(maxcpu, resource.stats);
        mem += resource.stats.maxmem;
      }
    }
    return { cpu, maxcpu, mem, maxmem };
  }

  /**
   * Expands bundles into one candidate per target node, each carrying the
   * summed stats of the bundle. Every member must be stationary on the
   * leader's node.
   */
  migrationCandidates(compact: readonly CompactMigrationCandidate[]): MigrationCandidate[] {
    const candidates: MigrationCandidate[] = [];
    for (const { leader, resources, nodes } of compact) {
      const leading = this.#resources.get(leader);
      if (leading === undefined) throw new Error(`leader '${leader}' is not present in the cluster usage`);
      if (leading.placement.kind !== 'stationary') throw new Error(`leader '${leader}' is non-stationary`);
      const sourceNode = leading.placement.currentNode;
      if (!resources.includes(leader)) throw new Error(`leader '${leader}' is not present in the resources list`);
      const bundle = resources.map((sid) => {
        const resource = this.#resources.get(sid);
        if (resource === undefined) throw new Error(`resource '${sid}' is not present in the cluster usage`);
        if (resource.placement.kind !== 'stationary') throw new Error(`resource '${sid}' is non-stationary`);
        if (resource.placement.currentNode !== sourceNode) {
          throw new Error(`resource '${sid}' is on other node than leader`);
        }
        return resource.stats;
      });
      const stats = sumResourceStats(bundle);
      for (const targetNode of nodes) {
        candidates.push({ migration: { sid: leader, sourceNode, targetNode }, stats });
      }
    }
    return candidates;
  }
}
