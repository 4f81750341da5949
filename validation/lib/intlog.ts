// Streaming counter over the OUTER QEMU's `-d int,plugin` log (QEMU 7.2 target/arm format),
// read from a pipe so the (large) log never touches the disk. Lines it understands:
//
//   Taking exception 1 [Undefined Instruction] on CPU 0      (arm_log_exception)
//   ...from EL1 to EL2
//   ...with ESR 0x7/0x1fe00000                                (EC/syndrome; stale for IRQs)
//   ...with ELR 0x40000018
//   ...to EL2 PC 0xffff800008088c00 PSTATE 0x3c9
//   Exception return from AArch64 EL2 to AArch64 EL1 PC 0x40000018
//   @E 0                   plugin: the ERET in __guest_enter is about to run on CPU 0 (guest entry)
//   @R 3 0 2000 0 1 4 1    plugin: one finished kvm run of window 3 on CPU 0 (instructions,
//                          FP at EL0, FP at EL1, guest task switches, vGIC loaded at entry)
//   @W+ 3 tag=4            plugin: measurement window 3 opens, tagged 4
//   @W- 3 tag=4 hyp_runs=...   plugin: window closes, with the plugin's counters
//
// Attribution: after "@E" the CPU runs the L2 guest until its next exception taken to
// EL2, which is the guest exit. Everything in between (including exceptions the guest
// takes to its own EL1) is the guest's. This is what separates, under VHE, the L2 guest's
// EL0 from L1's own EL0, whose exceptions are also "from EL0 to EL2". With several CPUs
// the state is per CPU ("Taking exception ... on CPU n", "@E n"); the lines of one
// exception are only contiguous when the CPUs do not run in parallel (-icount).
import { ecName } from './ec.js';

/** QEMU's EXCP_* numbers whose ESR line is meaningful (synchronous exceptions). */
const SYNC_EXCP = new Set([1, 2, 3, 4, 11, 12, 13, 7, 18, 22]);
const ASYNC_NAME: Record<number, string> = {
  5: 'IRQ',
  6: 'FIQ',
  14: 'VIRQ',
  15: 'VFIQ',
  24: 'VSERR',
};

export interface IntWindow {
  /** plugin window number, in order of opening */
  id: number;
  tag: number;
  /** guest exits as the hardware sees them: exceptions taken to EL2 from the L2 guest, by class */
  guestToEl2: Record<string, number>;
  guestToEl2Total: number;
  /** FP/SIMD traps to EL2 from the guest (EC 0x07), by the guest EL that took them */
  fpTraps: { total: number; fromEl0: number; fromEl1: number };
  /** SVE traps to EL2 from the guest (EC 0x19) */
  sveTraps: number;
  /** exceptions the guest took to its own EL1 (syscalls, its own page faults, ...) by class */
  guestToEl1: Record<string, number>;
  /** L1's own FP/SIMD traps to EL2 (EC 0x07 while not in the guest): its EL0 under VHE */
  hostFpTrapsToEl2: number;
  /** exceptions of L1 itself in the window, by "from->to class" */
  hostExceptions: number;
  /** the plugin's counters (hyp_runs, kvm_runs, kvm_runs_fp, ...) from the "@W-" line */
  plugin: Record<string, number>;
  /** one record per finished kvm run whose exit fell in the window (plugin records=1) */
  runs: IntRun[];
}

/** A kvm run (kvm_entry..kvm_exit) as the plugin and the exception log saw it. */
export interface IntRun {
  /** the L1 CPU (outer QEMU vCPU) it ran on */
  cpu: number;
  insns: number;
  /** class of the exception that ended it (the last one the guest took to EL2 in the run):
   * the EC name for a synchronous exception (as the kvm trace names it), IRQ, FIQ, ... */
  exit: string;
  fpEl0: 0 | 1;
  fpEl1: 0 | 1;
  switches: number;
  injected: 0 | 1;
  /** FP/SIMD traps to EL2 (EC 0x07) taken inside the run (the 6.1 design's cost) */
  fpTraps: number;
}

function newWindow(id: number, tag: number): IntWindow {
  return {
    id,
    tag,
    guestToEl2: {},
    guestToEl2Total: 0,
    fpTraps: { total: 0, fromEl0: 0, fromEl1: 0 },
    sveTraps: 0,
    guestToEl1: {},
    hostFpTrapsToEl2: 0,
    hostExceptions: 0,
    plugin: {},
    runs: [],
  };
}

interface Pending {
  cpu: number;
  excp: number;
  name: string;
  from?: number;
  to?: number;
  ec?: number;
}

export class IntLogCounter {
  readonly windows: IntWindow[] = [];
  lines = 0;
  bytes = 0;
  /** totals over the whole boot (outside windows too) */
  guestEntries = 0;
  guestFpTrapsAll = 0;
  hostFpTrapsAll = 0;
  pluginTotals: Record<string, number> = {};
  pluginBaseFound: boolean | undefined;
  /** per CPU: running the guest (after "@E n", until its next exception to EL2) */
  private inGuest: boolean[] = [];
  /** per CPU: class of the guest's last exception to EL2, and FP traps since the last record */
  private lastExit: string[] = [];
  private runFpTraps: number[] = [];
  private win: IntWindow | undefined;
  private pending: Pending | undefined;
  private partial = '';

