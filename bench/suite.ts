/**
 * The benchmark suite: every built-in workload x policy x CPU over several seeds, the
 * checker over every built-in policy, the threshold sweep, break-even, calibration and
 * the tool's own throughput, assembled into one `Results` object.
 */

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus as osCpus, totalmem } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import type { Verdict } from '../src/check/explore.js';
import { CHECK_ADAPTIVE_SPEC } from '../src/check/policies.js';
import { FPSIMD } from '../src/cpu/fp-state.js';
import { BUILTIN_CPUS } from '../src/cpu/profiles.js';
import { BUILTIN_POLICIES, instantiate } from '../src/policy/registry.js';
import type { Policy } from '../src/policy/types.js';
import {
  type Cell,
  type ClaimCheck,
  RESULTS_SCHEMA,
  RESULTS_SCHEMA_VERSION,
  type Results,
  type Throughput,
  type TuningResult,
} from '../src/report/results.js';
import { num } from '../src/util/format.js';
import { CLAIM, claimPosition } from '../src/stream/claim.js';
import { markovStream, MarkovWorkloadSchema } from '../src/stream/markov.js';
import { parseWorkload, type Workload, workloadStream } from '../src/stream/workload.js';
import { breakEven, lazyWins, simulatedBreakEven } from '../src/tune/break-even.js';
import { sweepSettings, unitSeed } from '../src/tune/sweep.js';
import { UserError } from '../src/util/errors.js';
import { readJsonFile } from '../src/util/json-file.js';
import { estimate, type Estimate, NON_NEGATIVE, SHARE } from '../src/util/stats.js';
import { toolVersion } from '../src/util/version.js';
import { cpuAssumptions, policyAssumptions, workloadAssumptions } from './assumptions.js';
import { calibrate } from './calibration.js';
import { globToRegExp } from './glob.js';
import { Pool } from './pool.js';
import type { Progress } from './progress.js';
import type { SensitivityResult } from '../src/tune/sensitivity.js';
import type {
  CheckTask,
  SensitivityTask,
  SimCell,
  SimTask,
  TaskRequest,
  TuneTask,
  TuneUnitResult,
} from './tasks.js';
import { benchOptions, measureWalk } from './throughput.js';

export interface SuiteOptions {
  readonly quick: boolean;
  readonly runs: number;
  readonly seeds: number;
  readonly seed: number;
  readonly workers: number;
  readonly only: string | null;
  readonly workloadsDir: string;
  readonly tuneRuns: number;
  readonly tuneSeeds: number;
  readonly thresholds: readonly number[];
  readonly eagerRuns: readonly number[];
  /** Measure throughput (tinybench) and worker scaling. */
  readonly throughput: boolean;
  /** Extra sections computed elsewhere (ground truth), already JSON. */
  /** Loaded once the options are validated, so bad input fails before any output. */
  readonly extras?: { groundTruth?: () => Promise<unknown> };
}

/** The suite's defaults; `--quick` shrinks them so CI finishes in seconds. */
export function defaultOptions(
  quick: boolean,
): Omit<SuiteOptions, 'workers' | 'only' | 'workloadsDir'> {
  return quick
    ? {
        quick,
        runs: 100_000,
        seeds: 3,
        seed: 1,
        tuneRuns: 50_000,
        tuneSeeds: 1,
        thresholds: [1, 2, 4, 6, 8, 12, 16, 24, 32],
        eagerRuns: [16, 256],
        throughput: true,
      }
    : {
        quick,
        runs: 1_000_000,
        seeds: 5,
        seed: 1,
        tuneRuns: 200_000,
        tuneSeeds: 2,
        thresholds: Array.from({ length: 32 }, (_, i) => i + 1),
        eagerRuns: [16, 64, 256],
        throughput: true,
      };
}

interface LoadedSuiteWorkload {
  readonly name: string;
  readonly file: string;
  readonly workload: Workload;
  readonly raw: unknown;
}

