/**
 * The benchmark suite: every built-in workload x policy x CPU over several seeds, the
 * checker over every built-in policy, the threshold sweep, break-even, calibration and
 * the tool's own throughput, assembled into one `Results` object.
 */

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus as osCpus, totalmem } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Verdict } from '../src/check/explore.js';
import { FPSIMD } from '../src/cpu/fp-state.js';
import { BUILTIN_CPUS } from '../src/cpu/profiles.js';
import { BUILTIN_POLICIES, instantiate, resolvePolicy } from '../src/policy/registry.js';
import type { Policy } from '../src/policy/types.js';
import {
  type Cell,
  RESULTS_SCHEMA,
  RESULTS_SCHEMA_VERSION,
  type Results,
  type Throughput,
  type TuningResult,
} from '../src/report/results.js';
import { num } from '../src/util/format.js';
import { CLAIM, claimResult } from '../src/stream/claim.js';
import { claimEvidence } from '../src/report/ground-truth.js';
import { applyBuiltinTemplate, parseWorkload, type Workload } from '../src/stream/workload.js';
import { breakEven, lazyWins, simulatedBreakEven } from '../src/tune/break-even.js';
import { sweepSettings, unitSeed } from '../src/tune/sweep.js';
import { UserError } from '../src/util/errors.js';
import { readJsonFile } from '../src/util/json-file.js';
import { estimate, type Estimate, NON_NEGATIVE, SHARE } from '../src/util/stats.js';
import { packageRoot } from '../src/util/package-root.js';
import { toolVersion } from '../src/util/version.js';
import { cpuAssumptions, policyAssumptions, workloadAssumptions } from './assumptions.js';
import { evaluateBudgets } from './budgets.js';
import { calibrate } from './calibration.js';
import { measureImportThroughput } from './import-throughput.js';
import { suiteRecommendations } from './recommendations.js';
import { globToRegExp } from './glob.js';
import {
  measureCheck,
  measureCliStart,
  measureMemory,
  measureScaling,
  measureStreams,
} from './measure.js';
import { Pool } from './pool.js';
import { slowWorkNote } from '../src/cli/slow-work.js';
import type { Progress } from './progress.js';
import type { SensitivityResult } from '../src/tune/sensitivity.js';
import type { Recommendation } from '../src/tune/recommend.js';
import type {
  CheckTask,
  GroundTruthTask,
  SensitivityTask,
  SimCell,
  SimTask,
  TaskRequest,
  TuneTask,
  TuneUnitResult,
} from './tasks.js';

interface SuiteOptions {
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
  /**
   * Extra sections: `groundTruth` computes the ground-truth comparison's model side
   * (validation/lib/model-side.ts) in a unit on the pool, beside the suite's own units.
   */
  readonly extras?: { groundTruth?: boolean };
  /**
   * Policy files that stand in for the built-in policy of the same name (`--policy`): a
   * changed design measured under the built-in's id, so `fpswitch compare` pairs its cells.
   */
  readonly policyFiles?: readonly string[];
}

/**
 * For each policy file, the built-in id it replaces and the spec the workers load instead
 * (the file, with the built-in's default parameters). Throws UserError for a file whose
 * policy has no built-in namesake.
 */
