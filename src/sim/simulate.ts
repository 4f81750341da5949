/**
 * Simulation: a policy over an exit stream, by table walk (fast) or by running the hooks
 * run by run (the reference the table walk is tested against). The walk yields primitive
 * counts, which are CPU-independent; `price` turns them into cycles for a CPU profile and
 * FP state size, so one walk serves every CPU.
 */

import { exitClassName } from '../arch/esr.js';
import { type FpStateSize, FPSIMD, fpStateLabel } from '../cpu/fp-state.js';
import {
  type CompiledCosts,
  compileCosts,
  type CpuProfile,
  EXIT_KEY_COUNT,
  HANDLED_NAMES,
  type HandledName,
} from '../cpu/profile.js';
import { TransitionTable } from '../machine/compile.js';
import { type CostState, CostMachine, METRIC, METRIC_COUNT } from '../machine/cost-machine.js';
import { FactoredTable, factorable } from '../machine/factored.js';
import type { Policy } from '../policy/types.js';
import type { ExitStream, StreamChunk } from '../stream/exit-stream.js';
import {
  CLASSES_PER_VCPU,
  decodeRunClass,
  FP_EL0,
  FP_EL1,
  FPEXC_ACCESS,
  runClassProblem,
} from '../machine/run-class.js';
import { UserError } from '../util/errors.js';
import { FactoredWalker } from './factored-walk.js';
import { SINGLE_BUDGET, type WalkBudget, Walker } from './walk.js';

export type Engine = 'table' | 'direct';

export interface SimOptions {
  readonly cpu: CpuProfile;
  readonly fpState?: FpStateSize;
  /** `table` (default): compiled table walk; `direct`: hooks run by run. */
  readonly engine?: Engine;
}

/** Cycles by component. `base` is the world switch without FP switching. */
export interface CycleBreakdown {
  base: number;
  fpSave: number;
  fpRestore: number;
  fpTrap: number;
  trapCtl: number;
}

export const CYCLE_COMPONENTS: readonly (keyof CycleBreakdown)[] = [
  'base',
  'fpSave',
  'fpRestore',
  'fpTrap',
  'trapCtl',
];

export interface Counters {
  fpSaves: number;
  fpRestores: number;
  fpTraps: number;
  bytesMoved: number;
  isbs: number;
  sysregWrites: number;
  sysregReads: number;
  fpexc32Accesses: number;
  /** FP traps in runs whose only FP access was to FPEXC (AArch32 guest kernel toggling FPEXC.EN). */
  fpexcOnlyTraps: number;
}

export interface ExitMixEntry {
  readonly exit: string;
  readonly handled: HandledName;
  readonly runs: number;
}

export interface SimResult {
  readonly workload: string;
  readonly policy: string;
  readonly cpu: string;
  readonly fpState: string;
  readonly runs: number;
  /** Runs during whose entry, run and exit handling no FP/SIMD state was saved or restored. */
  readonly skippedRuns: number;
  readonly skipRate: number;
  readonly counters: Counters;
  readonly cycles: {
    total: number;
    perExit: number;
    components: CycleBreakdown;
    perExitByComponent: CycleBreakdown;
  };
  /** Guest time in ns (sum of run lengths) and exits per second of guest time. */
  readonly guestNs: number;
  readonly exitsPerGuestSecond: number;
  readonly exitMix: readonly ExitMixEntry[];
  /** Shares of runs that touched FP at EL0, at EL1, that accessed FPEXC, and any of these. */
  readonly fpUse: { el0: number; el1: number; fpexc: number; any: number };
  /** Compiled table size, and runs simulated hook by hook (all of them for the direct engine). */
  readonly table: { states: number; cells: number; evictions: number; directRuns: number };
}

/** What a walk of one policy over one stream yields, before pricing. */
export interface WalkOutcome {
  readonly workload: string;
  readonly policy: string;
  readonly runs: number;
  /** Primitive counts (see METRIC). */
  readonly totals: Float64Array;
  /** Exits by exit key (exit class x 3 + handled). */
  readonly exitHist: Float64Array;
  /** Runs by run class. */
  readonly classHist: Float64Array;
  readonly guestNs: number;
  readonly table: SimResult['table'];
}

