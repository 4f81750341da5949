/**
 * The claim being reproduced: mainline commit 33c76a0b8126 ("arm64: KVM: Optimize arm64
 * skip 30-50% vfp/simd save/restore on exits", v4.4): "lmbench, hackbench show significant
 * improvements, for 30-50% exits FP/SIMD context is not saved/restored" (docs/domain.md §1).
 * 30-50% is the share of exits that skip the switch. This module says where a simulated
 * skip rate (with its 95% interval over seeds) lies relative to that band.
 */

import { pct } from '../util/format.js';

export const CLAIM = {
  lo: 0.3,
  hi: 0.5,
  source:
    'commit 33c76a0b8126: "for 30-50% exits FP/SIMD context is not saved/restored" (lmbench, hackbench)',
  /** Built-in workloads that model the claim's benchmarks. */
  workloads: ['lmbench-syscall', 'lmbench-ctx', 'hackbench'] as readonly string[],
  /** Policies that implement the series the claim was made for. */
  policies: ['lazy-v4', 'lazy-notafix', 'lazy-fixed'] as readonly string[],
} as const;

/** The band as text: `30-50%`. */
export const CLAIM_BAND = `${Math.round(CLAIM.lo * 100)}-${Math.round(CLAIM.hi * 100)}%`;

export type ClaimPosition = 'inside' | 'overlapping' | 'outside';

interface ClaimCheck {
  readonly band: readonly [number, number];
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  readonly seeds: number;
  readonly position: ClaimPosition;
  /** For `outside`: whether the interval lies below or above the band. */
  readonly side?: 'below' | 'above';
  /** Whether the workload is one the claim was made for. */
  readonly claimWorkload: boolean;
  readonly source: string;
}

/** Where an interval [lo, hi] lies relative to the claimed band. */
export function claimPosition(
  lo: number,
  hi: number,
): { position: ClaimPosition; side?: 'below' | 'above' } {
  if (hi < CLAIM.lo) return { position: 'outside', side: 'below' };
  if (lo > CLAIM.hi) return { position: 'outside', side: 'above' };
  if (lo >= CLAIM.lo && hi <= CLAIM.hi) return { position: 'inside' };
  return { position: 'overlapping' };
}

/**
 * The claim check for one simulated cell, or undefined when the policy is not one of the
 * series' designs (the claim says nothing about eager or the later designs).
 */
export function claimCheck(
  workload: string,
  policy: string,
  estimate: { mean: number; lo: number; hi: number; n: number },
): ClaimCheck | undefined {
  if (!CLAIM.policies.includes(policy)) return undefined;
  const { position, side } = claimPosition(estimate.lo, estimate.hi);
  return {
    band: [CLAIM.lo, CLAIM.hi],
    mean: estimate.mean,
    lo: estimate.lo,
    hi: estimate.hi,
    seeds: estimate.n,
    position,
    side,
    claimWorkload: CLAIM.workloads.includes(workload),
    source: CLAIM.source,
  };
}

/** One readable line. */
export function claimLine(c: ClaimCheck): string {
  const what =
    c.seeds > 1
      ? `95% CI ${pct(c.lo)} .. ${pct(c.hi)} over ${c.seeds} seeds`
      : `${pct(c.mean)} from one seed (--seeds K gives an interval)`;
  const where =
    c.position === 'inside'
      ? `is INSIDE the claimed ${CLAIM_BAND} band`
      : c.position === 'overlapping'
        ? `OVERLAPS the claimed ${CLAIM_BAND} band`
        : `is OUTSIDE the claimed ${CLAIM_BAND} band (${c.side})`;
  const note = c.claimWorkload
    ? ''
    : ' [the claim was made for lmbench and hackbench: shown for reference]';
  return `  claim check        skip rate ${what} ${where} (33c76a0b8126)${note}`;
}

/** Where an interval lies, in the report's words. */
type ClaimVerdictWord = 'inside' | 'overlaps' | 'below' | 'above';

/** The largest and root-mean-square |model - real| 2015 skip rate over a set of held-out cells. */
export interface ErrorStat {
  /** Held-out cells with a model prediction in the set. */
  readonly cells: number;
  /** Largest |model - real| of the 2015 skip rate, and the cell it came from. */
  readonly maxAbs: number;
  readonly worstCell: string;
  /** Root mean square of the same errors. */
  readonly rms: number;
}

