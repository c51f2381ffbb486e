import { describe, expect, it } from 'vitest';

import {
  applyNegativeResourceAffinity,
  applyPositiveResourceAffinity,
  getAffinitiveResources,
  getNodeAffinity,
  getResourceAffinity,
  isAllowedOnNode,
  type CompiledResourceAffinity,
  type CompiledNodeAffinity,
} from '../../src/core/rules/index.js';
import type { ServiceStatusEntry } from '../../src/core/types.js';

const online = new Set(['node1', 'node2', 'node3']);

describe('getNodeAffinity', () => {
  const nodeAffinity: Record<string, CompiledNodeAffinity> = {
    'vm:1': { nodes: { node1: { priority: 2 }, node2: { priority: 2 }, node3: { priority: 1 }, node4: { priority: 5 } } },
    'vm:2': { nodes: { node1: { priority: 0 }, node2: { priority: -1 }, node3: { priority: -1 } } },
    'vm:3': { nodes: { node4: { priority: 1 } } },
  };

  it('allows the online listed nodes and prefers the highest online priority class', () => {
    expect(getNodeAffinity(nodeAffinity, 'vm:1', online)).toEqual({
      allowed: new Set(['node1', 'node2', 'node3']),
      preferred: new Set(['node1', 'node2']),
    });
  });

  it('falls back to a lower class when the higher ones are offline', () => {
    expect(getNodeAffinity(nodeAffinity, 'vm:2', new Set(['node2', 'node3'])).preferred).toEqual(new Set(['node2', 'node3']));
    expect(getNodeAffinity(nodeAffinity, 'vm:2', online).preferred).toEqual(new Set(['node1']));
  });

  it('has nothing to offer when no listed node is online', () => {
    expect(getNodeAffinity(nodeAffinity, 'vm:3', online)).toEqual({ allowed: new Set(), preferred: new Set() });
  });

  it('allows every online node, in separate sets, for a resource without a rule', () => {
    const { allowed, preferred } = getNodeAffinity(nodeAffinity, 'vm:9', online);
    expect(allowed).toEqual(online);
    expect(preferred).toEqual(online);
    allowed.delete('node1');
    expect(preferred.has('node1')).toBe(true);
    expect(online.has('node1')).toBe(true);
  });
});

describe('resource affinity helpers', () => {
  const affinity: CompiledResourceAffinity = {
    positive: { 'vm:1': { 'vm:2': 1, 'vm:3': 1, 'vm:4': 1 } },
    negative: { 'vm:1': { 'vm:5': 1, 'vm:6': 1, 'vm:7': 1 } },
  };

  it('lists the affine resources', () => {
    expect(getAffinitiveResources(affinity, 'vm:1')).toEqual({
      together: new Set(['vm:2', 'vm:3', 'vm:4']),
      separate: new Set(['vm:5', 'vm:6', 'vm:7']),
    });
    expect(getAffinitiveResources(affinity, 'vm:9')).toEqual({ together: new Set(), separate: new Set() });
  });

  it('counts where resources to join are, a moving one only at its target', () => {
    const ss: Record<string, ServiceStatusEntry> = {
      'vm:2': { state: 'started', node: 'node2' },
      'vm:3': { state: 'migrate', node: 'node2', target: 'node3' },
      'vm:4': { state: 'stopped', node: 'node1' },
      'vm:5': { state: 'relocate', node: 'node1', target: 'node2' },
      'vm:6': { state: 'started', node: 'node4' },
    };
    const { together, separate } = getResourceAffinity(affinity, 'vm:1', ss, online);
    expect(together).toEqual(new Map([['node2', 1], ['node3', 1]]));
    expect(separate).toEqual(new Set(['node1', 'node2']));
  });

  it('allows a node holding resources to join even if one to avoid is there too', () => {
    const together = new Map([['node1', 1]]);
    const separate = new Set(['node1', 'node2']);
    expect(isAllowedOnNode(together, separate, 'node1')).toBe(true);
    expect(isAllowedOnNode(together, separate, 'node2')).toBe(false);
    expect(isAllowedOnNode(together, separate, 'node3')).toBe(true);
  });

  it('narrows to the allowed node holding most resources to join', () => {
    const together = new Map([['node1', 1], ['node2', 3], ['node4', 5]]);
    const allowed = new Set(['node1', 'node2', 'node3']);
    applyPositiveResourceAffinity(together, allowed);
    expect(allowed).toEqual(new Set(['node2']));
    expect(together.has('node4')).toBe(false);
  });

  it('breaks ties by node name', () => {
    const allowed = new Set(['node1', 'node2', 'node3']);
    applyPositiveResourceAffinity(new Map([['node3', 2], ['node2', 2], ['node1', 1]]), allowed);
    expect(allowed).toEqual(new Set(['node2']));
  });

  it('leaves the allowed nodes alone when no resource to join is on one of them', () => {
    const allowed = new Set(['node1', 'node2']);
    applyPositiveResourceAffinity(new Map([['node3', 4]]), allowed);
    expect(allowed).toEqual(new Set(['node1', 'node2']));
  });

  it('excludes nodes holding resources to avoid', () => {
    const allowed = new Set(['node1', 'node2', 'node3']);
    applyNegativeResourceAffinity(new Set(['node1', 'node3', 'node9']), allowed);
    expect(allowed).toEqual(new Set(['node2']));
  });
});