/** Loads and validates every workload file of a folder (a broken one stops the suite). */
export function loadSuiteWorkloads(dir: string): LoadedSuiteWorkload[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    throw new UserError(`${dir}: cannot read the workloads folder`);
  }
  if (files.length === 0) throw new UserError(`${dir}: no workload files (*.json)`);
  const seen = new Map<string, string>();
  return files.map((f) => {
    const file = resolve(join(dir, f));
    // Read once: the parsed workload for the runs, the raw file for the assumptions table.
    const raw = readJsonFile(file, 'workload file');
    const workload = parseWorkload(raw, file);
    // Cells, seeds and report rows are keyed by name: two files of one name would merge.
    const first = seen.get(workload.name);
    if (first !== undefined)
      throw new UserError(
        `${file}: name: "${workload.name}" is also the name of ${first}; workload names must be unique`,
      );
    seen.set(workload.name, file);
    return { name: workload.name, file, workload, raw };
  });
}

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** A path as the report shows it: relative to the repository when inside it, so two clones agree. */
function repoPath(p: string): string {
  const r = relative(REPO, p);
  return r === '' ? '.' : r.startsWith('..') || isAbsolute(r) ? p : r;
}

/** Built-in policies as the suite runs them (defaults). */
export function suitePolicies(): Policy[] {
  return BUILTIN_POLICIES.map((d) =>
    instantiate(
      d,
      Object.fromEntries(Object.entries(d.params ?? {}).map(([k, v]) => [k, v.default])),
    ),
  );
}

/** The checker's configurations: the default one and three AArch32 vCPUs. */
export const CHECK_CONFIGS = ['default', 'three-aarch32'];

