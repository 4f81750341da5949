/** `fpswitch tune`: sweep a policy's parameters over workloads and CPUs; break-even. */

import { BUILTIN_CPUS, cpuProfile } from '../cpu/profiles.js';
import { parseVectorLength } from '../cpu/fp-state.js';
import {
  builtinPolicy,
  loadPolicyModule,
  parsePolicySpec,
  resolvePolicy,
} from '../policy/registry.js';
import type { PolicyDefinition } from '../policy/types.js';
import { resolveWorkload } from '../stream/workload.js';
import { breakEven, type SimulatedBreakEven, simulatedBreakEven } from '../tune/break-even.js';
import { parseRange } from '../tune/ranges.js';
import {
  aggregate,
  runUnit,
  sweepSettings,
  type TuneBest,
  type TuneRow,
  unitSeed,
} from '../tune/sweep.js';
import { UserError } from '../util/errors.js';
import { num, pct, table } from '../util/format.js';
import { intFlag, listFlag, parse, seedFlag } from './args.js';

export const TUNE_HELP = `Usage: fpswitch tune --workload <name|path>... [--cpu <name>...] [--policy <name|path>]
                     [--threshold 1..32] [--eager-runs 16,64,256] [--param key=range]...
                     [--runs N] [--seeds K] [--seed S] [--vl bits] [--json]

Sweeps a policy's parameters (by default adaptive's threshold and eagerRuns) over
workloads and CPU profiles, and reports cycles per exit for every setting (mean and 95%
interval over seeds), the best setting per workload and CPU, and how much it wins over
eager and lazy-fixed. Also prints the analytic break-even (lazy beats eager when
p x trap < (1 - p) x switch) and the simulator's own crossing on markov streams.

  --workload     built-in workload or JSON path; repeat or comma-separate
  --cpu          CPU profiles (default: all built-in)
  --policy       the policy to sweep (default adaptive)
  --threshold    adaptive threshold range (default 1..32)
  --eager-runs   adaptive eagerRuns values (default 16,64,256)
  --param        any parameter as key=range (1..32, 1..32:4, or 16,64,256)
  --runs         runs per seed (default 200,000)
  --seeds        independent seeds (default 3)
  --json         one JSON object

Examples:
  fpswitch tune --workload hackbench
  fpswitch tune --workload hackbench --workload idle --cpu altra --threshold 1..16
  fpswitch tune --workload hackbench --policy ./sticky.ts --param threshold=1..8 --json`;

