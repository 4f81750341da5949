// Turning one boot's raw outputs (console, traces, exception-log windows) into result cells.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { BootResult } from './boot.js';
import type { IntWindow } from './intlog.js';
import { type LinuxWorkload, type ScriptedProgram, l2Groups } from './plan.js';
import { type Join, joinRuns } from './runs.js';
import {
  type TraceEvent,
  type TraceStats,
  countEvents,
  fwcfgWindows,
  parseTrace,
  vmmWindow,
} from './trace.js';
import { REPO_DIR } from './util.js';

/** 1: phase 1 (measurements); 2: + plugin FP shares by guest EL, guest context switches, the model comparison (`comparison`). */
export const SCHEMA_VERSION = 2;

interface PluginShare {
  /** kvm_entry..kvm_exit runs whose exit fell in the window */
  kvmRuns: number;
  /** ... that executed at least one FP/SIMD instruction */
  kvmRunsFp: number;
  /** kvmRunsFp / kvmRuns: the share of exits after which the 2015 design must switch FP */
  fpRunShare: number | null;
  /** 1 - fpRunShare: the 2015 lazy design's skip rate, measured */
  skipShare: number | null;
  /** kvm runs in which the guest's user code (EL0 VAs) / its kernel (EL1 VAs) executed FP/SIMD */
  kvmRunsFpEl0: number | null;
  kvmRunsFpEl1: number | null;
  fpEl0Share: number | null;
  fpEl1Share: number | null;
  /** runs as the hardware sees them (ERET in __guest_enter to the next L1 instruction) */
  hypRuns: number;
  hypRunsFp: number;
  /** hyp runs whose last guest instruction was FP/SIMD (ended by the FP trap itself) */
  hypRunsFpEnd: number;
  guestInsns: number;
  /** the guest kernel's task switches in the window (L2 __switch_to; armhf: TPIDRURO writes) */
  switches: number | null;
  /** armhf guest: VMRS/VMSR of FPEXC executed in the window, and per kvm_exit of the trace */
  fpexcAccesses: number | null;
  fpexcAccessesPerExit: number | null;
}

export interface Cell {
  program: string;
  kind: 'scripted' | 'linux';
  mode: 'vhe' | 'nvhe';
  el1: 'aarch64' | 'aarch32';
  icount: boolean;
  boot: string;
  /** what the program does (scripted) or runs (linux) */
  params: Record<string, string | number | boolean>;
  /** real FP/SIMD traps to EL2 taken by the guest (EC 0x07), from QEMU's exception log */
  fpTraps: { total: number; fromEl0: number; fromEl1: number } | null;
  sveTraps: number | null;
  /** guest exceptions taken to EL2 (exception log), by class: every hardware exit incl. FP traps */
  hwExitsToEl2: { total: number; byClass: Record<string, number> } | null;
  /** exceptions the guest took to its own EL1 (exception log) */
  guestToEl1: Record<string, number> | null;
  /** from the kvm trace */
  exits: {
    total: number;
    byType: Record<string, number>;
    byClass: Record<string, number>;
    userspace: number;
    userspaceByReason: Record<string, number>;
    entries: number;
    mmio: number;
  } | null;
  trace: {
    file: string;
    firstLine: number;
    lastLine: number;
    windowSec: number;
    guestRunSec: number;
  } | null;
  /** linux: guest time is the window's length on L1's clock, which L2's clock follows */
  guestTimeSec: number | null;
  exitsPerSec: number | null;
  exitMix: Record<string, number> | null;
  fpTrapsPerExit: number | null;
  /** linux: context switches the guest kernel counted over the window (/proc/stat ctxt) */
  guestContextSwitches: number | null;
  plugin: PluginShare | null;
  /** linux: the guest configuration (vCPUs, groups, fds, loops, ...: lib/plan.ts GuestConfig) */
  guest?: LinuxWorkload['guest'];
  /** linux: the per-run records' join of plugin and trace (the runs go to fixtures) */
  perRun?: {
    pluginRuns: number;
    traceRuns: number;
    matched: number;
    /** matched runs whose exit class (exception log) equals the trace's kvm_exit class */
    classAgree: number;
    /** guest time per run: instructions (-icount shift=0, one L1 CPU) or the trace's */
    ns: 'insns' | 'trace';
    fixtures: string[];
  } | null;
  /** what the program itself printed (VMM-RESULT, "Simple syscall: ...", hackbench "Time: ...") */
  output: string[];
  problems: string[];
}

