/**
 * Compiles a policy, for one vCPU set, into a transition table indexed by (abstract
 * state, run class): for each cell, the next state and the primitive counts one run of
 * that class costs from that state (CPU-independent: cycles are priced afterwards).
 * Cells are compiled on first visit by running the hooks once on the cost machine, so
 * only reachable cells are ever built.
 *
 * The simulator then walks a stream counting visits per cell and derives every counter
 * afterwards as sum(visits x cell metrics): the hot loop is a table walk.
 */

import type { Policy, VcpuDesc } from '../policy/types.js';
import {
  CLASSES_PER_VCPU,
  decodeRunClass,
  type RunClassFields,
  runClassProblem,
} from './run-class.js';
import { UserError, userText } from '../util/errors.js';
import { notPlainData } from '../util/plain-data.js';
import { type CostState, CostMachine, machinePartKey, METRIC_COUNT } from './cost-machine.js';

/**
 * Cells beyond which the table is flushed and rebuilt (bounds memory for policies with
 * many states, e.g. adaptive's per-vCPU counters): 30 bytes a cell, 15 MiB at most.
 */
const DEFAULT_MAX_CELLS = 1 << 19;

/** Largest count of one primitive in one run that a cell can hold (Uint16). */
const MAX_PER_RUN = 0xffff;

export class TransitionTable {
  /** Run classes per state row. */
  readonly classCount: number;
  /** next[state * classCount + class]: next state id, or -1 if the cell is not compiled. */
  next: Int32Array;
  /** Primitive counts per cell, METRIC_COUNT each (small integers: a run executes a few of each). */
  metrics: Uint16Array;
  /** Visits per cell since the last flush. */
  visits: Float64Array;
  /** Metrics of visits flushed out of the table (after an eviction). */
  readonly flushed = new Float64Array(METRIC_COUNT);
  private states: CostState[] = [];
  private index = new Map<string, number>();
  private capacity = 0;
  private readonly machine: CostMachine;
  private readonly classes: readonly RunClassFields[];
  private readonly classProblems: readonly (string | undefined)[];
  private readonly maxStates: number;
  /** States compiled over the table's life (across evictions). */
  statesCompiled = 0;
  cellsCompiled = 0;
  /** The cell the last `compile` filled (its state may have been re-based by an eviction). */
  lastCell = -1;
  evictions = 0;

  constructor(
    readonly policy: Policy,
    readonly vcpus: readonly VcpuDesc[],
    maxCells = DEFAULT_MAX_CELLS,
  ) {
    this.classCount = vcpus.length * CLASSES_PER_VCPU;
    this.classes = Array.from({ length: this.classCount }, (_, c) => decodeRunClass(c));
    this.classProblems = this.classes.map((c) => runClassProblem(c, vcpus));
    this.maxStates = Math.max(16, Math.floor(maxCells / this.classCount));
    this.machine = new CostMachine(policy, vcpus);
    this.next = new Int32Array(0);
    this.metrics = new Uint16Array(0);
    this.visits = new Float64Array(0);
    this.intern(this.machine.snapshot());
  }

  /** Number of states currently in the table. */
  get stateCount(): number {
    return this.states.length;
  }

  /** The id of the state after boot (nothing loaded), valid until the first eviction. */
  get initialState(): number {
    return 0;
  }

  /**
   * Called just before an eviction renumbers the states, while the old ids are still
   * valid: a walker keeping ids of its own (pair tables) folds and drops them here.
   */
  beforeEvict?: () => void;

  /** Whether compiling one more state could flush the table (and renumber its states). */
  get nearlyFull(): boolean {
    return this.states.length + 2 >= this.maxStates;
  }

  /** The abstract state behind an id (for tests and diagnostics). */
  stateOf(id: number): CostState {
    return this.states[id];
  }

  private intern(s: CostState): number {
    const key = `${machinePartKey(s)}|${s.policy}`;
    const known = this.index.get(key);
    if (known !== undefined) return known;
    const id = this.states.length;
    this.states.push(s);
    this.index.set(key, id);
    this.statesCompiled++;
    if (id >= this.capacity) this.grow(Math.max(8, this.capacity * 2));
    return id;
  }

