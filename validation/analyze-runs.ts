// What decides FP use per guest run (issue 11): statistics over the per-run fixtures
// (validation/fixtures/runs/*.runs.tsv.gz), printed as the Markdown tables that
// validation/README.md quotes, so every figure there is reproducible:
//
//   node --import tsx validation/analyze-runs.ts                 # every committed fixture
//   node --import tsx validation/analyze-runs.ts FILE...         # these files
//   node --import tsx validation/analyze-runs.ts --json FILE...  # the numbers as JSON
//   node --import tsx validation/analyze-runs.ts --table         # one summary row per cell
//
// Per cell: run-length quantiles and a log-scale histogram (is it bimodal?), run length by
// whether an interrupt was in the list registers at entry, the FP share by run length, by
// the previous run's exit class and by the run's task switches, and the autocorrelation
// of FP use (any FP/SIMD at EL0 or EL1) over lags 1-10.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunRecord, readRunRecords } from './lib/run-records.js';

const RUNS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'runs');

const fp = (r: RunRecord): number => (r.fpEl0 || r.fpEl1 ? 1 : 0);

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/** Autocorrelation of a 0/1 series at lags 1..maxLag (NaN when it has no variance). */
export function autocorrelation(x: readonly number[], maxLag: number): number[] {
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  let v = 0;
  for (const a of x) v += (a - mean) ** 2;
  const out: number[] = [];
  for (let k = 1; k <= maxLag; k++) {
    let c = 0;
    for (let i = 0; i + k < n; i++) c += (x[i] - mean) * (x[i + k] - mean);
    out.push(v > 0 ? c / v : NaN);
  }
  return out;
}

/** Run-length bins (ns): decades from 1 us, with the 4 ms tick period inside its own bin. */
const LENGTH_BINS: Array<[number, number, string]> = [
  [0, 1e4, '< 10 us'],
  [1e4, 1e5, '10-100 us'],
  [1e5, 1e6, '0.1-1 ms'],
  [1e6, 3e6, '1-3 ms'],
  [3e6, 5e6, '3-5 ms'],
  [5e6, Infinity, '>= 5 ms'],
];

const SWITCH_BINS: Array<[number, number, string]> = [
  [0, 1, '0'],
  [1, 2, '1'],
  [2, 6, '2-5'],
  [6, 21, '6-20'],
  [21, Infinity, '> 20'],
];

interface Group {
  label: string;
  runs: number;
  share: number;
  fpShare: number;
}

/** Runs grouped by a key: each group's share of the runs and its FP share. */
function groupBy(
  runs: readonly RunRecord[],
  key: (r: RunRecord, i: number) => string | null,
): Group[] {
  const m = new Map<string, { n: number; fp: number }>();
  runs.forEach((r, i) => {
    const k = key(r, i);
    if (k === null) return;
    const g = m.get(k) ?? { n: 0, fp: 0 };
    g.n++;
    g.fp += fp(r);
    m.set(k, g);
  });
  const total = [...m.values()].reduce((a, g) => a + g.n, 0);
  return [...m.entries()].map(([label, g]) => ({
    label,
    runs: g.n,
    share: g.n / total,
    fpShare: g.fp / g.n,
  }));
}

function binOf(bins: Array<[number, number, string]>, x: number): string {
  return (bins.find(([lo, hi]) => x >= lo && x < hi) ?? bins[bins.length - 1])[2];
}

function ordered(groups: Group[], bins: Array<[number, number, string]>): Group[] {
  return bins.map(([, , l]) => groups.find((g) => g.label === l)).filter((g): g is Group => !!g);
}

interface CellStats {
  cell: string;
  config: Record<string, unknown>;
  runs: number;
  fpShare: number;
  skip2015: number;
  lengthUs: { p10: number; p50: number; p90: number; p99: number; mean: number };
  byLength: Group[];
  byInjected: Array<Group & { medianUs: number }>;
  byPrevExit: Group[];
  bySwitches: Group[];
  switchesPerRun: number;
  /** share of runs with no task switch, and the switches' variance / mean (1 for Poisson) */
  zeroSwitchShare: number;
  switchDispersion: number;
  exitMix: Group[];
  acf: number[];
}

