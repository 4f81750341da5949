/**
 * The schema of `results.json` (version 2), written by `npm run bench`. Every number the
 * report shows comes from here. Fields whose values depend on timing (and so differ
 * between runs of the same seeds) are confined to `date`, `timing` and `throughput`,
 * plus `seconds` in checker verdicts; everything else is a function of the parameters.
 */

import type { Verdict } from '../check/explore.js';
import type { SensitivityResult } from '../tune/sensitivity.js';
import type { Estimate } from '../util/stats.js';

export const RESULTS_SCHEMA = 'fpswitch-results';
/**
 * 2: `throughput.budgets[].met` may be null (not measured); `throughput.workerScaling`
 * names its units; `parameters` gained `thresholds`, `eagerRuns`, `workloadsDir`; file
 * paths are relative to the repository when inside it; share intervals lie in [0, 1].
 */
export const RESULTS_SCHEMA_VERSION = 2;

/** Fields that may differ between two runs with the same parameters. */
export const TIMING_FIELDS = ['date', 'timing', 'throughput'] as const;

export interface SourcedValue {
  readonly value: number | string | boolean;
  readonly source: string;
  readonly confidence?: string;
  readonly note?: string;
}

/** One row of the assumptions table: a parameter, its value and where it comes from. */
export interface Assumption {
  readonly scope: string;
  readonly parameter: string;
  readonly value: string;
  readonly source: string;
  readonly confidence?: string;
}

/** One workload x policy x CPU cell: estimates over independent seeds. */
export interface Cell {
  readonly workload: string;
  readonly policy: string;
  readonly cpu: string;
  readonly runs: number;
  readonly seeds: readonly number[];
  readonly skipRate: Estimate;
  readonly cyclesPerExit: Estimate;
  readonly componentsPerExit: Readonly<
    Record<'base' | 'fpSave' | 'fpRestore' | 'fpTrap' | 'trapCtl', Estimate>
  >;
  readonly fpTrapsPer1000: Estimate;
  readonly fpSavesPerExit: Estimate;
  readonly fpRestoresPerExit: Estimate;
  readonly bytesPerExit: Estimate;
  readonly fpexcOnlyTrapsPer1000: Estimate;
  readonly exitsPerGuestSecond: Estimate;
  /** Shares of runs touching FP (a property of the stream, not the policy). */
  readonly fpUse: Readonly<Record<'el0' | 'el1' | 'fpexc' | 'any', Estimate>>;
  /** Exit mix of the first seed's stream. */
  readonly exitMix: readonly { exit: string; handled: string; share: number }[];
}

export interface ClaimCheck {
  readonly workload: string;
  readonly policy: string;
  readonly cpu: string;
  readonly skipRate: Estimate;
  readonly band: readonly [number, number];
  /** inside: the interval is within the band; overlaps; below / above: entirely outside. */
  readonly verdict: 'inside' | 'overlaps' | 'below' | 'above';
}

export interface CalibrationEntry {
  readonly cpu: string;
  readonly anchor: string;
  readonly label: string;
  readonly policy: string;
  readonly exit: string;
  readonly paperCycles: number;
  readonly modelCycles: number;
  readonly delta: number;
  readonly withinFivePercent: boolean;
  readonly fitted: boolean;
  readonly confidence: string;
  readonly source: string;
}

export interface TuningResult {
  readonly policy: string;
  readonly ranges: Readonly<Record<string, readonly number[]>>;
  readonly runs: number;
  readonly seeds: number;
  readonly rows: readonly {
    workload: string;
    cpu: string;
    policy: string;
    params: Readonly<Record<string, number>>;
    cyclesPerExit: Estimate;
    skipRate: Estimate;
    fpTrapsPerExit: Estimate;
  }[];
  readonly best: readonly {
    workload: string;
    cpu: string;
    params: Readonly<Record<string, number>>;
    cyclesPerExit: number;
    eager: number;
    lazyFixed: number;
    winOverEager: number;
    winOverLazyFixed: number;
  }[];
}

export interface BreakEvenResult {
  readonly analytic: readonly {
    cpu: string;
    trap: number;
    switchCost: number;
    ratio: number;
    pSimple: number;
    pExact: number;
  }[];
  readonly simulated: readonly {
    cpu: string;
    pCrossing: number;
    maxResidual: number;
    points: readonly { p: number; lazyMinusEager: number }[];
  }[];
  /** Each workload placed on the map: its FP-touch share and the CPU's trap/switch ratio. */
  readonly placements: readonly {
    workload: string;
    cpu: string;
    p: number;
    ratio: number;
    lazyWins: boolean;
  }[];
}

export interface Throughput {
  readonly simulate: readonly {
    policy: string;
    walkRunsPerSecond: number;
    bareRunsPerSecond: number;
    ratio: number;
    mode: string;
  }[];
  readonly generate: readonly { workload: string; runsPerSecond: number }[];
  readonly check: { states: number; transitions: number; seconds: number; statesPerSecond: number };
  /**
   * Equal tuning units (one workload, several seeds) on a pool of 1 worker and of 2, the
   * best of `repeats` alternating runs each; null when not measured (`--quick`, or no
   * tuning units).
   */
  readonly workerScaling: {
    units: readonly string[];
    repeats: number;
    workers1Seconds: number;
    workers2Seconds: number;
    speedup: number;
  } | null;
  /** Peak RSS of a default `simulate` run in a child process, at two stream lengths. */
  readonly memory: readonly { workload: string; policy: string; runs: number; maxRssMiB: number }[];
  readonly suiteSeconds: number;
  /** Peak RSS of the whole suite (main thread and its worker threads). */
  readonly peakRssMiB: number;
  /** Each performance goal and whether this run met it; `met: null` when it was not measured. */
  readonly budgets: readonly {
    name: string;
    target: string;
    measured: string;
    met: boolean | null;
  }[];
}

