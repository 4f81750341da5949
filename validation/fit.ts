// `npm run fit`: fits the guest model's free constants on the training cells named in
// validation/training.json (and on those only), from the measurements in
// validation/results.json, and writes them with their provenance to
// workloads/fitted/constants.json. Every other cell is then predicted from its
// configuration alone (validation/lib/model-side.ts `configModels`).
//
//   node --import tsx validation/fit.ts [--results FILE] [--runs N] [--dry-run]
//
// Closed forms where the measurement gives the constant directly (instructions and
// switches per message and per task, instructions per token pass, host preemptions), then
// one-dimensional searches of the generated model's 2015 skip rate against the measured
// one (the guest kernel's own threads on null-syscall, the stream share on hackbench).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import {
  claimEvidence,
  type GroundTruth,
  type GtLinuxRow,
  predictedCells,
} from '../src/report/ground-truth.js';
import type { ErrorStat } from '../src/stream/claim.js';
import { CONSTANTS_FILE, type ModelConstants } from '../src/stream/guest-configs.js';
import { vmFigures } from '../src/stream/guest-model.js';
import { resolveWorkload, workloadStream } from '../src/stream/workload.js';
import {
  cellCommand,
  cellId,
  cellSpec,
  hackbenchOptions,
  matrixMeasuredCell,
  type MeasuredCell,
  trainingCells,
} from './lib/cell-spec.js';
import { loadGroundTruth, streamNumbers } from './lib/model-side.js';
import { readRunRecords } from './lib/run-records.js';
import { REPO_DIR } from './lib/util.js';

interface Training {
  readonly cell: MeasuredCell & { trace: { guestRunSec: number }; plugin: { guestInsns: number } };
  readonly row: GtLinuxRow;
}

/** A cell the skip-rate searches fit on: its configuration and its real skip rate. */
interface SkipCell {
  readonly cell: MeasuredCell;
  readonly row: { readonly real: { readonly skip2015: number | null } };
  /** Matrix cells: the totals the IPI closed form needs. */
  readonly totals?: {
    readonly exits: number;
    readonly switches: number;
    readonly exitMix: Readonly<Record<string, number>>;
  };
}

/** The matrix's per-run fixtures' cells (val branch), beside which training.json may name some. */
const MATRIX_CELLS = join(REPO_DIR, 'validation', 'fixtures', 'runs', 'cells.json');

/**
 * The training cells named in training.json that are matrix cells (cells.json): they carry
 * a guest configuration and totals but no plugin instruction count, so they enter only the
 * skip-rate searches, not the closed forms. Missing file: none.
 */
function loadMatrixTraining(ids: ReadonlySet<string>): SkipCell[] {
  if (!existsSync(MATRIX_CELLS)) return [];
  const raw = JSON.parse(readFileSync(MATRIX_CELLS, 'utf8')) as {
    cells: {
      boot: string;
      workload: string;
      icount: boolean;
      guest?: MeasuredCell['guest'];
      real: {
        skip2015: number | null;
        exits: number;
        switches: number;
        exitMix: Record<string, number>;
      };
    }[];
  };
  return raw.cells
    .filter((c) => ids.has(`${c.boot}/${c.workload}`))
    .map((c) => ({
      cell: matrixMeasuredCell(c),
      row: { real: { skip2015: c.real.skip2015 } },
      totals: { exits: c.real.exits, switches: c.real.switches, exitMix: c.real.exitMix },
    }));
}

/** Guest timer ticks in a cell's guest run time (CONFIG_HZ=250 in Debian's kernel). */
const GUEST_HZ = 250;

