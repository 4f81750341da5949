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
import type { Results } from './results.js';

/** Escapes text for HTML element content and attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** JSON for a `<script type="application/json">` block: `<` written as \u003c so no tag can close it. */
export function scriptJson(x: unknown): string {
  return JSON.stringify(x)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Reads a library's minified build, dropping its source-map comment (no request for it). */
function libraryScript(pkg: string, file: string): string {
  const dir = dirname(fileURLToPath(import.meta.resolve(pkg)));
  const text = readFileSync(join(dir, file), 'utf8');
  return text.replace(/\n?\/\/# sourceMappingURL=.*$/gm, '').replace(/<\/script/gi, '<\\/script');
}

function table(header: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  return `<table class="${cls}"><thead><tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
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
${chart('claim')}${table(['workload', 'lazy-fixed skip rate', '95% over seeds', 'with model error', 'model error (held out)', 'against 30-50%', 'real (nearest measured configuration)'], rows)}</section>`;
}

function checkSection(r: Results): string {
  const configs = [...new Set(r.checks.map((v) => v.config))];
  const policies = [...new Set(r.checks.map((v) => v.policy))];
  const invariants = INVARIANTS;
  const matrix = configs
    .map((config) => {
      const rows = policies.map((p) => {
        const v = r.checks.find((x) => x.policy === p && x.config === config);
        if (!v) return [esc(p), ...invariants.map(() => 'not run'), ''];
        const cells = invariants.map((inv) => {
          if (v.verdict === 'ok')
            return v.exhaustive
              ? '<span class="ok">holds</span>'
              : `<span class="ok">holds to depth ${v.depth}</span>`;
          if (v.invariant === inv)
            return `<span class="bad">violated (${v.steps.length} steps)</span>`;
          return '<span class="na" title="the search stops at the first (shortest) violation">not decided</span>';
        });
        const scope =
          v.verdict === 'ok'
            ? v.exhaustive
              ? `fixpoint: ${num(v.states)} states`
              : `depth ${v.depth}`
            : `shortest counterexample, ${v.steps.length} steps`;
        return [esc(p), ...cells, esc(scope)];
      });
      return `<h3>Configuration ${esc(config)}</h3>${table(['policy', ...invariants, 'scope'], rows, 'matrix')}`;
    })
    .join('');
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
<p>adaptive swept over threshold ${esc(t.ranges.threshold?.join(', '))} and eagerRuns ${esc(t.ranges.eagerRuns?.join(', '))}; ${num(t.runs)} runs x ${t.seeds} seeds per point.</p>
${chart('sweep')}${table(['workload', 'cpu', 'best setting', 'cycles/exit', 'eager', 'lazy-fixed', 'win over eager', 'win over lazy-fixed'], rows)}</section>`;
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
${chart('components')}${chart('skip')}${chart('traps')}
<h3>Workloads</h3>${table(['workload', 'kind', 'what it models', 'file'], files, 'small')}
<h3>Workloads as generated</h3>${table(['workload', 'exits per second of guest time', 'runs touching FP at EL0', 'at EL1', 'FPEXC accesses', 'exit mix (top 4)'], rows)}</section>`;
}

function assumptionsSection(r: Results): string {
  const rows = r.assumptions.map((a) => [
    esc(a.scope),
    esc(a.parameter),
    esc(a.value),
    esc(a.source),
    esc(a.confidence ?? ''),
  ]);
  return `<section id="assumptions"><h2>Assumptions</h2><p>Every parameter of the run with its source.</p>${table(['scope', 'parameter', 'value', 'source', 'confidence'], rows, 'small')}</section>`;
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
${table(['budget', 'target', 'measured', ''], budgetRows(t))}
<h3>Table walk, one core: runs/s (walk / bare loop over the same stream)</h3>
<p>Each workload's own stream, every built-in policy at its defaults, measured in a child process per workload.</p>${walkTable(t)}
<h3>Stream generation, one core</h3>${table(['stream', 'runs/s'], gen)}
<h3>CLI start (process start to exit, best of ${t.cliStart?.repeats ?? 0})</h3>${cli}
<h3>Checker, per policy and configuration (time alone in a child process)</h3>${table(['policy', 'config', 'verdict', 'time', 'states', 'covers'], checks, 'small')}
<p>Checker: ${num(t.check.states)} states, ${num(t.check.transitions)} transitions in ${t.check.seconds.toFixed(2)} s. Suite wall time ${t.suiteSeconds.toFixed(1)} s, ${t.suiteCpuSeconds.toFixed(1)} s of CPU; the suite's own peak RSS (main thread and worker threads) ${t.peakRssMiB.toFixed(0)} MiB. ${scalingText(t, r.host.cores)}</p></section>`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em 2em;color:#222}
h1{margin-bottom:0}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4}table.small{font-size:12px}.ok{color:#1a7f37}.bad{color:#c62828;font-weight:600}.na{color:#888}
figure.chart{margin:1.2em 0}figure.chart h3{margin:.2em 0}.shows{color:#555;margin:.1em 0 .5em}code{background:#f6f6f6;padding:0 3px}
details{margin:.5em 0}summary{cursor:pointer}.meta{color:#555}nav a{margin-right:1em}`;

/** Renders the page. Cost: O(size of results) plus ~830 KB of inlined libraries. */
export function renderHtml(r: Results, extras: readonly ExtraSection[] = []): string {
  const charts = buildCharts(
    r,
    extras.flatMap((e) => e.charts),
  );
  const byId = new Map(charts.map((c) => [c.id, c]));
  const chart = (id: string) => chartBlock(byId.get(id));
  const extraHtml = extras
    .map(
      (e) =>
        `<section id="${esc(e.id)}"><h2>${esc(e.title)}</h2>${e.html}${e.charts.map((c) => chartBlock(c)).join('')}</section>`,
    )
    .join('');
  const p = r.parameters;
  const body = [
    `<h1>fpswitch report</h1>`,
    `<p class="meta">fpswitch ${esc(r.tool.version)}, commit ${esc(r.git.commit ?? 'unknown')}${r.git.dirty ? ' (with uncommitted changes)' : ''}, ${esc(r.node)}, ${esc(r.host.cpu)} (${r.host.cores} cores), ${esc(r.date)}.<br>
${num(p.runs)} runs x ${p.seeds} seeds per cell, base seed ${p.baseSeed}${p.quick ? ', --quick' : ''}; adaptive swept over threshold ${esc(p.thresholds.join(','))} x eagerRuns ${esc(p.eagerRuns.join(','))}${p.only ? `, --only ${esc(p.only)}` : ''}; workloads: ${esc(p.workloads.join(', '))}; CPUs: ${esc(p.cpus.join(', '))}.</p>`,
    `<nav><a href="#claim">claim</a><a href="#designs">designs</a><a href="#tuning">tuning</a><a href="#breakeven">break-even</a>${extras.map((e) => `<a href="#${esc(e.id)}">${esc(e.title.toLowerCase())}</a>`).join('')}<a href="#correctness">correctness</a><a href="#assumptions">assumptions</a><a href="#throughput">throughput</a></nav>`,
    claimSection(r, chart),
    cellsSection(r, chart),
    tuningSection(r, chart),
    breakEvenSection(r, chart),
    extraHtml,
    checkSection(r),
    assumptionsSection(r),
    throughputSection(r, chart),
  ].join('\n');
  const boot = `(function(){var vis=document.querySelectorAll('.vis');var pending=vis.length;function done(){if(--pending===0)document.body.setAttribute('data-charts-done','1');}
vis.forEach(function(el){var id=el.getAttribute('data-chart');try{var spec=JSON.parse(document.getElementById('spec-'+id).textContent);
vegaEmbed(el,spec,{renderer:'svg',actions:false}).then(function(){el.setAttribute('data-rendered','1');done();}).catch(function(e){el.setAttribute('data-error',String(e&&e.message||e));console.error('chart '+id+': '+(e&&e.message||e));done();});}
catch(e){el.setAttribute('data-error',String(e));console.error('chart '+id+': '+e);done();}});if(vis.length===0)document.body.setAttribute('data-charts-done','1');})();`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>fpswitch report ${esc(r.date)}</title><style>${STYLE}</style>
<script>${libraryScript('vega', 'vega.min.js')}</script>
<script>${libraryScript('vega-lite', 'vega-lite.min.js')}</script>
<script>${libraryScript('vega-embed', 'vega-embed.min.js')}</script>
</head><body>
${body}
<script>${boot}</script>
</body></html>
`;
}
