/**
 * The simulator's hot loop: walk a compiled transition table over run classes, counting
 * visits per cell; every counter is derived from the visit counts afterwards
 * (TransitionTable.totals), so the loop does one table load and one increment per step.
 *
 * The walk is latency-bound: each step's table index depends on the previous step's
 * load. `Walker` halves the chain by stepping two runs at a time through a pair table
 * (state, class a, class b) -> state after both, derived from the one-step table on first
 * use. Classes are renumbered densely (K classes seen so far) to keep the pair table at
 * states x K^2 entries; when that would grow too big it falls back to one-step walking.
 */

import type { TransitionTable } from '../machine/compile.js';
import type { CostState } from '../machine/cost-machine.js';

/**
 * Memory budget of one policy's walk: raw-mode pair entries (8 bytes each; beyond them
 * dense mode is used), dense-mode pair entries (beyond them one step at a time), and
 * one-step table cells (30 bytes each; beyond them the table is flushed and rebuilt).
 * A single simulation can afford big tables (fastest); a suite or a sweep walking many
 * policies at once passes a smaller budget.
 */
export interface WalkBudget {
  readonly maxRawEntries: number;
  readonly maxPairEntries: number;
  readonly maxCells: number;
}

/**
 * Raw pair entries (8 bytes each: next state and visits) beyond which dense classes are
 * used: a raw row is classes^2 entries of which a walk touches a few, so a raw table of
 * many states spreads its working set over far more cache lines than a dense one. Set
 * from measurements on the built-in workloads (bench: walk / bare per policy x workload).
 */
const RAW_CACHE_ENTRIES = 1 << 20;

/** Runs of a single walk, compiling fewer than 1/64 new cells, that end the warm-up. */
const WARMUP_RUNS = 1024;

/** One policy at a time: ~32 MiB raw, 8 MiB dense, 15 MiB of cells. */
export const SINGLE_BUDGET: WalkBudget = {
  maxRawEntries: 1 << 22,
  maxPairEntries: 1 << 20,
  maxCells: 1 << 19,
};
/** The built-in policies walked together: ~4 MiB raw, 2 MiB dense, 7.5 MiB of cells each. */
export const SUITE_BUDGET: WalkBudget = {
  maxRawEntries: 1 << 19,
  maxPairEntries: 1 << 18,
  maxCells: 1 << 18,
};
/** A sweep's batch of policies: ~0.5 MiB raw, 1 MiB dense, 4 MiB of cells each. */
export const SWEEP_BUDGET: WalkBudget = {
  maxRawEntries: 1 << 16,
  maxPairEntries: 1 << 17,
  maxCells: 1 << 17,
};

/**
 * Walks `n` run classes from state `s` one at a time; returns the state after the last run.
 * Cost: O(n) plus the compilation of cells seen for the first time.
 */
function walkChunk(
  table: TransitionTable,
  cls: ArrayLike<number>,
  n: number,
  s: number,
  from = 0,
): number {
  const nc = table.classCount;
  let next = table.next;
  let visits = table.visits;
  for (let i = from; i < n; i++) {
    const c = cls[i];
    let cell = s * nc + c;
    let t = next[cell];
    if (t < 0) {
      t = table.compile(s, c);
      cell = table.lastCell;
      next = table.next;
      visits = table.visits;
    }
    visits[cell] += 1;
    s = t;
  }
  return s;
}

/**
 * The practical limit the walk is measured against: the least a simulator must do per run
 * over the same column, one load and one counter increment (a histogram of run classes).
 */
export function bareLoop(cls: Uint16Array, n: number, counts: Int32Array): void {
  for (let i = 0; i < n; i++) counts[cls[i]]++;
}

type PairMode = 'warmup' | 'raw' | 'dense' | 'single';

/**
 * Walks a stream chunk by chunk through a table, two runs per step where it can.
 * It starts one run at a time (`warmup`) until a walk of at least WARMUP_RUNS compiles
 * few new cells (the table has settled: building pair tables for a table that keeps
 * growing would be wasted), then tries, in order, while the pair table fits the budget:
 * - `raw`: pair index = s * nc^2 + a * nc + b on the run classes as they are (fastest);
 * - `dense`: classes renumbered to the K seen so far, K - 1 reserved for "not seen";
 * - `single`: one run per step.
 */
export class Walker {
  /** Current one-step state id. */
  state: number;
  private mode: PairMode = 'warmup';
  /** Pair stride K: run classes (raw) or dense slots (dense). */
  private k: number;
  /** Dense id of each run class (identity in raw mode); K - 1 = unseen in dense mode. */
  private readonly dense: Int32Array;
  /** 2 * dense[c] * K and 2 * dense[c], precomputed so the dense loop does not multiply. */
  private readonly denseRow: Int32Array;
  private readonly dense2: Int32Array;
  /** Run class of each pair slot. */
  private classOf: number[];
  /** Run classes seen so far, in order of first sight. */
  private readonly seen: number[] = [];
  private readonly isSeen: Uint8Array;
  /**
   * The pair table, next state and visits interleaved so one step touches one cache line:
   * pair[2e] = 2 * (state after runs a, b) * K^2 or -1, pair[2e + 1] = visits of entry
   * e = s*K^2 + a*K + b (pair steps are flushed before 2^30, so visits stay positive).
   */
  private pair = new Int32Array(0);
  /** Pair steps since the last flush (visits are 32-bit: flush long before they can wrap). */
  private pairSteps = 0;
  private pairStates = 0;

