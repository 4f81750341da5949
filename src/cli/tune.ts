/**
 * `fpswitch tune`: for each workload (or a real trace) on each CPU, one recommendation over
 * every design: built-in policies and any --policy, designs with parameters swept; cycles
 * per exit with cost uncertainty, win share over cost draws, the parameters that could flip
 * the decision; and the analytic break-even.
 */

import { basename } from 'node:path';
import { DEFAULT_CONFIG } from '../check/config.js';
import { checkPolicy } from '../check/explore.js';
import { CHECK_ADAPTIVE_SPEC } from '../check/policies.js';
import { type FpStateSize, parseVectorLength } from '../cpu/fp-state.js';
import type { CpuProfile } from '../cpu/profile.js';
import { BUILTIN_CPUS, cpuProfile } from '../cpu/profiles.js';
import {
  BUILTIN_POLICIES,
  builtinPolicy,
  instantiate,
  loadPolicyModule,
  parsePolicySpec,
  resolvePolicy,
} from '../policy/registry.js';
import type { Policy, PolicyDefinition } from '../policy/types.js';
import type { WalkOutcome } from '../sim/simulate.js';
import { traceFpModel } from '../stream/trace-fp.js';
import { importTrace } from '../stream/trace-import.js';
import { resolveWorkload } from '../stream/workload.js';
import { breakEven, type SimulatedBreakEven, simulatedBreakEven } from '../tune/break-even.js';
import { candidatePolicies, type DesignCandidates, designCandidates } from '../tune/candidates.js';
import { costParams, features, priceFeatures } from '../tune/cost-draws.js';
import { type Candidate, type Recommendation, recommend } from '../tune/recommend.js';
import { parseRange } from '../tune/ranges.js';
import { unitSeed, walkStream, walkUnit } from '../tune/sweep.js';
import { UserError, userText } from '../util/errors.js';
import { num, pct, table } from '../util/format.js';
import { estimate, type Estimate, NON_NEGATIVE } from '../util/stats.js';
import { intFlag, listFlag, parse, seedFlag } from './args.js';

export const TUNE_HELP = `Usage: fpswitch tune (--workload <name|path>... | --trace <file> --fp <model>)
                     [--cpu <name>...] [--policy <name|path>...] [--threshold 1..32]
                     [--eager-runs 16,64,256] [--param key=range]... [--runs N] [--seeds K]
                     [--seed S] [--draws D] [--vl bits] [--json]

For each workload on each CPU, recommends one design: every built-in policy (and any
--policy) is simulated, designs with parameters at every swept setting; the cheapest at the
profile's costs is recommended, with its cycles per exit (interval over cost draws and
seeds), the share of cost draws in which it stays cheapest, and the three cost parameters
that move the decision most. Designs the model checker rejects are listed, not recommended.
Ends with one line per workload and CPU, e.g.
  hackbench on altra: lazy-vcpu (1,098 cycles/exit [1,071-1,130]; wins in 100% of cost draws; 9.7% below eager)

  --workload     built-in workload or JSON path; repeat or comma-separate
  --trace        a kvm_entry/kvm_exit trace (as for fpswitch import) as the workload; needs --fp
  --fp           FP model for the trace: markov:p=<share>,r=<corr> or a guest workload
  --cpu          CPU profiles (default: all built-in)
  --policy       designs to add to the built-in ones (a built-in name or a module path)
  --threshold    threshold range for designs that have one (default 1..32)
  --eager-runs   eagerRuns values (default 16,64,256)
  --param        any parameter as key=range (1..32, 1..32:4, or 16,64,256)
  --runs         runs per seed (default 200,000)
  --seeds        independent seeds (default 3; a trace is one stream)
  --draws        cost draws (default 2,000)
  --json         one JSON object

Examples:
  fpswitch tune --workload hackbench --cpu altra
  fpswitch tune --trace validation/fixtures/vhe-hackbench.trace --fp markov:p=0.5,r=0`;

