import { describe, expect, it } from 'vitest';
import {
  ClusterUsage,
  type NodeStats,
  type Resource,
  type ResourceState,
  type ResourceStats,
} from '../../src/core/scheduling/index.js';
import { GIB } from './fixtures.js';

const idle: NodeStats = { cpu: 0, maxcpu: 0, mem: 0, maxmem: 0 };
const none: ResourceStats = { cpu: 0, maxcpu: 0, mem: 0, maxmem: 0 };

function on(currentNode: string, state: ResourceState = 'stopped', stats: ResourceStats = none): Resource {
  return { stats, state, placement: { kind: 'stationary', currentNode } };
}

function moving(currentNode: string, targetNode: string, state: ResourceState = 'stopped', stats = none): Resource {
  return { stats, state, placement: { kind: 'moving', currentNode, targetNode } };
}

function usageWith(...names: string[]): ClusterUsage {
  const usage = new ClusterUsage();
  for (const name of names) usage.addNode(name, idle);
  return usage;
}

describe('cluster usage', () => {
  it('refuses a second node of the same name', () => {
    const usage = usageWith('node1');
    expect(() => usage.addNode('node1', idle)).toThrow(new Error("node 'node1' already exists"));
  });

  it('refuses a second resource of the same sid', () => {
    const usage = usageWith('node1');
    usage.addResource('vm:101', on('node1'));
    expect(() => usage.addResource('vm:101', on('node1'))).toThrow(new Error("resource 'vm:101' already exists"));
  });

  it('refuses resources on unknown nodes or moving to where they are', () => {
    const usage = usageWith('node1', 'node2');
    expect(() => usage.addResource('vm:101', on('node4'))).toThrow(
      new Error("current node for resource 'vm:101' does not exist"),
    );
    expect(() => usage.addResource('vm:101', moving('node1', 'node4'))).toThrow(
      new Error("nodes for resource 'vm:101' do not exist"),
    );
    expect(() => usage.addResource('vm:101', moving('node1', 'node1'))).toThrow(
      new Error("resource 'vm:101' has the same current and target node"),
    );
    expect(usage.hasResource('vm:101')).toBe(false);
    expect(usage.nodeResources('node1')).toEqual([]);
  });

  it('places a stationary resource on its node and takes it off again', () => {
    const usage = usageWith('node1');
    usage.addResource('vm:101', on('node1'));
    expect(usage.getResource('vm:101')?.placement).toEqual({ kind: 'stationary', currentNode: 'node1' });
    expect(usage.nodeResources('node1')).toEqual(['vm:101']);
    usage.removeResource('vm:101');
    expect(usage.hasResource('vm:101')).toBe(false);
    expect(usage.nodeResources('node1')).toEqual([]);
  });

  it('places a moving resource on both nodes and takes it off both', () => {
    const usage = usageWith('node1', 'node2');
    usage.addResource('vm:101', moving('node1', 'node2'));
    expect(usage.nodeResources('node1')).toEqual(['vm:101']);
    expect(usage.nodeResources('node2')).toEqual(['vm:101']);
    usage.removeResource('vm:101');
    expect(usage.nodeResources('node1')).toEqual([]);
    expect(usage.nodeResources('node2')).toEqual([]);
  });

  it('drops resources only on a removed node and settles moving ones on their other node', () => {
    const usage = usageWith('node1', 'node2', 'node3');
    usage.addResource('vm:101', on('node1'));
    usage.addResource('vm:102', moving('node1', 'node2'));
    usage.addResource('vm:103', moving('node3', 'node1'));
    usage.removeNode('node1');
    expect(usage.hasNode('node1')).toBe(false);
    expect(usage.hasResource('vm:101')).toBe(false);
    expect(usage.getResource('vm:102')?.placement).toEqual({ kind: 'stationary', currentNode: 'node2' });
    expect(usage.getResource('vm:103')?.placement).toEqual({ kind: 'stationary', currentNode: 'node3' });
    expect(usage.nodeNames()).toEqual(['node2', 'node3']);
  });

  it('keeps aggregating a resource settled on its other node after a node went', () => {
    const usage = new ClusterUsage();
    usage.addNode('node1', { cpu: 0, maxcpu: 4, mem: 0, maxmem: 8 * GIB });
    usage.addNode('node2', { cpu: 0, maxcpu: 4, mem: 0, maxmem: 8 * GIB });
    usage.addResource('vm:102', moving('node1', 'node2', 'starting', { cpu: 1, maxcpu: 2, mem: GIB, maxmem: 2 * GIB }));
    usage.removeNode('node1');
    expect(usage.nodeUsages('starting-as-started')).toEqual([
      { name: 'node2', stats: { cpu: 2, maxcpu: 4, mem: 2 * GIB, maxmem: 8 * GIB } },
    ]);
    usage.removeResource('vm:102');
    expect(usage.nodeUsages('started')[0].stats.mem).toBe(0);
  });

  it('lists nodes by name and their resources by sid, in code point order', () => {
    const usage = usageWith('node2', 'node10', 'node1');
    for (const sid of ['vm:110', 'ct:200', 'vm:11']) usage.addResource(sid, on('node1'));
    expect(usage.nodeNames()).toEqual(['node1', 'node10', 'node2']);
    expect(usage.nodeResources('node1')).toEqual(['ct:200', 'vm:11', 'vm:110']);
  });

  it('rejects fractional byte counts', () => {
    const usage = usageWith('node1');
    expect(() => usage.addNode('node2', { ...idle, maxmem: 0.5 })).toThrow(
      new Error("node 'node2': maxmem must be a non-negative integer, got 0.5"),
    );
    expect(() => usage.addResource('vm:1', on('node1', 'started', { ...none, maxmem: -1 }))).toThrow(
      new Error("resource 'vm:1': maxmem must be a non-negative integer, got -1"),
    );
  });
});

