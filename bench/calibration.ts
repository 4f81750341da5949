/**
 * The cost model against the published anchors: for every anchor of every CPU profile, the
 * paper's cycles, the structural model fitted on every anchor of its group, the model fitted
 * on the other anchors (held out), and, for anchors that take one exit, the simulation of the
 * measured design on a stream of that exit (which checks the hand-counted design extras).
 */

import { exitClassName } from '../src/arch/esr.js';
import type { AnchorDef, AnchorResult } from '../src/cpu/cost-model.js';
import { FPSIMD } from '../src/cpu/fp-state.js';
import { exitKey, HANDLED, type CpuProfile } from '../src/cpu/profile.js';
import { encodeRunClass } from '../src/machine/run-class.js';
import { resolvePolicy } from '../src/policy/registry.js';
import type { CalibrationEntry } from '../src/report/results.js';
import { simulate } from '../src/sim/simulate.js';
import { arrayStream } from '../src/stream/exit-stream.js';

/** One calibration row (the results.json shape). */
type CalibrationRow = CalibrationEntry;

/** A stream of `runs` identical exits of the anchor's kind; the micro-benchmarks do not touch FP. */
function anchorStream(a: AnchorDef, exit: NonNullable<AnchorDef['exit']>, runs: number) {
  const handled = HANDLED[exit.handled];
  const cls = new Array<number>(runs).fill(encodeRunClass(0, 0, handled, false, false));
  const keys = new Array<number>(runs).fill(exitKey(exit.ec, handled));
  return arrayStream(a.id, [{ id: 0, vm: 0, aarch32: false }], { cls, exitKey: keys });
}

async function simulated(cpu: CpuProfile, a: AnchorDef, runs: number): Promise<number | null> {
  if (!a.exit) return null;
  const policy = await resolvePolicy(a.design);
  return simulate(policy, anchorStream(a, a.exit, runs), { cpu, fpState: FPSIMD }).cycles.perExit;
}

function row(cpu: CpuProfile, r: AnchorResult, sim: number | null): CalibrationRow {
  const a = r.anchor;
  const held = 'predicted' in r.heldOut ? r.heldOut : null;
  return {
    cpu: cpu.name,
    group: cpu.costModel.group.id,
    anchor: a.id,
    label: a.label,
    policy: a.design,
    exit: a.exit ? `${exitClassName(a.exit.ec)} (${a.exit.handled})` : 'composite',
    paperCycles: a.paper,
    modelCycles: r.fitted,
    fittedError: r.fittedError,
    simulatedCycles: sim,
    heldOutCycles: held ? held.predicted : null,
    heldOutError: held ? held.error : null,
    heldOutNote: 'reason' in r.heldOut ? r.heldOut.reason : null,
    confidence: a.confidence,
    source: a.source,
  };
}

/** Model vs paper for every anchor of the given profiles. Cost: O(anchors x runs). */
export async function calibrate(
  profiles: readonly CpuProfile[],
  runs = 1000,
): Promise<CalibrationRow[]> {
  const rows: CalibrationRow[] = [];
  for (const cpu of profiles) {
    for (const r of cpu.costModel.anchors) {
      if (r.anchor.profile !== cpu.name) continue;
      rows.push(row(cpu, r, await simulated(cpu, r.anchor, runs)));
    }
  }
  return rows;
}