interface TuneOptions {
  readonly workloads: readonly string[];
  readonly trace?: string;
  readonly fp?: string;
  readonly cpus: readonly CpuProfile[];
  readonly policies: readonly string[];
  readonly ranges: Readonly<Record<string, readonly number[]>>;
  readonly runs: number;
  readonly seeds: number;
  readonly seed: number;
  readonly draws: number;
  readonly fpState: FpStateSize;
  readonly json: boolean;
}

/** A workload's walks: per seed, one walk per candidate policy. */
interface Walked {
  readonly name: string;
  readonly perSeed: readonly (readonly WalkOutcome[])[];
}

const FLAGS = {
  workload: { type: 'string', short: 'w', multiple: true },
  trace: { type: 'string' },
  fp: { type: 'string' },
  cpu: { type: 'string', short: 'c', multiple: true },
  policy: { type: 'string', short: 'p', multiple: true },
  threshold: { type: 'string' },
  'eager-runs': { type: 'string' },
  param: { type: 'string', multiple: true },
  runs: { type: 'string', short: 'n' },
  seeds: { type: 'string' },
  seed: { type: 'string', short: 's' },
  draws: { type: 'string' },
  vl: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseRanges(values: {
  threshold?: string;
  'eager-runs'?: string;
  param?: string[];
}): Record<string, number[]> {
  const ranges: Record<string, number[]> = {};
  if (values.threshold) ranges.threshold = parseRange(values.threshold, '--threshold');
  if (values['eager-runs']) ranges.eagerRuns = parseRange(values['eager-runs'], '--eager-runs');
  for (const p of values.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UserError(`--param ${userText(p)}: expected key=range`);
    ranges[p.slice(0, eq)] = parseRange(p.slice(eq + 1), `--param ${p.slice(0, eq)}`);
  }
  return ranges;
}

/** Parses and checks the command line; undefined after printing --help. */
function parseTuneOptions(argv: readonly string[]): TuneOptions | undefined {
  const { values } = parse('tune', argv, FLAGS);
  if (values.help) {
    console.log(TUNE_HELP);
    return undefined;
  }
  const workloads = listFlag(values.workload);
  if (values.trace !== undefined && workloads.length > 0)
    throw new UserError('give --workload or --trace, not both (see fpswitch tune --help)');
  if (values.trace === undefined && workloads.length === 0)
    throw new UserError('--workload or --trace is required (see fpswitch tune --help)');
  if (values.trace !== undefined && values.fp === undefined)
    throw new UserError('--trace needs --fp: a trace does not show FP use (markov:p=...,r=...)');
  const cpuNames = listFlag(values.cpu);
  return {
    workloads,
    trace: values.trace,
    fp: values.fp,
    cpus: cpuNames.length ? cpuNames.map(cpuProfile) : [...BUILTIN_CPUS],
    policies: listFlag(values.policy),
    ranges: parseRanges(values),
    runs: intFlag('runs', values.runs, 200_000, 1, 1e10),
    seeds: intFlag('seeds', values.seeds, 3, 1, 100),
    seed: seedFlag(values.seed),
    draws: intFlag('draws', values.draws, 2000, 1, 1_000_000),
    fpState: parseVectorLength(values.vl),
    json: values.json === true,
  };
}

/** Every built-in design and each --policy (a parameterised spec is refused: use ranges). */
async function resolveDesigns(specs: readonly string[]): Promise<PolicyDefinition[]> {
  const defs = [...BUILTIN_POLICIES];
  for (const text of specs) {
    const spec = parsePolicySpec(text);
    if (Object.keys(spec.params).length)
      throw new UserError(
        `--policy ${userText(text)}: give swept parameters with --param key=range, not in the policy name`,
      );
    const def = builtinPolicy(spec.target) ?? (await loadPolicyModule(spec.target));
    if (!defs.some((d) => d.name === def.name)) defs.push(def);
  }
  return defs;
}

/**
 * Runs the model checker on each design once (default configuration; adaptive with the
 * small counters that reach every mode change): a design with a violation is not
 * recommended. Returns design name -> reason. Cost: about 2 s for the built-ins.
 */
async function rejectedDesigns(designs: readonly DesignCandidates[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of designs) {
    const def = d.definition;
    const defaults = Object.fromEntries(
      Object.entries(def.params ?? {}).map(([k, v]) => [k, v.default]),
    );
    const policy: Policy =
      def.name === 'adaptive' && builtinPolicy('adaptive') === def
        ? await resolvePolicy(CHECK_ADAPTIVE_SPEC)
        : instantiate(def, defaults);
    const v = checkPolicy(policy, DEFAULT_CONFIG);
    if (v.verdict === 'violation')
      out.set(def.name, `rejected by the model checker (${v.invariant ?? 'violation'})`);
  }
  return out;
}

/** Walks every candidate over each workload (per seed) or over the trace. */
async function walkAll(opts: TuneOptions, policies: readonly Policy[]): Promise<Walked[]> {
  if (opts.trace !== undefined) {
    const fp = traceFpModel(opts.fp ?? '', { seed: opts.seed, maxVcpus: 64 });
    const imported = await importTrace(opts.trace, { fp, maxVcpus: 64 });
    try {
      return [{ name: basename(opts.trace), perSeed: [walkStream(imported.stream, policies)] }];
    } finally {
      imported.dispose();
    }
  }
  const out: Walked[] = [];
  const total = opts.workloads.length * opts.seeds;
  for (const spec of opts.workloads) {
    const { workload } = resolveWorkload(spec);
    const perSeed: WalkOutcome[][] = [];
    for (let k = 0; k < opts.seeds; k++) {
      perSeed.push(walkUnit(workload, unitSeed(opts.seed, workload.name, k), opts.runs, policies));
      progress(opts, out.length * opts.seeds + k + 1, total);
    }
    out.push({ name: workload.name, perSeed });
  }
  if (!opts.json && process.stderr.isTTY) process.stderr.write('\n');
  return out;
}

/** A terminal gets one line rewritten in place; a log gets a line per step. */
function progress(opts: TuneOptions, done: number, total: number): void {
  if (opts.json) return;
  process.stderr.write(
    process.stderr.isTTY
      ? `\r[tune] ${done}/${total} workload-seeds`
      : `[tune] ${done}/${total} workload-seeds\n`,
  );
}

interface TuneRowOut {
  readonly workload: string;
  readonly cpu: string;
  readonly policy: string;
  readonly design: string;
  readonly cyclesPerExit: Estimate;
}

/** The candidates of one workload (features per seed) with their rejection, if any. */
function candidatesOf(
  w: Walked,
  policies: readonly Policy[],
  rejected: ReadonlyMap<string, string>,
): Candidate[] {
  return policies.map((p, i) => ({
    policy: p.id,
    design: p.definition.name,
    perSeed: w.perSeed.map((seed) => features(seed[i])),
    rejected: rejected.get(p.definition.name),
  }));
}

/** Recommendations and per-candidate rows for every workload x CPU. */
function decide(
  opts: TuneOptions,
  walked: readonly Walked[],
  policies: readonly Policy[],
  rejected: ReadonlyMap<string, string>,
): { recommendations: Recommendation[]; rows: TuneRowOut[] } {
  const recommendations: Recommendation[] = [];
  const rows: TuneRowOut[] = [];
  for (const w of walked) {
    const candidates = candidatesOf(w, policies, rejected);
    for (const cpu of opts.cpus) {
      const prices = costParams(cpu, opts.fpState).map((p) => p.nominal);
      for (const c of candidates) {
        const perSeed = c.perSeed.map((f) => priceFeatures(f, prices));
        rows.push({
          workload: w.name,
          cpu: cpu.name,
          policy: c.policy,
          design: c.design,
          cyclesPerExit: estimate(perSeed, NON_NEGATIVE),
        });
      }
      recommendations.push(
        recommend(w.name, cpu, opts.fpState, candidates, { draws: opts.draws, seed: opts.seed }),
      );
    }
  }
  return { recommendations, rows };
}

function designTable(recs: readonly Recommendation[]): string {
  return table(
    [
      'workload',
      'cpu',
      'design',
      'best setting',
      'cycles/exit',
      'wins',
      'against the recommendation',
    ],
    recs.flatMap((r) =>
      r.designs.map((d) => [
        r.workload,
        r.cpu,
        d.design,
        d.policy,
        d.cyclesPerExit === null ? '-' : num(d.cyclesPerExit, 1),
        pct(d.winShare, 0),
        d.note,
      ]),
    ),
  );
}

function breakEvenTable(be: {
  analytic: ReturnType<typeof breakEven>[];
  simulated: SimulatedBreakEven[];
}): string {
  return table(
    [
      'cpu',
      'trap',
      'switch (2 saves + 2 restores)',
      'p* simple',
      'p* with trap controls',
      'simulated crossing',
    ],
    be.analytic.map((a, i) => [
      a.cpu,
      num(a.trap),
      num(a.switchCost),
      a.pSimple.toFixed(4),
      a.pExact.toFixed(4),
      be.simulated[i].pCrossing.toFixed(4),
    ]),
  );
}

function printText(
  opts: TuneOptions,
  designs: readonly DesignCandidates[],
  recs: readonly Recommendation[],
  be: { analytic: ReturnType<typeof breakEven>[]; simulated: SimulatedBreakEven[] },
): void {
  const swept = designs
    .filter((d) => d.settings.length > 1)
    .map(
      (d) =>
        `${d.definition.name} over ${Object.entries(d.ranges)
          .map(([k, v]) => `${k} (${v.length})`)
          .join(' x ')}`,
    );
  const what = opts.trace
    ? `trace ${opts.trace}, FP model ${opts.fp ?? ''}`
    : `${num(opts.runs)} runs x ${opts.seeds} seeds`;
  const names = designs.map((d) => d.definition.name).join(', ');
  console.log(
    `Every design (${names}${swept.length ? `; ${swept.join(', ')}` : ''}), ${what}, ${num(opts.draws)} cost draws:`,
  );
  console.log(designTable(recs));
  console.log('\nWhat could flip each decision (each cost parameter alone over its range):');
  console.log(
    table(
      ['workload', 'cpu', 'parameter', 'effect'],
      recs.flatMap((r) => r.flips.map((f) => [r.workload, r.cpu, f.param, f.note])),
    ),
  );
  console.log(
    '\nBreak-even (independent FP touches with probability p): lazy beats eager when p x trap < (1 - p) x switch',
  );
  console.log(breakEvenTable(be));
  console.log('');
  for (const r of recs) console.log(r.line);
}

export async function tuneCommand(argv: readonly string[]): Promise<number> {
  const opts = parseTuneOptions(argv);
  if (!opts) return 0;
  const designs = designCandidates(await resolveDesigns(opts.policies), opts.ranges);
  const policies = candidatePolicies(designs);
  const rejected = await rejectedDesigns(designs);
  const walked = await walkAll(opts, policies);
  const { recommendations, rows } = decide(opts, walked, policies, rejected);
  const analytic = opts.cpus.map((c) => breakEven(c, opts.fpState));
  const simulated: SimulatedBreakEven[] = [];
  for (const c of opts.cpus)
    simulated.push(
      await simulatedBreakEven(c, opts.fpState, {
        runs: Math.min(opts.runs, 200_000),
        seed: opts.seed,
      }),
    );
  if (opts.json) {
    const { runs, seeds, seed, draws, trace, fp } = opts;
    const designsOut = designs.map((d) => ({
      design: d.definition.name,
      ranges: d.ranges,
      rejected: rejected.get(d.definition.name) ?? null,
    }));
    console.log(
      JSON.stringify(
        {
          designs: designsOut,
          runs,
          seeds,
          seed,
          draws,
          trace: trace ?? null,
          fp: fp ?? null,
          rows,
          recommendations,
          breakEven: { analytic, simulated },
        },
        null,
        2,
      ),
    );
    return 0;
  }
  printText(opts, designs, recommendations, { analytic, simulated });
  return 0;
}