function loadTraining(resultsFile: string): Training[] {
  const raw = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
    cells: MeasuredCell[];
    comparison: { linux: GtLinuxRow[] };
  };
  const ids = trainingCells();
  const out: Training[] = [];
  for (const c of raw.cells) {
    if (!ids.has(cellId(c))) continue;
    const row = raw.comparison.linux.find((r) => r.boot === c.boot && r.workload === c.program);
    if (!row || !c.trace || !c.plugin?.guestInsns)
      throw new Error(`${cellId(c)}: no measurement to fit on`);
    out.push({ cell: c as Training['cell'], row });
  }
  const matrix = new Set(loadMatrixTraining(ids).map((m) => cellId(m.cell)));
  const missing = [...ids].filter(
    (id) => !out.some((t) => cellId(t.cell) === id) && !matrix.has(id),
  );
  if (missing.length)
    throw new Error(
      `training cells not in ${resultsFile} nor ${relative(REPO_DIR, MATRIX_CELLS)}: ${missing.join(', ')}`,
    );
  return out;
}

/** Least squares of y = a x1 + b x2 (two unknowns). */
function lsq2(rows: { x1: number; x2: number; y: number }[]): [number, number] {
  let s11 = 0,
    s12 = 0,
    s22 = 0,
    s1y = 0,
    s2y = 0;
  for (const r of rows) {
    s11 += r.x1 * r.x1;
    s12 += r.x1 * r.x2;
    s22 += r.x2 * r.x2;
    s1y += r.x1 * r.y;
    s2y += r.x2 * r.y;
  }
  const det = s11 * s22 - s12 * s12;
  if (Math.abs(det) < 1e-12 * s11 * s22)
    throw new Error(
      'fit: the training cells do not separate the two constants (need two sizes or speeds)',
    );
  return [(s1y * s22 - s2y * s12) / det, (s2y * s11 - s1y * s12) / det];
}

/** hackbench's messages and tasks of a cell. */
function hackbenchSize(c: MeasuredCell): { messages: number; tasks: number } {
  const o = hackbenchOptions(cellCommand(c));
  return { messages: o.groups * o.fds * o.fds * o.loops, tasks: o.groups * 2 * o.fds };
}

/** The constants measured directly on the training cells. */
function closedForms(
  t: Training[],
): Omit<
  ModelConstants,
  | 'kernelThreadsPerSec'
  | 'streamShare'
  | 'validationIpiPerWake'
  | 'validationWfiPerBlock'
  | 'validationTickOffsetUs'
> {
  const hb = t.filter((x) => x.cell.program === 'hackbench');
  const pipe = t.filter((x) => x.cell.program === 'pipe-pingpong');
  if (hb.length < 2 || pipe.length < 1)
    throw new Error('fit: needs two hackbench cells and one pipe-pingpong cell');
  const [insnsPerMessage, insnsPerTask] = lsq2(
    hb.map(({ cell }) => {
      const { messages, tasks } = hackbenchSize(cell);
      return { x1: messages, x2: tasks, y: cell.plugin.guestInsns };
    }),
  );
  const [switchesPerMessage, switchesPerTick] = lsq2(
    hb.map(({ cell }) => {
      const { messages, tasks } = hackbenchSize(cell);
      return {
        x1: messages,
        x2: GUEST_HZ * cell.trace.guestRunSec,
        y: (cell.guestContextSwitches ?? 0) - 2 * tasks,
      };
    }),
  );
  const passes = pipe.map(({ cell }) => {
    const ticks = GUEST_HZ * cell.trace.guestRunSec;
    return (
      cell.plugin.guestInsns /
      Math.max(1, (cell.guestContextSwitches ?? 0) - switchesPerTick * ticks)
    );
  });
  const puts = t.map(({ row }) => row.real.vcpuPuts / row.real.guestRunSec);
  return {
    insnsPerMessage,
    insnsPerTask,
    switchesPerMessage,
    switchesPerTick: Math.max(0, switchesPerTick),
    insnsPerPass: passes.reduce((a, b) => a + b, 0) / passes.length,
    validationPreemptionsPerSec: puts.reduce((a, b) => a + b, 0) / puts.length,
  };
}

