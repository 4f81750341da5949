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

/** A quantitative axis for a share of exits: 0 to 100%, printed as percent. */
export function shareAxis(field: string, title: string) {
  return { field, type: 'quantitative', title, axis: { format: '%' }, scale: { domain: [0, 1] } };
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
function claimChart(r: Results): Chart | undefined {
  if (r.claim.workloads.length === 0) return undefined;
  const data = r.claim.workloads.map((c) => ({
    workload: c.workload,
    mean: c.skipRate.mean,
    lo: c.interval.lo,
    hi: c.interval.hi,
    verdict: c.verdict,
  }));
  const [lo, hi] = r.claim.band;
  return {
    id: 'claim',
    title: 'Claim check: exits that skip the FP/SIMD switch under the 2015 lazy switch',
    shows: `Skip rate of lazy-fixed per workload (mean; interval: 95% over seeds widened by the held-out model error) against the claimed ${lo * 100}-${hi * 100}% band (shaded).`,
    spec: {
      width: WIDTH,
      height: 190,
      layer: [
        bandLayer(lo, hi, 0.4),
        {
          data: { values: data },
          layer: [
            {
              mark: { type: 'rule', strokeWidth: 2 },
              encoding: {
                x: { field: 'workload', type: 'nominal', title: 'workload' },
                y: shareAxis('lo', 'skipping the switch (%)'),
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

/** Half-width of an estimate's 95% interval (the larger side, since shares are clipped). */
function half(e: { mean: number; lo: number; hi: number }): number {
  return Math.max(e.hi - e.mean, e.mean - e.lo);
}

function hackbenchFirst(workloads: readonly string[]): string {
  return workloads.includes('hackbench') ? 'hackbench' : workloads[0];
}

/**
 * Cycles per exit of each design minus eager's, per CPU, for a chosen workload, with a 95%
 * interval. The half-widths are combined as for independent estimates (sqrt(a^2 + b^2)):
 * conservative, since the designs share seeds (common random numbers).
 */
/** Per cell other than eager's: cycles per exit minus eager's, with its interval. */
function diffFromEager(r: Results) {
  const eager = new Map(
    r.cells
      .filter((c) => c.policy.split(':')[0] === 'eager')
      .map((c) => [`${c.workload}|${c.cpu}`, c]),
  );
  const data = r.cells.flatMap((c) => {
    const e = eager.get(`${c.workload}|${c.cpu}`);
    if (!e || e === c) return [];
    const diff = c.cyclesPerExit.mean - e.cyclesPerExit.mean;
    const h = Math.hypot(half(c.cyclesPerExit), half(e.cyclesPerExit));
    const fp = c.cyclesPerExit.mean - c.componentsPerExit.base.mean;
    return [
      {
        workload: c.workload,
        policy: c.policy.split(':')[0],
        cpu: c.cpu,
        diff,
        lo: diff - h,
        hi: diff + h,
        eager: e.cyclesPerExit.mean,
        fp,
        verdict: diff < 0 ? 'cheaper than eager' : 'dearer than eager',
      },
    ];
  });
  return data;
}

/** What hovering a bar of the difference-from-eager chart shows. */
const DIFF_TOOLTIP = [
  { field: 'policy' },
  { field: 'cpu' },
  { field: 'diff', format: ',.1f', title: 'minus eager (cycles)' },
  { field: 'lo', format: ',.1f', title: '95% low' },
  { field: 'hi', format: ',.1f', title: '95% high' },
  { field: 'eager', format: ',.1f', title: 'eager (cycles per exit)' },
  { field: 'fp', format: ',.1f', title: 'FP part (cycles per exit)' },
];

function componentsChart(r: Results): Chart | undefined {
  const data = diffFromEager(r);
  if (data.length === 0) return undefined;
  const workloads = [...new Set(data.map((d) => d.workload))];
  return {
    id: 'components',
    title: 'Cycles per exit against eager, per design and CPU',
    shows:
      "Each design's mean cycles per exit minus eager's on the same workload and CPU (below zero: cheaper), with a 95% interval over seeds; the world switch's own cost, the same for every design, cancels out.",
    spec: {
      data: { values: data },
      params: [selectParam('wl', 'workload', workloads, hackbenchFirst(workloads))],
      transform: [{ filter: 'datum.workload == wl' }],
      facet: { column: { field: 'cpu', type: 'nominal', title: 'CPU profile' } },
      spec: {
        width: 200,
        height: { step: 22 },
        layer: [
          {
            mark: 'bar',
            encoding: {
              y: { field: 'policy', type: 'nominal', title: null, sort: null },
              x: {
                field: 'diff',
                type: 'quantitative',
                title: 'minus eager (cycles per exit)',
                axis: { format: ',~r', tickCount: 4 },
              },
              color: {
                field: 'verdict',
                type: 'nominal',
                title: 'against eager',
                scale: {
                  domain: ['cheaper than eager', 'dearer than eager'],
                  range: ['#2ca02c', '#d62728'],
                },
              },
              tooltip: DIFF_TOOLTIP,
            },
          },
          {
            mark: { type: 'rule', color: 'black' },
            encoding: {
              y: { field: 'policy', type: 'nominal', sort: null },
              x: { field: 'lo', type: 'quantitative' },
              x2: { field: 'hi' },
            },
          },
        ],
      },
      resolve: { scale: { x: 'independent' } },
    },
  };
}

/**
 * Designs whose skip rate and trap rate coincide on every workload, merged under one
 * label ("lazy-v4 = lazy-fixed"); eager (never skips, never traps) is left out.
 */
function mergedDesigns(rows: Results['cells']): Map<string, string> {
  const byPolicy = new Map<string, string>();
  for (const c of rows) {
    const p = c.policy.split(':')[0];
    const sig = `${c.workload}:${c.skipRate.mean.toPrecision(9)}:${c.fpTrapsPer1000.mean.toPrecision(9)}`;
    byPolicy.set(p, `${byPolicy.get(p) ?? ''}|${sig}`);
  }
  const groups = new Map<string, string[]>();
  for (const [p, sig] of byPolicy) groups.set(sig, [...(groups.get(sig) ?? []), p]);
  const label = new Map<string, string>();
  for (const ps of groups.values()) for (const p of ps) label.set(p, ps.join(' = '));
  return label;
}

/** One panel of the skip/trap chart: horizontal bars per workload, one per design. */
function skipTrapPanel(field: string, title: string, format: string, designs: readonly string[]) {
  return {
    width: 330,
    height: 200,
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'workload', type: 'nominal', title: null },
          yOffset: { field: 'design', type: 'nominal', sort: designs },
          x: { field, type: 'quantitative', title, axis: { format } },
          color: {
            field: 'design',
            type: 'nominal',
            title: 'design',
            sort: designs,
            legend: { labelLimit: 420, orient: 'bottom', direction: 'vertical' },
          },
          tooltip: [
            { field: 'workload' },
            { field: 'design' },
            { field, format: format === '%' ? '.1%' : ',.1f', title },
            { field: `${field}Lo`, format: format === '%' ? '.1%' : ',.1f', title: '95% low' },
            { field: `${field}Hi`, format: format === '%' ? '.1%' : ',.1f', title: '95% high' },
          ],
        },
      },
    ],
  };
}

/** Skip rate and traps per 1,000 exits across designs (CPU-independent; one CPU's cells). */
function policyCharts(r: Results): Chart[] {
  const cpu = r.parameters.cpus[0];
  const rows = r.cells.filter((c) => c.cpu === cpu && c.policy.split(':')[0] !== 'eager');
  if (rows.length === 0) return [];
  const label = mergedDesigns(rows);
  const seen = new Set<string>();
  const data = rows.flatMap((c) => {
    const design = label.get(c.policy.split(':')[0]) ?? c.policy;
    if (seen.has(`${c.workload}|${design}`)) return [];
    seen.add(`${c.workload}|${design}`);
    return [
      {
        workload: c.workload,
        design,
        skip: c.skipRate.mean,
        skipLo: c.skipRate.lo,
        skipHi: c.skipRate.hi,
        traps: c.fpTrapsPer1000.mean,
        trapsLo: c.fpTrapsPer1000.lo,
        trapsHi: c.fpTrapsPer1000.hi,
      },
    ];
  });
  const designs = [...new Set(data.map((d) => d.design))];
  return [
    {
      id: 'skip-traps',
      title: 'Skip rate and FP traps across designs',
      shows:
        'Share of exits during which no FP/SIMD state was saved or restored, and FP traps to EL2 per 1,000 exits, per workload (the same on every CPU profile). Eager never skips and never traps, so it is left out; designs that coincide on every workload are drawn once.',
      spec: {
        data: { values: data },
        hconcat: [
          skipTrapPanel('skip', 'share of exits skipping the switch (%)', '%', designs),
          skipTrapPanel('traps', 'FP traps to EL2 per 1,000 exits', ',.0f', designs),
        ],
      },
    },
  ];
}

/** eager and lazy-fixed as dashed horizontal references in the sweep. */
const REFERENCE_LAYER = {
  transform: [{ filter: "datum.kind == 'reference'" }],
  mark: { type: 'rule', color: '#555' },
  encoding: {
    y: { field: 'cycles', type: 'quantitative' },
    strokeDash: {
      field: 'reference',
      type: 'nominal',
      title: 'reference',
      scale: {
        domain: ['eager', 'lazy-fixed'],
        range: [
          [6, 3],
          [2, 2],
        ],
      },
    },
    tooltip: [{ field: 'reference' }, { field: 'cycles', format: ',.1f' }],
  },
};

/** One CPU's panel of the sweep: a line per eagerRuns, the best point, eager and lazy-fixed. */
function sweepPanel(eagerRuns: readonly string[]) {
  return {
    width: 200,
    height: 190,
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
            title: 'cycles per exit (cycles)',
            scale: { zero: false },
          },
          color: {
            field: 'eagerRuns',
            type: 'ordinal',
            title: 'eagerRuns (runs)',
            sort: eagerRuns,
            scale: { domain: eagerRuns },
          },
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
      REFERENCE_LAYER,
    ],
  };
}

/** Threshold sweep of adaptive, best setting marked, per workload and CPU. */
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
  // Legend in numeric order (as strings, 16 < 256 < 64 otherwise).
  const eagerRuns = [...new Set(data.map((d) => Number(d.eagerRuns)))]
    .sort((a, b) => a - b)
    .map(String);
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
      params: [selectParam('sw', 'workload', workloads, hackbenchFirst(workloads))],
      transform: [{ filter: 'datum.workload == sw' }],
      facet: { column: { field: 'cpu', type: 'nominal', title: 'CPU profile' } },
      spec: sweepPanel(eagerRuns),
      resolve: { scale: { y: 'independent' } },
    },
  };
}