/** Policy-independent counts of a chunk: exits by key, runs by class, guest time. */
function countChunk(exitHist: Float64Array, classHist: Float64Array, chunk: StreamChunk): number {
  const { exitKey, cls, ns, length: n } = chunk;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    exitHist[exitKey[i]] += 1;
    classHist[cls[i]] += 1;
    sum += ns[i];
  }
  return sum;
}

/** Runs per slice while the table is on probation (see PolicyRun). */
const PROBE_SLICE = 2048;
/** Runs after which a table that compiles a cell for more than 1 run in 4 is left. */
const PROBE_RUNS = 1 << 16;

/** What PolicyRun reads of a compiled table: plain (compile.ts) or factored (factored.ts). */
interface CompiledTable {
  readonly stateCount: number;
  readonly statesCompiled: number;
  readonly cellsCompiled: number;
  readonly evictions: number;
  readonly overBudget?: boolean;
}

/** What PolicyRun drives: `Walker` over a plain table or `FactoredWalker` over a factored one. */
interface TableWalk {
  walk(cls: Uint16Array, n: number): void;
  totals(): Float64Array;
  costState(): CostState;
  readonly pairMode: string;
}

/**
 * One policy walking a stream: feed it chunks, then read the outcome.
 *
 * With the table engine, a policy with a mode abstraction (`adaptive`) walks a factored
 * table (src/machine/factored.ts: its counters beside the table) on several vCPUs; on one
 * it starts on its plain table and `choose` keeps it or hands over. Any other policy
 * walks a plain table.
 * A policy whose reachable state space is too large for a table (counters in a user
 * policy's state on several vCPUs: nearly every run is a new state) would spend its time
 * compiling cells it visits once. When a chunk compiles new
 * cells for more than a quarter of its runs, or the table has had to be flushed, the
 * run continues on the cost machine directly from the same state: the same hooks, the
 * same counts, without the table's bookkeeping.
 */
export class PolicyRun {
  private table?: CompiledTable;
  private walker?: TableWalk;
  private machine?: CostMachine;
  private readonly decoded;
  /** Why each run class is impossible (the table engine checks the same when compiling). */
  private readonly problems: readonly (string | undefined)[];
  /** Counts accumulated by the table before the run left it. */
  private readonly carried = new Float64Array(METRIC_COUNT);
  private tableInfo: SimResult['table'] = { states: 0, cells: 0, evictions: 0, directRuns: 0 };
  private runs = 0;
  /** Runs walked by the table. */
  private tableRuns = 0;
  /** Runs walked by the current table (its probation). */
  private probeRuns = 0;
  /** Cells compiled by the current table. */
  private freshCells = 0;
  private readonly budget: WalkBudget;
  /** A factorable policy's plain table before `choose` (one vCPU). */
  private choosing = false;

  constructor(
    readonly policy: Policy,
    readonly stream: Pick<ExitStream, 'name' | 'vcpus'>,
    readonly engine: Engine = 'table',
    budget: WalkBudget = SINGLE_BUDGET,
  ) {
    const classCount = stream.vcpus.length * CLASSES_PER_VCPU;
    this.decoded = Array.from({ length: classCount }, (_, c) => decodeRunClass(c));
    this.problems = this.decoded.map((c) => runClassProblem(c, stream.vcpus));
    this.budget = budget;
    if (engine === 'table' && factorable(policy, stream.vcpus) && stream.vcpus.length > 1) {
      // Counters beside the table (adaptive): its states stay machine x modes, where a
      // plain table's would multiply over the vCPUs' counters.
      this.toFactored();
    } else if (engine === 'table') {
      // A factorable policy on one vCPU walks its plain table until that table's warm-up
      // ends, then `choose` keeps it or moves to the factored one.
      this.choosing = factorable(policy, stream.vcpus);
      const table = new TransitionTable(policy, stream.vcpus, budget.maxCells);
      this.table = table;
      this.walker = new Walker(table, budget);
    } else {
      this.machine = new CostMachine(policy, stream.vcpus);
    }
  }

