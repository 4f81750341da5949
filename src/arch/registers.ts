/**
 * System register fields that decide who may touch the FP/SIMD registers.
 *
 * Bit positions are from the Arm Architecture Reference Manual for A-profile (DDI 0487),
 * section D19 (AArch64 system registers) and G8 (AArch32 system registers); each constant
 * names the register and field the way the Arm ARM and the kernel's `kvm_arm.h` do.
 */

/** CPTR_EL2 (non-VHE layout, HCR_EL2.E2H == 0). Arm ARM D19.2 "CPTR_EL2". */
export const CPTR_EL2 = {
  /** Traps EL0/EL1 (and, non-VHE, EL2) FP/SIMD accesses to EL2, EC 0x07. docs/domain.md §2.1. */
  TFP: 1 << 10,
  /** Traps trace register accesses; KVM sets it alongside TFP (kvm_arm.h CPTR_EL2_TTA). */
  TTA: 1 << 20,
  /** Traps SVE accesses to EL2, EC 0x19 (CPTR_EL2.TZ). */
  TZ: 1 << 8,
} as const;

/** HCR_EL2. Arm ARM D19.2 "HCR_EL2". */
export const HCR_EL2 = {
  /** Register width of EL1: 1 = AArch64, 0 = AArch32 (docs/domain.md §2.1). Bit 31. */
  RW: 2 ** 31,
  /** EL2 host (VHE). Bit 34. */
  E2H: 2 ** 34,
  /** Trap ID group 0 (FPSID via VMRS), EC 0x08. Bit 15. */
  TID0: 1 << 15,
} as const;

/** FPEXC (AArch32), seen from EL2 as FPEXC32_EL2. Arm ARM G8.2 "FPEXC". */
export const FPEXC = {
  /** Enables the FP/Advanced SIMD functionality at PL0 and PL1. Bit 30 (docs/domain.md §2.1). */
  EN: 1 << 30,
  /** Exception bit. Bit 31. */
  EX: 2 ** 31,
} as const;

/** A 2-bit access field: CPACR.cp10 or CPACR_EL1.FPEN. */
export type AccessField = 0b00 | 0b01 | 0b10 | 0b11;

/** Full access at EL0 and EL1: what a guest kernel sets once it has enabled FP. */
export const ACCESS_FULL: AccessField = 0b11;
/** No access: EL0 and EL1 accesses are disabled. */
export const ACCESS_NONE: AccessField = 0b00;

/** Exception levels. */
export type ExceptionLevel = 0 | 1 | 2;
