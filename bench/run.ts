/**
 * `npm run bench`: the full suite. Run with `--single-threaded-gc` (package.json): on a
 * 2-core machine V8's parallel GC helper threads compete with the worker threads, so a
 * lone worker borrows the second core for its GC and two workers fight over it (the
 * sweep scaled 1.5x with parallel GC, 1.8x without, and ran faster on 2 workers). Writes reports/<UTC timestamp>/{results.json,
 * results.csv, index.html} and points reports/latest at it; prints a summary.
 */

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intFlag, parse, seedFlag } from '../src/cli/args.js';
import { num, pct, table } from '../src/util/format.js';
import { renderHtml } from '../src/report/html.js';
import { reportSections } from '../src/report/sections.js';
import {
  type Comparison,
  compareResults,
  comparisonHtml,
  comparisonMarkdown,
  loadResults,
  tallyLine,
} from '../src/report/compare.js';
import { type Results, RESULTS_SCHEMA_VERSION, resultsCsv } from '../src/report/results.js';
import { summaryMarkdown } from '../src/report/summary.js';
import { UserError } from '../src/util/errors.js';
import { ensureWritable, writeReport } from '../src/report/write.js';
import { parseRange } from '../src/tune/ranges.js';
import { isUserError } from '../src/util/errors.js';
import { loadGroundTruth } from '../validation/lib/model-side.js';
import { Progress } from './progress.js';
import { defaultOptions, runSuite } from './suite.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const BENCH_HELP = `Usage: npm run bench -- [--quick] [--runs N] [--seeds K] [--seed S] [--workers W]
                       [--only <glob>] [--out <dir>] [--workloads-dir <dir>]
                       [--threshold 1..32] [--eager-runs 16,64,256] [--no-throughput]
                       [--policy <file>]... [--baseline <report>]