/** The break-even map's shaded region, where lazy wins: p < 1 / (1 + ratio). */
function lazyRegionLayer(maxRatio: number) {
  const steps = 60;
  const region = Array.from({ length: steps + 1 }, (_, i) => {
    const ratio = (maxRatio * i) / steps;
    return { ratio, p0: 0, p: 1 / (1 + ratio) };
  });
  return {
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
  };
}

/** Each workload on the break-even map at its FP-touch share and its CPU's cost ratio. */
function placementLayer(be: Results['breakEven']) {
  return {
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
  };
}

/** Break-even map: FP-touch probability against trap/switch cost ratio. */
function breakEvenChart(r: Results): Chart | undefined {
  const be = r.breakEven;
  if (be.analytic.length === 0) return undefined;
  const maxRatio = Math.max(2, ...be.analytic.map((a) => a.ratio * 1.5));
  return {
    id: 'breakeven',
    title: 'Break-even map: where lazy switching beats eager',
    shows:
      "Lazy wins (shaded) when p x trap < (1 - p) x switch; each workload sits at its share of FP-touching runs (x) and its CPU's trap/switch cost ratio (y).",
    spec: { width: WIDTH, height: 230, layer: [lazyRegionLayer(maxRatio), placementLayer(be)] },
  };
}

