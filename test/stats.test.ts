/** Means and 95% intervals over seeds. */
import { describe, expect, it } from 'vitest';
import { estimate, NON_NEGATIVE, SHARE, t95 } from '../src/util/stats.js';

describe('t95', () => {
  it('matches the table at tabulated df and errs wide between them', () => {
    expect(t95(1)).toBe(12.706);
    expect(t95(4)).toBe(2.776);
    expect(t95(30)).toBe(2.042);
    expect(t95(31)).toBe(2.042);
    expect(t95(40)).toBe(2.021);
    expect(t95(59)).toBe(2.021);
    expect(t95(60)).toBe(2.0);
    expect(t95(1000)).toBe(1.98);
    expect(t95(0)).toBeNaN();
  });
});

describe('estimate', () => {
  it('mean and t interval of five samples', () => {
    const e = estimate([1, 2, 3, 4, 5]);
    expect(e.mean).toBe(3);
    // s = sqrt(2.5), half = 2.776 * s / sqrt(5)
    expect(e.hi - e.mean).toBeCloseTo((2.776 * Math.sqrt(2.5)) / Math.sqrt(5), 12);
    expect(e.n).toBe(5);
  });

  it('one sample: a zero-width interval; none: NaN', () => {
    expect(estimate([0.4])).toEqual({ mean: 0.4, lo: 0.4, hi: 0.4, n: 1 });
    expect(estimate([]).mean).toBeNaN();
  });

  it('a share never leaves [0, 1]; a count never goes below 0', () => {
    const s = estimate([0.98, 1, 1], SHARE);
    expect(s.hi).toBe(1);
    expect(s.lo).toBeLessThan(s.mean);
    expect(estimate([0.98, 1, 1]).hi).toBeGreaterThan(1);
    expect(estimate([0, 0, 0.03], NON_NEGATIVE).lo).toBe(0);
  });
});
