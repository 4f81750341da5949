/**
 * Per-run statistics of a run sequence (real per-run fixtures, or generated runs): the
 * share of runs touching FP, run-length quantiles and the autocorrelation of FP use, and
 * their spread over blocks of consecutive runs (what a tolerance is set from). Fixtures are
 * read by validation/lib/run-records.ts.
 */
import { exitClassName } from '../../src/arch/esr.js';
import { FP_EL0, FP_EL1, CLASSES_PER_VCPU } from '../../src/machine/run-class.js';
import type { ExitStream } from '../../src/stream/exit-stream.js';
import { type RunMeta, readRunRecords } from '../../validation/lib/run-records.js';

export interface Runs {
  readonly ns: Float64Array;
  /** 1 when the run executed FP/SIMD at guest EL0 or EL1. */
  readonly fp: Uint8Array;
  /** 1 when it executed FP/SIMD at guest EL0, at guest EL1. */
  readonly el0: Uint8Array;
  readonly el1: Uint8Array;
  readonly exit: readonly string[];
}

interface RunStats {
  readonly fpShare: number;
  /** Run length (ns) at 10, 50, 90, 99%. */
  readonly quantiles: readonly number[];
  /** Autocorrelation of FP use at lags 1..10. */
  readonly acf: readonly number[];
}

export const QUANTILES = [0.1, 0.5, 0.9, 0.99] as const;
export const LAGS = 10;

export function runStats(r: Runs, from = 0, to = r.ns.length): RunStats {
  const n = to - from;
  let s = 0;
  for (let i = from; i < to; i++) s += r.fp[i];
  const m = s / n;
  const sorted = Array.from(r.ns.subarray(from, to)).sort((a, b) => a - b);
  const quantiles = QUANTILES.map((q) => sorted[Math.min(n - 1, Math.floor(q * n))]);
  let v = 0;
  for (let i = from; i < to; i++) v += (r.fp[i] - m) ** 2;
  const acf: number[] = [];
  for (let k = 1; k <= LAGS; k++) {
    let c = 0;
    for (let i = from; i + k < to; i++) c += (r.fp[i] - m) * (r.fp[i + k] - m);
    acf.push(v > 0 ? c / v : 0);
  }
  return { fpShare: m, quantiles, acf };
}

/** Standard errors of every statistic from its spread over `blocks` blocks of consecutive runs. */
export function blockErrors(r: Runs, blocks = 10): RunStats {
  const n = r.ns.length;
  const per = Math.floor(n / blocks);
  const each = Array.from({ length: blocks }, (_, b) => runStats(r, b * per, (b + 1) * per));
  const se = (xs: number[]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    return sd / Math.sqrt(xs.length);
  };
  return {
    fpShare: se(each.map((e) => e.fpShare)),
    quantiles: QUANTILES.map((_, i) => se(each.map((e) => e.quantiles[i]))),
    acf: Array.from({ length: LAGS }, (_, k) => se(each.map((e) => e.acf[k]))),
  };
}

/** The first `runs` runs of a generated stream (one vCPU's view: every run). */
export function streamRuns(stream: ExitStream): Runs {
  const ns = new Float64Array(stream.runs);
  const fp = new Uint8Array(stream.runs);
  const el0 = new Uint8Array(stream.runs);
  const el1 = new Uint8Array(stream.runs);
  const exit: string[] = [];
  let i = 0;
  for (const c of stream.chunks()) {
    for (let j = 0; j < c.length; j++, i++) {
      ns[i] = c.ns[j];
      const bits = Math.floor((c.cls[j] % CLASSES_PER_VCPU) / 12);
      fp[i] = (bits & (FP_EL0 | FP_EL1)) !== 0 ? 1 : 0;
      el0[i] = (bits & FP_EL0) !== 0 ? 1 : 0;
      el1[i] = (bits & FP_EL1) !== 0 ? 1 : 0;
      exit.push(exitClassName(Math.floor(c.exitKey[j] / 3)));
    }
  }
  return { ns, fp, el0, el1, exit };
}

/** Reads a `# fpswitch-runs v1` fixture through the one reader of the format
 * (validation/lib/run-records.ts) into the columns the statistics use. */
export function readRunsFixture(path: string): { meta: RunMeta; runs: Runs } {
  const { meta, runs } = readRunRecords(path);
  const ns = Float64Array.from(runs, (r) => r.ns);
  const el0 = Uint8Array.from(runs, (r) => r.fpEl0);
  const el1 = Uint8Array.from(runs, (r) => r.fpEl1);
  const fp = Uint8Array.from(runs, (r) => r.fpEl0 | r.fpEl1);
  return { meta, runs: { ns, fp, el0, el1, exit: runs.map((r) => r.exit) } };
}
