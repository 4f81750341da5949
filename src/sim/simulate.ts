/**
 * Simulation: a policy on a CPU profile over an exit stream, by table walk (fast) or by
 * running the hooks run by run (the reference the table walk is tested against).
 */

import { exitClassName } from '../arch/esr.js';
import { type FpStateSize, FPSIMD, fpStateLabel } from '../cpu/fp-state.js';
import { compileCosts, type CompiledCosts, type CpuProfile, EXIT_KEY_COUNT, HANDLED_NAMES, type HandledName } from '../cpu/profile.js';
import { TransitionTable } from '../machine/compile.js';
import { CostMachine, METRIC } from '../machine/cost-machine.js';
import type { Policy } from '../policy/types.js';
import type { ExitStream, StreamChunk } from '../stream/exit-stream.js';
import { decodeRunClass } from '../stream/run-class.js';
import { Walker } from './walk.js';

export interface SimOptions {
  readonly cpu: CpuProfile;
  readonly fpState?: FpStateSize;
  /** `table` (default): compiled table walk; `direct`: hooks run by run. */
  readonly engine?: 'table' | 'direct';
}

/** Cycles by component. `base` is the world switch without FP switching. */
export interface CycleBreakdown {
  base: number;
  fpSave: number;
  fpRestore: number;
  fpTrap: number;
  trapCtl: number;
}

export const CYCLE_COMPONENTS: readonly (keyof CycleBreakdown)[] = ['base', 'fpSave', 'fpRestore', 'fpTrap', 'trapCtl'];

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
  readonly cycles: { total: number; perExit: number; components: CycleBreakdown; perExitByComponent: CycleBreakdown };
  /** Guest time in ns (sum of run lengths) and exits per second of guest time. */
  readonly guestNs: number;
  readonly exitsPerGuestSecond: number;
  readonly exitMix: readonly ExitMixEntry[];
  /** Guest runs that touched FP at EL0, at EL1, and that accessed FPEXC (fractions of runs). */
  readonly fpUse: { el0: number; el1: number; fpexc: number; any: number };
  /** Compiled table size (0 for the direct engine). */
  readonly table: { states: number; cells: number; evictions: number };
}

/** Per-stream statistics independent of the policy. */
interface StreamStats {
  exitHist: Float64Array;
  classHist: Float64Array;
  guestNs: number;
}

function newStats(classCount: number): StreamStats {
  return { exitHist: new Float64Array(EXIT_KEY_COUNT), classHist: new Float64Array(classCount), guestNs: 0 };
}

/** Policy-independent counts of a chunk: exits by key, runs by class, guest time. */
function countChunk(stats: StreamStats, chunk: StreamChunk): void {
  const h = stats.exitHist;
  const ch = stats.classHist;
  const { exitKey, cls, ns, length: n } = chunk;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    h[exitKey[i]] += 1;
    ch[cls[i]] += 1;
    sum += ns[i];
  }
  stats.guestNs += sum;
}

/**
 * Simulates `policy` over `stream`. Cost: O(runs) for the walk plus O(reachable cells)
 * hook runs to compile the table; memory O(chunk + table).
 */
export function simulate(policy: Policy, stream: ExitStream, opts: SimOptions): SimResult {
  const costs = compileCosts(opts.cpu, opts.fpState ?? FPSIMD);
  const classCount = stream.vcpus.length * 96;
  const stats = newStats(classCount);
  let totals: Float64Array;
  let runs = 0;
  let table = { states: 0, cells: 0, evictions: 0 };
  if ((opts.engine ?? 'table') === 'table') {
    const t = new TransitionTable(policy, stream.vcpus, costs);
    const walker = new Walker(t);
    for (const chunk of stream.chunks()) {
      walker.walk(chunk.cls, chunk.length);
      countChunk(stats, chunk);
      runs += chunk.length;
    }
    totals = walker.totals();
    table = { states: t.statesCompiled, cells: t.cellsCompiled, evictions: t.evictions };
  } else {
    const m = new CostMachine(policy, stream.vcpus, costs);
    const decoded = Array.from({ length: classCount }, (_, c) => decodeRunClass(c));
    for (const chunk of stream.chunks()) {
      for (let i = 0; i < chunk.length; i++) m.run(decoded[chunk.cls[i]]);
      countChunk(stats, chunk);
      runs += chunk.length;
    }
    totals = Float64Array.from(m.acc);
  }
  return summarize(policy, stream, costs, fpStateLabel(opts.fpState ?? FPSIMD), runs, totals, stats, table);
}

function summarize(
  policy: Policy,
  stream: ExitStream,
  costs: CompiledCosts,
  fpState: string,
  runs: number,
  totals: Float64Array,
  stats: StreamStats,
  table: SimResult['table'],
): SimResult {
  let base = 0;
  const exitMix: ExitMixEntry[] = [];
  for (let key = 0; key < EXIT_KEY_COUNT; key++) {
    const n = stats.exitHist[key];
    if (n === 0) continue;
    base += n * costs.exitBase[key];
    exitMix.push({ exit: exitClassName(Math.floor(key / 3)), handled: HANDLED_NAMES[key % 3], runs: n });
  }
  exitMix.sort((a, b) => b.runs - a.runs || a.exit.localeCompare(b.exit) || a.handled.localeCompare(b.handled));
  const components: CycleBreakdown = {
    base,
    fpSave: totals[METRIC.cyclesFpSave],
    fpRestore: totals[METRIC.cyclesFpRestore],
    fpTrap: totals[METRIC.cyclesFpTrap],
    trapCtl: totals[METRIC.cyclesTrapCtl],
  };
  const total = components.base + components.fpSave + components.fpRestore + components.fpTrap + components.trapCtl;
  const per = (x: number) => (runs === 0 ? 0 : x / runs);
  let el0 = 0;
  let el1 = 0;
  let fpexc = 0;
  let any = 0;
  for (let c = 0; c < stats.classHist.length; c++) {
    const n = stats.classHist[c];
    if (n === 0) continue;
    const fp = decodeRunClass(c).fp;
    if (fp & 1) el0 += n;
    if (fp & 2) el1 += n;
    if (fp & 4) fpexc += n;
    if (fp) any += n;
  }
  const switched = totals[METRIC.switchedRuns];
  return {
    workload: stream.name,
    policy: policy.id,
    cpu: costs.profile.name,
    fpState,
    runs,
    skippedRuns: runs - switched,
    skipRate: per(runs - switched),
    counters: {
      fpSaves: totals[METRIC.fpSaves],
      fpRestores: totals[METRIC.fpRestores],
      fpTraps: totals[METRIC.fpTraps],
      bytesMoved: totals[METRIC.bytesMoved],
      isbs: totals[METRIC.isbs],
      sysregWrites: totals[METRIC.sysregWrites],
      sysregReads: totals[METRIC.sysregReads],
      fpexc32Accesses: totals[METRIC.fpexc32Accesses],
      fpexcOnlyTraps: totals[METRIC.fpexcOnlyTraps],
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
    guestNs: stats.guestNs,
    exitsPerGuestSecond: stats.guestNs > 0 ? runs / (stats.guestNs / 1e9) : 0,
    exitMix,
    fpUse: { el0: per(el0), el1: per(el1), fpexc: per(fpexc), any: per(any) },
    table,
  };
}
