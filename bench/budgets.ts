/**
 * The performance budgets, as data: each row a name, a target and how it is measured from
 * the suite's figures. `npm run bench` prints the table, the report shows it, and the
 * README quotes it from a named run; test/budgets.test.ts fails when the README's rows
 * and these names drift apart.
 */

import type { Throughput } from '../src/report/results.js';

/** What the budgets are judged on: the suite's throughput figures and its own timing. */
interface BudgetInputs {
  readonly quick: boolean;
  readonly tp: Omit<Throughput, 'budgets'>;
}

interface BudgetOutcome {
  readonly measured: string;
  /** null: not measured in this run (the row says why). */
  readonly met: boolean | null;
}

interface Budget {
  readonly name: string;
  readonly target: (quick: boolean) => string;
  readonly measure: (x: BudgetInputs) => BudgetOutcome;
}

const M = (x: number, d = 0) => `${(x / 1e6).toFixed(d)} M`;

/** The slowest of `rows` by `f`, with the row's label. */
function slowest<T>(rows: readonly T[], f: (r: T) => number, label: (r: T) => string) {
  let best = rows[0];
  for (const r of rows) if (f(r) < f(best)) best = r;
  return { value: f(best), label: label(best) };
}

function walkRate(x: BudgetInputs): BudgetOutcome {
  const s = slowest(
    x.tp.simulate,
    (r) => r.walkRunsPerSecond,
    (r) => `${r.policy} on ${r.workload}`,
  );
  return { measured: `${M(s.value)} runs/s (slowest: ${s.label})`, met: s.value >= 300e6 };
}

function walkRatio(x: BudgetInputs): BudgetOutcome {
  const s = slowest(
    x.tp.simulate,
    (r) => r.ratio,
    (r) => `${r.policy} on ${r.workload}`,
  );
  return { measured: `${s.value.toFixed(2)} (lowest: ${s.label})`, met: s.value >= 0.75 };
}

function generation(x: BudgetInputs): BudgetOutcome {
  const s = slowest(
    x.tp.generate,
    (r) => r.runsPerSecond,
    (r) => r.workload,
  );
  return { measured: `${M(s.value, 1)} runs/s (slowest: ${s.label})`, met: s.value >= 30e6 };
}

function cliStart(command: 'list' | 'simulate', limit: number) {
  return (x: BudgetInputs): BudgetOutcome => {
    const c = x.tp.cliStart;
    const row = c?.commands.find((r) => r.command === command);
    if (!c || !row) return { measured: 'not measured', met: null };
    return {
      measured: `${row.seconds.toFixed(2)} s (node -e 0: ${c.nodeSeconds.toFixed(2)} s; best of ${c.repeats})`,
      met: row.seconds < limit,
    };
  };
}

function checkTime(x: BudgetInputs): BudgetOutcome {
  const c = x.tp.check;
  return {
    measured: `${c.seconds.toFixed(2)} s wall, ${c.cpuSeconds.toFixed(2)} s CPU (${c.verdicts} verdicts, ${c.configs.join(' + ')})`,
    met: c.seconds < 1,
  };
}

function scaling(x: BudgetInputs): BudgetOutcome {
  const w = x.tp.workerScaling;
  if (!w) return { measured: x.quick ? 'not measured under --quick' : 'not measured', met: null };
  const spread = w.speedups.map((s) => s.toFixed(2)).join(', ');
  return {
    measured: `${w.speedup.toFixed(2)}x (best of ${w.speedups.length}: ${spread}; ${w.units} units of the suite's own work)`,
    met: w.speedup >= 1.8,
  };
}

function suiteTime(x: BudgetInputs): BudgetOutcome {
  const limit = x.quick ? 15 : 60;
  return {
    measured: `${x.tp.suiteSeconds.toFixed(1)} s wall, ${x.tp.suiteCpuSeconds.toFixed(1)} s CPU`,
    met: x.tp.suiteSeconds < limit,
  };
}

function memory(x: BudgetInputs): BudgetOutcome {
  const mb = (m: { maxRssMiB: number }) => m.maxRssMiB * 1.048576;
  return {
    measured: x.tp.memory
      .map((m) => `${mb(m).toFixed(0)} MB at ${(m.runs / 1e6).toFixed(1)} M runs`)
      .join(', '),
    met: x.tp.memory.every((m) => mb(m) < 300),
  };
}