/**
 * Reschedule IPIs sent per cross-vCPU user switch in the validation guest: the IPI sends
 * (SYS64 exits: ICC_SGI1R_EL1 writes trap) over switches x (vcpus - 1) / vcpus, averaged
 * over the multi-vCPU hackbench training cells of the matrix.
 */
function ipiPerWake(ids: ReadonlySet<string>): number {
  const cells = loadMatrixTraining(ids).filter(
    (x) => x.cell.guest?.bench === 'hackbench' && x.cell.guest.vcpus > 1 && x.totals,
  );
  if (cells.length === 0)
    throw new Error('fit: needs a multi-vCPU hackbench matrix cell in validation/training.json');
  const per = cells.map(({ cell, totals }) => {
    const v = cell.guest?.vcpus ?? 1;
    const t = totals ?? { exits: 0, switches: 1, exitMix: {} };
    const sys64 = t.exitMix.SYS64 as number | undefined;
    return ((sys64 ?? 0) * t.exits) / (t.switches * ((v - 1) / v));
  });
  return per.reduce((a, b) => a + b, 0) / per.length;
}

/**
 * Idle entries per cross-vCPU block of a vCPU's last runnable task in the validation
 * guest (hackbench parameter `wfi`), in closed form: the share w of the derivation's idle
 * entries (at wfi=1: x per busy second, beside B other exits) that makes the model's WFx
 * share of exits w x / (B + w x) the measured one r, so w = r B / (x (1 - r)); averaged
 * over the multi-vCPU hackbench matrix training cells. Per exit, not per second: the
 * matrix's 2-vCPU guest time is the L1 trace clock, shared by both vCPUs under -icount.
 */
function wfiPerBlock(ids: ReadonlySet<string>, k: ModelConstants): number {
  const cells = loadMatrixTraining(ids).filter(
    (x) => x.cell.guest?.bench === 'hackbench' && x.cell.guest.vcpus > 1 && x.totals,
  );
  if (cells.length === 0)
    throw new Error('fit: needs a multi-vCPU hackbench matrix cell in validation/training.json');
  const per = cells.map(({ cell, totals }) => {
    const spec = cellSpec(cell, { ...k, validationWfiPerBlock: 1 });
    if (!spec) throw new Error(`${cellId(cell)}: no parametrised workload describes it`);
    const w = resolveWorkload(spec, { ...k, validationWfiPerBlock: 1 }).workload;
    if (w.kind !== 'guest') throw new Error(`${cellId(cell)}: ${spec} is not a guest workload`);
    const f = vmFigures(w, 0);
    const x = f.sources.find((s) => s.name === 'idle (WFI)')?.perSec ?? 0;
    const r = totals?.exitMix.WFx ?? 0;
    return x > 0 ? (r * (f.busyExitsPerSec - x)) / (x * (1 - r)) : 0;
  });
  return Math.min(1, per.reduce((a, b) => a + b, 0) / per.length);
}

/**
 * The validation setup's tick offset (L2 tick to the next L1 tick), from the per-run
 * fixtures of the one-vCPU -icount matrix training cells: between two 250 Hz ticks a busy
 * guest's runs last either the offset or the period minus it, so the offset is the
 * median of the IRQ-ended runs shorter than half the period (validation/README.md: 609
 * and 3,381 us runs). Which of the two ticks comes first is not in the runs; the
 * shorter gap is taken as guest-to-host.
 */