function switchSpread(runs: readonly RunRecord[]): {
  zeroSwitchShare: number;
  switchDispersion: number;
} {
  const n = runs.length;
  const mean = runs.reduce((a, r) => a + r.switches, 0) / n;
  const v = runs.reduce((a, r) => a + (r.switches - mean) ** 2, 0) / n;
  return {
    zeroSwitchShare: runs.filter((r) => r.switches === 0).length / n,
    switchDispersion: mean > 0 ? v / mean : NaN,
  };
}

/** All statistics of one cell's runs. Cost: O(n log n) for the sort, O(10 n) for the ACF. */
export function cellStats(
  cell: string,
  config: Record<string, unknown>,
  runs: readonly RunRecord[],
): CellStats {
  const ns = runs.map((r) => r.ns).sort((a, b) => a - b);
  const us = (x: number): number => Math.round(x / 100) / 10;
  const fpSh = runs.reduce((a, r) => a + fp(r), 0) / runs.length;
  const byInjected = groupBy(runs, (r) =>
    r.injected === null ? null : `injected=${r.injected}`,
  ).map((g) => {
    const inj = g.label === 'injected=1' ? 1 : 0;
    const l = runs
      .filter((r) => r.injected === inj)
      .map((r) => r.ns)
      .sort((a, b) => a - b);
    return { ...g, medianUs: us(quantile(l, 0.5)) };
  });
  return {
    cell,
    config,
    runs: runs.length,
    fpShare: fpSh,
    skip2015: 1 - fpSh,
    lengthUs: {
      p10: us(quantile(ns, 0.1)),
      p50: us(quantile(ns, 0.5)),
      p90: us(quantile(ns, 0.9)),
      p99: us(quantile(ns, 0.99)),
      mean: us(ns.reduce((a, b) => a + b, 0) / ns.length),
    },
    byLength: ordered(
      groupBy(runs, (r) => binOf(LENGTH_BINS, r.ns)),
      LENGTH_BINS,
    ),
    byInjected,
    byPrevExit: groupBy(runs, (_r, i) => (i === 0 ? null : `after ${runs[i - 1].exit}`)),
    bySwitches: ordered(
      groupBy(runs, (r) => binOf(SWITCH_BINS, r.switches)),
      SWITCH_BINS,
    ),
    switchesPerRun: runs.reduce((a, r) => a + r.switches, 0) / runs.length,
    ...switchSpread(runs),
    exitMix: groupBy(runs, (r) => r.exit),
    acf: autocorrelation(runs.map(fp), 10),
  };
}

const pct = (x: number): string => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(1)}%`);
const groupsText = (gs: Group[]): string =>
  gs
    .filter((g) => g.runs >= 5)
    .map((g) => `${g.label}: ${pct(g.share)} of runs, FP ${pct(g.fpShare)}`)
    .join('; ');

/** One cell as Markdown lines. */
function cellMarkdown(s: CellStats): string {
  const l = s.lengthUs;
  return [
    `#### ${s.cell} (${s.runs} runs)`,
    '',
    `* config: \`${JSON.stringify(s.config)}\``,
    `* FP share ${pct(s.fpShare)} (2015 skip ${pct(s.skip2015)}); task switches per run ${s.switchesPerRun.toFixed(2)} (variance/mean ${s.switchDispersion.toFixed(1)}), runs without a switch ${pct(s.zeroSwitchShare)}`,
    `* run length (us): p10 ${l.p10}, p50 ${l.p50}, p90 ${l.p90}, p99 ${l.p99}, mean ${l.mean}`,
    `* exits: ${s.exitMix.map((g) => `${g.label} ${pct(g.share)}`).join(', ')}`,
    `* by length: ${groupsText(s.byLength)}`,
    `* by vGIC at entry: ${s.byInjected.map((g) => `${g.label}: ${pct(g.share)}, median ${g.medianUs} us, FP ${pct(g.fpShare)}`).join('; ')}`,
    `* by previous exit: ${groupsText(s.byPrevExit)}`,
    `* by task switches in the run: ${groupsText(s.bySwitches)}`,
    `* FP autocorrelation, lags 1-10: ${s.acf.map((x) => (Number.isNaN(x) ? '-' : x.toFixed(2))).join(' ')}`,
    '',
  ].join('\n');
}