function pluginShare(w: IntWindow | undefined, exits?: number): PluginShare | null {
  if (!w || !('kvm_runs' in w.plugin)) return null;
  const p = w.plugin;
  const share = p.kvm_runs ? p.kvm_runs_fp / p.kvm_runs : null;
  // counters an older plugin build did not print are absent (the log line is key=value)
  const opt = (k: string): number | null => (k in p ? p[k] : null);
  const fpexc = opt('fpexc_accesses');
  return {
    kvmRuns: p.kvm_runs,
    kvmRunsFp: p.kvm_runs_fp,
    fpRunShare: share === null ? null : round(share),
    skipShare: share === null ? null : round(1 - share),
    kvmRunsFpEl0: opt('kvm_runs_fp_el0'),
    kvmRunsFpEl1: opt('kvm_runs_fp_el1'),
    fpEl0Share: p.kvm_runs && 'kvm_runs_fp_el0' in p ? round(p.kvm_runs_fp_el0 / p.kvm_runs) : null,
    fpEl1Share: p.kvm_runs && 'kvm_runs_fp_el1' in p ? round(p.kvm_runs_fp_el1 / p.kvm_runs) : null,
    hypRuns: p.hyp_runs,
    hypRunsFp: p.hyp_runs_fp,
    hypRunsFpEnd: p.hyp_runs_fp_end,
    guestInsns: p.guest_insns,
    switches: opt('switches'),
    fpexcAccesses: fpexc,
    fpexcAccessesPerExit: fpexc !== null && exits ? round(fpexc / exits) : null,
  };
}

/** "Guest context switches: N" (fpsw-bench, from the guest's /proc/stat) */
function contextSwitches(output: readonly string[]): number | null {
  for (const l of output) {
    const m = /^Guest context switches: (\d+)/.exec(l);
    if (m) return Number(m[1]);
  }
  return null;
}

function round(x: number, d = 4): number {
  return Number(x.toFixed(d));
}

function exitsOf(s: TraceStats): NonNullable<Cell['exits']> {
  return {
    total: s.exits,
    byType: s.exitsByType,
    byClass: s.exitsByClass,
    userspace: s.userspaceExits,
    userspaceByReason: s.userspaceExitsByReason,
    entries: s.entries,
    mmio: s.mmio,
  };
}

function mix(byClass: Record<string, number>, total: number): Record<string, number> {
  const o: Record<string, number> = {};
  for (const [k, v] of Object.entries(byClass).sort((a, b) => b[1] - a[1]))
    o[k] = total ? round(v / total) : 0;
  return o;
}

/** Where a cell's counts come from: the trace file and the window of it that was counted. */
function traceOf(file: string, s: TraceStats): NonNullable<Cell['trace']> {
  return {
    file: rel(file),
    firstLine: s.firstLine,
    lastLine: s.lastLine,
    windowSec: s.windowSec,
    guestRunSec: s.guestRunSec,
  };
}

function rel(p: string): string {
  return relative(REPO_DIR, p);
}

function windowByTag(b: BootResult, tag: number): IntWindow | undefined {
  return b.intlog?.windows.filter((w) => w.tag === tag).slice(-1)[0];
}

function fromInt(
  w: IntWindow | undefined,
): Pick<Cell, 'fpTraps' | 'sveTraps' | 'hwExitsToEl2' | 'guestToEl1'> {
  if (!w) return { fpTraps: null, sveTraps: null, hwExitsToEl2: null, guestToEl1: null };
  return {
    fpTraps: { ...w.fpTraps },
    sveTraps: w.sveTraps,
    hwExitsToEl2: { total: w.guestToEl2Total, byClass: w.guestToEl2 },
    guestToEl1: w.guestToEl1,
  };
}

export function scriptedCells(
  b: BootResult,
  programs: ScriptedProgram[],
  iterations: number,
): Cell[] {
  const cells: Cell[] = [];
  for (const p of programs) {
    const st = b.steps.get(p.tag);
    const problems: string[] = [];
    let exits: Cell['exits'] = null;
    let trace: Cell['trace'] = null;
    if (!st) problems.push('step never started');
    else if (st.rc !== 0) problems.push(`VMM exited ${st.rc ?? '?'}: ${st.output.join(' ')}`);
    if (st?.traceFile) {
      const { events } = parseTrace(readFileSync(st.traceFile, 'utf8'));
      const [from, to] = vmmWindow(events);
      const s = countEvents(events, from, to);
      exits = exitsOf(s);
      trace = traceOf(st.traceFile, s);
    }
    const w = windowByTag(b, p.tag);
    if (!w && b.intlog) problems.push('no plugin window with this tag in the exception log');
    const ints = fromInt(w);
    cells.push({
      program: p.name,
      kind: 'scripted',
      mode: b.mode,
      el1: p.el1,
      icount: b.icount,
      boot: b.id,
      params: {
        iterations,
        variant: p.variant,
        fp: p.fp,
        exit: p.exit,
        fpexcToggle: p.fpexcToggle,
      },
      ...ints,
      exits,
      trace,
      guestTimeSec: null,
      exitsPerSec: null,
      exitMix: exits ? mix(exits.byClass, exits.total) : null,
      fpTrapsPerExit:
        exits && ints.fpTraps && exits.total ? round(ints.fpTraps.total / exits.total) : null,
      guestContextSwitches: null,
      plugin: p.el1 === 'aarch64' ? pluginShare(w) : null, // the plugin decodes A64 only
      output: st?.output ?? [],
      problems,
    });
  }
  return cells;
}

