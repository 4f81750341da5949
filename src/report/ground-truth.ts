/**
 * The report's "Ground truth" section: the model held against a real KVM arm64 host
 * (Debian's 6.1 kernel under QEMU TCG, validation/README.md). It renders
 * `Results.groundTruth`, which `npm run bench` fills from the committed
 * validation/results.json (the harness's `comparison`), with the model side recomputed
 * from the workload files (validation/lib/model-side.ts). Every string is escaped; a
 * missing or malformed ground truth renders nothing.
 */

import {
  CLAIM,
  CLAIM_BAND,
  type ClaimRow,
  type HeldOutCellError,
  type HeldOutError,
  heldOutError,
  NO_ICOUNT_REASON,
} from '../stream/claim.js';
import { workloadTemplate } from '../stream/guest-configs.js';
import { bandLayer, type Chart, shareAxis } from './charts.js';
import { esc, type ExtraSection } from './html.js';
import { longTable } from './collapse.js';

/** What one model (a workload, generated or conditioned on a real trace) says about a configuration. */
export interface GtModelNumbers {
  /** The workload's name. */
  readonly workload: string;
  /** Its file, relative to the repository. */
  readonly file: string;
  /** `generated`: the workload's own exit stream; `trace`: the real trace's exits, puts and run lengths, with this FP model. */
  readonly source: 'generated' | 'trace';
  /** The FP model (trace) or the workload (generated), one line. */
  readonly fp: string;
  readonly runs: number;
  readonly seed: number;
  /** Exits per second of guest run time (kvm_entry to kvm_exit). */
  readonly exitsPerSec: number;
  /** Share of exits by class (EC name or exception type). */
  readonly exitMix: Readonly<Record<string, number>>;
  /** The 2015 design (lazy-fixed): share of exits that skip the FP/SIMD switch. */
  readonly skip2015: number;
  /** The 6.1 design (lazy-vcpu): FP traps to EL2 per exit. */
  readonly trapsPerExit61: number;
  readonly fpTraps61: number;
  /** Shares of runs touching FP at guest EL0, at guest EL1, at all. */
  readonly fpUse: { readonly el0: number; readonly el1: number; readonly any: number };
  /** vcpu_puts per exit (after exits handled in the kernel, plus exits to userspace). */
  readonly putsPerExit: number;
}

/** One scripted guest program in one KVM mode: real FP traps against lazy-vcpu's prediction from the real trace. */
export interface GtScriptedRow {
  readonly program: string;
  readonly mode: 'vhe' | 'nvhe';
  readonly el1: 'aarch64' | 'aarch32';
  readonly boot: string;
  readonly iterations: number;
  /** kvm_exit events in the window, by class. */
  readonly exits: number;
  readonly exitsByClass: Readonly<Record<string, number>>;
  readonly userspaceExits: number;
  /** vcpu_puts the importer found from sched_switch (vCPU thread switched out between an exit and its next entry). */
  readonly schedPuts: number;
  /** Real FP/SIMD traps to EL2 (QEMU's exception log, EC 0x07). */
  readonly realFpTraps: number;
  /** lazy-vcpu over the imported trace with the program's known FP use. */
  readonly predictedFpTraps: number;
  /** The same with the sched_switch events left out (kvm events only). */
  readonly predictedKvmEventsOnly: number;
  readonly agree: boolean;
  readonly fp: string;
}

/** What was measured in one Linux L2 window. */
interface GtLinuxReal {
  /** Window length and guest run time (sum of kvm_entry..kvm_exit), seconds of L1's clock. */
  readonly windowSec: number;
  readonly guestRunSec: number;
  readonly exits: number;
  /** Exits per second of guest run time, and per second of the window. */
  readonly exitsPerSec: number;
  readonly exitsPerWindowSec: number;
  readonly exitMix: Readonly<Record<string, number>>;
  /** Share of kvm runs executing any FP/SIMD instruction (TCG plugin); the 2015 design's skip rate is 1 minus it. */
  readonly fpRunShare: number | null;
  readonly skip2015: number | null;
  readonly fpEl0Share: number | null;
  readonly fpEl1Share: number | null;
  /** Real FP traps to EL2 under the 6.1 kernel, and per exit. */
  readonly fpTraps61: number | null;
  readonly trapsPerExit61: number | null;
  /** vcpu_puts from sched_switch, per exit. */
  readonly vcpuPuts: number;
  readonly putsPerExit: number;
  /** Context switches the guest counted (/proc/stat ctxt) over the window. */
  readonly guestContextSwitches: number | null;
}

