/**
 * The schema of `results.json` (version 3), written by `npm run bench`. Every number the
 * report shows comes from here. Fields whose values depend on timing (and so differ
 * between runs of the same seeds) are confined to `date`, `timing` and `throughput`,
 * plus `seconds` in checker verdicts; everything else is a function of the parameters.
 */

import type { ClaimResult } from '../stream/claim.js';
import type { Verdict } from '../check/explore.js';
import type { SensitivityResult } from '../tune/sensitivity.js';
import type { Recommendation } from '../tune/recommend.js';
import type { Estimate } from '../util/stats.js';

export const RESULTS_SCHEMA = 'fpswitch-results';
/**
 * 2: `throughput.budgets[].met` may be null (not measured); `throughput.workerScaling`
 * names its units; `parameters` gained `thresholds`, `eagerRuns`, `workloadsDir`; file
 * paths are relative to the repository when inside it; share intervals lie in [0, 1].
 */
/**
 * 3: `checks[]` gain `covers` and `symmetry`; `throughput.simulate` rows are per policy x
 * workload and name their stream; `throughput` gains `cliStart`, `busy`, `suiteCpuSeconds`;
 * `workerScaling` is measured on the suite's own units (count, speedups per repeat).
 */
export const RESULTS_SCHEMA_VERSION = 3;

/** Fields that may differ between two runs with the same parameters. */
const TIMING_FIELDS = ['date', 'timing', 'throughput'] as const;

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

