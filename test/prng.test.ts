import { describe, expect, it } from 'vitest';
import { deriveSeed, Prng } from '../src/stream/prng.js';

describe('Prng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextU32()
      )(new Prng(7)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextU32()
      )(new Prng(7)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextU32()
      )(new Prng(8)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
  it('gives uniform floats in [0, 1) with the right mean', () => {
    const r = new Prng(1);
    let sum = 0;
    let outside = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
    }
    expect(outside).toBe(0);
    // Mean 0.5, sd of the mean sqrt(1/12/n) ~ 0.00065: 5 sigma.
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.0033);
  });
  it('derives independent seeds from labels', () => {
    expect(deriveSeed(1, 'a')).toBe(deriveSeed(1, 'a'));
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'));
    expect(deriveSeed(1, 2)).not.toBe(deriveSeed(2, 1));
  });
});
