/**
 * `lazy-v4`: the series "arm64: KVM: Optimize arm64 skip 30-50% vfp/simd save/restore on
 * exits" as posted in v4 (Smarduch, 2015). Entry sets CPTR_EL2.TFP and does not touch
 * the FP registers; the first guest FP access traps to EL2 (EC 0x07), where
 * `switch_to_guest_fpsimd` clears TFP, saves the host state and restores the guest's;
 * exit switches back only if TFP was cleared (`skip_fpsimd_state`).
 *
 * Differences from `eager`: everything above. Its defects (docs/domain.md §3):
 * 1. the 32-bit sysreg save on exit reads FPEXC32_EL2 unconditionally, even when the
 *    guest never touched FP and TFP is still set: EL2 traps on its own access;
 * 2. the trap handler clears TFP and touches the FP registers with no `isb` in between;
 * 3. nothing makes FPEXC32_EL2.EN right for an AArch32 guest before TFP is relied on.
 *
 * Neighbour: `lazy-notafix` guards the FPEXC32 read and adds the `isb` (bugs 1 and 2).
 */

import { definePolicy } from './types.js';

export default definePolicy<null>({
  name: 'lazy-v4',
  summary:
    'lazy switch on first FP trap; FPEXC32_EL2 read unguarded on exit, no ISB in the trap handler',
  models: 'v4 of the 2015 lazy FP/SIMD series (arch/arm64/kvm/hyp.S), as posted for review',
  vcpuSymmetric: true,
  create: () => ({
    init: () => null,
    onEntry(hw) {
      hw.writeCptrTfp(true); // activate_traps: CPTR_EL2 = TTA | TFP
    },
    onFpTrap(hw, _s, vcpu) {
      // switch_to_guest_fpsimd
      hw.writeCptrTfp(false); // bug 2: no isb before the FP registers are touched
      hw.saveFp('hostCtxt');
      hw.restoreFp(vcpu);
      if (hw.isAArch32(vcpu)) hw.restoreFpexc32(vcpu);
    },
    onExit(hw, _s, vcpu) {
      // save_guest_32bit_state: bug 1, FPEXC32_EL2 read whether or not TFP is still set
      if (hw.isAArch32(vcpu)) hw.saveFpexc32(vcpu);
      const fpEnabled = hw.fpEnabled(); // skip_fpsimd_state test
      hw.writeCptrTfp(false); // deactivate_traps
      if (fpEnabled) {
        hw.saveFp(vcpu);
        hw.restoreFp('hostCtxt');
      }
    },
  }),
});
