/**
 * The suite's units of work. Each is plain data in and plain data out, deterministic in
 * its inputs (seeds are part of the task), so it can run on any worker in any order.
 */

import { BUILTIN_CONFIGS, resolveCheckConfig } from '../src/check/config.js';
import { checkPolicy, type Verdict } from '../src/check/explore.js';
import { FPSIMD } from '../src/cpu/fp-state.js';
import { cpuProfile } from '../src/cpu/profiles.js';
import { BUILTIN_POLICIES, builtinPolicy, resolvePolicy } from '../src/policy/registry.js';
import { price, type SimResult } from '../src/sim/simulate.js';
import { features } from '../src/tune/cost-draws.js';
import { sensitivity } from '../src/tune/sensitivity.js';
import { loadWorkloadFile } from '../src/stream/workload.js';
import { SUITE_BUDGET } from '../src/sim/walk.js';
import { runUnit, sweepSettings, walkUnit } from '../src/tune/sweep.js';
import { isUserError } from '../src/util/errors.js';
import { loadGroundTruth } from '../validation/lib/model-side.js';

/** Simulate every policy over one workload stream (one seed), priced on every CPU. */
export interface SimTask {
  readonly kind: 'sim';
  readonly workloadFile: string;
  readonly seed: number;
  readonly runs: number;
  readonly policies: readonly string[];
  readonly cpus: readonly string[];
}

/**
 * One unit of the threshold sweep: a (workload, seed) and a share of the thresholds, or
 * (`references`) the reference policies eager and lazy-fixed on the same stream.
 */
export interface TuneTask {
  readonly kind: 'tune';
  /** The workload's name (for aggregation) and file. */
  readonly workload: string;
  readonly workloadFile: string;
  readonly seed: number;
  readonly runs: number;
  readonly ranges: Readonly<Record<string, readonly number[]>>;
  /** Simulate eager and lazy-fixed instead of the swept settings. */
  readonly references: boolean;
  readonly cpus: readonly string[];
}

/** Model-check one policy in one configuration. */
export interface CheckTask {
  readonly kind: 'check';
  readonly policy: string;
  readonly config: string;
}

/** Sensitivity of the lazy-fixed skip rate to one workload's parameters. */
export interface SensitivityTask {
  readonly kind: 'sensitivity';
  readonly workloadFile: string;
  readonly runs: number;
  readonly seeds: number;
  readonly seed: number;
}

/**
 * The ground-truth section's model side (validation/lib/model-side.ts: a million generated
 * runs per measured cell), a unit of its own so it runs beside the others instead of
 * before them on the main thread.
 */
export interface GroundTruthTask {
  readonly kind: 'groundTruth';
  readonly workloadsDir: string;
}

export type TaskRequest = SimTask | TuneTask | CheckTask | SensitivityTask | GroundTruthTask;

export type TaskResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string; userError: boolean };

/** What a sim cell keeps of a SimResult (per policy, per CPU). */
export type SimCell = Pick<
  SimResult,
  | 'policy'
  | 'cpu'
  | 'runs'
  | 'skipRate'
  | 'counters'
  | 'cycles'
  | 'guestNs'
  | 'exitsPerGuestSecond'
  | 'exitMix'
  | 'fpUse'
>;

/** A tune result: results[setting or reference][cpu], reduced to what aggregation needs. */
export interface TuneUnitResult {
  readonly policies: readonly string[];
  /** CPU-independent walk features per policy (src/tune/cost-draws.ts), for the cost draws. */
  readonly features: readonly (readonly number[])[];
  readonly perExit: readonly (readonly number[])[];
  readonly skipRate: readonly (readonly number[])[];
  readonly fpTrapsPerExit: readonly (readonly number[])[];
}

/** A simulation unit: every policy x CPU over one workload's runs, as wire cells. */
async function simUnit(task: SimTask): Promise<SimCell[][]> {
  const workload = loadWorkloadFile(task.workloadFile);
  const policies = await Promise.all(task.policies.map((p) => resolvePolicy(p)));
  const cpus = task.cpus.map(cpuProfile);
  const results = runUnit(workload, task.seed, task.runs, policies, cpus, FPSIMD, SUITE_BUDGET);
  return results.map((perCpu) =>
    perCpu.map((r): SimCell => ({
      policy: r.policy,
      cpu: r.cpu,
      runs: r.runs,
      skipRate: r.skipRate,
      counters: r.counters,
      cycles: r.cycles,
      guestNs: r.guestNs,
      exitsPerGuestSecond: r.exitsPerGuestSecond,
      exitMix: r.exitMix,
      fpUse: r.fpUse,
    })),
  );
}

/** A tune unit: the adaptive sweep's settings (or the reference designs) walked once, priced per CPU. */
async function tuneUnit(task: TuneTask): Promise<TuneUnitResult> {
  const workload = loadWorkloadFile(task.workloadFile);
  // The reference unit holds every other built-in design at its defaults: the
  // recommendation chooses among all of them (bench/recommendations.ts).
  const adaptive = builtinPolicy('adaptive');
  if (adaptive === undefined) throw new Error('the built-in policy adaptive is missing');
  const policies = task.references
    ? await Promise.all(
        BUILTIN_POLICIES.filter((d) => d.name !== 'adaptive').map((d) => resolvePolicy(d.name)),
      )
    : sweepSettings(adaptive, task.ranges).map((s) => s.policy);
  const cpus = task.cpus.map(cpuProfile);
  const walks = walkUnit(workload, task.seed, task.runs, policies);
  const results = walks.map((w) => cpus.map((cpu) => price(w, cpu, FPSIMD)));
  const out: TuneUnitResult = {
    policies: policies.map((p) => p.id),
    features: walks.map((w) => Array.from(features(w))),
    perExit: results.map((perCpu) => perCpu.map((r) => r.cycles.perExit)),
    skipRate: results.map((perCpu) => perCpu.map((r) => r.skipRate)),
    fpTrapsPerExit: results.map((perCpu) =>
      perCpu.map((r) => r.counters.fpTraps / Math.max(1, r.runs)),
    ),
  };
  return out;
}

async function executeTask(task: TaskRequest): Promise<unknown> {
  switch (task.kind) {
    case 'sim': {
      return simUnit(task);
    }
    case 'tune': {
      return tuneUnit(task);
    }
    case 'sensitivity': {
      const workload = loadWorkloadFile(task.workloadFile);
      return sensitivity({
        workload: { workload, file: task.workloadFile, builtin: false },
        runs: task.runs,
        seeds: task.seeds,
        seed: task.seed,
        rankRuns: Math.min(task.runs, 100_000),
      });
    }
    case 'check': {
      const policy = await resolvePolicy(task.policy);
      const config =
        BUILTIN_CONFIGS.find((c) => c.name === task.config) ?? resolveCheckConfig(task.config);
      const v: Verdict = checkPolicy(policy, config);
      return v;
    }
    case 'groundTruth': {
      return loadGroundTruth({ workloadsDir: task.workloadsDir });
    }
  }
}

/** Runs a task and wraps the outcome for the wire. */
export async function answer(id: number, task: TaskRequest): Promise<TaskResponse> {
  try {
    return { id, ok: true, result: await executeTask(task) };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return {
      id,
      ok: false,
      error: isUserError(err) ? err.message : (err.stack ?? err.message),
      userError: isUserError(err),
    };
  }
}