/** A Linux cell's per-run records, joined, for the fixtures (run.ts writes them). */
export type CellRuns = Map<string, { cell: Cell; join: Join }>;

/** One in-L1 QEMU run's trace: its events, the workloads' fw_cfg windows, what went wrong. */
interface GroupTrace {
  traceFile?: string;
  events: TraceEvent[];
  windows: Array<[number, number]>;
  ran: LinuxWorkload[];
  problems: string[];
}

function groupTrace(b: BootResult, step: number, workloads: LinuxWorkload[]): GroupTrace {
  const st = b.steps.get(step);
  const g: GroupTrace = {
    traceFile: st?.traceFile,
    events: [],
    windows: [],
    ran: [],
    problems: [],
  };
  if (!st) g.problems.push('the Linux L2 step never started');
  else if (st.rc !== 0) g.problems.push(`the in-L1 QEMU exited ${st.rc}`);
  if (g.traceFile) {
    g.events = parseTrace(readFileSync(g.traceFile, 'utf8')).events;
    g.windows = fwcfgWindows(g.events);
  }
  g.ran = workloads.filter((w) => b.l2.runs.has(w.tag));
  if (g.traceFile && g.windows.length !== g.ran.length)
    g.problems.push(
      `trace has ${g.windows.length} fw_cfg marker windows for ${g.ran.length} workloads`,
    );
  return g;
}

function perRunOf(join: Join | null, nsFromInsns: boolean): Cell['perRun'] {
  if (!join) return null;
  const { pluginRuns, traceRuns, matched, classAgree } = join;
  const ns = nsFromInsns ? 'insns' : 'trace';
  return { pluginRuns, traceRuns, matched, classAgree, ns, fixtures: [] };
}

/** One workload's cell over its trace window and plugin window, and its per-run join. */
function linuxCell(
  b: BootResult,
  w: LinuxWorkload,
  g: GroupTrace,
  nsFromInsns: boolean,
): { cell: Cell; join: Join | null } {
  const problems = [...g.problems];
  const run = b.l2.runs.get(w.tag);
  if (!run) problems.push('workload never started in L2');
  else if (run.rc !== 0) problems.push(`workload exited ${run.rc}`);
  const k = g.ran.indexOf(w);
  const win = k >= 0 && g.traceFile ? g.windows[k] : undefined;
  const s = win ? countEvents(g.events, win[0], win[1]) : undefined;
  const exits = s ? exitsOf(s) : null;
  const iw = windowByTag(b, w.tag);
  if (!iw && b.intlog) problems.push('no plugin window with this tag in the exception log');
  const ints = fromInt(iw);
  const join = iw && win && iw.runs.length ? joinRuns(iw.runs, g.events, win, nsFromInsns) : null;
  const cell: Cell = {
    program: w.name,
    kind: 'linux',
    mode: b.mode,
    el1: w.guest.el1 ?? 'aarch64',
    icount: b.icount,
    boot: b.id,
    params: { command: w.args.join(' ') },
    guest: w.guest,
    ...ints,
    exits,
    trace: s && g.traceFile ? traceOf(g.traceFile, s) : null,
    guestTimeSec: s ? s.windowSec : null,
    exitsPerSec: s && s.windowSec > 0 ? Math.round(s.exits / s.windowSec) : null,
    exitMix: exits ? mix(exits.byClass, exits.total) : null,
    fpTrapsPerExit:
      exits && ints.fpTraps && exits.total ? round(ints.fpTraps.total / exits.total) : null,
    guestContextSwitches: contextSwitches(run?.output ?? []),
    plugin: pluginShare(iw, exits?.total),
    perRun: perRunOf(join, nsFromInsns),
    output: run?.output ?? [],
    problems,
  };
  return { cell, join };
}

/** The cells of one in-L1 QEMU run (one L2 vCPU count): one per workload, over its trace window. */
function linuxGroupCells(
  b: BootResult,
  step: number,
  workloads: LinuxWorkload[],
  nsFromInsns: boolean,
  runsOut?: CellRuns,
): Cell[] {
  const g = groupTrace(b, step, workloads);
  return workloads.map((w) => {
    const { cell, join } = linuxCell(b, w, g, nsFromInsns);
    if (join && runsOut) runsOut.set(`${b.id}-${w.name}`, { cell, join });
    return cell;
  });
}

/**
 * The Linux cells of a boot, one per workload, grouped by the in-L1 QEMU run (L2 vCPU
 * count) that ran them. `l1Cpus`: L1's CPUs (guest time per run is the instruction count
 * only with -icount on one L1 CPU). Per-run joins go to `runsOut` when given.
 */
export function linuxCells(
  b: BootResult,
  workloads: LinuxWorkload[],
  l1Cpus = 1,
  runsOut?: CellRuns,
): Cell[] {
  const nsFromInsns = b.icount && l1Cpus === 1;
  return l2Groups(workloads).flatMap((g) =>
    linuxGroupCells(b, g.step, g.workloads, nsFromInsns, runsOut),
  );
}
