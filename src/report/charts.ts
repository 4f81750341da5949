/**
 * Vega-Lite specifications of the report's charts, built from `Results`. Every chart has
 * a title, axis titles with units, and a one-line "what this shows". Data is inline: the
 * page makes no request of any kind.
 */

import type { Results } from './results.js';

export interface Chart {
  readonly id: string;
  readonly title: string;
  /** One line: what the chart shows. */
  readonly shows: string;
  readonly spec: Record<string, unknown>;
}

const WIDTH = 640;

function selectParam(name: string, label: string, options: readonly string[], value: string) {
  return { name, value, bind: { input: 'select', options: [...options], name: `${label} ` } };
}

/** A shaded horizontal band from `lo` to `hi` (the claimed skip rates), as a chart layer. */
export function bandLayer(lo: number, hi: number, opacity = 0.35) {
  return {
    data: { values: [{ lo, hi }] },
    mark: { type: 'rect', color: '#9ecae1', opacity },
    encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
  };
}

/** Claim check: lazy-fixed skip rate per workload against the claimed band. */
// eslint-disable-next-line max-lines-per-function -- not split yet: the report page and its charts are reworked on branch report
function claimChart(r: Results): Chart | undefined {
  if (r.claim.length === 0) return undefined;
  const data = r.claim.map((c) => ({
    workload: c.workload,
    mean: c.skipRate.mean,
    lo: c.skipRate.lo,
    hi: c.skipRate.hi,
    verdict: c.verdict,
  }));
  const [lo, hi] = r.claim[0].band;
  return {
    id: 'claim',
    title: 'Claim check: exits that skip the FP/SIMD switch under the 2015 lazy switch',
    shows: `Skip rate of lazy-fixed per workload (mean and 95% interval over seeds) against the claimed ${lo * 100}-${hi * 100}% band (shaded).`,
    spec: {
      width: WIDTH,
      height: 260,
      layer: [
        bandLayer(lo, hi, 0.4),
        {
          data: { values: data },
          layer: [
            {
              mark: { type: 'rule', strokeWidth: 2 },
              encoding: {
                x: { field: 'workload', type: 'nominal', title: 'workload' },
                y: {
                  field: 'lo',
                  type: 'quantitative',
                  title: 'share of exits skipping the switch (%)',
                  axis: { format: '%' },
                  scale: { domain: [0, 1] },
                },
                y2: { field: 'hi' },
              },
            },
            {
              mark: { type: 'point', filled: true, size: 80 },
              encoding: {
                x: { field: 'workload', type: 'nominal' },
                y: { field: 'mean', type: 'quantitative' },
                color: {
                  field: 'verdict',
                  type: 'nominal',
                  title: 'against the band',
                  scale: {
                    domain: ['inside', 'overlaps', 'below', 'above'],
                    range: ['#2ca02c', '#ff7f0e', '#d62728', '#9467bd'],
                  },
                },
                tooltip: [
                  { field: 'workload' },
                  { field: 'mean', format: '.1%', title: 'skip rate' },
                  { field: 'lo', format: '.1%' },
                  { field: 'hi', format: '.1%' },
                  { field: 'verdict' },
                ],
              },
            },
          ],
        },
      ],
    },
  };
}

