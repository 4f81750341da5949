/**
 * The claim check and the sensitivity view: where an interval lies against the 30-50%
 * band, the parameters that move the skip rate most, sweeps, band crossings, the built-in
 * workloads marked, and bad --param input.
 */

import { describe, expect, it } from 'vitest';
import { claimCheck, claimLine, claimPosition } from '../src/stream/claim.js';
import { parseSweepSpec, sensitivity, sweepValues, withParam } from '../src/tune/sensitivity.js';
import { resolveWorkload } from '../src/stream/workload.js';
import { builtinGuest } from './guest-helpers.js';
import { runCli, runSimulate } from './helpers/cli.js';
import { type Json, list } from './helpers/json-edit.js';
import { must } from './helpers/must.js';

describe('claim check', () => {
  it('inside, overlapping, outside below and above', () => {
    expect(claimPosition(0.32, 0.48)).toEqual({ position: 'inside' });
    expect(claimPosition(0.25, 0.35)).toEqual({ position: 'overlapping' });
    expect(claimPosition(0.45, 0.55)).toEqual({ position: 'overlapping' });
    expect(claimPosition(0.1, 0.2)).toEqual({ position: 'outside', side: 'below' });
    expect(claimPosition(0.6, 0.7)).toEqual({ position: 'outside', side: 'above' });
  });
  it("only for the series' designs; marks workloads the claim was not made for", () => {
    expect(claimCheck('hackbench', 'eager', { mean: 0, lo: 0, hi: 0, n: 3 })).toBeUndefined();
    const c = must(
      claimCheck('idle', 'lazy-fixed', { mean: 0.9, lo: 0.89, hi: 0.91, n: 3 }),
      'a claim check for idle',
    );
    expect(c.claimWorkload).toBe(false);
    expect(claimLine(c)).toMatch(/OUTSIDE the claimed 30-50% band \(above\).*shown for reference/);
  });
  it('simulate prints the claim check with the 95% interval', async () => {
    const r = await runSimulate('lmbench-ctx', ['lazy-fixed', 'eager'], 50000, '--seeds', '4');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.includes('claim check'));
    expect(lines).toHaveLength(1); // lazy-fixed only, not eager
    expect(lines[0]).toMatch(
      /skip rate 95% CI \d+\.\d% \.\. \d+\.\d% over 4 seeds (is INSIDE|OVERLAPS|is OUTSIDE) the claimed 30-50% band/,
    );
  });
});

describe('sweep specs and parameter paths', () => {
  it('parses ranges, steps and scales', () => {
    expect(parseSweepSpec('scheduler.switchesPerSec=1e3..1e6:4')).toEqual({
      path: 'scheduler.switchesPerSec',
      from: 1000,
      to: 1e6,
      steps: 4,
      scale: 'log',
    });
    expect(parseSweepSpec('tasks.simdShare=0..1')).toEqual({
      path: 'tasks.simdShare',
      from: 0,
      to: 1,
      steps: 11,
      scale: 'linear',
    });
    expect(sweepValues(parseSweepSpec('x=1..100:3:log'))).toEqual([1, 10, 100]);
    expect(() => parseSweepSpec('x=1')).toThrow(/expected path=from\.\.to/);
    expect(() => parseSweepSpec('x=0..10:5:log')).toThrow(/log sweep needs positive bounds/);
  });
  it('sets a field in every VM, or one VM by full path; rejects unknown paths and out-of-range values', () => {
    const mixed = builtinGuest('mixed-aarch32-aarch64');
    const both = withParam(mixed, 'tasks.simdShare', 0.1, 'x');
    expect(both.vms.map((v) => v.tasks.simdShare.value)).toEqual([0.1, 0.1]);
    const one = withParam(mixed, 'vms[1].tasks.simdShare', 0.2, 'x');
    expect(one.vms.map((v) => v.tasks.simdShare.value)).toEqual([0.8, 0.2]);
    expect(mixed.vms[0].tasks.simdShare.value).toBe(0.8); // the original is untouched
    expect(() => withParam(mixed, 'tasks.nope', 1, 'x')).toThrow(
      /--param tasks\.nope: no such parameter/,
    );
    expect(() => withParam(mixed, 'tasks.simdShare', 2, 'x')).toThrow(
      /vms\[0\]\.tasks\.simdShare\.value: Too big/,
    );
  });
});

