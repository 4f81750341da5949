// The model side of the ground-truth comparison: what fpswitch predicts for an exit stream
// (a workload's own, or a real trace's) under the 2015 design (lazy-fixed: skip rate) and
// the 6.1 design (lazy-vcpu: FP traps per exit), in the same units as the measurements.
// Needs only workload files and src/, so `npm run bench` recomputes the generated numbers
// from the committed validation/results.json without booting anything (loadGroundTruth).
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { exitClassName } from '../../src/arch/esr.js';
import { EXIT_KEY_COUNT, HANDLED } from '../../src/cpu/profile.js';
import { cpuProfile } from '../../src/cpu/profiles.js';
import { resolvePolicy } from '../../src/policy/registry.js';
import type {
  GroundTruth,
  GtConfigModel,
  GtLinuxRow,
  GtMatrixRow,
  GtMeasured,
  GtModelNumbers,
} from '../../src/report/ground-truth.js';
import { isGroundTruth } from '../../src/report/ground-truth.js';
import { price, walkPolicies } from '../../src/sim/simulate.js';
import type { ExitStream } from '../../src/stream/exit-stream.js';
import { decodeRunClass } from '../../src/machine/run-class.js';
import { modelConstants } from '../../src/stream/guest-configs.js';
import {
  loadWorkloadFile,
  resolveWorkload,
  WORKLOADS_DIR,
  workloadStream,
} from '../../src/stream/workload.js';
import { cellSpec, matrixMeasuredCell, type MeasuredCell, trainingCells } from './cell-spec.js';

const REPO = join(WORKLOADS_DIR, '..');

/** Runs and seed of every generated model number (deterministic: same files, same numbers). */
export const MODEL_RUNS = 1_000_000;
export const MODEL_SEED = 1;

/** The built-in workload each measured Linux workload is held against. */
const BUILTIN_FOR: Readonly<Record<string, string>> = {
  hackbench: 'hackbench',
  'null-syscall': 'lmbench-syscall',
  'pipe-pingpong': 'lmbench-ctx',
  idle: 'idle',
};

/** The validation workload describing a measured Linux configuration (validation/workloads/). */
export function validationWorkloadFile(workload: string, icount: boolean): string {
  return join(
    REPO,
    'validation',
    'workloads',
    `${workload}-${icount ? 'icount' : 'noicount'}.json`,
  );
}

const round = (x: number, d = 6) => Number(x.toFixed(d));

/**
 * lazy-fixed and lazy-vcpu over one stream, in the comparison's units. The CPU profile
 * only prices cycles, which the comparison does not use. Cost: O(runs).
 */
export async function streamNumbers(
  stream: ExitStream,
  meta: Pick<GtModelNumbers, 'workload' | 'file' | 'source' | 'fp' | 'seed'>,
): Promise<GtModelNumbers> {
  const policies = [await resolvePolicy('lazy-fixed'), await resolvePolicy('lazy-vcpu')];
  const [w2015, w61] = walkPolicies(policies, stream);
  const cpu = cpuProfile('seattle');
  const r2015 = price(w2015, cpu);
  const r61 = price(w61, cpu);
  const runs = w61.runs;
  const byClass: Record<string, number> = {};
  for (let key = 0; key < EXIT_KEY_COUNT; key++) {
    const n = w61.exitHist[key];
    if (n === 0) continue;
    const name = exitClassName(Math.floor(key / 3));
    byClass[name] = (byClass[name] ?? 0) + n;
  }
  let puts = 0;
  for (let c = 0; c < w61.classHist.length; c++) {
    const n = w61.classHist[c];
    if (n === 0) continue;
    const { put, handled } = decodeRunClass(c);
    if (put || handled === HANDLED.user) puts += n;
  }
  const per = (x: number) => (runs === 0 ? 0 : x / runs);
  return {
    ...meta,
    runs,
    exitsPerSec: round(r61.exitsPerGuestSecond, 1),
    exitMix: Object.fromEntries(
      Object.entries(byClass)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, round(per(v))]),
    ),
    skip2015: round(r2015.skipRate),
    trapsPerExit61: round(per(r61.counters.fpTraps)),
    fpTraps61: r61.counters.fpTraps,
    fpUse: { el0: round(r61.fpUse.el0), el1: round(r61.fpUse.el1), any: round(r61.fpUse.any) },
    putsPerExit: round(per(puts)),
  };
}