function tickOffsetUs(ids: ReadonlySet<string>): number {
  const raw = JSON.parse(readFileSync(MATRIX_CELLS, 'utf8')) as {
    cells: {
      boot: string;
      workload: string;
      icount: boolean;
      guest?: { vcpus: number };
      fixtures: string[];
    }[];
  };
  const half = 1e9 / GUEST_HZ / 2;
  const short: number[] = [];
  for (const c of raw.cells) {
    if (!ids.has(`${c.boot}/${c.workload}`) || !c.icount || c.guest?.vcpus !== 1) continue;
    for (const f of c.fixtures)
      for (const r of readRunRecords(join(REPO_DIR, f)).runs)
        if (r.exit === 'IRQ' && r.ns < half) short.push(r.ns);
  }
  if (short.length === 0)
    throw new Error('fit: needs a one-vCPU -icount matrix training cell with per-run fixtures');
  short.sort((a, b) => a - b);
  return short[Math.floor(short.length / 2)] / 1000;
}

/** The generated model's 2015 skip rate of a training cell under candidate constants. */
async function modelSkip(x: SkipCell, k: ModelConstants, runs: number): Promise<number> {
  const spec = cellSpec(x.cell, k);
  if (!spec) throw new Error(`${cellId(x.cell)}: no parametrised workload describes it`);
  const w = resolveWorkload(spec, k).workload;
  const n = await streamNumbers(workloadStream(w, { runs, seed: 1 }), {
    workload: spec,
    file: '',
    source: 'generated',
    fp: 'fit',
    seed: 1,
  });
  return n.skip2015;
}

/** Squared error of the skip rate over some training cells. */
async function skipError(
  cells: readonly SkipCell[],
  k: ModelConstants,
  runs: number,
): Promise<number> {
  let e = 0;
  for (const x of cells) e += ((await modelSkip(x, k, runs)) - (x.row.real.skip2015 ?? 0)) ** 2;
  return e;
}

/** Golden-section search of a constant in [lo, hi] minimising the skip error on `cells`. */
async function search(
  cells: readonly SkipCell[],
  at: (v: number) => ModelConstants,
  lo: number,
  hi: number,
  runs: number,
  steps = 18,
): Promise<number> {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = await skipError(cells, at(c), runs);
  let fd = await skipError(cells, at(d), runs);
  for (let i = 0; i < steps; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = await skipError(cells, at(c), runs);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = await skipError(cells, at(d), runs);
    }
  }
  return (a + b) / 2;
}

type Predicted = ReturnType<typeof predictedCells>[number];

const fmt = (x: number | null | undefined, d = 3) =>
  x === null || x === undefined ? '-' : x.toFixed(d);

/** One cell's line: role, id, real / model / error of the skip rate and of the traps per exit. */
function cellLine(r: Predicted): string {
  const c = r.configModel;
  const within =
    c?.withinTolerance === null || c === undefined
      ? 'not modelled'
      : c.withinTolerance
        ? 'yes'
        : 'NO';
  return `${(c?.role ?? '-').padEnd(9)} ${`${r.boot}/${r.workload}`.padEnd(38)} ${fmt(r.real.skip2015).padStart(9)} ${fmt(c?.model?.skip2015).padStart(6)} ${fmt(c?.skipError).padStart(6)} | ${fmt(r.real.trapsPerExit61, 4).padStart(15)} ${fmt(c?.model?.trapsPerExit61, 4).padStart(6)} ${fmt(c?.trapsRelError, 2).padStart(8)} | ${within.padEnd(12)} ${c?.spec ?? ''}`;
}

/** The claim's model error per workload family, as the bench computes it (claimEvidence). */
function printClaimError(gt: GroundTruth): void {
  const { err } = claimEvidence(gt);
  if (!err) {
    console.log('\nclaim model error: no held-out -icount cell');
    return;
  }
  const s = (e: ErrorStat) =>
    `max |error| ${fmt(e.maxAbs)} (${e.worstCell}), rms ${fmt(e.rms)}, ${e.cells} cells`;
  console.log(`\nclaim model error (held-out -icount cells; per family sets each interval):`);
  for (const [w, e] of Object.entries(err.byWorkload)) console.log(`  ${w.padEnd(16)} ${s(e)}`);
  console.log(`  ${'(all families)'.padEnd(16)} ${s(err)}`);
  if (err.excluded)
    console.log(`  ${'no-icount'.padEnd(16)} ${s(err.excluded)}: ${err.excluded.reason}`);
}