async function policyOverrides(
  policies: readonly Policy[],
  files: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of files) {
    const abs = resolve(file);
    const def = (await resolvePolicy(abs)).definition;
    const builtin = policies.find((p) => p.definition.name === def.name);
    if (!builtin)
      throw new UserError(
        `${file}: policy "${def.name}" replaces no built-in policy (built-ins: ${policies.map((p) => p.definition.name).join(', ')})`,
      );
    const params = builtin.id.includes(':') ? builtin.id.slice(builtin.id.indexOf(':')) : '';
    out.set(builtin.id, `${abs}${params}`);
  }
  return out;
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
function loadSuiteWorkloads(dir: string): LoadedSuiteWorkload[] {
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
    const raw0 = readJsonFile(file, 'workload file');
    // A built-in template's file is its defaults, derived (src/stream/guest-configs.ts).
    const parsed = parseWorkload(raw0, file);
    const workload = applyBuiltinTemplate(parsed, file);
    const raw: unknown = workload === parsed ? raw0 : workload;
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

const REPO = packageRoot();

/** A path as the report shows it: relative to the repository when inside it, so two clones agree. */
function repoPath(p: string): string {
  const r = relative(REPO, p);
  return r === '' ? '.' : r.startsWith('..') || isAbsolute(r) ? p : r;
}

/** Built-in policies as the suite runs them (defaults). */
function suitePolicies(): Policy[] {
  return BUILTIN_POLICIES.map((d) =>
    instantiate(
      d,
      Object.fromEntries(Object.entries(d.params ?? {}).map(([k, v]) => [k, v.default])),
    ),
  );
}

/** The checker's configurations: the default one and three AArch32 vCPUs. */
const CHECK_CONFIGS = ['default', 'three-aarch32'];

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

/** What the suite runs: the selected workloads, policies and CPUs, and the cell filter. */
interface SuitePlan {
  readonly workloads: LoadedSuiteWorkload[];
  readonly policies: Policy[];
  readonly cpus: typeof BUILTIN_CPUS;
  readonly selWorkloads: LoadedSuiteWorkload[];
  readonly selPolicies: Policy[];
  readonly selCpus: typeof BUILTIN_CPUS;
  readonly wanted: (w: string, p: string, c: string) => boolean;
  readonly tuneRanges: { threshold: number[]; eagerRuns: number[] };
  /** The spec a task runs for a policy id: a --policy file standing in for a built-in, or the id. */
  readonly specOf: (id: string) => string;
}

/** Loads the workloads and selects the cells; throws UserError for bad input. */
async function planSuite(opts: SuiteOptions): Promise<SuitePlan> {
  const workloads = loadSuiteWorkloads(opts.workloadsDir);
  const policies = suitePolicies();
  const overrides = await policyOverrides(policies, opts.policyFiles ?? []);
  const specOf = (id: string) => overrides.get(id) ?? id;
  const cpus = BUILTIN_CPUS;
  const only = opts.only ? globToRegExp(opts.only) : null;
  const wanted = (w: string, p: string, c: string) => !only || only.test(`${w}/${p}/${c}`);
  const selected = workloads.flatMap((w) =>
    policies.flatMap((p) =>
      cpus
        .filter((c) => wanted(w.name, p.id, c.name))
        .map((c) => ({ w: w.name, p: p.id, c: c.name })),
    ),
  );
  if (selected.length === 0) {
    throw new UserError(
      `--only ${opts.only}: matches no cell (cells are named workload/policy/cpu, e.g. hackbench/lazy-fixed/altra)`,
    );
  }
  const tuneRanges = { threshold: [...opts.thresholds], eagerRuns: [...opts.eagerRuns] };
  const adaptive = BUILTIN_POLICIES.find((d) => d.name === 'adaptive');
  if (adaptive) sweepSettings(adaptive, tuneRanges); // throws UserError on a value out of range, before any work
  return {
    workloads,
    policies,
    cpus,
    selWorkloads: workloads.filter((w) => selected.some((k) => k.w === w.name)),
    selPolicies: policies.filter((p) => selected.some((k) => k.p === p.id)),
    selCpus: cpus.filter((c) => selected.some((k) => k.c === c.name)),
    wanted,
    tuneRanges,
    specOf,
  };
}

/** Runs the suite. Throws UserError for bad input before any work starts. */
export async function runSuite(opts: SuiteOptions, progress: Progress): Promise<Results> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const timing: Record<string, number> = {};
  const plan = await planSuite(opts);
  progress.note(
    `${opts.quick ? 'quick run' : 'full run'}: ${opts.runs.toLocaleString('en-US')} runs x ${opts.seeds} seeds per cell, ${opts.workers} workers`,
  );
  // No silent long work: a workload far slower per run than the built-ins is announced.
  for (const w of plan.selWorkloads) {
    const slow = slowWorkNote(w.workload, opts.seed, opts.runs * opts.seeds);
    if (slow) progress.note(slow.note);
  }
  const tasks = buildTasks(plan, opts);
  const raw = await lapped(timing, 'parallelSeconds', () =>
    runTasks(tasks, opts.workers, progress),
  );
  const groundTruth = raw.groundTruth;
  const cells = buildCells(plan, tasks.sim, raw.sim, opts);
  const tuning = suiteTuning(plan, tasks, raw, opts);
  const breakEven = await lapped(timing, 'breakEvenSeconds', () =>
    breakEvenSection(plan.cpus, cells, opts, progress),
  );
  progress.note('cost model against the published anchors; recommendations over cost draws');
  const calibration = await calibrate(plan.cpus);
  const recommendations = await lapped(timing, 'recommendSeconds', () =>
    Promise.resolve(suiteRecommendationsOf(plan, tasks, raw, opts)),
  );
  const throughput = opts.throughput
    ? await lapped(timing, 'throughputSeconds', () =>
        measureThroughput({
          opts,
          plan,
          verdicts: raw.check,
          tasks,
          busy: raw.busy,
          t0,
          cpu0,
          timing,
          progress,
        }),
      )
    : null;
  timing.suiteSeconds = seconds(t0);
  return {
    ...resultsHeader(opts, plan),
    assumptions: suiteAssumptions(plan),
    cells,
    claim: claimChecks(cells, plan, groundTruth),
    checks: raw.check,
    tuning,
    breakEven,
    calibration,
    recommendations,
    sensitivity: raw.sens,
    groundTruth,
    timing,
    throughput,
  };
}

