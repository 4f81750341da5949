/**
 * FP/SIMD access checks, mirroring the Arm ARM pseudocode function by function (DDI 0487,
 * shared pseudocode J1: `AArch32.CheckAdvSIMDOrFPEnabled`, `AArch32.CheckFPAdvSIMDTrap`,
 * `AArch64.CheckFPAdvSIMDEnabled`, `AArch64.CheckFPAdvSIMDTrap`, and the VMRS/VMSR and
 * MRS/MSR FPEXC32_EL2 encodings). Names follow the pseudocode with `.` written as `_`, so a
 * reviewer can hold one against the other. EL3 is not implemented in the modelled system
 * (KVM's view: EL3 never traps FP), and EL2 is AArch64 and enabled (non-secure).
 *
 * The order matters and is the crux of the 2015 "random illegal VFP instructions" bug
 * (docs/domain.md §3, bug 3): for an AArch32 guest, CPACR and FPEXC.EN are checked (UNDEF at
 * EL1) before CPTR_EL2.TFP (trap to EL2), so a stale FPEXC32_EL2.EN=0 UNDEFs the guest's
 * instruction instead of trapping to KVM.
 */

import type { AccessField, ExceptionLevel } from './registers.js';

/** The outcome of an FP/SIMD access check. */
export type AccessOutcome =
  /** The access goes ahead. */
  | 'executes'
  /** UNDEFINED at the guest's AArch32 EL1 (CPACR or FPEXC.EN). */
  | 'undef-el1'
  /** Trapped to the guest's AArch64 EL1 (CPACR_EL1.FPEN), EC 0x07 at EL1. */
  | 'trap-el1'
  /** Trapped to EL2 (CPTR_EL2.TFP), EC 0x07: KVM's lazy switch entry point. */
  | 'trap-el2'
  /** EL2's own access trapped to EL2 by CPTR_EL2.TFP: the hypervisor crashes. */
  | 'el2-self-trap';

/**
 * What the checks read of the PE state. `cpacr` is CPACR_EL1 bits [21:20]: CPACR_EL1.FPEN
 * for an AArch64 EL1, and, because AArch32 CPACR is architecturally mapped to CPACR_EL1,
 * also CPACR.cp10 for an AArch32 EL1 (same bits; cp11 must be programmed like cp10).
 */
export interface PeView {
  /** PSTATE.EL of the access. */
  readonly el: ExceptionLevel;
  /** EL1 uses AArch32 (HCR_EL2.RW == 0). At EL0 under an AArch32 EL1, EL0 is AArch32 too. */
  readonly el1IsAArch32: boolean;
  /** CPACR_EL1.FPEN / CPACR.cp10. */
  readonly cpacr: AccessField;
  /** CPACR.ASEDIS (AArch32 only): Advanced SIMD disabled. */
  readonly asedis: boolean;
  /** FPEXC.EN as the PE sees it: the live FPEXC32_EL2.EN. */
  readonly fpexcEn: boolean;
  /** CPTR_EL2.TFP in effect (a write not yet synchronised is not in effect). */
  readonly cptrTfp: boolean;
}

/**
 * AArch64.CheckFPAdvSIMDTrap(): the EL2 (and EL3, absent here) trap controls.
 * Non-VHE (HCR_EL2.E2H == 0): CPTR_EL2.TFP traps EL0, EL1 and EL2 itself.
 */
function AArch64_CheckFPAdvSIMDTrap(pe: PeView): AccessOutcome {
  if (pe.cptrTfp) return pe.el === 2 ? 'el2-self-trap' : 'trap-el2';
  return 'executes';
}

/**
 * AArch64.CheckFPAdvSIMDEnabled(): CPACR_EL1.FPEN at EL0/EL1 first (trap to EL1), then
 * the EL2 controls.
 */
export function AArch64_CheckFPAdvSIMDEnabled(pe: PeView): AccessOutcome {
  if (pe.el === 0 || pe.el === 1) {
    let disabled: boolean;
    switch (pe.cpacr) {
      case 0b00:
      case 0b10:
        disabled = true; // 'x0'
        break;
      case 0b01:
        disabled = pe.el === 0;
        break;
      case 0b11:
        disabled = false;
        break;
    }
    if (disabled) return 'trap-el1';
  }
  return AArch64_CheckFPAdvSIMDTrap(pe);
}

