/**
 * State subsumption for the guest's CPACR: a state in which some guest has removed FP
 * access in CPACR(_EL1) can do nothing that the same state with access granted cannot.
 *
 * Why (a simulation argument, checked by test/check-reduction.test.ts):
 * - nothing on the hypervisor side reads the guest's CPACR: the policy primitives
 *   (`Hyp`) have no CPACR access, and CPACR_EL1 is switched with the guest's EL1 system
 *   registers, so the real and the ideal machine always agree on it;
 * - CPACR is checked first, on both machines (`AArch32.CheckAdvSIMDOrFPEnabled`,
 *   `AArch64.CheckFPAdvSIMDEnabled`), so with access removed every guest FP/SIMD or FPEXC
 *   access UNDEFs (or traps to the guest's EL1) on both: no state changes, no violation;
 * - every other event ignores the guest's CPACR.
 * So from the granted state, skipping those no-op accesses matches every step of the
 * removed one, reaching states that differ only in CPACR, and meeting every violation
 * after no more events. A new state whose "all granted" form was already found is
 * therefore not explored again: the verdict and the length of the shortest
 * counterexample are unchanged, and the search visits up to 2^vCPUs times fewer states.
 */

import type { SemState } from '../machine/semantic-machine.js';

/** The state with CPACR access granted for every guest, or undefined if it already is. */
export function cpacrDominator(s: SemState): SemState | undefined {
  if (s.guests.every((g) => g.cpacr)) return undefined;
  return { ...s, guests: s.guests.map((g) => ({ cpacr: true, fpexcEn: g.fpexcEn })) };
}