/** The adaptive sweep's table: the tune units' results per selected workload and CPU. */
function suiteTuning(
  plan: SuitePlan,
  tasks: SuiteTasks,
  raw: RawResults,
  opts: SuiteOptions,
): TuningResult | null {
  return aggregateTuning(
    plan.selWorkloads.map((w) => w.name),
    tasks.tune,
    raw.tune,
    plan.selCpus.map((c) => c.name),
    opts,
    plan.tuneRanges,
  );
}

/** One recommendation per selected workload x CPU, from the tune units and the verdicts. */
function suiteRecommendationsOf(
  plan: SuitePlan,
  tasks: SuiteTasks,
  raw: RawResults,
  opts: SuiteOptions,
): Recommendation[] {
  return suiteRecommendations(
    plan.selWorkloads.map((w) => w.name),
    (w) => mergeTuneUnits(tasks.tune, raw.tune, w),
    plan.selCpus,
    raw.check,
    opts,
  );
}

/** Every parameter of the run with its source: CPUs, policies, workloads. */
function suiteAssumptions(plan: SuitePlan): Results['assumptions'] {
  return [
    ...plan.cpus.flatMap(cpuAssumptions),
    ...plan.policies.flatMap((p) => policyAssumptions(p.definition, p.params)),
    ...plan.workloads.flatMap((w) => workloadAssumptions(w.name, w.raw)),
  ];
}

const seconds = (since: number) => Number(((performance.now() - since) / 1000).toFixed(3));

/** Runs `f`, recording its wall time in `timing[name]`. */
async function lapped<T>(
  timing: Record<string, number>,
  name: string,
  f: () => Promise<T>,
): Promise<T> {
  const t = performance.now();
  const r = await f();
  timing[name] = seconds(t);
  return r;
}

/** The suite's units of work, by kind. */
interface SuiteTasks {
  readonly sim: SimTask[];
  readonly tune: TuneTask[];
  readonly check: CheckTask[];
  readonly sens: SensitivityTask[];
  /** The ground-truth unit, when the run asked for it. */
  readonly groundTruth: GroundTruthTask[];
}

/** Thresholds per sweep unit: small units keep two workers busy to the end. */
const THRESHOLDS_PER_UNIT = 4;

/**
 * The units: one sim unit per (workload, seed); sweep units per (workload, seed) split
 * by threshold (THRESHOLDS_PER_UNIT at a time, the references eager and lazy-fixed in a
 * unit of their own); one check per (policy, configuration); one sensitivity per claim
 * workload. Each unit is deterministic in its inputs, so the split changes no result.
 */
