/**
 * The report's cost-model section: every published anchor with the model fitted on all
 * anchors of its group and the model fitted on the others (held out), so a reader sees
 * which figures are fitted and how well the model predicts the ones it did not see.
 */

import type { Chart } from './charts.js';
import { longTable } from './collapse.js';
import { esc, type ExtraSection } from './html.js';
import type { CalibrationEntry, Results } from './results.js';
import { num, pct } from '../util/format.js';

function heldOutCell(c: CalibrationEntry): string {
  if (c.heldOutCycles === null || c.heldOutError === null) return esc(c.heldOutNote ?? '-');
  return `${num(c.heldOutCycles)} (${pct(c.heldOutError, 1)})`;
}

function chart(rows: readonly CalibrationEntry[]): Chart {
  const data = rows.flatMap((c) => {
    const anchor = `${c.cpu}: ${c.label}`;
    const out = [
      { anchor, which: 'published', cycles: c.paperCycles },
      { anchor, which: 'fitted on all anchors', cycles: c.modelCycles },
    ];
    if (c.heldOutCycles !== null) out.push({ anchor, which: 'held out', cycles: c.heldOutCycles });
    return out;
  });
  return {
    id: 'cost-model',
    title: 'Cost model: fitted and held-out anchors',
    shows:
      'Each published micro-benchmark next to the structural model fitted on every anchor of its group and the model fitted on the other anchors only (held out: a prediction).',
    spec: {
      width: 640,
      height: 22 * rows.length + 40,
      data: { values: data },
      mark: 'bar',
      encoding: {
        y: {
          field: 'anchor',
          type: 'nominal',
          title: null,
          sort: null,
          axis: { labelLimit: 420 },
        },
        yOffset: { field: 'which', type: 'nominal' },
        x: { field: 'cycles', type: 'quantitative', title: 'cycles', scale: { type: 'log' } },
        color: { field: 'which', type: 'nominal', title: '' },
        tooltip: [{ field: 'anchor' }, { field: 'which' }, { field: 'cycles', format: ',.0f' }],
      },
    },
  };
}

/** A one-paragraph summary of the held-out errors per CPU. */
function heldOutSummary(rows: readonly CalibrationEntry[]): string {
  const cpus = [...new Set(rows.map((c) => c.cpu))];
  return cpus
    .map((cpu) => {
      const mine = rows.filter((c) => c.cpu === cpu);
      const held = mine.filter((c) => c.heldOutError !== null);
      if (held.length === 0) return `${cpu}: no anchor can be held out`;
      const errs = held.map((c) => Math.abs(c.heldOutError ?? 0));
      return `${cpu}: ${held.length} of ${mine.length} anchors held out, error ${pct(Math.min(...errs), 1)} to ${pct(Math.max(...errs), 1)}`;
    })
    .join('; ');
}

/** The section, or undefined when the run has no calibration rows. */
export function costModelSection(r: Results): ExtraSection | undefined {
  const rows = r.calibration;
  if (rows.length === 0) return undefined;
  const body = rows.map((c) => [
    esc(c.cpu),
    esc(c.label),
    esc(c.policy),
    num(c.paperCycles),
    `${num(c.modelCycles)} (${pct(c.fittedError, 1)})`,
    c.simulatedCycles === null ? '-' : num(c.simulatedCycles),
    heldOutCell(c),
    esc(c.confidence),
    esc(c.source),
  ]);
  const head = [
    'cpu',
    'anchor',
    'design',
    'published',
    'fitted on all (error)',
    'simulated',
    'held out (error)',
    'confidence',
    'source',
  ];
  const table = longTable('Anchors: published, fitted and held out', head, body, 'small');
  return {
    id: 'cost-model',
    title: 'Cost model: fitted and held-out anchors',
    html: `<p>Each published micro-benchmark is a sum of shared components (docs/cost-model.md); the fitted components come from non-negative least squares on relative error over all anchors of a group, and each anchor is then held out: fitted on the others, predicted, compared with the paper. "Simulated" runs the measured design on the anchor's exit through the cost machine (it checks the hand-counted design extras). Held-out errors: ${esc(heldOutSummary(rows))}.</p>${table}`,
    charts: [chart(rows)],
    collapseChartsAfter: 0,
  };
}