/**
 * The model's own error on held-out cells (measured cells it was not fitted on). Only cells
 * whose guest time is a real machine's count (-icount: one instruction per ns of virtual
 * time, so run lengths against the timer ticks are realistic); without -icount TCG runs the
 * guest ~50x slower than its timers (validation/README.md), a time base no real host has,
 * so those cells are reported (`excluded`) but set no interval.
 */
export interface HeldOutError extends ErrorStat {
  /**
   * Per claim workload, the held-out -icount cells of its family (the measured benchmark it
   * models: hackbench cells for hackbench, pipe ping-pong for lmbench-ctx, null syscall for
   * lmbench-syscall). A workload's interval is widened by its family's largest error; a
   * workload without family cells by the largest over all held-out -icount cells (the top
   * level fields).
   */
  readonly byWorkload: Readonly<Record<string, ErrorStat>>;
  /** The held-out cells without -icount, with why they do not set the error; null when none. */
  readonly excluded: (ErrorStat & { readonly reason: string }) | null;
}

/** One held-out cell's skip error, as claimEvidence collects them. */
export interface HeldOutCellError {
  readonly cell: string;
  /** The claim workload the cell's spec instantiates (hackbench, lmbench-ctx, ...). */
  readonly workload: string;
  readonly icount: boolean;
  /** model - real, 2015 skip rate. */
  readonly skipError: number;
}

/** The largest and rms |error| over cells; null for none. */
function errorStat(cells: readonly HeldOutCellError[]): ErrorStat | null {
  if (cells.length === 0) return null;
  const errs = cells.map((c) => Math.abs(c.skipError));
  const worst = errs.indexOf(Math.max(...errs));
  return {
    cells: cells.length,
    maxAbs: errs[worst],
    worstCell: cells[worst].cell,
    rms: Math.sqrt(errs.reduce((a, b) => a + b * b, 0) / errs.length),
  };
}

/** Why no-icount cells do not set the claim's model error (shown beside them). */
export const NO_ICOUNT_REASON =
  "without -icount TCG runs the guest ~50x slower than its timers, so its run lengths and skip rates are not a real machine's (validation/README.md); reported, not used for the interval";

/** The held-out error from per-cell errors: -icount cells set it, per workload family. */
export function heldOutError(cells: readonly HeldOutCellError[]): HeldOutError | null {
  const real = cells.filter((c) => c.icount);
  const all = errorStat(real);
  if (!all) return null;
  const byWorkload: Record<string, ErrorStat> = {};
  for (const w of new Set(real.map((c) => c.workload))) {
    const s = errorStat(real.filter((c) => c.workload === w));
    if (s) byWorkload[w] = s;
  }
  const ex = errorStat(cells.filter((c) => !c.icount));
  return { ...all, byWorkload, excluded: ex ? { ...ex, reason: NO_ICOUNT_REASON } : null };
}

/** The claim check for one workload: seed interval, widened by the held-out model error. */
export interface ClaimRow {
  readonly workload: string;
  readonly policy: string;
  readonly cpu: string;
  /** The model's skip rate: mean and 95% interval over seeds. */
  readonly skipRate: {
    readonly mean: number;
    readonly lo: number;
    readonly hi: number;
    readonly n: number;
  };
  /** The seed interval widened by the held-out model error on each side, clipped to [0, 1]. */
  readonly interval: { readonly lo: number; readonly hi: number };
  /** The model error that widened it: its family's held-out -icount cells, or all of them when it has none. */
  readonly modelError: (ErrorStat & { readonly scope: 'family' | 'all' }) | null;
  readonly verdict: ClaimVerdictWord;
  /** Whether the workload counts in the verdict (one the claim was made for; not the hvc-only calibration stream). */
  readonly counted: boolean;
  /** The nearest real measurement of the same benchmark, with its own configuration, or null. */
  readonly real: { readonly cell: string; readonly config: string; readonly skip: number } | null;
}

