/**
 * Parameter sweeps of a policy (by default `adaptive`'s threshold and eagerRuns) over
 * workloads and CPU profiles, with `eager` and `lazy-fixed` as references: cycles per
 * exit for every setting, the best setting per workload and CPU, and what it wins.
 *
 * The unit of work is one (workload, seed): the stream is generated once per batch of
 * policies and every policy walks it; pricing per CPU is free after the walk. Units are
 * independent, so a pool of workers can run them in any order with identical results.
 */

import type { FpStateSize } from '../cpu/fp-state.js';
import type { CpuProfile } from '../cpu/profile.js';
import { instantiate } from '../policy/registry.js';
import type { Policy, PolicyDefinition } from '../policy/types.js';
import { price, type SimResult, walkPolicies, type WalkOutcome } from '../sim/simulate.js';
import { SWEEP_BUDGET, type WalkBudget } from '../sim/walk.js';
import { type ExitStream, replayable } from '../stream/exit-stream.js';
import { deriveSeed } from '../stream/prng.js';
import { type Workload, workloadStream } from '../stream/workload.js';
import { UserError, userText } from '../util/errors.js';
import { cartesian } from './ranges.js';

/** Policies walked per pass over a stream (bounds the memory of their tables). */
const BATCH = 6;

export interface SweepSetting {
  readonly params: Readonly<Record<string, number>>;
  readonly policy: Policy;
}

/** Every combination of the given parameter values, validated against the definition. */
export function sweepSettings(
  def: PolicyDefinition,
  ranges: Readonly<Record<string, readonly number[]>>,
): SweepSetting[] {
  const specs = def.params ?? {};
  for (const [key, values] of Object.entries(ranges)) {
    const spec = Object.hasOwn(specs, key) ? specs[key] : undefined;
    if (!spec)
      throw new UserError(
        `policy ${userText(def.name)} has no parameter "${userText(key)}" (known: ${Object.keys(specs).join(', ') || 'none'})`,
      );
    for (const v of values) {
      if (spec.integer && !Number.isInteger(v))
        throw new UserError(
          `${userText(def.name)}: ${userText(key)}=${userText(v)} must be an integer`,
        );
      if (spec.min !== undefined && v < spec.min)
        throw new UserError(
          `${userText(def.name)}: ${userText(key)}=${userText(v)} is below its minimum ${spec.min}`,
        );
      if (spec.max !== undefined && v > spec.max)
        throw new UserError(
          `${userText(def.name)}: ${userText(key)}=${userText(v)} is above its maximum ${spec.max}`,
        );
    }
  }
  const defaults = Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, v.default]));
  return cartesian(ranges).map((combo) => {
    const params = { ...defaults, ...combo };
    return { params, policy: instantiate(def, params) };
  });
}

/** The seed of seed index `k` for a workload: independent streams whatever the order. */
export function unitSeed(base: number, workload: string, k: number): number {
  return deriveSeed(base, workload, k);
}

/**
 * Walks every policy over one workload's stream for one seed: the CPU-independent counts,
 * in policy order. The stream is generated once and replayed for each batch of policies.
 * Cost: O(runs x policies).
 */
export function walkUnit(
  workload: Workload,
  seed: number,
  runs: number,
  policies: readonly Policy[],
  budget: WalkBudget = SWEEP_BUDGET,
): WalkOutcome[] {
  const stream =
    policies.length > BATCH
      ? replayable(workloadStream(workload, { runs, seed }))
      : workloadStream(workload, { runs, seed });
  return walkStream(stream, policies, budget);
}

/** Walks policies over a (replayable) stream in batches of BATCH. Cost: O(runs x policies). */
export function walkStream(
  stream: ExitStream,
  policies: readonly Policy[],
  budget: WalkBudget = SWEEP_BUDGET,
): WalkOutcome[] {
  const out: WalkOutcome[] = [];
  for (let i = 0; i < policies.length; i += BATCH) {
    out.push(...walkPolicies(policies.slice(i, i + BATCH), stream, 'table', budget));
  }
  return out;
}

/**
 * Walks every policy over one workload's stream for one seed and prices the walks for each
 * CPU. Returns results[policy index][cpu index]. Cost: O(runs x policies).
 */
export function runUnit(
  workload: Workload,
  seed: number,
  runs: number,
  policies: readonly Policy[],
  cpus: readonly CpuProfile[],
  fpState: FpStateSize,
  budget: WalkBudget = SWEEP_BUDGET,
): SimResult[][] {
  return walkUnit(workload, seed, runs, policies, budget).map((w) =>
    cpus.map((cpu) => price(w, cpu, fpState)),
  );
}
