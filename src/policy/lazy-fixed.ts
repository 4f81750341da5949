/**
 * `lazy-fixed`: what landed (commit 33c76a0b8126, arch/arm64/kvm/hyp.S, with the review's
 * fixes folded in: "[chazy/maz: fixed save/restore logic for 32bit guests]"), kept by the
 * v4.5 C rewrite (arch/arm64/kvm/hyp/switch.c `__activate_traps`, hyp/entry.S
 * `__fpsimd_guest_restore`, hyp/sysreg-sr.c `__sysreg32_save_state`). A 4.4-based tree
 * already carries it in hyp.S, so it most likely merged for v4.4 (docs/domain.md §4).
 *
 * Difference from `lazy-notafix`, one hunk: on entry, for a guest whose EL1 is AArch32
 * (HCR_EL2.RW == 0), write FPEXC32_EL2 = EN (1 << 30) and `isb` *before* setting TFP,
 * because "traps are only taken to EL2 if the operation would not otherwise trap to EL1"
 * (docs/domain.md §2.2 and §3). The guest's own FPEXC is restored by the trap handler
 * with the rest of its FP state, and saved on exit only if the guest used FP.
 * Later kernels keep the entry hunk as `__activate_traps_fpsimd32()`.
 *
 * Neighbours: `lazy-vcpu` keeps the guest state live across exits; `adaptive` adds a
 * threshold that switches to eager loading for FP-heavy stretches.
 */

import { fpsimdGuestRestore, guestRunExitLazy } from './lazy-notafix.js';
import type { Hyp, PolicyHooks, VcpuId } from './types.js';
import { definePolicy } from './types.js';

// The trap handler and the exit path are lazy-notafix's, unchanged (v4.5's
// `__fpsimd_guest_restore` and `__guest_run` exit half keep them).
export { fpsimdGuestRestore, guestRunExitLazy };

/** `__activate_traps` of v4.5 for the lazy design: FPEXC.EN for AArch32, then TFP. */
export function activateTrapsLazy(hw: Hyp, vcpu: VcpuId): void {
  if (hw.isAArch32(vcpu)) {
    hw.writeFpexc32En();
    hw.isb();
  }
  hw.writeCptrTfp(true);
}

const lazyFixedHooks: PolicyHooks<null> = {
  init: () => null,
  onEntry: (hw, _s, vcpu) => activateTrapsLazy(hw, vcpu),
  onFpTrap: (hw, _s, vcpu) => fpsimdGuestRestore(hw, vcpu),
  onExit: (hw, _s, vcpu) => void guestRunExitLazy(hw, vcpu),
};

export default definePolicy<null>({
  name: 'lazy-fixed',
  summary: 'lazy switch as landed in v4.5: FPEXC32_EL2.EN=1 + ISB on entry for AArch32 guests',
  models:
    'commit 33c76a0b8126 (hyp.S, v4.4) as kept by v4.5 arch/arm64/kvm/hyp/{switch.c,entry.S,sysreg-sr.c}',
  vcpuSymmetric: true,
  create: () => lazyFixedHooks,
});
