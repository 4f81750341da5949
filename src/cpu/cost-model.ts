/**
 * The structural cost model: every published micro-benchmark (an "anchor") is a sum of
 * shared components (the kernel-side round trip of an exit, MMIO emulation, the exit to
 * userspace, IPI delivery, ...), some of them fixed from a breakdown table or an estimate,
 * the others fitted by non-negative least squares on relative error. Because the anchors
 * share components, one anchor's fit constrains the others, and each anchor can be held
 * out: fitted on the rest, predicted, and compared with the paper (leave-one-out).
 *
 * Profiles that ran the same kernel code path (kvm-unit-tests on two VHE servers) share
 * their components in the reference profile's cycles, each other member scaled by one
 * fitted speed factor (a one-dimensional search around the NNLS fit). The method and every
 * anchor with its source are in docs/cost-model.md.
 */

import type { Confidence } from './profile.js';

/** Where a number comes from: measured here, read from a publication, estimated, or fitted. */
export type Basis = 'measured' | 'published' | 'estimated' | 'fitted';

/** A fixed (not fitted) contribution to an anchor: its cycles and where they come from. */
export interface FixedTerm {
  readonly id: string;
  readonly cycles: number;
  readonly basis: Basis;
  readonly source: string;
}

/** A published micro-benchmark expressed in components. */
export interface AnchorDef {
  readonly id: string;
  /** The profile whose CPU ran the benchmark. */
  readonly profile: string;
  readonly label: string;
  /** Published cost in cycles (converted from ns with the profile's clock where needed). */
  readonly paper: number;
  readonly source: string;
  readonly confidence: Confidence;
  /** The design the measured kernel implemented. */
  readonly design: string;
  /** Coefficients of the fitted components (in the group's reference cycles). */
  readonly terms: Readonly<Record<string, number>>;
  /** Fixed contributions, including what the measured design executes besides the base. */
  readonly fixed: readonly FixedTerm[];
  /** The one exit the benchmark takes, when it takes one (the calibration simulates it). */
  readonly exit?: { readonly ec: number; readonly handled: 'hyp' | 'kernel' | 'user' };
}

/** A set of profiles whose anchors share fitted components. */
export interface FitGroup {
  readonly id: string;
  /** Member profiles; the first is the reference (speed factor 1). */
  readonly members: readonly string[];
  /** Fitted components: id -> what it covers. */
  readonly components: Readonly<Record<string, string>>;
  readonly anchors: readonly AnchorDef[];
}

/** Result of fitting a group on a set of anchors. */
interface GroupSolution {
  /** Fitted component values in reference cycles. */
  readonly components: Readonly<Record<string, number>>;
  /** Speed factor of each member (reference = 1). */
  readonly scales: Readonly<Record<string, number>>;
}

/** One anchor's row in the calibration table. */
export interface AnchorResult {
  readonly anchor: AnchorDef;
  /** The model fitted on every anchor of its group. */
  readonly fitted: number;
  readonly fittedError: number;
  /** The model fitted on the other anchors, or why that cannot predict this one. */
  readonly heldOut:
    { readonly predicted: number; readonly error: number } | { readonly reason: string };
}

export interface GroupFit {
  readonly group: FitGroup;
  readonly solution: GroupSolution;
  readonly anchors: readonly AnchorResult[];
}

const fixedSum = (a: AnchorDef): number => a.fixed.reduce((s, f) => s + f.cycles, 0);

/** The model's cycles for an anchor under a solution. Cost: O(terms). */
function anchorModel(a: AnchorDef, s: GroupSolution): number {
  const scale = s.scales[a.profile] ?? 1;
  let v = 0;
  for (const [c, k] of Object.entries(a.terms)) v += k * (s.components[c] ?? 0);
  return scale * v + fixedSum(a);
}

/**
 * Least squares on a subset of columns (normal equations, Gaussian elimination with
 * partial pivoting). Returns undefined when the subset is rank-deficient.
 */
function leastSquares(
  rows: readonly number[][],
  y: readonly number[],
  cols: readonly number[],
): number[] | undefined {
  const n = cols.length;
  const m: number[][] = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  for (let r = 0; r < rows.length; r++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) m[i][j] += rows[r][cols[i]] * rows[r][cols[j]];
      m[i][n] += rows[r][cols[i]] * y[r];
    }
  }
  for (let i = 0; i < n; i++) {
    let p = i;
    for (let k = i + 1; k < n; k++) if (Math.abs(m[k][i]) > Math.abs(m[p][i])) p = k;
    if (Math.abs(m[p][i]) < 1e-12) return undefined;
    [m[i], m[p]] = [m[p], m[i]];
    for (let k = 0; k < n; k++) {
      if (k === i) continue;
      const f = m[k][i] / m[i][i];
      for (let j = i; j <= n; j++) m[k][j] -= f * m[i][j];
    }
  }
  return cols.map((_, i) => m[i][n] / m[i][i]);
}

/**
 * Non-negative least squares by enumeration of the active set: with at most a handful of
 * components (2^n subsets of tiny systems) this is exact and simpler than Lawson-Hanson.
 * Cost: O(2^n x rows x n^2); n <= 12 enforced.
 */
export function nnls(rows: readonly number[][], y: readonly number[], n: number): number[] {
  if (n > 12) throw new Error(`nnls: ${n} components is too many for enumeration`);
  let best = new Array<number>(n).fill(0);
  let bestResidual = y.reduce((s, v) => s + v * v, 0);
  for (let mask = 1; mask < 1 << n; mask++) {
    const cols = [];
    for (let j = 0; j < n; j++) if (mask & (1 << j)) cols.push(j);
    const x = leastSquares(rows, y, cols);
    if (!x || x.some((v) => v < 0)) continue;
    const full = new Array<number>(n).fill(0);
    cols.forEach((c, i) => (full[c] = x[i]));
    let res = 0;
    for (let r = 0; r < rows.length; r++) {
      let p = 0;
      for (let j = 0; j < n; j++) p += rows[r][j] * full[j];
      res += (p - y[r]) ** 2;
    }
    if (res < bestResidual - 1e-12) {
      bestResidual = res;
      best = full;
    }
  }
  return best;
}