/** A workload file's own stream. Missing file: null (the comparison says so). */
async function generatedNumbers(
  file: string,
  runs = MODEL_RUNS,
  seed = MODEL_SEED,
): Promise<GtModelNumbers | null> {
  if (!existsSync(file)) return null;
  const w = loadWorkloadFile(file);
  const name = 'name' in w ? w.name : file;
  return streamNumbers(workloadStream(w, { runs, seed }), {
    workload: name,
    file: relative(REPO, file),
    source: 'generated',
    fp: `${name}: its own exit stream, ${runs.toLocaleString('en-US')} runs, seed ${seed}`,
    seed,
  });
}

/** The generated model numbers of one Linux row: its validation workload and its built-in. */
export async function rowModels(
  workload: string,
  icount: boolean,
  workloadsDir = WORKLOADS_DIR,
): Promise<Pick<GtLinuxRow, 'validationModel' | 'builtinModel'>> {
  const builtin = BUILTIN_FOR[workload];
  return {
    validationModel: await generatedNumbers(validationWorkloadFile(workload, icount)),
    builtinModel: builtin ? await generatedNumbers(join(workloadsDir, `${builtin}.json`)) : null,
  };
}

/**
 * The ground truth of the committed validation/results.json, with the generated model
 * numbers recomputed from today's workload files (so a calibrated workload shows up in the
 * report without a new QEMU run). The trace-driven numbers need the traces, which only the
 * harness has: they stay as the harness computed them. Returns null when there is no
 * comparison to show (no file, or a phase-1 file).
 */
export async function loadGroundTruth(
  opts: { file?: string; workloadsDir?: string } = {},
): Promise<GroundTruth | null> {
  const file = opts.file ?? join(REPO, 'validation', 'results.json');
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const gt = (raw as { comparison?: unknown }).comparison;
  if (!isGroundTruth(gt)) return null;
  const memo = new Map<string, Pick<GtLinuxRow, 'validationModel' | 'builtinModel'>>();
  const linux: GtLinuxRow[] = [];
  const cells = measuredCells(file);
  const training = trainingCells();
  for (const row of gt.linux) {
    const key = `${row.workload}/${row.icount}`;
    if (!memo.has(key)) memo.set(key, await rowModels(row.workload, row.icount, opts.workloadsDir));
    const cell = cells.find((c) => c.boot === row.boot && c.program === row.workload);
    const cm = await configModel(row, cell, training);
    linux.push({ ...row, ...memo.get(key), configModel: cm });
  }
  const matrix = await matrixRows(join(REPO, 'validation', 'fixtures', 'runs', 'cells.json'));
  return { ...gt, linux, ...(matrix.length > 0 ? { matrix } : {}), modelComputed: 'bench' };
}

/** A cell of cells.json (val branch: the totals beside the per-run fixtures). */
interface CellSummary extends GtMeasured {
  readonly mode: 'vhe' | 'nvhe';
  readonly guest?: MeasuredCell['guest'];
  readonly real: GtMatrixRow['real'];
}

/**
 * Matrix cells no parametrised workload describes but a built-in was written for: held
 * against it at its own defaults (not built from the cell's configuration). The armhf
 * guest (VFP-heavy processes beside an integer one, validation/README.md) is what
 * fp-heavy-aarch32 models.
 */
const BUILTIN_HELD: Readonly<Record<string, string>> = {
  'fp-heavy-aarch32': 'fp-heavy-aarch32',
};

