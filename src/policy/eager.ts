/**
 * `eager`: the world switch before the 2015 series (Linux <= v4.3,
 * arch/arm64/kvm/hyp.S `__kvm_vcpu_run`; docs/domain.md §4; a 4.4-based tree
 * already has the lazy switch, see lazy-fixed.ts): the host's FP/SIMD state is saved and the
 * guest's restored on every entry, and the reverse on every exit, whether or not the
 * guest ever touches FP. FPEXC32_EL2 travels with the 32-bit system registers on every
 * switch. CPTR_EL2.TFP is never set, so the guest never traps on FP.
 *
 * Neighbour: `lazy-v4` adds TFP on entry and moves the switch into the trap handler.
 */

import type { Hyp, VcpuId } from './types.js';
import { definePolicy } from './types.js';

/** The eager entry: host state out, guest state (and its FPEXC) in, FP not trapped. */
export function eagerEntry(hw: Hyp, vcpu: VcpuId): void {
  hw.writeCptrTfp(false); // activate_traps: CPTR_EL2 = TTA, FP not trapped
  hw.saveFp('hostCtxt');
  hw.restoreFp(vcpu);
  if (hw.isAArch32(vcpu)) hw.restoreFpexc32(vcpu); // restore_guest_32bit_state
}

export default definePolicy<null>({
  name: 'eager',
  summary: 'save/restore host and guest FP/SIMD state on every entry and exit',
  models:
    'Linux <= v4.3 arch/arm64/kvm/hyp.S __kvm_vcpu_run (save_fpsimd/restore_fpsimd on every switch)',
  vcpuSymmetric: true,
  create: () => ({
    init: () => null,
    onEntry: (hw, _s, vcpu) => eagerEntry(hw, vcpu),
    onExit(hw, _s, vcpu) {
      hw.saveFp(vcpu);
      if (hw.isAArch32(vcpu)) hw.saveFpexc32(vcpu); // save_guest_32bit_state
      hw.writeCptrTfp(false); // deactivate_traps: CPTR_EL2 back to its host default
      hw.restoreFp('hostCtxt');
    },
  }),
});