  /** feed a chunk of the log */
  push(chunk: Buffer | string): void {
    const s = this.partial + chunk.toString();
    this.bytes += chunk.length;
    const lines = s.split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.line(l);
  }

  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
    this.finish();
  }

  private line(l: string): void {
    this.lines++;
    const c0 = l.charCodeAt(0);
    if (c0 === 46 /* . */) {
      const p = this.pending;
      if (!p) return;
      let m: RegExpExecArray | null;
      if ((m = /^\.\.\.from EL(\d) to EL(\d)/.exec(l))) {
        p.from = Number(m[1]);
        p.to = Number(m[2]);
      } else if ((m = /^\.\.\.with ESR 0x([0-9a-f]+)\//.exec(l))) {
        p.ec = parseInt(m[1], 16);
      } else if (l.startsWith('...to EL')) {
        this.finish();
      }
      return;
    }
    // any other line ends the pending exception record
    this.finish();
    if (c0 === 84 /* T */) {
      const m = /^Taking exception (\d+) \[([^\]]*)\](?: on CPU (\d+))?/.exec(l);
      if (m) {
        const cpu = m.at(3); // the CPU is optional in the line
        this.pending = { cpu: Number(cpu ?? 0), excp: Number(m[1]), name: m[2] };
      }
      return;
    }
    if (c0 === 64 /* @ */) this.pluginLine(l);
  }

  private pluginLine(l: string): void {
    if (l.charCodeAt(1) === 69 /* E */) {
      this.inGuest[l.length > 3 ? Number(l.slice(3)) : 0] = true;
      this.guestEntries++;
      return;
    }
    let m: RegExpExecArray | null;
    if ((m = /^@R (\d+) (\d+) (\d+) ([01]) ([01]) (\d+) ([01])/.exec(l))) {
      this.record(m);
      return;
    }
    if ((m = /^@W\+ (\d+) tag=(\d+)/.exec(l))) {
      this.win = newWindow(Number(m[1]), Number(m[2]));
      this.windows.push(this.win);
    } else if ((m = /^@W- (\d+) tag=\d+ (.*)$/.exec(l))) {
      const w = this.windows.find((x) => x.id === Number(m?.[1]));
      if (w) w.plugin = kv(m[2]);
      this.win = undefined;
    } else if ((m = /^@T \d+ tag=\d+ (.*)$/.exec(l))) {
      this.pluginTotals = kv(m[1]);
    } else if ((m = /^@I base_found=(\d)/.exec(l))) {
      this.pluginBaseFound = m[1] === '1';
    }
  }

  /** "@R <window> <cpu> <insns> <fp_el0> <fp_el1> <switches> <injected>": the run just finished on that CPU */
  private record(m: RegExpExecArray): void {
    const cpu = Number(m[2]);
    const w = this.windows.find((x) => x.id === Number(m[1]));
    w?.runs.push({
      cpu,
      insns: Number(m[3]),
      exit: this.lastExit[cpu] ?? '?',
      fpEl0: m[4] === '1' ? 1 : 0,
      fpEl1: m[5] === '1' ? 1 : 0,
      switches: Number(m[6]),
      injected: m[7] === '1' ? 1 : 0,
      fpTraps: this.runFpTraps[cpu] ?? 0,
    });
    this.runFpTraps[cpu] = 0;
  }

  private finish(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    if (p.to === undefined) return; // e.g. "handled as PSCI call": never reached a guest EL
    const cls = classOf(p);
    const w = this.win;
    if (this.inGuest[p.cpu]) {
      if (p.to === 2) {
        this.inGuest[p.cpu] = false;
        this.lastExit[p.cpu] = cls;
        if (p.ec === 0x07 && SYNC_EXCP.has(p.excp)) {
          this.guestFpTrapsAll++;
          this.runFpTraps[p.cpu] = (this.runFpTraps[p.cpu] ?? 0) + 1;
        }
        if (!w) return;
        w.guestToEl2[cls] = (w.guestToEl2[cls] ?? 0) + 1;
        w.guestToEl2Total++;
        if (SYNC_EXCP.has(p.excp) && p.ec === 0x07) {
          w.fpTraps.total++;
          if (p.from === 0) w.fpTraps.fromEl0++;
          else w.fpTraps.fromEl1++;
        }
        if (SYNC_EXCP.has(p.excp) && p.ec === 0x19) w.sveTraps++;
      } else if (w) {
        w.guestToEl1[cls] = (w.guestToEl1[cls] ?? 0) + 1;
      }
      return;
    }
    if (p.to === 2 && p.ec === 0x07 && SYNC_EXCP.has(p.excp)) {
      this.hostFpTrapsAll++;
      if (w) w.hostFpTrapsToEl2++;
    }
    if (w) w.hostExceptions++;
  }
}

function classOf(p: Pending): string {
  if (SYNC_EXCP.has(p.excp) && p.ec !== undefined) return ecName(p.ec);
  return ASYNC_NAME[p.excp] ?? `EXCP_${p.excp}`;
}

function kv(s: string): Record<string, number> {
  const o: Record<string, number> = {};
  for (const m of s.matchAll(/(\w+)=(\d+)/g)) o[m[1]] = Number(m[2]);
  return o;
}