function buildTasks(plan: SuitePlan, opts: SuiteOptions): SuiteTasks {
  const { selWorkloads, tuneRanges } = plan;
  const seedsOf = (w: string, n: number) =>
    Array.from({ length: n }, (_, k) => unitSeed(opts.seed, w, k));
  const policyIds = plan.policies.map((p) => p.id);
  const cpuNames = plan.cpus.map((c) => c.name);
  const sim: SimTask[] = selWorkloads.flatMap((w) =>
    seedsOf(w.name, opts.seeds).map((seed) => ({
      kind: 'sim' as const,
      workloadFile: w.file,
      seed,
      runs: opts.runs,
      policies: policyIds.map(plan.specOf),
      cpus: cpuNames,
    })),
  );
  const thresholdChunks: number[][] = [];
  for (let i = 0; i < tuneRanges.threshold.length; i += THRESHOLDS_PER_UNIT)
    thresholdChunks.push(tuneRanges.threshold.slice(i, i + THRESHOLDS_PER_UNIT));
  const tune: TuneTask[] = selWorkloads.flatMap((w) =>
    seedsOf(`tune:${w.name}`, opts.tuneSeeds).flatMap((seed) =>
      [...thresholdChunks, null].map((chunk) => ({
        kind: 'tune' as const,
        workload: w.name,
        workloadFile: w.file,
        seed,
        runs: opts.tuneRuns,
        ranges: { threshold: chunk ?? [], eagerRuns: tuneRanges.eagerRuns },
        references: chunk === null,
        cpus: plan.selCpus.map((c) => c.name),
      })),
    ),
  );
  // Every policy at its defaults: adaptive's verdict comes from its mode abstraction and
  // covers every threshold and eagerRuns (src/check/abstraction.ts).
  const check: CheckTask[] = plan.selPolicies.flatMap((p) =>
    CHECK_CONFIGS.map((config) => ({ kind: 'check' as const, policy: plan.specOf(p.id), config })),
  );
  // Sensitivity for the workloads the 2015 claim names (lmbench, hackbench: CLAIM.workloads), when selected.
  const sens: SensitivityTask[] = selWorkloads
    .filter((w) => w.workload.kind === 'guest' && CLAIM.workloads.includes(w.name))
    .map((w) => ({
      kind: 'sensitivity' as const,
      workloadFile: w.file,
      runs: opts.quick ? 20_000 : 100_000,
      seeds: opts.quick ? 2 : 3,
      seed: opts.seed,
    }));
  const groundTruth: GroundTruthTask[] = opts.extras?.groundTruth
    ? [{ kind: 'groundTruth', workloadsDir: opts.workloadsDir }]
    : [];
  return { sim, tune, check, sens, groundTruth };
}

interface RawResults {
  readonly sim: SimCell[][][];
  readonly tune: TuneUnitResult[];
  readonly check: Verdict[];
  readonly sens: SensitivityResult[];
  /** The ground-truth comparison (null when not asked for, or without validation results). */
  readonly groundTruth: unknown;
  /** Worker time in units / (wall time x workers). */
  readonly busy: number;
}

