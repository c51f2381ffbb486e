// rules.cfg (the simulator's rules_config): node affinity and resource
// affinity rules as sections, e.g.
//
//   node-affinity: prefer-node1
//   	resources vm:101,vm:102
//   	nodes node1:2,node2
//   	strict 1

import { isNodeListEntry, parseNodePriority } from '../core/rules/node-priority.js';
import type { NodePriority, Rule, RulesConfig, SidSet } from '../core/rules/types.js';
import { AFFINITIES } from '../core/rules/types.js';
import { settleIssues, type ConfigIssue } from './issues.js';
import { decodeText, encodeText } from './pve-text.js';
import {
  idsInOrder,
  parseSectionConfig,
  writeSectionConfig,
  type ParsedSection,
  type PropertySchema,
  type SectionConfigSchema,
  type SectionToWrite,
} from './section-config.js';

const RESOURCE_ID_RE = /^[a-z]+:\S+$/;

export function checkResourceId(sid: string): string | undefined {
  if (RESOURCE_ID_RE.test(sid)) return undefined;
  return `'${sid}' is not a valid resource id (expected <type>:<name>, e.g. vm:100)`;
}

export function checkNodeListEntry(entry: string): string | undefined {
  if (!isNodeListEntry(entry)) return `'${entry}' is not a valid node entry (expected <node>[:<priority>], e.g. node1:2)`;
  // A priority past 2^53 would not keep its digits once read.
  const priority = entry.includes(':') ? BigInt(entry.slice(entry.indexOf(':') + 1)) : 0n;
  if (priority > BigInt(Number.MAX_SAFE_INTEGER)) {
    return `'${entry}' has a priority above the maximum of ${Number.MAX_SAFE_INTEGER}`;
  }
  return undefined;
}

const resources: PropertySchema = { kind: 'list', checkItem: checkResourceId };
const disable: PropertySchema = { kind: 'boolean', optional: true };
/** Rule comments are stored percent-encoded; their length is that of the text, not of its encoding. */
const COMMENT_MAX_LENGTH = 4096;
const comment: PropertySchema = {
  kind: 'string',
  optional: true,
  check: (raw) => {
    const length = [...decodeText(raw)].length;
    return length > COMMENT_MAX_LENGTH ? `value is ${length} characters long (at most ${COMMENT_MAX_LENGTH} allowed)` : undefined;
  },
};

export const RULES_SCHEMA: SectionConfigSchema = {
  types: {
    'node-affinity': {
      properties: {
        resources,
        nodes: { kind: 'list', checkItem: checkNodeListEntry },
        strict: { kind: 'boolean', optional: true },
        disable,
        comment,
      },
    },
    'resource-affinity': {
      properties: {
        resources,
        affinity: { kind: 'enum', values: AFFINITIES },
        disable,
        comment,
      },
    },
  },
};

function decodeResources(items: readonly string[]): SidSet {
  const set: SidSet = {};
  for (const sid of items) {
    if (RESOURCE_ID_RE.test(sid)) set[sid] = 1;
  }
  return set;
}

function decodeNodes(items: readonly string[]): Record<string, NodePriority> {
  const nodes: Record<string, NodePriority> = {};
  for (const entry of items) {
    const parsed = parseNodePriority(entry);
    if (parsed) nodes[parsed.node] = { priority: parsed.priority };
  }
  return nodes;
}

function toRule(section: ParsedSection): Rule {
  const v = section.values;
  const common = {
    resources: decodeResources(v.resources as string[]),
    ...(v.disable !== undefined ? { disable: v.disable as 0 | 1 } : {}),
    ...(v.comment !== undefined ? { comment: decodeText(v.comment as string) } : {}),
  };
  if (section.type === 'node-affinity') {
    return {
      type: 'node-affinity',
      ...common,
      nodes: decodeNodes(v.nodes as string[]),
      ...(v.strict !== undefined ? { strict: v.strict as 0 | 1 } : {}),
    };
  }
  return { type: 'resource-affinity', ...common, affinity: v.affinity as 'positive' | 'negative' };
}

/**
 * Parses rules.cfg. With `issues`, problems are reported there and the usable
 * rest returned; without, any problem throws a ConfigError.
 */
export function parseRulesConfig(text: string, file = 'rules.cfg', issues?: ConfigIssue[]): RulesConfig {
  const found: ConfigIssue[] = [];
  const data = parseSectionConfig(RULES_SCHEMA, text, file, found);
  settleIssues(found, issues);
  const ids: Record<string, Rule> = {};
  for (const [id, section] of Object.entries(data.sections)) ids[id] = toRule(section);
  return { ids, order: data.order, digest: data.digest };
}

/**
 * Fills in optional properties that have a default. Like the reference, a
 * default that is false (strict's 0) is not filled in, so today this leaves
 * every rule as it is; it is kept so the rules read the same way if a truthy
 * default is ever added.
 */
export function setRuleDefaults(rule: Rule): void {
  const defaults: Partial<Record<string, number>> = rule.type === 'node-affinity' ? { strict: 0 } : {};
  const target = rule as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(defaults)) {
    if (target[key] !== undefined || !value) continue;
    target[key] = value;
  }
}

function encodeNodes(nodes: Readonly<Record<string, NodePriority>>): string[] {
  return Object.keys(nodes)
    .sort()
    .map((node) => (nodes[node].priority ? `${node}:${nodes[node].priority}` : node));
}

function toSection(id: string, rule: Rule): SectionToWrite {
  const common = {
    resources: Object.keys(rule.resources).sort(),
    disable: rule.disable,
    comment: rule.comment === undefined ? undefined : encodeText(rule.comment),
  };
  switch (rule.type) {
    case 'node-affinity':
      return { type: rule.type, id, values: { ...common, nodes: encodeNodes(rule.nodes), strict: rule.strict } };
    case 'resource-affinity':
      return { type: rule.type, id, values: { ...common, affinity: rule.affinity } };
    default: {
      const unreachable: never = rule;
      throw new Error(`unknown rule type in ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Writes rules.cfg: sections by ordinal, resources sorted, `node:priority`
 * only for non-zero priorities. A `disable` of 0 is not written (the
 * reference writes `disable` only when set), so such a rule comes back
 * enabled.
 */
export function writeRulesConfig(rules: Pick<RulesConfig, 'ids' | 'order'>): string {
  const ids = idsInOrder(Object.keys(rules.ids), rules.order);
  return writeSectionConfig(
    RULES_SCHEMA,
    ids.map((id) => toSection(id, rules.ids[id])),
  );
}
