/**
 * Baseline against candidate: two results.json files (or report folders) compared figure
 * by figure. Every cell's estimates are means over independent seeds with a 95% t
 * interval, so the change of a figure gets Welch's interval (unequal variances; Welch,
 * Biometrika 34, 1947), its standard deviation recovered from the half-width
 * (sd = half x sqrt(n) / t(n - 1)). A change is significant when its interval excludes
 * zero, and a regression when it is significant, in the figure's worse direction, and
 * larger than the threshold given (`--fail-on-regression`).
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { num, pct, sig } from '../util/format.js';
import { type Estimate, t95 } from '../util/stats.js';
import { longTable } from './collapse.js';
import { esc } from './escape.js';
import { type Results, RESULTS_SCHEMA } from './results.js';

/** Figures `--figure` can choose for `--fail-on-regression`. */
export const FIGURES = ['cycles', 'traps', 'skip', 'checks', 'throughput'] as const;
export type Figure = (typeof FIGURES)[number];

interface Change {
  /** What was compared: a cell (`workload/policy/cpu`) or a headline figure. */
  readonly key: string;
  readonly figure: Figure;
  readonly unit: string;
  readonly base: number;
  readonly candidate: number;
  readonly diff: number;
  /** diff / base (NaN when base is 0). */
  readonly rel: number;
  /** Welch 95% interval of the difference; null when there is no spread to go on. */
  readonly lo: number | null;
  readonly hi: number | null;
  readonly significant: boolean;
  /** 'higher' when a rise is worse, 'lower' when a fall is, null when neither. */
  readonly worse: 'higher' | 'lower' | null;
  readonly regression: boolean;
}

export interface Comparison {
  readonly base: string;
  readonly candidate: string;
  readonly cells: readonly Change[];
  readonly headline: readonly Change[];
  /** Checker verdicts that changed (`policy/config: ok -> violation`). */
  readonly verdicts: readonly { key: string; base: string; candidate: string; worse: boolean }[];
  /** Cells present in only one of the two. */
  readonly unmatched: number;
  readonly threshold: number | null;
  readonly figures: readonly Figure[];
}

