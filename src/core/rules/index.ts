export * from './types.js';
export { parseNodePriority, isNodeListEntry } from './node-priority.js';
export { foreachRule, getNextOrdinal, findDisjointRulesResourceSets } from './rule-set.js';
export type { ForeachRuleOptions, DisjointRuleSet } from './rule-set.js';
export { checkFeasibility, transformRules, compileRules } from './transform.js';
export { getNodeAffinity } from './node-affinity.js';
export {
  getAffinitiveResources,
  getResourceAffinity,
  isAllowedOnNode,
  applyPositiveResourceAffinity,
  applyNegativeResourceAffinity,
} from './resource-affinity.js';
export { migrateGroupsToResources, migrateGroupsToRules } from './groups-migration.js';
