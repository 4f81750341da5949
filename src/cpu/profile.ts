/**
 * CPU cost profiles: what each world-switch primitive costs in cycles on one CPU, each
 * number with its source and confidence, and the profile compiled to integer cycle costs
 * for a given FP state size.
 */

import { EC, EXIT_CLASS_COUNT, EXIT_TYPE } from '../arch/esr.js';
import { type FpStateSize, FPSIMD_BYTES, fpStateBytes } from './fp-state.js';
import type { AnchorDef, Basis, GroupFit } from './cost-model.js';

export type Confidence = 'high' | 'medium' | 'low';

/** A number from outside, with where it comes from. */
export interface Sourced {
  readonly value: number;
  readonly source: string;
  readonly confidence: Confidence;
  /** How the value was derived, when it is not read straight off the source. */
  readonly note?: string;
  /** True when the value was fitted so that the model reproduces a published total. */
  readonly fitted?: boolean;
  /** Measured, published, estimated or fitted (by default: fitted if `fitted`, estimated if the source says so, else published). */
  readonly basis?: Basis;
}

/** The basis of a sourced number (explicit, or read from `fitted` and the source text). */
export function basisOf(s: Sourced): Basis {
  if (s.basis) return s.basis;
  if (s.fitted) return 'fitted';
  return /^estimate/i.test(s.source) ? 'estimated' : 'published';
}

/** Where an exit is handled (docs/design.md §4). */
export const HANDLED = { hyp: 0, kernel: 1, user: 2 } as const;
export type HandledName = keyof typeof HANDLED;
export type Handled = (typeof HANDLED)[HandledName];
export const HANDLED_NAMES: readonly HandledName[] = ['hyp', 'kernel', 'user'];

/**
 * Exit kinds that differ in the cost of the world switch itself (without FP switching).
 * The map from exit class and handling level to kind is `exitKind()`.
 */
export const EXIT_KINDS = [
  'hyp',
  'hvc',
  'sysreg',
  'mmio-kernel',
  'mmio-user',
  'wfx',
  'irq',
  'abort',
] as const;
export type ExitKind = (typeof EXIT_KINDS)[number];

/**
 * The cost kind of an exit: handled at EL2 without going to the host (`hyp`); to host
 * userspace (`mmio-user`, the VMM round trip); or by class when handled in the kernel.
 */
export function exitKind(exitClass: number, handled: Handled): ExitKind {
  if (handled === HANDLED.hyp) return 'hyp';
  if (handled === HANDLED.user) return 'mmio-user';
  switch (exitClass) {
    case EC.HVC32:
    case EC.HVC64:
    case EC.SMC32:
    case EC.SMC64:
      return 'hvc';
    case EC.SYS64:
    case EC.CP15_32:
    case EC.CP15_64:
    case EC.CP14_MR:
    case EC.CP14_LS:
    case EC.CP14_64:
    case EC.CP10_ID:
      return 'sysreg';
    case EC.DABT_LOW:
      return 'mmio-kernel';
    case EC.IABT_LOW:
      return 'abort';
    case EC.WFx:
      return 'wfx';
    case EXIT_TYPE.IRQ:
      return 'irq';
    default:
      return 'sysreg';
  }
}

/** A CPU cost profile. */
export interface CpuProfile {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly clockGHz: Sourced;
  /** Cycles to save the 520-byte FPSIMD state once (`__fpsimd_save_state`). */
  readonly fpSave: Sourced;
  /** Cycles to restore the 520-byte FPSIMD state once. */
  readonly fpRestore: Sourced;
  /** Exception entry from EL0/EL1 to EL2. */
  readonly trapEntry: Sourced;
  /** ERET from EL2 back to the guest. */
  readonly eret: Sourced;
  /** The FP trap handler's own work (dispatch, register spills), without save/restore. */
  readonly fpTrapHandler: Sourced;
  readonly isb: Sourced;
  /** `msr` to an EL2 trap-control register (CPTR_EL2, FPEXC32_EL2). */
  readonly sysregWrite: Sourced;
  /** `mrs` of CPTR_EL2 or FPEXC32_EL2. */
  readonly sysregRead: Sourced;
  /** World-switch round trip excluding FP switching, per exit kind. */
  readonly exitBase: Readonly<Record<ExitKind, Sourced>>;
  /** The published micro-benchmarks run on this CPU (docs/cost-model.md). */
  readonly anchors: readonly AnchorDef[];
  /** The structural fit of the profile's group, with every anchor held out in turn. */
  readonly costModel: GroupFit;
}

/**
 * A profile compiled for one FP state size: integer cycles per primitive, so that sums
 * are exact whatever the order (the table walk and the direct run must agree exactly).
 */
export interface CompiledCosts {
  readonly profile: CpuProfile;
  readonly fpBytes: number;
  readonly fpSave: number;
  readonly fpRestore: number;
  /** Trap entry + handler + ERET of one FP trap. */
  readonly fpTrap: number;
  readonly isb: number;
  readonly sysregWrite: number;
  readonly sysregRead: number;
  /** Base cycles per exit key (exit class x 3 + handled). */
  readonly exitBase: Float64Array;
}

/** Number of exit keys: exit class codes x handling levels. */
export const EXIT_KEY_COUNT = EXIT_CLASS_COUNT * 3;

/** Exit key of an exit class and handling level. */
export function exitKey(exitClass: number, handled: Handled): number {
  return exitClass * 3 + handled;
}

/**
 * Compiles a profile for an FP state size. Save/restore scale linearly with the bytes
 * moved: the published figures are for 520 B, and both the stp/ldp issue rate (LLVM
 * scheduling models) and the cache traffic scale with the number of bytes.
 * Cost: O(exit keys).
 */
export function compileCosts(profile: CpuProfile, size: FpStateSize): CompiledCosts {
  const bytes = fpStateBytes(size);
  const scale = bytes / FPSIMD_BYTES;
  const exitBase = new Float64Array(EXIT_KEY_COUNT);
  for (let code = 0; code < EXIT_CLASS_COUNT; code++) {
    for (let h = 0; h < 3; h++) {
      exitBase[exitKey(code, h as Handled)] = Math.round(
        profile.exitBase[exitKind(code, h as Handled)].value,
      );
    }
  }
  return {
    profile,
    fpBytes: bytes,
    fpSave: Math.round(profile.fpSave.value * scale),
    fpRestore: Math.round(profile.fpRestore.value * scale),
    fpTrap: Math.round(profile.trapEntry.value + profile.fpTrapHandler.value + profile.eret.value),
    isb: Math.round(profile.isb.value),
    sysregWrite: Math.round(profile.sysregWrite.value),
    sysregRead: Math.round(profile.sysregRead.value),
    exitBase,
  };
}
