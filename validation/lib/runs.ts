// Per-run records of a Linux cell: the plugin's runs (lib/intlog.ts IntRun: instructions,
// FP/SIMD by EL, task switches, vGIC injection, the exit class from the exception log)
// joined with the kvm trace's kvm_entry..kvm_exit pairs of the same window (guest time, the
// vCPU thread that ran it), split per L2 vCPU and written as fixtures (lib/run-records.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join as join_ } from 'node:path';
import type { IntRun } from './intlog.js';
import type { Cell } from './results.js';
import { type RunMeta, type RunRecord, writeRunRecords } from './run-records.js';
import { type TraceEvent, exitClass } from './trace.js';

/** A kvm_entry..kvm_exit pair of the trace. */
interface TraceRun {
  cpu: number;
  pid: number;
  entryTs: number;
  exitTs: number;
  cls: string;
}

/** The trace's runs in a window, in order, each with the entry before its exit on the same L1 CPU. */
function traceRuns(events: readonly TraceEvent[], from: number, to: number): TraceRun[] {
  const entry = new Map<number, number>();
  const out: TraceRun[] = [];
  for (let i = from; i < to; i++) {
    const e = events[i];
    if (e.event === 'kvm_entry') entry.set(e.cpu, e.ts);
    else if (e.event === 'kvm_exit') {
      const ts = entry.get(e.cpu);
      if (ts === undefined) continue; // its entry was before the window
      out.push({ cpu: e.cpu, pid: e.pid, entryTs: ts, exitTs: e.ts, cls: exitClass(e.body).cls });
      entry.delete(e.cpu);
    }
  }
  return out;
}

/**
 * Align two run sequences of one L1 CPU: the plugin's window may open a few runs before the
 * trace's (another CPU's entry after the opening marker), and either may hold one more run
 * at an edge. Tries skipping up to 8 runs at the start of either and keeps the offset with
 * the most exit classes in agreement. Cost: O(16 n).
 */
function align(p: readonly IntRun[], t: readonly TraceRun[]): { dp: number; dt: number } {
  let best = { dp: 0, dt: 0, agree: -1 };
  for (let skip = -8; skip <= 8; skip++) {
    const dp = Math.max(0, skip);
    const dt = Math.max(0, -skip);
    const n = Math.min(p.length - dp, t.length - dt);
    let agree = 0;
    for (let i = 0; i < n; i++) if (p[dp + i].exit === t[dt + i].cls) agree++;
    if (agree > best.agree) best = { dp, dt, agree };
  }
  return best;
}

interface JoinedRun extends RunRecord {
  /** the L2 vCPU (0-based: rank of its thread id among the cell's vCPU threads) */
  vcpu: number;
  entryTs: number;
}

export interface Join {
  runs: JoinedRun[];
  /** plugin runs that found a trace partner, and of those how many agree on the exit class */
  matched: number;
  classAgree: number;
  pluginRuns: number;
  traceRuns: number;
}

/**
 * Join a cell's plugin runs with its trace window. `nsFromInsns`: guest time is the run's
 * instruction count (-icount shift=0 with one L1 CPU: 1 instruction = 1 ns exactly); else
 * the trace's kvm_entry..kvm_exit time (L1's clock, microsecond resolution).
 */
export function joinRuns(
  plugin: readonly IntRun[],
  events: readonly TraceEvent[],
  window: [number, number],
  nsFromInsns: boolean,
): Join {
  const trace = traceRuns(events, window[0], window[1]);
  const cpus = [...new Set([...plugin.map((r) => r.cpu), ...trace.map((r) => r.cpu)])];
  const pids = [...new Set(trace.map((r) => r.pid))].sort((a, b) => a - b);
  const runs: JoinedRun[] = [];
  let matched = 0;
  let classAgree = 0;
  for (const cpu of cpus) {
    const p = plugin.filter((r) => r.cpu === cpu);
    const t = trace.filter((r) => r.cpu === cpu);
    const { dp, dt } = align(p, t);
    const n = Math.min(p.length - dp, t.length - dt);
    for (let i = 0; i < n; i++) {
      const pr = p[dp + i];
      const tr = t[dt + i];
      matched++;
      if (pr.exit === tr.cls) classAgree++;
      runs.push({
        insns: pr.insns,
        ns: nsFromInsns ? pr.insns : Math.round((tr.exitTs - tr.entryTs) * 1e9),
        exit: pr.exit,
        fpEl0: pr.fpEl0,
        fpEl1: pr.fpEl1,
        switches: pr.switches,
        injected: pr.injected,
        vcpu: pids.indexOf(tr.pid),
        entryTs: tr.entryTs,
      });
    }
  }
  runs.sort((a, b) => a.entryTs - b.entryTs);
  return { runs, matched, classAgree, pluginRuns: plugin.length, traceRuns: trace.length };
}

/** At most `cap` runs from the middle of a sequence (startup and wind-down stay out). */
function middleWindow<T>(runs: readonly T[], cap: number): { first: number; runs: T[] } {
  if (runs.length <= cap) return { first: 0, runs: [...runs] };
  const first = Math.floor((runs.length - cap) / 2);
  return { first, runs: runs.slice(first, first + cap) };
}

/** Runs kept per fixture file: a middle window, so the files stay small enough to commit. */
const FIXTURE_RUNS_CAP = 5000;

interface RunFixtureSource {
  generatedAt: string;
  kernel: string;
  l1Cpus: number;
}

