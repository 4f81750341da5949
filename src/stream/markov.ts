/**
 * The parametric `markov` stream: each run touches FP at guest EL0 following a two-state
 * Markov chain with stationary probability p and lag-1 autocorrelation r, per vCPU.
 *
 * For a two-state chain with P(1|0) = a and P(1|1) = b, the stationary probability is
 * p = a / (1 - b + a) and the lag-1 autocorrelation is r = b - a. Solving:
 * a = p (1 - r), b = p + r (1 - p). Both must lie in [0, 1], which for r < 0 requires
 * r >= -p / (1 - p) and r >= -(1 - p) / p. (Kemeny & Snell, "Finite Markov Chains", s4.)
 */

import { z } from 'zod';
import { EC, exitClassCode } from '../arch/esr.js';
import { exitKey, HANDLED, type Handled } from '../cpu/profile.js';
import type { VcpuDesc } from '../policy/types.js';
import { UserError, userText } from '../util/errors.js';
import { allocChunk, CHUNK_RUNS, type ExitStream } from './exit-stream.js';
import { RandomSource } from './random-source.js';
import { encodeRunClass, FP_EL0 } from '../machine/run-class.js';

const probability = z.number().min(0).max(1);

const exitLabel = z.string().refine((s) => exitClassCode(s) !== undefined, {
  error:
    'unknown exit class (an EC name such as HVC64, a hex EC such as 0x16, or IRQ/SERROR/HYP_GONE)',
});

export const MarkovWorkloadSchema = z.strictObject({
  name: z.string().min(1),
  kind: z.literal('markov'),
  description: z.string().optional(),
  /** Stationary probability that a run touches FP/SIMD at guest EL0. */
  fpProbability: probability,
  /** Lag-1 autocorrelation of the FP-touch sequence of each vCPU. */
  fpCorrelation: z.number().min(-1).max(1).default(0),
  /** EL1 is AArch32 for every vCPU. */
  aarch32: z.boolean().default(false),
  /** vCPUs sharing the physical CPU; the host switches to the next one after a vcpu_put. */
  vcpus: z.number().int().min(1).max(8).default(1),
  /** Share of exits handled at EL2, in the host kernel and in host userspace (sums to 1). */
  handledIn: z
    .strictObject({
      hyp: probability.default(0),
      kernel: probability.default(0),
      user: probability.default(0),
    })
    .default({ hyp: 0, kernel: 1, user: 0 })
    .refine((h) => Math.abs(h.hyp + h.kernel + h.user - 1) < 1e-9, {
      error: 'hyp + kernel + user must sum to 1',
    }),
  /** Exit class taken for each handling level. */
  exits: z
    .strictObject({
      hyp: exitLabel.default('SYS64'),
      kernel: exitLabel.optional(),
      user: exitLabel.default('DABT_LOW'),
    })
    .default({ hyp: 'SYS64', user: 'DABT_LOW' }),
  /** Probability that the host uses FP between an exit that reaches it and the next entry. */
  hostFpProbability: probability.default(0),
  /** Probability that the host preempts the vCPU thread after an exit that reaches it. */
  vcpuPutProbability: probability.default(0),
  /** Mean guest run length in microseconds (exponentially distributed). */
  meanRunUs: z.number().positive().max(1e7).default(10),
});

export type MarkovWorkload = z.infer<typeof MarkovWorkloadSchema>;

/** The chain's transition probabilities, or a UserError for an infeasible (p, r). */
export function markovTransitions(
  p: number,
  r: number,
  where: string,
): { fromOff: number; fromOn: number } {
  const fromOff = p * (1 - r);
  const fromOn = p + r * (1 - p);
  const eps = 1e-12;
  if (fromOff < -eps || fromOff > 1 + eps || fromOn < -eps || fromOn > 1 + eps) {
    const lo = p <= 0 || p >= 1 ? 0 : Math.max(-p / (1 - p), -(1 - p) / p);
    throw new UserError(
      `${where}: fpCorrelation ${userText(r)} is infeasible with fpProbability ${userText(p)} (a two-state chain needs fpCorrelation >= ${lo.toFixed(4)})`,
    );
  }
  return { fromOff: Math.min(1, Math.max(0, fromOff)), fromOn: Math.min(1, Math.max(0, fromOn)) };
}