function gitInfo(): Results['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

/** The report's word for where an interval lies against the band: one rule, stream/claim.ts's. */
function claimVerdict(e: Estimate): ClaimCheck['verdict'] {
  const { position, side } = claimPosition(e.lo, e.hi);
  return position === 'outside'
    ? (side ?? 'below')
    : position === 'overlapping'
      ? 'overlaps'
      : 'inside';
}

/** Runs the suite. Throws UserError for bad input before any work starts. */
export async function runSuite(opts: SuiteOptions, progress: Progress): Promise<Results> {
  const t0 = performance.now();
  const timing: Record<string, number> = {};
  const lap = (name: string, since: number) =>
    (timing[name] = Number(((performance.now() - since) / 1000).toFixed(3)));

  const workloads = loadSuiteWorkloads(opts.workloadsDir);
  const policies = suitePolicies();
  const cpus = BUILTIN_CPUS;
  const only = opts.only ? globToRegExp(opts.only) : null;
  const wanted = (w: string, p: string, c: string) => !only || only.test(`${w}/${p}/${c}`);
  const cellKeys = workloads.flatMap((w) =>
    policies.flatMap((p) => cpus.map((c) => ({ w: w.name, p: p.id, c: c.name }))),
  );
  const selected = cellKeys.filter((k) => wanted(k.w, k.p, k.c));
  if (selected.length === 0) {
    throw new UserError(
      `--only ${opts.only}: matches no cell (cells are named workload/policy/cpu, e.g. hackbench/lazy-fixed/altra)`,
    );
  }
  const selWorkloads = workloads.filter((w) => selected.some((k) => k.w === w.name));
  const selPolicies = policies.filter((p) => selected.some((k) => k.p === p.id));
  const selCpus = cpus.filter((c) => selected.some((k) => k.c === c.name));
  const policyIds = policies.map((p) => p.id);
  const cpuNames = cpus.map((c) => c.name);
  const tuneRanges = { threshold: [...opts.thresholds], eagerRuns: [...opts.eagerRuns] };
  const adaptive = BUILTIN_POLICIES.find((d) => d.name === 'adaptive');
  if (adaptive) sweepSettings(adaptive, tuneRanges); // throws UserError on a value out of range, before any work
  progress.note(
    `${opts.quick ? 'quick run' : 'full run'}: ${opts.runs.toLocaleString('en-US')} runs x ${opts.seeds} seeds per cell, ${opts.workers} workers`,
  );
  const groundTruth = opts.extras?.groundTruth ? await opts.extras.groundTruth() : null;

  // --- tasks ---------------------------------------------------------------------------
  const seedsOf = (w: string, n: number) =>
    Array.from({ length: n }, (_, k) => unitSeed(opts.seed, w, k));
  const simTasks: SimTask[] = selWorkloads.flatMap((w) =>
    seedsOf(w.name, opts.seeds).map((seed) => ({
      kind: 'sim' as const,
      workloadFile: w.file,
      seed,
      runs: opts.runs,
      policies: policyIds,
      cpus: cpuNames,
    })),
  );
  const tuneTasks: TuneTask[] = selWorkloads.flatMap((w) =>
    seedsOf(`tune:${w.name}`, opts.tuneSeeds).map((seed) => ({
      kind: 'tune' as const,
      workload: w.name,
      workloadFile: w.file,
      seed,
      runs: opts.tuneRuns,
      ranges: tuneRanges,
      cpus: selCpus.map((c) => c.name),
    })),
  );
  // adaptive is checked with small counters so that every mode change is reachable (src/check/policies.ts).
  const checkPolicies = selPolicies.map((p) =>
    p.definition.name === 'adaptive' ? CHECK_ADAPTIVE_SPEC : p.id,
  );
  const checkTasks: CheckTask[] = checkPolicies.flatMap((p) =>
    CHECK_CONFIGS.map((config) => ({ kind: 'check' as const, policy: p, config })),
  );
  // Sensitivity for the workloads the 2015 claim names (lmbench, hackbench: CLAIM.workloads), when selected.
  const sensTasks: SensitivityTask[] = selWorkloads
    .filter((w) => w.workload.kind === 'guest' && CLAIM.workloads.includes(w.name))
    .map((w) => ({
      kind: 'sensitivity' as const,
      workloadFile: w.file,
      runs: opts.quick ? 20_000 : 100_000,
      seeds: opts.quick ? 2 : 3,
      seed: opts.seed,
    }));

  const pool = new Pool(opts.workers);
  let simRaw: SimCell[][][];
  let tuneRaw: TuneUnitResult[];
  let verdicts: Verdict[];
  let sensRaw: SensitivityResult[];
  const tPar = performance.now();
  try {
    const all: TaskRequest[] = [...checkTasks, ...sensTasks, ...tuneTasks, ...simTasks];
    progress.phase(
      `${all.length} tasks on ${opts.workers} worker${opts.workers > 1 ? 's' : ''}`,
      all.length,
    );
    const run = <T>(t: TaskRequest) =>
      pool.run<T>(t).then((r) => {
        progress.step();
        return r;
      });
    // Submit everything at once; results are read back in task order.
    const checkP = Promise.all(checkTasks.map((t) => run<Verdict>(t)));
    const tuneP = Promise.all(tuneTasks.map((t) => run<TuneUnitResult>(t)));
    const sensP = Promise.all(sensTasks.map((t) => run<SensitivityResult>(t)));
    const simP = Promise.all(simTasks.map((t) => run<SimCell[][]>(t)));
    [verdicts, sensRaw, tuneRaw, simRaw] = await Promise.all([checkP, sensP, tuneP, simP]);
  } catch (e) {
    const err = e as Error & { userError?: boolean };
    if (err.userError) throw new UserError(err.message);
    throw e;
  } finally {
    progress.end();
    await pool.close();
  }
  lap('parallelSeconds', tPar);

  // --- cells ---------------------------------------------------------------------------
  const cells: Cell[] = [];
  for (const w of selWorkloads) {
    const seeds = seedsOf(w.name, opts.seeds);
    const perSeed = simTasks
      .map((t, i) => ({ t, r: simRaw[i] }))
      .filter((x) => x.t.workloadFile === w.file)
      .map((x) => x.r);
    for (let p = 0; p < policies.length; p++) {
      for (let c = 0; c < cpus.length; c++) {
        if (!wanted(w.name, policies[p].id, cpus[c].name)) continue;
        const rs = perSeed.map((s) => s[p][c]);
        const est = (f: (r: SimCell) => number) => estimate(rs.map(f), NON_NEGATIVE);
        const share = (f: (r: SimCell) => number) => estimate(rs.map(f), SHARE);
        const runs = rs[0].runs;
        const first = rs[0];
        cells.push({
          workload: w.name,
          policy: policies[p].id,
          cpu: cpus[c].name,
          runs,
          seeds,
          skipRate: share((r) => r.skipRate),
          cyclesPerExit: est((r) => r.cycles.perExit),
          componentsPerExit: {
            base: est((r) => r.cycles.perExitByComponent.base),
            fpSave: est((r) => r.cycles.perExitByComponent.fpSave),
            fpRestore: est((r) => r.cycles.perExitByComponent.fpRestore),
            fpTrap: est((r) => r.cycles.perExitByComponent.fpTrap),
            trapCtl: est((r) => r.cycles.perExitByComponent.trapCtl),
          },
          fpTrapsPer1000: est((r) => (1000 * r.counters.fpTraps) / r.runs),
          fpSavesPerExit: est((r) => r.counters.fpSaves / r.runs),
          fpRestoresPerExit: est((r) => r.counters.fpRestores / r.runs),
          bytesPerExit: est((r) => r.counters.bytesMoved / r.runs),
          fpexcOnlyTrapsPer1000: est((r) => (1000 * r.counters.fpexcOnlyTraps) / r.runs),
          exitsPerGuestSecond: est((r) => r.exitsPerGuestSecond),
          fpUse: {
            el0: share((r) => r.fpUse.el0),
            el1: share((r) => r.fpUse.el1),
            fpexc: share((r) => r.fpUse.fpexc),
            any: share((r) => r.fpUse.any),
          },
          exitMix: first.exitMix.map((e) => ({
            exit: e.exit,
            handled: e.handled,
            share: e.runs / first.runs,
          })),
        });
      }
    }
  }

  // --- claim: the lazy switch's skip rate per workload (CPU-independent) ---------------
  const claim: ClaimCheck[] = cells
    .filter((c) => c.policy === 'lazy-fixed' && c.cpu === (selCpus[0]?.name ?? cpus[0].name))
    .map((c) => ({
      workload: c.workload,
      policy: c.policy,
      cpu: c.cpu,
      skipRate: c.skipRate,
      band: [CLAIM.lo, CLAIM.hi],
      verdict: claimVerdict(c.skipRate),
    }));

  // --- tuning --------------------------------------------------------------------------
  const tuning = aggregateTuning(
    selWorkloads.map((w) => w.name),
    tuneTasks,
    tuneRaw,
    selCpus.map((c) => c.name),
    opts,
    tuneRanges,
  );

  // --- break-even ----------------------------------------------------------------------
  const tBe = performance.now();
  const analytic = cpus.map((c) => breakEven(c, FPSIMD));
  const simulated = [];
  progress.phase('break-even (simulated)', cpus.length);
  for (const c of cpus) {
    simulated.push(
      await simulatedBreakEven(c, FPSIMD, { runs: opts.quick ? 50_000 : 200_000, seed: opts.seed }),
    );
    progress.step();
  }
  const placements = cells
    .filter((c) => c.policy === 'lazy-fixed')
    .map((c) => {
      const ratio = analytic.find((a) => a.cpu === c.cpu)?.ratio ?? NaN; // every cpu has one
      return {
        workload: c.workload,
        cpu: c.cpu,
        p: c.fpUse.any.mean,
        ratio,
        lazyWins: lazyWins(c.fpUse.any.mean, ratio),
      };
    });
  lap('breakEvenSeconds', tBe);

  // --- calibration ---------------------------------------------------------------------
  progress.note('calibration against the published anchors');
  const calibration = await calibrate(cpus);

  // --- assumptions ---------------------------------------------------------------------
  const assumptions = [
    ...cpus.flatMap(cpuAssumptions),
    ...policies.flatMap((p) => policyAssumptions(p.definition, p.params)),
    ...workloads.flatMap((w) => workloadAssumptions(w.name, w.raw)),
  ];

  // --- throughput ----------------------------------------------------------------------
  let throughput: Throughput | null = null;
  if (opts.throughput) {
    progress.note('throughput (tinybench): table walk per policy');
    const tTp = performance.now();
    throughput = await measureThroughput(
      opts,
      policies,
      workloads,
      verdicts,
      tuneTasks,
      t0,
      timing,
      progress,
    );
    lap('throughputSeconds', tTp);
  }
  lap('suiteSeconds', t0);

  return {
    schema: RESULTS_SCHEMA,
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'fpswitch', version: toolVersion() },
    git: gitInfo(),
    node: process.version,
    host: {
      cpu: osCpus()[0]?.model ?? 'unknown',
      cores: osCpus().length,
      platform: `${process.platform}-${process.arch}`,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    date: new Date().toISOString(),
    parameters: {
      quick: opts.quick,
      runs: opts.runs,
      seeds: opts.seeds,
      baseSeed: opts.seed,
      only: opts.only,
      fpState: 'fpsimd',
      workloads: selWorkloads.map((w) => w.name),
      policies: selPolicies.map((p) => p.id),
      cpus: selCpus.map((c) => c.name),
      tuneRuns: opts.tuneRuns,
      tuneSeeds: opts.tuneSeeds,
      thresholds: [...opts.thresholds],
      eagerRuns: [...opts.eagerRuns],
      workloadsDir: repoPath(opts.workloadsDir),
    },
    workloads: workloads.map((w) => ({
      name: w.name,
      kind: w.workload.kind,
      description: w.workload.description ?? '',
      file: repoPath(w.file),
    })),
    policies: policies.map((p) => ({
      id: p.id,
      name: p.definition.name,
      summary: p.definition.summary,
      models: p.definition.models,
    })),
    cpus: cpus.map((c) => ({ name: c.name, title: c.title, description: c.description })),
    assumptions,
    cells,
    claim,
    checks: verdicts,
    tuning,
    breakEven: { analytic, simulated, placements },
    calibration,
    sensitivity: sensRaw,
    groundTruth,
    timing,
    throughput,
  };
}

function aggregateTuning(
  workloads: readonly string[],
  tasks: readonly TuneTask[],
  raw: readonly TuneUnitResult[],
  cpus: readonly string[],
  opts: SuiteOptions,
  ranges: Readonly<Record<string, readonly number[]>>,
): TuningResult | null {
  if (tasks.length === 0) return null;
  const rows: TuningResult['rows'][number][] = [];
  const best: TuningResult['best'][number][] = [];
  const settings = ranges.threshold.flatMap((threshold) =>
    ranges.eagerRuns.map((eagerRuns) => ({ threshold, eagerRuns })),
  );
  for (const w of workloads) {
    const use = tasks
      .map((t, i) => ({ t, r: raw[i] }))
      .filter((x) => x.t.workload === w)
      .map((x) => x.r);
    if (use.length === 0) continue;
    const nPol = use[0].policies.length;
    for (let c = 0; c < cpus.length; c++) {
      const perPolicy = Array.from({ length: nPol }, (_, p) => ({
        policy: use[0].policies[p],
        cyclesPerExit: estimate(
          use.map((u) => u.perExit[p][c]),
          NON_NEGATIVE,
        ),
        skipRate: estimate(
          use.map((u) => u.skipRate[p][c]),
          SHARE,
        ),
        fpTrapsPerExit: estimate(
          use.map((u) => u.fpTrapsPerExit[p][c]),
          NON_NEGATIVE,
        ),
      }));
      perPolicy.forEach((x, p) =>
        rows.push({
          workload: w,
          cpu: cpus[c],
          params: p < settings.length ? settings[p] : {},
          ...x,
        }),
      );
      const swept = perPolicy.slice(0, settings.length);
      let bi = 0;
      swept.forEach((x, i) => {
        if (x.cyclesPerExit.mean < swept[bi].cyclesPerExit.mean) bi = i;
      });
      const eager = perPolicy[settings.length].cyclesPerExit.mean;
      const lazyFixed = perPolicy[settings.length + 1].cyclesPerExit.mean;
      best.push({
        workload: w,
        cpu: cpus[c],
        params: settings[bi],
        cyclesPerExit: swept[bi].cyclesPerExit.mean,
        eager,
        lazyFixed,
        winOverEager: eager - swept[bi].cyclesPerExit.mean,
        winOverLazyFixed: lazyFixed - swept[bi].cyclesPerExit.mean,
      });
    }
  }
  return { policy: 'adaptive', ranges, runs: opts.tuneRuns, seeds: opts.tuneSeeds, rows, best };
}

async function measureThroughput(
  opts: SuiteOptions,
  policies: readonly Policy[],
  workloads: readonly LoadedSuiteWorkload[],
  verdicts: readonly Verdict[],
  tuneTasks: readonly TuneTask[],
  t0: number,
  timing: Record<string, number>,
  progress: Progress,
): Promise<Throughput> {
  const timeMs = opts.quick ? 60 : 400;
  // --quick keeps the sample floor low too: the figures are coarser, the run short.
  const minIterations = opts.quick ? 8 : 64;
  const lap = (name: string, since: number) =>
    (timing[name] = Number(((performance.now() - since) / 1000).toFixed(3)));
  let t = performance.now();
  const p37 = MarkovWorkloadSchema.parse({ name: 'p37', kind: 'markov', fpProbability: 0.37 });
  const simulate = await measureWalk(policies, markovStream(p37, { runs: 1 << 16, seed: 3 }), {
    timeMs,
    minIterations,
  });
  lap('tpSimulateSeconds', t);
  t = performance.now();

  const generate: { workload: string; runsPerSecond: number }[] = [];
  progress.phase('throughput: generation', workloads.length);
  for (const w of workloads) {
    const runs = 1 << 17;
    const bench = new Bench(benchOptions(timeMs, minIterations));
    bench.add(w.name, () => {
      for (const _chunk of workloadStream(w.workload, { runs, seed: 7 }).chunks()) continue;
    });
    await bench.run();
    const r = bench.tasks[0].result;
    if (r.state !== 'completed')
      throw new Error(`generate benchmark for ${w.name} did not complete`);
    generate.push({ workload: w.name, runsPerSecond: r.throughput.mean * runs });
    progress.step();
  }
  lap('tpGenerateSeconds', t);
  t = performance.now();

  const states = verdicts.reduce((a, v) => a + v.states, 0);
  const transitions = verdicts.reduce((a, v) => a + v.transitions, 0);
  const checkSeconds = verdicts
    .filter((v) => v.config === 'default')
    .reduce((a, v) => a + v.seconds, 0);
  const check = {
    states,
    transitions,
    seconds: Number(checkSeconds.toFixed(4)),
    statesPerSecond:
      states /
      Math.max(
        1e-9,
        verdicts.reduce((a, v) => a + v.seconds, 0),
      ),
  };

  // Worker scaling of the sweep: four tuning units of one workload (equal work) on a pool
  // of 1 worker and on a pool of 2, alternately, twice, keeping each pool's best time
  // (the least disturbed by other load on a shared machine: a lone run here has read 1.1x
  // and 2.7x). Each worker first runs one full unit (thread start-up, JIT compilation
  // and table warm-up are not the sweep). Equal units measure the threads' scaling; the
  // suite's own units are unequal (mixed-aarch32-aarch64's is ~3 s of ~6.5 s), so their
  // split is bounded by the largest, a granularity matter this figure leaves out and the
  // README states. Skipped under --quick (~8 s).
  let workerScaling: Throughput['workerScaling'] = null;
  if (tuneTasks.length >= 1 && !opts.quick) {
    progress.note('throughput: four equal sweep units on 1 and on 2 workers, best of 2');
    const units = Array.from({ length: 4 }, (_, k) => ({
      ...tuneTasks[0],
      seed: tuneTasks[0].seed + k,
    }));
    const warmUnits = [{ ...tuneTasks[0], seed: tuneTasks[0].seed + 1000 }];
    const pools = [new Pool(1), new Pool(2)];
    const best = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
    const repeats = 2;
    try {
      for (const pool of pools) {
        for (const w of warmUnits)
          await Promise.all(
            Array.from({ length: pool.size }, (_, k) => pool.run({ ...w, seed: w.seed + 10 * k })),
          );
      }
      for (let r = 0; r < repeats; r++) {
        for (let p = 0; p < pools.length; p++) {
          const s = performance.now();
          await Promise.all(units.map((u) => pools[p].run({ ...u, seed: u.seed + 100 * r })));
          best[p] = Math.min(best[p], (performance.now() - s) / 1000);
        }
      }
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
    workerScaling = {
      units: units.map((u) => u.workload),
      repeats,
      workers1Seconds: Number(best[0].toFixed(3)),
      workers2Seconds: Number(best[1].toFixed(3)),
      speedup: Number((best[0] / best[1]).toFixed(3)),
    };
  }
  lap('tpScalingSeconds', t);
  t = performance.now();
  // Memory of a user's default run, alone in a child process, at two stream lengths.
  const probeRuns = opts.quick ? [200_000, 2_000_000] : [1_000_000, 10_000_000];
  progress.note(
    `throughput: memory of a default simulate run (${probeRuns.map((r) => num(r)).join(' and ')} runs, child processes)`,
  );
  const memory = probeRuns.map((runs) => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./rss-probe.ts', import.meta.url)),
        'mixed-aarch32-aarch64',
        'adaptive',
        String(runs),
      ],
      {
        encoding: 'utf8',
      },
    );
    const j = JSON.parse(out) as { runs: number; maxRssMiB: number };
    return {
      workload: 'mixed-aarch32-aarch64',
      policy: 'adaptive',
      runs: j.runs,
      maxRssMiB: Number(j.maxRssMiB.toFixed(1)),
    };
  });

  lap('tpMemorySeconds', t);
  const suiteSeconds = (performance.now() - t0) / 1000;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const minWalk = Math.min(...simulate.map((s) => s.walkRunsPerSecond));
  const minRatio = Math.min(...simulate.map((s) => s.ratio));
  const minGen = Math.min(...generate.map((g) => g.runsPerSecond));
  const defaultChecks = verdicts.filter((v) => v.config === 'default');
  const budgets = [
    {
      name: 'simulate: table walk, one core',
      target: '>= 300 M runs/s (every policy)',
      measured: `${(minWalk / 1e6).toFixed(0)} M runs/s (slowest policy)`,
      met: minWalk >= 300e6,
    },
    {
      name: 'simulate: walk / bare loop',
      target: '>= 0.75',
      measured: minRatio.toFixed(2),
      met: minRatio >= 0.75,
    },
    {
      name: 'generate, one core',
      target: '>= 30 M runs/s (every workload)',
      measured: `${(minGen / 1e6).toFixed(1)} M runs/s (slowest workload)`,
      met: minGen >= 30e6,
    },
    {
      name: 'check: every built-in policy to its fixpoint, default configuration',
      target: '< 5 s total',
      measured: `${checkSeconds.toFixed(2)} s (${defaultChecks.length} policies)`,
      met: checkSeconds < 5,
    },
    workerScaling
      ? {
          name: 'worker_threads scaling of the sweep on 2 workers',
          target: '>= 1.8x',
          measured: `${workerScaling.speedup.toFixed(2)}x (${workerScaling.units.length} equal tuning units of ${workerScaling.units[0]})`,
          met: workerScaling.speedup >= 1.8,
        }
      : {
          name: 'worker_threads scaling of the sweep on 2 workers',
          target: '>= 1.8x',
          measured: opts.quick
            ? 'not measured under --quick'
            : 'not measured: no tuning units selected',
          met: null,
        },
    {
      name: 'whole suite',
      target: opts.quick ? '< 15 s (--quick)' : '< 60 s',
      measured: `${suiteSeconds.toFixed(1)} s`,
      met: suiteSeconds < (opts.quick ? 15 : 60),
    },
    {
      name: 'memory of a default simulate run, flat in stream length',
      target: '< 300 MB',
      measured: memory
        .map(
          (m) => `${(m.maxRssMiB * 1.048576).toFixed(0)} MB at ${(m.runs / 1e6).toFixed(1)} M runs`,
        )
        .join(', '),
      met: memory.every((m) => m.maxRssMiB * 1.048576 < 300),
    },
  ];
  return {
    simulate,
    generate,
    check,
    workerScaling,
    memory,
    suiteSeconds: Number(suiteSeconds.toFixed(2)),
    peakRssMiB: Number(peakRssMiB.toFixed(1)),
    budgets,
  };
}