/** Runs every unit on a pool; results come back in task order whatever ran where. */
async function runTasks(
  tasks: SuiteTasks,
  workers: number,
  progress: Progress,
): Promise<RawResults> {
  const pool = new Pool(workers);
  const all: TaskRequest[] = [
    ...tasks.groundTruth,
    ...tasks.sens,
    ...tasks.check,
    ...tasks.tune,
    ...tasks.sim,
  ];
  const t = performance.now();
  try {
    progress.phase(`${all.length} tasks on ${workers} worker${workers > 1 ? 's' : ''}`, all.length);
    const run = <T>(task: TaskRequest) =>
      pool.run<T>(task).then((r) => {
        progress.step();
        return r;
      });
    // Submit everything at once, the long units first; results are read back in task order.
    const [groundTruth, sens, check, tune, sim] = await Promise.all([
      Promise.all(tasks.groundTruth.map((x) => run<unknown>(x))),
      Promise.all(tasks.sens.map((x) => run<SensitivityResult>(x))),
      Promise.all(tasks.check.map((x) => run<Verdict>(x))),
      Promise.all(tasks.tune.map((x) => run<TuneUnitResult>(x))),
      Promise.all(tasks.sim.map((x) => run<SimCell[][]>(x))),
    ]);
    const busy = pool.busySeconds / (((performance.now() - t) / 1000) * workers);
    return {
      sim,
      tune,
      check,
      sens,
      groundTruth: groundTruth.length > 0 ? groundTruth[0] : null,
      busy: Number(busy.toFixed(3)),
    };
  } catch (e) {
    const err = e as Error & { userError?: boolean };
    if (err.userError) throw new UserError(err.message);
    throw e;
  } finally {
    progress.end();
    await pool.close();
  }
}

/** One cell's estimates over its seeds. */
function cellOf(w: string, policy: string, cpu: string, seeds: number[], rs: SimCell[]): Cell {
  const est = (f: (r: SimCell) => number) => estimate(rs.map(f), NON_NEGATIVE);
  const share = (f: (r: SimCell) => number) => estimate(rs.map(f), SHARE);
  const first = rs[0];
  return {
    workload: w,
    policy,
    cpu,
    runs: first.runs,
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
  };
}

/** The cells: every selected workload x policy x CPU, estimated over the seeds. */
function buildCells(
  plan: SuitePlan,
  simTasks: readonly SimTask[],
  simRaw: readonly SimCell[][][],
  opts: SuiteOptions,
): Cell[] {
  const cells: Cell[] = [];
  for (const w of plan.selWorkloads) {
    const seeds = Array.from({ length: opts.seeds }, (_, k) => unitSeed(opts.seed, w.name, k));
    const perSeed = simTasks.flatMap((t, i) => (t.workloadFile === w.file ? [simRaw[i]] : []));
    plan.policies.forEach((p, pi) => {
      plan.cpus.forEach((c, ci) => {
        if (!plan.wanted(w.name, p.id, c.name)) return;
        cells.push(
          cellOf(
            w.name,
            p.id,
            c.name,
            seeds,
            perSeed.map((s) => s[pi][ci]),
          ),
        );
      });
    });
  }
  return cells;
}

/** The claim: the lazy switch's skip rate per workload (CPU-independent). */
function claimChecks(
  cells: readonly Cell[],
  plan: SuitePlan,
  groundTruth: unknown,
): Results['claim'] {
  const cpu = plan.selCpus[0]?.name ?? plan.cpus[0].name;
  const evidence = claimEvidence(groundTruth);
  return claimResult(
    cells
      .filter((c) => c.policy === 'lazy-fixed' && c.cpu === cpu)
      .map((c) => ({ workload: c.workload, policy: c.policy, cpu: c.cpu, skipRate: c.skipRate })),
    evidence.err,
    evidence.real,
  );
}

/** Break-even: analytic per CPU, simulated per CPU, and where each lazy-fixed cell lies. */
async function breakEvenSection(
  cpus: SuitePlan['cpus'],
  cells: readonly Cell[],
  opts: SuiteOptions,
  progress: Progress,
): Promise<Results['breakEven']> {
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
      const ratio = analytic[cpus.findIndex((x) => x.name === c.cpu)].ratio;
      const p = c.fpUse.any.mean;
      return { workload: c.workload, cpu: c.cpu, p, ratio, lazyWins: lazyWins(p, ratio) };
    });
  return { analytic, simulated, placements };
}

