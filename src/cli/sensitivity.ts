/** `fpswitch sensitivity`: how a guest workload's parameters move the skip rate, with the 30-50% band and the built-in workloads marked. */

import { CLAIM, claimPosition } from '../stream/claim.js';
import {
  parseSweepSpec,
  type SensitivityResult,
  sensitivity,
  type SweepPoint,
} from '../tune/sensitivity.js';
import { resolveWorkload } from '../stream/workload.js';
import { UserError } from '../util/errors.js';
import { num, pct, sig, table, termWidth } from '../util/format.js';
import type { Estimate } from '../util/stats.js';
import { intFlag, parse, seedFlag } from './args.js';

export const SENSITIVITY_HELP = `Usage: fpswitch sensitivity --workload <name|path> [--param <path>=<from>..<to>[:steps][:log|:lin]]...
                            [--policy <name>] [--cpu <name>] [--runs N] [--seeds K] [--seed S] [--json]

How a guest workload's parameters move a policy's skip rate (default lazy-fixed), against
the 30-50% band claimed by commit 33c76a0b8126 for lmbench and hackbench.

Without --param: every parameter is varied around its own value (x0.5 and x2; shares
halfway to 0 and to 1) and ranked by how much it moves the skip rate; the two that move
it most are swept (rates x0.1 .. x10 on a log scale, shares 0 .. 1). With one --param: a
curve; with two: a grid. Each point is simulated over --seeds seeds (95% intervals). The
built-in guest workloads are marked with their own values and skip rates.

  --param    a parameter path of the workload file (vms[0].tasks.simdShare) or, without
             the vms[i]. prefix, the field in every VM (tasks.simdShare); e.g.
             --param scheduler.switchesPerSec=1e3..1e6:13
  --runs     runs per point and seed (default 200,000); --seeds: default 3
  --json     one JSON object with every number

Examples:
  fpswitch sensitivity --workload hackbench
  fpswitch sensitivity --workload lmbench-ctx --param scheduler.switchesPerSec=1e3..1e6:13:log
  fpswitch sensitivity --workload ./my-guest.json --policy lazy-vcpu --runs 100000 --json`;

const est = (e: Estimate) =>
  e.n > 1 ? `${pct(e.mean)} [${pct(e.lo)} .. ${pct(e.hi)}]` : pct(e.mean);
/** Where an interval lies relative to the band, with the side when outside. */
function band(e: Estimate): string {
  const p = claimPosition(e.lo, e.hi);
  return p.position === 'inside'
    ? 'inside'
    : p.position === 'overlapping'
      ? 'overlaps'
      : `outside (${p.side})`;
}

/** A bar from 0 to 100% with the 30-50% band marked. */
/** Characters of the text bar: 40, or 20 on a terminal narrower than 120 columns. */
const barWidth = () => (termWidth() < 120 ? 20 : 40);

function bar(x: number): string {
  const width = barWidth();
  const cells: string[] = Array.from({ length: width }, (_, i) =>
    i >= CLAIM.lo * width && i < CLAIM.hi * width ? '.' : ' ',
  );
  const k = Math.min(width - 1, Math.max(0, Math.round(x * width)));
  cells[k] = '#';
  return `|${cells.join('')}|`;
}

/** A parameter value: thousands separators, at most four significant digits (101,500; 0.0123). */
function fmtValue(x: number): string {
  return sig(x, 4);
}

/** The parameters ranked by effect: the top twelve, each at its low and high value. */
function pushRanking(out: string[], r: SensitivityResult): void {
  if (r.ranking.length > 0) {
    out.push(
      '',
      'parameters ranked by how much they move the skip rate (each at its low and high value):',
    );
    out.push(
      table(
        ['path', 'value', 'low', 'skip', 'high', 'skip', 'effect'],
        r.ranking
          .slice(0, 12)
          .map((p) => [
            p.path,
            fmtValue(p.value),
            fmtValue(p.low),
            pct(p.skipLow),
            fmtValue(p.high),
            pct(p.skipHigh),
            `${(p.effect * 100).toFixed(1)} pt`,
          ]),
        { indent: '  ' },
      ),
    );
  }
}

