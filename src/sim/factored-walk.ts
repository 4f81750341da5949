/**
 * The walk of a factored table (src/machine/factored.ts): two runs per step through a
 * pair table over (state, class a, class b) on densely renumbered classes, as `Walker`
 * does for a plain table, with the controller stepped beside it: one load of the
 * controller table per pair on one vCPU (a pair of runs is a column of its own), two on
 * several (one per run, branch-free on which vCPU runs). A pair during which a vCPU's
 * mode changes (a counter reaching its threshold: once every few hundred runs) is
 * stepped one run at a time.
 */

import { type CostState, METRIC_COUNT } from '../machine/cost-machine.js';
import { type FactoredTable, MODE_CHANGE } from '../machine/factored.js';
import { QuadWalk } from './factored-quad.js';
import type { WalkBudget } from './walk.js';

/**
 * Ints per pair entry: next state (premultiplied), visits, column a (the pair's column when
 * both runs are on one vCPU), column b (0 then). The vCPUs come from the classes: 16-byte
 * entries keep a two-vCPU walk's pairs (12 states x 40 classes^2 on the mixed stream) in
 * half the cache lines 32-byte ones took.
 */
const STRIDE = 4;

export class FactoredWalker {
  /** Current table state. */
  state: number;
  /** Dense slots per class row (a power of two); the last one means "not seen yet". */
  private k = 8;
  private readonly dense: Int32Array;
  /** STRIDE * dense[c] * k and STRIDE * dense[c]: a pair entry's offsets without a multiply. */
  private readonly row: Int32Array;
  private readonly col: Int32Array;
  /** The vCPU of each run class. */
  private readonly vcpuOf: Int32Array;
  private classOf: number[] = [];
  private pair = new Int32Array(0);
  private pairStates = 0;
  private pairSteps = 0;
  /** One run at a time (the pair table would not fit the budget). */
  private single = false;
  /** The table's controller layout the pair entries' columns are premultiplied for. */
  private layoutSeen: number;
  private strideSeen: number;
  /** Four runs a step, while the stream and the budget allow (one vCPU). */
  private readonly quads: QuadWalk;
  /** One vCPU: its entry never leaves the loop's local. */
  private readonly oneVcpu: boolean;

  constructor(
    private readonly table: FactoredTable,
    private readonly budget: WalkBudget,
  ) {
    this.state = table.initialState;
    this.oneVcpu = table.vcpus.length === 1;
    this.quads = new QuadWalk(table, budget.maxPairEntries);
    this.layoutSeen = table.layout;
    this.strideSeen = table.stride;
    const nc = table.classCount;
    this.dense = new Int32Array(nc);
    this.row = new Int32Array(nc);
    this.col = new Int32Array(nc);
    this.vcpuOf = Int32Array.from({ length: nc }, (_, c) =>
      Math.floor(c / (nc / table.vcpus.length)),
    );
    this.layout();
  }

  /** How it walks (for diagnostics and benchmarks). */
  get pairMode(): string {
    if (this.quads.on) return 'factored-quads';
    return this.single ? 'factored-single' : 'factored-pairs';
  }

  /** The cost machine's state equivalent to the walk's current one. */
  costState(): CostState {
    return this.table.costState(this.state);
  }

  /** Walks `n` runs of `cls`. Cost: O(n) plus first-visit compilation. */
  walk(cls: Uint16Array, n: number): void {
    this.pairSteps += n;
    if (this.pairSteps > 2 ** 30) {
      this.flushPairs();
      this.pairSteps = n;
    }
    let i = 0;
    if (this.quads.on) [i, this.state] = this.quads.walk(cls, n, this.state);
    this.syncLayout();
    if (!this.single) i = this.oneVcpu ? this.walkPairsOne(cls, n, i) : this.walkPairs(cls, n, i);
    for (; i < n; i++) this.state = this.table.step(this.state, cls[i]);
    this.syncLayout();
  }

