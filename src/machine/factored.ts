/**
 * A policy compiled with its controller factored out of the table, for policies that
 * declare a mode abstraction with `modeOf` (src/policy/types.ts `ModeAbstraction`; the
 * built-in `adaptive`). A plain table (compile.ts) keys its states by the whole policy
 * state, so adaptive's counters make a state per counter value: 257-512 states on one
 * vCPU, and their product on two (~65,000 combinations), too many to walk from cache.
 *
 * Here a table state is the machine state and each vCPU's *mode*; a cell (state, run
 * class) is compiled by running the policy's own hooks with the modes' representative
 * entries, recording every hook call and every primitive call with its result (the
 * cell's *column*). Each vCPU's actual entry (its counters) lives beside the table as an
 * entry id, and the controller table maps (entry, column) to the entry after the run,
 * compiled by running the same hooks from the concrete entry. Because the hooks see only
 * what the column records, one compiled controller cell serves every table cell of that
 * column. Both tables are derived from the policy module; nothing is written twice.
 *
 * The abstraction's premise (the machine effect depends on the entry only through its
 * mode) is checked on every controller cell: the concrete run must record the column it
 * was compiled for, and touch no other vCPU's entry, or compilation stops with an error.
 */

import type { Policy, PolicyHooks, VcpuDesc, VcpuId } from '../policy/types.js';
import { UserError, userText } from '../util/errors.js';
import { type CostState, CostMachine, machinePartKey, METRIC_COUNT } from './cost-machine.js';
import {
  CLASSES_PER_VCPU,
  decodeRunClass,
  type RunClassFields,
  runClassProblem,
} from './run-class.js';

/** Table states, entries and columns beyond which the table is over budget (the run leaves it). */
const MAX_STATES = 1 << 12;
const MAX_ENTRIES = 1 << 14;
const MAX_COLUMNS = 1 << 12;
/** Largest count of one primitive in one run that a cell can hold (Uint16). */
const MAX_PER_RUN = 0xffff;
/** `ctrlFast` value of a column during which the vCPU's mode changes. */
export const MODE_CHANGE = -2;

/** Whether `policy` on `vcpus` can be compiled with its controller factored out. */
export function factorable(policy: Policy, vcpus: readonly VcpuDesc[]): boolean {
  const def = policy.definition;
  if (def.abstraction?.modeOf === undefined || def.vcpuSymmetric !== true) return false;
  // A vcpu_put runs a hook for the vCPU being switched out: a run would touch two entries.
  if (policy.hooks.onVcpuPut !== undefined) return false;
  const init: unknown = policy.hooks.init(vcpus);
  return Array.isArray(init) && init.length === vcpus.length;
}

interface FactoredState {
  /** The machine part of the cost machine's state (its `policy` field unused). */
  readonly machine: CostState;
  /** Mode index of each vCPU. */
  readonly modes: readonly number[];
}

/** A column: one run's hook and primitive record, or two consecutive runs' on one vCPU. */
type Column =
  | { readonly kind: 'one'; readonly record: string; readonly state: number; readonly cls: number }
  | { readonly kind: 'two'; readonly a: number; readonly b: number };

/** What the cost machine records while it runs a cell, and the entry the controller watches. */
interface Recorder {
  calls: string[];
  /** The vCPU whose entry the run may touch; -1 while compiling table cells. */
  vcpu: VcpuId;
  foreign: string | undefined;
}

/** The policy's hooks, recording each call and each primitive call with its result. */
function recordingHooks(hooks: PolicyHooks, rec: Recorder): PolicyHooks {
  const wrap = (hw: object): object =>
    new Proxy(hw, {
      get(target, prop, receiver): unknown {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const r: unknown = Reflect.apply(value, target, args);
          rec.calls.push(`${String(prop)}(${args.map(String).join(',')})=${String(r)}`);
          return r;
        };
      },
    });
  const entries = (s: unknown, vcpu: VcpuId): unknown =>
    rec.vcpu < 0
      ? s
      : new Proxy(s as unknown[], {
          get(target, prop, receiver): unknown {
            if (typeof prop === 'string' && /^\d+$/.test(prop) && Number(prop) !== vcpu)
              rec.foreign ??= `a hook for vCPU ${vcpu} read vCPU ${prop}'s entry`;
            return Reflect.get(target, prop, receiver) as unknown;
          },
        });
  const out: Record<string, unknown> = { init: hooks.init.bind(hooks) };
  for (const name of ['onVcpuLoad', 'onEntry', 'onFpTrap', 'onExit', 'onReturnToUser'] as const) {
    if (hooks[name] === undefined) continue;
    out[name] = (hw: object, s: unknown, vcpu: VcpuId) => {
      rec.calls.push(`${name}@${vcpu}`);
      hooks[name]?.(wrap(hw) as never, entries(s, vcpu), vcpu);
    };
  }
  return out as unknown as PolicyHooks;
}