export interface GtLinuxRow {
  readonly workload: string;
  readonly mode: 'vhe' | 'nvhe';
  readonly icount: boolean;
  readonly boot: string;
  readonly command: string;
  readonly real: GtLinuxReal;
  /** lazy-vcpu over the real trace with each run touching FP with the measured share (Bernoulli): the put mechanism alone. */
  readonly traceMeasuredShare: GtModelNumbers | null;
  /** The real trace with the validation workload's task model deciding FP use. */
  readonly traceModel: GtModelNumbers | null;
  /** The validation workload describing the measured configuration, generated. */
  readonly validationModel: GtModelNumbers | null;
  /** The matching built-in workload (native SMP guest), generated. */
  readonly builtinModel: GtModelNumbers | null;
  /** The cell predicted from its configuration alone (a parametrised built-in), training or held out. */
  readonly configModel?: GtConfigModel;
}

/** One measured Linux cell predicted from its configuration (a parametrised built-in). */
export interface GtConfigModel {
  /** The workload spec built from the cell's configuration alone, or null when none describes it. */
  readonly spec: string | null;
  /** The spec is a built-in at its own defaults, not built from the cell's configuration (fp-heavy-aarch32 against the armhf guest). */
  readonly builtinOnly?: true;
  /** Whether the model's constants were fitted on this cell (validation/training.json). */
  readonly role: 'training' | 'held-out';
  readonly model: GtModelNumbers | null;
  /** model - real (2015 skip rate), model / real - 1 (6.1 FP traps per exit). */
  readonly skipError: number | null;
  readonly trapsRelError: number | null;
  /** The issue's tolerance: |skip error| <= 0.05 and traps within 25% (or 3 traps where fewer than 12 were taken). */
  readonly withinTolerance: boolean | null;
}

/** What configModel needs of a measured cell: its id and real totals. */
export interface GtMeasured {
  readonly boot: string;
  readonly workload: string;
  readonly icount: boolean;
  readonly real: {
    readonly exits: number | null;
    readonly skip2015: number | null;
    readonly fpTraps61: number | null;
    readonly trapsPerExit61: number | null;
  };
}

/** One cell of the wider -icount matrix (validation/fixtures/runs/cells.json) and its prediction. */
export interface GtMatrixRow extends GtMeasured {
  readonly mode: 'vhe' | 'nvhe';
  /** The guest configuration the harness ran (vCPUs, bench, groups, ...). */
  readonly guest: Readonly<Record<string, unknown>> | null;
  readonly real: GtMeasured['real'] & {
    /** Share of exits by class (the importer's names). */
    readonly exitMix?: Readonly<Record<string, number>>;
    /** Guest FPEXC reads and writes (VMRS/VMSR, TCG plugin) per exit: AArch32 guests only. */
    readonly fpexcAccessesPerExit?: number | null;
  };
  readonly configModel: GtConfigModel;
}

export interface GroundTruth {
  readonly schema: 'fpswitch-ground-truth';
  readonly version: 1;
  /** Where the measurements come from. */
  readonly source: {
    readonly file: string;
    readonly generatedAt: string;
    readonly quick: boolean;
    readonly kernel: string;
    readonly qemu: string;
  };
  readonly scripted: readonly GtScriptedRow[];
  readonly linux: readonly GtLinuxRow[];
  /** The wider -icount matrix with per-run fixtures (validation/fixtures/runs/cells.json), when present. */
  readonly matrix?: readonly GtMatrixRow[];
  /** When the generated model numbers were computed (the bench recomputes them from the workload files). */
  readonly modelComputed: 'harness' | 'bench';
}

