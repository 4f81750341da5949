/**
 * `lazy-vcpu`: the v4.18 design (Dave Martin, e6b673b741ea "KVM: arm64: Optimise FPSIMD
 * handling to reduce guest/host thrashing"; arch/arm64/kvm/fpsimd.c and hyp/switch.c).
 * The guest's FP state stays live in the registers across exits handled in the host
 * kernel; KVM cooperates with the host's own lazy FP code instead of switching the host
 * state inside the world switch:
 * - `kvm_arch_vcpu_load_fp`: FP_ENABLED clear, FP_HOST set (the host task's state is
 *   still in the registers and must be saved before the guest's is loaded);
 * - entry, `update_fp_enabled()`: if the host used the registers meanwhile
 *   (TIF_FOREIGN_FPSTATE), forget FP_ENABLED and FP_HOST; set TFP (and FPEXC.EN for
 *   AArch32, as `lazy-fixed`) unless the guest state is still live;
 * - trap, `__hyp_switch_fpsimd`: TFP off, isb, save the host task's state into its
 *   thread struct if FP_HOST, restore the guest's, set FP_ENABLED;
 * - exit: FPEXC32 saved if the guest used FP; `kvm_arch_vcpu_ctxsync_fp` binds the
 *   guest's state to the CPU (so host code that wants the registers saves it first);
 *   nothing is restored;
 * - `kvm_arch_vcpu_put_fp`: if FP_ENABLED, save the guest state and flush the CPU's
 *   binding; the host's own state comes back on return to userspace
 *   (`fpsimd_restore_current_state`, done by the machine).
 *
 * Difference from `lazy-fixed`: host state saved into the task (not the hyp host
 * context) and restored only on return to userspace; guest state saved only at
 * vcpu_put or when the host claims the registers, instead of on every exit.
 */

import { activateTrapsLazy } from './lazy-fixed.js';
import { definePolicy } from './types.js';

/** `vcpu->arch.flags` bits this design uses. */
interface VcpuFpFlags {
  /** KVM_ARM64_FP_ENABLED: the guest's FP state is live in the registers. */
  fpEnabled: boolean;
  /** KVM_ARM64_FP_HOST: the host task's state is live and not yet saved. */
  fpHost: boolean;
}

export default definePolicy<VcpuFpFlags[]>({
  name: 'lazy-vcpu',
  summary:
    'guest FP state stays live across in-kernel exits; host restored at vcpu_put / return to user',
  models:
    'Linux v4.18 arch/arm64/kvm/fpsimd.c (e6b673b741ea) with hyp/switch.c update_fp_enabled()',
  vcpuSymmetric: true,
  create: () => ({
    init: (vcpus) => vcpus.map(() => ({ fpEnabled: false, fpHost: false })),
    onVcpuLoad(_hw, s, vcpu) {
      // kvm_arch_vcpu_load_fp: FP_ENABLED clear, FP_HOST set; update_fp_enabled() clears
      // FP_HOST at entry if the host's state is not live (TIF_FOREIGN_FPSTATE).
      s[vcpu].fpEnabled = false;
      s[vcpu].fpHost = true;
    },
    onEntry(hw, s, vcpu) {
      const f = s[vcpu];
      if (hw.foreignFpstate()) {
        f.fpEnabled = false;
        f.fpHost = false;
      }
      if (f.fpEnabled) hw.writeCptrTfp(false);
      else activateTrapsLazy(hw, vcpu);
    },
    onFpTrap(hw, s, vcpu) {
      const f = s[vcpu];
      hw.writeCptrTfp(false);
      hw.isb();
      if (f.fpHost) {
        hw.saveFp('hostTask');
        f.fpHost = false;
      }
      hw.restoreFp(vcpu);
      if (hw.isAArch32(vcpu)) hw.restoreFpexc32(vcpu);
      f.fpEnabled = true;
    },
    onExit(hw, s, vcpu) {
      const f = s[vcpu];
      if (f.fpEnabled && hw.isAArch32(vcpu)) hw.saveFpexc32(vcpu);
      hw.writeCptrTfp(false);
      if (f.fpEnabled) hw.bindToCpu(vcpu); // kvm_arch_vcpu_ctxsync_fp
    },
    onVcpuPut(hw, s, vcpu) {
      const f = s[vcpu];
      if (f.fpEnabled) {
        hw.fpsimdSave();
        hw.flushCpuState();
        f.fpEnabled = false;
      }
    },
  }),
});