describe('aggregators', () => {
  const node: NodeStats = { cpu: 1.5, maxcpu: 8, mem: 4 * GIB, maxmem: 32 * GIB };
  const big: ResourceStats = { cpu: 0.5, maxcpu: 2, mem: GIB, maxmem: 2 * GIB };
  const unlimited: ResourceStats = { cpu: 0.25, maxcpu: 0, mem: GIB, maxmem: 4 * GIB };

  function cluster(): ClusterUsage {
    const usage = new ClusterUsage();
    usage.addNode('b', node);
    usage.addNode('a', node);
    usage.addResource('vm:1', on('a', 'started', big));
    usage.addResource('vm:2', on('a', 'starting', unlimited));
    usage.addResource('vm:3', moving('a', 'b', 'starting', big));
    return usage;
  }

  it('identity passes node stats through, in name order', () => {
    expect(cluster().nodeUsages('identity')).toEqual([
      { name: 'a', stats: node },
      { name: 'b', stats: node },
    ]);
  });

  it('started adds every resource with its limits; no CPU limit counts all cores', () => {
    expect(cluster().nodeUsages('started')).toEqual([
      { name: 'a', stats: { cpu: 1.5 + 2 + 8 + 2, maxcpu: 8, mem: 12 * GIB, maxmem: 32 * GIB } },
      { name: 'b', stats: { cpu: 1.5 + 2, maxcpu: 8, mem: 6 * GIB, maxmem: 32 * GIB } },
    ]);
  });

  it('starting-as-started adds only the starting resources', () => {
    expect(cluster().nodeUsages('starting-as-started')).toEqual([
      { name: 'a', stats: { cpu: 1.5 + 8 + 2, maxcpu: 8, mem: 10 * GIB, maxmem: 32 * GIB } },
      { name: 'b', stats: { cpu: 1.5 + 2, maxcpu: 8, mem: 6 * GIB, maxmem: 32 * GIB } },
    ]);
  });

  it('follow resources coming and going', () => {
    const usage = cluster();
    expect(usage.nodeUsages('started')[0].stats.mem).toBe(12 * GIB);
    usage.removeResource('vm:2');
    expect(usage.nodeUsages('started')[0].stats.mem).toBe(8 * GIB);
    usage.addResource('vm:4', on('a', 'started', big));
    expect(usage.nodeUsages('started')[0].stats.mem).toBe(10 * GIB);
  });

  it('sum in sid order, whatever the order resources were added in', () => {
    const cpus = [0.1, 0.7, 0.2, 1e-9, 0.3];
    const build = (order: number[]) => {
      const usage = new ClusterUsage();
      usage.addNode('n', { cpu: 0.05, maxcpu: 4, mem: 0, maxmem: GIB });
      for (const i of order) usage.addResource(`vm:${i}`, on('n', 'started', { cpu: 0, maxcpu: cpus[i], mem: 0, maxmem: 0 }));
      return usage.nodeUsages('started')[0].stats.cpu;
    };
    const forward = build([0, 1, 2, 3, 4]);
    expect(build([4, 3, 2, 1, 0])).toBe(forward);
    expect(build([2, 0, 4, 1, 3])).toBe(forward);
    expect(forward).toBe(0.05 + 0.1 + 0.7 + 0.2 + 1e-9 + 0.3);
  });
});

