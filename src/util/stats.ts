/**
 * Small statistics over independent seeds: mean and a 95% confidence interval from
 * Student's t distribution (the seeds are independent replications).
 */

import { mean as ssMean, sampleStandardDeviation } from 'simple-statistics';

/**
 * Two-sided 95% critical values of Student's t for df = 1..30 (any statistics table,
 * e.g. NIST/SEMATECH e-Handbook of Statistical Methods, table 1.3.6.7.2); beyond 30 the
 * normal value 1.96 is within 2%.
 */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12,
  2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Two-sided 95% t critical value for `df` degrees of freedom. Cost: O(1). */
export function t95(df: number): number {
  if (df < 1) return Number.NaN;
  return df <= 30 ? T95[df - 1] : 1.96;
}

/** Mean with its 95% interval over independent samples. */
export interface Estimate {
  readonly mean: number;
  /** Lower and upper bound of the 95% confidence interval (equal to the mean for one sample). */
  readonly lo: number;
  readonly hi: number;
  readonly n: number;
}

/**
 * Mean and 95% t interval of independent samples. One sample gives a zero-width interval
 * (no spread is known). Cost: O(n). Reference: any introductory text, e.g. Wasserman,
 * "All of Statistics", s6.3.
 */
export function estimate(samples: readonly number[]): Estimate {
  const n = samples.length;
  if (n === 0) return { mean: Number.NaN, lo: Number.NaN, hi: Number.NaN, n };
  const m = ssMean([...samples]);
  if (n === 1) return { mean: m, lo: m, hi: m, n };
  const half = (t95(n - 1) * sampleStandardDeviation([...samples])) / Math.sqrt(n);
  return { mean: m, lo: m - half, hi: m + half, n };
}
