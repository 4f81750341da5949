/**
 * The report's "Recommendation" section: for every workload x CPU, the design to use over
 * every built-in design (adaptive at every swept setting), its cycles per exit with an
 * interval that includes cost uncertainty, its win share over cost draws, how far below
 * eager it is, the runner-up, and the cost parameters that could flip the decision (table
 * and tornado chart).
 */

import type { Chart } from './charts.js';
import { longTable } from './collapse.js';
import { esc, type ExtraSection } from './html.js';
import type { Results } from './results.js';
import type { Recommendation } from '../tune/recommend.js';
import { num, pct } from '../util/format.js';

function tornadoChart(recs: readonly Recommendation[]): Chart {
  const cells = recs.map((r) => `${r.workload} on ${r.cpu}`);
  const data = recs.flatMap((r) =>
    r.tornado
      .filter((f) => f.swing > 0)
      .map((f) => ({
        cell: `${r.workload} on ${r.cpu}`,
        param: f.param,
        swing: f.swing,
        flips: f.flips ? 'flips the decision' : 'does not flip it',
        note: f.note,
      })),
  );
  return {
    id: 'tornado',
    title: 'What could flip the recommendation',
    shows:
      "For the chosen workload and CPU: how far each cost parameter alone, over its range, moves the recommended design's margin over the next design (cycles per exit); red bars flip the decision.",
    spec: {
      width: 560,
      height: 260,
      params: [
        {
          name: 'cell',
          value: cells[0] ?? '',
          bind: { input: 'select', options: cells, name: 'workload on cpu ' },
        },
      ],
      data: { values: data },
      transform: [{ filter: 'datum.cell == cell' }],
      mark: 'bar',
      encoding: {
        y: { field: 'param', type: 'nominal', title: 'cost parameter', sort: '-x' },
        x: {
          field: 'swing',
          type: 'quantitative',
          title: 'change of the winning margin (cycles/exit)',
        },
        color: {
          field: 'flips',
          type: 'nominal',
          title: '',
          scale: {
            domain: ['flips the decision', 'does not flip it'],
            range: ['#c0392b', '#7f8c8d'],
          },
        },
        tooltip: [{ field: 'param' }, { field: 'note' }],
      },
    },
  };
}

/** The section, or undefined when the run has no recommendations. */
export function recommendationSection(r: Results): ExtraSection | undefined {
  const recs = r.recommendations;
  if (recs.length === 0) return undefined;
  const rows = recs.map((x) => [
    esc(x.workload),
    esc(x.cpu),
    `<b>${esc(x.policy)}</b>`,
    `${num(x.cyclesPerExit.mean)} [${num(x.cyclesPerExit.lo)}-${num(x.cyclesPerExit.hi)}]`,
    pct(x.winShare, 0),
    x.belowEagerPct === null
      ? '-'
      : x.policy === 'eager'
        ? 'is eager'
        : `${x.belowEagerPct.toFixed(1)}%`,
    esc(x.runnerUp ?? '-'),
    esc(x.flips.map((f) => `${f.param}: ${f.note}`).join('; ')),
  ]);
  const head = [
    'workload',
    'cpu',
    'design',
    'cycles/exit [interval]',
    'wins in',
    'below eager',
    'next design',
    'could flip it',
  ];
  const table = longTable('Recommendation per workload and CPU', head, rows, 'small');
  const rejected = [
    ...new Set(
      recs.flatMap((x) =>
        x.designs
          .filter((d) => d.note.startsWith('not considered'))
          .map((d) => `${d.design} (${d.note.replace(/^not considered: /, '')})`),
      ),
    ),
  ];
  return {
    id: 'recommendation',
    title: 'Recommendation',
    html: `<p>For each workload on each CPU: the cheapest design at the profile's costs over every built-in design (adaptive at every swept setting), its cycles per exit with an interval over ${num(recs[0].draws)} seeded cost draws and the seeds, the share of draws in which it stays the cheapest, and the three cost parameters that move the decision most when each alone spans its range (docs/cost-model.md "Uncertainty").${rejected.length ? ` Not considered: ${esc(rejected.join(', '))}.` : ''}</p>${table}<details class="long"><summary>The recommendation lines, as fpswitch tune prints them <span class="count">(${recs.length})</span></summary><pre>${recs.map((x) => esc(x.line)).join('\n')}</pre></details>`,
    charts: [tornadoChart(recs)],
    collapseChartsAfter: 0,
  };
}
