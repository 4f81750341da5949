/**
 * `adaptive`: `lazy-fixed` plus a threshold, after x86's lazy FPU heuristic
 * (arch/x86 `switch_fpu_prepare`: preload once `fpu_counter > 5`, and the u8 counter
 * wraps after 256 switches so a task goes lazy again; docs/domain.md §4). Per vCPU:
 * - lazy mode: exactly `lazy-fixed`, counting consecutive runs in which the guest
 *   trapped on FP; when the count reaches `threshold`, switch to eager mode;
 * - eager mode, for the next `eagerRuns` runs: entry loads the guest state without
 *   setting TFP (host saved, guest and its FPEXC restored), exit saves and restores as
 *   `eager` does; then back to lazy mode with the count at 0.
 * x86's rule is threshold 6, eagerRuns about 250: `switch_fpu_prepare()` preloads when
 * `fpu_counter > 5`, and the u8 counter wraps after 256 switches (arch/x86/include/asm/
 * fpu-internal.h; docs/domain.md §4).
 *
 * Difference from `lazy-fixed`: the counter and the eager-mode entry path.
 */

import { eagerEntry } from './eager.js';
import { activateTrapsLazy, fpsimdGuestRestore, guestRunExitLazy } from './lazy-fixed.js';
import { definePolicy } from './types.js';

/** Per-vCPU mode: `eagerLeft > 0` is eager mode; otherwise `count` consecutive FP runs. */
interface VcpuMode {
  count: number;
  eagerLeft: number;
}

export default definePolicy<VcpuMode[]>({
  name: 'adaptive',
  summary:
    'lazy-fixed until `threshold` consecutive FP-trapping runs, then eager for `eagerRuns` runs',
  models:
    "lazy-fixed with x86's fpu_counter heuristic (preload after > 5 FP-using switches, u8 wrap)",
  vcpuSymmetric: true,
  // Only onEntry reads the mode (eagerLeft > 0 takes the eager path); onFpTrap and onExit
  // call the same primitives in either mode (the exit path is lazy-fixed's, which tests
  // TFP, not the mode). The counters only decide *when* a vCPU changes mode, so letting
  // every entry choose lazy or eager covers every threshold and eagerRuns.
  abstraction: {
    covers: 'every threshold and eagerRuns (mode chosen freely at every entry)',
    vcpuModes: [
      { label: 'lazy', value: { count: 0, eagerLeft: 0 } },
      { label: 'eager', value: { count: 0, eagerLeft: 1 } },
    ],
    decidesAt: ['onEntry'],
    modeOf: (entry) => ((entry as VcpuMode).eagerLeft > 0 ? 1 : 0),
  },
  params: {
    threshold: {
      default: 6,
      min: 1,
      max: 1_000_000,
      integer: true,
      description:
        'consecutive FP-trapping runs that switch a vCPU to eager loading (x86: fpu_counter > 5)',
    },
    eagerRuns: {
      default: 250,
      min: 1,
      max: 1_000_000,
      integer: true,
      description: 'runs loaded eagerly before going lazy again (x86: u8 counter wrap, ~250)',
    },
  },
  create: ({ threshold, eagerRuns }) => ({
    init: (vcpus) => vcpus.map(() => ({ count: 0, eagerLeft: 0 })),
    onEntry(hw, s, vcpu) {
      if (s[vcpu].eagerLeft > 0) eagerEntry(hw, vcpu);
      else activateTrapsLazy(hw, vcpu);
    },
    onFpTrap: (hw, _s, vcpu) => fpsimdGuestRestore(hw, vcpu),
    onExit(hw, s, vcpu) {
      const mode = s[vcpu];
      // In eager mode TFP is clear, so the lazy exit path saves and restores: as `eager`.
      const usedFp = guestRunExitLazy(hw, vcpu);
      if (mode.eagerLeft > 0) {
        mode.eagerLeft -= 1;
        if (mode.eagerLeft === 0) mode.count = 0;
        return;
      }
      mode.count = usedFp ? mode.count + 1 : 0;
      if (mode.count >= threshold) {
        mode.count = 0;
        mode.eagerLeft = eagerRuns;
      }
    },
  }),
});
