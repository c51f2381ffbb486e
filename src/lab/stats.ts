// Percentiles of the lab's samples (downtimes, failovers), nearest rank: a
// reported p99 is a time that really occurred, never an interpolation.

export interface Distribution {
  count: number;
  p50: number | undefined;
  p99: number | undefined;
  max: number | undefined;
}

/** The smallest sample with at least `q` of all samples at or below it. */
export function percentile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function distribution(samples: readonly number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] };
}