  /**
   * The hot loop on several vCPUs, kept apart from `Walker.walkDense` for speed (its entries
   * carry the controller's columns). Branch-free on the vCPUs: each pair steps vCPU a's
   * entry by column a, then vCPU b's by column b (on one vCPU: the same entry, the two
   * runs' columns in turn), in `ent` itself; a branch on which vCPU runs mispredicted on
   * the mixed stream (a sixth of pairs span both). An entry not compiled or a mode change
   * (negative) is masked into range, and undone. Returns the index reached.
   */
  private walkPairs(cls: Uint16Array, n: number, from: number): number {
    const ent = this.table.ent;
    const vcpuOf = this.vcpuOf;
    let [fast, row, col, pair, k2] = this.loopArrays();
    let mask = this.table.stride - 1;
    // `| 0` keeps b a small integer to V8: a double here would make the whole loop float.
    let b = (this.state * k2) | 0;
    let i = from;
    while (i + 1 < n) {
      const ca = cls[i];
      const cb = cls[i + 1];
      const x = b + row[ca] + col[cb];
      const t = pair[x];
      if (t >= 0) {
        const va = vcpuOf[ca];
        const vb = vcpuOf[cb];
        const ea = ent[va];
        const ga = fast[pair[x + 2] + ea];
        ent[va] = ga & mask;
        const eb = ent[vb];
        const gb = fast[pair[x + 3] + eb];
        ent[vb] = gb & mask;
        if ((ga | gb) >= 0) {
          pair[x + 1] += 1;
          b = t;
          i += 2;
          continue;
        }
        // Undone in reverse order: on one vCPU, eb is the masked ga.
        ent[vb] = eb;
        ent[va] = ea;
        if (ga === MODE_CHANGE || (ga >= 0 && gb === MODE_CHANGE)) {
          // A counter reached its threshold during the pair: two single steps.
          b = (k2 * this.twoSteps((b / k2) | 0, ca, cb)) | 0;
          i += 2;
          fast = this.table.ctrlFast;
          mask = this.table.stride - 1;
          continue;
        }
      }
      this.state = (b / k2) | 0;
      i += this.pairMiss(ca, cb);
      if (this.single) return i;
      [fast, row, col, pair, k2] = this.loopArrays();
      mask = this.table.stride - 1;
      b = (this.state * k2) | 0;
    }
    this.state = (b / k2) | 0;
    return i;
  }

  /** The arrays and pair row stride the pair loops read (reloaded after a miss). */
  private loopArrays(): [Int32Array, Int32Array, Int32Array, Int32Array, number] {
    return [this.table.ctrlFast, this.row, this.col, this.pair, STRIDE * this.k * this.k];
  }

  /** Two single steps from state s (a mode changes during the pair); the state after. */
  private twoSteps(s: number, a: number, b: number): number {
    const t = this.table;
    const after = t.step(t.step(s, a), b);
    this.syncLayout();
    return after;
  }

  /**
   * `walkPairs` for one vCPU, kept apart for speed: no vCPU checks (they cost a third of
   * the loop's time on one vCPU). Returns the index reached.
   */
  private walkPairsOne(cls: Uint16Array, n: number, from: number): number {
    const ent = this.table.ent;
    let fast = this.table.ctrlFast;
    let row = this.row;
    let col = this.col;
    let pair = this.pair;
    let k2 = STRIDE * this.k * this.k;
    // `| 0` keeps b a small integer to V8: a double here would make the whole loop float.
    let b = (this.state * k2) | 0;
    let g = ent[0];
    let i = from;
    while (i + 1 < n) {
      const x = b + row[cls[i]] + col[cls[i + 1]];
      const t = pair[x];
      if (t >= 0) {
        const ga = fast[pair[x + 2] + g];
        if (ga >= 0) {
          g = ga;
          pair[x + 1] += 1;
          b = t;
          i += 2;
          continue;
        }
        if (ga === MODE_CHANGE) {
          // A counter reached its threshold during the pair: two single steps.
          const tb = this.table;
          ent[0] = g;
          b = (k2 * tb.step(tb.step((b / k2) | 0, cls[i]), cls[i + 1])) | 0;
          g = ent[0];
          i += 2;
          if (tb.layout !== this.layoutSeen) {
            this.syncLayout();
            fast = tb.ctrlFast;
          }
          continue;
        }
      }
      ent[0] = g;
      this.state = (b / k2) | 0;
      i += this.pairMiss(cls[i], cls[i + 1]);
      g = ent[0];
      if (this.single) return i;
      fast = this.table.ctrlFast;
      row = this.row;
      col = this.col;
      pair = this.pair;
      k2 = STRIDE * this.k * this.k;
      b = (this.state * k2) | 0;
    }
    ent[0] = g;
    this.state = (b / k2) | 0;
    return i;
  }

  /**
   * Makes progress on pair (state, a, b): gives the classes slots, builds the pair entry,
   * or compiles its controller cells (returns 0: retry); or, when a mode changes during
   * the pair, steps both runs one at a time (returns 2). The pair entries follow any new
   * controller layout on return.
   */
  private pairMiss(a: number, b: number): number {
    const used = this.pairProgress(a, b);
    this.syncLayout();
    return used;
  }

  /** `pairMiss` before the layout is followed. */
  private pairProgress(a: number, b: number): number {
    if (this.dense[a] === this.k - 1 || this.dense[b] === this.k - 1) {
      this.see(a);
      this.see(b);
      return 0;
    }
    const t = this.table;
    const x = this.entryOf(this.state, a, b);
    if (this.single) return 0;
    const p = this.pair;
    if (p[x] < 0) {
      this.buildPair(x, a, b);
      return 0;
    }
    if (!this.controllersMiss(x, a, b)) return 0;
    this.state = t.step(t.step(this.state, a), b);
    return 2;
  }

  /** Rescales the pair entries' columns after the table laid its controller out again. */
  private syncLayout(): void {
    const t = this.table;
    if (t.layout === this.layoutSeen) return;
    const p = this.pair;
    for (let x = 0; x < p.length; x += STRIDE) {
      if (p[x] < 0) continue;
      p[x + 2] = (p[x + 2] / this.strideSeen) * t.stride;
      p[x + 3] = (p[x + 3] / this.strideSeen) * t.stride;
    }
    this.layoutSeen = t.layout;
    this.strideSeen = t.stride;
  }

