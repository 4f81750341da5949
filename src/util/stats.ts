/**
 * Small statistics over independent seeds: mean and a 95% confidence interval from
 * Student's t distribution (the seeds are independent replications).
 */

import { mean as ssMean, sampleStandardDeviation } from 'simple-statistics';

/**
 * Two-sided 95% critical values of Student's t for df = 1..30, then 40, 60 and 120 (any
 * statistics table, e.g. NIST/SEMATECH e-Handbook of Statistical Methods, table
 * 1.3.6.7.2). Between tabulated values the one at the next lower df is used (wider, so
 * the interval errs on the safe side); from 120 on, 1.980 (the normal 1.96 is 1% below).
 */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

const T95_LARGE: readonly (readonly [number, number])[] = [
  [120, 1.98],
  [60, 2.0],
  [40, 2.021],
  [30, 2.042],
];

/** Two-sided 95% t critical value for `df` degrees of freedom. Cost: O(1). */
export function t95(df: number): number {
  if (!(df >= 1)) return Number.NaN;
  const d = Math.floor(df);
  if (d <= 30) return T95[d - 1];
  for (const [at, t] of T95_LARGE) if (d >= at) return t;
  return T95[29];
}

/** Bounds of a share (a skip rate, a fraction of runs): an interval never leaves [0, 1]. */
export const SHARE: readonly [number, number] = [0, 1];
/** Bounds of a count or a cost per exit. */
export const NON_NEGATIVE: readonly [number, number] = [0, Number.POSITIVE_INFINITY];

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
 * (no spread is known). `bounds`, when given, clips the interval to what the quantity can
 * be (a share cannot pass 1: the t interval of 0.99, 1.0, 1.0 would). Cost: O(n).
 * Reference: any introductory text, e.g. Wasserman, "All of Statistics", s6.3.
 */
export function estimate(samples: readonly number[], bounds?: readonly [number, number]): Estimate {
  const n = samples.length;
  if (n === 0) return { mean: Number.NaN, lo: Number.NaN, hi: Number.NaN, n };
  const m = ssMean([...samples]);
  if (n === 1) return { mean: m, lo: m, hi: m, n };
  const half = (t95(n - 1) * sampleStandardDeviation([...samples])) / Math.sqrt(n);
  const lo = bounds ? Math.max(bounds[0], m - half) : m - half;
  const hi = bounds ? Math.min(bounds[1], m + half) : m + half;
  return { mean: m, lo, hi, n };
}
