/** Figures of one simulation over independent seeds, each as a mean with its 95% interval. */

import { type Estimate, estimate, NON_NEGATIVE, SHARE } from '../util/stats.js';
import type { SimResult } from './simulate.js';

interface SeedEstimates {
  readonly cyclesPerExit: Estimate;
  readonly skipRate: Estimate;
  readonly fpTrapsPerExit: Estimate;
}

/**
 * Cycles per exit, skip rate and FP traps per exit over the results of independent seeds
 * (one result per seed, same policy, CPU and workload). Cost: O(seeds).
 */
export function seedEstimates(results: readonly SimResult[]): SeedEstimates {
  return {
    cyclesPerExit: estimate(
      results.map((r) => r.cycles.perExit),
      NON_NEGATIVE,
    ),
    skipRate: estimate(
      results.map((r) => r.skipRate),
      SHARE,
    ),
    fpTrapsPerExit: estimate(
      results.map((r) => r.counters.fpTraps / Math.max(1, r.runs)),
      NON_NEGATIVE,
    ),
  };
}