/**
 * AArch32.CheckFPAdvSIMDTrap(advsimd): with EL2 using AArch64 it defers to
 * AArch64.CheckFPAdvSIMDTrap() (HCPTR is the AArch32-EL2 path, not modelled).
 */
function AArch32_CheckFPAdvSIMDTrap(pe: PeView, _advsimd: boolean): AccessOutcome {
  return AArch64_CheckFPAdvSIMDTrap(pe);
}

/**
 * AArch32.CheckAdvSIMDOrFPEnabled(fpexc_check, advsimd): CPACR (UNDEF), then FPEXC.EN
 * when `fpexcCheck` (UNDEF), then the EL2 trap. At EL0 under an AArch64 EL1 the AArch64
 * controls apply instead.
 */
export function AArch32_CheckAdvSIMDOrFPEnabled(
  pe: PeView,
  fpexcCheck: boolean,
  advsimd: boolean,
): AccessOutcome {
  if (pe.el === 0 && !pe.el1IsAArch32) return AArch64_CheckFPAdvSIMDEnabled(pe);
  let disabled: boolean;
  switch (pe.cpacr) {
    case 0b00:
      disabled = true;
      break;
    case 0b01:
      disabled = pe.el === 0;
      break;
    case 0b10:
      // CONSTRAINED UNPREDICTABLE: we take the permitted "disabled" behaviour.
      disabled = true;
      break;
    case 0b11:
      disabled = false;
      break;
  }
  if (disabled) return 'undef-el1';
  if (advsimd && pe.asedis) return 'undef-el1';
  // If required, check FPEXC enabled bit. This precedes the EL2 trap: docs/domain.md §2.2.
  if (fpexcCheck && !pe.fpexcEn) return 'undef-el1';
  return AArch32_CheckFPAdvSIMDTrap(pe, advsimd);
}

/** CheckVFPEnabled(include_fpexc_check): the VFP (not Advanced SIMD) form. */
function CheckVFPEnabled(pe: PeView, includeFpexcCheck: boolean): AccessOutcome {
  return AArch32_CheckAdvSIMDOrFPEnabled(pe, includeFpexcCheck, false);
}

/** AArch32 VFP system registers reachable by VMRS/VMSR. */
type VfpSysReg = 'FPSCR' | 'FPEXC' | 'FPSID' | 'MVFR0' | 'MVFR1';

/**
 * VMRS / VMSR (AArch32): FPSCR is checked like a VFP instruction, FPEXC.EN included;
 * the other registers are UNDEFINED at EL0 and at PL1 are not gated by FPEXC.EN but are
 * still trapped by CPTR_EL2.TFP (docs/domain.md §2.2). The ID-register traps (HCR_EL2.TID0/3,
 * EC 0x08) are not modelled: KVM does not set them for FPEXC.
 */
export function AArch32_VMRS_VMSR(pe: PeView, reg: VfpSysReg): AccessOutcome {
  if (reg === 'FPSCR') return CheckVFPEnabled(pe, true);
  if (pe.el === 0) return 'undef-el1';
  return CheckVFPEnabled(pe, false);
}

/**
 * An FP/SIMD data-processing instruction, load/store or FPSCR access by a guest at
 * EL0/EL1, dispatched on the width of the guest's EL1.
 */
export function guestFpAccess(pe: PeView): AccessOutcome {
  return pe.el1IsAArch32 ? CheckVFPEnabled(pe, true) : AArch64_CheckFPAdvSIMDEnabled(pe);
}

/**
 * EL2's own access to the FP/SIMD registers (`__fpsimd_save_state` and friends):
 * AArch64.CheckFPAdvSIMDTrap() at EL2.
 */
export function EL2_FPSIMDAccess(pe: PeView): AccessOutcome {
  return AArch64_CheckFPAdvSIMDTrap({ ...pe, el: 2 });
}

/**
 * MRS/MSR FPEXC32_EL2 at EL2: `if !ELIsInHost(EL2) && CPTR_EL2.TFP == '1' then
 * AArch64.SystemAccessTrap(EL2, 0x07)` (Arm ARM, FPEXC32_EL2 accessibility). This is
 * the trap behind bug 1 of the 2015 review (docs/domain.md §3).
 */
export function EL2_FPEXC32Access(pe: PeView): AccessOutcome {
  return pe.cptrTfp ? 'el2-self-trap' : 'executes';
}
