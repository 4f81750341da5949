/**
 * The report's sensitivity section: the lazy switch's skip rate along the parameters that
 * move it most, per claim workload, with the 30-50% band and the built-in workloads placed
 * on the same axes (from `fpswitch sensitivity`, src/tune/sensitivity.ts).
 */

import type { SensitivityResult } from '../tune/sensitivity.js';
import { pct } from '../util/format.js';
import { CLAIM, CLAIM_BAND } from '../stream/claim.js';
import { bandLayer, type Chart } from './charts.js';
import { esc, type ExtraSection } from './html.js';

// eslint-disable-next-line max-lines-per-function -- not split yet: the report page and its charts are reworked on branch report
function chartFor(r: SensitivityResult, index: number): Chart | undefined {
  const sweeps = r.sweeps.filter((s) => s.params.length === 1 && s.points.length > 0);
  if (sweeps.length === 0) return undefined;
  // eslint-disable-next-line max-lines-per-function -- not split yet: the report page and its charts are reworked on branch report
  const panels = sweeps.map((s) => {
    const p = s.params[0];
    const short = p.path.replace(/^vms\[\d+\]\./, '');
    const points = s.points.map((pt) => ({
      x: pt.values[0],
      mean: pt.skip.mean,
      lo: pt.skip.lo,
      hi: pt.skip.hi,
      switchesPerExit: pt.switchesPerExit,
    }));
    // A log axis cannot show a workload whose value is 0 (e.g. no context switches at all).
    const markers = r.markers
      .map((m) => ({
        workload: m.workload,
        x: m.values[sweeps.indexOf(s)] ?? null,
        mean: m.skip.mean,
      }))
      .filter((m) => m.x !== null && (p.scale !== 'log' || m.x > 0));
    const xScale = p.scale === 'log' ? { type: 'log' } : { type: 'linear' };
    const xTitle = `${short} (workload parameter)`;
    return {
      width: 300,
      height: 220,
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
                y: {
                  field: 'mean',
                  type: 'quantitative',
                  title: 'lazy-fixed skip rate (%)',
                  axis: { format: '%' },
                  scale: { domain: [0, 1] },
                },
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
        {
          data: { values: markers },
          layer: [
            {
              mark: { type: 'point', shape: 'diamond', size: 90, color: '#d62728' },
              encoding: {
                x: { field: 'x', type: 'quantitative', scale: xScale },
                y: { field: 'mean', type: 'quantitative' },
                tooltip: [
                  { field: 'workload' },
                  { field: 'x', title: short },
                  { field: 'mean', format: '.1%', title: 'skip rate' },
                ],
              },
            },
            {
              mark: { type: 'text', dy: -10, fontSize: 10, color: '#d62728' },
              encoding: {
                x: { field: 'x', type: 'quantitative', scale: xScale },
                y: { field: 'mean', type: 'quantitative' },
                text: { field: 'workload' },
              },
            },
          ],
        },
      ],
    };
  });
  return {
    id: `sensitivity-${index}`,
    title: `Sensitivity of the skip rate: ${r.workload}`,
    shows: `The lazy-fixed skip rate of ${r.workload} (line, 95% intervals) as each of the parameters that move it most varies around its own value; the shaded band is ${CLAIM_BAND}, red diamonds are the built-in workloads at their own values.`,
    spec: { hconcat: panels },
  };
}

/** Builds the section from the suite's sensitivity results. */
export function sensitivitySection(
  results: readonly SensitivityResult[],
): ExtraSection | undefined {
  if (results.length === 0) return undefined;
  const tables = results
    .map((r) => {
      const rank = r.ranking
        .slice(0, 5)
        .map(
          (p) =>
            `<tr><td>${esc(p.path)}</td><td>${esc(p.value)}</td><td>${esc(`${p.low} .. ${p.high}`)}</td><td>${pct(p.skipLow)} .. ${pct(p.skipHigh)}</td><td>${(p.effect * 100).toFixed(1)} points</td></tr>`,
        )
        .join('');
      const cross = r.sweeps
        .flatMap((s) =>
          s.crossings.map(
            (c) =>
              `${esc(s.params[0].path)} = ${esc(c.value.toPrecision(4))} for ${(c.level * 100).toFixed(0)}%`,
          ),
        )
        .join('; ');
      return `<h3>${esc(r.workload)}</h3><p>Base skip rate ${pct(r.base.skip.mean)} [${pct(r.base.skip.lo)} .. ${pct(r.base.skip.hi)}] (${esc(r.base.position)} the band), ${r.base.switchesPerExit.toFixed(2)} guest context switches per exit. ${cross ? `The band is crossed at ${cross}.` : 'The swept ranges do not cross the band.'}</p>
<table><thead><tr><th>parameter (most effect first)</th><th>value</th><th>varied over</th><th>skip rate</th><th>effect</th></tr></thead><tbody>${rank}</tbody></table>`;
    })
    .join('');
  return {
    id: 'sensitivity',
    title: 'Sensitivity',
    html: `<p>Which workload parameters move the lazy switch's skip rate, and how far each would have to move to reach the claimed band. Parameters were ranked by varying each one around its own value with common random numbers; the top two are swept.</p>${tables}`,
    charts: results.map((r, i) => chartFor(r, i)).filter((c): c is Chart => c !== undefined),
  };
}