/** The results' description of the run: tool, host, parameters, workloads, policies, CPUs. */
function resultsHeader(opts: SuiteOptions, plan: SuitePlan) {
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
      workloads: plan.selWorkloads.map((w) => w.name),
      policies: plan.selPolicies.map((p) => p.id),
      cpus: plan.selCpus.map((c) => c.name),
      tuneRuns: opts.tuneRuns,
      tuneSeeds: opts.tuneSeeds,
      thresholds: [...opts.thresholds],
      eagerRuns: [...opts.eagerRuns],
      workloadsDir: repoPath(opts.workloadsDir),
    },
    workloads: plan.workloads.map((w) => ({
      name: w.name,
      kind: w.workload.kind,
      description: w.workload.description ?? '',
      file: repoPath(w.file),
    })),
    policies: plan.policies.map((p) => ({
      id: p.id,
      name: p.definition.name,
      summary: p.definition.summary,
      models: p.definition.models,
    })),
    cpus: plan.cpus.map((c) => ({ name: c.name, title: c.title, description: c.description })),
  } as const;
}

/**
 * One result per (workload, seed) with every swept setting then the references, as one
 * unsplit unit would give: the units of a seed joined in task order.
 */
function mergeTuneUnits(
  tasks: readonly TuneTask[],
  raw: readonly TuneUnitResult[],
  workload: string,
): TuneUnitResult[] {
  const bySeed = new Map<number, TuneUnitResult[]>();
  tasks.forEach((t, i) => {
    if (t.workload !== workload) return;
    // buildTasks makes a seed's threshold units in order, then its references.
    const list = bySeed.get(t.seed) ?? [];
    list.push(raw[i]);
    bySeed.set(t.seed, list);
  });
  return [...bySeed.values()].map((units) => ({
    policies: units.flatMap((u) => u.policies),
    features: units.flatMap((u) => u.features),
    perExit: units.flatMap((u) => u.perExit),
    skipRate: units.flatMap((u) => u.skipRate),
    fpTrapsPerExit: units.flatMap((u) => u.fpTrapsPerExit),
  }));
}

/** The best swept setting of one workload and CPU, against the references after it. */
function bestSetting(
  workload: string,
  cpu: string,
  settings: readonly { threshold: number; eagerRuns: number }[],
  perPolicy: readonly { policy: string; cyclesPerExit: Estimate }[],
): TuningResult['best'][number] {
  const swept = perPolicy.slice(0, settings.length);
  let bi = 0;
  swept.forEach((x, i) => {
    if (x.cyclesPerExit.mean < swept[bi].cyclesPerExit.mean) bi = i;
  });
  // The references follow the swept settings; find them by id (every built-in is there).
  const at = (id: string) => perPolicy.findIndex((x) => x.policy === id);
  const eager = perPolicy[at('eager')].cyclesPerExit.mean;
  const lazyFixed = perPolicy[at('lazy-fixed')].cyclesPerExit.mean;
  return {
    workload,
    cpu,
    params: settings[bi],
    cyclesPerExit: swept[bi].cyclesPerExit.mean,
    eager,
    lazyFixed,
    winOverEager: eager - swept[bi].cyclesPerExit.mean,
    winOverLazyFixed: lazyFixed - swept[bi].cyclesPerExit.mean,
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
    const use = mergeTuneUnits(tasks, raw, w);
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
      best.push(bestSetting(w, cpus[c], settings, perPolicy));
    }
  }
  return { policy: 'adaptive', ranges, runs: opts.tuneRuns, seeds: opts.tuneSeeds, rows, best };
}

interface ThroughputInputs {
  readonly opts: SuiteOptions;
  readonly plan: SuitePlan;
  readonly verdicts: readonly Verdict[];
  readonly tasks: SuiteTasks;
  readonly busy: number;
  readonly t0: number;
  readonly cpu0: NodeJS.CpuUsage;
  readonly timing: Record<string, number>;
  readonly progress: Progress;
}