/** Grows an Int32Array to `size` entries, new ones set to `fill`. */
function grown(a: Int32Array, size: number, fill: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(size).fill(fill);
  out.set(a);
  return out;
}

export class FactoredTable {
  readonly classCount: number;
  /** next[state * classCount + class]: next state (the run's vCPU keeping its mode), -1 if not compiled. */
  next = new Int32Array(0);
  /** column[cell]: the cell's column id. */
  column = new Int32Array(0);
  metrics = new Uint16Array(0);
  visits = new Float64Array(0);
  /**
   * Entries per column of the controller tables (column-major, so a counter's consecutive
   * entries share cache lines); changes when entries outgrow it (`layout` counts changes).
   */
  stride = 64;
  layout = 0;
  private columnCapacity = 64;
  /** ctrl1[column * stride + entry]: entry after a one-run column, -1 if not compiled. */
  ctrl1 = new Int32Array(0);
  /** ctrlFast: as ctrl1 for every column, MODE_CHANGE when the vCPU's mode changes on the way. */
  ctrlFast = new Int32Array(0);
  /** Each vCPU's current entry id. */
  readonly ent: Int32Array;
  statesCompiled = 0;
  cellsCompiled = 0;
  readonly evictions = 0;
  private readonly states: FactoredState[] = [];
  private readonly stateIndex = new Map<string, number>();
  private capacity = 0;
  private readonly entryJson: string[] = [];
  private readonly entryIndex = new Map<string, number>();
  private entryMode = new Int32Array(0);
  private entryCapacity = 0;
  private readonly columns: Column[] = [];
  private readonly columnIndex = new Map<string, number>();
  private readonly repJson: readonly string[];
  private readonly modeOf: (entry: unknown) => number;
  private readonly machine: CostMachine;
  private readonly rec: Recorder = { calls: [], vcpu: -1, foreign: undefined };
  private readonly classes: readonly RunClassFields[];
  private readonly classProblems: readonly (string | undefined)[];
  /** flip[(state * vcpus + v) * modes + k]: the state with vCPU v in mode k, -1 if not known yet. */
  private flip = new Int32Array(0);
  private readonly modeCount: number;
  /** The vCPU of each run class. */
  private readonly vcpuOfClass: Int32Array;
  /** The state the walk starts from. */
  readonly initialState: number;

  /** Starts after boot, or from `from` (a cost machine's state: a walk handed over). */
  constructor(
    readonly policy: Policy,
    readonly vcpus: readonly VcpuDesc[],
    from?: CostState,
  ) {
    const a = policy.definition.abstraction;
    if (a?.modeOf === undefined) throw new Error(`${policy.id}: no mode abstraction to factor`);
    this.modeOf = a.modeOf;
    this.modeCount = a.vcpuModes.length;
    this.repJson = a.vcpuModes.map((m) => JSON.stringify(m.value));
    this.classCount = vcpus.length * CLASSES_PER_VCPU;
    this.classes = Array.from({ length: this.classCount }, (_, c) => decodeRunClass(c));
    this.classProblems = this.classes.map((c) => runClassProblem(c, vcpus));
    this.vcpuOfClass = Int32Array.from(this.classes, (c) => c.vcpu);
    this.machine = new CostMachine(
      { ...policy, hooks: recordingHooks(policy.hooks, this.rec) },
      vcpus,
    );
    if (from !== undefined) this.machine.restore(from);
    const init = this.machine.policyState as unknown[];
    this.ent = Int32Array.from(init, (e) => this.internEntry(JSON.stringify(e)));
    this.initialState = this.intern(
      this.machine.snapshot(),
      init.map((e) => this.modeOf(e)),
    );
  }

  /** Table states so far. */
  get stateCount(): number {
    return this.states.length;
  }

  /** Too many states, entries or columns: the caller should leave the table. */
  get overBudget(): boolean {
    return (
      this.states.length > MAX_STATES ||
      this.entryJson.length > MAX_ENTRIES ||
      this.columns.length > MAX_COLUMNS
    );
  }

  /** The cost machine's state equivalent to table state `s` with the current entries. */
  costState(s: number): CostState {
    const entries = Array.from(this.ent, (g) => this.entryJson[g]);
    return { ...this.states[s].machine, policy: `[${entries.join(',')}]` };
  }