  /** How it walks now: the walker's pair mode, or `direct` once it left the table. */
  get mode(): string {
    return this.walker ? this.walker.pairMode : 'direct';
  }

  /** States in its table (0 once it left the table). */
  get tableStates(): number {
    return this.table?.stateCount ?? 0;
  }

  /** Runs one chunk through the policy. */
  feed(chunk: StreamChunk): void {
    this.runs += chunk.length;
    let i = 0;
    // In slices, so that a table that is not paying off is left early.
    while (i < chunk.length && this.walker && this.table) {
      const n = Math.min(PROBE_SLICE, chunk.length - i);
      const before = this.table.cellsCompiled;
      this.walker.walk(chunk.cls.subarray(i, i + n), n);
      const fresh = this.table.cellsCompiled - before;
      i += n;
      this.tableRuns += n;
      this.probeRuns += n;
      this.freshCells += fresh;
      if (this.table.evictions > 0 || this.table.overBudget === true || this.notPayingOff())
        this.leaveTable();
      else if (this.choosing) this.choose();
    }
    if (i >= chunk.length) return;
    const m = this.costMachine();
    const problems = this.problems;
    for (; i < chunk.length; i++) {
      const c = chunk.cls[i];
      if (problems[c] !== undefined)
        throw new UserError(`stream: impossible run (class ${c}): ${problems[c]}`);
      m.run(this.decoded[c]);
    }
    this.tableInfo.directRuns = this.runs - this.tableRuns;
  }

  /**
   * The table is on probation for its first PROBE_RUNS runs, and judged on all of them:
   * a policy with a few hundred states (adaptive's counters on one vCPU) compiles most of
   * its cells early and then walks them for the rest of the stream, so one busy slice
   * must not send it to the cost machine; one whose cells keep coming (adaptive's counters
   * on several vCPUs, a product of their modes) compiles a cell every few runs.
   */
  private notPayingOff(): boolean {
    return this.probeRuns >= PROBE_RUNS && this.freshCells * 4 > this.probeRuns;
  }

  /**
   * Plain or factored, for a factorable policy on one vCPU, once the plain walk's warm-up
   * is over: a plain table whose pair table lives in cache on raw classes (idle: few hot
   * rows; hvc-only) walks one load per pair and stays; one that needs dense classes (its
   * counters spread the walk over hundreds of rows: fp-heavy, hackbench, virtio-io)
   * moves to the factored table. The choice depends only on the stream and the budget
   * (the warm-up ends at a slice boundary when few cells are compiled), never on timing.
   */
  private choose(): void {
    const mode = this.walker?.pairMode;
    if (mode === 'warmup') return;
    this.choosing = false;
    if (mode !== 'raw') this.leaveTable();
  }

  /** A table that does not pay off, or a plain table not chosen: factored if not yet, else direct. */
  private leaveTable(): void {
    this.choosing = false;
    const w = this.walker;
    if (w === undefined || !(this.table instanceof TransitionTable)) return this.toDirect();
    if (!factorable(this.policy, this.stream.vcpus)) return this.toDirect();
    const from = w.costState();
    this.carry();
    this.toFactored(from);
  }

  /** Walks a factored table from here (from boot, or from a plain table's state `from`). */
  private toFactored(from?: CostState): void {
    const table = new FactoredTable(this.policy, this.stream.vcpus, from);
    this.table = table;
    this.walker = new FactoredWalker(table, this.budget);
    this.freshCells = 0;
    this.probeRuns = 0;
  }

  /** The cost machine: there is one from the start (direct) or once the table was left. */
  private costMachine(): CostMachine {
    if (this.machine === undefined) throw new Error('the cost machine runs only off the table');
    return this.machine;
  }

