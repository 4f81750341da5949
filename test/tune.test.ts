/** Tuning: ranges, break-even (by hand and simulated), the recommendation over every design and its cost draws. */
import { describe, expect, it } from 'vitest';
import { FPSIMD } from '../src/cpu/fp-state.js';
import { EXIT_KINDS } from '../src/cpu/profile.js';
import { BUILTIN_CPUS, cpuProfile } from '../src/cpu/profiles.js';
import { resolvePolicy } from '../src/policy/registry.js';
import { simulate } from '../src/sim/simulate.js';
import { resolveWorkload, workloadStream } from '../src/stream/workload.js';
import { costParams, drawCosts, PARAM_COUNT } from '../src/tune/cost-draws.js';
import { type Candidate, recommend } from '../src/tune/recommend.js';
import { unitSeed } from '../src/tune/sweep.js';
import { breakEven, lazyWins, simulatedBreakEven } from '../src/tune/break-even.js';
import { cartesian, parseRange } from '../src/tune/ranges.js';
import { runCli } from './helpers/cli.js';

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
      expect(s.points[s.points.length - 1].lazyMinusEager).toBeGreaterThan(0);
      expect(lazyWins(a.pSimple - 0.01, a.ratio)).toBe(true);
      expect(lazyWins(a.pSimple + 0.01, a.ratio)).toBe(false);
    });
  }
  it('seattle: the break-even from the profile numbers worked by hand', () => {
    // Seattle: save 64, restore 32 (LLVM A57 model), so one switch is 2 x (64 + 32) = 192;
    // an FP trap is trap 72 + handler 40 + ERET 65 = 177; a CPTR_EL2 write 8, read 4, ISB 30.
    // Lazy pays p (177 + 192) where eager pays 192: p* = 192 / 369. With the trap controls,
    // eager = 192 + 16, lazy = 16 + 4 + p (177 + 8 + 30 + 192): p* = (192 - 4) / 407.
    const a = breakEven(BUILTIN_CPUS[1], FPSIMD);
    expect(a.cpu).toBe('seattle');
    expect(a.trap).toBe(177);
    expect(a.switchCost).toBe(192);
    expect(a.pSimple).toBeCloseTo(192 / 369, 12);
    expect(a.pExact).toBeCloseTo(188 / 407, 12);
  });
  it('SVE makes the switch dearer and moves the break-even up', () => {
    const cpu = BUILTIN_CPUS[1];
    expect(breakEven(cpu, { kind: 'sve', vl: 2048 }).pSimple).toBeGreaterThan(
      breakEven(cpu, FPSIMD).pSimple,
    );
  });
});