export async function tuneCommand(argv: readonly string[]): Promise<number> {
  const { values } = parse('tune', argv, {
    workload: { type: 'string', short: 'w', multiple: true },
    cpu: { type: 'string', short: 'c', multiple: true },
    policy: { type: 'string', short: 'p' },
    threshold: { type: 'string' },
    'eager-runs': { type: 'string' },
    param: { type: 'string', multiple: true },
    runs: { type: 'string', short: 'n' },
    seeds: { type: 'string' },
    seed: { type: 'string', short: 's' },
    vl: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(TUNE_HELP);
    return 0;
  }
  const workloads = listFlag(values.workload).map((w) => resolveWorkload(w));
  if (workloads.length === 0)
    throw new UserError('--workload is required (see fpswitch tune --help)');
  const cpuNames = listFlag(values.cpu);
  const cpus = cpuNames.length ? cpuNames.map(cpuProfile) : [...BUILTIN_CPUS];
  const fpState = parseVectorLength(values.vl);
  const runs = intFlag('runs', values.runs, 200_000, 1, 1e10);
  const seeds = intFlag('seeds', values.seeds, 3, 1, 100);
  const seed = seedFlag(values.seed);

  const spec = parsePolicySpec(values.policy ?? 'adaptive');
  if (Object.keys(spec.params).length)
    throw new UserError(
      '--policy: give swept parameters with --param key=range, not in the policy name',
    );
  const def: PolicyDefinition = builtinPolicy(spec.target) ?? (await loadPolicyModule(spec.target));
  const ranges: Record<string, number[]> = {};
  if (def.name === 'adaptive' || values.threshold)
    ranges.threshold = parseRange(values.threshold ?? '1..32', '--threshold');
  if (def.name === 'adaptive' || values['eager-runs'])
    ranges.eagerRuns = parseRange(values['eager-runs'] ?? '16,64,256', '--eager-runs');
  for (const p of values.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UserError(`--param ${p}: expected key=range`);
    ranges[p.slice(0, eq)] = parseRange(p.slice(eq + 1), `--param ${p.slice(0, eq)}`);
  }
  if (Object.keys(ranges).length === 0)
    throw new UserError(`nothing to sweep: give --param key=range for policy ${def.name}`);
  const settings = sweepSettings(def, ranges);
  const references = [await resolvePolicy('eager'), await resolvePolicy('lazy-fixed')];
  const policies = [...settings.map((s) => s.policy), ...references];

  const rows: TuneRow[] = [];
  const best: TuneBest[] = [];
  const total = workloads.length * seeds;
  let done = 0;
  for (const { workload } of workloads) {
    const perSeed = [];
    for (let k = 0; k < seeds; k++) {
      perSeed.push(
        runUnit(workload, unitSeed(seed, workload.name, k), runs, policies, cpus, fpState),
      );
      done++;
      // A terminal gets one line rewritten in place; a log gets a line per step.
      if (!values.json)
        process.stderr.write(
          process.stderr.isTTY
            ? `\r[tune] ${done}/${total} workload-seeds`
            : `[tune] ${done}/${total} workload-seeds\n`,
        );
    }
    const agg = aggregate(workload.name, perSeed, settings, references, cpus);
    rows.push(...agg.rows);
    best.push(...agg.best);
  }
  if (!values.json && process.stderr.isTTY) process.stderr.write('\n');
  const analytic = cpus.map((c) => breakEven(c, fpState));
  const simulated: SimulatedBreakEven[] = [];
  for (const c of cpus)
    simulated.push(await simulatedBreakEven(c, fpState, { runs: Math.min(runs, 200_000), seed }));

  if (values.json) {
    console.log(
      JSON.stringify(
        {
          policy: def.name,
          ranges,
          runs,
          seeds,
          seed,
          rows,
          best,
          breakEven: { analytic, simulated },
        },
        null,
        2,
      ),
    );
    return 0;
  }
  console.log(
    `Sweep of ${def.name} (${Object.entries(ranges)
      .map(([k, v]) => `${k}: ${v.length} values`)
      .join(', ')}), ${num(runs)} runs x ${seeds} seeds:`,
  );
  console.log(
    table(
      [
        'workload',
        'cpu',
        'best setting',
        'cycles/exit',
        'eager',
        'lazy-fixed',
        'win vs eager',
        'win vs lazy-fixed',
      ],
      best.map((b) => [
        b.workload,
        b.cpu,
        Object.entries(b.best.params)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
        num(b.best.cyclesPerExit.mean, 1),
        num(b.eager.cyclesPerExit.mean, 1),
        num(b.lazyFixed.cyclesPerExit.mean, 1),
        `${num(b.winOverEager, 1)} (${pct(b.winOverEager / b.eager.cyclesPerExit.mean)})`,
        `${num(b.winOverLazyFixed, 1)} (${pct(b.winOverLazyFixed / b.lazyFixed.cyclesPerExit.mean)})`,
      ]),
    ),
  );
  console.log(
    '\nBreak-even (independent FP touches with probability p): lazy beats eager when p x trap < (1 - p) x switch',
  );
  console.log(
    table(
      [
        'cpu',
        'trap',
        'switch (2 saves + 2 restores)',
        'p* simple',
        'p* with trap controls',
        'simulated crossing',
        'max residual',
      ],
      analytic.map((a, i) => [
        a.cpu,
        num(a.trap),
        num(a.switchCost),
        a.pSimple.toFixed(4),
        a.pExact.toFixed(4),
        simulated[i].pCrossing.toFixed(4),
        `${simulated[i].maxResidual.toFixed(2)} cyc`,
      ]),
    ),
  );
  console.log(`\n(${rows.length} setting x workload x cpu rows; --json for all of them)`);
  return 0;
}