/**
 * Prints every measured cell (results.json's Linux cells and the matrix of
 * validation/fixtures/runs/cells.json): training, held out with -icount, held out without,
 * each with real, model and error; then the claim's model error.
 */
async function evaluate(resultsFile: string): Promise<void> {
  const gt = await loadGroundTruth({ file: resultsFile });
  if (!gt) throw new Error(`${resultsFile}: no comparison`);
  const cells = predictedCells(gt);
  const groups: [string, Predicted[]][] = [
    [
      'training cells (constants fitted on these)',
      cells.filter((c) => c.configModel?.role === 'training'),
    ],
    [
      'held-out cells, -icount (set the claim error)',
      cells.filter((c) => c.configModel?.role !== 'training' && c.icount),
    ],
    [
      "held-out cells, no -icount (reported only: guest time not a real machine's)",
      cells.filter((c) => c.configModel?.role !== 'training' && !c.icount),
    ],
  ];
  console.log(
    `role      ${'cell'.padEnd(38)} skip real  model  error | traps/exit real  model  rel.err | within       spec`,
  );
  for (const [title, list] of groups) {
    console.log(`-- ${title}`);
    for (const r of list) console.log(cellLine(r));
  }
  printBuiltinHeld(gt);
  printClaimError(gt);
}

/** The AArch32 cells (fp-heavy-aarch32 vs the armhf guest): the exit mix beside the rates. */
function printBuiltinHeld(gt: GroundTruth): void {
  for (const m of gt.matrix ?? []) {
    const c = m.configModel;
    if (!c.model || !(c.builtinOnly || m.workload === 'fp-heavy-aarch32')) continue;
    const real = m.real.exitMix ?? {};
    const classes = [...new Set([...Object.keys(real), ...Object.keys(c.model.exitMix)])];
    const how = c.builtinOnly
      ? "at its defaults (not built from the cell's configuration)"
      : "built from the cell's configuration";
    console.log(`\n${m.boot}/${m.workload} against ${c.spec ?? ''}, ${how}:`);
    console.log(
      `  2015 skip rate real ${fmt(m.real.skip2015)} model ${fmt(c.model.skip2015)}; 6.1 FP traps per exit real ${fmt(m.real.trapsPerExit61, 4)} model ${fmt(c.model.trapsPerExit61, 4)}; ${c.withinTolerance ? 'within' : 'NOT within'} tolerance`,
    );
    console.log(
      `  exit mix real / model: ${classes.map((k) => `${k} ${fmt(real[k] ?? 0)} / ${fmt(c.model?.exitMix[k] ?? 0)}`).join(', ')}`,
    );
    console.log(
      `  guest FPEXC accesses per exit (VMRS/VMSR, plugin) real ${fmt(m.real.fpexcAccessesPerExit)}; the MVFR0 reads of its VFP saves and loads are its CP10_ID exits`,
    );
  }
}

