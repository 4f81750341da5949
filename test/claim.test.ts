/**
 * The claim check with the model's error: the interval is the seed interval widened by the
 * largest held-out error, the verdict words follow from the interval, and only the
 * workloads the claim was made for count (not the hvc-only calibration stream).
 */
import { describe, expect, it } from 'vitest';
import { claimResult, type HeldOutError, heldOutError } from '../src/stream/claim.js';

const row = (workload: string, mean: number, half = 0.002) => ({
  workload,
  policy: 'lazy-fixed',
  cpu: 'seattle',
  skipRate: { mean, lo: mean - half, hi: mean + half, n: 5 },
});
const err = (maxAbs: number): HeldOutError => ({
  cells: 6,
  maxAbs,
  worstCell: 'x/y',
  rms: maxAbs / 2,
  byWorkload: {},
  excluded: null,
});

describe('claim with the held-out model error', () => {
  it('without model error the seed interval decides: all three below -> does not reproduce', () => {
    const r = claimResult(
      [row('hackbench', 0.12), row('lmbench-ctx', 0.2), row('lmbench-syscall', 0.25)],
      null,
      {},
    );
    expect(r.workloads.map((w) => w.verdict)).toEqual(['below', 'below', 'below']);
    expect(r.verdict).toMatch(/^The 30-50% claim does not reproduce/);
    expect(r.verdict).toContain('seeds only');
  });
  it('the held-out error widens the interval: the same means now overlap the band and the verdict says undecided', () => {
    const r = claimResult(
      [row('hackbench', 0.12), row('lmbench-ctx', 0.2), row('lmbench-syscall', 0.25)],
      err(0.2),
      {},
    );
    const hb = r.workloads[0];
    expect(hb.interval.lo).toBe(0);
    expect(hb.interval.hi).toBeCloseTo(0.322, 6);
    expect(r.workloads.map((w) => w.verdict)).toEqual(['overlaps', 'overlaps', 'overlaps']);
    expect(r.verdict).toMatch(/^The 30-50% claim can be neither confirmed nor refuted/);
    expect(r.verdict).toContain('20.0 points');
  });
  it('hvc-only and other reference workloads are shown but not counted', () => {
    const r = claimResult([row('hackbench', 0.4), row('hvc-only', 0.05)], err(0.01), {});
    expect(r.workloads.find((w) => w.workload === 'hvc-only')?.counted).toBe(false);
    expect(r.verdict).toMatch(/^The 30-50% claim reproduces/);
    expect(r.verdict).not.toContain('hvc-only');
  });
  it('mixed: one inside, one outside -> not decided', () => {
    const r = claimResult([row('hackbench', 0.4), row('lmbench-syscall', 0.98)], err(0.03), {
      hackbench: { cell: 'vhe-icount/hackbench', config: '-g 2', skip: 0.21 },
    });
    expect(r.verdict).toMatch(/^The 30-50% claim is not decided/);
    expect(r.workloads[0].real?.skip).toBe(0.21);
  });
  it("per family: each workload is widened by its own benchmark's held-out -icount error; no-icount cells are excluded", () => {
    const e = heldOutError([
      { cell: 'a/hackbench-g2', workload: 'hackbench', icount: true, skipError: 0.14 },
      { cell: 'a/hackbench-g1', workload: 'hackbench', icount: true, skipError: -0.08 },
      { cell: 'a/pipe', workload: 'lmbench-ctx', icount: true, skipError: 0.015 },
      { cell: 'b/hackbench', workload: 'hackbench', icount: false, skipError: 0.44 },
    ]);
    expect(e?.cells).toBe(3);
    expect(e?.maxAbs).toBe(0.14);
    expect(e?.byWorkload.hackbench.maxAbs).toBe(0.14);
    expect(e?.byWorkload['lmbench-ctx'].maxAbs).toBe(0.015);
    expect(e?.excluded?.maxAbs).toBe(0.44);
    expect(e?.excluded?.worstCell).toBe('b/hackbench');
    const r = claimResult(
      [row('hackbench', 0.32), row('lmbench-ctx', 0.2), row('lmbench-syscall', 0.98)],
      e,
      {},
    );
    // hackbench: its family's 0.14; lmbench-ctx: 0.015 (below); lmbench-syscall has no family cell: all cells' 0.14
    expect(r.workloads[0].interval.lo).toBeCloseTo(0.178, 6);
    expect(r.workloads[0].modelError?.scope).toBe('family');
    expect(r.workloads[1].interval.hi).toBeCloseTo(0.217, 6);
    expect(r.workloads[1].verdict).toBe('below');
    expect(r.workloads[2].modelError?.scope).toBe('all');
    expect(r.workloads[2].interval.lo).toBeCloseTo(0.838, 6);
    expect(r.verdict).toMatch(/^The 30-50% claim is not decided/);
    expect(r.verdict).toContain('+/-14.0 points, a/hackbench-g2');
    expect(
      heldOutError([{ cell: 'b/x', workload: 'hackbench', icount: false, skipError: 0.4 }]),
    ).toBeNull();
  });
});