/**
 * Write a cell's joined runs as per-run fixtures in `dir`: one file per L2 vCPU
 * (`<boot>-<workload>.runs.tsv.gz`, or `.vcpuN.runs.tsv.gz` for a multi-vCPU guest), each a
 * middle window of at most `cap` runs. Returns the files written.
 */
export function writeCellRuns(
  dir: string,
  id: string,
  cell: Cell,
  join: Join,
  src: RunFixtureSource,
  cap = FIXTURE_RUNS_CAP,
): string[] {
  const vcpus = cell.guest?.vcpus ?? 1;
  const files: string[] = [];
  for (let v = 0; v < vcpus; v++) {
    const all = join.runs.filter((r) => r.vcpu === v);
    if (!all.length) continue;
    const name = vcpus > 1 ? `${id}.vcpu${v}` : id;
    const { first, runs } = middleWindow(all, cap);
    const meta: RunMeta = {
      cell: name,
      workload: cell.program,
      guest: { ...cell.guest, vcpu: v },
      mode: cell.mode,
      icount: cell.icount,
      kernel: src.kernel,
      source: {
        generatedAt: src.generatedAt,
        boot: cell.boot,
        l1Cpus: src.l1Cpus,
        trace: cell.trace?.file ?? null,
        command: cell.params.command,
        harness: 'validation/run.ts, plugin validation/plugin/fprun.c',
      },
      ns:
        cell.perRun?.ns === 'insns'
          ? 'guest instructions (-icount shift=0, one L1 CPU: 1 instruction = 1 ns)'
          : 'kvm_entry..kvm_exit on L1 trace clock (microsecond resolution)',
      window: { first, count: runs.length, of: all.length },
      join: {
        pluginRuns: join.pluginRuns,
        traceRuns: join.traceRuns,
        matched: join.matched,
        classAgree: join.classAgree,
      },
    };
    const file = join_(dir, `${name}.runs.tsv.gz`);
    writeRunRecords(file, meta, runs);
    files.push(file);
  }
  return files;
}

/** A Linux cell's own totals beside its per-run fixtures (validation/fixtures/runs/cells.json). */
interface CellSummary {
  cell: string;
  /** when the run that measured it finished */
  generatedAt: string;
  boot: string;
  workload: string;
  guest: Cell['guest'];
  mode: string;
  icount: boolean;
  el1: string;
  fixtures: string[];
  real: {
    exits: number | null;
    guestTimeSec: number | null;
    exitsPerSec: number | null;
    exitMix: Record<string, number> | null;
    /** 1 - the plugin's share of kvm runs that executed FP/SIMD: the 2015 design's skip rate */
    skip2015: number | null;
    fpEl0Share: number | null;
    fpEl1Share: number | null;
    /** FP/SIMD traps to EL2 (exception log, EC 0x07) in the window: the 6.1 design's */
    fpTraps61: number | null;
    trapsPerExit61: number | null;
    /** armhf: VMRS/VMSR FPEXC executed, and per exit */
    fpexcAccesses: number | null;
    fpexcAccessesPerExit: number | null;
    /** guest task switches: the plugin's count, and the guest's /proc/stat ctxt delta */
    switches: number | null;
    guestContextSwitches: number | null;
  };
}

/** The summaries of the Linux cells that have per-run records. */
function cellSummaries(cells: readonly Cell[], generatedAt: string): CellSummary[] {
  return cells
    .filter((c) => c.kind === 'linux' && c.perRun)
    .map((c) => ({
      cell: `${c.boot}-${c.program}`,
      generatedAt,
      boot: c.boot,
      workload: c.program,
      guest: c.guest,
      mode: c.mode,
      icount: c.icount,
      el1: c.el1,
      fixtures: c.perRun?.fixtures ?? [],
      real: {
        exits: c.exits?.total ?? null,
        guestTimeSec: c.guestTimeSec,
        exitsPerSec: c.exitsPerSec,
        exitMix: c.exitMix,
        skip2015: c.plugin?.skipShare ?? null,
        fpEl0Share: c.plugin?.fpEl0Share ?? null,
        fpEl1Share: c.plugin?.fpEl1Share ?? null,
        fpTraps61: c.fpTraps?.total ?? null,
        trapsPerExit61: c.fpTrapsPerExit,
        fpexcAccesses: c.plugin?.fpexcAccesses ?? null,
        fpexcAccessesPerExit: c.plugin?.fpexcAccessesPerExit ?? null,
        switches: c.plugin?.switches ?? null,
        guestContextSwitches: c.guestContextSwitches,
      },
    }));
}

/**
 * Merge `cells`' summaries into `file` (cells.json beside the fixtures): a cell measured
 * again replaces its old entry, others stay (a run with --only rewrites only its boots).
 */
export function writeCellSummaries(
  file: string,
  cells: readonly Cell[],
  generatedAt: string,
): void {
  type File = { cells: CellSummary[] };
  const old: File = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as File)
    : { cells: [] };
  const fresh = cellSummaries(cells, generatedAt);
  const ids = new Set(fresh.map((c) => c.cell));
  const merged = [...old.cells.filter((c) => !ids.has(c.cell)), ...fresh].sort((a, b) =>
    a.cell.localeCompare(b.cell),
  );
  writeFileSync(file, `${JSON.stringify({ cells: merged }, null, 2)}\n`);
}
