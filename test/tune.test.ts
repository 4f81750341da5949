/** Tuning: ranges, sweeps, bests, and the simulator agreeing with the analytic break-even. */
import { describe, expect, it } from 'vitest';
import { FPSIMD } from '../src/cpu/fp-state.js';
import { BUILTIN_CPUS } from '../src/cpu/profiles.js';
import { breakEven, lazyWins, simulatedBreakEven } from '../src/tune/break-even.js';
import { cartesian, parseRange } from '../src/tune/ranges.js';
import { runCli } from './helpers/cli.js';
import { list, num, parseObject } from './helpers/json-edit.js';
import { must } from './helpers/must.js';

describe('ranges', () => {
  it('parses ranges, steps and lists', () => {
    expect(parseRange('1..5', 'x')).toEqual([1, 2, 3, 4, 5]);
    expect(parseRange('1..10:4', 'x')).toEqual([1, 5, 9]);
    expect(parseRange('16,64,256', 'x')).toEqual([16, 64, 256]);
    expect(parseRange('7', 'x')).toEqual([7]);
    expect(() => parseRange('5..1', '--threshold')).toThrow(/range is empty/);
    expect(() => parseRange('a..b', '--threshold')).toThrow(/expected a range/);
  });
  it('takes the cartesian product in a fixed order', () => {
    expect(cartesian({ a: [1, 2], b: [3, 4] })).toEqual([
      { a: 1, b: 3 },
      { a: 1, b: 4 },
      { a: 2, b: 3 },
      { a: 2, b: 4 },
    ]);
  });
});

describe('break-even', () => {
  for (const cpu of BUILTIN_CPUS) {
    it(`${cpu.name}: the simulator's crossing on markov streams agrees with the analytic line`, async () => {
      const a = breakEven(cpu, FPSIMD);
      const s = await simulatedBreakEven(cpu, FPSIMD, { runs: 100_000 });
      // p = 0 and p = 1 are exact; interior points carry sampling noise of ~1/sqrt(runs).
      expect(Math.abs(s.pCrossing - a.pExact)).toBeLessThan(0.005);
      expect(s.points[0].lazyMinusEager).toBeLessThan(0);
      expect(must(s.points.at(-1), 'a last point').lazyMinusEager).toBeGreaterThan(0);
      expect(a.pSimple).toBeCloseTo(a.switchCost / (a.switchCost + a.trap), 12);
      expect(lazyWins(a.pSimple - 0.01, a.ratio)).toBe(true);
      expect(lazyWins(a.pSimple + 0.01, a.ratio)).toBe(false);
    });
  }
  it('SVE makes the switch dearer and moves the break-even up', () => {
    const cpu = BUILTIN_CPUS[1];
    expect(breakEven(cpu, { kind: 'sve', vl: 2048 }).pSimple).toBeGreaterThan(
      breakEven(cpu, FPSIMD).pSimple,
    );
  });
});

describe('fpswitch tune', () => {
  it('reports every setting and picks the cheapest as best', async () => {
    const r = await runCli([
      'tune',
      '-w',
      'hvc-only',
      '--cpu',
      'seattle',
      '--threshold',
      '1..3',
      '--eager-runs',
      '4,8',
      '--runs',
      '2000',
      '--seeds',
      '2',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const j = parseObject(r.stdout);
    // 6 settings + eager + lazy-fixed, one CPU, one workload.
    expect(list(j, 'rows')).toHaveLength(8);
    const swept = list(j, 'rows')
      .slice(0, 6)
      .map((row) => num(row, 'cyclesPerExit.mean'));
    expect(num(j, 'best.0.best.cyclesPerExit.mean')).toBe(Math.min(...swept));
    // A guest that never touches FP: lazy skips everything, eager pays the switch.
    expect(num(j, 'best.0.winOverEager')).toBeGreaterThan(0);
    expect(num(j, 'best.0.winOverLazyFixed')).toBe(0);
  });
  it('rejects a parameter the policy does not have', async () => {
    const r = await runCli(['tune', '-w', 'hvc-only', '--param', 'nope=1..3', '--runs', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no parameter "nope"/);
  });
});