/** Reads `results.json`, or `<dir>/results.json` for a report folder. UserError when unusable. */
export function loadResults(path: string): Results {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'results.json') : path;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${file}: ${code === 'ENOENT' ? 'no such file' : code ? `cannot read (${code})` : 'not JSON'}`,
    );
  }
  const r = raw as Partial<Results> | null;
  if (!r || r.schema !== RESULTS_SCHEMA || !Array.isArray(r.cells))
    throw new UserError(
      `${file}: not an fpswitch results.json (schema is not "${RESULTS_SCHEMA}")`,
    );
  return r as Results;
}

/** Standard deviation and n of an estimate, from its interval's half-width. */
function spread(e: Estimate): { sd: number; n: number } {
  const half = Math.max(e.hi - e.mean, e.mean - e.lo);
  const t = t95(e.n - 1);
  return { sd: e.n > 1 && Number.isFinite(t) ? (half * Math.sqrt(e.n)) / t : 0, n: e.n };
}

/** Welch's interval of b - a. Cost: O(1). */
function welch(a: Estimate, b: Estimate): { diff: number; lo: number; hi: number } {
  const sa = spread(a);
  const sb = spread(b);
  const va = (sa.sd * sa.sd) / Math.max(1, sa.n);
  const vb = (sb.sd * sb.sd) / Math.max(1, sb.n);
  const diff = b.mean - a.mean;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { diff, lo: diff, hi: diff };
  const df =
    (va + vb) ** 2 /
    ((sa.n > 1 ? va ** 2 / (sa.n - 1) : 0) + (sb.n > 1 ? vb ** 2 / (sb.n - 1) : 0));
  const half = t95(Math.max(1, df)) * se;
  return { diff, lo: diff - half, hi: diff + half };
}

interface ChangeInput {
  key: string;
  figure: Figure;
  unit: string;
  worse: Change['worse'];
}

function change(
  x: ChangeInput,
  a: Estimate | number,
  b: Estimate | number,
  threshold: number | null,
): Change {
  const w = typeof a === 'number' || typeof b === 'number' ? null : welch(a, b);
  const base = typeof a === 'number' ? a : a.mean;
  const candidate = typeof b === 'number' ? b : b.mean;
  const diff = candidate - base;
  const rel = base === 0 ? (diff === 0 ? 0 : Number.NaN) : diff / base;
  // One measurement each (timings): no interval; the threshold alone decides.
  const significant = w ? w.lo > 0 || w.hi < 0 : diff !== 0;
  const worsened = (x.worse === 'higher' && diff > 0) || (x.worse === 'lower' && diff < 0);
  const beyond = threshold !== null && (Number.isNaN(rel) || Math.abs(rel) * 100 > threshold);
  return {
    ...x,
    base,
    candidate,
    diff,
    rel,
    lo: w ? w.lo : null,
    hi: w ? w.hi : null,
    significant,
    regression: significant && worsened && beyond,
  };
}

function cellChanges(a: Results, b: Results, threshold: number | null) {
  const byKey = new Map(b.cells.map((c) => [`${c.workload}/${c.policy}/${c.cpu}`, c]));
  const out: Change[] = [];
  let matched = 0;
  for (const c of a.cells) {
    const key = `${c.workload}/${c.policy}/${c.cpu}`;
    const d = byKey.get(key);
    if (!d) continue;
    matched++;
    const k = key.replace(/:[^/]*/, '');
    out.push(
      change(
        { key: k, figure: 'cycles', unit: 'cycles/exit', worse: 'higher' },
        c.cyclesPerExit,
        d.cyclesPerExit,
        threshold,
      ),
      change(
        { key: k, figure: 'traps', unit: 'traps/1,000 exits', worse: 'higher' },
        c.fpTrapsPer1000,
        d.fpTrapsPer1000,
        threshold,
      ),
      change(
        { key: k, figure: 'skip', unit: 'share', worse: null },
        c.skipRate,
        d.skipRate,
        threshold,
      ),
    );
  }
  return { out, unmatched: a.cells.length + b.cells.length - 2 * matched };
}

/** Mean over estimates of the same figure; half-widths combined as independent. */
function pooled(es: readonly Estimate[]): Estimate {
  const mean = es.reduce((s, e) => s + e.mean, 0) / es.length;
  const half =
    Math.sqrt(es.reduce((s, e) => s + Math.max(e.hi - e.mean, e.mean - e.lo) ** 2, 0)) / es.length;
  const n = Math.min(...es.map((e) => e.n));
  return { mean, lo: mean - half, hi: mean + half, n };
}

function claimChanges(a: Results, b: Results, threshold: number | null): Change[] {
  const out: Change[] = [];
  // `claim` is a list of per-workload checks (schema 2) or may carry them under `workloads`.
  type ClaimRowLike = { workload: string; skipRate: Results['cells'][number]['skipRate'] };
  const claimRows = (r: Results): readonly ClaimRowLike[] => {
    const c: unknown = r.claim;
    if (Array.isArray(c)) return c as ClaimRowLike[];
    const w = (c as { workloads?: unknown } | null)?.workloads;
    return Array.isArray(w) ? (w as ClaimRowLike[]) : [];
  };
  const claimB = new Map(claimRows(b).map((c) => [c.workload, c]));
  for (const c of claimRows(a)) {
    const d = claimB.get(c.workload);
    if (d)
      out.push(
        change(
          { key: `claim: ${c.workload} skip rate`, figure: 'skip', unit: 'share', worse: null },
          c.skipRate,
          d.skipRate,
          threshold,
        ),
      );
  }
  return out;
}

function headlineChanges(a: Results, b: Results, threshold: number | null): Change[] {
  const out = claimChanges(a, b, threshold);
  const policies = [...new Set(a.cells.map((c) => c.policy))];
  for (const p of policies) {
    const keys = new Set(
      b.cells.filter((c) => c.policy === p).map((c) => `${c.workload}/${c.cpu}`),
    );
    const ca = a.cells.filter((c) => c.policy === p && keys.has(`${c.workload}/${c.cpu}`));
    const cb = b.cells.filter(
      (c) => c.policy === p && ca.some((x) => x.workload === c.workload && x.cpu === c.cpu),
    );
    if (ca.length === 0 || ca.length !== cb.length) continue;
    out.push(
      change(
        {
          key: `${p.split(':')[0]}: mean cycles per exit`,
          figure: 'cycles',
          unit: 'cycles/exit',
          worse: 'higher',
        },
        pooled(ca.map((c) => c.cyclesPerExit)),
        pooled(cb.map((c) => c.cyclesPerExit)),
        threshold,
      ),
    );
  }
  const tb = new Map((b.throughput?.simulate ?? []).map((s) => [s.policy, s]));
  for (const s of a.throughput?.simulate ?? []) {
    const d = tb.get(s.policy);
    if (d)
      out.push(
        change(
          {
            key: `${s.policy.split(':')[0]}: simulator runs/s`,
            figure: 'throughput',
            unit: 'runs/s',
            worse: 'lower',
          },
          s.walkRunsPerSecond,
          d.walkRunsPerSecond,
          threshold,
        ),
      );
  }
  return out;
}

function verdictChanges(a: Results, b: Results): Comparison['verdicts'] {
  const word = (v: Results['checks'][number]) =>
    v.verdict === 'ok'
      ? v.exhaustive
        ? 'clean'
        : `clean to depth ${v.depth}`
      : `${v.invariant} in ${v.steps.length} events`;
  const byKey = new Map(b.checks.map((v) => [`${v.policy.split(':')[0]}/${v.config}`, v]));
  return a.checks.flatMap((v) => {
    const key = `${v.policy.split(':')[0]}/${v.config}`;
    const d = byKey.get(key);
    if (!d || word(v) === word(d)) return [];
    return [
      {
        key,
        base: word(v),
        candidate: word(d),
        worse: v.verdict === 'ok' && d.verdict === 'violation',
      },
    ];
  });
}

/**
 * Compares two results. Throws UserError when their schema versions differ (the figures
 * would not mean the same). Cost: O(cells).
 */
export function compareResults(
  base: Results,
  candidate: Results,
  names: { base: string; candidate: string },
  threshold: number | null = null,
  figures: readonly Figure[] = ['cycles'],
): Comparison {
  const versions: readonly number[] = [base.schemaVersion, candidate.schemaVersion];
  if (versions[0] !== versions[1])
    throw new UserError(
      `cannot compare: ${names.base} has results schema version ${versions[0]}, ${names.candidate} has ${versions[1]}`,
    );
  const { out, unmatched } = cellChanges(base, candidate, threshold);
  return {
    ...names,
    cells: out,
    headline: headlineChanges(base, candidate, threshold),
    verdicts: verdictChanges(base, candidate),
    unmatched,
    threshold,
    figures,
  };
}

/** Whether a change counts against `--fail-on-regression` (its figure was chosen). */
function isFailing(c: Comparison, x: Change): boolean {
  return x.regression && c.figures.includes(x.figure);
}

/** The regressions that fail the comparison, and checker verdicts that got worse. */
export function failures(c: Comparison): string[] {
  const out = [...c.headline, ...c.cells]
    .filter((x) => isFailing(c, x))
    .map((x) => x.key + ` (${x.figure})`);
  if (c.figures.includes('checks'))
    for (const v of c.verdicts) if (v.worse) out.push(`${v.key} (checks)`);
  return out;
}

/** A figure's value in its unit, for tables. */
export function fmtValue(x: Change, v: number): string {
  return x.unit === 'share' ? pct(v) : sig(v, 5);
}

/** The change as text: `+12.3 (+4.1%)`. */
export function fmtChange(x: Change): string {
  const sign = (v: number) => (v >= 0 ? '+' : '');
  if (x.unit === 'share') return `${sign(x.diff)}${(x.diff * 100).toFixed(2)} pt`;
  const r = Number.isNaN(x.rel) ? '' : ` (${sign(x.rel)}${pct(x.rel, 1)})`;
  return `${sign(x.diff)}${num(x.diff, Math.abs(x.diff) >= 100 ? 0 : 1)}${r}`;
}

/** The 95% interval of the change, or why there is none. */
export function fmtInterval(x: Change): string {
  if (x.lo === null || x.hi === null) return 'one measurement';
  if (x.unit === 'share') return `${(x.lo * 100).toFixed(2)} .. ${(x.hi * 100).toFixed(2)} pt`;
  const d = Math.max(Math.abs(x.lo), Math.abs(x.hi)) >= 100 ? 0 : 1;
  return `${num(x.lo, d)} .. ${num(x.hi, d)}`;
}

/** The flag column: REGRESSION, better/worse when significant, blank otherwise. */
export function fmtFlag(c: Comparison, x: Change): string {
  if (isFailing(c, x)) return 'REGRESSION';
  if (!x.significant) return '';
  if (x.worse === null) return 'changed';
  const worse = (x.worse === 'higher') === x.diff > 0;
  return worse ? 'worse' : 'better';
}

/** The rows a reader needs: every headline figure, and the cells that changed significantly. */
export function shownRows(c: Comparison, all = false): Change[] {
  return [...c.headline, ...c.cells.filter((x) => all || x.significant || isFailing(c, x))];
}

/** Counts for the one-line summary. */
export function tallyLine(c: Comparison): string {
  const sigCells = c.cells.filter((x) => x.significant).length;
  const fails = failures(c);
  const chance = Math.round(c.cells.filter((x) => x.lo !== null && x.lo !== x.hi).length * 0.05);
  return `${num(c.cells.length)} cell figures compared, ${num(sigCells)} changed significantly (95%; about ${num(chance)} expected by chance alone)${c.unmatched ? `, ${num(c.unmatched)} cells in only one of the two` : ''}; ${
    c.threshold === null
      ? 'no regression threshold'
      : `${fails.length} regression${fails.length === 1 ? '' : 's'} beyond ${c.threshold}% in ${c.figures.join(', ')}`
  }${c.verdicts.length ? `; ${c.verdicts.length} checker verdicts changed` : ''}.`;
}

/** Markdown a reviewer can paste: the tally line and one table. */
export function comparisonMarkdown(c: Comparison, all = false): string {
  const md = (s: string) => s.replace(/\|/g, '\\|');
  const rows = shownRows(c, all).map(
    (x) =>
      `| ${md(x.key)} | ${x.figure} | ${fmtValue(x, x.base)} | ${fmtValue(x, x.candidate)} | ${fmtChange(x)} | ${fmtInterval(x)} | ${fmtFlag(c, x)} |`,
  );
  const verdicts = c.verdicts.map(
    (v) =>
      `| ${md(v.key)} | checks | ${md(v.base)} | ${md(v.candidate)} | | | ${v.worse ? 'REGRESSION' : 'changed'} |`,
  );
  return [
    `**fpswitch compare**: \`${md(c.base)}\` -> \`${md(c.candidate)}\``,
    '',
    tallyLine(c),
    '',
    '| figure | kind | base | candidate | change | 95% interval of the change | |',
    '|---|---|--:|--:|--:|--:|---|',
    ...rows,
    ...verdicts,
    '',
  ].join('\n');
}

