// The FP use a scripted guest (guest/guest64.S, guest/guest32.S) is known to have, as an
// FP model for the trace importer (src/stream/trace-fp.ts): which FP accesses each run
// executed follows from the program's code (its labels, read from the object file by
// lib/build.ts) and from where the run resumed and where it stopped (the PCs kvm_entry and
// kvm_exit print). No fitted number enters.
//
//   prologue   AArch64: CPACR_EL1 write (no FP). AArch32: CPACR, then VMSR FPEXC (EN=1) at
//              `fpexc_pro`: an FPEXC access, trapped by CPTR_EL2.TFP (docs/domain.md §2.2).
//   loop x N   [fpexc-*: VMRS FPEXC, VMSR EN=0, VMSR EN=1 at fpexc_t0..2] [fp-*: fadd /
//              vadd.f64 at `fp_iter`], then the iteration's exit: HVC (handled in the host
//              kernel) or an MMIO store (host userspace, KVM_EXIT_MMIO).
//   done       an MMIO store to the "done" address, at `done`.
//
// Each iteration exits, so a run covers at most one pass of the loop: from its resume PC
// r to its exit PC x the guest executed the program text [r, x) in order, wrapping once
// from the end of the loop (`done`) to `loop` when x <= r. Exits and PCs (6.1):
// - the exit PC is the exception's preferred return address: the instruction an IRQ or an
//   abort interrupted (not executed), the one after an HVC (executed);
// - the resume PC is the kvm_entry PC, plus one instruction after an emulated MMIO access:
//   6.1 applies kvm_incr_pc's pending increment in hyp, after the kvm_entry tracepoint
//   (arch/arm64/kvm/hyp/include/hyp/adjust_pc.h __kvm_adjust_pc);
// - an IRQ or abort exit at the resume PC executed nothing;
// - an IRQ exit AT an FP access (x != r) counts that access: under TCG a host IRQ becomes
//   pending while EL2 emulates the FP trap handler (thousands of instructions) far more
//   often than in the few guest instructions before it, and is taken at the trap's ERET;
//   the FP state was switched by then.
// A run that ends on the done path (x >= done) executed no loop FP.
import { EC, EXIT_TYPE } from '../../src/arch/esr.js';
import type { TraceFpModel, TraceRunPcs } from '../../src/stream/trace-fp.js';
import { FP_EL1, FPEXC_ACCESS } from '../../src/machine/run-class.js';

/** Offsets (bytes from the load address) of one scripted guest's labels. */
export interface ProgramLayout {
  readonly loop: number;
  /** first byte after the loop: the done path */
  readonly done: number;
  /** the FP data instruction of an iteration (fp-* variants) */
  readonly fp: readonly number[];
  /** the FPEXC accesses of an iteration (fpexc-* variants, AArch32) */
  readonly fpexcToggle: readonly number[];
  /** the prologue's FPEXC write (AArch32) */
  readonly fpexcPrologue: readonly number[];
}

/** Both scripted guests, and where vmm.c loads them (hex). */
export interface GuestLayout {
  readonly guestBase: string;
  readonly aarch64: ProgramLayout;
  readonly aarch32: ProgramLayout;
}

interface ScriptedProgramFpUse {
  readonly name: string;
  readonly el1: 'aarch64' | 'aarch32';
  /** an FP instruction in every iteration */
  readonly fp: boolean;
  /** the iteration's exit */
  readonly exit: 'hvc' | 'mmio';
  /** FPEXC.EN toggled (VMRS/VMSR FPEXC) in every iteration (AArch32) */
  readonly fpexcToggle: boolean;
}

/** A64 and A32 (ARM state) instructions are 4 bytes. */
const INSN_BYTES = 4;

export class ScriptedProgramFp implements TraceFpModel {
  readonly description: string;
  readonly usesPcs = true;
  private lastExit = -1;
  private readonly base: bigint;
  private readonly layout: ProgramLayout;
  /** the FP accesses this variant executes: offset -> FP bits */
  private readonly accesses: ReadonlyArray<readonly [number, number]>;

  constructor(
    private readonly p: ScriptedProgramFpUse,
    layout: GuestLayout,
  ) {
    this.base = BigInt(layout.guestBase);
    this.layout = p.el1 === 'aarch64' ? layout.aarch64 : layout.aarch32;
    const acc: Array<[number, number]> = [];
    if (p.el1 === 'aarch32') for (const o of this.layout.fpexcPrologue) acc.push([o, FPEXC_ACCESS]);
    if (p.fpexcToggle) for (const o of this.layout.fpexcToggle) acc.push([o, FPEXC_ACCESS]);
    if (p.fp) for (const o of this.layout.fp) acc.push([o, FP_EL1]);
    this.accesses = acc;
    const what = [
      p.el1 === 'aarch32' ? 'prologue FPEXC write' : '',
      p.fp ? 'FP instruction per iteration' : '',
      p.fpexcToggle ? 'FPEXC toggle per iteration' : '',
    ]
      .filter((x) => x)
      .join(', ');
    this.description = `scripted program ${p.name}: ${what || 'no FP'}, located by the PCs of each run`;
  }

  aarch32(): boolean {
    return this.p.el1 === 'aarch32';
  }

  runBits(_v: number, _ns: number, exitClass: number, pcs?: TraceRunPcs): number {
    if (!pcs) throw new Error("ScriptedProgramFp reads the runs' PCs (usesPcs)");
    const r = Number(pcs.entry - this.base) + (this.lastExit === EC.DABT_LOW ? INSN_BYTES : 0);
    const x = Number(pcs.exit - this.base);
    this.lastExit = exitClass;
    const interrupted = exitClass === EXIT_TYPE.IRQ || exitClass === EC.IABT_LOW;
    if (interrupted && x === r) return 0; // nothing executed
    const { loop, done } = this.layout;
    let bits = 0;
    for (const [a, b] of this.accesses) {
      if (this.executed(a, r, x, loop, done) || (exitClass === EXIT_TYPE.IRQ && a === x)) bits |= b;
    }
    return bits;
  }

  /** Whether the path from r to x (x excluded) passes offset a. */
  private executed(a: number, r: number, x: number, loop: number, done: number): boolean {
    if (x >= done) return a >= r && a < loop; // ended on the done path: only prologue code counts
    if (r < loop) return a >= r && a < x; // from the prologue into (or within) the first pass
    if (a < loop) return false; // the prologue is behind us
    return r < x ? a >= r && a < x : a >= r || a < x; // one pass of the loop, wrapping once
  }
}