function throughputChart(r: Results): Chart | undefined {
  const t = r.throughput;
  if (!t) return undefined;
  const data = t.simulate.map((s) => ({
    workload: s.workload,
    policy: s.policy.split(':')[0],
    rate: s.walkRunsPerSecond / 1e6,
    ratio: s.ratio,
    stream: s.stream,
  }));
  return {
    id: 'throughput',
    title: 'Table walk throughput on one core, per workload and policy',
    shows:
      "Runs per second of the compiled table walk over each workload's own stream, for every built-in policy at its defaults; the tooltip gives walk / bare loop (a histogram of run classes over the same stream in the same process) and names the stream.",
    spec: {
      width: WIDTH,
      height: 170,
      data: { values: data },
      mark: 'bar',
      encoding: {
        x: { field: 'workload', type: 'nominal', title: 'workload', sort: null },
        xOffset: { field: 'policy', type: 'nominal', sort: null },
        y: { field: 'rate', type: 'quantitative', title: 'million runs per second' },
        color: { field: 'policy', type: 'nominal', title: 'policy', sort: null },
        tooltip: [
          { field: 'workload' },
          { field: 'policy' },
          { field: 'rate', format: ',.0f', title: 'M runs/s' },
          { field: 'ratio', format: '.2f', title: 'walk / bare' },
          { field: 'stream' },
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
    throughputChart(r),
  ].filter((c): c is Chart => c !== undefined);
}
