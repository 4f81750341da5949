/**
 * The generator's per-run statistics against the REAL per-run records of the validation
 * matrix (validation/fixtures/runs/: one line per guest run of a real Debian 6.1 guest
 * under KVM, -icount): the share of runs touching FP, the run-length quantiles
 * (10/50/90/99%) and the autocorrelation of FP use at lags 1-10, for every one-vCPU
 * -icount cell the model describes, each generated from the cell's configuration alone
 * (validation/lib/cell-spec.ts, fitted constants from the training cells).
 *
 * Tolerance, from the measured spread: the real records' standard error of each statistic
 * over ten blocks of consecutive runs, for the difference of two independent samples
 * (x sqrt(1 + real runs / generated runs)), at Z = 4.5 (about 100 statistics are checked;
 * 4.5 sigma keeps a false alarm below 1 in 1,000 runs of the suite), plus a floor where
 * the block spread is zero: run-length quantiles sitting on a tick atom (609 / 3,381 us)
 * have no block spread, so they get 1% + 15 us (the real runs of a 4 ms tick pair add up
 * to 3,990 us: the ~10 us spent in L1 per exit is not guest time); FP share 0.005;
 * autocorrelation 0.02.
 *
 * The model does not yet meet every statistic. Those misses are listed in KNOWN_MISSES
 * with their cause, and the test requires the drift list to equal that list exactly: a
 * new drift fails it, and so does a miss that went away (the list must then shrink).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelConstants } from '../src/stream/guest-configs.js';
import { resolveWorkload, workloadStream } from '../src/stream/workload.js';
import { cellSpec, matrixMeasuredCell, type MeasuredCell } from '../validation/lib/cell-spec.js';
import {
  blockErrors,
  LAGS,
  QUANTILES,
  readRunsFixture,
  type Runs,
  runStats,
  streamRuns,
} from './helpers/run-stats.js';

const ROOT = join(import.meta.dirname, '..');
const GENERATED = 40_000;
const Z = 4.5;

interface MatrixCell {
  boot: string;
  workload: string;
  icount: boolean;
  guest: MeasuredCell['guest'];
  fixtures: string[];
}

/** The one-vCPU -icount matrix cells (one fixture each) with the spec that describes them. */
function cells(): { id: string; spec: string; file: string }[] {
  const raw = JSON.parse(
    readFileSync(join(ROOT, 'validation/fixtures/runs/cells.json'), 'utf8'),
  ) as { cells: MatrixCell[] };
  const k = modelConstants();
  const out: { id: string; spec: string; file: string }[] = [];
  for (const c of raw.cells) {
    if (!c.icount || c.guest?.vcpus !== 1 || c.fixtures.length !== 1) continue;
    const m = matrixMeasuredCell(c);
    const spec = cellSpec(m, k);
    if (spec) out.push({ id: `${c.boot}/${c.workload}`, spec, file: join(ROOT, c.fixtures[0]) });
  }
  return out;
}

/** Every statistic that moved beyond its tolerance, by name. */
function drift(real: Runs, generated: Runs): string[] {
  const a = runStats(real);
  const b = runStats(generated);
  const se = blockErrors(real);
  const k = Z * Math.sqrt(1 + real.ns.length / generated.ns.length);
  const out: string[] = [];
  const check = (what: string, x: number, y: number, tol: number) => {
    if (Math.abs(x - y) > tol) out.push(what);
  };
  check('FP share', a.fpShare, b.fpShare, k * se.fpShare + 0.005);
  QUANTILES.forEach((q, i) => {
    const tol = k * se.quantiles[i] + 0.01 * a.quantiles[i] + 15_000;
    check(`run length q${q * 100}`, a.quantiles[i], b.quantiles[i], tol);
  });
  for (let j = 0; j < LAGS; j++)
    check(`FP autocorrelation lag ${j + 1}`, a.acf[j], b.acf[j], k * se.acf[j] + 0.02);
  return out;
}