  /**
   * Compiles pair entry x's controller cells (a, b) as needed; true when a mode changes
   * during the pair. One vCPU: one cell of the pair's column. Several: a cell of column a
   * from vCPU a's entry, then one of column b from vCPU b's (after a's when they are one).
   */
  private controllersMiss(x: number, a: number, b: number): boolean {
    const ent = this.table.ent;
    const [va, vb] = [this.vcpuOf[a], this.vcpuOf[b]];
    const ga = this.controllerCell(ent[va], x + 2);
    if (this.oneVcpu || ga === MODE_CHANGE) return ga === MODE_CHANGE;
    return this.controllerCell(va === vb ? ga : ent[vb], x + 3) === MODE_CHANGE;
  }

  /** Controller cell (entry e, the column at pair[at]), compiled if needed. */
  private controllerCell(e: number, at: number): number {
    const t = this.table;
    let g = t.ctrlFast[this.pair[at] + e];
    if (g === -1) g = t.compileController(e, this.pair[at] / t.stride);
    this.syncLayout();
    return g;
  }

  /** The pair entry's index for (s, a, b), growing the pair table to hold state s. */
  private entryOf(s: number, a: number, b: number): number {
    if (s >= this.pairStates) this.ensurePairStates(this.table.stateCount);
    return STRIDE * (s * this.k * this.k) + this.row[a] + this.col[b];
  }

  /** Fills pair entry x for (state, a, b) from the one-run cells, compiling them as needed. */
  private buildPair(x: number, a: number, b: number): void {
    const t = this.table;
    const nc = t.classCount;
    const cellA = this.state * nc + a;
    if (t.next[cellA] < 0) t.compileCell(this.state, a);
    const mid = t.next[cellA];
    const cellB = mid * nc + b;
    if (t.next[cellB] < 0) t.compileCell(mid, b);
    const end = t.next[cellB];
    if (!this.ensurePairStates(t.stateCount)) return;
    const p = this.pair;
    p[x] = STRIDE * end * this.k * this.k;
    if (this.oneVcpu) {
      p[x + 2] = t.pairColumn(t.column[cellA], t.column[cellB]) * t.stride;
      p[x + 3] = 0;
    } else {
      p[x + 2] = t.column[cellA] * t.stride;
      p[x + 3] = t.column[cellB] * t.stride;
    }
  }

  /** Gives class c a dense slot (doubling the slots when they run out). */
  private see(c: number): void {
    if (this.dense[c] !== this.k - 1) return;
    this.classOf.push(c);
    if (this.classOf.length >= this.k) {
      this.flushPairs();
      this.k *= 2;
      this.pair = new Int32Array(0);
      this.pairStates = 0;
    }
    this.layout();
  }

  private layout(): void {
    const unseen = this.k - 1;
    this.dense.fill(unseen);
    this.classOf.forEach((c, d) => {
      this.dense[c] = d;
    });
    for (let c = 0; c < this.dense.length; c++) {
      this.row[c] = STRIDE * this.dense[c] * this.k;
      this.col[c] = STRIDE * this.dense[c];
    }
    if (!this.ensurePairStates(this.table.stateCount)) this.toSingle();
  }

  /** Grows the pair table to cover `states` states; false (and one run at a time) when it would not fit. */
  private ensurePairStates(states: number): boolean {
    if (states <= this.pairStates) return true;
    const k2 = this.k * this.k;
    let cap = Math.max(8, this.pairStates);
    while (cap < states) cap *= 2;
    if (cap * k2 > this.budget.maxPairEntries) {
      this.toSingle();
      return false;
    }
    const pair = new Int32Array(STRIDE * cap * k2);
    for (let e = 0; e < pair.length; e += STRIDE) pair[e] = -1;
    pair.set(this.pair);
    this.pair = pair;
    this.pairStates = cap;
    return true;
  }

  private toSingle(): void {
    this.flushPairs();
    this.pair = new Int32Array(0);
    this.pairStates = 0;
    this.single = true;
  }

  /** Folds pair visits into the one-run cells' visits. */
  private flushPairs(): void {
    const t = this.table;
    const nc = t.classCount;
    const k = this.k;
    const p = this.pair;
    for (let x = 0; x < p.length; x += STRIDE) {
      const n = p[x + 1];
      if (n === 0) continue;
      p[x + 1] = 0;
      const e = x / STRIDE;
      const s = Math.floor(e / (k * k));
      const r = e - s * k * k;
      const cellA = s * nc + this.classOf[Math.floor(r / k)];
      // No mode changes inside a pair step: the second run starts where the one-run table says.
      t.visits[cellA] += n;
      t.visits[t.next[cellA] * nc + this.classOf[r % k]] += n;
    }
  }

  /** Totals of every metric after the walk. */
  totals(): Float64Array {
    this.flushPairs();
    this.quads.flush();
    const out = this.table.totals();
    if (out.length !== METRIC_COUNT) throw new Error('factored walk: metric count');
    return out;
  }
}