/** The comparison as a report section (`npm run bench -- --baseline <report>`). */
export function comparisonHtml(c: Comparison): string {
  const rows = shownRows(c).map((x) => {
    const flag = fmtFlag(c, x);
    const cls = flag === 'REGRESSION' || flag === 'worse' ? 'bad' : flag === 'better' ? 'ok' : '';
    return [
      esc(x.key),
      esc(x.figure),
      esc(fmtValue(x, x.base)),
      esc(fmtValue(x, x.candidate)),
      esc(fmtChange(x)),
      esc(fmtInterval(x)),
      `<span class="${cls}">${esc(flag)}</span>`,
    ];
  });
  const verdicts = c.verdicts.map((v) => [
    esc(v.key),
    'checks',
    esc(v.base),
    esc(v.candidate),
    '',
    '',
    `<span class="${v.worse ? 'bad' : ''}">${v.worse ? 'REGRESSION' : 'changed'}</span>`,
  ]);
  return `<section id="comparison"><h2>Change since the baseline</h2><p>Baseline <code>${esc(c.base)}</code>. ${esc(tallyLine(c))} Each change has Welch's 95% interval over the seeds of both runs; simulator throughput is one timing each on a shared machine, with no interval.</p>${longTable('Headline figures and the cells that changed significantly', ['figure', 'kind', 'baseline', 'this run', 'change', '95% interval of the change', ''], [...rows, ...verdicts], '', true)}</section>`;
}
