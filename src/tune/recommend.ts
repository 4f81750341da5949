/**
 * One recommendation over every design: for a workload on a CPU, the candidate (a design
 * and, for designs with parameters, a setting) with the fewest cycles per exit at the
 * profile's nominal costs; in what share of cost draws it stays the cheapest; its cycles
 * per exit with an interval that includes cost uncertainty and seed spread; and the
 * parameters that could flip the decision (a tornado: each parameter alone at the ends of
 * its range). Inputs are CPU-independent walk features (src/tune/cost-draws.ts).
 */

import type { FpStateSize } from '../cpu/fp-state.js';
import type { CpuProfile } from '../cpu/profile.js';
import { num } from '../util/format.js';
import { estimate, NON_NEGATIVE } from '../util/stats.js';
import { type CostParam, costParams, drawCosts, priceFeatures } from './cost-draws.js';

/** A design setting to choose from, with its walk features per seed. */
export interface Candidate {
  /** Policy id, e.g. `lazy-vcpu` or `adaptive:threshold=4,eagerRuns=64`. */
  readonly policy: string;
  /** The design (policy definition name). */
  readonly design: string;
  readonly perSeed: readonly ArrayLike<number>[];
  /** Why the candidate may not be recommended (the model checker rejects it), if so. */
  readonly rejected?: string;
}

/** What the decision's sensitivity to one parameter is (a tornado bar). */
interface Flip {
  readonly param: string;
  readonly note: string;
  /** Largest change of the winning margin over the parameter's range (cycles per exit). */
  readonly swing: number;
  /** True when another design wins at one end of the range. */
  readonly flips: boolean;
}

/** The best setting of each design, in words against the recommendation. */
interface DesignSummary {
  readonly design: string;
  readonly policy: string;
  /** Null for a design that was not considered (rejected). */
  readonly cyclesPerExit: number | null;
  readonly winShare: number;
  readonly note: string;
}

/** The agreed results.json shape (plus the per-design summary and the draw count). */
export interface Recommendation {
  readonly workload: string;
  readonly cpu: string;
  readonly policy: string;
  readonly cyclesPerExit: { readonly mean: number; readonly lo: number; readonly hi: number };
  readonly winShare: number;
  readonly belowEagerPct: number | null;
  readonly runnerUp: string | null;
  readonly flips: readonly { readonly param: string; readonly note: string }[];
  readonly line: string;
  /** Every parameter's effect on the decision, most effect first (the tornado chart). */
  readonly tornado: readonly Flip[];
  readonly designs: readonly DesignSummary[];
  readonly draws: number;
}

interface RecommendOptions {
  readonly draws: number;
  readonly seed: number;
  /** Scales every cost range (0: no cost uncertainty). */
  readonly widthScale?: number;
}

interface Priced {
  readonly c: Candidate;
  readonly mean: Float64Array;
  readonly nominal: number;
  readonly seedHalfWidth: number;
}

function meanFeatures(c: Candidate): Float64Array {
  const n = c.perSeed[0].length;
  const m = new Float64Array(n);
  for (const f of c.perSeed) for (let i = 0; i < n; i++) m[i] += f[i] / c.perSeed.length;
  return m;
}

function priceAll(candidates: readonly Candidate[], nominal: Float64Array): Priced[] {
  return candidates.map((c) => {
    const perSeed = c.perSeed.map((f) => priceFeatures(f, nominal));
    const e = estimate(perSeed, NON_NEGATIVE);
    const mean = meanFeatures(c);
    return { c, mean, nominal: priceFeatures(mean, nominal), seedHalfWidth: (e.hi - e.lo) / 2 };
  });
}

/** Index of the cheapest candidate under a price vector (ties: the earlier one). */
function cheapest(priced: readonly Priced[], prices: ArrayLike<number>): number {
  let best = 0;
  let bestCost = Infinity;
  priced.forEach((p, i) => {
    const v = priceFeatures(p.mean, prices);
    if (v < bestCost) {
      bestCost = v;
      best = i;
    }
  });
  return best;
}

/**
 * Wins per candidate over the draws, and the winner's cycles under each draw. A hot loop
 * (draws x candidates x parameters, tens of millions of multiply-adds in the suite) over one
 * flat feature matrix, written out for speed.
 */
function overDraws(
  priced: readonly Priced[],
  best: number,
  draws: Float64Array,
  n: number,
): { wins: number[]; bestCycles: number[] } {
  const p = draws.length / n;
  const c = priced.length;
  const f = new Float64Array(c * p);
  priced.forEach((x, i) => {
    f.set(x.mean, i * p);
  });
  const wins = new Array<number>(c).fill(0);
  const bestCycles: number[] = [];
  for (let d = 0; d < n; d++) {
    const off = d * p;
    let winner = 0;
    let min = Infinity;
    for (let i = 0; i < c; i++) {
      let s = 0;
      for (let j = 0; j < p; j++) s += f[i * p + j] * draws[off + j];
      if (s < min) {
        min = s;
        winner = i;
      }
      if (i === best) bestCycles.push(s);
    }
    wins[winner] += 1;
  }
  return { wins, bestCycles };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i];
}

/** Winning margin of candidate `best` over every other design's candidates (cycles per exit). */
function margin(priced: readonly Priced[], best: number, prices: ArrayLike<number>) {
  const own = priceFeatures(priced[best].mean, prices);
  let m = Infinity;
  let rival = '';
  for (const p of priced) {
    if (p.c.design === priced[best].c.design) continue;
    const v = priceFeatures(p.mean, prices) - own;
    if (v < m) {
      m = v;
      rival = p.c.policy;
    }
  }
  return { margin: m, rival };
}

