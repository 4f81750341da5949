/**
 * A buffered view of the one seeded PRNG (prng.ts) for hot generator loops: uniform and
 * standard exponential variates are produced a block at a time from the PRNG's words
 * (`Prng.fillUnit`, `Prng.fillZigguratFast`: tight loops) and handed out one by one.
 * Hot loops may read the blocks directly (`E`, `U`, with the indices `ei`, `ui`, calling
 * `refillE` / `refillU` when an index reaches BLOCK); everything else calls `exp()` and
 * `uniform()`. The sequence of variates depends only on the seed.
 *
 * Exponential variates use the ziggurat method (Marsaglia & Tsang, "The Ziggurat Method
 * for Generating Random Variables", J. Stat. Software 5(8), 2000: the 256-layer REXP
 * tables). Unlike the original, the layer index (low 8 bits) and the position within the
 * layer (high 24 bits) come from disjoint bits of the word, avoiding the correlation
 * Doornik described ("An Improved Ziggurat Method to Generate Normal Random Samples",
 * 2005). About 98% of draws take one word, a compare and a multiply; no logarithm.
 */

import { Prng } from './prng.js';

/** Variates per block. */
export const BLOCK = 2048;
const TWO_POW_24 = 16777216;
const U32_TO_UNIT = 1 / 4294967296;
/** Right edge of the base layer (Marsaglia & Tsang, REXP: de = 7.697117470131487). */
const ZIG_R = 7.697117470131487;
/** Area of each layer (Marsaglia & Tsang, REXP: ve = 3.949659822581572e-3). */
const ZIG_V = 3.949659822581572e-3;

/** Ziggurat tables for 24-bit positions: accept thresholds, layer widths, densities at the edges. */
const KE = new Uint32Array(256);
const WE = new Float64Array(256);
const FE = new Float64Array(256);
(function buildTables() {
  let de = ZIG_R;
  let te = de;
  const q = ZIG_V / Math.exp(-de);
  KE[0] = Math.floor((de / q) * TWO_POW_24);
  KE[1] = 0;
  WE[0] = q / TWO_POW_24;
  WE[255] = de / TWO_POW_24;
  FE[0] = 1;
  FE[255] = Math.exp(-de);
  for (let i = 254; i >= 1; i--) {
    de = -Math.log(ZIG_V / de + Math.exp(-de));
    KE[i + 1] = Math.floor((de / te) * TWO_POW_24);
    te = de;
    FE[i] = Math.exp(-de);
    WE[i] = de / TWO_POW_24;
  }
})();

export class RandomSource {
  private readonly prng: Prng;
  /** Where in E a block's words that need the ziggurat's slow path go, and those words. */
  private readonly rareAt = new Int32Array(BLOCK + 1);
  private readonly rareWord = new Uint32Array(BLOCK + 1);
  /** Block of standard exponential variates; `ei` is the next unread one. */
  readonly E = new Float64Array(BLOCK);
  /** Block of uniform variates in [0, 1); `ui` is the next unread one. */
  readonly U = new Float64Array(BLOCK);
  ei = BLOCK;
  ui = BLOCK;

  constructor(seed: number) {
    this.prng = new Prng(seed);
  }

  /** The next standard exponential variate (mean 1). */
  exp(): number {
    if (this.ei >= BLOCK) this.refillE();
    return this.E[this.ei++];
  }

  /** The next uniform variate in [0, 1) (32 bits of resolution). */
  uniform(): number {
    if (this.ui >= BLOCK) this.refillU();
    return this.U[this.ui++];
  }

  /**
   * Moves the unread variates of both blocks to their fronts and fills the rest, so that
   * at least `BLOCK - (unread before)` fresh ones follow: a hot loop calls it between
   * runs and then needs no bounds check per draw. Unread variates keep their order; the
   * fresh ones come from the PRNG's next words, so the sequence depends only on the seed
   * and on when the caller tops up (a deterministic function of the seed for a generator).
   */
  topUp(): void {
    if (this.ei > 0) {
      const keep = BLOCK - this.ei;
      this.E.copyWithin(0, this.ei);
      this.fillE(keep);
      this.ei = 0;
    }
    if (this.ui > 0) {
      const keep = BLOCK - this.ui;
      this.U.copyWithin(0, this.ui);
      this.prng.fillUnit(this.U.subarray(keep));
      this.ui = 0;
    }
  }

  /**
   * Refills `E` and resets `ei`. Cost: O(BLOCK). The fast path runs over the whole block
   * first; the rare layers that need the slow path (~2%) are redone afterwards in index
   * order, so the words they draw come in the same order as a draw-by-draw ziggurat.
   */
  refillE(): void {
    this.fillE(0);
    this.ei = 0;
  }

  /** Fills E[from..BLOCK) with fresh variates. */
  private fillE(from: number): void {
    const E = this.E;
    const rareAt = this.rareAt;
    const rareWord = this.rareWord;
    const rare = this.prng.fillZigguratFast(E, from, BLOCK - from, KE, WE, rareAt, rareWord);
    for (let r = 0; r < rare; r++) {
      const w = rareWord[r];
      E[rareAt[r]] = this.expSlow(w & 255, w >>> 8);
    }
  }

  /** Refills `U` and resets `ui`. Cost: O(BLOCK). */
  refillU(): void {
    this.prng.fillUnit(this.U);
    this.ui = 0;
  }

  /** The ziggurat's rare paths (base-layer tail, wedges), drawing further words directly. */
  private expSlow(layer: number, pos: number): number {
    const p = this.prng;
    for (;;) {
      // The tail beyond R: R + Exp(1) by memorylessness.
      if (layer === 0) return ZIG_R - Math.log(1 - p.nextU32() * U32_TO_UNIT);
      const x = pos * WE[layer];
      if (FE[layer] + p.nextU32() * U32_TO_UNIT * (FE[layer - 1] - FE[layer]) < Math.exp(-x))
        return x;
      const w = p.nextU32();
      layer = w & 255;
      pos = w >>> 8;
      if (pos < KE[layer]) return pos * WE[layer];
    }
  }
}