  constructor(
    private readonly table: TransitionTable,
    private readonly budget: WalkBudget = SINGLE_BUDGET,
  ) {
    this.state = table.initialState;
    const nc = table.classCount;
    this.k = nc;
    this.dense = Int32Array.from({ length: nc }, (_, c) => c);
    this.denseRow = Int32Array.from({ length: nc }, (_, c) => 2 * c * nc);
    this.dense2 = Int32Array.from({ length: nc }, (_, c) => 2 * c);
    this.classOf = Array.from({ length: nc }, (_, c) => c);
    this.isSeen = new Uint8Array(nc);
    // Pair tables hold state ids: fold them away before an eviction renumbers the states.
    table.beforeEvict = () => {
      if (this.mode === 'raw' || this.mode === 'dense') this.toSingle();
    };
  }

  /**
   * Leaves warm-up: pair steps on raw classes if that table stays small enough to live in
   * a core's cache, else on dense classes (smaller rows: the pairs a walk touches share
   * cache lines), else one run at a time.
   */
  private startPairs(): void {
    this.mode = 'raw';
    const nc = this.table.classCount;
    if (
      this.table.stateCount * nc * nc > RAW_CACHE_ENTRIES ||
      !this.ensurePairStates(this.table.stateCount)
    )
      this.toDense();
  }

  /** States in the walked table (for diagnostics and benchmarks). */
  get tableStates(): number {
    return this.table.stateCount;
  }

  /** The current mode (for diagnostics and benchmarks). */
  get pairMode(): PairMode {
    return this.mode;
  }

  /** The cost machine's state equivalent to the walk's current one. */
  costState(): CostState {
    return this.table.stateOf(this.state);
  }

  /** Walks `n` runs of `cls`. Cost: O(n) plus first-visit compilation. */
  walk(cls: Uint16Array, n: number): void {
    this.pairSteps += n;
    if (this.pairSteps > 2 ** 30) {
      this.flushPairs();
      this.pairSteps = n;
    }
    if (this.mode === 'warmup') {
      const before = this.table.cellsCompiled;
      this.state = walkChunk(this.table, cls, n, this.state);
      if (n >= WARMUP_RUNS && (this.table.cellsCompiled - before) * 64 < n) this.startPairs();
      return;
    }
    let i = 0;
    if (this.mode === 'raw') i = this.walkRaw(cls, n);
    if (this.mode === 'dense' && i + 1 < n) i = this.walkDense(cls, n, i);
    if (i < n) this.state = walkChunk(this.table, cls, n, this.state, i);
  }

  /** Pair steps on raw classes; returns the index reached (mode may have changed). */
  private walkRaw(cls: Uint16Array, n: number): number {
    let k = this.k;
    let k2 = 2 * k * k;
    let k1 = 2 * k;
    let pair = this.pair;
    // `| 0` keeps b a small integer to V8: a double here would make the whole loop float.
    let b = (this.state * k2) | 0;
    let i = 0;
    while (i + 1 < n) {
      const e = b + cls[i] * k1 + 2 * cls[i + 1];
      const t = pair[e];
      if (t >= 0) {
        pair[e + 1] += 1;
        b = t;
        i += 2;
        continue;
      }
      const s = (b / k2) | 0;
      if (!this.pairMiss(s, cls[i], cls[i + 1]) || this.mode !== 'raw') {
        this.state = s;
        return i;
      }
      k = this.k;
      k2 = 2 * k * k;
      k1 = 2 * k;
      pair = this.pair;
      b = (s * k2) | 0;
    }
    this.state = (b / k2) | 0;
    return i;
  }

  /**
   * Pair steps on densely renumbered classes, from index `i`; returns the index reached.
   * A twin of walkRaw kept for speed: one loop with a class lookup would slow the raw one.
   */
  private walkDense(cls: Uint16Array, n: number, i: number): number {
    const dense2 = this.dense2;
    const row = this.denseRow;
    let k = this.k;
    let k2 = 2 * k * k;
    let pair = this.pair;
    // `| 0` keeps b a small integer to V8: a double here would make the whole loop float.
    let b = (this.state * k2) | 0;
    while (i + 1 < n) {
      const e = b + row[cls[i]] + dense2[cls[i + 1]];
      const t = pair[e];
      if (t >= 0) {
        pair[e + 1] += 1;
        b = t;
        i += 2;
        continue;
      }
      const s = (b / k2) | 0;
      if (!this.pairMiss(s, cls[i], cls[i + 1])) {
        this.state = s;
        return i;
      }
      k = this.k;
      k2 = 2 * k * k;
      pair = this.pair;
      b = (s * k2) | 0;
    }
    this.state = (b / k2) | 0;
    return i;
  }