export interface ClaimResult {
  readonly band: readonly [number, number];
  readonly source: string;
  readonly heldOutError: HeldOutError | null;
  readonly workloads: readonly ClaimRow[];
  /** The verdict in one sentence a reviewer can quote. */
  readonly verdict: string;
}

/** inside / overlaps / below / above for an interval: claimPosition's rule in the report's words. */
function claimWord(lo: number, hi: number): ClaimVerdictWord {
  const { position, side } = claimPosition(lo, hi);
  return position === 'outside'
    ? (side ?? 'below')
    : position === 'overlapping'
      ? 'overlaps'
      : 'inside';
}

/**
 * The claim rows and the verdict. `rows` are lazy-fixed's per-workload skip rates over
 * seeds; `err` the held-out model error (null: none measured, the interval is seed noise
 * only and the sentence says so); `real` the nearest measurement per built-in workload.
 */
export function claimResult(
  rows: readonly {
    workload: string;
    policy: string;
    cpu: string;
    skipRate: ClaimRow['skipRate'];
  }[],
  err: HeldOutError | null,
  real: Readonly<Record<string, ClaimRow['real']>>,
): ClaimResult {
  const workloads = rows.map((r) => {
    const fam = err?.byWorkload[r.workload];
    const modelError = err
      ? fam
        ? { ...fam, scope: 'family' as const }
        : {
            cells: err.cells,
            maxAbs: err.maxAbs,
            worstCell: err.worstCell,
            rms: err.rms,
            scope: 'all' as const,
          }
      : null;
    const e = modelError?.maxAbs ?? 0;
    const lo = Math.max(0, r.skipRate.lo - e);
    const hi = Math.min(1, r.skipRate.hi + e);
    return {
      ...r,
      interval: { lo, hi },
      modelError,
      verdict: claimWord(lo, hi),
      counted: CLAIM.workloads.includes(r.workload),
      real: real[r.workload] ?? null,
    };
  });
  return {
    band: [CLAIM.lo, CLAIM.hi],
    source: CLAIM.source,
    heldOutError: err,
    workloads,
    verdict: verdictSentence(workloads, err),
  };
}

const points = (x: number) => (x * 100).toFixed(1);
const span = (r: ClaimRow) =>
  `${r.workload} ${pct(r.skipRate.mean)} [${pct(r.interval.lo)} .. ${pct(r.interval.hi)}]${r.modelError ? ` (+/-${points(r.modelError.maxAbs)} points, ${r.modelError.worstCell})` : ''}`;

/** The verdict sentence: its words follow from where the counted workloads' intervals lie. */
function verdictSentence(rows: readonly ClaimRow[], err: HeldOutError | null): string {
  const counted = rows.filter((r) => r.counted);
  if (counted.length === 0)
    return 'No workload the claim was made for (lmbench, hackbench) was simulated.';
  const inside = counted.filter((r) => r.verdict === 'inside');
  const overlaps = counted.filter((r) => r.verdict === 'overlaps');
  const outside = counted.filter((r) => r.verdict === 'below' || r.verdict === 'above');
  const how = err
    ? `each interval widened by the model's largest skip-rate error on the held-out -icount real-kernel cells of its benchmark (${err.cells} such cells in all; no-icount cells excluded: their guest time is not a real machine's)`
    : 'intervals over seeds only (no held-out real-kernel cell measured the model error)';
  const head =
    inside.length > 0 && overlaps.length === 0 && outside.length === 0
      ? 'The 30-50% claim reproduces on every workload it was made for'
      : inside.length > 0 || overlaps.length > 0
        ? outside.length > 0
          ? 'The 30-50% claim is not decided by the model'
          : 'The 30-50% claim can be neither confirmed nor refuted by the model'
        : 'The 30-50% claim does not reproduce on the workloads it was made for';
  const parts = [
    inside.length ? `inside the band: ${inside.map(span).join(', ')}` : '',
    overlaps.length ? `overlapping it: ${overlaps.map(span).join(', ')}` : '',
    outside.length
      ? `outside it: ${outside.map((r) => `${span(r)} (${r.verdict})`).join(', ')}`
      : '',
  ].filter((p) => p !== '');
  return `${head} (lazy-fixed, ${how}): ${parts.join('; ')}.`;
}
