/**
 * `lazy-notafix`: Marc Zyngier's "NOTAFIX" patch on top of v4 of the 2015 series (the
 * seed of the review thread). Hunk by hunk against `lazy-v4`:
 * - `switch_to_guest_fpsimd`: an `isb` after clearing CPTR_EL2.TFP, before the FP
 *   registers are touched (fixes bug 2: the CPTR_EL2 write needs a context
 *   synchronisation event to take effect);
 * - 32-bit sysreg save: FPEXC32_EL2 is read only if the guest used FP (TFP clear),
 *   i.e. it moves under the `skip_fpsimd_state` test (fixes bug 1).
 * Still missing (bug 3): for an AArch32 guest, FPEXC32_EL2 keeps whatever the previous
 * context left in it. A stale EN=0 makes the guest's VFP instruction UNDEF at its own EL1
 * before TFP is checked (AArch32.CheckAdvSIMDOrFPEnabled), so KVM never switches.
 *
 * Neighbour: `lazy-fixed` writes FPEXC32_EL2 = EN and synchronises before setting TFP.
 */

import type { Hyp, VcpuId } from './types.js';
import { definePolicy } from './types.js';

/** `switch_to_guest_fpsimd` with NOTAFIX hunk 1: TFP off, isb, host out, guest (and its FPEXC) in. */
export function fpsimdGuestRestore(hw: Hyp, vcpu: VcpuId): void {
  hw.writeCptrTfp(false);
  hw.isb(); // NOTAFIX hunk 1
  hw.saveFp('hostCtxt');
  hw.restoreFp(vcpu);
  if (hw.isAArch32(vcpu)) hw.restoreFpexc32(vcpu);
}

/**
 * The exit path with NOTAFIX hunk 2: sample `__fpsimd_enabled()`, save FPEXC32_EL2 only if
 * the guest used FP, deactivate traps, then switch back only if the guest used FP.
 * Returns whether it switched.
 */
export function guestRunExitLazy(hw: Hyp, vcpu: VcpuId): boolean {
  const fpEnabled = hw.fpEnabled();
  if (fpEnabled && hw.isAArch32(vcpu)) hw.saveFpexc32(vcpu); // NOTAFIX hunk 2
  hw.writeCptrTfp(false);
  if (fpEnabled) {
    hw.saveFp(vcpu);
    hw.restoreFp('hostCtxt');
  }
  return fpEnabled;
}

export default definePolicy<null>({
  name: 'lazy-notafix',
  summary: 'lazy switch with guarded FPEXC32 read and ISB; no FPEXC.EN on entry',
  models: "Marc Zyngier's NOTAFIX patch on v4 of the 2015 lazy FP/SIMD series",
  vcpuSymmetric: true,
  create: () => ({
    init: () => null,
    onEntry(hw) {
      hw.writeCptrTfp(true);
    },
    onFpTrap: (hw, _s, vcpu) => fpsimdGuestRestore(hw, vcpu),
    onExit: (hw, _s, vcpu) => void guestRunExitLazy(hw, vcpu),
  }),
});
