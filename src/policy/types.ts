/**
 * The Policy API: a world-switch design is a few hooks over world-switch primitives,
 * written once and run unchanged by the semantic machine (checking) and the cost machine
 * (simulation). Vocabulary follows the KVM arm64 hyp code and the Linux fpsimd code.
 */

import type { NumericParam } from '../util/spec.js';

/** A vCPU index on the modelled physical CPU (0-based). */
export type VcpuId = number;

/** What a policy may know about a vCPU. */
export interface VcpuDesc {
  readonly id: VcpuId;
  /** The VM the vCPU belongs to (vCPUs of different VMs may share the physical CPU). */
  readonly vm: number;
  /** EL1 is AArch32 (HCR_EL2.RW == 0). */
  readonly aarch32: boolean;
}

/**
 * Where FP/SIMD register state can be saved to or restored from:
 * - `'hostCtxt'`: KVM's per-CPU host context (`kvm_cpu_context.gp_regs.fp_regs`), used by
 *   the 2015 designs, which switch the host state entirely inside the world switch;
 * - `'hostTask'`: the host task's own `thread.fpsimd_state`, which the host kernel restores
 *   on return to userspace (used by designs that cooperate with the host's lazy FP code);
 * - a vCPU index: that vCPU's context (`vcpu->arch.ctxt.gp_regs.fp_regs`).
 */
export type FpSlot = 'hostCtxt' | 'hostTask' | VcpuId;

/** Why `slot` is not an FP slot of a machine with `vcpus` vCPUs, or undefined. */
export function fpSlotProblem(slot: unknown, vcpus: number): string | undefined {
  if (slot === 'hostCtxt' || slot === 'hostTask') return undefined;
  if (typeof slot === 'number' && Number.isInteger(slot) && slot >= 0 && slot < vcpus)
    return undefined;
  return `saveFp/restoreFp got ${JSON.stringify(slot)}: a slot is 'hostCtxt', 'hostTask' or a vCPU index 0..${vcpus - 1}`;
}

/**
 * World-switch primitives a policy's hooks call. The EL2 ones mirror the hyp code; the
 * host-kernel ones mirror arch/arm64/kernel/fpsimd.c and are what KVM calls since v4.18.
 */
export interface Hyp {
  /** The vCPUs on this physical CPU. */
  readonly vcpus: readonly VcpuDesc[];
  /** `!(HCR_EL2 & HCR_RW)`: the vCPU's EL1 is AArch32. */
  isAArch32(vcpu: VcpuId): boolean;
  /** `msr cptr_el2` with TFP set or clear. Takes effect at the next context synchronisation. */
  writeCptrTfp(set: boolean): void;
  /** `__fpsimd_enabled()`: `!(read_sysreg(cptr_el2) & CPTR_EL2_TFP)` (the written value). */
  fpEnabled(): boolean;
  /** `isb`: a context synchronisation event. */
  isb(): void;
  /** `__fpsimd_save_state(slot)`: store the live FP/SIMD registers (an EL2 FP access). */
  saveFp(to: FpSlot): void;
  /** `__fpsimd_restore_state(slot)`: load the live FP/SIMD registers (an EL2 FP access). */
  restoreFp(from: FpSlot): void;
  /** `mrs fpexc32_el2` into the vCPU's context. */
  saveFpexc32(vcpu: VcpuId): void;
  /** `msr fpexc32_el2` from the vCPU's context. */
  restoreFpexc32(vcpu: VcpuId): void;
  /** `msr fpexc32_el2, (1 << 30)`: FPEXC.EN alone, the 2015 fix (docs/domain.md §3). */
  writeFpexc32En(): void;
  /** Host `fpsimd_save()`: save the live registers to the state bound to this CPU, if live. */
  fpsimdSave(): void;
  /** Host `fpsimd_bind_state_to_cpu(vcpu fp_regs)` + `clear_thread_flag(TIF_FOREIGN_FPSTATE)`. */
  bindToCpu(vcpu: VcpuId): void;
  /** Host `fpsimd_flush_cpu_state()`: the CPU holds nobody's state (TIF_FOREIGN_FPSTATE set). */
  flushCpuState(): void;
  /** Host `test_thread_flag(TIF_FOREIGN_FPSTATE)`: the registers are not the current task's. */
  foreignFpstate(): boolean;
}

/**
 * A design's hooks. `S` is the policy's own software state (flags and counters, as the
 * kernel keeps in `vcpu->arch.flags`): plain data only (numbers, booleans, arrays, objects
 * of those), mutated in place by the hooks. The engine copies and compares it to build
 * transition tables and to explore states, so it must not hold functions or references.
 */