/** The tornado: each parameter alone at the ends of its range. Cost: O(params x candidates). */
function tornado(priced: readonly Priced[], best: number, params: readonly CostParam[]): Flip[] {
  const nominal = params.map((p) => p.nominal);
  const base = margin(priced, best, nominal).margin;
  if (!Number.isFinite(base)) return [];
  const out = params.map((p, i): Flip => {
    const at = (v: number) => {
      const prices = [...nominal];
      prices[i] = v;
      return margin(priced, best, prices);
    };
    const lo = at(p.lo);
    const hi = at(p.hi);
    const swing = Math.max(Math.abs(lo.margin - base), Math.abs(hi.margin - base));
    const flipEnd =
      lo.margin < 0 ? { end: p.lo, m: lo } : hi.margin < 0 ? { end: p.hi, m: hi } : null;
    const note = flipEnd
      ? `at ${num(flipEnd.end, 1)} (range ${num(p.lo, 1)}-${num(p.hi, 1)}) ${flipEnd.m.rival} wins by ${num(-flipEnd.m.margin, 1)} cycles/exit`
      : `margin ${num(base, 1)} cycles/exit moves to ${num(lo.margin, 1)}..${num(hi.margin, 1)} over ${num(p.lo, 1)}-${num(p.hi, 1)}`;
    return { param: p.id, note, swing, flips: flipEnd !== null };
  });
  // A parameter every design pays alike (an exit's base cost) moves no margin; below 0.05
  // cycles per exit (what the note's one decimal shows) is no effect.
  return out
    .filter((f) => f.swing >= 0.05)
    .sort((a, b) => Number(b.flips) - Number(a.flips) || b.swing - a.swing);
}

function designSummaries(
  priced: readonly Priced[],
  wins: readonly number[],
  best: number,
  n: number,
  rejected: readonly Candidate[],
): DesignSummary[] {
  const winner = priced[best];
  const designs = [...new Set(priced.map((p) => p.c.design))];
  const out = designs.map((design): DesignSummary => {
    const mine = priced.map((p, i) => ({ p, i })).filter((x) => x.p.c.design === design);
    const top = mine.reduce((a, b) => (b.p.nominal < a.p.nominal ? b : a));
    const share = mine.reduce((s, x) => s + wins[x.i], 0) / n;
    const extra = top.p.nominal - winner.nominal;
    const what = mine.length > 1 ? `its best setting (${top.p.c.policy})` : design;
    const note =
      top.i === best
        ? 'recommended'
        : `${what} is no better than ${winner.c.policy}: ${num(extra, 1)} cycles/exit more (${((100 * extra) / winner.nominal).toFixed(1)}%)`;
    return { design, policy: top.p.c.policy, cyclesPerExit: top.p.nominal, winShare: share, note };
  });
  for (const c of rejected)
    out.push({
      design: c.design,
      policy: c.policy,
      cyclesPerExit: null,
      winShare: 0,
      note: `not considered: ${c.rejected ?? ''}`,
    });
  return out;
}

/** The one-line sentence. */
function sentence(
  workload: string,
  cpu: string,
  r: Omit<Recommendation, 'line' | 'workload' | 'cpu'>,
): string {
  const vs =
    r.belowEagerPct === null
      ? 'eager not considered'
      : r.policy === 'eager'
        ? `eager is the cheapest design${r.runnerUp ? `; next: ${r.runnerUp}` : ''}`
        : `${r.belowEagerPct.toFixed(1)}% below eager`;
  const c = r.cyclesPerExit;
  return `${workload} on ${cpu}: ${r.policy} (${num(c.mean)} cycles/exit [${num(c.lo)}-${num(c.hi)}]; wins in ${(100 * r.winShare).toFixed(0)}% of cost draws; ${vs})`;
}

/**
 * Recommends one candidate for a workload on a CPU. Cost: O(draws x candidates x params).
 * Throws when no candidate may be recommended.
 */
export function recommend(
  workload: string,
  cpu: CpuProfile,
  fpState: FpStateSize,
  candidates: readonly Candidate[],
  opts: RecommendOptions,
): Recommendation {
  const eligible = candidates.filter((c) => c.rejected === undefined);
  if (eligible.length === 0) throw new Error('recommend: every candidate is rejected');
  const params = costParams(cpu, fpState, opts.widthScale ?? 1);
  const nominal = Float64Array.from(params, (p) => p.nominal);
  const priced = priceAll(eligible, nominal);
  const best = cheapest(priced, nominal);
  const { wins, bestCycles } = overDraws(
    priced,
    best,
    drawCosts(params, opts.draws, opts.seed, cpu.name),
    opts.draws,
  );
  bestCycles.sort((a, b) => a - b);
  const half = priced[best].seedHalfWidth;
  const eager = priced.find((p) => p.c.policy === 'eager');
  const { rival } = margin(priced, best, nominal);
  const bars = tornado(priced, best, params);
  const core = {
    policy: priced[best].c.policy,
    cyclesPerExit: {
      mean: priced[best].nominal,
      lo: Math.max(0, quantile(bestCycles, 0.025) - half),
      hi: quantile(bestCycles, 0.975) + half,
    },
    winShare: wins[best] / opts.draws,
    belowEagerPct: eager ? (100 * (eager.nominal - priced[best].nominal)) / eager.nominal : null,
    runnerUp: rival || null,
    tornado: bars,
    flips: bars.slice(0, 3).map((f) => ({ param: f.param, note: f.note })),
    designs: designSummaries(
      priced,
      wins,
      best,
      opts.draws,
      candidates.filter((c) => c.rejected !== undefined),
    ),
    draws: opts.draws,
  };
  return { workload, cpu: cpu.name, ...core, line: sentence(workload, cpu.name, core) };
}