function importRate(x: BudgetInputs): BudgetOutcome {
  const t = x.tp.importThroughput;
  if (t === undefined) return { measured: 'not measured in this run', met: null };
  return {
    measured: `${t.importMBps.toFixed(0)} MB/s wall${t.workers ? ` with ${t.workers} scan worker (one thread: ${(t.singleThreadMBps ?? 0).toFixed(0)} MB/s)` : ''}, ${t.importCpuMBps.toFixed(0)} MB/s per CPU second (plain line count of the same ${t.megabytes} MB file: ${t.lineCountMBps.toFixed(0)} MB/s)`,
    met: t.importMBps >= 300,
  };
}

/** Every budget, in the order the tables print them. */
export const BUDGETS: readonly Budget[] = [
  {
    name: 'walk: every policy x workload',
    target: () => '>= 300 M runs/s',
    measure: walkRate,
  },
  { name: 'walk / bare loop, same stream', target: () => '>= 0.75', measure: walkRatio },
  { name: 'generation: every workload', target: () => '>= 30 M runs/s', measure: generation },
  { name: 'CLI start: fpswitch list', target: () => '< 0.3 s', measure: cliStart('list', 0.3) },
  {
    name: 'CLI start: simulate --runs 1000000',
    target: () => '< 0.6 s',
    measure: cliStart('simulate', 0.6),
  },
  {
    name: 'check: every built-in, both configurations',
    target: () => '< 1 s total',
    measure: checkTime,
  },
  { name: 'worker scaling, 2 workers', target: () => '>= 1.8x', measure: scaling },
  {
    name: 'whole suite',
    target: (quick) => (quick ? '< 15 s (--quick)' : '< 60 s'),
    measure: suiteTime,
  },
  { name: 'memory of a default simulate run', target: () => '< 300 MB', measure: memory },
  {
    name: 'import: tracefs trace, 4 vCPU threads',
    target: () => '>= 300 MB/s',
    measure: importRate,
  },
];

/** The budget table of a run. */
export function evaluateBudgets(x: BudgetInputs): Throughput['budgets'] {
  return BUDGETS.map((b) => ({ name: b.name, target: b.target(x.quick), ...b.measure(x) }));
}

/** The README's block markers around the quoted budget table. */
const README_BEGIN = '<!-- budgets: generated by bench/budgets-md.ts from a named run -->';
const README_END = '<!-- /budgets -->';

/** The README block quoting a run's budget table: date, commit, and one row a budget. */
export function budgetsMarkdown(r: {
  date: string;
  git: { commit: string | null; dirty: boolean | null };
  parameters: { quick: boolean };
  host: { cpu: string; cores: number };
  throughput: { budgets: Throughput['budgets'] } | null;
}): string {
  if (!r.throughput) throw new Error('this run measured no budgets (--no-throughput)');
  const commit = r.git.commit
    ? `${r.git.commit.slice(0, 7)}${r.git.dirty ? ' (dirty)' : ''}`
    : 'unknown';
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    README_BEGIN,
    `From \`npm run bench${r.parameters.quick ? ' -- --quick' : ''}\` on ${r.date.slice(0, 16).replace('T', ' ')} UTC, commit ${commit}, ${r.host.cores} cores (${cell(r.host.cpu)}):`,
    '',
    '| budget | target | measured | |',
    '|---|---|---|---|',
    ...r.throughput.budgets.map(
      (b) =>
        `| ${cell(b.name)} | ${cell(b.target)} | ${cell(b.measured)} | ${b.met === null ? '-' : b.met ? 'met' : 'NOT met'} |`,
    ),
    README_END,
  ].join('\n');
}

/** The budget names in a README's quoted block, in order (empty when it has none). */
export function readmeBudgetNames(readme: string): string[] {
  const a = readme.indexOf(README_BEGIN);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) return [];
  return readme
    .slice(a, b)
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*(budget\s*\||-)/.test(l))
    .map((l) => /^\|\s*(.*?)\s*\|/.exec(l)?.[1] ?? '');
}