  /** Adds the current table's counts and size to what was carried from tables left before. */
  private carry(): void {
    const t = this.table;
    const w = this.walker;
    if (t === undefined || w === undefined) throw new Error('carry: the table was left already');
    const totals = w.totals();
    for (let k = 0; k < totals.length; k++) this.carried[k] += totals[k];
    this.tableInfo = {
      states: this.tableInfo.states + t.statesCompiled,
      cells: this.tableInfo.cells + t.cellsCompiled,
      evictions: this.tableInfo.evictions + t.evictions,
      directRuns: 0,
    };
  }

  /** Leaves the table: fold its counts, then continue on the cost machine from its current state. */
  private toDirect(): void {
    const w = this.walker;
    if (w === undefined) throw new Error('toDirect: the table was left already');
    this.carry();
    const state = w.costState();
    const m = new CostMachine(this.policy, this.stream.vcpus);
    m.restore(state);
    this.machine = m;
    this.table = undefined;
    this.walker = undefined;
  }

  /** Primitive counts so far, and the table's size. */
  finish(): { totals: Float64Array; table: SimResult['table'] } {
    if (this.walker && this.table) {
      const t = this.table;
      const totals = this.walker.totals();
      for (let k = 0; k < totals.length; k++) totals[k] += this.carried[k];
      return {
        totals,
        table: {
          states: this.tableInfo.states + t.statesCompiled,
          cells: this.tableInfo.cells + t.cellsCompiled,
          evictions: this.tableInfo.evictions + t.evictions,
          directRuns: 0,
        },
      };
    }
    const totals = Float64Array.from(this.costMachine().acc);
    for (let k = 0; k < totals.length; k++) totals[k] += this.carried[k];
    return { totals, table: { ...this.tableInfo } };
  }
}

/**
 * Walks several policies over one stream in a single pass (the stream is generated once).
 * Cost: O(runs x policies) plus table compilation; memory O(chunk + tables).
 */
export function walkPolicies(
  policies: readonly Policy[],
  stream: ExitStream,
  engine: Engine = 'table',
  budget: WalkBudget = SINGLE_BUDGET,
): WalkOutcome[] {
  const classCount = stream.vcpus.length * CLASSES_PER_VCPU;
  const exitHist = new Float64Array(EXIT_KEY_COUNT);
  const classHist = new Float64Array(classCount);
  let guestNs = 0;
  let runs = 0;
  const runsOf = policies.map((p) => new PolicyRun(p, stream, engine, budget));
  for (const chunk of stream.chunks()) {
    for (const r of runsOf) r.feed(chunk);
    guestNs += countChunk(exitHist, classHist, chunk);
    runs += chunk.length;
  }
  return runsOf.map((r) => {
    const { totals, table } = r.finish();
    return {
      workload: stream.name,
      policy: r.policy.id,
      runs,
      totals,
      exitHist,
      classHist,
      guestNs,
      table,
    };
  });
}

/** The base world-switch cycles of a walk's exits, and its exit mix (most runs first). */
function exitBase(w: WalkOutcome, costs: CompiledCosts): { base: number; exitMix: ExitMixEntry[] } {
  let base = 0;
  const exitMix: ExitMixEntry[] = [];
  for (let key = 0; key < EXIT_KEY_COUNT; key++) {
    const n = w.exitHist[key];
    if (n === 0) continue;
    base += n * costs.exitBase[key];
    exitMix.push({
      exit: exitClassName(Math.floor(key / 3)),
      handled: HANDLED_NAMES[key % 3],
      runs: n,
    });
  }
  exitMix.sort(
    (a, b) => b.runs - a.runs || a.exit.localeCompare(b.exit) || a.handled.localeCompare(b.handled),
  );
  return { base, exitMix };
}

