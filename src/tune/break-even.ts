/**
 * The analytic break-even between lazy and eager switching for a guest that touches FP
 * independently in each run with probability p.
 *
 * Per run, eager pays the switch C = 2 x (save + restore) (host and guest, both ways);
 * lazy pays, with probability p, a trap T and the same switch C. Lazy wins when
 * p (T + C) < C, i.e. p x T < (1 - p) x C, i.e. p < C / (C + T) (issue 5 item 3).
 *
 * The exact line adds what each design executes besides the switch, as the policies in
 * src/policy/ do it (lazy-fixed vs eager, AArch64 guest, exits handled in the kernel):
 * eager writes CPTR_EL2 at entry and exit (2W); lazy writes it at entry and exit and reads
 * it at exit (2W + Rd), and on a trap also writes it and synchronises (W + I). So
 * eager = C + 2W, lazy = 2W + Rd + p (T + W + I + C), and the break-even is
 * p* = (C - Rd) / (C + T + W + I). It is derived by hand, independently of the simulator,
 * which must agree with it on markov streams.
 */

import type { FpStateSize } from '../cpu/fp-state.js';
import { compileCosts, type CpuProfile } from '../cpu/profile.js';
import { resolvePolicy } from '../policy/registry.js';
import { simulate } from '../sim/simulate.js';
import { markovStream, MarkovWorkloadSchema } from '../stream/markov.js';

interface BreakEven {
  readonly cpu: string;
  /** Trap entry + handler + ERET (cycles). */
  readonly trap: number;
  /** One full switch: 2 saves + 2 restores (cycles). */
  readonly switchCost: number;
  /** trap / switch: the y axis of the break-even map. */
  readonly ratio: number;
  /** C / (C + T): lazy wins below this FP-touch probability (the simple line). */
  readonly pSimple: number;
  /** The same with the trap-control overheads the designs execute. */
  readonly pExact: number;
}

/** Break-even for a CPU profile and FP state. Cost: O(1). */
export function breakEven(cpu: CpuProfile, fpState: FpStateSize): BreakEven {
  const c = compileCosts(cpu, fpState);
  const C = 2 * (c.fpSave + c.fpRestore);
  const T = c.fpTrap;
  return {
    cpu: cpu.name,
    trap: T,
    switchCost: C,
    ratio: T / C,
    pSimple: C / (C + T),
    pExact: (C - c.sysregRead) / (C + T + c.sysregWrite + c.isb),
  };
}

/** Whether lazy beats eager at FP-touch probability p on the simple line. */
export function lazyWins(p: number, ratio: number): boolean {
  return p * ratio < 1 - p;
}

/** The simulator's own break-even on markov streams, to hold against the analytic line. */
export interface SimulatedBreakEven {
  readonly cpu: string;
  /** FP-touch probabilities simulated, and lazy-fixed minus eager cycles per exit at each. */
  readonly points: readonly { p: number; lazyMinusEager: number }[];
  /** Root of the least-squares line through the points. */
  readonly pCrossing: number;
  /** Largest distance of a point from the line (cycles per exit): sampling noise only if linear. */
  readonly maxResidual: number;
}

/**
 * Simulates lazy-fixed and eager on independent markov streams at several p and finds
 * where the difference crosses zero. Cost: O(points x runs).
 */
export async function simulatedBreakEven(
  cpu: CpuProfile,
  fpState: FpStateSize,
  opts: { runs?: number; seed?: number; points?: readonly number[] } = {},
): Promise<SimulatedBreakEven> {
  const eager = await resolvePolicy('eager');
  const lazy = await resolvePolicy('lazy-fixed');
  const ps = opts.points ?? [0, 0.25, 0.5, 0.75, 1];
  const points = ps.map((p, i) => {
    const w = MarkovWorkloadSchema.parse({ name: `p${p}`, kind: 'markov', fpProbability: p });
    const stream = () =>
      markovStream(w, { runs: opts.runs ?? 100_000, seed: (opts.seed ?? 1) + i });
    const l = simulate(lazy, stream(), { cpu, fpState }).cycles.perExit;
    const e = simulate(eager, stream(), { cpu, fpState }).cycles.perExit;
    return { p, lazyMinusEager: l - e };
  });
  const n = points.length;
  const mx = points.reduce((a, q) => a + q.p, 0) / n;
  const my = points.reduce((a, q) => a + q.lazyMinusEager, 0) / n;
  const sxy = points.reduce((a, q) => a + (q.p - mx) * (q.lazyMinusEager - my), 0);
  const sxx = points.reduce((a, q) => a + (q.p - mx) ** 2, 0);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const maxResidual = Math.max(
    ...points.map((q) => Math.abs(q.lazyMinusEager - (intercept + slope * q.p))),
  );
  return { cpu: cpu.name, points, pCrossing: -intercept / slope, maxResidual };
}
