/**
 * The report's sensitivity section: the lazy switch's skip rate along the parameters that
 * move it most, per claim workload, with the 30-50% band and the built-in workloads placed
 * on the same axes (from `fpswitch sensitivity`, src/tune/sensitivity.ts).
 */

import type { SensitivityResult, Sweep } from '../tune/sensitivity.js';
import { pct, sig } from '../util/format.js';
import { longTable } from './collapse.js';
import { CLAIM } from '../stream/claim.js';
import { bandLayer, type Chart, shareAxis } from './charts.js';
import { esc, type ExtraSection } from './html.js';

/** One swept parameter's panel data: the sweep's points and the built-in workloads at their
 * own values (a log axis cannot show a value of 0, e.g. no context switches at all). */
function panelData(r: SensitivityResult, s: Sweep, sweepIndex: number) {
  const p = s.params[0];
  const short = p.path.replace(/^vms\[\d+\]\./, '');
  const points = s.points.map((pt) => ({
    x: pt.values[0],
    mean: pt.skip.mean,
    lo: pt.skip.lo,
    hi: pt.skip.hi,
    switchesPerExit: pt.switchesPerExit,
  }));
  const markers = r.markers
    .map((m) => ({
      workload: m.workload,
      x: m.values[sweepIndex] ?? null,
      mean: m.skip.mean,
    }))
    .filter((m) => m.x !== null && (p.scale !== 'log' || m.x > 0));
  const xScale = p.scale === 'log' ? { type: 'log' } : { type: 'linear' };
  return { short, points, markers, xScale, xTitle: `${short} (workload parameter)` };
}

/** The built-in workloads at their own values: diamonds over a sweep panel. */
function markerLayer(
  markers: ReturnType<typeof panelData>['markers'],
  xScale: { type: string },
  short: string,
) {
  return {
    data: { values: markers },
    layer: [
      {
        mark: { type: 'point', shape: 'diamond', size: 90, filled: true },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xScale },
          y: { field: 'mean', type: 'quantitative' },
          color: { field: 'workload', type: 'nominal', title: 'built-in workload' },
          tooltip: [
            { field: 'workload' },
            { field: 'x', title: short, format: ',.4~r' },
            { field: 'mean', format: '.1%', title: 'skip rate' },
          ],
        },
      },
    ],
  };
}

/** One swept parameter's panel: the claim band, the sweep with 95% intervals, the markers. */
function sweepPanel(r: SensitivityResult, s: Sweep, sweepIndex: number): Chart['spec'] {
  const { short, points, markers, xScale, xTitle } = panelData(r, s, sweepIndex);
  return {
    width: 300,
    height: 160,
    title: short,
    layer: [
      bandLayer(CLAIM.lo, CLAIM.hi),
      {
        data: { values: points },
        layer: [
          {
            mark: { type: 'line' },
            encoding: {
              x: { field: 'x', type: 'quantitative', scale: xScale, title: xTitle },
              y: shareAxis('mean', 'lazy-fixed skip rate (%)'),
            },
          },
          {
            mark: { type: 'rule' },
            encoding: {
              x: { field: 'x', type: 'quantitative', scale: xScale },
              y: { field: 'lo', type: 'quantitative' },
              y2: { field: 'hi' },
            },
          },
          {
            mark: { type: 'point', filled: true },
            encoding: {
              x: { field: 'x', type: 'quantitative', scale: xScale },
              y: { field: 'mean', type: 'quantitative' },
              tooltip: [
                { field: 'x', title: short, format: ',.3~f' },
                { field: 'mean', title: 'skip rate', format: '.1%' },
                { field: 'switchesPerExit', title: 'switches per exit', format: '.2f' },
              ],
            },
          },
        ],
      },
      markerLayer(markers, xScale, short),
    ],
  };
}

function chartFor(r: SensitivityResult, index: number): Chart | undefined {
  const sweeps = r.sweeps.filter((s) => s.params.length === 1 && s.points.length > 0);
  if (sweeps.length === 0) return undefined;
  const panels = sweeps.map((s, k) => sweepPanel(r, s, k));
  return {
    id: `sensitivity-${index}`,
    title: `Sensitivity of the skip rate: ${r.workload}`,
    shows: `The lazy-fixed skip rate of ${r.workload} (line, 95% intervals) as each of the parameters that move it most varies around its own value; the shaded band is 30-50%, diamonds are the built-in workloads at their own values (legend).`,
    spec: { hconcat: panels },
  };
}

/** Builds the section from the suite's sensitivity results. */
export function sensitivitySection(
  results: readonly SensitivityResult[],
): ExtraSection | undefined {
  if (results.length === 0) return undefined;
  const prose = results
    .map((r) => {
      const cross = r.sweeps
        .flatMap((s) =>
          s.crossings.map(
            (c) => `${esc(s.params[0].path)} = ${sig(c.value)} for ${(c.level * 100).toFixed(0)}%`,
          ),
        )
        .join('; ');
      return `<li><b>${esc(r.workload)}</b>: base skip rate ${pct(r.base.skip.mean)} [${pct(r.base.skip.lo)} .. ${pct(r.base.skip.hi)}] (${esc(r.base.position)} the band), ${r.base.switchesPerExit.toFixed(2)} guest context switches per exit. ${cross ? `The band is crossed at ${cross}.` : 'The swept ranges do not cross the band.'}</li>`;
    })
    .join('');
  const rows = results.flatMap((r) =>
    r.ranking
      .slice(0, 5)
      .map((p) => [
        esc(r.workload),
        esc(p.path),
        sig(p.value),
        esc(`${sig(p.low)} .. ${sig(p.high)}`),
        `${pct(p.skipLow)} .. ${pct(p.skipHigh)}`,
        `${(p.effect * 100).toFixed(1)} points`,
      ]),
  );
  const tables = `<ul>${prose}</ul>${longTable('Parameters ranked by effect (top five per workload)', ['workload', 'parameter', 'value', 'varied over', 'skip rate', 'effect'], rows)}`;
  return {
    id: 'sensitivity',
    title: 'Sensitivity',
    html: `<p>Which workload parameters move the lazy switch's skip rate, and how far each would have to move to reach the claimed band. Parameters were ranked by varying each one around its own value with common random numbers; the top two are swept.</p>${tables}`,
    charts: results.map((r, i) => chartFor(r, i)).filter((c): c is Chart => c !== undefined),
    collapseChartsAfter: 1,
  };
}