export interface Results {
  readonly schema: typeof RESULTS_SCHEMA;
  readonly schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  readonly tool: { name: string; version: string };
  readonly git: { commit: string | null; dirty: boolean | null };
  readonly node: string;
  readonly host: { cpu: string; cores: number; platform: string; memoryGiB: number };
  readonly date: string;
  readonly parameters: {
    quick: boolean;
    runs: number;
    seeds: number;
    baseSeed: number;
    only: string | null;
    fpState: string;
    workloads: readonly string[];
    policies: readonly string[];
    cpus: readonly string[];
    tuneRuns: number;
    tuneSeeds: number;
    /** adaptive's swept values (`--threshold`, `--eager-runs`). */
    thresholds: readonly number[];
    eagerRuns: readonly number[];
    /** Folder of the workload files: relative to the repository when inside it. */
    workloadsDir: string;
  };
  /** Every workload file read; `file` relative to the repository when inside it. */
  readonly workloads: readonly { name: string; kind: string; description: string; file: string }[];
  readonly policies: readonly { id: string; name: string; summary: string; models: string }[];
  readonly cpus: readonly { name: string; title: string; description: string }[];
  readonly assumptions: readonly Assumption[];
  readonly cells: readonly Cell[];
  readonly claim: readonly ClaimCheck[];
  readonly checks: readonly Verdict[];
  readonly tuning: TuningResult | null;
  readonly breakEven: BreakEvenResult;
  readonly calibration: readonly CalibrationEntry[];
  readonly sensitivity: readonly SensitivityResult[];
  readonly groundTruth: unknown;
  readonly timing: Readonly<Record<string, number>>;
  readonly throughput: Throughput | null;
}

/** `results.json` without the fields that depend on timing: equal for equal parameters. */
export function timingFree(r: Results): unknown {
  const copy = Object.fromEntries(
    Object.entries(JSON.parse(JSON.stringify(r)) as Record<string, unknown>).filter(
      ([k]) => !(TIMING_FIELDS as readonly string[]).includes(k),
    ),
  );
  for (const c of (copy.checks as { seconds?: number }[] | undefined) ?? []) delete c.seconds;
  const params = copy.parameters as Record<string, unknown> | undefined;
  if (params) delete params.workers;
  return copy;
}

/** The CSV columns, each with how it is read off a cell: one definition for header and rows. */
const CSV_COLUMNS: readonly (readonly [string, (c: Cell) => string | number])[] = [
  ['workload', (c) => c.workload],
  ['policy', (c) => c.policy],
  ['cpu', (c) => c.cpu],
  ['runs', (c) => c.runs],
  ['seeds', (c) => c.seeds.length],
  ['skipRate', (c) => c.skipRate.mean],
  ['skipRate_lo', (c) => c.skipRate.lo],
  ['skipRate_hi', (c) => c.skipRate.hi],
  ['cyclesPerExit', (c) => c.cyclesPerExit.mean],
  ['cyclesPerExit_lo', (c) => c.cyclesPerExit.lo],
  ['cyclesPerExit_hi', (c) => c.cyclesPerExit.hi],
  ['base', (c) => c.componentsPerExit.base.mean],
  ['fpSave', (c) => c.componentsPerExit.fpSave.mean],
  ['fpRestore', (c) => c.componentsPerExit.fpRestore.mean],
  ['fpTrap', (c) => c.componentsPerExit.fpTrap.mean],
  ['trapCtl', (c) => c.componentsPerExit.trapCtl.mean],
  ['fpTrapsPer1000', (c) => c.fpTrapsPer1000.mean],
  ['fpSavesPerExit', (c) => c.fpSavesPerExit.mean],
  ['fpRestoresPerExit', (c) => c.fpRestoresPerExit.mean],
  ['bytesPerExit', (c) => c.bytesPerExit.mean],
  ['fpexcOnlyTrapsPer1000', (c) => c.fpexcOnlyTrapsPer1000.mean],
  ['exitsPerGuestSecond', (c) => c.exitsPerGuestSecond.mean],
  ['fpUseEl0', (c) => c.fpUse.el0.mean],
  ['fpUseEl1', (c) => c.fpUse.el1.mean],
  ['fpUseFpexc', (c) => c.fpUse.fpexc.mean],
  ['fpUseAny', (c) => c.fpUse.any.mean],
];

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** `results.csv`: one row per cell (means; skip rate and cycles with their 95% bounds). */
export function resultsCsv(r: Results): string {
  const lines = [CSV_COLUMNS.map(([name]) => name).join(',')];
  for (const c of r.cells) lines.push(CSV_COLUMNS.map(([, read]) => csvField(read(c))).join(','));
  return `${lines.join('\n')}\n`;
}