/** One published anchor against the structural cost model (docs/cost-model.md). */
export interface CalibrationEntry {
  readonly cpu: string;
  /** The fit group whose components the anchor shares. */
  readonly group: string;
  readonly anchor: string;
  readonly label: string;
  readonly policy: string;
  readonly exit: string;
  readonly paperCycles: number;
  /** The model fitted on every anchor of the group (in sample). */
  readonly modelCycles: number;
  readonly fittedError: number;
  /** The measured design simulated on the anchor's exit (single-exit anchors), else null. */
  readonly simulatedCycles: number | null;
  /** The model fitted on the other anchors (held out), or null with the reason in heldOutNote. */
  readonly heldOutCycles: number | null;
  readonly heldOutError: number | null;
  readonly heldOutNote: string | null;
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

interface BreakEvenResult {
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
  /**
   * The table walk and the bare loop (one load and one increment a run) over each
   * workload's own stream, for every built-in policy at its defaults, measured in one
   * child process per workload (`stream` names the stream).
   */
  readonly simulate: readonly {
    workload: string;
    stream: string;
    policy: string;
    walkRunsPerSecond: number;
    bareRunsPerSecond: number;
    ratio: number;
    mode: string;
    /** States in the policy's table after the walk. */
    states: number;
  }[];
  readonly generate: readonly { workload: string; stream: string; runsPerSecond: number }[];
  /** Wall time of the CLI from process start to exit, best of `repeats`; null when not measured. */
  readonly cliStart: {
    bin: string;
    repeats: number;
    nodeSeconds: number;
    commands: readonly { command: 'list' | 'simulate'; argv: readonly string[]; seconds: number }[];
  } | null;
  /**
   * The checker over every built-in policy at its defaults in every configuration, alone
   * in a child process, one after another (`seconds`: the wall time of them all); states
   * and transitions from the suite's own verdicts.
   */
  readonly check: {
    states: number;
    transitions: number;
    seconds: number;
    /** CPU time of the same: on a shared machine, wall time includes waiting for a core. */
    cpuSeconds: number;
    statesPerSecond: number;
    verdicts: number;
    configs: readonly string[];
    perVerdict: readonly { policy: string; config: string; seconds: number; covers: string }[];
  };
  /**
   * The suite's own units (sim, tune, check, sensitivity, at --quick sizes) on a pool of 1
   * worker and of 2, alternately, `speedups` per repeat, `speedup` the best; null when not
   * measured (`--quick`). `busy`: in the suite's real run on its workers, the share of
   * worker time spent in units (1: both always busy).
   */
  readonly workerScaling: {
    units: number;
    workers1Seconds: number;
    workers2Seconds: number;
    speedup: number;
    speedups: readonly number[];
    loadAverage: number;
  } | null;
  /** In the suite's real run: task time summed over workers / (wall time x workers). */
  readonly busy: number | null;
  /** Peak RSS of a default `simulate` run in a child process, at two stream lengths. */
  readonly memory: readonly { workload: string; policy: string; runs: number; maxRssMiB: number }[];
  /** `fpswitch import` MB/s on a synthetic tracefs trace, beside a plain line count of it (bench/import-throughput.ts). */
  readonly importThroughput?: ImportThroughput;
  readonly suiteSeconds: number;
  /** CPU time of the suite's process (main thread and worker threads): load-independent. */
  readonly suiteCpuSeconds: number;
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

/** `fpswitch import` throughput on a synthetic trace beside a plain line count of the same file. */
export interface ImportThroughput {
  /** Size of the synthetic trace (MB = 1e6 bytes). */
  readonly megabytes: number;
  readonly lines: number;
  readonly runs: number;
  /** Import rate (MB/s of wall time), best of `repeats`. */
  readonly importMBps: number;
  /** Import rate per CPU second (MB/s): less disturbed by other work on a loaded machine. */
  readonly importCpuMBps: number;
  /** Scan workers of the import figure (the faster of 0 and 1). */
  readonly workers?: number;
  /** Import rate in one thread (MB/s of wall time), best of `repeats`. */
  readonly singleThreadMBps?: number;
  /** Plain line count rate over the same file (MB/s), best of `repeats`. */
  readonly lineCountMBps: number;
  /** importMBps / lineCountMBps. */
  readonly ratio: number;
  readonly repeats: number;
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
  /** The 30-50% claim per workload, with the held-out model error in every interval, and the verdict sentence (src/stream/claim.ts). */
  readonly claim: ClaimResult;
  readonly checks: readonly Verdict[];
  readonly tuning: TuningResult | null;
  readonly breakEven: BreakEvenResult;
  readonly calibration: readonly CalibrationEntry[];
  /** One per workload x CPU: the design to use, over every built-in design and cost draws. */
  readonly recommendations: readonly Recommendation[];
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

type CsvColumn = readonly [string, (c: Cell) => string | number];

/** An estimate's mean and 95% bounds as three columns: `name`, `name_lo`, `name_hi`. */
const withBounds = (name: string, read: (c: Cell) => Estimate): CsvColumn[] => [
  [name, (c) => read(c).mean],
  [`${name}_lo`, (c) => read(c).lo],
  [`${name}_hi`, (c) => read(c).hi],
];

/** Estimates written as their mean, in column order, each named as its field. */
const MEAN_FIELDS = [
  'fpTrapsPer1000',
  'fpSavesPerExit',
  'fpRestoresPerExit',
  'bytesPerExit',
  'fpexcOnlyTrapsPer1000',
  'exitsPerGuestSecond',
] as const;
const COMPONENTS = ['base', 'fpSave', 'fpRestore', 'fpTrap', 'trapCtl'] as const;
/** The fpUse columns: fpUseEl0, fpUseEl1, fpUseFpexc, fpUseAny. */
const FP_USE = [
  ['El0', 'el0'],
  ['El1', 'el1'],
  ['Fpexc', 'fpexc'],
  ['Any', 'any'],
] as const;

/** The CSV columns, each with how it is read off a cell: one definition for header and rows. */
const CSV_COLUMNS: readonly CsvColumn[] = [
  ['workload', (c) => c.workload],
  ['policy', (c) => c.policy],
  ['cpu', (c) => c.cpu],
  ['runs', (c) => c.runs],
  ['seeds', (c) => c.seeds.length],
  ...withBounds('skipRate', (c) => c.skipRate),
  ...withBounds('cyclesPerExit', (c) => c.cyclesPerExit),
  ...COMPONENTS.map((k): CsvColumn => [k, (c) => c.componentsPerExit[k].mean]),
  ...MEAN_FIELDS.map((k): CsvColumn => [k, (c) => c[k].mean]),
  ...FP_USE.map(([suffix, k]): CsvColumn => [`fpUse${suffix}`, (c) => c.fpUse[k].mean]),
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