Runs every built-in workload x policy x CPU profile over independent seeds, the checker
over every built-in policy, the adaptive threshold sweep, break-even, calibration and the
tool's throughput, and writes reports/<UTC timestamp>/ (results.json, results.csv,
index.html, summary.md), pointing reports/latest at it.

  --quick          small sizes for CI (under 15 s)
  --runs, --seeds  runs per seed and independent seeds per cell (default 1,000,000 x 5)
  --workers        worker threads (default: available cores, at most 4)
  --only           cells to run, as a glob on workload/policy/cpu (e.g. 'hackbench/*/altra')
  --out            report folder (default reports/)
  --workloads-dir  workload files to use instead of the built-ins in workloads/
  --policy         a policy file standing in for the built-in of the same name (a changed
                   design, measured under the built-in's id so compare pairs the cells)
  --baseline       a previous report folder or results.json: the change since it, with
                   intervals, goes into index.html and summary.md (see fpswitch compare)
  --seed           base seed (default 1): the same seed gives the same results.json
  --threshold      adaptive thresholds to sweep (default 1..32)
  --eager-runs     adaptive eagerRuns values to sweep (default 16,64,256)
  --no-throughput  skip the throughput and budget measurements
  --quiet          no progress lines on stderr

Examples:
  npm run bench -- --quick
  npm run bench -- --only 'hackbench/*/altra' --runs 200000 --seeds 3
  npm run bench -- --baseline reports/latest --policy ./my-eager.ts`;

function parseBench(argv: readonly string[]) {
  return parse('bench', argv, {
    quick: { type: 'boolean' },
    runs: { type: 'string' },
    seeds: { type: 'string' },
    seed: { type: 'string' },
    workers: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    'workloads-dir': { type: 'string' },
    threshold: { type: 'string' },
    'eager-runs': { type: 'string' },
    'no-throughput': { type: 'boolean' },
    policy: { type: 'string', multiple: true },
    baseline: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }).values;
}

/** The suite's options from the flags (UserError on a bad value, before any work). */
function suiteOptions(values: ReturnType<typeof parseBench>) {
  const quick = values.quick === true;
  const d = defaultOptions(quick);
  return {
    ...d,
    runs: intFlag('runs', values.runs, d.runs, 1, 1e10),
    seeds: intFlag('seeds', values.seeds, d.seeds, 1, 100),
    seed: seedFlag(values.seed, d.seed),
    workers: intFlag(
      'workers',
      values.workers,
      Math.max(1, Math.min(4, availableParallelism())),
      1,
      64,
    ),
    only: values.only ?? null,
    workloadsDir: resolve(values['workloads-dir'] ?? resolve(ROOT, 'workloads')),
    thresholds: values.threshold ? parseRange(values.threshold, '--threshold') : d.thresholds,
    eagerRuns: values['eager-runs']
      ? parseRange(values['eager-runs'], '--eager-runs')
      : d.eagerRuns,
    throughput: values['no-throughput'] !== true,
    policyFiles: values.policy ?? [],
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const values = parseBench(argv);
  if (values.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  const out = ensureWritable(values.out ?? resolve(ROOT, 'reports'));
  const opts = suiteOptions(values);
  // Read the baseline before any work: a bad path or schema fails in one line, at once.
  const baseline = values.baseline === undefined ? undefined : loadResults(values.baseline);
  const baseVersion: number | undefined = baseline?.schemaVersion;
  if (baseVersion !== undefined && baseVersion !== RESULTS_SCHEMA_VERSION)
    throw new UserError(
      `--baseline ${values.baseline}: results schema version ${baseVersion}, this run writes ${RESULTS_SCHEMA_VERSION}; they cannot be compared`,
    );
  const progress = new Progress(process.stderr, values.quiet === true);
  // Ground truth: the committed validation/results.json (no QEMU here), model side
  // recomputed from the workload files in a unit of the suite's pool.
  const results = await runSuite({ ...opts, extras: { groundTruth: true } }, progress);
  const extras = reportSections(results);
  const comparison =
    baseline && values.baseline !== undefined
      ? compareResults(baseline, results, { base: values.baseline, candidate: 'this run' })
      : undefined;
  const html = renderHtml(results, extras, {
    comparison: comparison ? comparisonHtml(comparison) : undefined,
  });
  const dir = writeReport(out, {
    'results.json': `${JSON.stringify(results, null, 1)}\n`,
    'results.csv': resultsCsv(results),
    'index.html': html,
    'summary.md': `${summaryMarkdown(results)}${comparison ? `\n${comparisonMarkdown(comparison)}` : ''}`,
  });
  progress.note(`report written to ${dir} (latest -> ${dir.split('/').pop()})`);

  printSummary(results, dir, comparison);
  return 0;
}

/** The run's answers on the terminal: claim, correctness, ground truth, calibration, budgets. */
function printSummary(results: Results, dir: string, comparison: Comparison | undefined): void {
  console.log(
    `fpswitch bench: ${results.cells.length} cells, ${results.checks.length} checks, report ${dir}/index.html`,
  );
  if (comparison) console.log(`\nChange since ${comparison.base}: ${tallyLine(comparison)}`);
  console.log(
    '\nClaim check (lazy-fixed skip rate; interval: 95% over seeds widened by the held-out model error):',
  );
  console.log(
    table(
      [
        'workload',
        'skip rate',
        'interval',
        'model error',
        'verdict',
        'real (nearest measured configuration)',
      ],
      results.claim.workloads.map((c) => [
        c.workload + (c.counted ? '' : ' (not counted)'),
        pct(c.skipRate.mean),
        `${pct(c.interval.lo)} .. ${pct(c.interval.hi)}`,
        c.modelError ? `+/-${pct(c.modelError.maxAbs)} (${c.modelError.worstCell})` : '-',
        c.verdict,
        c.real ? `${pct(c.real.skip)} (${c.real.cell})` : '-',
      ]),
    ),
  );
  console.log(`\n${results.claim.verdict}`);
  console.log('\nCorrectness:');
  console.log(
    table(
      ['policy', 'config', 'verdict', 'invariant', 'steps', 'states', 'scope'],
      results.checks.map((v) => [
        v.policy,
        v.config,
        v.verdict,
        v.invariant ?? '-',
        String(v.steps.length),
        num(v.states),
        v.verdict === 'ok' ? (v.exhaustive ? 'fixpoint' : `depth ${v.depth}`) : 'shortest',
      ]),
    ),
  );
  const gt = results.groundTruth as Awaited<ReturnType<typeof loadGroundTruth>>;
  if (gt) {
    const ok = gt.scripted.filter((r) => r.agree).length;
    console.log(
      `\nGround truth (validation/results.json, ${gt.source.generatedAt}): lazy-vcpu predicts the real FP trap count in ${ok} of ${gt.scripted.length} scripted cells; ${gt.linux.length} Linux-guest cells in the report.`,
    );
  }
  console.log('\nRecommendation (every built-in design, cost draws):');
  for (const r of results.recommendations) console.log(`  ${r.line}`);
  printCalibrationAndBudgets(results);
}

function printCalibrationAndBudgets(results: Results): void {
  console.log('\nCost model: fitted and held-out anchors (docs/cost-model.md):');
  console.log(
    table(
      ['cpu', 'anchor', 'published', 'fitted on all', 'held out'],
      results.calibration.map((c) => [
        c.cpu,
        c.label,
        num(c.paperCycles),
        `${num(c.modelCycles)} (${pct(c.fittedError, 1)})`,
        c.heldOutCycles === null || c.heldOutError === null
          ? (c.heldOutNote ?? '-')
          : `${num(c.heldOutCycles)} (${pct(c.heldOutError, 1)})`,
      ]),
    ),
  );
  if (results.throughput) {
    console.log('\nBudgets:');
    console.log(
      table(
        ['budget', 'target', 'measured', ''],
        results.throughput.budgets.map((b) => [
          b.name,
          b.target,
          b.measured,
          b.met === null ? '-' : b.met ? 'met' : 'NOT met',
        ]),
      ),
    );
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isUserError(e)) {
      console.error(`fpswitch bench: ${e.message}`);
      process.exitCode = 2;
    } else {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 1;
    }
  },
);
