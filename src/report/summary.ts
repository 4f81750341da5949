/**
 * The report's first screen: the answers before the evidence. The claim verdict (with the
 * model's error when the run computed it), the recommended design per workload x CPU, the
 * correctness tally and the budgets. Each part reads the field the suite writes for it
 * (`claim.verdict`, `recommendations`, `checks[].covers`, `throughput.budgets`) and says
 * "not computed in this run" when a results.json predates the field; the recommendation
 * falls back to the cheapest correct design by mean cycles per exit over the cells.
 */

import { num, pct } from '../util/format.js';
import { esc } from './escape.js';
import type { Results } from './results.js';

/** One recommended design for a workload x CPU (written by the suite as `recommendations`). */
interface Recommendation {
  readonly workload: string;
  readonly cpu: string;
  /** Policy spec, e.g. 'adaptive:threshold=4,eagerRuns=64'. */
  readonly policy: string;
  readonly cyclesPerExit: { mean: number; lo: number; hi: number };
  /** Share of cost draws in which this design is cheapest (0..1); absent when derived here. */
  readonly winShare?: number;
  readonly belowEagerPct?: number;
  readonly runnerUp?: string;
  readonly line?: string;
}

const NOT_COMPUTED = 'not computed in this run';

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isRecommendation(x: unknown): x is Recommendation {
  return (
    isRecord(x) &&
    typeof x.workload === 'string' &&
    typeof x.cpu === 'string' &&
    typeof x.policy === 'string' &&
    isRecord(x.cyclesPerExit) &&
    typeof x.cyclesPerExit.mean === 'number'
  );
}

/** Base names of the policies the checker found broken in any configuration. */
function brokenPolicies(r: Results): Set<string> {
  return new Set(r.checks.filter((v) => v.verdict === 'violation').map((v) => baseName(v.policy)));
}

function baseName(spec: string): string {
  return spec.split(':')[0];
}

/**
 * The recommendations: results.json's own when present (`source: 'results'`), else the
 * design with the lowest mean cycles per exit in each workload x CPU among those the
 * checker did not find broken (`source: 'cells'`). Cost: O(cells).
 */
function recommendationsOf(r: Results): {
  source: 'results' | 'cells';
  rows: Recommendation[];
} {
  const given: unknown = (r as unknown as Record<string, unknown>).recommendations;
  if (Array.isArray(given) && given.length > 0 && given.every(isRecommendation))
    return { source: 'results', rows: given };
  const broken = brokenPolicies(r);
  const best = new Map<string, Recommendation>();
  const eager = new Map<string, number>();
  for (const c of r.cells) {
    const key = `${c.workload}\u0000${c.cpu}`;
    if (baseName(c.policy) === 'eager') eager.set(key, c.cyclesPerExit.mean);
    if (broken.has(baseName(c.policy))) continue;
    const cur = best.get(key);
    if (!cur || c.cyclesPerExit.mean < cur.cyclesPerExit.mean)
      best.set(key, {
        workload: c.workload,
        cpu: c.cpu,
        policy: c.policy,
        cyclesPerExit: c.cyclesPerExit,
        runnerUp: cur?.policy,
      });
  }
  const rows = [...best.entries()].map(([key, b]) => {
    const e = eager.get(key);
    return e ? { ...b, belowEagerPct: (100 * (e - b.cyclesPerExit.mean)) / e } : b;
  });
  return { source: 'cells', rows };
}

/** The claim's verdict sentence and its per-workload rows, whatever shape `claim` has. */
function claimVerdict(r: Results): string {
  const claim: unknown = r.claim;
  if (isRecord(claim) && typeof claim.verdict === 'string') return esc(claim.verdict);
  // Schema 2 reports kept the claim as a list of per-workload checks.
  type OldClaimRow = { workload: string; verdict: string; band: readonly [number, number] };
  const rows: readonly OldClaimRow[] = Array.isArray(claim) ? (claim as OldClaimRow[]) : [];
  if (rows.length === 0) return `Claim check: ${NOT_COMPUTED}.`;
  const reach = rows.filter((c) => c.verdict === 'inside' || c.verdict === 'overlaps');
  const band = rows[0].band;
  return `${reach.length} of ${rows.length} workloads have a lazy-fixed skip rate whose 95% interval over seeds reaches the claimed ${pct(band[0], 0)}-${pct(band[1], 0)} band${reach.length ? ` (${reach.map((c) => esc(c.workload)).join(', ')})` : ''}. <span class="na">Verdict with the model's held-out error: ${NOT_COMPUTED}.</span>`;
}

function recommendationTable(r: Results): string {
  const { source, rows } = recommendationsOf(r);
  if (rows.length === 0) return `<p>Recommended design: ${NOT_COMPUTED}.</p>`;
  const cpus = [...new Set(rows.map((x) => x.cpu))];
  const workloads = [...new Set(rows.map((x) => x.workload))];
  const at = new Map(rows.map((x) => [`${x.workload}\u0000${x.cpu}`, x]));
  const cell = (x: Recommendation | undefined) => {
    if (!x) return '<td class="na">-</td>';
    // Compact: five CPUs side by side must fit the page; the full line is the cell's title.
    const below = x.belowEagerPct === undefined ? '' : `, ${num(x.belowEagerPct, 0)}% < eager`;
    const win = x.winShare === undefined ? '' : `, wins ${pct(x.winShare, 0)}`;
    const title = x.line ?? `${x.policy}: ${num(x.cyclesPerExit.mean, 0)} cycles per exit`;
    return `<td title="${esc(title)}"><b>${esc(x.policy)}</b> <span class="na">${num(x.cyclesPerExit.mean, 0)} cyc/exit${below}${win}</span></td>`;
  };
  const body = workloads
    .map(
      (w) =>
        `<tr><td>${esc(w)}</td>${cpus.map((c) => cell(at.get(`${w}\u0000${c}`))).join('')}</tr>`,
    )
    .join('');
  const how =
    source === 'results'
      ? 'From the cost model with its uncertainty (results.json <code>recommendations</code>).'
      : `The design with the lowest mean cycles per exit among those the checker did not find broken, computed by this page from the cells (cost-uncertainty recommendation: ${NOT_COMPUTED}).`;
  return `<table id="recommendations" class="summary"><thead><tr><th>workload</th>${cpus.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table><p class="note">${how}</p>`;
}