/**
 * The wider matrix's cells (cells.json beside the per-run fixtures), each predicted from its
 * recorded configuration; training only when validation/training.json names it. Missing
 * file: none. Cost: MODEL_RUNS generated runs per modelled cell.
 */
async function matrixRows(file: string, runs = MODEL_RUNS): Promise<GtMatrixRow[]> {
  if (!existsSync(file)) return [];
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { cells?: CellSummary[] } | CellSummary[];
  const cells = Array.isArray(raw) ? raw : (raw.cells ?? []);
  const training = trainingCells();
  const out: GtMatrixRow[] = [];
  for (const c of cells) {
    const cell = matrixMeasuredCell(c);
    const real = {
      exits: c.real.exits,
      skip2015: c.real.skip2015,
      fpTraps61: c.real.fpTraps61,
      trapsPerExit61: c.real.trapsPerExit61,
      exitMix: c.real.exitMix,
      fpexcAccessesPerExit: c.real.fpexcAccessesPerExit,
    };
    const row = { boot: c.boot, workload: c.workload, icount: c.icount, real };
    out.push({
      ...row,
      mode: c.mode,
      guest: c.guest ?? null,
      configModel: await configModel(row, cell, training, runs, BUILTIN_HELD[c.workload]),
    });
  }
  return out;
}

/** The tolerance of the out-of-sample check, for the 6.1 FP traps: 25%, or 3 traps below 12. */
function trapsWithin(realTraps: number, modelTraps: number): boolean {
  if (realTraps < 12) return Math.abs(modelTraps - realTraps) <= 3;
  return Math.abs(modelTraps / realTraps - 1) <= 0.25;
}

/**
 * The config model of a row: the spec from the cell's configuration (cell-spec.ts), the
 * generated numbers, the errors against the real measurement. Cost: `runs` generated runs.
 */
export async function configModel(
  row: GtMeasured,
  cell: MeasuredCell | undefined,
  training: ReadonlySet<string>,
  runs = MODEL_RUNS,
  builtin?: string,
): Promise<GtConfigModel> {
  const role = training.has(`${row.boot}/${row.workload}`) ? 'training' : 'held-out';
  const fromConfig = cell ? cellSpec(cell, modelConstants()) : null;
  const spec = fromConfig ?? builtin ?? null;
  if (!spec)
    return { spec, role, model: null, skipError: null, trapsRelError: null, withinTolerance: null };
  const builtinOnly = fromConfig === null ? { builtinOnly: true as const } : {};
  const w = resolveWorkload(spec).workload;
  const model = await streamNumbers(workloadStream(w, { runs, seed: MODEL_SEED }), {
    workload: spec,
    file: 'workloads/fitted/constants.json',
    source: 'generated',
    fp: `${spec}: derived from the configuration, ${runs.toLocaleString('en-US')} runs, seed ${MODEL_SEED}`,
    seed: MODEL_SEED,
  });
  const realSkip = row.real.skip2015;
  const realTpe = row.real.trapsPerExit61;
  const skipError = realSkip === null ? null : round(model.skip2015 - realSkip, 4);
  const trapsRelError =
    realTpe === null || realTpe === 0 ? null : round(model.trapsPerExit61 / realTpe - 1, 4);
  const realTraps = row.real.fpTraps61;
  const exits = row.real.exits;
  const withinTolerance =
    skipError === null
      ? null
      : Math.abs(skipError) <= 0.05 &&
        // traps over the real cell's exits; none measured: the skip rate alone decides
        (realTraps === null ||
          exits === null ||
          trapsWithin(realTraps, model.trapsPerExit61 * exits));
  return { spec, ...builtinOnly, role, model, skipError, trapsRelError, withinTolerance };
}

/** The measured cells of a results file (validation/results.json `cells`). */
function measuredCells(file: string): MeasuredCell[] {
  if (!existsSync(file)) return [];
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { cells?: MeasuredCell[] };
  return raw.cells ?? [];
}