/** Design rows (terms x scale / paper) and targets ((paper - fixed) / paper): relative error. */
function designRows(
  group: FitGroup,
  anchors: readonly AnchorDef[],
  scales: Readonly<Record<string, number>>,
): { rows: number[][]; y: number[]; ids: string[] } {
  const ids = Object.keys(group.components);
  const rows = anchors.map((a) =>
    ids.map((c) => ((a.terms[c] ?? 0) * (scales[a.profile] ?? 1)) / a.paper),
  );
  const y = anchors.map((a) => (a.paper - fixedSum(a)) / a.paper);
  return { rows, y, ids };
}

function solveAt(
  group: FitGroup,
  anchors: readonly AnchorDef[],
  scales: Readonly<Record<string, number>>,
): { solution: GroupSolution; residual: number } {
  const { rows, y, ids } = designRows(group, anchors, scales);
  const x = nnls(rows, y, ids.length);
  const solution = { components: Object.fromEntries(ids.map((c, i) => [c, x[i]])), scales };
  const residual = anchors.reduce(
    (s, a) => s + ((anchorModel(a, solution) - a.paper) / a.paper) ** 2,
    0,
  );
  return { solution, residual };
}

/**
 * Fits a group on the given anchors: NNLS for the components, and for a second member a
 * golden-section search of its speed factor over [0.25, 4] (log scale) around the NNLS.
 * Cost: O(60 x NNLS).
 */
function fitGroup(group: FitGroup, anchors: readonly AnchorDef[]): GroupSolution {
  const [ref, ...others] = group.members;
  if (others.length > 1) throw new Error(`fit group ${group.id}: at most two members`);
  if (others.length === 0) return solveAt(group, anchors, { [ref]: 1 }).solution;
  const other = others[0];
  const at = (logS: number) => solveAt(group, anchors, { [ref]: 1, [other]: Math.exp(logS) });
  let lo = Math.log(0.25);
  let hi = Math.log(4);
  const g = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - g * (hi - lo);
  let x2 = lo + g * (hi - lo);
  let f1 = at(x1).residual;
  let f2 = at(x2).residual;
  for (let i = 0; i < 60; i++) {
    if (f1 <= f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - g * (hi - lo);
      f1 = at(x1).residual;
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + g * (hi - lo);
      f2 = at(x2).residual;
    }
  }
  return at((lo + hi) / 2).solution;
}

/** Rank of a matrix (rows), by elimination with a relative tolerance. */
function rank(rows: readonly number[][]): number {
  const m = rows.map((r) => [...r]);
  let rk = 0;
  const cols = m[0]?.length ?? 0;
  for (let c = 0; c < cols && rk < m.length; c++) {
    let p = rk;
    for (let k = rk + 1; k < m.length; k++) if (Math.abs(m[k][c]) > Math.abs(m[p][c])) p = k;
    if (Math.abs(m[p][c]) < 1e-9) continue;
    [m[rk], m[p]] = [m[p], m[rk]];
    for (let k = 0; k < m.length; k++) {
      if (k === rk) continue;
      const f = m[k][c] / m[rk][c];
      for (let j = c; j < cols; j++) m[k][j] -= f * m[rk][j];
    }
    rk++;
  }
  return rk;
}

/**
 * Why the other anchors cannot determine this one's fitted components, or undefined when
 * they can (its term row lies in the span of theirs, and its profile keeps an anchor that
 * fixes the speed factor).
 */
function unidentified(
  group: FitGroup,
  held: AnchorDef,
  rest: readonly AnchorDef[],
): string | undefined {
  const ids = Object.keys(group.components);
  const used = ids.filter((c) => (held.terms[c] ?? 0) !== 0);
  const lonely = used.filter((c) => !rest.some((a) => (a.terms[c] ?? 0) !== 0));
  if (lonely.length > 0) return `not predictable: ${lonely.join(', ')} appears in no other anchor`;
  if (used.length === 0) return undefined;
  const scaled = held.profile !== group.members[0];
  if (scaled && !rest.some((a) => a.profile === held.profile))
    return `not predictable: no other anchor of ${held.profile} fixes its speed factor`;
  const row = (a: AnchorDef) => ids.map((c) => a.terms[c] ?? 0);
  const span = rest.map(row);
  if (rank([...span, row(held)]) > rank(span))
    return `not predictable: its combination of ${used.join(', ')} is not fixed by the other anchors`;
  return undefined;
}

/** Fits a group on all its anchors and holds each out in turn. Cost: O(anchors x fit). */
export function fitWithLeaveOneOut(group: FitGroup): GroupFit {
  const solution = fitGroup(group, group.anchors);
  const anchors = group.anchors.map((a): AnchorResult => {
    const fitted = anchorModel(a, solution);
    const rest = group.anchors.filter((b) => b !== a);
    const reason = unidentified(group, a, rest);
    if (reason)
      return { anchor: a, fitted, fittedError: (fitted - a.paper) / a.paper, heldOut: { reason } };
    const predicted = anchorModel(a, fitGroup(group, rest));
    return {
      anchor: a,
      fitted,
      fittedError: (fitted - a.paper) / a.paper,
      heldOut: { predicted, error: (predicted - a.paper) / a.paper },
    };
  });
  return { group, solution, anchors };
}
