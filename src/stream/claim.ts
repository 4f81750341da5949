/**
 * The claim being reproduced: mainline commit 33c76a0b8126 ("arm64: KVM: Optimize arm64
 * skip 30-50% vfp/simd save/restore on exits", v4.5): "lmbench, hackbench show significant
 * improvements, for 30-50% exits FP/SIMD context is not saved/restored" (DOMAIN.md s1).
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

export interface ClaimCheck {
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
