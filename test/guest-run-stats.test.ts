/**
 * The generator's per-run statistics against per-run fixtures: the share of runs touching
 * FP, the run-length quantiles (10/50/90/99%) and the autocorrelation of FP use at lags
 * 1-10 may not move beyond a tolerance set from the fixture's own spread (standard errors
 * over ten blocks of consecutive runs, for two independent samples, at 4.5 sigma).
 *
 * The fixtures here are SYNTHETIC (test/fixtures/runs/make-synthetic.ts: the model's own
 * runs, labelled so in their header), a drift test of the mechanism, not a fidelity test:
 * the real per-run records of the validation matrix (validation/fixtures/runs/) were not
 * on this branch when it was written.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveWorkload, workloadStream } from '../src/stream/workload.js';
import { SYNTHETIC, SYNTHETIC_RUNS } from './fixtures/runs/make-synthetic.js';
import {
  blockErrors,
  LAGS,
  QUANTILES,
  readRunsFixture,
  type Runs,
  runStats,
  streamRuns,
} from './helpers/run-stats.js';

const Z = 4.5 * Math.SQRT2;

/** Every statistic that moved beyond its tolerance, one line each. */
function drift(fixture: Runs, generated: Runs): string[] {
  const a = runStats(fixture);
  const b = runStats(generated);
  const se = blockErrors(fixture);
  const out: string[] = [];
  const check = (what: string, x: number, y: number, tol: number) => {
    if (Math.abs(x - y) > tol)
      out.push(
        `${what}: fixture ${x.toFixed(4)}, generated ${y.toFixed(4)} (tolerance ${tol.toFixed(4)})`,
      );
  };
  check('FP share', a.fpShare, b.fpShare, Z * se.fpShare + 1e-3);
  QUANTILES.forEach((q, i) => {
    check(
      `run length q${q * 100}`,
      a.quantiles[i],
      b.quantiles[i],
      Z * se.quantiles[i] + 0.01 * a.quantiles[i],
    );
  });
  for (let k = 0; k < LAGS; k++)
    check(`FP autocorrelation lag ${k + 1}`, a.acf[k], b.acf[k], Z * se.acf[k] + 0.01);
  return out;
}

describe('per-run statistics do not drift (synthetic fixtures)', () => {
  for (const s of SYNTHETIC) {
    it(`${s.cell}: FP share, run-length quantiles, FP autocorrelation lags 1-10`, () => {
      const { meta, runs } = readRunsFixture(
        join(import.meta.dirname, 'fixtures', 'runs', `${s.cell}.runs.tsv.gz`),
      );
      expect(meta.synthetic).toBe(true);
      expect(meta.source).toMatch(/^SYNTHETIC/);
      expect(runs.ns.length).toBe(SYNTHETIC_RUNS);
      const gen = streamRuns(
        workloadStream(resolveWorkload(meta.workload).workload, { runs: SYNTHETIC_RUNS, seed: 7 }),
      );
      expect(drift(runs, gen)).toEqual([]);
    });
  }
  it('the check can fail: hackbench without its stream phase (Poisson switching) loses the bursts', () => {
    const s = SYNTHETIC[0];
    const { runs } = readRunsFixture(
      join(import.meta.dirname, 'fixtures', 'runs', `${s.cell}.runs.tsv.gz`),
    );
    const w = resolveWorkload(s.spec).workload;
    if (w.kind !== 'guest') throw new Error('guest expected');
    delete w.vms[0].scheduler.phases;
    const gen = streamRuns(workloadStream(w, { runs: SYNTHETIC_RUNS, seed: 7 }));
    const d = drift(runs, gen);
    expect(d.some((x) => x.startsWith('FP share'))).toBe(true);
    expect(d.some((x) => x.startsWith('FP autocorrelation lag 1'))).toBe(true);
  });
});
