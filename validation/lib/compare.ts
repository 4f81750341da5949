// Phase 2 of issue 6: the model held against the real kernel. For every cell of a run:
// - scripted guests: the real trace window imported (src/stream/trace-import.ts) with the
//   FP use the program is known to have (program-fp.ts), simulated with lazy-vcpu (the
//   6.1 design): the predicted FP trap count against the real one (exception log);
// - Linux guests: the measured share of runs touching FP (the 2015 design's real skip
//   rate is 1 minus it), exits per second, exit mix and real FP traps per exit (6.1)
//   beside the model: the real trace with the measured FP share, the real trace with the
//   validation workload's task model, the validation workload generated on its own (the
//   measured 1-vCPU TCG configuration, validation/workloads/) and the matching built-in.
// The result is `comparison` in validation/results.json, which the bench report shows.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Readable } from 'node:stream';
import type {
  GroundTruth,
  GtLinuxRow,
  GtModelNumbers,
  GtScriptedRow,
} from '../../src/report/ground-truth.js';
import { traceFpModel, type TraceFpModel } from '../../src/stream/trace-fp.js';
import { importTrace } from '../../src/stream/trace-import.js';
import { trainingCells } from './cell-spec.js';
import {
  configModel,
  MODEL_SEED,
  rowModels,
  streamNumbers,
  validationWorkloadFile,
} from './model-side.js';
import { type GuestLayout, ScriptedProgramFp } from './program-fp.js';
import type { ScriptedProgram } from './plan.js';
import type { Cell } from './results.js';
import { REPO_DIR } from './util.js';

/** The tracefs header and the lines [first, last] (1-based) of a trace file: one cell's window. */
function windowText(
  file: string,
  first: number,
  last: number,
  opts: { schedSwitch?: boolean } = {},
): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const header = lines.slice(0, 40).filter((l) => l.startsWith('#'));
  let body = lines.slice(first - 1, last);
  if (opts.schedSwitch === false) body = body.filter((l) => !/\ssched_switch:\s/.test(l));
  return `${[...header, ...body].join('\n')}\n`;
}

/** lazy-vcpu's FP traps over a trace text with an FP model; also the importer's counts. */
async function predictTraps(
  text: string,
  fp: TraceFpModel,
): Promise<{ traps: number; puts: number; runs: number; schedSwitches: number }> {
  const t = await importTrace(Readable.from([text]), { fp });
  try {
    const n = await streamNumbers(t.stream, {
      workload: 'trace',
      file: '',
      source: 'trace',
      fp: fp.description,
      seed: 0,
    });
    return {
      traps: n.fpTraps61,
      puts: t.counts.vcpuPuts,
      runs: t.counts.runs,
      schedSwitches: t.counts.schedSwitches,
    };
  } finally {
    t.dispose();
  }
}

async function scriptedRow(
  c: Cell,
  program: ScriptedProgram,
  layout: GuestLayout,
): Promise<GtScriptedRow | string> {
  if (!c.trace || !c.exits) return `${c.boot} ${c.program}: no trace`;
  if (!c.fpTraps) return `${c.boot} ${c.program}: no exception log`;
  const file = `${REPO_DIR}/${c.trace.file}`;
  const text = windowText(file, c.trace.firstLine, c.trace.lastLine);
  const withSched = await predictTraps(text, new ScriptedProgramFp(program, layout));
  const kvmOnly = await predictTraps(
    windowText(file, c.trace.firstLine, c.trace.lastLine, { schedSwitch: false }),
    new ScriptedProgramFp(program, layout),
  );
  return {
    program: c.program,
    mode: c.mode,
    el1: c.el1,
    boot: c.boot,
    iterations: Number(c.params.iterations),
    exits: c.exits.total,
    exitsByClass: c.exits.byClass,
    userspaceExits: c.exits.userspace,
    schedPuts: withSched.puts,
    realFpTraps: c.fpTraps.total,
    predictedFpTraps: withSched.traps,
    predictedKvmEventsOnly: kvmOnly.traps,
    agree: withSched.traps === c.fpTraps.total,
    fp: new ScriptedProgramFp(program, layout).description,
  };
}

/** The real trace window of a Linux cell with an FP model, in the comparison's units. */
async function traceNumbers(
  text: string,
  fp: TraceFpModel,
  workload: string,
  file: string,
): Promise<GtModelNumbers> {
  const t = await importTrace(Readable.from([text]), { fp });
  try {
    return await streamNumbers(t.stream, {
      workload,
      file,
      source: 'trace',
      fp: fp.description,
      seed: MODEL_SEED,
    });
  } finally {
    t.dispose();
  }
}

/** The trace-driven model numbers of a Linux cell: with the measured FP share, with the
 * validation workload's task model, and the one whose run and put counts the row uses. */