/** Walk, bare loop and generation per workload stream, each workload in a child process. */
async function streamFigures(x: ThroughputInputs) {
  const { opts, plan, progress } = x;
  progress.phase(
    'throughput: walk, bare loop and generation per workload (child processes)',
    plan.workloads.length,
  );
  const streams = await measureStreams(
    plan.workloads.map((w) => ({ name: w.name, file: w.file })),
    plan.policies.map((p) => p.id),
    {
      runs: opts.quick ? 1 << 18 : 1 << 20,
      generateRuns: 1 << 17,
      timeMs: opts.quick ? 20 : 120,
      minIterations: opts.quick ? 4 : 16,
      seed: 7,
      group: opts.quick ? plan.workloads.length : 1,
    },
    () => {
      progress.step();
    },
  );
  progress.end();
  return {
    simulate: streams.flatMap((s) =>
      s.walk.map((w) => ({ workload: s.workload, stream: s.stream, ...w })),
    ),
    generate: streams.map((s) => ({
      workload: s.workload,
      stream: s.stream,
      runsPerSecond: s.generateRunsPerSecond,
    })),
  };
}

/** The checker's figures: time alone in a child process, sizes from the suite's own verdicts. */
async function checkFigures(verdicts: readonly Verdict[]): Promise<Throughput['check']> {
  const alone = await measureCheck();
  const sum = (f: (v: Verdict) => number) => verdicts.reduce((a, v) => a + f(v), 0);
  return {
    states: sum((v) => v.states),
    transitions: sum((v) => v.transitions),
    seconds: Number(alone.seconds.toFixed(4)),
    cpuSeconds: Number(alone.cpuSeconds.toFixed(4)),
    statesPerSecond:
      alone.verdicts.reduce((a, v) => a + v.states, 0) / Math.max(1e-9, alone.seconds),
    verdicts: alone.verdicts.length,
    configs: [...new Set(alone.verdicts.map((v) => v.config))],
    perVerdict: alone.verdicts.map((v) => ({
      policy: v.policy,
      config: v.config,
      seconds: Number(v.seconds.toFixed(4)),
      covers: v.covers,
    })),
  };
}

/**
 * The suite's own units for the scaling measurement: every kind the suite runs, split as
 * the suite splits them, at --quick sizes so the measurement takes seconds.
 */
function scalingUnits(x: ThroughputInputs): TaskRequest[] {
  const q = { ...x.opts, ...defaultOptions(true), seeds: 1, tuneSeeds: 1, runs: 50_000 };
  const t = buildTasks(x.plan, q);
  return [...t.sens, ...t.check, ...t.tune, ...t.sim];
}

/** Every throughput figure and the budget table. */
async function measureThroughput(x: ThroughputInputs): Promise<Throughput> {
  const { opts, progress, timing } = x;
  const streams = await lapped(timing, 'tpStreamsSeconds', () => streamFigures(x));
  progress.note('throughput: CLI start (the package bin, node -e 0 beside it)');
  const cliStart = measureCliStart(opts.quick ? 1 : 3);
  let workerScaling: Throughput['workerScaling'] = null;
  if (!opts.quick) {
    const units = scalingUnits(x);
    progress.note(
      `throughput: ${units.length} of the suite's own units on 1 and on 2 workers, twice`,
    );
    workerScaling = await lapped(timing, 'tpScalingSeconds', () => measureScaling(units, 2));
  }
  const probeRuns = opts.quick ? [200_000, 2_000_000] : [1_000_000, 10_000_000];
  progress.note(
    `throughput: memory of a default simulate run (${probeRuns.map((r) => num(r)).join(' and ')} runs, child processes)`,
  );
  const memory = measureMemory(probeRuns);
  // Import beside the line-count floor of the same file (bench/import-throughput.ts).
  progress.note('throughput: import of a synthetic tracefs trace beside a plain line count');
  const importThroughput = await measureImportThroughput(opts.quick ? 20 : 200, opts.quick ? 2 : 3);
  const cpu = process.cpuUsage(x.cpu0);
  const tp: Omit<Throughput, 'budgets'> = {
    ...streams,
    cliStart,
    check: await checkFigures(x.verdicts),
    workerScaling,
    busy: x.busy,
    memory,
    importThroughput,
    suiteSeconds: Number(((performance.now() - x.t0) / 1000).toFixed(2)),
    suiteCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    peakRssMiB: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
  };
  return { ...tp, budgets: evaluateBudgets({ quick: opts.quick, tp }) };
}