  private intern(machine: CostState, modes: readonly number[]): number {
    const key = `${machinePartKey(machine)}|${modes.join(',')}`;
    const known = this.stateIndex.get(key);
    if (known !== undefined) return known;
    const id = this.states.length;
    this.states.push({ machine: { ...machine, policy: '' }, modes: [...modes] });
    this.stateIndex.set(key, id);
    this.statesCompiled++;
    if (id >= this.capacity) this.grow(Math.max(8, this.capacity * 2));
    return id;
  }

  private grow(capacity: number): void {
    const nc = this.classCount;
    this.next = grown(this.next, capacity * nc, -1);
    this.column = grown(this.column, capacity * nc, 0);
    const metrics = new Uint16Array(capacity * nc * METRIC_COUNT);
    metrics.set(this.metrics);
    this.metrics = metrics;
    const visits = new Float64Array(capacity * nc);
    visits.set(this.visits);
    this.visits = visits;
    this.flip = grown(this.flip, capacity * this.vcpus.length * this.modeCount, -1);
    this.capacity = capacity;
  }

  private internEntry(json: string): number {
    const known = this.entryIndex.get(json);
    if (known !== undefined) return known;
    const id = this.entryJson.length;
    this.entryJson.push(json);
    this.entryIndex.set(json, id);
    if (id >= this.entryCapacity) this.growEntries(Math.max(64, this.entryCapacity * 2));
    this.entryMode[id] = this.modeOf(JSON.parse(json));
    return id;
  }

  /** Grows the entries per column: the controller tables are laid out again. */
  private growEntries(capacity: number): void {
    this.entryMode = grown(this.entryMode, capacity, 0);
    const relayout = (from: Int32Array): Int32Array<ArrayBuffer> => {
      const to = new Int32Array(this.columnCapacity * capacity).fill(-1);
      for (let c = 0; c < this.columnCapacity; c++)
        to.set(from.subarray(c * this.stride, c * this.stride + this.entryCapacity), c * capacity);
      return to;
    };
    this.ctrl1 = relayout(this.ctrl1);
    this.ctrlFast = relayout(this.ctrlFast);
    this.entryCapacity = capacity;
    this.stride = capacity;
    this.layout++;
  }

  private internColumn(key: string, col: Column): number {
    const known = this.columnIndex.get(key);
    if (known !== undefined) return known;
    const id = this.columns.length;
    this.columns.push(col);
    this.columnIndex.set(key, id);
    if (id >= this.columnCapacity) {
      this.columnCapacity *= 2;
      const size = this.columnCapacity * this.stride;
      this.ctrl1 = grown(this.ctrl1, size, -1);
      this.ctrlFast = grown(this.ctrlFast, size, -1);
    }
    return id;
  }

  /** The column of consecutive runs on one vCPU: those of column `a`, then of `b`. */
  pairColumn(a: number, b: number): number {
    return this.internColumn(`${a},${b}`, { kind: 'two', a, b });
  }

  /** Runs the cost machine from table state `s` with entry JSON `entries`; returns the record. */
  private runFrom(s: number, entries: readonly string[], cls: number, vcpu: VcpuId): string {
    const m = this.machine;
    m.restore({ ...this.states[s].machine, policy: `[${entries.join(',')}]` });
    m.acc.fill(0);
    this.rec.calls = [];
    this.rec.vcpu = vcpu;
    this.rec.foreign = undefined;
    m.run(this.classes[cls]);
    return this.rec.calls.join(';');
  }

  /** Compiles cell (s, cls) with the modes' representative entries. */
  compileCell(s: number, cls: number): void {
    const problem = this.classProblems[cls];
    if (problem !== undefined)
      throw new UserError(`stream: impossible run (class ${cls}): ${problem}`);
    const v = this.classes[cls].vcpu;
    const modes = this.states[s].modes;
    const record = this.runFrom(
      s,
      modes.map((k) => this.repJson[k]),
      cls,
      -1,
    );
    const m = this.machine;
    const cell = s * this.classCount + cls;
    const col = this.internColumn(`${v}|${record}`, { kind: 'one', record, state: s, cls });
    // Interned first: interning may grow (replace) `next`.
    const next = this.intern(m.snapshot(), modes);
    this.next[cell] = next;
    this.column[cell] = col;
    for (let k = 0; k < METRIC_COUNT; k++) {
      if (m.acc[k] > MAX_PER_RUN)
        throw new UserError(
          `policy ${userText(this.policy.id)}: executes more than ${MAX_PER_RUN} of one primitive in a single run`,
        );
    }
    this.metrics.set(m.acc, cell * METRIC_COUNT);
    this.cellsCompiled++;
  }

