/**
 * The one-sentence diagnosis of a counterexample, in the hypervisor engineer's terms: the
 * machine says what broke; this adds why, from the register state along the history.
 */

import type { Violation } from '../machine/semantic-machine.js';
import type { Step } from './trace.js';

/** `boot` is the state before the first step; `steps` end with the violating one. */
export function diagnose(violation: Violation, boot: Step, steps: readonly Step[]): string {
  const last = steps[steps.length - 1];
  const base = violation.diagnosis;
  switch (violation.invariant) {
    case 'el2-self-trap':
      return base + el2SelfTrapCause(last);
    case 'guest-undef':
      return base + staleFpexcCause(boot, steps);
    default:
      return base;
  }
}

/**
 * Why EL2 trapped on itself: a CPTR_EL2 write not yet synchronised (bug 2 of the 2015
 * review; the fix is the `isb` NOTAFIX added to `switch_to_guest_fpsimd`), or an exit
 * path that touches FP/FPEXC32_EL2 although the guest never trapped, so TFP is still set
 * (bug 1; v4.5 guards it with `__fpsimd_enabled()` in hyp/sysreg-sr.c). docs/domain.md §3.
 */
function el2SelfTrapCause(last: Step): string {
  const st = last.state;
  if (st.tfpWritten !== st.tfp) {
    return st.tfpWritten
      ? '; the hook set CPTR_EL2.TFP and then touched FP/SIMD state itself'
      : '; the hook needs an isb between clearing CPTR_EL2.TFP and its first FP/SIMD or FPEXC32_EL2 access';
  }
  if (st.hook === 'onExit' && st.tfpWritten) {
    const who = st.loaded !== null ? `vcpu${st.loaded}` : 'the guest';
    return `; ${who} did not touch FP/SIMD in this run, so the TFP set on entry is still in effect, and the access must sit under the fp_enabled (__fpsimd_enabled) test`;
  }
  return '';
}

/**
 * A guest UNDEF caused by a stale FPEXC32_EL2.EN=0: which vCPU left EN=0 behind, and
 * which entry then relied on CPTR_EL2.TFP without setting EN first (docs/domain.md §3).
 * Or the opposite: a VFP instruction that executes because FPEXC32_EL2.EN=1 is not the
 * guest's own EN=0.
 */
function staleFpexcCause(boot: Step, steps: readonly Step[]): string {
  const last = steps[steps.length - 1];
  const guest = last.state.guest;
  if (guest?.fpexcEn === false && last.state.fpexc32En) {
    return `; FPEXC32_EL2.EN=1 is not vcpu${last.state.loaded}'s own FPEXC.EN=0: the world switch did not load the guest's saved FPEXC`;
  }
  if (last.state.fpexc32En || guest?.fpexcEn !== true) return '';
  let cleared: Step | undefined;
  for (let i = steps.length - 2; i >= 0; i--) {
    const before = (i > 0 ? steps[i - 1] : boot).state.fpexc32En;
    if (before && !steps[i].state.fpexc32En) {
      cleared = steps[i];
      break;
    }
  }
  let entry: Step | undefined;
  for (let i = steps.length - 1; i >= 0; i--) {
    if (steps[i].event === 'enter') {
      entry = steps[i];
      break;
    }
  }
  const parts: string[] = [];
  if (cleared && cleared.state.loaded !== null && cleared.state.loaded !== last.state.loaded) {
    parts.push(
      `vcpu${cleared.state.loaded} left FPEXC32_EL2.EN=0 behind at step ${cleared.n} (${cleared.event})`,
    );
  } else if (cleared) {
    parts.push(`FPEXC32_EL2.EN became 0 at step ${cleared.n} (${cleared.event})`);
  }
  if (entry && entry.state.tfp) {
    parts.push(
      `the entry at step ${entry.n} set CPTR_EL2.TFP without first setting FPEXC32_EL2.EN`,
    );
  } else if (entry) {
    parts.push(
      `the entry at step ${entry.n} did not load vcpu${last.state.loaded}'s own FPEXC into FPEXC32_EL2`,
    );
  }
  return parts.length ? `; ${parts.join(', and ')}` : '';
}