describe('recommendation', () => {
  const seattle = cpuProfile('seattle');
  const candidates = (fpSaves: number): Candidate[] => {
    // Features per run: one hvc exit, then FP counts (see costParams for the order).
    const f = (saves: number, traps: number) => {
      const v = new Float64Array(PARAM_COUNT);
      v[EXIT_KINDS.indexOf('hvc')] = 1;
      v[EXIT_KINDS.length] = saves;
      v[EXIT_KINDS.length + 1] = saves;
      v[EXIT_KINDS.length + 2] = traps;
      v[EXIT_KINDS.length + 3] = traps;
      v[EXIT_KINDS.length + 4] = traps;
      return v;
    };
    return [
      { policy: 'eager', design: 'eager', perSeed: [f(2, 0)] },
      { policy: 'lazy', design: 'lazy', perSeed: [f(fpSaves, fpSaves / 2)] },
    ];
  };
  it('a cost range of zero width gives a 100% win share', () => {
    const r = recommend('w', seattle, FPSIMD, candidates(1.9), {
      draws: 500,
      seed: 3,
      widthScale: 0,
    });
    expect(r.winShare).toBe(1);
    expect(r.cyclesPerExit.lo).toBeCloseTo(r.cyclesPerExit.mean, 9);
    expect(r.cyclesPerExit.hi).toBeCloseTo(r.cyclesPerExit.mean, 9);
  });
  it('a close call splits the draws, and the parameters that flip it come first', () => {
    // eager: 2 saves + 2 restores = 192; lazy: 1.9 x 96 + 0.95 x 177 = 350.5: eager wins at
    // nominal; lazy with 1 save-restore pair and 0.5 traps: 96 + 88.5 = 184.5 < 192: lazy.
    const r = recommend('w', seattle, FPSIMD, candidates(1), { draws: 2000, seed: 3 });
    expect(r.policy).toBe('lazy');
    expect(r.winShare).toBeGreaterThan(0.5);
    expect(r.winShare).toBeLessThan(1);
    expect(r.flips[0].note).toMatch(/eager wins/);
    expect(r.line).toMatch(/^w on seattle: lazy \(/);
  });
  it('draws are a function of the seed and the CPU only', () => {
    const params = costParams(seattle, FPSIMD);
    expect(drawCosts(params, 50, 7, 'seattle')).toEqual(drawCosts(params, 50, 7, 'seattle'));
    expect(drawCosts(params, 50, 7, 'seattle')).not.toEqual(drawCosts(params, 50, 8, 'seattle'));
  });
});

describe('fpswitch tune', () => {
  const small = [
    '-w',
    'hackbench',
    '--cpu',
    'seattle',
    '--threshold',
    '1..3',
    '--eager-runs',
    '4,8',
    '--runs',
    '3000',
    '--seeds',
    '2',
    '--draws',
    '200',
  ];
  it('recommends what a brute force over the same settings finds cheapest', async () => {
    const r = await runCli(['tune', ...small, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      rows: { policy: string; design: string }[];
      designs: { design: string; rejected: string | null }[];
      recommendations: { policy: string; line: string; designs: { note: string }[] }[];
    };
    const rejected = new Set(j.designs.filter((d) => d.rejected).map((d) => d.design));
    // 6 adaptive settings + 5 other built-ins.
    expect(j.rows).toHaveLength(11);
    const { workload } = resolveWorkload('hackbench');
    let best = { policy: '', cycles: Infinity };
    for (const row of j.rows) {
      if (rejected.has(row.design)) continue;
      const policy = await resolvePolicy(row.policy);
      const per = [0, 1].map(
        (k) =>
          simulate(
            policy,
            workloadStream(workload, { runs: 3000, seed: unitSeed(1, 'hackbench', k) }),
            {
              cpu: cpuProfile('seattle'),
            },
          ).cycles.perExit,
      );
      const mean = (per[0] + per[1]) / 2;
      if (mean < best.cycles) best = { policy: row.policy, cycles: mean };
    }
    expect(j.recommendations[0].policy).toBe(best.policy);
    expect(rejected).toEqual(new Set(['lazy-v4', 'lazy-notafix']));
    // Never a negative win: every other design is said to be no better, in words.
    for (const d of j.recommendations[0].designs)
      expect(d.note).toMatch(/^(recommended|.* is no better than |not considered: )/);
  });
  it('ends with the recommendation line', async () => {
    const r = await runCli(['tune', ...small]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(
      /^hackbench on seattle: \S+ \([\d,.]+ cycles\/exit \[[\d,.]+-[\d,.]+\]; wins in \d+% of cost draws; /,
    );
  });
  it('takes a real trace as the workload', async () => {
    const trace = 'validation/fixtures/vhe-hackbench.trace';
    const r = await runCli([
      'tune',
      '--trace',
      trace,
      '--fp',
      'markov:p=0.5,r=0',
      '--cpu',
      'altra',
      '--draws',
      '100',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^vhe-hackbench\.trace on altra: /);
  });
  it('a bad trace or FP model is one line and exit 2', async () => {
    const bad = await runCli(['tune', '--trace', 'package.json', '--fp', 'markov:p=0.5,r=0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const model = await runCli([
      'tune',
      '--trace',
      'validation/fixtures/vhe-hackbench.trace',
      '--fp',
      'nope',
    ]);
    expect(model.code).toBe(2);
    expect(model.stderr.trim().split('\n')).toHaveLength(1);
    const none = await runCli(['tune', '--trace', 'validation/fixtures/vhe-hackbench.trace']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--trace needs --fp/);
  });
  it('rejects a parameter no design has', async () => {
    const r = await runCli(['tune', '-w', 'hvc-only', '--param', 'nope=1..3', '--runs', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no parameter "nope"/);
  });
});