  /** Folds pair visits into the one-step table's visits. Call before reading totals. */
  flushPairs(): void {
    const t = this.table;
    const nc = t.classCount;
    const k = this.k;
    const k2 = k * k;
    const pair = this.pair;
    const entries = pair.length >> 1;
    for (let cell = 0; cell < entries; cell++) {
      const v = pair[2 * cell + 1];
      if (v === 0) continue;
      pair[2 * cell + 1] = 0;
      const s = Math.floor(cell / k2);
      const r = cell - s * k2;
      const a = this.classOf[Math.floor(r / k)];
      const b = this.classOf[r % k];
      const cellA = s * nc + a;
      const mid = t.next[cellA];
      // A pair cell exists only once both of its one-step cells are compiled.
      if (mid < 0) throw new Error(`walker: pair cell ${cell} has no one-step cell behind it`);
      t.visits[cellA] += v;
      t.visits[mid * nc + b] += v;
    }
  }

  /** Totals of every metric after the walk. */
  totals(): Float64Array {
    this.flushPairs();
    return this.table.totals();
  }

  private resetPairs(): void {
    this.flushPairs();
    this.pairStates = 0;
    this.pair = new Int32Array(0);
  }

  /** Switches to dense mode with room for twice the classes seen so far. */
  private toDense(): void {
    this.resetPairs();
    this.mode = 'dense';
    this.k = Math.max(4, 2 * this.seen.length + 1);
    this.layoutDense();
  }

  private layoutDense(): void {
    const unseen = this.k - 1;
    this.dense.fill(unseen);
    this.dense2.fill(2 * unseen);
    this.denseRow.fill(2 * unseen * this.k);
    this.classOf = this.seen.slice();
    this.seen.forEach((c, d) => {
      this.dense[c] = d;
      this.dense2[c] = 2 * d;
      this.denseRow[c] = 2 * d * this.k;
    });
    if (!this.ensurePairStates(this.table.stateCount)) this.toSingle();
  }

  private toSingle(): void {
    this.resetPairs();
    this.mode = 'single';
  }

  /** Grows the pair table to cover `states` states; false when it would not fit. */
  private ensurePairStates(states: number): boolean {
    if (states <= this.pairStates) return true;
    const k2 = this.k * this.k;
    const max = this.mode === 'raw' ? this.budget.maxRawEntries : this.budget.maxPairEntries;
    let cap = Math.max(8, this.pairStates);
    while (cap < states) cap *= 2;
    if (cap * k2 > max) cap = states;
    if (cap * k2 > max) return false;
    const pair = new Int32Array(2 * cap * k2).fill(-1);
    for (let v = 1; v < pair.length; v += 2) pair[v] = 0;
    pair.set(this.pair);
    this.pair = pair;
    this.pairStates = cap;
    return true;
  }

  /** Notes a run class; in dense mode gives it a slot (widening the layout when full). */
  private see(c: number): void {
    if (this.isSeen[c]) return;
    this.isSeen[c] = 1;
    this.seen.push(c);
    if (this.mode !== 'dense') return;
    const id = this.seen.length - 1;
    if (id >= this.k - 1) {
      this.resetPairs();
      this.k = 2 * this.k;
      this.layoutDense();
    } else {
      this.dense[c] = id;
      this.dense2[c] = 2 * id;
      this.denseRow[c] = 2 * id * this.k;
      this.classOf[id] = c;
    }
  }

  /**
   * Builds pair cell (s, ca, cb) from the one-step table, compiling one-step cells as
   * needed. Returns false when the caller must step one run at a time from state s.
   * The mode or layout may change: callers reload K and the arrays.
   */
  private pairMiss(s: number, ca: number, cb: number): boolean {
    const t = this.table;
    if (t.nearlyFull) {
      // One-step compilation may flush and renumber states: leave pair mode first.
      this.toSingle();
      return false;
    }
    this.see(ca);
    this.see(cb);
    if (this.mode === 'single') return false;
    const nc = t.classCount;
    let mid = t.next[s * nc + ca];
    if (mid < 0) mid = t.compile(s, ca);
    let end = t.next[mid * nc + cb];
    if (end < 0) end = t.compile(mid, cb);
    if (!this.ensurePairStates(t.stateCount)) {
      if (this.mode === 'raw') this.toDense();
      else this.toSingle();
      return (this.mode as PairMode) !== 'single';
    }
    const k = this.k;
    this.pair[2 * (s * k * k + this.dense[ca] * k + this.dense[cb])] = 2 * end * k * k;
    return true;
  }
}