  /** The entry after one-run column `col` from entry `e` (ids, not premultiplied). */
  private controllerStep(e: number, col: number): number {
    const c = this.columns[col];
    if (c.kind !== 'one') throw new Error('controllerStep: a one-run column expected');
    const v = this.classes[c.cls].vcpu;
    const st = this.states[c.state];
    const entries = st.modes.map((k) => this.repJson[k]);
    entries[v] = this.entryJson[e];
    const record = this.runFrom(c.state, entries, c.cls, v);
    const after = this.machine.policyState as unknown[];
    const where = `policy ${userText(this.policy.id)}: its mode abstraction does not hold`;
    if (record !== c.record)
      throw new Error(
        `${where}: entry ${this.entryJson[e]} of mode ${this.entryMode[e]} ran ${record}, its mode's representative ${c.record}`,
      );
    if (this.rec.foreign !== undefined) throw new Error(`${where}: ${this.rec.foreign}`);
    entries.forEach((json, u) => {
      if (u !== v && JSON.stringify(after[u]) !== json)
        throw new Error(`${where}: a run of vCPU ${v} changed vCPU ${u}'s entry`);
    });
    this.cellsCompiled++;
    return this.internEntry(JSON.stringify(after[v]));
  }

  /**
   * Compiles controller cell (entry `e`, column `col`): ctrl1 (one-run columns) and
   * ctrlFast. Returns ctrlFast's value.
   */
  compileController(e: number, col: number): number {
    const c = this.columns[col];
    let after: number;
    let changed: boolean;
    if (c.kind === 'one') {
      after = this.controllerStep(e, col);
      this.ctrl1[col * this.stride + e] = after;
      changed = this.entryMode[after] !== this.entryMode[e];
    } else {
      // Column b was recorded in the mode of e: after a mode change it does not apply.
      const mid = this.fastStep(e, c.a);
      after = mid === MODE_CHANGE ? MODE_CHANGE : this.fastStep(mid, c.b);
      changed = after === MODE_CHANGE;
    }
    const fast = changed ? MODE_CHANGE : after;
    this.ctrlFast[col * this.stride + e] = fast;
    return fast;
  }

  /** ctrlFast of (entry `e`, column `col`), compiling as needed. */
  private fastStep(e: number, col: number): number {
    const g = this.ctrlFast[col * this.stride + e];
    return g === -1 ? this.compileController(e, col) : g;
  }

  /** The entry after one-run column `col` from entry `e`, compiling as needed. */
  private stepEntry(e: number, col: number): number {
    let g = this.ctrl1[col * this.stride + e];
    if (g < 0) {
      this.compileController(e, col);
      g = this.ctrl1[col * this.stride + e];
    }
    return g;
  }

  /** Table state `s` with vCPU `v` in mode `k`. */
  private withMode(s: number, v: VcpuId, k: number): number {
    const at = (s * this.vcpus.length + v) * this.modeCount + k;
    const known = this.flip[at];
    if (known >= 0) return known;
    const st = this.states[s];
    const modes = [...st.modes];
    modes[v] = k;
    // Interned first: interning may grow (replace) `flip`.
    const id = this.intern(st.machine, modes);
    this.flip[at] = id;
    return id;
  }

  /**
   * One run of class `cls` from state `s`: counts the visit, steps the entry; returns the
   * next state. Typed arrays only once compiled: the walk comes here at every mode change.
   */
  step(s: number, cls: number): number {
    const cell = s * this.classCount + cls;
    if (this.next[cell] < 0) this.compileCell(s, cls);
    const v = this.vcpuOfClass[cls];
    const e = this.ent[v];
    let g = this.ctrl1[this.column[cell] * this.stride + e];
    if (g < 0) g = this.stepEntry(e, this.column[cell]);
    this.visits[cell] += 1;
    let next = this.next[cell];
    const k = this.entryMode[g];
    if (k !== this.entryMode[e]) next = this.withMode(next, v, k);
    this.ent[v] = g;
    return next;
  }

  /** Totals of every metric over all visits so far. Cost: O(cells). */
  totals(): Float64Array {
    const out = new Float64Array(METRIC_COUNT);
    const v = this.visits;
    for (let cell = 0; cell < v.length; cell++) {
      const n = v[cell];
      if (n === 0) continue;
      const base = cell * METRIC_COUNT;
      for (let k = 0; k < METRIC_COUNT; k++) out[k] += n * this.metrics[base + k];
    }
    return out;
  }
}