/** Correctness: designs clean at a fixpoint, clean to a bound, and broken (shortest counterexample). */
function tally(r: Results): string {
  if (r.checks.length === 0) return `Correctness: ${NOT_COMPUTED}.`;
  const byPolicy = new Map<string, Results['checks'][number][]>();
  for (const v of r.checks) byPolicy.set(v.policy, [...(byPolicy.get(v.policy) ?? []), v]);
  const clean: string[] = [];
  const bounded: string[] = [];
  const broken: string[] = [];
  for (const [policy, vs] of byPolicy) {
    const bad = vs.filter((v) => v.verdict === 'violation');
    const covers = vs
      .map((v) => (v as { covers?: unknown }).covers)
      .find((c): c is string => typeof c === 'string');
    // A design without parameters needs no word on what its verdict covers.
    const says = covers && !covers.includes('no parameters') ? covers : undefined;
    const name = `<b>${esc(baseName(policy))}</b>${says ? ` <span class="na">(${esc(says)})</span>` : ''}`;
    if (bad.length > 0) {
      const shortest = bad.reduce((a, b) => (b.steps.length < a.steps.length ? b : a));
      broken.push(
        `${name}: <code>${esc(shortest.invariant)}</code> in ${shortest.steps.length} events`,
      );
    } else if (vs.every((v) => v.exhaustive)) clean.push(name);
    else bounded.push(`${name} to depth ${Math.min(...vs.map((v) => v.depth))}`);
  }
  const configs = new Set(r.checks.map((v) => v.config)).size;
  const parts = [
    `<span class="ok">${clean.length} clean at a fixpoint</span>${clean.length ? ` (${clean.join(', ')})` : ''}`,
    bounded.length ? `${bounded.length} clean to a bound (${bounded.join(', ')})` : '',
    `<span class="${broken.length ? 'bad' : 'ok'}">${broken.length} broken</span>${broken.length ? ` (${broken.join('; ')}, shortest counterexample)` : ''}`,
  ].filter((s) => s !== '');
  return `Correctness over ${configs} configuration${configs === 1 ? '' : 's'}: ${parts.join('; ')}.`;
}

function budgets(r: Results): string {
  const b = r.throughput?.budgets;
  if (!b || b.length === 0) return `Performance budgets: ${NOT_COMPUTED}.`;
  const met = b.filter((x) => x.met === true).length;
  const missed = b.filter((x) => x.met === false);
  const unmeasured = b.filter((x) => x.met === null).length;
  return `Performance budgets: <span class="${missed.length ? 'bad' : 'ok'}">${met} of ${b.length} met</span>${missed.length ? `; not met: ${missed.map((x) => esc(x.name)).join(', ')}` : ''}${unmeasured ? `; ${unmeasured} not measured` : ''}.`;
}

/** The summary section (HTML). Cost: O(cells + checks). */
export function summarySection(r: Results): string {
  return `<section id="summary"><h2>Summary</h2>
<p id="verdict" class="lead">${claimVerdict(r)}</p>
<h3>Recommended design per workload and CPU</h3>${recommendationTable(r)}
<p id="tally">${tally(r)}</p>
<p id="budgets">${budgets(r)}</p></section>`;
}

/** HTML of the summary's prose as plain text (tags dropped, entities decoded). */
function plain(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The summary as Markdown (`summary.md`): verdict, recommendations, tally, budgets. */
export function summaryMarkdown(r: Results): string {
  const { source, rows } = recommendationsOf(r);
  const cpus = [...new Set(rows.map((x) => x.cpu))];
  const workloads = [...new Set(rows.map((x) => x.workload))];
  const at = new Map(rows.map((x) => [`${x.workload}\u0000${x.cpu}`, x]));
  const md = (s: string) => s.replace(/\|/g, '\\|');
  const cell = (x: Recommendation | undefined) =>
    x ? `${md(x.policy)} (${num(x.cyclesPerExit.mean, 0)} cyc/exit)` : '-';
  const table = rows.length
    ? [
        `| workload | ${cpus.map(md).join(' | ')} |`,
        `|---|${cpus.map(() => '---|').join('')}`,
        ...workloads.map(
          (w) => `| ${md(w)} | ${cpus.map((c) => cell(at.get(`${w}\u0000${c}`))).join(' | ')} |`,
        ),
        '',
        source === 'results'
          ? '_From the cost model with its uncertainty (results.json `recommendations`)._'
          : `_Lowest mean cycles per exit among designs the checker did not find broken, from the cells (cost-uncertainty recommendation: ${NOT_COMPUTED})._`,
      ].join('\n')
    : `Recommended design: ${NOT_COMPUTED}.`;
  return [
    `## fpswitch report ${r.date}`,
    '',
    plain(claimVerdict(r)),
    '',
    '### Recommended design per workload and CPU',
    '',
    table,
    '',
    plain(tally(r)),
    '',
    plain(budgets(r)),
    '',
  ].join('\n');
}