const fpOf = (gs: Group[], label: string): string => {
  const g = gs.find((x) => x.label === label);
  return g && g.runs >= 5 ? pct(g.fpShare) : '-';
};

/** The FP share of runs with no task switch and with at least one. */
function fpBySwitching(s: CellStats): [string, string] {
  const none = s.bySwitches.find((g) => g.label === '0');
  const some = s.bySwitches.filter((g) => g.label !== '0');
  const n = some.reduce((a, g) => a + g.runs, 0);
  const f = some.reduce((a, g) => a + g.runs * g.fpShare, 0);
  return [none && none.runs >= 5 ? pct(none.fpShare) : '-', n >= 5 ? pct(f / n) : '-'];
}

/** One summary row per cell (the README's table). */
function summaryTable(stats: CellStats[]): string {
  const head =
    '| cell | runs | FP share | run us p10 / p50 / p90 / p99 | runs < 1 ms (FP) | runs >= 1 ms (FP) | FP after IRQ / WFx / SYS64 | switches per run (var/mean) | runs with 0 switches | FP with 0 / >0 switches | vGIC at entry (FP) | ACF lag 1 / 2 / 5 / 10 |';
  const rows = stats.map((s) => {
    const short = s.byLength.filter((g) => ['< 10 us', '10-100 us', '0.1-1 ms'].includes(g.label));
    const long = s.byLength.filter((g) => !short.includes(g));
    const agg = (gs: Group[]): string => {
      const n = gs.reduce((a, g) => a + g.share, 0);
      const f = gs.reduce((a, g) => a + g.share * g.fpShare, 0);
      return n > 0 ? `${pct(n)} (${pct(f / n)})` : '-';
    };
    const l = s.lengthUs;
    const [sw0, sw1] = fpBySwitching(s);
    const inj = s.byInjected.find((g) => g.label === 'injected=1');
    const acf = [0, 1, 4, 9].map((k) => (Number.isNaN(s.acf[k]) ? '-' : s.acf[k].toFixed(2)));
    return `| ${s.cell} | ${s.runs} | ${pct(s.fpShare)} | ${l.p10} / ${l.p50} / ${l.p90} / ${l.p99} | ${agg(short)} | ${agg(long)} | ${['IRQ', 'WFx', 'SYS64'].map((c) => fpOf(s.byPrevExit, `after ${c}`)).join(' / ')} | ${s.switchesPerRun.toFixed(2)} (${Number.isNaN(s.switchDispersion) ? '-' : s.switchDispersion.toFixed(1)}) | ${pct(s.zeroSwitchShare)} | ${sw0} / ${sw1} | ${inj ? `${pct(inj.share)} (${pct(inj.fpShare)})` : '-'} | ${acf.join(' / ')} |`;
  });
  return [head, `|${'---|'.repeat(12)}`, ...rows, ''].join('\n');
}

function main(argv: string[]): number {
  const json = argv.includes('--json');
  const table = argv.includes('--table');
  let files = argv.filter((a) => a !== '--json' && a !== '--table');
  if (argv.includes('--help')) {
    process.stdout.write(
      'usage: node --import tsx validation/analyze-runs.ts [--json | --table] [FILE.runs.tsv.gz ...]\n',
    );
    return 0;
  }
  if (!files.length)
    files = readdirSync(RUNS_DIR)
      .filter((f) => f.endsWith('.runs.tsv.gz'))
      .sort()
      .map((f) => join(RUNS_DIR, f));
  const stats = files.map((f) => {
    const { meta, runs } = readRunRecords(f);
    return cellStats(meta.cell, meta.guest, runs);
  });
  if (json) process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
  else if (table) process.stdout.write(summaryTable(stats));
  else process.stdout.write(stats.map(cellMarkdown).join('\n'));
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    // exitCode, not exit(): a pipe must get all of stdout first
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