/** Cycles per exit by component, per policy and CPU, for a chosen workload. */
function componentsChart(r: Results): Chart | undefined {
  if (r.cells.length === 0) return undefined;
  const data = r.cells.flatMap((c) =>
    (Object.entries(c.componentsPerExit) as [string, { mean: number }][]).map(([component, e]) => ({
      workload: c.workload,
      policy: c.policy.split(':')[0],
      cpu: c.cpu,
      component,
      cycles: e.mean,
    })),
  );
  const workloads = [...new Set(r.cells.map((c) => c.workload))];
  return {
    id: 'components',
    title: 'Cycles per exit by component, per policy and CPU',
    shows:
      'Where each design spends its cycles per exit: the world switch itself (base), FP saves, FP restores, FP traps, and trap controls (CPTR_EL2/FPEXC32_EL2 writes, ISBs).',
    spec: {
      data: { values: data },
      params: [
        selectParam(
          'wl',
          'workload',
          workloads,
          workloads.includes('hackbench') ? 'hackbench' : workloads[0],
        ),
      ],
      transform: [{ filter: 'datum.workload == wl' }],
      facet: { column: { field: 'cpu', type: 'nominal', title: 'CPU profile' } },
      spec: {
        width: 200,
        height: 240,
        mark: 'bar',
        encoding: {
          x: { field: 'policy', type: 'nominal', title: 'policy', sort: null },
          y: { field: 'cycles', type: 'quantitative', title: 'cycles per exit', stack: 'zero' },
          color: {
            field: 'component',
            type: 'nominal',
            title: 'component',
            sort: ['base', 'fpSave', 'fpRestore', 'fpTrap', 'trapCtl'],
          },
          order: { field: 'component' },
          tooltip: [
            { field: 'policy' },
            { field: 'cpu' },
            { field: 'component' },
            { field: 'cycles', format: ',.1f' },
          ],
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}

/** Skip rate and traps per 1,000 exits across policies (CPU-independent; one CPU's cells). */
function policyCharts(r: Results): Chart[] {
  const cpu = r.parameters.cpus[0];
  const rows = r.cells.filter((c) => c.cpu === cpu);
  if (rows.length === 0) return [];
  const data = rows.map((c) => ({
    workload: c.workload,
    policy: c.policy.split(':')[0],
    skip: c.skipRate.mean,
    traps: c.fpTrapsPer1000.mean,
  }));
  const enc = (field: string, title: string, format?: string) => ({
    x: { field: 'workload', type: 'nominal', title: 'workload' },
    xOffset: { field: 'policy', type: 'nominal', sort: null },
    y: { field, type: 'quantitative', title, ...(format ? { axis: { format } } : {}) },
    color: { field: 'policy', type: 'nominal', title: 'policy', sort: null },
    tooltip: [
      { field: 'workload' },
      { field: 'policy' },
      { field, format: format === '%' ? '.1%' : ',.1f', title },
    ],
  });
  return [
    {
      id: 'skip',
      title: 'Skip rate across policies',
      shows:
        'Share of exits during which no FP/SIMD state was saved or restored, for each design and workload (the same on every CPU profile).',
      spec: {
        width: WIDTH,
        height: 260,
        data: { values: data },
        mark: 'bar',
        encoding: enc('skip', 'share of exits skipping the switch (%)', '%'),
      },
    },
    {
      id: 'traps',
      title: 'FP traps per 1,000 exits across policies',
      shows:
        'How often the guest traps to EL2 on its first FP access under each design (eager never traps).',
      spec: {
        width: WIDTH,
        height: 260,
        data: { values: data },
        mark: 'bar',
        encoding: enc('traps', 'FP traps to EL2 per 1,000 exits'),
      },
    },
  ];
}

/** Threshold sweep of adaptive, best setting marked, per workload and CPU. */
// eslint-disable-next-line max-lines-per-function -- not split yet: the report page and its charts are reworked on branch report
function sweepChart(r: Results): Chart | undefined {
  const t = r.tuning;
  if (!t || t.rows.length === 0) return undefined;
  const best = new Set(
    t.best.map((b) => `${b.workload}|${b.cpu}|${b.params.threshold}|${b.params.eagerRuns}`),
  );
  const data = t.rows
    .filter((row) => 'threshold' in row.params)
    .map((row) => ({
      workload: row.workload,
      cpu: row.cpu,
      threshold: row.params.threshold,
      eagerRuns: String(row.params.eagerRuns),
      cycles: row.cyclesPerExit.mean,
      best: best.has(`${row.workload}|${row.cpu}|${row.params.threshold}|${row.params.eagerRuns}`),
    }));
  const refs = t.best.flatMap((b) => [
    { workload: b.workload, cpu: b.cpu, reference: 'eager', cycles: b.eager },
    { workload: b.workload, cpu: b.cpu, reference: 'lazy-fixed', cycles: b.lazyFixed },
  ]);
  const workloads = [...new Set(data.map((d) => d.workload))];
  return {
    id: 'sweep',
    title: 'Adaptive threshold sweep',
    shows:
      'Cycles per exit of adaptive for each threshold (lines: eagerRuns), with eager and lazy-fixed as dashed references; the large dot marks the best setting for the workload and CPU.',
    spec: {
      data: {
        values: [
          ...data.map((d) => ({ ...d, kind: 'sweep' })),
          ...refs.map((d) => ({ ...d, kind: 'reference' })),
        ],
      },
      params: [
        selectParam(
          'sw',
          'workload',
          workloads,
          workloads.includes('hackbench') ? 'hackbench' : workloads[0],
        ),
      ],
      transform: [{ filter: 'datum.workload == sw' }],
      facet: { column: { field: 'cpu', type: 'nominal', title: 'CPU profile' } },
      spec: {
        width: 220,
        height: 240,
        layer: [
          {
            transform: [{ filter: "datum.kind == 'sweep'" }],
            mark: { type: 'line', point: false },
            encoding: {
              x: {
                field: 'threshold',
                type: 'quantitative',
                title: 'threshold (consecutive FP runs)',
              },
              y: {
                field: 'cycles',
                type: 'quantitative',
                title: 'cycles per exit',
                scale: { zero: false },
              },
              color: { field: 'eagerRuns', type: 'nominal', title: 'eagerRuns' },
            },
          },
          {
            transform: [{ filter: "datum.kind == 'sweep' && datum.best" }],
            mark: { type: 'point', filled: true, size: 120, color: 'black' },
            encoding: {
              x: { field: 'threshold', type: 'quantitative' },
              y: { field: 'cycles', type: 'quantitative' },
              tooltip: [
                { field: 'threshold' },
                { field: 'eagerRuns' },
                { field: 'cycles', format: ',.1f', title: 'cycles per exit (best)' },
              ],
            },
          },
          {
            transform: [{ filter: "datum.kind == 'reference'" }],
            mark: { type: 'rule', strokeDash: [4, 3] },
            encoding: {
              y: { field: 'cycles', type: 'quantitative' },
              color: { field: 'reference', type: 'nominal', title: 'reference' },
              tooltip: [{ field: 'reference' }, { field: 'cycles', format: ',.1f' }],
            },
          },
        ],
      },
      resolve: { scale: { y: 'independent', color: 'shared' } },
    },
  };
}

/** Break-even map: FP-touch probability against trap/switch cost ratio. */
// eslint-disable-next-line max-lines-per-function -- not split yet: the report page and its charts are reworked on branch report
function breakEvenChart(r: Results): Chart | undefined {
  const be = r.breakEven;
  if (be.analytic.length === 0) return undefined;
  const maxRatio = Math.max(2, ...be.analytic.map((a) => a.ratio * 1.5));
  const steps = 60;
  const region = Array.from({ length: steps + 1 }, (_, i) => {
    const ratio = (maxRatio * i) / steps;
    return { ratio, p0: 0, p: 1 / (1 + ratio) };
  });
  return {
    id: 'breakeven',
    title: 'Break-even map: where lazy switching beats eager',
    shows:
      "Lazy wins (shaded) when p x trap < (1 - p) x switch; each workload sits at its share of FP-touching runs (x) and its CPU's trap/switch cost ratio (y).",
    spec: {
      width: WIDTH,
      height: 320,
      layer: [
        {
          data: { values: region },
          mark: { type: 'area', orient: 'horizontal', color: '#a1d99b', opacity: 0.5 },
          encoding: {
            y: {
              field: 'ratio',
              type: 'quantitative',
              title: 'trap cost / switch cost (2 saves + 2 restores)',
              scale: { domain: [0, maxRatio] },
            },
            x: {
              field: 'p0',
              type: 'quantitative',
              title: 'probability that a run touches FP/SIMD',
              scale: { domain: [0, 1] },
            },
            x2: { field: 'p' },
          },
        },
        {
          data: {
            values: be.placements.map((p) => ({
              ...p,
              verdict: p.lazyWins ? 'lazy wins' : 'eager wins',
            })),
          },
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            x: { field: 'p', type: 'quantitative' },
            y: { field: 'ratio', type: 'quantitative' },
            color: { field: 'cpu', type: 'nominal', title: 'CPU profile' },
            shape: { field: 'verdict', type: 'nominal', title: 'on the simple line' },
            tooltip: [
              { field: 'workload' },
              { field: 'cpu' },
              { field: 'p', format: '.3f', title: 'FP-touch share' },
              { field: 'ratio', format: '.3f' },
              { field: 'verdict' },
            ],
          },
        },
      ],
    },
  };
}

function calibrationChart(r: Results): Chart | undefined {
  if (r.calibration.length === 0) return undefined;
  const data = r.calibration.flatMap((c) => [
    {
      anchor: `${c.cpu}: ${c.label}`,
      which: 'published',
      cycles: c.paperCycles,
      fitted: c.fitted ? 'fitted' : 'held out',
    },
    {
      anchor: `${c.cpu}: ${c.label}`,
      which: 'model',
      cycles: c.modelCycles,
      fitted: c.fitted ? 'fitted' : 'held out',
    },
  ]);
  return {
    id: 'calibration',
    title: 'Calibration: model against published round trips',
    shows:
      'Cycles of each published anchor next to what the model computes for the same exit and design; "fitted" anchors fixed a base cost, so they check the arithmetic, not the model.',
    spec: {
      width: WIDTH,
      height: 260,
      data: { values: data },
      mark: 'bar',
      encoding: {
        y: { field: 'anchor', type: 'nominal', title: 'anchor', sort: null },
        yOffset: { field: 'which', type: 'nominal' },
        x: { field: 'cycles', type: 'quantitative', title: 'cycles per round trip' },
        color: { field: 'which', type: 'nominal', title: '' },
        tooltip: [
          { field: 'anchor' },
          { field: 'which' },
          { field: 'cycles', format: ',.0f' },
          { field: 'fitted' },
        ],
      },
    },
  };
}

function throughputChart(r: Results): Chart | undefined {
  const t = r.throughput;
  if (!t) return undefined;
  const data = t.simulate.flatMap((s) => [
    { policy: s.policy.split(':')[0], loop: 'table walk', rate: s.walkRunsPerSecond / 1e6 },
    { policy: s.policy.split(':')[0], loop: 'bare loop', rate: s.bareRunsPerSecond / 1e6 },
  ]);
  return {
    id: 'throughput',
    title: 'Simulator throughput on one core',
    shows:
      'Runs per second of the compiled table walk for each policy, beside a bare loop over the same typed array (a histogram of run classes) in the same process.',
    spec: {
      width: WIDTH,
      height: 220,
      data: { values: data },
      mark: 'bar',
      encoding: {
        x: { field: 'policy', type: 'nominal', title: 'policy', sort: null },
        xOffset: { field: 'loop', type: 'nominal' },
        y: { field: 'rate', type: 'quantitative', title: 'million runs per second' },
        color: { field: 'loop', type: 'nominal', title: '' },
        tooltip: [
          { field: 'policy' },
          { field: 'loop' },
          { field: 'rate', format: ',.0f', title: 'M runs/s' },
        ],
      },
    },
  };
}

/** Every chart the report draws, in page order (extra charts come from other sections). */
export function buildCharts(r: Results, extra: readonly Chart[] = []): Chart[] {
  return [
    claimChart(r),
    componentsChart(r),
    ...policyCharts(r),
    sweepChart(r),
    breakEvenChart(r),
    ...extra,
    calibrationChart(r),
    throughputChart(r),
  ].filter((c): c is Chart => c !== undefined);
}
