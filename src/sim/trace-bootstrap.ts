/**
 * How far a policy's figures over an imported trace can be trusted: a moving-block
 * bootstrap over the trace's runs (Kunsch, Annals of Statistics 17, 1989). Blocks of
 * consecutive runs keep the short-range order a lazy switch depends on (an FP trap, then
 * the runs that follow it); the resampled stream is simulated like the original, and the
 * 2.5th and 97.5th percentiles of the resampled figures bound them. Seeded: the same seed
 * gives the same interval.
 */

import type { Policy } from '../policy/types.js';
import { arrayStream, type ExitStream, streamColumns } from '../stream/exit-stream.js';
import { Prng } from '../stream/prng.js';
import { type SimOptions, simulate } from './simulate.js';

/** Below this many runs the figures rest on too little to generalise (a warning is printed). */
export const FEW_RUNS = 1000;

export interface TraceInterval {
  readonly runs: number;
  readonly blockRuns: number;
  readonly resamples: number;
  readonly skipRate: readonly [number, number];
  readonly cyclesPerExit: readonly [number, number];
}

/** Runs simulated across all resamples at most (keeps a long trace's bootstrap bounded). */
const BUDGET_RUNS = 20_000_000;

function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/**
 * The bootstrap interval of `policy`'s skip rate and cycles per exit over `stream`, or
 * null when the trace is too long to resample at least 50 times within the budget.
 * Cost: resamples x runs simulated (at most 20 M runs).
 */
export function traceInterval(
  policy: Policy,
  stream: ExitStream,
  opts: SimOptions,
  seed: number,
): TraceInterval | null {
  const n = stream.runs;
  const resamples = Math.min(200, Math.floor(BUDGET_RUNS / Math.max(1, n)));
  if (n < 2 || resamples < 50) return null;
  const { cls, exitKey, ns } = streamColumns(stream);
  // Block length n^(1/3), the usual order for variance estimates (Hall, Horowitz and Jing 1995).
  const block = Math.max(1, Math.round(Math.cbrt(n)));
  const rng = new Prng(seed);
  const skip: number[] = [];
  const cycles: number[] = [];
  const out = { cls: new Uint16Array(n), exitKey: new Uint8Array(n), ns: new Float64Array(n) };
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i += block) {
      const start = rng.int(n - Math.min(block, n) + 1);
      const len = Math.min(block, n - i);
      out.cls.set(cls.subarray(start, start + len), i);
      out.exitKey.set(exitKey.subarray(start, start + len), i);
      out.ns.set(ns.subarray(start, start + len), i);
    }
    const res = simulate(policy, arrayStream(stream.name, stream.vcpus, out), opts);
    skip.push(res.skipRate);
    cycles.push(res.cycles.perExit);
  }
  return {
    runs: n,
    blockRuns: block,
    resamples,
    skipRate: [percentile(skip, 0.025), percentile(skip, 0.975)],
    cyclesPerExit: [percentile(cycles, 0.025), percentile(cycles, 0.975)],
  };
}
