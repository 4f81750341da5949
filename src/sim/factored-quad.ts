/**
 * Four runs per step through a factored table (src/machine/factored.ts), for one vCPU
 * whose stream uses at most 15 run classes: a step is one load of the quad table and one
 * of the controller table for four runs. On a factored table the controller's load is a
 * second chain beside the walk's; with pairs the two chains cost about twice the bare
 * loop, with quads each is paid once per four runs. `FactoredWalker` falls back to pairs
 * when a stream outgrows the quad table.
 */

import { type FactoredTable, MODE_CHANGE } from '../machine/factored.js';

/** Ints per quad entry: next state's row base (0: not built), visits, column (premultiplied), unused. */
const STRIDE = 4;
/**
 * Entries built beyond which quads are left for pairs: a stream with many classes in
 * many orders (virtio-io: 28,000 quads) spreads its steps over more cache than pairs do.
 */
const MAX_BUILT = 4096;
/** Dense class slots per position (the last one means "not seen yet"). */
const K = 16;
const K4 = K * K * K * K;

export class QuadWalk {
  /** False once the stream or the table outgrew the quad table (the caller uses pairs). */
  on = true;
  private readonly dense: Int32Array;
  /** STRIDE * dense[c] * K^(3 - j): a class's offset at position j of the quad. */
  private readonly q: Int32Array[];
  private classOf: number[] = [];
  /** Row of state s at (s + 1) * STRIDE * K^4, so that 0 marks an entry not built. */
  private quad = new Int32Array(0);
  private quadStates = 0;
  private steps = 0;
  private built = 0;
  private layoutSeen: number;
  private strideSeen: number;

  constructor(
    private readonly table: FactoredTable,
    private readonly maxEntries: number,
  ) {
    const nc = table.classCount;
    this.dense = new Int32Array(nc).fill(K - 1);
    this.q = [0, 1, 2, 3].map((j) => Int32Array.from(this.dense, (d) => STRIDE * d * K ** (3 - j)));
    this.layoutSeen = table.layout;
    this.strideSeen = table.stride;
    this.on = table.vcpus.length === 1 && this.ensureStates(table.stateCount);
  }

  /**
   * The hot loop (kept apart from the pair loops for speed). Walks from `state` while at
   * least four runs are left; returns [index reached, state there].
   */
  walk(cls: Uint16Array, n: number, state: number): [number, number] {
    this.steps += n;
    if (this.steps > 2 ** 30) {
      this.flush();
      this.steps = n;
    }
    this.syncLayout();
    const t = this.table;
    const ent = t.ent;
    let fast = t.ctrlFast;
    let [q0, q1, q2, q3] = this.q;
    let quad = this.quad;
    const row = STRIDE * K4;
    let b = (row * (state + 1)) | 0;
    let g = ent[0];
    let i = 0;
    while (i + 3 < n) {
      const x = b + q0[cls[i]] + q1[cls[i + 1]] + q2[cls[i + 2]] + q3[cls[i + 3]];
      const next = quad[x];
      if (next > 0) {
        const ga = fast[quad[x + 2] + g];
        if (ga >= 0) {
          g = ga;
          quad[x + 1] += 1;
          b = next;
          i += 4;
          continue;
        }
        if (ga === MODE_CHANGE) {
          // A counter reached its threshold inside the quad: four single steps.
          ent[0] = g;
          let s = b / row - 1;
          s = t.step(t.step(t.step(t.step(s, cls[i]), cls[i + 1]), cls[i + 2]), cls[i + 3]);
          g = ent[0];
          i += 4;
          b = (row * (s + 1)) | 0;
          if (t.layout !== this.layoutSeen) {
            this.syncLayout();
            fast = t.ctrlFast;
          }
          continue;
        }
      }
      ent[0] = g;
      const [used, s] = this.miss(cls, i, b / row - 1);
      i += used;
      g = ent[0];
      if (!this.on) return [i, s];
      fast = t.ctrlFast;
      [q0, q1, q2, q3] = this.q;
      quad = this.quad;
      b = (row * (s + 1)) | 0;
    }
    ent[0] = g;
    return [i, b / row - 1];
  }

