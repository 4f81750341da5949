/**
 * Cost uncertainty: every priced parameter of a CPU profile with a range from its basis and
 * confidence, seeded draws over those ranges, and the linear form that prices a walk's
 * primitive counts under any draw. A walk's counts do not depend on prices, so one walk per
 * design serves every draw: a few thousand draws cost a few thousand dot products.
 *
 * Ranges (relative half-widths, docs/cost-model.md "Uncertainty"): fitted base costs by the
 * largest held-out error of the profile's fit group (at least 10%); published or measured
 * numbers by confidence (high 5%, medium 15%, low 25%); estimates 50%. Draws are uniform.
 */

import { type FpStateSize, FPSIMD_BYTES, fpStateBytes } from '../cpu/fp-state.js';
import {
  basisOf,
  EXIT_KINDS,
  exitKind,
  type CpuProfile,
  type Handled,
  type Sourced,
} from '../cpu/profile.js';
import { METRIC } from '../machine/cost-machine.js';
import type { WalkOutcome } from '../sim/simulate.js';
import { deriveSeed, Prng } from '../stream/prng.js';

/** One priced parameter: its nominal value and the range draws come from. */
export interface CostParam {
  readonly id: string;
  readonly nominal: number;
  readonly lo: number;
  readonly hi: number;
  /** Why the range is as wide as it is. */
  readonly why: string;
}

const CONFIDENCE_WIDTH = { high: 0.05, medium: 0.15, low: 0.25 } as const;

/** Largest |held-out error| of a profile's fit group (0 when nothing could be held out). */
function heldOutSpread(cpu: CpuProfile): number {
  let worst = 0;
  for (const a of cpu.costModel.anchors)
    if ('predicted' in a.heldOut) worst = Math.max(worst, Math.abs(a.heldOut.error));
  return worst;
}

/** Relative half-width of a sourced number's range, and the reason. */
function rangeWidth(s: Sourced, cpu: CpuProfile): { width: number; why: string } {
  const basis = basisOf(s);
  if (basis === 'fitted') {
    const w = Math.max(0.1, heldOutSpread(cpu));
    return {
      width: w,
      why: `fitted: largest held-out error of the fit group (${(w * 100).toFixed(0)}%)`,
    };
  }
  if (basis === 'estimated') return { width: 0.5, why: 'estimated: +-50%' };
  if (basis === 'measured') return { width: 0.05, why: 'measured: +-5%' };
  const w = CONFIDENCE_WIDTH[s.confidence];
  return { width: w, why: `published, ${s.confidence} confidence: +-${(w * 100).toFixed(0)}%` };
}

function param(id: string, s: Sourced, cpu: CpuProfile, scale = 1, widthScale = 1): CostParam {
  const { width, why } = rangeWidth(s, cpu);
  const w = width * widthScale;
  const v = s.value * scale;
  return { id, nominal: v, lo: v * (1 - w), hi: v * (1 + w), why };
}

/**
 * The priced parameters of a profile for an FP state size, in the order `features` uses:
 * the base of each exit kind, then FP save, restore, the three parts of an FP trap, ISB,
 * sysreg write and read. `widthScale` scales every range (0: no uncertainty). Cost: O(1).
 */
export function costParams(cpu: CpuProfile, fpState: FpStateSize, widthScale = 1): CostParam[] {
  const bytes = fpStateBytes(fpState) / FPSIMD_BYTES;
  return [
    ...EXIT_KINDS.map((k) => param(`exitBase.${k}`, cpu.exitBase[k], cpu, 1, widthScale)),
    param('fpSave', cpu.fpSave, cpu, bytes, widthScale),
    param('fpRestore', cpu.fpRestore, cpu, bytes, widthScale),
    param('trapEntry', cpu.trapEntry, cpu, 1, widthScale),
    param('eret', cpu.eret, cpu, 1, widthScale),
    param('fpTrapHandler', cpu.fpTrapHandler, cpu, 1, widthScale),
    param('isb', cpu.isb, cpu, 1, widthScale),
    param('sysregWrite', cpu.sysregWrite, cpu, 1, widthScale),
    param('sysregRead', cpu.sysregRead, cpu, 1, widthScale),
  ];
}

/** Number of priced parameters (exit kinds + 8 primitives). */
export const PARAM_COUNT = EXIT_KINDS.length + 8;

/**
 * A walk's counts per run, aligned with `costParams`: cycles per exit under prices x is
 * the dot product. CPU-independent. Cost: O(exit keys).
 */
export function features(w: WalkOutcome): Float64Array {
  const f = new Float64Array(PARAM_COUNT);
  const n = Math.max(1, w.runs);
  for (let key = 0; key < w.exitHist.length; key++) {
    const c = w.exitHist[key];
    if (c === 0) continue;
    f[EXIT_KINDS.indexOf(exitKind(Math.floor(key / 3), (key % 3) as Handled))] += c / n;
  }
  const k = EXIT_KINDS.length;
  const t = w.totals;
  f[k] = t[METRIC.fpSaves] / n;
  f[k + 1] = t[METRIC.fpRestores] / n;
  f[k + 2] = t[METRIC.fpTraps] / n;
  f[k + 3] = t[METRIC.fpTraps] / n;
  f[k + 4] = t[METRIC.fpTraps] / n;
  f[k + 5] = t[METRIC.isbs] / n;
  f[k + 6] = t[METRIC.sysregWrites] / n;
  f[k + 7] = t[METRIC.sysregReads] / n;
  return f;
}

/** Cycles per exit of a feature vector under a price vector. Cost: O(parameters). */
export function priceFeatures(f: ArrayLike<number>, prices: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < f.length; i++) s += f[i] * prices[i];
  return s;
}

/**
 * `n` seeded draws of the price vector, uniform over each parameter's range; row-major
 * (draw x parameter). The seed is derived from the base seed and the CPU's name, so the
 * draws do not depend on which worker or in which order anything else ran.
 */
export function drawCosts(
  params: readonly CostParam[],
  n: number,
  seed: number,
  cpu: string,
): Float64Array {
  const rng = new Prng(deriveSeed(seed, 'cost-draws', cpu));
  const out = new Float64Array(n * params.length);
  for (let d = 0; d < n; d++) {
    for (let p = 0; p < params.length; p++) {
      const { lo, hi } = params[p];
      out[d * params.length + p] = lo + (hi - lo) * rng.next();
    }
  }
  return out;
}