/** Checks what the schema cannot: the chain's feasibility. */
export function validateMarkov(w: MarkovWorkload, where: string): void {
  markovTransitions(w.fpProbability, w.fpCorrelation, where);
}

function markovVcpus(w: MarkovWorkload): VcpuDesc[] {
  return Array.from({ length: w.vcpus }, (_, id) => ({ id, vm: 0, aarch32: w.aarch32 }));
}

/**
 * The stream of a markov workload. Per run: which vCPU (the host moves to the next vCPU
 * after a vcpu_put), whether it touched FP (the vCPU's chain), where the exit is handled,
 * host FP use and preemption (only after exits that reach the host), run length.
 * Cost: O(runs), a few PRNG draws per run; memory O(chunk).
 */
// eslint-disable-next-line max-lines-per-function -- hot loop: the per-run generator loop stays in one body for speed
export function markovStream(w: MarkovWorkload, opts: { runs: number; seed: number }): ExitStream {
  const { fromOff, fromOn } = markovTransitions(w.fpProbability, w.fpCorrelation, w.name);
  const vcpus = markovVcpus(w);
  const kernelExit = w.exits.kernel ?? (w.aarch32 ? 'HVC32' : 'HVC64');
  const exitKeys: number[] = [
    exitKey(exitClassCode(w.exits.hyp) ?? EC.SYS64, HANDLED.hyp),
    exitKey(exitClassCode(kernelExit) ?? EC.HVC64, HANDLED.kernel),
    exitKey(exitClassCode(w.exits.user) ?? EC.DABT_LOW, HANDLED.user),
  ];
  const hypCut = w.handledIn.hyp;
  const kernelCut = w.handledIn.hyp + w.handledIn.kernel;
  const hostFpP = w.hostFpProbability;
  const putP = w.vcpuPutProbability;
  const meanNs = w.meanRunUs * 1000;
  const nv = vcpus.length;
  const { runs, seed } = opts;
  return {
    name: w.name,
    vcpus,
    runs,
    *chunks() {
      // Uniforms and exponentials come a block at a time from the one seeded PRNG.
      const rng = new RandomSource(seed);
      const buf = allocChunk(Math.min(CHUNK_RUNS, Math.max(1, runs)));
      const { cls, exitKey: keys, ns } = buf;
      // Each vCPU's chain starts from its stationary distribution.
      const fpState = vcpus.map(() => rng.uniform() < w.fpProbability);
      const oneLevel =
        w.handledIn.hyp === 1
          ? HANDLED.hyp
          : w.handledIn.kernel === 1
            ? HANDLED.kernel
            : w.handledIn.user === 1
              ? HANDLED.user
              : -1;
      let vcpu = 0;
      for (let start = 0; start < runs; start += CHUNK_RUNS) {
        const len = Math.min(CHUNK_RUNS, runs - start);
        for (let i = 0; i < len; i++) {
          const fp = fpState[vcpu];
          // One handling level needs no draw.
          let handled: Handled;
          if (oneLevel >= 0) handled = oneLevel as Handled;
          else {
            const u = rng.uniform();
            handled = u < hypCut ? HANDLED.hyp : u < kernelCut ? HANDLED.kernel : HANDLED.user;
          }
          let hostFp = false;
          let put = false;
          if (handled !== HANDLED.hyp) {
            if (hostFpP > 0) hostFp = rng.uniform() < hostFpP;
            if (putP > 0) put = rng.uniform() < putP;
          }
          cls[i] = encodeRunClass(vcpu, fp ? FP_EL0 : 0, handled, hostFp, put);
          keys[i] = exitKeys[handled];
          ns[i] = meanNs * rng.exp();
          fpState[vcpu] = rng.uniform() < (fp ? fromOn : fromOff);
          if (put) vcpu = (vcpu + 1) % nv;
        }
        yield { length: len, ...buf };
      }
    },
  };
}