/** Narrows `Results.groundTruth`; anything else is not shown. */
export function isGroundTruth(x: unknown): x is GroundTruth {
  if (typeof x !== 'object' || x === null) return false;
  const g = x as Partial<GroundTruth>;
  return (
    g.schema === 'fpswitch-ground-truth' &&
    g.version === 1 &&
    Array.isArray(g.scripted) &&
    Array.isArray(g.linux) &&
    typeof g.source === 'object'
  );
}

const pct = (x: number | null | undefined, d = 1) =>
  x === null || x === undefined ? '-' : `${(x * 100).toFixed(d)}%`;
const fix = (x: number | null | undefined, d = 3) =>
  x === null || x === undefined ? '-' : x.toFixed(d);
const int = (x: number | null | undefined) =>
  x === null || x === undefined ? '-' : Math.round(x).toLocaleString('en-US');

/** A long table: collapsed behind its row count, with a filter box. */
function table(label: string, header: readonly string[], rows: readonly (readonly string[])[]) {
  return longTable(label, header.map(esc), rows, 'small');
}

function mixText(m: Readonly<Record<string, number>> | undefined): string {
  if (!m) return '-';
  return Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .filter(([, v]) => v >= 0.001)
    .map(([k, v]) => `${esc(k)} ${pct(v)}`)
    .join(', ');
}

function scriptedTable(g: GroundTruth): string {
  const rows = g.scripted.map((s) => [
    esc(s.program),
    esc(s.mode),
    esc(s.el1),
    int(s.exits),
    mixText(
      Object.fromEntries(
        Object.entries(s.exitsByClass).map(([k, v]) => [k, s.exits ? v / s.exits : 0]),
      ),
    ),
    int(s.userspaceExits),
    int(s.schedPuts),
    int(s.realFpTraps),
    int(s.predictedFpTraps),
    int(s.predictedKvmEventsOnly),
    s.agree ? '<span class="ok">agree</span>' : '<span class="bad">differ</span>',
  ]);
  return table(
    'Scripted guests, per program and mode',
    [
      'program',
      'mode',
      'EL1',
      'exits',
      'exit mix',
      'to userspace',
      'puts (sched_switch)',
      'real FP traps',
      'lazy-vcpu predicts',
      'kvm events only',
      '',
    ],
    rows,
  );
}

function linuxTable(g: GroundTruth): string {
  const rows = g.linux.map((l) => {
    const v = l.validationModel;
    const b = l.builtinModel;
    const t = l.traceModel;
    const m = l.traceMeasuredShare;
    return [
      esc(l.workload),
      esc(l.mode),
      l.icount ? 'on' : 'off',
      `${int(l.real.exitsPerSec)} | ${int(v?.exitsPerSec)} | ${int(b?.exitsPerSec)}`,
      `${mixText(l.real.exitMix)}<br><span class="na">model: ${mixText(v?.exitMix)}</span>`,
      `${pct(l.real.skip2015)} | ${pct(t?.skip2015)} | ${pct(v?.skip2015)} | ${pct(b?.skip2015)}`,
      `${pct(l.real.fpEl0Share)} / ${pct(l.real.fpEl1Share)} | ${pct(t?.fpUse.el0)} / ${pct(t?.fpUse.el1)}`,
      `${fix(l.real.trapsPerExit61, 4)} | ${fix(m?.trapsPerExit61, 4)} | ${fix(t?.trapsPerExit61, 4)} | ${fix(v?.trapsPerExit61, 4)} | ${fix(b?.trapsPerExit61, 4)}`,
      `${fix(l.real.putsPerExit, 4)} | ${fix(v?.putsPerExit, 4)}`,
    ];
  });
  return table(
    'Linux guests, per workload and mode',
    [
      'workload',
      'mode',
      '-icount',
      'exits/s of guest run time: real | validation model | built-in',
      'exit mix (real; validation model)',
      '2015 skip rate: real | trace+model | validation model | built-in',
      'runs with FP at EL0 / EL1: real | trace+model',
      '6.1 FP traps per exit: real | trace+measured share | trace+model | validation model | built-in',
      'vcpu_puts per exit: real | validation model',
    ],
    rows,
  );
}

