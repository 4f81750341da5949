/**
 * The report page: one self-contained HTML file (vega, vega-lite and vega-embed inlined,
 * specs and data inline) that works from disk with no network. Every string that comes
 * from a user (workload names, descriptions, file paths, policy names) is escaped.
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INVARIANTS } from '../machine/semantic-machine.js';
import { buildCharts, type Chart } from './charts.js';
import { num, pct } from '../util/format.js';
import { FILTER_SCRIPT, htmlTable as table, longTable } from './collapse.js';
import { esc, scriptJson } from './escape.js';
import { summarySection } from './summary.js';
import type { Results } from './results.js';

export { esc, scriptJson } from './escape.js';

/** Reads a library's minified build, dropping its source-map comment (no request for it). */
function libraryScript(pkg: string, file: string): string {
  const dir = dirname(fileURLToPath(import.meta.resolve(pkg)));
  const text = readFileSync(join(dir, file), 'utf8');
  return text.replace(/\n?\/\/# sourceMappingURL=.*$/gm, '').replace(/<\/script/gi, '<\\/script');
}

function chartBlock(c: Chart | undefined): string {
  if (!c) return '';
  return `<figure class="chart"><h3>${esc(c.title)}</h3><p class="shows">${esc(c.shows)}</p><div class="vis" id="chart-${esc(c.id)}" data-chart="${esc(c.id)}"></div><script type="application/json" id="spec-${esc(c.id)}">${scriptJson(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      ...c.spec,
    },
  )}</script></figure>`;
}

/** Extra sections (sensitivity, ground truth) rendered by their owners. */
export interface ExtraSection {
  readonly id: string;
  readonly title: string;
  readonly html: string;
  readonly charts: readonly Chart[];
  /** Charts from this index on are drawn inside a collapsed "more charts" block. */
  readonly collapseChartsAfter?: number;
}

function extraSection(e: ExtraSection): string {
  const cut = e.collapseChartsAfter ?? e.charts.length;
  const shown = e.charts.slice(0, cut).map((c) => chartBlock(c));
  const more = e.charts.slice(cut);
  const folded = more.length
    ? `<details class="more-charts"><summary>${more.length} more chart${more.length === 1 ? '' : 's'}: ${more.map((c) => esc(c.title.replace(/^.*: /, ''))).join(', ')}</summary>${more.map((c) => chartBlock(c)).join('')}</details>`
    : '';
  return `<section id="${esc(e.id)}"><h2>${esc(e.title)}</h2>${e.html}${shown.join('')}${folded}</section>`;
}

function claimSection(r: Results, chart: (id: string) => string): string {
  const c = r.claim;
  const rows = c.workloads.map((w) => [
    esc(w.workload) + (w.counted ? '' : ' <span class="na">(not counted)</span>'),
    pct(w.skipRate.mean),
    `${pct(w.skipRate.lo)} .. ${pct(w.skipRate.hi)}`,
    `${pct(w.interval.lo)} .. ${pct(w.interval.hi)}`,
    w.modelError
      ? `+/-${pct(w.modelError.maxAbs)} <span class="na">(${w.modelError.scope === 'family' ? `its ${w.modelError.cells} held-out -icount cells` : `all ${w.modelError.cells} held-out -icount cells: none of its benchmark`}; worst ${esc(w.modelError.worstCell)})</span>`
      : '-',
    esc(w.verdict),
    w.real
      ? `${pct(w.real.skip)} <span class="na">(${esc(w.real.cell)}: ${esc(w.real.config)})</span>`
      : '-',
  ]);
  const e = c.heldOutError;
  const err = e
    ? `The interval is the 95% interval over seeds widened on each side by the model's largest skip-rate error on the held-out real-kernel cells of the same benchmark (hackbench cells for hackbench, pipe ping-pong for lmbench-ctx, null syscall for lmbench-syscall; a workload with none takes the largest over all ${e.cells}), counting only cells run with -icount, whose guest time is a real machine's: root mean square over all ${pct(e.rms)}.${e.excluded ? ` The ${e.excluded.cells} held-out cells without -icount (largest error ${pct(e.excluded.maxAbs)}, ${esc(e.excluded.worstCell)}) are shown in the ground truth section but do not set it: ${esc(e.excluded.reason)}.` : ''} See the ground truth section.`
    : 'No held-out real-kernel cell measured the model error: the interval is seed noise only.';
  return `<section id="claim"><h2>The 30-50% claim</h2>
<p>Commit 33c76a0b8126 claimed that under lmbench and hackbench "for 30-50% exits FP/SIMD context is not saved/restored". The skip rate below is an output of the workload models, never an input. ${err} Only the workloads the claim was made for count in the verdict.</p>
<p><strong>${esc(c.verdict)}</strong></p>
${chart('claim')}${longTable('Claim check per workload: skip rate, intervals, nearest real measurement', ['workload', 'lazy-fixed skip rate', '95% over seeds', 'with model error', 'model error (held out)', 'against 30-50%', 'real (nearest measured configuration)'], rows)}</section>`;
}

type CheckVerdict = Results['checks'][number];

/** One row of the invariant matrix: holds / violated / not decided per invariant. */
function matrixCells(v: CheckVerdict): string[] {
  return INVARIANTS.map((inv) => {
    if (v.verdict === 'ok')
      return v.exhaustive
        ? '<span class="ok" title="holds at the fixpoint">&#10003; holds</span>'
        : `<span class="ok" title="holds for every history up to ${v.depth} events">&#10003; to ${v.depth}</span>`;
    if (v.invariant === inv)
      return `<span class="bad" title="violated by a ${v.steps.length}-event history">&#10007; ${v.steps.length} events</span>`;
    return '<span class="na" title="not decided: the search stops at the first (shortest) violation">-</span>';
  });
}

function checkScope(v: CheckVerdict): string {
  const covers = (v as { covers?: unknown }).covers;
  const scope =
    v.verdict === 'ok'
      ? v.exhaustive
        ? `fixpoint: ${num(v.states)} states`
        : `depth ${v.depth}`
      : `shortest counterexample, ${v.steps.length} steps`;
  return typeof covers === 'string' ? `${scope}; covers ${covers}` : scope;
}

function checkSection(r: Results): string {
  const configs = [...new Set(r.checks.map((v) => v.config))];
  const policies = [...new Set(r.checks.map((v) => v.policy))];
  const invariants = INVARIANTS;
  const rows = configs.flatMap((config) =>
    policies.map((p) => {
      const v = r.checks.find((x) => x.policy === p && x.config === config);
      if (!v) return [esc(p), esc(config), ...invariants.map(() => 'not run'), ''];
      return [esc(p), esc(config), ...matrixCells(v), esc(checkScope(v))];
    }),
  );
  const matrix = table(['policy', 'configuration', ...invariants, 'scope'], rows, 'matrix');
  const cex = r.checks
    .filter((v) => v.verdict === 'violation')
    .map(
      (
        v,
      ) => `<details><summary><b>${esc(v.policy)}</b> (${esc(v.config)}): <code>${esc(v.invariant)}</code>, ${v.steps.length} steps. ${esc(v.diagnosis)}</summary>
${table(
  [
    '#',
    'event',
    'CPTR_EL2.TFP (effective / written)',
    'FPEXC32_EL2.EN',
    'FP registers hold',
    'loaded',
    'guest view',
  ],
  v.steps.map((s) => {
    const st = s.state;
    const g = st.guest
      ? `CPACR ${st.guest.cpacr ? 'on' : 'off'}${st.guest.fpexcEn === null ? '' : `, FPEXC.EN=${st.guest.fpexcEn ? 1 : 0}`}`
      : '';
    return [
      String(s.n),
      `<code>${esc(s.event)}</code>${s.choices.length ? ` <span class="na">(${esc(s.choices.join('; '))})</span>` : ''}${s.violation ? ` <span class="bad">${esc(s.violation.invariant)}</span>` : ''}`,
      `${st.tfp ? 1 : 0} / ${st.tfpWritten ? 1 : 0}${st.tfp !== st.tfpWritten ? ' (pending)' : ''}`,
      st.fpexc32En ? '1' : '0',
      esc(st.fpRegs),
      st.loaded === null ? '-' : `vcpu${st.loaded}`,
      esc(g),
    ];
  }),
  'steps',
)}</details>`,
    )
    .join('');
  return `<section id="correctness"><h2>Correctness</h2>
<p>Every interleaving of the event alphabet on one physical CPU, explored breadth first to a fixpoint (a clean verdict covers histories of any length). Initial state: ${esc((r.checks[0]?.initialState ?? '').replace(/\n/g, '; '))}.</p>
${matrix}<h3>Counterexamples</h3>${cex || '<p>None.</p>'}</section>`;
}

function tuningSection(r: Results, chart: (id: string) => string): string {
  const t = r.tuning;
  if (!t) return '';
  const rows = t.best.map((b) => [
    esc(b.workload),
    esc(b.cpu),
    esc(
      Object.entries(b.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(', '),
    ),
    num(b.cyclesPerExit, 1),
    num(b.eager, 1),
    num(b.lazyFixed, 1),
    `${num(b.winOverEager, 1)} (${pct(b.winOverEager / b.eager)})`,
    `${num(b.winOverLazyFixed, 1)} (${pct(b.winOverLazyFixed / b.lazyFixed)})`,
  ]);
  return `<section id="tuning"><h2>Tuning the adaptive threshold</h2>
<p>adaptive swept over threshold ${esc((t.ranges.threshold as readonly number[] | undefined)?.join(', '))} and eagerRuns ${esc((t.ranges.eagerRuns as readonly number[] | undefined)?.join(', '))}; ${num(t.runs)} runs x ${t.seeds} seeds per point.</p>
${chart('sweep')}${longTable('Best setting per workload and CPU', ['workload', 'cpu', 'best setting', 'cycles/exit', 'eager', 'lazy-fixed', 'win over eager', 'win over lazy-fixed'], rows)}</section>`;
}

function breakEvenSection(r: Results, chart: (id: string) => string): string {
  const be = r.breakEven;
  const rows = be.analytic.map((a) => {
    const s = be.simulated.find((x) => x.cpu === a.cpu);
    return [
      esc(a.cpu),
      num(a.trap),
      num(a.switchCost),
      a.ratio.toFixed(3),
      a.pSimple.toFixed(4),
      a.pExact.toFixed(4),
      s ? s.pCrossing.toFixed(4) : '-',
    ];
  });
  return `<section id="breakeven"><h2>Break-even</h2>
<p>For a guest touching FP independently with probability p per run, lazy beats eager when p x trap &lt; (1 - p) x switch. The simulator's crossing on markov streams is held against the line with the trap-control overheads included.</p>
${chart('breakeven')}${table(['cpu', 'trap (cycles)', 'switch (cycles)', 'trap/switch', 'p* simple', 'p* with trap controls', 'simulated crossing'], rows)}</section>`;
}

function cellsSection(r: Results, chart: (id: string) => string): string {
  const cpu = r.parameters.cpus[0];
  const rows = r.cells
    .filter((c) => c.cpu === cpu && c.policy === 'lazy-fixed')
    .map((c) => [
      esc(c.workload),
      num(c.exitsPerGuestSecond.mean),
      pct(c.fpUse.el0.mean),
      pct(c.fpUse.el1.mean),
      pct(c.fpUse.fpexc.mean),
      esc(
        c.exitMix
          .slice(0, 4)
          .map((e) => `${e.exit}/${e.handled} ${pct(e.share, 0)}`)
          .join(', '),
      ),
    ]);
  const files = r.workloads
    .filter((w) => r.parameters.workloads.includes(w.name))
    .map((w) => [esc(w.name), esc(w.kind), esc(w.description), `<code>${esc(w.file)}</code>`]);
  return `<section id="designs"><h2>Designs across workloads and CPUs</h2>
${chart('components')}${chart('skip-traps')}
${longTable('Workloads', ['workload', 'kind', 'what it models', 'file'], files, 'small')}
${longTable('Workloads as generated', ['workload', 'exits per second of guest time', 'runs touching FP at EL0', 'at EL1', 'FPEXC accesses', 'exit mix (top 4)'], rows)}</section>`;
}

function assumptionsSection(r: Results): string {
  const rows = r.assumptions.map((a) => [
    esc(a.scope),
    esc(a.parameter),
    esc(a.value),
    esc(a.source),
    esc(a.confidence ?? ''),
  ]);
  return `<section id="assumptions"><h2>Assumptions</h2><p>Every parameter of the run with its source.</p>${longTable('Assumptions', ['scope', 'parameter', 'value', 'source', 'confidence'], rows, 'small')}</section>`;
}

function budgetRows(t: NonNullable<Results['throughput']>): string[][] {
  return t.budgets.map((b) => [
    esc(b.name),
    esc(b.target),
    esc(b.measured),
    b.met === null
      ? 'not measured'
      : b.met
        ? '<span class="ok">met</span>'
        : '<span class="bad">not met</span>',
  ]);
}

/** Walk runs/s and walk / bare, a row per workload (its stream named), a column pair per policy. */
function walkTable(t: NonNullable<Results['throughput']>): string {
  const policies = [...new Set(t.simulate.map((s) => s.policy))];
  const workloads = [...new Set(t.simulate.map((s) => s.workload))];
  const rows = workloads.map((w) => {
    const of = t.simulate.filter((s) => s.workload === w);
    return [
      esc(of[0]?.stream ?? w),
      ...policies.map((p) => {
        const x = of.find((s) => s.policy === p);
        if (!x) return '-';
        const cls = x.ratio >= 0.75 && x.walkRunsPerSecond >= 300e6 ? 'ok' : 'bad';
        return `<span class="${cls}">${num(x.walkRunsPerSecond / 1e6)} M (${x.ratio.toFixed(2)})</span>`;
      }),
    ];
  });
  return table(['stream', ...policies.map((p) => esc(p.split(':')[0]))], rows, 'small');
}

function scalingText(t: NonNullable<Results['throughput']>, cores: number): string {
  const w = t.workerScaling;
  const busy =
    t.busy === null
      ? ''
      : ` In this run the workers spent ${(100 * t.busy).toFixed(0)}% of the parallel phase in units.`;
  if (!w) return `Worker scaling not measured in this run.${busy}`;
  return `Worker scaling: ${w.units} of the suite's own units (every kind, split as the suite splits them, at --quick sizes) took ${w.workers1Seconds.toFixed(2)} s on 1 worker and ${w.workers2Seconds.toFixed(2)} s on 2 (${w.speedup.toFixed(2)}x, best of ${w.speedups.length}: ${w.speedups.map((x) => x.toFixed(2)).join(', ')}; load average ${w.loadAverage.toFixed(1)} on ${cores} cores).${busy}`;
}

function throughputSection(r: Results, chart: (id: string) => string): string {
  const t = r.throughput;
  if (!t) return '';
  const gen = t.generate.map((g) => [esc(g.stream), `${num(g.runsPerSecond / 1e6, 1)} M`]);
  const cli = t.cliStart
    ? table(
        ['command', 'seconds'],
        [
          ['node -e 0', t.cliStart.nodeSeconds.toFixed(2)],
          ...t.cliStart.commands.map((c) => [
            esc(`node ${t.cliStart?.bin ?? ''} ${c.argv.join(' ')}`),
            c.seconds.toFixed(2),
          ]),
        ],
      )
    : '<p>CLI start not measured.</p>';
  const checks = r.checks.map((v) => [
    esc(v.policy),
    esc(v.config),
    esc(v.verdict),
    `${(1000 * (t.check.perVerdict.find((c) => c.policy === v.policy && c.config === v.config)?.seconds ?? v.seconds)).toFixed(0)} ms`,
    num(v.states),
    esc(v.covers),
  ]);
  return `<section id="throughput"><h2>Throughput</h2>${chart('throughput')}
${longTable('Performance budgets', ['budget', 'target', 'measured', ''], budgetRows(t))}
<details class="long"><summary>Table walk, one core: runs/s (walk / bare loop over the same stream)</summary>
<p>Each workload's own stream, every built-in policy at its defaults, measured in a child process per workload.</p>${walkTable(t)}</details>
${longTable('Stream generation, one core', ['stream', 'runs/s'], gen)}
<details class="long"><summary>CLI start (process start to exit, best of ${t.cliStart?.repeats ?? 0})</summary>${cli}</details>
${longTable('Checker, per policy and configuration (time alone in a child process)', ['policy', 'config', 'verdict', 'time', 'states', 'covers'], checks, 'small')}
<p>Checker: ${num(t.check.states)} states, ${num(t.check.transitions)} transitions in ${t.check.seconds.toFixed(2)} s. Suite wall time ${t.suiteSeconds.toFixed(1)} s, ${t.suiteCpuSeconds.toFixed(1)} s of CPU; the suite's own peak RSS (main thread and worker threads) ${t.peakRssMiB.toFixed(0)} MiB. ${scalingText(t, r.host.cores)}</p></section>`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;display:grid;grid-template-columns:11.5em minmax(0,1fr);column-gap:1.5em}
main{max-width:1100px;padding:.5em 1.5em 2em 0;min-width:0}
nav#toc{position:sticky;top:0;align-self:start;max-height:100vh;overflow:auto;padding:1em 0 1em 1em;font-size:13px}
nav#toc a{display:block;padding:2px 0;color:#0b57d0;text-decoration:none}nav#toc a:hover{text-decoration:underline}nav#toc b{display:block;margin-bottom:.4em}
h1{margin:.3em 0 0}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin:1.4em 0 .5em}h3{margin:.8em 0 .3em}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}th,td{border:1px solid #ddd;padding:2px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4}table.small{font-size:12px}.ok{color:#1a7f37}.bad{color:#c62828;font-weight:600}.na{color:#777}
figure.chart{margin:.8em 0}figure.chart h3{margin:.2em 0}.shows{color:#555;margin:.1em 0 .4em}code{background:#f6f6f6;padding:0 3px}
details{margin:.4em 0}summary{cursor:pointer}.meta{color:#555;font-size:12px;margin:.2em 0}details.long>summary{font-weight:600}.count{color:#777;font-weight:400}
.filter{margin:.3em 0}.filter input{font:inherit;padding:1px 4px;width:16em}.shown{color:#777}
#summary{background:#f7f9fc;border:1px solid #d8e0ec;border-radius:6px;padding:.2em 1em .6em;margin-top:.6em}#summary h2{margin-top:.4em;border:0}
.lead{font-size:15px}.note{color:#555;font-size:12px;margin:.2em 0}table.matrix td{white-space:nowrap}table.summary{font-size:12px}
@media (max-width:900px){body{display:block;padding:0 1em}nav#toc{position:static;max-height:none}}`;

/** Table-of-contents entries: section id and label, in page order. */
function tocLinks(extras: readonly ExtraSection[], more: readonly [string, string][]): string {
  const entries: [string, string][] = [
    ['summary', 'summary'],
    ...more.filter(([id]) => id === 'comparison'),
    ['claim', 'the 30-50% claim'],
    ['designs', 'designs'],
    ['tuning', 'tuning'],
    ['breakeven', 'break-even'],
    ...extras.map((e): [string, string] => [e.id, e.title.toLowerCase()]),
    ['correctness', 'correctness'],
    ['calibration', 'calibration'],
    ['assumptions', 'assumptions'],
    ['throughput', 'throughput'],
    ['run', 'this run'],
  ];
  return `<nav id="toc"><b>fpswitch report</b>${entries.map(([id, label]) => `<a href="#${esc(id)}">${esc(label)}</a>`).join('')}</nav>`;
}

function runSection(r: Results): string {
  const p = r.parameters;
  return `<section id="run"><h2>This run</h2><p class="meta">fpswitch ${esc(r.tool.version)}, commit ${esc(r.git.commit ?? 'unknown')}${r.git.dirty ? ' (with uncommitted changes)' : ''}, ${esc(r.node)}, ${esc(r.host.cpu)} (${r.host.cores} cores), ${esc(r.date)}.<br>
${num(p.runs)} runs x ${p.seeds} seeds per cell, base seed ${p.baseSeed}${p.quick ? ', --quick' : ''}; adaptive swept over threshold ${esc(p.thresholds.join(','))} x eagerRuns ${esc(p.eagerRuns.join(','))}${p.only ? `, --only ${esc(p.only)}` : ''}; workloads: ${esc(p.workloads.join(', '))}; CPUs: ${esc(p.cpus.join(', '))}.</p></section>`;
}

const BOOT = `(function(){var vis=document.querySelectorAll('.vis');var pending=vis.length;function done(){if(--pending===0)document.body.setAttribute('data-charts-done','1');}
var opts={renderer:'svg',actions:{export:true,source:false,compiled:false,editor:false},downloadFileName:'fpswitch-chart'};
vis.forEach(function(el){var id=el.getAttribute('data-chart');try{var spec=JSON.parse(document.getElementById('spec-'+id).textContent);
vegaEmbed(el,spec,opts).then(function(){el.setAttribute('data-rendered','1');done();}).catch(function(e){el.setAttribute('data-error',String(e&&e.message||e));console.error('chart '+id+': '+(e&&e.message||e));done();});}
catch(e){el.setAttribute('data-error',String(e));console.error('chart '+id+': '+e);done();}});if(vis.length===0)document.body.setAttribute('data-charts-done','1');})();`;

/** Sections placed by the caller: `comparison` (a baseline) goes right after the summary. */
interface PageOptions {
  readonly comparison?: string;
}

/** Renders the page. Cost: O(size of results) plus ~830 KB of inlined libraries. */
export function renderHtml(
  r: Results,
  extras: readonly ExtraSection[] = [],
  opts: PageOptions = {},
): string {
  const charts = buildCharts(
    r,
    extras.flatMap((e) => e.charts),
  );
  const byId = new Map(charts.map((c) => [c.id, c]));
  const chart = (id: string) => chartBlock(byId.get(id));
  const extraHtml = extras.map(extraSection).join('');
  const more: [string, string][] = opts.comparison ? [['comparison', 'change since baseline']] : [];
  const body = [
    `<h1>fpswitch report</h1>`,
    summarySection(r),
    opts.comparison ?? '',
    claimSection(r, chart),
    cellsSection(r, chart),
    tuningSection(r, chart),
    breakEvenSection(r, chart),
    extraHtml,
    checkSection(r),
    assumptionsSection(r),
    throughputSection(r, chart),
    runSection(r),
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>fpswitch report ${esc(r.date)}</title><style>${STYLE}</style>
<script>${libraryScript('vega', 'vega.min.js')}</script>
<script>${libraryScript('vega-lite', 'vega-lite.min.js')}</script>
<script>${libraryScript('vega-embed', 'vega-embed.min.js')}</script>
</head><body>
${tocLinks(extras, more)}<main>
${body}
</main>
<script>${FILTER_SCRIPT}</script>
<script>${BOOT}</script>
</body></html>
`;
}