/** The cycles by component: the primitive counts times the profile's costs, plus `base`. */
function cycleComponents(t: Float64Array, costs: CompiledCosts, base: number): CycleBreakdown {
  return {
    base,
    fpSave: t[METRIC.fpSaves] * costs.fpSave,
    fpRestore: t[METRIC.fpRestores] * costs.fpRestore,
    fpTrap: t[METRIC.fpTraps] * costs.fpTrap,
    trapCtl:
      t[METRIC.isbs] * costs.isb +
      t[METRIC.sysregWrites] * costs.sysregWrite +
      t[METRIC.sysregReads] * costs.sysregRead,
  };
}

/** Runs whose guest used FP/SIMD at EL0, at EL1, touched FPEXC32, or any of them (run classes). */
function fpUseRuns(w: WalkOutcome): { el0: number; el1: number; fpexc: number; any: number } {
  let el0 = 0;
  let el1 = 0;
  let fpexc = 0;
  let any = 0;
  for (let c = 0; c < w.classHist.length; c++) {
    const n = w.classHist[c];
    if (n === 0) continue;
    const fp = Math.floor((c % CLASSES_PER_VCPU) / 12);
    if (fp & FP_EL0) el0 += n;
    if (fp & FP_EL1) el1 += n;
    if (fp & FPEXC_ACCESS) fpexc += n;
    if (fp) any += n;
  }
  return { el0, el1, fpexc, any };
}

/**
 * Prices a walk for a CPU profile and FP state size: cycles are the primitive counts times
 * the profile's costs, plus the base world-switch cost of each exit. Cost: O(exit keys + classes).
 */
export function price(w: WalkOutcome, cpu: CpuProfile, fpState: FpStateSize = FPSIMD): SimResult {
  const costs = compileCosts(cpu, fpState);
  const t = w.totals;
  const { base, exitMix } = exitBase(w, costs);
  const components = cycleComponents(t, costs, base);
  const total =
    components.base +
    components.fpSave +
    components.fpRestore +
    components.fpTrap +
    components.trapCtl;
  const runs = w.runs;
  const per = (x: number) => (runs === 0 ? 0 : x / runs);
  const { el0, el1, fpexc, any } = fpUseRuns(w);
  const switched = t[METRIC.switchedRuns];
  return {
    workload: w.workload,
    policy: w.policy,
    cpu: cpu.name,
    fpState: fpStateLabel(fpState),
    runs,
    skippedRuns: runs - switched,
    skipRate: per(runs - switched),
    counters: {
      fpSaves: t[METRIC.fpSaves],
      fpRestores: t[METRIC.fpRestores],
      fpTraps: t[METRIC.fpTraps],
      bytesMoved: (t[METRIC.fpSaves] + t[METRIC.fpRestores]) * costs.fpBytes,
      isbs: t[METRIC.isbs],
      sysregWrites: t[METRIC.sysregWrites],
      sysregReads: t[METRIC.sysregReads],
      fpexc32Accesses: t[METRIC.fpexc32Accesses],
      fpexcOnlyTraps: t[METRIC.fpexcOnlyTraps],
    },
    cycles: {
      total,
      perExit: per(total),
      components,
      perExitByComponent: {
        base: per(components.base),
        fpSave: per(components.fpSave),
        fpRestore: per(components.fpRestore),
        fpTrap: per(components.fpTrap),
        trapCtl: per(components.trapCtl),
      },
    },
    guestNs: w.guestNs,
    exitsPerGuestSecond: w.guestNs > 0 ? runs / (w.guestNs / 1e9) : 0,
    exitMix,
    fpUse: { el0: per(el0), el1: per(el1), fpexc: per(fpexc), any: per(any) },
    table: w.table,
  };
}

/**
 * Simulates `policy` over `stream` on one CPU profile. Cost: O(runs) for the walk plus
 * O(reachable cells) hook runs to compile the table; memory O(chunk + table).
 */
export function simulate(policy: Policy, stream: ExitStream, opts: SimOptions): SimResult {
  const [w] = walkPolicies([policy], stream, opts.engine ?? 'table');
  return price(w, opts.cpu, opts.fpState ?? FPSIMD);
}