describe('sensitivity', () => {
  it('ranks the bursts of switching (the stream share) first for hackbench, and the skip rate falls as switches rise', async () => {
    const r = await sensitivity({
      workload: resolveWorkload('hackbench'),
      runs: 20_000,
      seeds: 2,
      rankRuns: 20_000,
      markers: false,
    });
    // With periodic ticks a stream phase ends at the guest's tick, so the skip rate is
    // mostly the runs inside stream phases: the stream share leads the ranking.
    expect(r.ranking[0].path).toBe('vms[0].scheduler.phases.streamShare');
    const sw = must(
      r.ranking.find((x) => x.path === 'vms[0].scheduler.switchesPerSec'),
      'the switchesPerSec ranking',
    );
    expect(sw.skipHigh).toBeLessThan(sw.skipLow);
    expect(r.sweeps).toHaveLength(2);
    const streamSweep = must(
      r.sweeps.find((x) => x.params[0].path === 'vms[0].scheduler.phases.streamShare'),
      'the streamShare sweep',
    );
    const means = streamSweep.points.map((p) => p.skip.mean);
    expect(means[means.length - 1]).toBeGreaterThan(means[0]); // longer streams, more skips
  });
  it('a 1-D sweep finds the band crossings by interpolation, and the built-in workloads are marked with their own values', async () => {
    const r = await sensitivity({
      workload: resolveWorkload('hackbench'),
      params: [parseSweepSpec('scheduler.switchesPerSec=5000..200000:6')],
      runs: 20_000,
      seeds: 2,
    });
    const s = r.sweeps[0];
    expect(s.points).toHaveLength(6);
    const at50 = must(
      s.crossings.find((c) => c.level === 0.5),
      'a crossing of 50%',
    ).value;
    // More switches, fewer skips: the crossing lies inside the sweep, skips falling through it.
    expect(at50).toBeGreaterThan(5000);
    expect(at50).toBeLessThan(200000);
    expect(s.points[s.points.length - 1].skip.mean).toBeLessThan(s.points[0].skip.mean);
    const names = r.markers.map((m) => m.workload);
    expect(names).toEqual(
      expect.arrayContaining([
        'hackbench',
        'lmbench-ctx',
        'lmbench-syscall',
        'fp-heavy-aarch32',
        'idle',
        'virtio-io',
        'mixed-aarch32-aarch64',
      ]),
    );
    expect(names).not.toContain('hvc-only'); // markov: no parameters on these axes
    // The built-in's value is derived from its configuration (src/stream/guest-configs.ts).
    const hb = resolveWorkload('hackbench').workload;
    expect(
      must(
        r.markers.find((m) => m.workload === 'hackbench'),
        'the hackbench marker',
      ).values,
    ).toEqual([hb.kind === 'guest' ? hb.vms[0].scheduler.switchesPerSec.value : NaN]);
    expect(
      must(
        r.markers.find((m) => m.workload === 'lmbench-syscall'),
        'the lmbench-syscall marker',
      ).values,
    ).toEqual([0]);
  });
  it('two parameters make a grid', async () => {
    const r = await sensitivity({
      workload: resolveWorkload('lmbench-syscall'),
      params: [
        parseSweepSpec('scheduler.interludesPerSec=10..1000:3:lin'),
        parseSweepSpec('tasks.simdShare=0..1:2'),
      ],
      runs: 5000,
      seeds: 1,
      markers: false,
    });
    expect(r.sweeps[0].points.map((p) => p.values)).toEqual([
      [10, 0],
      [10, 1],
      [505, 0],
      [505, 1],
      [1000, 0],
      [1000, 1],
    ]);
  });
  it('the command: text with the band, JSON, and one-line errors', async () => {
    const sweep = [
      'sensitivity',
      '--workload',
      'lmbench-ctx',
      '--param',
      'idle.sameTaskShare=0..1:3',
      '--runs',
      '5000',
      '--seeds',
      '2',
    ];
    const text = await runCli(sweep);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^sensitivity of the lazy-fixed skip rate: workload lmbench-ctx/);
    expect(text.stdout).toMatch(/built-in guest workloads on these axes/);
    const json = await runCli([...sweep, '--json']);
    expect(list(JSON.parse(json.stdout) as Json, 'sweeps.0.points')).toHaveLength(3);
    for (const [args, pattern] of [
      [
        ['--workload', 'hackbench', '--param', 'nope=1..2'],
        /--param nope: no such parameter in hackbench/,
      ],
      [
        ['--workload', 'hackbench', '--param', 'tasks.simdShare=0..3'],
        /tasks\.simdShare\.value: Too big/,
      ],
      [['--workload', 'hvc-only'], /sensitivity needs a guest workload/],
      [
        ['--workload', 'hackbench', '--param', 'a=1..2', '--param', 'b=1..2', '--param', 'c=1..2'],
        /at most two --param/,
      ],
      [[], /--workload is required/],
    ] as const) {
      const r = await runCli(['sensitivity', ...args, '--runs', '1000']);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });
});
