/**
 * Calibration: every published anchor of every CPU profile, simulated with the design the
 * measured kernel implemented on a stream of the anchor's exit, model against paper.
 */

import { exitClassName } from '../src/arch/esr.js';
import { FPSIMD } from '../src/cpu/fp-state.js';
import { exitKey, HANDLED, type Anchor, type CpuProfile } from '../src/cpu/profile.js';
import { resolvePolicy } from '../src/policy/registry.js';
import type { CalibrationEntry } from '../src/report/results.js';
import { simulate } from '../src/sim/simulate.js';
import { arrayStream } from '../src/stream/exit-stream.js';
import { Prng } from '../src/stream/prng.js';
import { encodeRunClass, FP_EL0 } from '../src/machine/run-class.js';

/** One calibration row (the results.json shape). */
export type CalibrationRow = CalibrationEntry;

/** A stream of `runs` identical exits of the anchor's kind, FP touched with its probability. */
function anchorStream(a: Anchor, runs: number, seed: number) {
  const rng = new Prng(seed);
  const handled = HANDLED[a.exit.handled];
  const cls = Array.from({ length: runs }, () =>
    encodeRunClass(0, rng.next() < a.fpProbability ? FP_EL0 : 0, handled, false, false),
  );
  const keys = new Array<number>(runs).fill(exitKey(a.exit.ec, handled));
  return arrayStream(a.id, [{ id: 0, vm: 0, aarch32: false }], { cls, exitKey: keys });
}

/** Model vs paper for every anchor of the given profiles. Cost: O(anchors x runs). */
export async function calibrate(
  profiles: readonly CpuProfile[],
  runs = 10_000,
  seed = 1,
): Promise<CalibrationRow[]> {
  const rows: CalibrationRow[] = [];
  for (const cpu of profiles) {
    for (const a of cpu.anchors) {
      const policy = await resolvePolicy(a.policy);
      const r = simulate(policy, anchorStream(a, runs, seed), { cpu, fpState: FPSIMD });
      const delta = (r.cycles.perExit - a.cycles) / a.cycles;
      rows.push({
        cpu: cpu.name,
        anchor: a.id,
        label: a.label,
        policy: a.policy,
        exit: `${exitClassName(a.exit.ec)} (${a.exit.handled})`,
        paperCycles: a.cycles,
        modelCycles: r.cycles.perExit,
        delta,
        withinFivePercent: Math.abs(delta) <= 0.05,
        fitted: a.fitted,
        confidence: a.confidence,
        source: a.source,
      });
    }
  }
  return rows;
}
