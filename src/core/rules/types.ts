// The rules and groups configs as the core reads them, and the compiled form
// the scheduler uses. Shapes follow the reference's parsed section configs
// (booleans as 0 | 1, sets as `Record<key, 1>`) so the JSON dumps the
// reference's tests compare stay identical.

import type { NodeName, Sid } from '../types.js';

export const RULE_TYPES = ['node-affinity', 'resource-affinity'] as const;
export type RuleType = (typeof RULE_TYPES)[number];

export const AFFINITIES = ['positive', 'negative'] as const;
export type Affinity = (typeof AFFINITIES)[number];

/** A set of resources, keyed by sid. */
export type SidSet = Record<Sid, 1>;

export interface NodePriority {
  priority: number;
}

interface RuleCommon {
  resources: SidSet;
  /**
   * Present at all means disabled, even when 0: the reference tests for the
   * key's existence, and a file may well say `disable 0`.
   */
  disable?: 0 | 1;
  comment?: string;
}

export interface NodeAffinityRule extends RuleCommon {
  type: 'node-affinity';
  nodes: Record<NodeName, NodePriority>;
  strict?: 0 | 1;
}

export interface ResourceAffinityRule extends RuleCommon {
  type: 'resource-affinity';
  affinity: Affinity;
}

export type Rule = NodeAffinityRule | ResourceAffinityRule;

export interface RulesConfig {
  ids: Record<string, Rule>;
  /**
   * Section position, 1-based. May hold ids missing from `ids`: a section
   * the parser had to drop still takes its slot, as in the reference.
   */
  order: Record<string, number>;
  /** SHA-1 hex of the raw file text; the manager recompiles when it changes. */
  digest: string;
}

/** One HA group (groups.cfg), the predecessor of node affinity rules. */
export interface Group {
  type: 'group';
  /** Entries as written: `node` or `node:priority`. */
  nodes: Record<string, 1>;
  restricted?: 0 | 1;
  nofailback?: 0 | 1;
  comment?: string;
}

export interface GroupsConfig {
  ids: Record<string, Group>;
  order: Record<string, number>;
  digest: string;
}

export interface CompiledNodeAffinity {
  nodes: Record<NodeName, NodePriority>;
}

export interface CompiledResourceAffinity {
  positive: Record<Sid, SidSet>;
  negative: Record<Sid, SidSet>;
}

export interface CompiledRules {
  'node-affinity': Record<Sid, CompiledNodeAffinity>;
  'resource-affinity': CompiledResourceAffinity;
}
