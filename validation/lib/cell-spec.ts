// The model side of the out-of-sample comparison: which parametrised built-in workload
// (src/stream/guest-configs.ts) describes a measured Linux-guest cell, from the cell's
// configuration alone (its command line, vCPUs, -icount and the guest speed), and which
// cells are training cells (validation/training.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConstants } from '../../src/stream/guest-configs.js';
import { WORKLOADS_DIR } from '../../src/stream/workload.js';

const REPO = join(WORKLOADS_DIR, '..');
const TRAINING_FILE = join(REPO, 'validation', 'training.json');

/** What the model side needs of a measured cell (a validation/results.json `cells` entry). */
export interface MeasuredCell {
  readonly boot: string;
  readonly program: string;
  readonly kind: string;
  readonly icount: boolean;
  readonly params: Readonly<Record<string, unknown>>;
  readonly guestContextSwitches?: number | null;
  readonly trace?: { readonly guestRunSec: number } | null;
  readonly plugin?: { readonly guestInsns?: number; readonly fpRunShare?: number | null } | null;
  /** The guest configuration the harness ran (validation/lib/plan.ts GuestConfig), when recorded. */
  readonly guest?: {
    readonly vcpus: number;
    readonly bench: string;
    readonly groups?: number;
    readonly fds?: number;
    readonly loops?: number;
    readonly messageSize?: number;
    readonly tasksAre?: 'process' | 'thread';
    readonly pinned?: readonly number[];
    readonly tasks?: number;
    readonly fpTasks?: number;
    readonly intTasks?: number;
  };
}

/** What a matrix cell of validation/fixtures/runs/cells.json records of its run. */
interface MatrixCellRecord {
  readonly boot: string;
  readonly workload: string;
  readonly icount: boolean;
  readonly guest?: MeasuredCell['guest'];
}

/** A matrix cell (cells.json) as the model side sees a measured cell: a Linux guest whose
 * configuration is its `guest` record (no command-line parameters). */
export function matrixMeasuredCell(c: MatrixCellRecord): MeasuredCell {
  return {
    boot: c.boot,
    program: c.workload,
    kind: 'linux',
    icount: c.icount,
    params: {},
    guest: c.guest,
  };
}

/** A cell's command line (`params.command`), or '' when it has none. */
export function cellCommand(c: MeasuredCell): string {
  const v = c.params.command;
  return typeof v === 'string' ? v : '';
}

export const cellId = (c: { boot: string; program: string }): string => `${c.boot}/${c.program}`;

/** The training cell ids. */
export function trainingCells(file = TRAINING_FILE): Set<string> {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { training: string[] };
  return new Set(raw.training);
}

/**
 * Guest instructions per ns of guest time: 1 under -icount shift=0 (validation/lib/boot.ts);
 * without it TCG's own speed, measured by the plugin (instructions over guest run time).
 */
function cellSpeed(c: MeasuredCell): number | null {
  if (c.icount) return 1;
  const insns = c.plugin?.guestInsns;
  const sec = c.trace?.guestRunSec;
  if (!insns || !sec) return null;
  return insns / sec / 1e9;
}

function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : dflt;
}

/** hackbench options of a cell's command (`run hackbench -g 2 -l 400 [-f N] [-s N] [-T]`). */
export function hackbenchOptions(command: string) {
  const args = command.split(/\s+/);
  return {
    groups: flag(args, '-g', 10),
    fds: flag(args, '-f', 20),
    loops: flag(args, '-l', 100),
    size: flag(args, '-s', 100),
    threads: args.includes('-T') || args.includes('--threads') ? 1 : 0,
  };
}

function cellVcpus(c: MeasuredCell): number {
  const v = Number(c.params.vcpus ?? c.params.smp ?? 1);
  return Number.isInteger(v) && v >= 1 ? v : 1;
}

/** The spec from a recorded guest configuration (the wider matrix's cells). */
function guestSpec(
  g: NonNullable<MeasuredCell['guest']>,
  common: string,
  vcpus: number,
  ipi: string,
): string | null {
  switch (g.bench) {
    case 'hackbench':
      return `hackbench:${common},${ipi},groups=${g.groups ?? 10},fds=${g.fds ?? 20},loops=${g.loops ?? 100},size=${g.messageSize ?? 100},threads=${g.tasksAre === 'thread' ? 1 : 0}`;
    case 'pipe-pingpong': {
      // Both processes pinned to one vCPU: they switch there (the other vCPU idles apart).
      const split = g.pinned ? new Set(g.pinned).size > 1 : vcpus > 1;
      return `lmbench-ctx:${common.replace(/vcpus=\d+/, `vcpus=${split ? 2 : 1}`)},procs=2`;
    }
    case 'null-syscall':
      return `lmbench-syscall:${common}`;
    case 'fp-mix': {
      // The armhf guest's VFP and integer processes under a 6.1 KVM host (HCR_EL2.TID3 set).
      const host = common.replace(/speed=[^,]*,/, '');
      return `fp-heavy-aarch32:${host},vfpProcs=${g.fpTasks ?? 2},intProcs=${g.intTasks ?? 1},tid3=1`;
    }
    case 'idle':
      // The harness's idle guest runs no user task (tasks 0): its wake-ups run none.
      return `idle:${common.replace(/speed=[^,]*,/, '')},userwake=${g.tasks === 0 ? 0 : 0.1}`;
    default:
      return null;
  }
}

/**
 * The workload spec describing a cell, or null when no parametrised workload does (the
 * idle guest, the scripted guests, the armhf guest, a cell without a speed).
 */
export function cellSpec(c: MeasuredCell, k: ModelConstants): string | null {
  if (c.kind !== 'linux') return null;
  const speed = cellSpeed(c);
  if (speed === null) return null;
  // the validation guest's reschedule IPIs per cross-vCPU wake-up (fitted), not Altra's
  // and its idle entries per cross-vCPU block of a vCPU's last task (fitted)
  const ipi = `ipi=${Number(k.validationIpiPerWake.toPrecision(4))},wfi=${Number(k.validationWfiPerBlock.toPrecision(4))}`;
  if (c.guest) {
    const v = c.guest.vcpus;
    const common = `vcpus=${v},speed=${Number(speed.toPrecision(4))},preempt=${Number(k.validationPreemptionsPerSec.toPrecision(4))},tickoff=${Number(k.validationTickOffsetUs.toPrecision(4))}`;
    return guestSpec(c.guest, common, v, ipi);
  }
  const vcpus = cellVcpus(c);
  const common = `vcpus=${vcpus},speed=${Number(speed.toPrecision(4))},preempt=${Number(k.validationPreemptionsPerSec.toPrecision(4))},tickoff=${Number(k.validationTickOffsetUs.toPrecision(4))}`;
  const command = cellCommand(c);
  switch (c.program) {
    case 'hackbench': {
      const o = hackbenchOptions(command);
      return `hackbench:${common},${ipi},groups=${o.groups},fds=${o.fds},loops=${o.loops},size=${o.size},threads=${o.threads}`;
    }
    case 'hackbench-thread': {
      const o = hackbenchOptions(command);
      return `hackbench:${common},${ipi},groups=${o.groups},fds=${o.fds},loops=${o.loops},size=${o.size},threads=1`;
    }
    case 'pipe-pingpong':
    case 'pipe-pingpong-split':
      return `lmbench-ctx:${common},procs=2`;
    case 'null-syscall':
      return `lmbench-syscall:${common}`;
    default:
      return null;
  }
}