/** How each constant is fitted, written beside its value in constants.json. */
const FIT_METHODS: Record<keyof ModelConstants, string> = {
  insnsPerMessage:
    'least squares: guest instructions = messages x this + tasks x insnsPerTask over the hackbench training cells (TCG plugin instruction counts)',
  insnsPerTask: 'as insnsPerMessage',
  switchesPerMessage:
    'least squares: guest context switches - 2 x tasks = messages x this + guest ticks x switchesPerTick over the hackbench training cells (/proc/stat ctxt)',
  switchesPerTick: 'as switchesPerMessage',
  insnsPerPass:
    'guest instructions / (context switches - per-tick switches) on the pipe-pingpong training cells',
  validationPreemptionsPerSec:
    'mean of measured vcpu_puts (sched_switch) per guest second over all training cells',
  kernelThreadsPerSec:
    "golden-section search: the generated model's 2015 skip rate against the measured one on the null-syscall training cells",
  validationIpiPerWake:
    'closed form: IPI sends (SYS64 exits) / (guest switches x (vcpus - 1) / vcpus) on the multi-vCPU hackbench matrix training cells (validation/fixtures/runs/cells.json)',
  validationWfiPerBlock:
    "closed form: the share of the derivation's idle entries (switches x (vcpus - 1) / vcpus / (tasks / vcpus)) that gives the measured WFx share of exits, on the multi-vCPU hackbench matrix training cells (validation/fixtures/runs/cells.json)",
  validationTickOffsetUs:
    'closed form: the median of the IRQ-ended runs shorter than half a 250 Hz tick period in the per-run fixtures of the one-vCPU -icount matrix training cells (runs last the offset or the period minus it)',
  streamShare:
    "golden-section search: the generated model's 2015 skip rate against the measured one on the -icount hackbench training cells",
};

/** Fits every constant on the training cells; returns the constants file's content. */
async function fitConstants(resultsFile: string, runs: number) {
  const t = loadTraining(resultsFile);
  const base = closedForms(t);
  const nulls = t.filter((x) => x.cell.program === 'null-syscall');
  // Run timing is realistic only under -icount (without it TCG's guest runs far slower than
  // its timers): the stream share is fitted on the -icount hackbench training cells.
  const hb: SkipCell[] = [
    ...t.filter((x) => x.cell.program === 'hackbench' && x.cell.icount),
    ...loadMatrixTraining(trainingCells()).filter(
      (x) => x.cell.guest?.bench === 'hackbench' && x.cell.icount,
    ),
  ];
  let k: ModelConstants = {
    ...base,
    validationIpiPerWake: ipiPerWake(trainingCells()),
    validationWfiPerBlock: 1,
    validationTickOffsetUs: tickOffsetUs(trainingCells()),
    kernelThreadsPerSec: 6.6,
    streamShare: 0,
  };
  k = { ...k, validationWfiPerBlock: wfiPerBlock(trainingCells(), k) };
  k = {
    ...k,
    kernelThreadsPerSec: await search(
      nulls,
      (v) => ({ ...k, kernelThreadsPerSec: v }),
      0,
      50,
      runs,
    ),
  };
  k = { ...k, streamShare: await search(hb, (v) => ({ ...k, streamShare: v }), 0, 0.9, runs) };
  const fittedOn = [...new Set([...t, ...hb].map((x) => cellId(x.cell)))];
  const out = {
    schema: 'fpswitch-model-constants',
    note: 'Written by `npm run fit` (validation/fit.ts); do not edit by hand.',
    trainingFile: 'validation/training.json',
    results: relative(REPO_DIR, resultsFile),
    fittedOn,
    runsPerEvaluation: runs,
    constants: Object.fromEntries(
      (Object.keys(FIT_METHODS) as (keyof ModelConstants)[]).map((name) => [
        name,
        { value: Number(k[name].toPrecision(6)), fitted: FIT_METHODS[name] },
      ]),
    ),
  };
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      results: { type: 'string', default: join(REPO_DIR, 'validation', 'results.json') },
      runs: { type: 'string', default: '200000' },
      'dry-run': { type: 'boolean' },
      evaluate: { type: 'boolean' },
    },
  });
  if (values.evaluate) {
    await evaluate(values.results);
    return;
  }
  const runs = Number(values.runs);
  const out = await fitConstants(values.results, runs);
  const text = `${JSON.stringify(out, null, 2)}\n`;
  if (values['dry-run']) process.stdout.write(text);
  else {
    writeFileSync(CONSTANTS_FILE, text);
    process.stderr.write(
      `fit: wrote ${relative(REPO_DIR, CONSTANTS_FILE)} (fitted on ${out.fittedOn.join(', ')})\n`,
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`fit: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