export interface PolicyHooks<S = unknown> {
  /** The software state after boot. */
  init(vcpus: readonly VcpuDesc[]): S;
  /** `kvm_arch_vcpu_load()`: the vCPU thread is scheduled in / enters KVM_RUN. */
  onVcpuLoad?(hw: Hyp, s: S, vcpu: VcpuId): void;
  /** World-switch entry, before the ERET to the guest (`__activate_traps` and friends). */
  onEntry(hw: Hyp, s: S, vcpu: VcpuId): void;
  /** The guest's FP/SIMD access trapped to EL2 (EC 0x07); must leave TFP clear. */
  onFpTrap?(hw: Hyp, s: S, vcpu: VcpuId): void;
  /** World-switch exit to the host (`__guest_run` after the exit, `__deactivate_traps`). */
  onExit(hw: Hyp, s: S, vcpu: VcpuId): void;
  /** `kvm_arch_vcpu_put()`: preemption, or the end of a KVM_RUN ioctl. */
  onVcpuPut?(hw: Hyp, s: S, vcpu: VcpuId): void;
  /** Just before the vCPU thread returns to host userspace (after `onVcpuPut`). */
  onReturnToUser?(hw: Hyp, s: S, vcpu: VcpuId): void;
}

/** The hooks the engine calls at points of the world switch, in lifecycle order (not `init`). */
export const HOOK_NAMES = [
  'onVcpuLoad',
  'onEntry',
  'onFpTrap',
  'onExit',
  'onVcpuPut',
  'onReturnToUser',
] as const satisfies readonly (keyof PolicyHooks)[];
export type HookName = (typeof HOOK_NAMES)[number];

/** A numeric policy parameter (the same shape as a workload's: src/util/spec.ts). */
export type ParamSpec = NumericParam;

/**
 * A finite abstraction of a policy whose state is one entry per vCPU, for the checker:
 * the vCPU's entry falls into a few classes ("modes"), and each hook's effect on the
 * machine (which primitives it calls, in which order) depends on the state only through
 * the calling vCPU's class. The checker then forgets the state: at each hook in
 * `decidesAt` it lets the mode be any of `vcpuModes` (a nondeterministic choice), runs the
 * hook on that representative, and resets the state to `vcpuModes[0]` afterwards. Every
 * concrete history, for every parameter value, is one of the abstract histories, so a
 * clean abstract verdict covers them all (`covers` says which parameters). The premise is
 * tested per policy (test/check-abstraction.test.ts).
 */
export interface ModeAbstraction {
  /** Which parameter values a verdict on the abstraction covers, in words. */
  readonly covers: string;
  /** One representative per-vCPU state per class (the first is the reset value). */
  readonly vcpuModes: readonly { readonly label: string; readonly value: unknown }[];
  /** Hooks whose machine effect depends on the mode; every other hook's must not. */
  readonly decidesAt: readonly HookName[];
  /**
   * The mode (index into `vcpuModes`) of a vCPU's state entry. With it the simulator
   * keeps the mode in its compiled table and the rest of the entry (counters) beside it
   * (src/machine/factored.ts), so a table does not grow with the counters' values.
   */
  readonly modeOf?: (entry: unknown) => number;
}

/** What a policy module exports (default export): the design and how to instantiate it. */
export interface PolicyDefinition<S = unknown> {
  /** Short name used on the command line, e.g. `lazy-fixed`. */
  readonly name: string;
  /** One line: what the design does. */
  readonly summary: string;
  /** The code it models (kernel version, file, commit). */
  readonly models: string;
  readonly params?: Readonly<Record<string, ParamSpec>>;
  /**
   * The hooks treat vCPUs alike: they depend on a vCPU only through `isAArch32`, and the
   * state is null or one entry per vCPU. The checker may then identify states that differ
   * only by a permutation of interchangeable vCPUs (same width, same VM sharing).
   */
  readonly vcpuSymmetric?: boolean;
  /** A sound finite abstraction over every parameter value (see `ModeAbstraction`). */
  readonly abstraction?: ModeAbstraction;
  create(params: Readonly<Record<string, number>>): PolicyHooks<S>;
}

/** A policy instantiated with its parameters. */
export interface Policy<S = unknown> {
  /** Canonical spec: `name` or `name:key=value,...` with every parameter spelled out. */
  readonly id: string;
  readonly definition: PolicyDefinition<S>;
  readonly params: Readonly<Record<string, number>>;
  readonly hooks: PolicyHooks<S>;
  /** Where a user's policy came from (absolute path), for messages. */
  readonly source?: string;
}

/** Identity helper that gives a policy definition its types (for user modules). */
export function definePolicy<S>(def: PolicyDefinition<S>): PolicyDefinition<S> {
  return def;
}