/** Every Linux cell predicted from its configuration alone: training and held-out cells apart. */
/** Every cell predicted from its configuration: the Linux rows, then the matrix's. */
export function predictedCells(g: GroundTruth): (GtMeasured & { configModel?: GtConfigModel })[] {
  return [...g.linux, ...(g.matrix ?? [])];
}

/** The AArch32 cells (fp-heavy-aarch32 vs the armhf guest) and any held against a built-in at its defaults, with their exit mix. */
function builtinHeldNote(g: GroundTruth): string {
  return (g.matrix ?? [])
    .filter(
      (m) =>
        (m.configModel.builtinOnly || m.workload === 'fp-heavy-aarch32') && m.configModel.model,
    )
    .map((m) => {
      const model = m.configModel.model;
      const real = m.real.exitMix ?? {};
      const classes = [...new Set([...Object.keys(real), ...Object.keys(model?.exitMix ?? {})])];
      const mix = classes
        .map((k) => `${k} ${pct(real[k] ?? 0)} / ${pct(model?.exitMix[k] ?? 0)}`)
        .join(', ');
      const how = m.configModel.builtinOnly
        ? 'is held against the built-in <code>%s</code> at its own defaults (no parametrised workload takes its configuration)'
        : 'is predicted by <code>%s</code>, built from its configuration (the exits include the MVFR0 reads of its VFP saves and loads, CP10_ID)';
      return `<p>${esc(`${m.boot}/${m.workload}`)} ${how.replace('%s', esc(m.configModel.spec ?? ''))}: 2015 skip rate real ${pct(m.real.skip2015)}, model ${pct(model?.skip2015)}; 6.1 FP traps per exit real ${fix(m.real.trapsPerExit61, 4)}, model ${fix(model?.trapsPerExit61, 4)}; exits by class real / model: ${esc(mix)}; guest FPEXC accesses per exit (plugin) ${fix(m.real.fpexcAccessesPerExit, 2)}. ${m.configModel.withinTolerance ? 'Within tolerance.' : 'The model misses it.'}</p>`;
    })
    .join('');
}