/**
 * Statistics the model misses today, per cell, and why (README "Fidelity"). The test
 * fails if this list and the measured drift differ in either direction.
 */
const lags = (...k: number[]) => k.map((j) => `FP autocorrelation lag ${j}`);
/**
 * - `run length q50`: the median sits on the edge between the two tick modes. Real runs
 *   are 50.1-50.4% short because the guest's few other exits (HVC64, DABT_LOW: 0.3-0.8%
 *   of exits) split runs; the model's runs in these cells end only at the two ticks
 *   (exactly 50% short), so its median is the long mode (3,391 us against 609-1,099 us).
 * - FP autocorrelation (hackbench): the model's run after a guest tick always starts with
 *   the tick's preemption (a switch, so FP) and a stream phase may start only after it,
 *   so short and long runs alternate in FP use (lag 1 about -0.18, even lags +0.17);
 *   the real runs alternate far less (lag 1 -0.07..+0.12) and have their own pattern at
 *   lags 4 and 8 (+0.15..0.25): the guest's switching is not yet modelled to that detail.
 * - armhf (fp-heavy-aarch32): its boot put the two ticks 483 / 3,491 us apart, not the
 *   609 / 3,381 of the training cells' boot (the tick offset is a boot's phase: one
 *   validation constant cannot match every boot), so q90/q99 miss by 110 us; its FP use
 *   repeats every 10 runs (lag-10 autocorrelation 0.92, the benchmark's own loop against
 *   the ticks) where the model's runs are memoryless apart from the tick alternation.
 */
const KNOWN_MISSES: Readonly<Record<string, readonly string[]>> = {
  'vhe-icount-armhf/fp-heavy-aarch32': [
    'run length q90',
    'run length q99',
    ...lags(1, 2, 3, 4, 5, 6, 10),
  ],
  'vhe-icount-matrix1/hackbench-p-g1-v1': ['run length q50', ...lags(1, 3, 5, 6, 7, 9, 10)],
  'vhe-icount-matrix1/hackbench-p-g2-v1': ['run length q50', ...lags(1, 3, 5, 6, 7, 9, 10)],
  'vhe-icount-matrix1/hackbench-p-g4-v1': ['run length q50', ...lags(1, 3, 6, 7, 9)],
  'vhe-icount-matrix1/hackbench-t-g2-v1': ['run length q50', ...lags(3, 5, 6, 8, 9)],
  'vhe-icount-matrix1/null-syscall-v1': ['run length q50'],
  'vhe-icount-matrix1/pipe-same-v1': ['run length q50'],
};

describe('per-run statistics against the real per-run records (validation matrix, -icount, one vCPU)', () => {
  const list = cells();
  it('covers the modelled one-vCPU cells', () => {
    expect(list.length).toBeGreaterThanOrEqual(6);
  });
  for (const c of list) {
    it(`${c.id}: FP share, run-length quantiles 10/50/90/99%, FP autocorrelation lags 1-10`, () => {
      const { runs } = readRunsFixture(c.file);
      const gen = streamRuns(
        workloadStream(resolveWorkload(c.spec).workload, { runs: GENERATED, seed: 7 }),
      );
      expect(drift(runs, gen)).toEqual(KNOWN_MISSES[c.id] ?? []);
    });
  }
  it('the check can fail: another boot phase of the two ticks moves the run-length quantiles', () => {
    const c = list.find((x) => x.id.endsWith('/hackbench-p-g2-v1'));
    if (!c) throw new Error('hackbench-p-g2-v1 fixture missing');
    const { runs } = readRunsFixture(c.file);
    const spec = c.spec.replace(/tickoff=[\d.]+/, 'tickoff=1500');
    const gen = streamRuns(
      workloadStream(resolveWorkload(spec).workload, { runs: GENERATED, seed: 7 }),
    );
    const d = drift(runs, gen);
    expect(d).toContain('run length q10');
    expect(d).toContain('run length q90');
  });
});