  /**
   * Makes progress on the quad at `i` from state s: slots for new classes, the entry, its
   * controller cell (0 runs used: retry), or four single steps when a mode changes in it.
   */
  private miss(cls: Uint16Array, i: number, s: number): [number, number] {
    const c = [cls[i], cls[i + 1], cls[i + 2], cls[i + 3]];
    const unseen = c.filter((x) => this.dense[x] === K - 1);
    if (unseen.length > 0) {
      for (const x of unseen) this.see(x);
      return [0, s];
    }
    const t = this.table;
    const x = this.entryOf(s, c);
    if (!this.on) return [0, s];
    if (this.quad[x] === 0) {
      this.build(x, s, c);
      return [0, s];
    }
    let g = t.ctrlFast[this.quad[x + 2] + t.ent[0]];
    if (g === -1) g = t.compileController(t.ent[0], this.quad[x + 2] / t.stride);
    this.syncLayout();
    if (g !== MODE_CHANGE) return [0, s];
    let state = s;
    for (const run of c) state = t.step(state, run);
    this.syncLayout();
    return [4, state];
  }

  private entryOf(s: number, c: readonly number[]): number {
    this.on &&= this.ensureStates(s + 1);
    return STRIDE * K4 * (s + 1) + c.reduce((a, x, j) => a + this.q[j][x], 0);
  }

  /** Fills entry x for four runs from state s, compiling their one-run cells as needed. */
  private build(x: number, s: number, c: readonly number[]): void {
    const t = this.table;
    const nc = t.classCount;
    let state = s;
    const cols: number[] = [];
    for (const run of c) {
      const cell = state * nc + run;
      if (t.next[cell] < 0) t.compileCell(state, run);
      cols.push(t.column[cell]);
      state = t.next[cell];
    }
    this.on &&= this.ensureStates(t.stateCount);
    if (!this.on) return;
    const col = t.pairColumn(t.pairColumn(cols[0], cols[1]), t.pairColumn(cols[2], cols[3]));
    this.syncLayout();
    this.quad[x] = STRIDE * K4 * (state + 1);
    this.quad[x + 2] = col * t.stride;
    if (++this.built > MAX_BUILT) this.off();
  }

  private see(c: number): void {
    if (this.dense[c] !== K - 1) return;
    this.classOf.push(c);
    if (this.classOf.length >= K) {
      this.off();
      return;
    }
    const d = this.classOf.length - 1;
    this.dense[c] = d;
    this.q.forEach((q, j) => {
      q[c] = STRIDE * d * K ** (3 - j);
    });
  }

  /** Grows the quad table to hold `states` states; false when it would not fit. */
  private ensureStates(states: number): boolean {
    if (states <= this.quadStates) return true;
    let cap = Math.max(4, this.quadStates);
    while (cap < states) cap *= 2;
    if ((cap + 1) * K4 > this.maxEntries) return false;
    // Zero-filled and touched only where built: the memory used is the entries walked.
    const quad = new Int32Array(STRIDE * K4 * (cap + 1));
    quad.set(this.quad);
    this.quad = quad;
    this.quadStates = cap;
    return true;
  }

  /** Rescales the entries' columns after the table laid its controller out again. */
  private syncLayout(): void {
    const t = this.table;
    if (t.layout === this.layoutSeen) return;
    const q = this.quad;
    for (let x = 0; x < q.length; x += STRIDE)
      if (q[x] > 0) q[x + 2] = (q[x + 2] / this.strideSeen) * t.stride;
    this.layoutSeen = t.layout;
    this.strideSeen = t.stride;
  }

  private off(): void {
    this.flush();
    this.quad = new Int32Array(0);
    this.quadStates = 0;
    this.on = false;
  }

  /** Folds quad visits into the one-run cells' visits (no mode changes inside a quad step). */
  flush(): void {
    const t = this.table;
    const nc = t.classCount;
    const q = this.quad;
    for (let x = 0; x < q.length; x += STRIDE) {
      const n = q[x + 1];
      if (n === 0) continue;
      q[x + 1] = 0;
      const e = x / STRIDE;
      let state = Math.floor(e / K4) - 1;
      let r = e % K4;
      for (let j = 3; j >= 0; j--) {
        const d = Math.floor(r / K ** j);
        r -= d * K ** j;
        const cell = state * nc + this.classOf[d];
        t.visits[cell] += n;
        state = t.next[cell];
      }
    }
  }
}
