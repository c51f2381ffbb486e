// Property: whatever the cluster, the service states and the rules, node
// selection never picks an offline node, a node outside a strict node
// affinity rule, or a node where a service in negative affinity runs or is
// heading. Seeded; a failure names its seed (PLACEMENT_SEED=<n> replays it).

import { describe, expect, it } from 'vitest';

import type { HaEnv } from '../../src/env/env.js';
import { selectServiceNode, type NodePreference } from '../../src/core/placement/select-node.js';
import { createBasicUsage, type OnlineNodeUsage } from '../../src/core/placement/usage.js';
import { createStaticUsage } from '../../src/core/placement/usage-scheduled.js';
import { usedServiceNodes } from '../../src/core/placement/used-nodes.js';
import { compileRules, transformRules } from '../../src/core/rules/index.js';
import type { Rule, RulesConfig } from '../../src/core/rules/types.js';
import { typescriptScoringKernel } from '../../src/core/scheduling/kernel.js';
import { SERVICE_STATES, type ServiceStatusEntry } from '../../src/core/types.js';
import type { Random } from '../scheduling/random-cluster.js';
import { mulberry32 } from '../seeded-random.mjs';

const SEEDS = process.env.PLACEMENT_SEED !== undefined ? [Number(process.env.PLACEMENT_SEED)] : range(1, 400);
const PREFERENCES: NodePreference[] = ['none', 'best-score', 'try-next'];
const GIB = 2 ** 30;

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function subset<T>(random: Random, items: readonly T[], atLeast: number): T[] {
  const chosen = items.filter(() => random() < 0.5);
  while (chosen.length < atLeast) {
    const item = pick(random, items);
    if (!chosen.includes(item)) chosen.push(item);
  }
  return chosen;
}

/** A log-collecting stand-in: the usage code only logs through the env. */
function quietEnv(): HaEnv {
  return { log: () => undefined, scoringKernel: typescriptScoringKernel } as unknown as HaEnv;
}

interface Cluster {
  nodes: string[];
  online: string[];
  ss: Record<string, ServiceStatusEntry>;
  rules: RulesConfig;
  usage: OnlineNodeUsage;
}

function randomCluster(random: Random): Cluster {
  const nodes = range(1, 3 + Math.floor(random() * 5)).map((i) => `node${i}`);
  const online = subset(random, nodes, 1);
  const sids = range(1, 2 + Math.floor(random() * 12)).map((i) => `vm:${100 + i}`);

  const ss: Record<string, ServiceStatusEntry> = {};
  for (const sid of sids) {
    const state = pick(random, SERVICE_STATES);
    const node = pick(random, nodes);
    const sd: ServiceStatusEntry = { state, node, uid: sid };
    if (state === 'migrate' || state === 'relocate' || state === 'request_start_balance') {
      sd.target = pick(random, nodes.filter((n) => n !== node));
    }
    if (random() < 0.2) sd.failed_nodes = subset(random, nodes, 0);
    if (random() < 0.1) sd.maintenance_node = pick(random, nodes);
    ss[sid] = sd;
  }

  const ids: Record<string, Rule> = {};
  const order: Record<string, number> = {};
  const unassigned = [...sids];
  let n = 0;
  while (unassigned.length > 0 && random() < 0.6) {
    const members = subset(random, unassigned, 1);
    for (const sid of members) unassigned.splice(unassigned.indexOf(sid), 1);
    const ruleNodes = Object.fromEntries(subset(random, nodes, 1).map((node) => [node, { priority: Math.floor(random() * 3) }]));
    ids[`na${++n}`] = {
      type: 'node-affinity',
      resources: Object.fromEntries(members.map((sid) => [sid, 1 as const])),
      nodes: ruleNodes,
      ...(random() < 0.6 ? { strict: 1 as const } : {}),
    };
    order[`na${n}`] = n;
  }
  while (random() < 0.6) {
    const members = subset(random, sids, 2);
    ids[`ra${++n}`] = {
      type: 'resource-affinity',
      affinity: 'negative',
      resources: Object.fromEntries(members.map((sid) => [sid, 1 as const])),
    };
    order[`ra${n}`] = n;
  }
  const rules: RulesConfig = { ids, order, digest: '' };

  let usage: OnlineNodeUsage;
  if (random() < 0.5) {
    usage = createBasicUsage(online);
  } else {
    const nodeStats = Object.fromEntries(nodes.map((node) => [node, { maxcpu: 8 + Math.floor(random() * 56), maxmem: (16 + Math.floor(random() * 240)) * GIB }]));
    const serviceStats = Object.fromEntries(
      sids.map((sid) => [sid, { node: ss[sid].node, state: 'started', running: true, usage: { maxcpu: 1 + Math.floor(random() * 8), maxmem: (1 + Math.floor(random() * 16)) * GIB } }]),
    );
    usage = createStaticUsage(quietEnv(), serviceStats, nodeStats, online);
  }
  for (const sid of sids) usage.addServiceUsage(sid, ss[sid]);
  return { nodes, online, ss, rules, usage };
}

describe('node selection', () => {
  it.each(SEEDS)('respects online nodes, strict node affinity and negative resource affinity (seed %i)', (seed) => {
    const random = mulberry32(seed);
    const { nodes, online, ss, rules, usage } = randomCluster(random);
    transformRules(rules, nodes);
    const compiled = compileRules(rules, nodes);
    const onlineSet = new Set(online);
    const strictlyAllowed = (sid: string): Set<string> | undefined => {
      const entry = compiled['node-affinity'][sid];
      if (entry === undefined) return undefined;
      const listed = Object.keys(entry.nodes);
      // non-strict rules extend to every node at priority -1
      return listed.length === nodes.length && Object.values(entry.nodes).some((p) => p.priority === -1)
        ? undefined
        : new Set(listed);
    };

    for (const sid of Object.keys(ss).sort()) {
      for (const preference of PREFERENCES) {
        const failback = random() < 0.5;
        const node = selectServiceNode(compiled, usage, sid, { failback }, ss, preference);
        if (node === undefined) continue;
        const where = `seed ${seed}: ${sid} (${preference}, failback ${failback}) -> ${node}`;
        expect(onlineSet.has(node), `${where}: offline node`).toBe(true);
        const allowed = strictlyAllowed(sid);
        if (allowed !== undefined) expect(allowed.has(node), `${where}: outside its strict node affinity`).toBe(true);
        for (const partner of Object.keys(compiled['resource-affinity'].negative[sid] ?? {})) {
          const psd = ss[partner];
          if (psd === undefined) continue;
          const { current, target } = usedServiceNodes(onlineSet, psd);
          expect(node !== current && node !== target, `${where}: next to ${partner} (negative affinity)`).toBe(true);
        }
      }
    }
  });
});
