/**
 * Run classes: everything about one guest run (entry to exit) that a world-switch policy
 * can react to, packed into one small integer so that a compiled policy is a table
 * indexed by (state, run class). Exit class and run length do not change what a policy
 * does, only the base cost and the statistics, so they live in other columns.
 *
 * code = vcpu * 96 + fp * 12 + handled * 4 + hostFp * 2 + put
 */

import { HANDLED, type Handled } from '../cpu/profile.js';

/** The guest's user code (EL0) executed an FP/SIMD instruction during the run. */
export const FP_EL0 = 1;
/** The guest kernel (EL1) touched the FP/SIMD registers (e.g. an AArch64 context switch saving a task's state). */
export const FP_EL1 = 2;
/** The guest kernel accessed FPEXC (AArch32: VMRS/VMSR FPEXC, e.g. disabling VFP on a context switch). */
export const FPEXC_ACCESS = 4;

export const CLASSES_PER_VCPU = 96;

declare const RUN_CLASS: unique symbol;
/** A packed run class (the code above), as the stream columns hold it; built only by `encodeRunClass`. */
type RunClass = number & { readonly [RUN_CLASS]: true };

/** A run class unpacked. */
export interface RunClassFields {
  readonly vcpu: number;
  /** Bit set of FP_EL0, FP_EL1, FPEXC_ACCESS. */
  readonly fp: number;
  readonly handled: Handled;
  /** The host used FP before the next entry (kernel-mode NEON, or the VMM in userspace). */
  readonly hostFp: boolean;
  /** The host preempts the vCPU thread after this exit (vcpu_put); another vCPU may run next. */
  readonly put: boolean;
}

/** Packs a run class. Cost: O(1). */
export function encodeRunClass(
  vcpu: number,
  fp: number,
  handled: Handled,
  hostFp: boolean,
  put: boolean,
): RunClass {
  return (vcpu * CLASSES_PER_VCPU +
    fp * 12 +
    handled * 4 +
    (hostFp ? 2 : 0) +
    (put ? 1 : 0)) as RunClass;
}

/** Unpacks a run class. Cost: O(1). */
export function decodeRunClass(code: number): RunClassFields {
  const vcpu = Math.floor(code / CLASSES_PER_VCPU);
  const r = code % CLASSES_PER_VCPU;
  return {
    vcpu,
    fp: Math.floor(r / 12),
    handled: (Math.floor(r / 4) % 3) as Handled,
    hostFp: (r & 2) !== 0,
    put: (r & 1) !== 0,
  };
}

/**
 * Why a run class cannot happen, or undefined. An exit handled at EL2 goes straight back
 * into the guest, so the host neither runs FP code nor preempts the vCPU in between; only
 * an AArch32 EL1 has FPEXC.
 */
export function runClassProblem(
  c: RunClassFields,
  vcpus: readonly { readonly aarch32: boolean }[],
): string | undefined {
  if (c.vcpu >= vcpus.length) return `vCPU ${c.vcpu} does not exist (${vcpus.length} vCPUs)`;
  if (c.fp & FPEXC_ACCESS && !vcpus[c.vcpu].aarch32)
    return `vCPU ${c.vcpu} has an AArch64 EL1 and cannot access FPEXC`;
  if (c.handled === HANDLED.hyp && (c.hostFp || c.put)) {
    return 'an exit handled at EL2 cannot be followed by host FP use or a vcpu_put';
  }
  return undefined;
}
