/**
 * The definitions of the designs, asserted on markov streams (issue 2, "What it must show").
 */
import { describe, expect, it } from 'vitest';
import { decodeRunClass, FP_EL0 } from '../src/machine/run-class.js';
import { markov, sim } from './helpers/sim.js';

const N = 200_000;

/** Five standard errors of a proportion estimated from n Bernoulli trials. */
const fiveSigma = (p: number, n: number) => 5 * Math.sqrt((p * (1 - p)) / n);

describe('eager', () => {
  it('never skips: 2 saves and 2 restores per run, no traps', async () => {
    const r = await sim('eager', markov({ fpProbability: 0.37 }, N));
    expect(r.skipRate).toBe(0);
    expect(r.counters.fpSaves).toBe(2 * N);
    expect(r.counters.fpRestores).toBe(2 * N);
    expect(r.counters.fpTraps).toBe(0);
    expect(r.counters.bytesMoved).toBe(4 * 520 * N);
  });
});

describe('lazy-fixed', () => {
  for (const p of [0, 0.05, 0.37, 0.9, 1]) {
    it(`p=${p}: skip rate 1-p, p traps, 2p saves and 2p restores per run`, async () => {
      const r = await sim('lazy-fixed', markov({ fpProbability: p }, N, 3));
      const traps = r.counters.fpTraps;
      expect(Math.abs(traps / N - p)).toBeLessThanOrEqual(fiveSigma(p, N) + 1e-12);
      expect(Math.abs(r.skipRate - (1 - p))).toBeLessThanOrEqual(fiveSigma(p, N) + 1e-12);
      // Exact relations of the design, whatever the sample:
      expect(r.skippedRuns).toBe(N - traps);
      expect(r.counters.fpSaves).toBe(2 * traps);
      expect(r.counters.fpRestores).toBe(2 * traps);
    });
  }
  it('an AArch32 guest pays FPEXC32_EL2 writes on every entry and still switches only on traps', async () => {
    const r = await sim('lazy-fixed', markov({ fpProbability: 0.5, aarch32: true }, N));
    const traps = r.counters.fpTraps;
    expect(r.counters.fpSaves).toBe(2 * traps);
    // EN write at every entry, FPEXC restore at every trap, FPEXC save at every exit after a trap.
    expect(r.counters.fpexc32Accesses).toBe(N + 2 * traps);
    expect(r.counters.isbs).toBe(N + traps);
  });
});

describe('lazy-vcpu', () => {
  it('without host FP use or vcpu_put, traps once and then keeps the guest state live', async () => {
    const r = await sim('lazy-vcpu', markov({ fpProbability: 0.37 }, N));
    expect(r.counters.fpTraps).toBe(1);
    expect(r.counters.fpSaves).toBe(1); // the host task's state, at the first trap
    expect(r.counters.fpRestores).toBe(1); // the guest's, at the first trap
    expect(r.skippedRuns).toBe(N - 1);
  });
  it('with vcpu_put after every exit, switches like lazy-fixed (guest saved at put, host restored on return to user)', async () => {
    const r = await sim('lazy-vcpu', markov({ fpProbability: 0.37, handledIn: { user: 1 } }, N));
    const traps = r.counters.fpTraps;
    expect(r.skippedRuns).toBe(N - traps);
    expect(r.counters.fpSaves).toBe(2 * traps);
    expect(r.counters.fpRestores).toBe(2 * traps);
  });
  it('host kernel-mode NEON makes the guest trap again', async () => {
    const quiet = await sim('lazy-vcpu', markov({ fpProbability: 0.5 }, N));
    const noisy = await sim('lazy-vcpu', markov({ fpProbability: 0.5, hostFpProbability: 0.2 }, N));
    expect(noisy.counters.fpTraps).toBeGreaterThan(1000);
    expect(noisy.skipRate).toBeLessThan(quiet.skipRate);
  });
});

describe('adaptive', () => {
  for (const [threshold, eagerRuns] of [
    [6, 250],
    [1, 1],
    [3, 16],
  ]) {
    it(`p=1, threshold=${threshold}, eagerRuns=${eagerRuns}: traps threshold times, runs eagerRuns eagerly, repeats`, async () => {
      const runs = 10 * (threshold + eagerRuns) + threshold + 1;
      const r = await sim(
        `adaptive:threshold=${threshold},eagerRuns=${eagerRuns}`,
        markov({ fpProbability: 1 }, runs),
      );
      // 10 full cycles, then `threshold` trapping runs, then one eager run.
      expect(r.counters.fpTraps).toBe(11 * threshold);
      expect(r.counters.fpSaves).toBe(2 * runs);
      expect(r.skippedRuns).toBe(0);
    });
  }
  it('p=0: never leaves lazy mode, skips every exit', async () => {
    const r = await sim('adaptive', markov({ fpProbability: 0 }, N));
    expect(r.skipRate).toBe(1);
  });
  it('lazy mode is lazy-fixed: with a threshold beyond reach it matches lazy-fixed exactly', async () => {
    const a = await sim('adaptive:threshold=1000000', markov({ fpProbability: 0.3 }, N, 9));
    const l = await sim('lazy-fixed', markov({ fpProbability: 0.3 }, N, 9));
    expect(a.counters).toEqual(l.counters);
    expect(a.cycles.total).toBe(l.cycles.total);
  });
});

describe('markov stream', () => {
  it('has the requested lag-1 autocorrelation', () => {
    const p = 0.4;
    const rho = 0.6;
    const s = markov({ fpProbability: p, fpCorrelation: rho }, N, 5);
    let prev = -1;
    let n11 = 0;
    let n1 = 0;
    for (const chunk of s.chunks()) {
      for (let i = 0; i < chunk.length; i++) {
        const fp = decodeRunClass(chunk.cls[i]).fp & FP_EL0;
        if (prev === 1) {
          n1++;
          if (fp === 1) n11++;
        }
        prev = fp;
      }
    }
    // P(1|1) = p + rho (1 - p) = 0.76
    expect(Math.abs(n11 / n1 - (p + rho * (1 - p)))).toBeLessThan(0.01);
  });
});