async function traceModels(
  c: Cell,
  traceFile: string,
  text: string,
  share: number | null,
): Promise<{
  measured: GtModelNumbers | null;
  traceModel: GtModelNumbers | null;
  probe: GtModelNumbers;
}> {
  const withModel = (spec: string, workload: string, file: string): Promise<GtModelNumbers> =>
    traceNumbers(text, traceFpModel(spec, { seed: MODEL_SEED, maxVcpus: 64 }), workload, file);
  const vfile = validationWorkloadFile(c.program, c.icount);
  // The put count comes from the importer (any FP model: puts do not depend on it).
  const measured =
    share === null
      ? null
      : await withModel(`markov:p=${share}`, `measured share ${share}`, traceFile);
  // No validation workload for this configuration: no trace-driven model number.
  const traceModel = existsSync(vfile)
    ? await withModel(vfile, c.program, relative(REPO_DIR, vfile))
    : null;
  const probe = measured ?? traceModel ?? (await withModel('markov:p=0', 'none', traceFile));
  return { measured, traceModel, probe };
}

/** Each exit class's share of the exits, largest first, to 6 digits. */
function exitMix(byClass: Record<string, number>, exits: number): Record<string, number> {
  const mix: Record<string, number> = {};
  for (const [k, v] of Object.entries(byClass).sort((a, b) => b[1] - a[1]))
    mix[k] = exits ? Number((v / exits).toFixed(6)) : 0;
  return mix;
}

/** The measured side of a Linux row: the trace window, the exception log and the plugin. */
function realNumbers(
  c: Cell,
  trace: NonNullable<Cell['trace']>,
  exitCounts: NonNullable<Cell['exits']>,
  share: number | null,
  probe: GtModelNumbers,
): GtLinuxRow['real'] {
  const runs = probe.runs;
  const puts = Math.round(probe.putsPerExit * runs);
  const exits = exitCounts.total;
  return {
    windowSec: trace.windowSec,
    guestRunSec: trace.guestRunSec,
    exits,
    exitsPerSec: trace.guestRunSec > 0 ? Number((exits / trace.guestRunSec).toFixed(1)) : 0,
    exitsPerWindowSec: trace.windowSec > 0 ? Number((exits / trace.windowSec).toFixed(1)) : 0,
    exitMix: exitMix(exitCounts.byClass, exits),
    fpRunShare: share,
    skip2015: share === null ? null : Number((1 - share).toFixed(4)),
    fpEl0Share: c.plugin?.fpEl0Share ?? null,
    fpEl1Share: c.plugin?.fpEl1Share ?? null,
    fpTraps61: c.fpTraps?.total ?? null,
    trapsPerExit61: c.fpTraps && exits ? Number((c.fpTraps.total / exits).toFixed(6)) : null,
    vcpuPuts: puts,
    putsPerExit: runs ? Number((puts / runs).toFixed(6)) : 0,
    guestContextSwitches: c.guestContextSwitches,
  };
}

/** One Linux cell's row: the real numbers beside the trace-driven, the validation
 * workload's and the configuration's model numbers; a string names what is missing. */
async function linuxRow(c: Cell): Promise<GtLinuxRow | string> {
  if (!c.trace || !c.exits || c.guestTimeSec === null)
    return `${c.boot} ${c.program}: no trace window`;
  const text = windowText(`${REPO_DIR}/${c.trace.file}`, c.trace.firstLine, c.trace.lastLine);
  const share = c.plugin?.fpRunShare ?? null;
  const { measured, traceModel, probe } = await traceModels(c, c.trace.file, text, share);
  const row: GtLinuxRow = {
    workload: c.program,
    mode: c.mode,
    icount: c.icount,
    boot: c.boot,
    command: Object.hasOwn(c.params, 'command') ? String(c.params.command) : '',
    real: realNumbers(c, c.trace, c.exits, share, probe),
    traceMeasuredShare: measured,
    traceModel,
    ...(await rowModels(c.program, c.icount)),
  };
  // The cell predicted from its configuration alone, training or held out (model-side.ts).
  return { ...row, configModel: await configModel(row, c, trainingCells()) };
}

interface CompareContext {
  readonly cells: readonly Cell[];
  readonly programs: readonly ScriptedProgram[];
  readonly layout: GuestLayout;
  readonly generatedAt: string;
  readonly quick: boolean;
  readonly kernel: string;
  readonly qemu: string;
}

/** The whole comparison, and the cells it could not compare (one line each). */
export async function compareAll(
  ctx: CompareContext,
): Promise<{ comparison: GroundTruth; problems: string[] }> {
  const scripted: GtScriptedRow[] = [];
  const linux: GtLinuxRow[] = [];
  const problems: string[] = [];
  for (const c of ctx.cells) {
    if (c.kind === 'scripted') {
      const p = ctx.programs.find((x) => x.name === c.program);
      if (!p) continue;
      const r = await scriptedRow(c, p, ctx.layout);
      if (typeof r === 'string') problems.push(r);
      else scripted.push(r);
    } else {
      const r = await linuxRow(c);
      if (typeof r === 'string') problems.push(r);
      else linux.push(r);
    }
  }
  return {
    comparison: {
      schema: 'fpswitch-ground-truth',
      version: 1,
      source: {
        file: 'validation/results.json',
        generatedAt: ctx.generatedAt,
        quick: ctx.quick,
        kernel: ctx.kernel,
        qemu: ctx.qemu,
      },
      scripted,
      linux,
      modelComputed: 'harness',
    },
    problems,
  };
}
