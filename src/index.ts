// ha-manager as a library: the pure HA core (CRM, LRM, manager, rules,
// scheduling) driven through an environment you bind, the deterministic
// simulator, the config and status formats, and the native layer.
//
// A daemon embedding the core creates one environment (HaEnv) and calls
// crmIteration / lrmIteration in its loop; the simulator does exactly that
// with simulated hardware.

export * from './core/types.js';
export type * from './env/env.js';
export { POLICIES, isPolicy } from './core/policy.js';
export type { Policy } from './core/policy.js';

export { createCrm, crmIteration, requestCrmShutdown } from './core/crm.js';
export type { Crm, CrmStatus } from './core/crm.js';
export { createLrm, lrmIteration, requestLrmShutdown, execResourceAgent } from './core/lrm.js';
export type { Lrm, LrmProcessState, CommandParams, WorkerOutcome } from './core/lrm.js';
export { selectServiceNode } from './core/placement/select-node.js';
export type { NodePreference } from './core/placement/select-node.js';
export {
  transformRules,
  compileRules,
  checkFeasibility,
  getNodeAffinity,
  getResourceAffinity,
  migrateGroupsToRules,
  migrateGroupsToResources,
} from './core/rules/index.js';
export type {
  Rule,
  RulesConfig,
  NodeAffinityRule,
  ResourceAffinityRule,
  CompiledRules,
  Group,
  GroupsConfig,
} from './core/rules/types.js';
export { typescriptScoringKernel } from './core/scheduling/kernel.js';
export type {
  ScoringKernel,
  NodeUsage,
  Migration,
  MigrationCandidate,
  ScoredMigration,
} from './core/scheduling/kernel.js';
export type { NodeStats, ResourceStats } from './core/scheduling/stats.js';

export { runSimulation } from './env/sim/runner.js';
export type { SimulationOptions } from './env/sim/runner.js';
export type { SimScenario, SimNodeHardware } from './env/sim/scenario-input.js';
export { loadScenario, simulateDir, testDir } from './cli/simulator.js';
export type { TestOutcome } from './cli/simulator.js';

export { ConfigError, formatIssue } from './config/issues.js';
export type { ConfigIssue } from './config/issues.js';
export { parseRulesConfig, writeRulesConfig, setRuleDefaults } from './config/rules-config.js';
export { parseGroupsConfig, writeGroupsConfig } from './config/groups-config.js';
export { parseResourcesConfig, writeResourcesConfig, resourcesToServiceConfig } from './config/resources-config.js';
export type { ResourcesConfig, ResourceEntry } from './config/resources-config.js';
export { parseDatacenterConfig, writeDatacenterConfig } from './config/datacenter-config.js';
export type { DatacenterConfig } from './config/datacenter-config.js';
export { parseManagerStatus, writeManagerStatus } from './config/manager-status.js';
export { parseLrmStatus, writeLrmStatus } from './config/lrm-status.js';
export { parseCrmCommand, formatCrmCommand, writeCrmCommands } from './config/crm-commands.js';
export type { CrmCommand } from './config/crm-commands.js';
export { parseFenceConfig, writeFenceConfig, getFenceCommands } from './config/fence-config.js';
export type { FenceConfig } from './config/fence-config.js';
export { readScenario, parseScenario } from './config/scenario.js';
export type { Scenario } from './config/scenario.js';

export {
  loadNative,
  createWorkerPool,
  connectWatchdogMux,
  nativeScoringKernel,
  leaseAcquire,
  leaseRenew,
  leaseExpiresIn,
  safeToFeed,
} from './native/index.js';
export type { NativeLoadResult, WorkerPool, CommandRequest, CommandResult, WatchdogMuxConnection } from './native/index.js';