describe('compact migration candidates', () => {
  const small: ResourceStats = { cpu: 0.5, maxcpu: 1, mem: GIB, maxmem: 2 * GIB };
  const other: ResourceStats = { cpu: 0.25, maxcpu: 2, mem: 3 * GIB, maxmem: 4 * GIB };

  function cluster(): ClusterUsage {
    const usage = usageWith('node1', 'node2', 'node3');
    usage.addResource('vm:101', on('node1', 'started', small));
    usage.addResource('vm:102', on('node1', 'started', other));
    usage.addResource('vm:103', on('node2', 'started', small));
    usage.addResource('vm:104', moving('node2', 'node3', 'started', small));
    return usage;
  }

  it('expand into one candidate per target with the bundle stats summed', () => {
    const candidates = cluster().migrationCandidates([
      { leader: 'vm:101', resources: ['vm:101', 'vm:102'], nodes: ['node2', 'node3'] },
      { leader: 'vm:103', resources: ['vm:103'], nodes: ['node1'] },
    ]);
    const bundle = { cpu: 0.75, maxcpu: 3, mem: 4 * GIB, maxmem: 6 * GIB };
    expect(candidates).toEqual([
      { migration: { sid: 'vm:101', sourceNode: 'node1', targetNode: 'node2' }, stats: bundle },
      { migration: { sid: 'vm:101', sourceNode: 'node1', targetNode: 'node3' }, stats: bundle },
      { migration: { sid: 'vm:103', sourceNode: 'node2', targetNode: 'node1' }, stats: small },
    ]);
  });

  it('fail with the reference texts on inconsistent bundles', () => {
    const usage = cluster();
    const fails = (leader: string, resources: string[], message: string) =>
      expect(() => usage.migrationCandidates([{ leader, resources, nodes: ['node3'] }])).toThrow(new Error(message));
    fails('vm:999', ['vm:999'], "leader 'vm:999' is not present in the cluster usage");
    fails('vm:104', ['vm:104'], "leader 'vm:104' is non-stationary");
    fails('vm:101', ['vm:102'], "leader 'vm:101' is not present in the resources list");
    fails('vm:101', ['vm:101', 'vm:998'], "resource 'vm:998' is not present in the cluster usage");
    fails('vm:101', ['vm:101', 'vm:103'], "resource 'vm:103' is on other node than leader");
    fails('vm:101', ['vm:101', 'vm:104'], "resource 'vm:104' is non-stationary");
  });
});