/** One sweep as a table with a bar per point, and a 1-D sweep's crossings of the band. */
function pushSweep(out: string[], s: SensitivityResult['sweeps'][number]): void {
  const names = s.params.map((p) => p.path);
  out.push(
    '',
    `sweep of ${names.join(' x ')} (${s.params.map((p) => `${p.scale} ${fmtValue(p.from)} .. ${fmtValue(p.to)}`).join(' x ')}):  band 30-50% shown as dots`,
  );
  const rows = s.points.map((p: SweepPoint) => [
    ...p.values.map(fmtValue),
    p.switchesPerExit.toFixed(2),
    est(p.skip),
    band(p.skip),
    bar(p.skip.mean),
  ]);
  out.push(
    table(
      [...names, 'switches/exit', 'skip rate', 'band', '0%' + ' '.repeat(barWidth() - 4) + '100%'],
      rows,
      { indent: '  ' },
    ),
  );
  if (s.params.length === 1) {
    const lo = s.crossings.filter((c) => c.level === CLAIM.lo).map((c) => fmtValue(c.value));
    const hi = s.crossings.filter((c) => c.level === CLAIM.hi).map((c) => fmtValue(c.value));
    if (lo.length + hi.length === 0)
      out.push(`  the skip rate does not cross 30% or 50% over this range`);
    else
      out.push(
        `  crosses 30% at ${names[0]} = ${lo.join(', ') || '-'}; 50% at ${hi.join(', ') || '-'}`,
      );
  }
}

/** The built-in guest workloads' own values on the swept axes. */
function pushMarkers(out: string[], r: SensitivityResult): void {
  if (r.markers.length > 0) {
    const paths = [
      ...new Set(r.sweeps.flatMap((s) => s.params.map((p) => p.path.replace(/^vms\[\d+\]\./, '')))),
    ];
    out.push('', 'built-in guest workloads on these axes (their own parameters):');
    out.push(
      table(
        ['workload', ...paths, 'switches/exit', 'SIMD share', 'skip rate', 'band'],
        r.markers.map((m) => [
          m.workload,
          ...m.values.slice(0, paths.length).map((v) => (v === null ? '-' : fmtValue(v))),
          m.switchesPerExit.toFixed(2),
          String(m.simdShare),
          est(m.skip),
          band(m.skip),
        ]),
        { indent: '  ' },
      ),
    );
  }
}

function formatSensitivity(r: SensitivityResult): string {
  const out: string[] = [];
  out.push(
    `sensitivity of the ${r.policy} skip rate: workload ${r.workload} (${num(r.runs)} runs x ${r.seeds} seeds per point)`,
  );
  out.push(
    `  at its own parameters: skip ${est(r.base.skip)}, ${r.base.switchesPerExit.toFixed(2)} guest context switches per exit, SIMD share ${r.base.simdShare}: ${band(r.base.skip).toUpperCase()} the claimed 30-50% band`,
  );
  pushRanking(out, r);
  for (const s of r.sweeps) pushSweep(out, s);
  pushMarkers(out, r);
  return out.join('\n');
}

export async function sensitivityCommand(argv: readonly string[]): Promise<number> {
  const { values } = parse('sensitivity', argv, {
    workload: { type: 'string', short: 'w' },
    param: { type: 'string', multiple: true },
    policy: { type: 'string', short: 'p' },
    cpu: { type: 'string', short: 'c' },
    runs: { type: 'string', short: 'n' },
    seeds: { type: 'string' },
    seed: { type: 'string', short: 's' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(SENSITIVITY_HELP);
    return 0;
  }
  if (!values.workload)
    throw new UserError('--workload is required (see fpswitch sensitivity --help)');
  const params = (values.param ?? []).map(parseSweepSpec);
  if (params.length > 2) throw new UserError('at most two --param (a curve or a grid)');
  const r = await sensitivity({
    workload: resolveWorkload(values.workload),
    params,
    policy: values.policy,
    cpu: values.cpu,
    runs: intFlag('runs', values.runs, 200_000, 1000, 1e9),
    seeds: intFlag('seeds', values.seeds, 3, 1, 100),
    seed: seedFlag(values.seed),
  });
  console.log(values.json ? JSON.stringify(r, null, 2) : formatSensitivity(r));
  return 0;
}
