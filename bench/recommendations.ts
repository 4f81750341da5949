/**
 * The suite's recommendations: for every workload x CPU, one design over every built-in
 * policy (adaptive at every swept setting), chosen on the tune units' walk features with
 * seeded cost draws (src/tune/recommend.ts). Designs the model checker rejected in the
 * suite's own checks are listed, not recommended. Everything here runs after the workers
 * finish, on their deterministic outputs: the same seed gives the same draws and the same
 * recommendations whatever the worker count.
 */

import type { Verdict } from '../src/check/explore.js';
import { FPSIMD } from '../src/cpu/fp-state.js';
import type { CpuProfile } from '../src/cpu/profile.js';
import { type Candidate, type Recommendation, recommend } from '../src/tune/recommend.js';
import type { TuneUnitResult } from './tasks.js';

/** Cost draws per workload x CPU (a few thousand dot products per candidate). */
const SUITE_DRAWS = 2000;

/** Design name -> why the checker rejected it (any configuration). */
function rejections(verdicts: readonly Verdict[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of verdicts) {
    if (v.verdict !== 'violation') continue;
    const design = v.policy.split(':')[0];
    if (!out.has(design))
      out.set(
        design,
        `rejected by the model checker (${v.invariant ?? 'violation'} in ${v.config})`,
      );
  }
  return out;
}

/**
 * Recommendations for every workload x CPU. `perSeed(w)` gives the workload's tune results,
 * one per seed, each holding every swept setting and every reference design in one order.
 * Cost: O(cells x draws x candidates).
 */
export function suiteRecommendations(
  workloads: readonly string[],
  perSeed: (workload: string) => readonly TuneUnitResult[],
  cpus: readonly CpuProfile[],
  verdicts: readonly Verdict[],
  opts: { readonly seed: number; readonly quick: boolean },
): Recommendation[] {
  const rejected = rejections(verdicts);
  const out: Recommendation[] = [];
  for (const w of workloads) {
    const units = perSeed(w);
    if (units.length === 0) continue;
    const candidates: Candidate[] = units[0].policies.map((policy, p) => ({
      policy,
      design: policy.split(':')[0],
      perSeed: units.map((u) => u.features[p]),
      rejected: rejected.get(policy.split(':')[0]),
    }));
    for (const cpu of cpus)
      out.push(
        recommend(w, cpu, FPSIMD, candidates, {
          draws: opts.quick ? SUITE_DRAWS / 4 : SUITE_DRAWS,
          seed: opts.seed,
        }),
      );
  }
  return out;
}
