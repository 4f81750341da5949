/**
 * validation/analyze-runs.ts: the statistics the validation README quotes, on small
 * series whose answers are computed by hand.
 */
import { describe, expect, it } from 'vitest';
import { autocorrelation, cellStats, quantile } from '../validation/analyze-runs.js';
import type { RunRecord } from '../validation/lib/run-records.js';

const run = (
  ns: number,
  exit: string,
  fp: 0 | 1,
  switches = 0,
  injected: 0 | 1 = 0,
): RunRecord => ({
  insns: ns,
  ns,
  exit,
  fpEl0: 0,
  fpEl1: fp,
  switches,
  injected,
});

describe('quantile (nearest rank)', () => {
  it('picks the ceil(q n)-th smallest value', () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantile(x, 0.1)).toBe(1);
    expect(quantile(x, 0.5)).toBe(5);
    expect(quantile(x, 0.9)).toBe(9);
    expect(quantile(x, 0.99)).toBe(10);
  });
});

describe('autocorrelation', () => {
  it('of an alternating series is -(n-k)/n at odd lags and +(n-k)/n at even ones', () => {
    const n = 20;
    const x = Array.from({ length: n }, (_, i) => i % 2);
    const acf = autocorrelation(x, 3);
    expect(acf[0]).toBeCloseTo(-(n - 1) / n, 12);
    expect(acf[1]).toBeCloseTo((n - 2) / n, 12);
    expect(acf[2]).toBeCloseTo(-(n - 3) / n, 12);
  });

  it('is NaN for a constant series (no variance)', () => {
    expect(autocorrelation([1, 1, 1, 1], 2).every(Number.isNaN)).toBe(true);
  });
});

describe('cellStats', () => {
  // the runs after an IRQ exit use FP, the one after the WFx exit does not
  const runs = [
    run(4_000_000, 'IRQ', 1, 30, 1),
    run(300_000, 'WFx', 1, 2, 1),
    run(5_000, 'IRQ', 0, 0, 0),
    run(4_000_000, 'IRQ', 1, 25, 1),
  ];
  const s = cellStats('c', { vcpus: 1 }, runs);

  it('counts the FP share and the 2015 skip rate', () => {
    expect(s.fpShare).toBe(0.75);
    expect(s.skip2015).toBe(0.25);
    expect(s.switchesPerRun).toBe(57 / 4);
  });

  it('splits FP use by the previous run exit', () => {
    const after = Object.fromEntries(s.byPrevExit.map((g) => [g.label, g]));
    expect(after['after IRQ'].runs).toBe(2);
    expect(after['after IRQ'].fpShare).toBe(1);
    expect(after['after WFx'].fpShare).toBe(0);
  });

  it('splits FP use by task switches and by run length', () => {
    const sw = Object.fromEntries(s.bySwitches.map((g) => [g.label, g.fpShare]));
    expect(sw).toEqual({ '0': 0, '2-5': 1, '> 20': 1 });
    expect(s.byLength.map((g) => g.label)).toEqual(['< 10 us', '0.1-1 ms', '3-5 ms']);
    expect(s.lengthUs.p50).toBe(300);
  });

  it('splits run length by the vGIC state at entry', () => {
    const inj = Object.fromEntries(s.byInjected.map((g) => [g.label, g]));
    expect(inj['injected=1'].runs).toBe(3);
    expect(inj['injected=1'].medianUs).toBe(4000);
    expect(inj['injected=0'].medianUs).toBe(5);
  });
});