  private grow(capacity: number): void {
    const nc = this.classCount;
    const next = new Int32Array(capacity * nc).fill(-1);
    next.set(this.next);
    const metrics = new Uint16Array(capacity * nc * METRIC_COUNT);
    metrics.set(this.metrics);
    const visits = new Float64Array(capacity * nc);
    visits.set(this.visits);
    this.next = next;
    this.metrics = metrics;
    this.visits = visits;
    this.capacity = capacity;
  }

  /**
   * Compiles cell (state, class) and returns its next state. May flush the table (when it
   * would outgrow its memory bound); the returned id is valid in the table as it is after
   * the call, and `lastCell` names the compiled cell in that table.
   */
  compile(state: number, cls: number): number {
    const problem = this.classProblems[cls];
    if (problem !== undefined)
      throw new UserError(`stream: impossible run (class ${cls}): ${problem}`);
    if (this.states.length >= this.maxStates) state = this.evict(state);
    const m = this.machine;
    m.restore(this.states[state]);
    m.acc.fill(0);
    m.run(this.classes[cls]);
    if (this.policy.source !== undefined) this.checkUserCell(state, cls);
    const nextState = this.intern(m.snapshot());
    const cell = state * this.classCount + cls;
    this.next[cell] = nextState;
    for (let k = 0; k < METRIC_COUNT; k++) {
      if (m.acc[k] > MAX_PER_RUN) {
        throw new UserError(
          `policy ${userText(this.policy.id)}: executes more than ${MAX_PER_RUN} of one primitive in a single run`,
        );
      }
    }
    this.metrics.set(m.acc, cell * METRIC_COUNT);
    this.cellsCompiled++;
    this.lastCell = cell;
    return nextState;
  }

  /**
   * A table is only right if a cell's outcome depends on nothing but the abstract state:
   * a user policy must keep all of its state in `s`, as plain data, and be deterministic.
   * Checked on every new cell of a user policy: the state must be plain data, and running
   * the cell again from the same state must give the same next state and counts.
   */
  private checkUserCell(state: number, cls: number): void {
    const m = this.machine;
    const bad = notPlainData(m.policyState);
    const where = `${this.policy.source}: policy ${this.policy.id}`;
    if (bad)
      throw new UserError(
        `${where}: its state must be plain data (numbers, booleans, strings, arrays, objects): ${bad}`,
      );
    const first = m.snapshot();
    const firstAcc = Array.from(m.acc);
    m.restore(this.states[state]);
    m.acc.fill(0);
    m.run(this.classes[cls]);
    const again = m.snapshot();
    if (
      JSON.stringify(again) !== JSON.stringify(first) ||
      Array.from(m.acc).some((v, k) => v !== firstAcc[k])
    ) {
      throw new UserError(
        `${where}: the same run from the same state gave different results: keep every piece of state in the policy state (not in closures or globals) and make the hooks deterministic`,
      );
    }
  }

  /** Drops every state but `keep` (re-interned as id 0), after folding visits into `flushed`. */
  private evict(keep: number): number {
    this.beforeEvict?.();
    this.flush();
    const s = this.states[keep];
    this.states = [];
    this.index = new Map();
    this.capacity = 0;
    this.next = new Int32Array(0);
    this.metrics = new Uint16Array(0);
    this.visits = new Float64Array(0);
    this.evictions++;
    this.statesCompiled--; // the kept state is not new
    return this.intern(s);
  }

  /** Folds visit counts into `flushed` and clears them. Cost: O(cells). */
  flush(): void {
    const v = this.visits;
    const mx = this.metrics;
    const out = this.flushed;
    for (let cell = 0; cell < v.length; cell++) {
      const n = v[cell];
      if (n === 0) continue;
      const base = cell * METRIC_COUNT;
      for (let k = 0; k < METRIC_COUNT; k++) out[k] += n * mx[base + k];
      v[cell] = 0;
    }
  }

  /** Totals of every metric over all visits so far. */
  totals(): Float64Array {
    this.flush();
    return Float64Array.from(this.flushed);
  }
}
