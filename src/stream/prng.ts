/**
 * The one seeded PRNG every random choice goes through: sfc32 (Chris Doty-Humphrey's
 * Small Fast Counting generator, PractRand-clean at 32 bits), seeded through splitmix32
 * so that nearby seeds give unrelated streams. Deterministic across platforms: only
 * 32-bit integer arithmetic.
 */

/** splitmix32 step: a well-mixed 32-bit value from a 32-bit state. */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Mixes a list of integers (a base seed and labels) into one 32-bit seed, so that each
 * cell of a sweep gets an independent stream whatever order the cells run in.
 */
export function deriveSeed(...parts: readonly (number | string)[]): number {
  let h = 0x12345678;
  for (const p of parts) {
    if (typeof p === 'number') {
      h = splitmix32(h ^ (p >>> 0));
      h = splitmix32(h ^ Math.floor(p / 2 ** 32));
    } else {
      for (let i = 0; i < p.length; i++) h = splitmix32(h ^ p.charCodeAt(i));
      h = splitmix32(h ^ p.length);
    }
  }
  return h >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const s = seed >>> 0;
    this.a = splitmix32(s);
    this.b = splitmix32(this.a ^ 0x6a09e667);
    this.c = splitmix32(this.b ^ 0xbb67ae85);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /**
   * Fills `out[0..n)` with the next `n` values of `nextU32()` (the same sequence), in one
   * tight loop over local state: generators that need tens of millions of draws per
   * second read them from a buffer instead of calling `nextU32()` per draw.
   */
  fillU32(out: Uint32Array, n = out.length): void {
    // `| 0` keeps the loop in int32 arithmetic (the fields may hold values above 2^31).
    let a = this.a | 0;
    let b = this.b | 0;
    let c = this.c | 0;
    let d = this.d | 0;
    for (let i = 0; i < n; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + t) | 0;
      out[i] = t; // a Uint32Array store is ToUint32: the same bits as `t >>> 0`, without a double
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /**
   * The ziggurat's fast path (random-source.ts) fused with the word loop: for each of the
   * next `n` words w, `out[from + k] = (w >>> 8) * we[w & 255]`; the words whose position
   * is not below `ke[w & 255]` (the ~2% that need the slow path) are listed in order in
   * `rareAt` (index into out) and `rareWord`. Returns how many. Consumes the same words as
   * `fillU32(_, n)`; one loop, no word buffer to write and read back.
   */
  fillZigguratFast(
    out: Float64Array,
    from: number,
    n: number,
    ke: Uint32Array,
    we: Float64Array,
    rareAt: Int32Array,
    rareWord: Uint32Array,
  ): number {
    let a = this.a | 0;
    let b = this.b | 0;
    let c = this.c | 0;
    let d = this.d | 0;
    let rare = 0;
    const end = from + n;
    for (let i = from; i < end; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + t) | 0;
      const layer = t & 255;
      const pos = t >>> 8;
      out[i] = pos * we[layer];
      // A branch, not branch-free stores: taken ~2% of the time, so well predicted, and
      // the stores at a data-dependent index stalled the loop (3.4 vs 4.6 ns per variate).
      if (pos >= ke[layer]) {
        rareAt[rare] = i;
        rareWord[rare] = t;
        rare++;
      }
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    return rare;
  }

  /** Fills `out[0..n)` with the next `n` values of `next()` (the same sequence), in one tight loop. */
  fillUnit(out: Float64Array, n = out.length): void {
    let a = this.a | 0;
    let b = this.b | 0;
    let c = this.c | 0;
    let d = this.d | 0;
    for (let i = 0; i < n; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + t) | 0;
      out[i] = (t >>> 0) / 4294967296;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** A uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** An exponential variate with the given mean (inverse transform; never 0 or Infinity). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next() * 0.9999999999);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