function configTable(g: GroundTruth): string {
  const cells = predictedCells(g);
  const role = (r: 'training' | 'held-out', icount: boolean) =>
    cells.filter((l) => l.configModel?.role === r && l.icount === icount);
  const rows = (list: readonly (GtMeasured & { configModel?: GtConfigModel })[]) =>
    list.map((l) => {
      const c = l.configModel;
      const ok = c?.withinTolerance;
      return [
        esc(`${l.boot}/${l.workload}`),
        c?.spec
          ? `<code>${esc(c.spec)}</code>${c.builtinOnly ? ' <span class="na">(the built-in at its defaults: not built from this configuration)</span>' : ''}`
          : '<span class="na">not modelled (no parametrised workload describes it)</span>',
        `${pct(l.real.skip2015)} | ${pct(c?.model?.skip2015)} | ${fix(c?.skipError, 3)}`,
        `${fix(l.real.trapsPerExit61, 4)} | ${fix(c?.model?.trapsPerExit61, 4)} | ${c?.trapsRelError === null || c?.trapsRelError === undefined ? '-' : pct(c.trapsRelError)}`,
        ok === null || ok === undefined
          ? '-'
          : ok
            ? '<span class="ok">yes</span>'
            : '<span class="bad">no</span>',
      ];
    });
  const head = [
    'cell',
    'workload spec (from the configuration)',
    '2015 skip rate: real | model | error',
    '6.1 FP traps per exit: real | model | relative error',
    'within |error| <= 0.05 and traps within 25% (3 traps below 12)',
  ];
  const training = [...role('training', true), ...role('training', false)];
  // The labels carry what each group is: the tables stay collapsed behind them.
  return `${table('Training cells (the constants were fitted on these)', head, rows(training))}
${table("Held-out cells with -icount (predicted from their configuration alone; these set the claim's model error)", head, rows(role('held-out', true)))}
${builtinHeldNote(g)}
${table(`Held-out cells without -icount (reported, not used for the claim's error: ${NO_ICOUNT_REASON})`, head, rows(role('held-out', false)))}`;
}

/** The 2015 skip rate per Linux cell: real, trace+model, validation and built-in workloads. */
/** The skip chart's points: every source of a skip rate per Linux cell. */
function skipPoints(g: GroundTruth): { config: string; source: string; skip: number }[] {
  return g.linux.flatMap((l) => {
    const cfg = `${l.workload} ${l.mode}${l.icount ? ' icount' : ''}`;
    const pts: { config: string; source: string; skip: number }[] = [];
    if (l.real.skip2015 !== null)
      pts.push({ config: cfg, source: 'real (TCG plugin)', skip: l.real.skip2015 });
    if (l.traceModel)
      pts.push({ config: cfg, source: 'real trace + model FP', skip: l.traceModel.skip2015 });
    if (l.configModel?.model)
      pts.push({
        config: cfg,
        source: `configuration model (${l.configModel.role})`,
        skip: l.configModel.model.skip2015,
      });
    if (l.validationModel)
      pts.push({ config: cfg, source: 'validation workload', skip: l.validationModel.skip2015 });
    if (l.builtinModel)
      pts.push({ config: cfg, source: `built-in workload`, skip: l.builtinModel.skip2015 });
    return pts;
  });
}

function skipChart(g: GroundTruth, out: Chart[]): void {
  const skip = skipPoints(g);
  if (skip.length > 0) {
    out.push({
      id: 'ground-truth-skip',
      title: "Ground truth: the 2015 design's skip rate, real kernel vs model",
      shows: `Share of exits that skip the FP/SIMD switch under the 2015 lazy design: measured on the real guest (TCG plugin), the model conditioned on the real trace, the validation workload (the measured configuration) and the built-in workload (a native SMP guest); the shaded band is the claimed ${CLAIM_BAND}.`,
      spec: {
        width: 640,
        height: 280,
        layer: [
          bandLayer(CLAIM.lo, CLAIM.hi),
          {
            data: { values: skip },
            mark: { type: 'point', filled: true, size: 70 },
            encoding: {
              y: shareAxis('skip', 'exits skipping the FP switch (%)'),
              x: {
                field: 'config',
                type: 'nominal',
                title: 'workload, KVM mode, -icount',
                axis: { labelAngle: -40 },
              },
              xOffset: { field: 'source', type: 'nominal' },
              color: { field: 'source', type: 'nominal', title: 'source' },
              shape: { field: 'source', type: 'nominal' },
              tooltip: [
                { field: 'config' },
                { field: 'source' },
                { field: 'skip', format: '.1%', title: 'skip rate' },
              ],
            },
          },
        ],
      },
    });
  }
}

/** The dashed y = x line of the traps chart, up to `max`. */
function diagonal(max: number): Record<string, unknown> {
  return {
    data: {
      values: [
        { a: 1, b: 1 },
        { a: max * 1.5, b: max * 1.5 },
      ],
    },
    mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
    encoding: {
      x: { field: 'a', type: 'quantitative', scale: { type: 'symlog' } },
      y: { field: 'b', type: 'quantitative', scale: { type: 'symlog' } },
    },
  };
}

/** A symlog axis of counts up to `max`: ticks at 0 and each power of ten. */
function symlogCountAxis(max: number): { values: number[]; format: string } {
  // symlog draws no ticks of its own where most points are: 0 and each power of ten.
  const ticks = [
    0,
    ...Array.from({ length: Math.ceil(Math.log10(max * 1.5)) + 1 }, (_, i) => 10 ** i),
  ];
  return { values: ticks, format: ',~d' };
}

/** FP traps of the scripted guests: real against lazy-vcpu's prediction. */
function trapsChart(g: GroundTruth, out: Chart[]): void {
  const traps = g.scripted.map((s) => ({
    cell: `${s.program} ${s.mode}`,
    real: s.realFpTraps,
    predicted: s.predictedFpTraps,
    kvmOnly: s.predictedKvmEventsOnly,
  }));
  if (traps.length > 0) {
    const max = Math.max(1, ...traps.map((t) => Math.max(t.real, t.predicted, t.kvmOnly)));
    const axis = symlogCountAxis(max);
    out.push({
      id: 'ground-truth-traps',
      title: 'Ground truth: FP traps of the scripted guests, real vs lazy-vcpu',
      shows:
        "Each scripted program and KVM mode: real FP traps to EL2 (x) against lazy-vcpu's prediction from the imported trace (y), with and without the sched_switch vcpu_puts; on the diagonal they agree. Log scales.",
      spec: {
        width: 420,
        height: 380,
        layer: [
          diagonal(max),
          {
            data: { values: traps },
            transform: [{ fold: ['predicted', 'kvmOnly'], as: ['prediction', 'value'] }],
            mark: { type: 'point', filled: true, size: 60, opacity: 0.8 },
            encoding: {
              x: {
                field: 'real',
                type: 'quantitative',
                title: 'real FP traps (count, exception log)',
                scale: { type: 'symlog' },
                axis,
              },
              y: {
                field: 'value',
                type: 'quantitative',
                title: 'predicted FP traps (count, lazy-vcpu)',
                scale: { type: 'symlog' },
                axis,
              },
              color: {
                field: 'prediction',
                type: 'nominal',
                title: 'prediction',
                scale: { domain: ['predicted', 'kvmOnly'], range: ['#1f77b4', '#ff7f0e'] },
              },
              tooltip: [
                { field: 'cell' },
                { field: 'real' },
                { field: 'prediction' },
                { field: 'value', title: 'predicted' },
              ],
            },
          },
        ],
      },
    });
  }
}

function charts(g: GroundTruth): Chart[] {
  const out: Chart[] = [];
  skipChart(g, out);
  trapsChart(g, out);
  return out;
}

/** The section, or undefined when there is no ground truth to show. */
export function groundTruthSection(x: unknown): ExtraSection | undefined {
  if (!isGroundTruth(x)) return undefined;
  const g = x;
  const agree = g.scripted.filter((s) => s.agree).length;
  const kvmOnlyAgree = g.scripted.filter((s) => s.predictedKvmEventsOnly === s.realFpTraps).length;
  const src = g.source;
  const html = `<p>The model held against a real kernel: Debian's arm64 Linux (${esc(src.kernel)}) as a KVM host under QEMU TCG (${esc(src.qemu)}) in VHE and nVHE mode, its real <code>kvm_*</code> and <code>sched_switch</code> traces, its real FP/SIMD traps to EL2 (QEMU's exception log) and the share of guest runs that execute FP/SIMD (a TCG plugin). Measurements from <code>${esc(src.file)}</code> (${esc(src.generatedAt)}${src.quick ? ', --quick' : ''}); the model side was computed by the ${esc(g.modelComputed)}. See validation/README.md.</p>
<h3>Scripted guests: real FP traps vs lazy-vcpu (the 6.1 design)</h3>
<p>Each trace imported with the FP use the program is known to have (its code, located by each run's PCs) and simulated with <code>lazy-vcpu</code>: ${agree} of ${g.scripted.length} program x mode cells predict the real trap count exactly. Without the <code>sched_switch</code> events (the host preempting the vCPU thread is a vcpu_put no kvm event shows) ${kvmOnlyAgree} of ${g.scripted.length} would.</p>
${scriptedTable(g)}
<h3>Linux guests: real vs model, by design</h3>
<p>"trace+measured share": the real trace (its exits, run lengths and vcpu_puts) with each run touching FP with the measured probability; "trace+model": the same trace with the validation workload's task model deciding FP use; "validation model": the validation workload (validation/workloads/, the measured 1-vCPU TCG configuration, written by hand per cell before the model had periodic ticks and stream phases, and not refitted since: superseded by the configuration model of the next table, which is the prediction held out) generated on its own; "built-in": the matching built-in workload (hackbench, lmbench-syscall, lmbench-ctx, idle), which models native SMP guests.</p>
${linuxTable(g)}
<h3>Out of sample: each Linux cell predicted from its configuration</h3>
<p>Each measured Linux cell as a parametrised built-in workload built from its configuration alone (command line, vCPUs, guest speed: 1 instruction per ns under <code>-icount shift=0</code>, else the plugin's instructions over guest time), generated and simulated. The model's free constants (<code>workloads/fitted/constants.json</code>) were fitted by <code>npm run fit</code> on the training cells named in <code>validation/training.json</code> only.</p>
${configTable(g)}`;
  return {
    id: 'ground-truth',
    title: 'Ground truth',
    html,
    charts: charts(g),
    collapseChartsAfter: 1,
  };
}

/**
 * What the claim check takes from the ground truth: the model's error on held-out cells
 * (every held-out Linux and matrix cell a parametrised workload describes; -icount cells set
 * it per workload family, claim.ts heldOutError) and, per parametrised built-in, the nearest
 * real measurement nearest its default configuration (nearestReal).
 */
export function claimEvidence(x: unknown): {
  err: HeldOutError | null;
  real: Record<string, ClaimRow['real']>;
} {
  if (!isGroundTruth(x)) return { err: null, real: {} };
  const held: HeldOutCellError[] = [];
  for (const l of predictedCells(x)) {
    const c = l.configModel;
    if (c?.role !== 'held-out' || c.skipError === null || !c.spec) continue;
    held.push({
      cell: `${l.boot}/${l.workload}`,
      workload: c.spec.split(':')[0],
      icount: l.icount,
      skipError: c.skipError,
    });
  }
  return { err: heldOutError(held), real: nearestReal(x) };
}

/** A spec's numeric parameters (`name:k=v,...`). */
function specParams(spec: string): Record<string, number> {
  const i = spec.indexOf(':');
  if (i < 0) return {};
  return Object.fromEntries(
    spec
      .slice(i + 1)
      .split(',')
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  );
}

/**
 * How far a measured cell's configuration is from a template's defaults: vCPUs first
 * (they decide cross-vCPU wake-ups, and for lmbench-ctx whether the pipe is split), then
 * the other shape parameters, as sums of |log ratio|. The platform parameters (speed,
 * preempt) are the validation host's, not the workload's: left out.
 */
function configDistance(spec: string, name: string): [number, number] {
  const t = workloadTemplate(name);
  if (!t) return [0, 0];
  const p = specParams(spec);
  const d = (k: string) => Math.abs(Math.log((p[k] + 1) / (t.params[k].default + 1)));
  const rest = Object.keys(t.params).filter(
    (k) => k !== 'vcpus' && k !== 'speed' && k !== 'preempt' && k in p,
  );
  return ['vcpus' in p ? d('vcpus') : 0, rest.reduce((a, k) => a + d(k), 0)];
}

/**
 * Per parametrised built-in, the real measurement nearest its default configuration:
 * -icount cells only (realistic guest time), nearest in vCPUs then in shape, VHE first.
 */
function nearestReal(x: GroundTruth): Record<string, ClaimRow['real']> {
  const real: Record<string, ClaimRow['real']> = {};
  const cells = predictedCells(x).flatMap((l) => {
    const spec = l.configModel?.spec;
    if (!spec || l.configModel?.builtinOnly || !l.icount || l.real.skip2015 === null) return [];
    const name = spec.split(':')[0];
    const command = 'command' in l && typeof l.command === 'string' ? `${l.command}, ` : '';
    return [{ l, spec, name, command, dist: configDistance(spec, name), skip: l.real.skip2015 }];
  });
  cells.sort(
    (a, b) =>
      a.dist[0] - b.dist[0] || a.dist[1] - b.dist[1] || a.l.boot.localeCompare(b.l.boot) * -1,
  );
  for (const c of cells) {
    if (c.name in real) continue;
    real[c.name] = {
      cell: `${c.l.boot}/${c.l.workload}`,
      config: `${c.command}${c.spec.slice(c.name.length + 1)}`,
      skip: c.skip,
    };
  }
  return real;
}
