// Usage statistics of nodes and resources, and how a resource's usage changes
// a node's. The integer fields (byte counts, core counts) are plain numbers
// holding non-negative safe integers: within that range every sum and
// difference below is exact, as with the reference's unsigned integers, and
// the Rust kernel (crates/ha-scheduling) does the same f64 operations so both
// give identical bits even past that range.

export interface NodeStats {
  /** CPU utilisation in cores. */
  readonly cpu: number;
  /** Number of CPU cores (integer). */
  readonly maxcpu: number;
  /** Used memory in bytes (integer). */
  readonly mem: number;
  /** Total memory in bytes (integer). */
  readonly maxmem: number;
}

export interface ResourceStats {
  /** CPU utilisation in cores. */
  readonly cpu: number;
  /** Assigned cores or CPU limit; 0 means unlimited. */
  readonly maxcpu: number;
  /** Used memory in bytes (integer). */
  readonly mem: number;
  /** Assigned memory in bytes (integer). */
  readonly maxmem: number;
}

/** The cores a started resource counts for on a node of `maxcpu` cores. */
export function startedCpu(maxcpu: number, resource: ResourceStats): number {
  // A resource without a CPU limit may take every core of the node.
  return resource.maxcpu === 0 ? maxcpu : resource.maxcpu;
}

/** The node's stats as if the resource had started there, using its limits. */
export function addStartedResource(node: NodeStats, resource: ResourceStats): NodeStats {
  return {
    cpu: node.cpu + startedCpu(node.maxcpu, resource),
    maxcpu: node.maxcpu,
    mem: node.mem + resource.maxmem,
    maxmem: node.maxmem,
  };
}

/** The node's stats as if the resource were running there, using its current usage. */
export function addRunningResource(node: NodeStats, resource: ResourceStats): NodeStats {
  return { cpu: node.cpu + resource.cpu, maxcpu: node.maxcpu, mem: node.mem + resource.mem, maxmem: node.maxmem };
}

/** The node's stats without a running resource; usage never drops below zero. */
export function removeRunningResource(node: NodeStats, resource: ResourceStats): NodeStats {
  return {
    cpu: clampAtZero(node.cpu - resource.cpu),
    maxcpu: node.maxcpu,
    mem: clampAtZero(node.mem - resource.mem),
    maxmem: node.maxmem,
  };
}

/**
 * max(0, x) where NaN gives 0, as Rust's f64::max does. Written as a
 * comparison so that both kernels also agree on the sign of a zero.
 */
export function clampAtZero(x: number): number {
  return x > 0 ? x : 0;
}

export function cpuLoad(stats: NodeStats): number {
  return stats.cpu / stats.maxcpu;
}

export function memLoad(stats: NodeStats): number {
  return stats.mem / stats.maxmem;
}

/** CPU and memory load averaged, as a fraction of the node's capacity. */
export function nodeLoad(stats: NodeStats): number {
  return (cpuLoad(stats) + memLoad(stats)) / 2;
}

/** Field-wise sum, folded left from zero in the order given. */
export function sumResourceStats(all: Iterable<ResourceStats>): ResourceStats {
  let cpu = 0;
  let maxcpu = 0;
  let mem = 0;
  let maxmem = 0;
  for (const stats of all) {
    cpu += stats.cpu;
    maxcpu += stats.maxcpu;
    mem += stats.mem;
    maxmem += stats.maxmem;
  }
  return { cpu, maxcpu, mem, maxmem };
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function checkCount(owner: string, field: string, value: number): void {
  if (!isCount(value)) {
    throw new Error(`${owner}: ${field} must be a non-negative integer, got ${String(value)}`);
  }
}

/**
 * Rejects stats whose integer fields are not non-negative safe integers, the
 * values the reference's unsigned fields can hold. Float fields are left as
 * they are: non-finite values surface as the reference's own errors.
 */
export function checkNodeStats(name: string, stats: NodeStats): void {
  if (isCount(stats.maxcpu) && isCount(stats.mem) && isCount(stats.maxmem)) return;
  const owner = `node '${name}'`;
  checkCount(owner, 'maxcpu', stats.maxcpu);
  checkCount(owner, 'mem', stats.mem);
  checkCount(owner, 'maxmem', stats.maxmem);
}

/** As checkNodeStats; `owner` names the resource in the error, made only on failure. */
export function checkResourceStats(stats: ResourceStats, owner: () => string): void {
  if (isCount(stats.mem) && isCount(stats.maxmem)) return;
  checkCount(owner(), 'mem', stats.mem);
  checkCount(owner(), 'maxmem', stats.maxmem);
}
