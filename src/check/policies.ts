/**
 * The policies `fpswitch check` checks when none is named: every built-in design at its
 * defaults. `adaptive` declares a mode abstraction (`src/check/abstraction.ts`): its
 * verdict covers every `threshold` and `eagerRuns` at once, the defaults (6 and 250)
 * included, whose ~256 modes per vCPU would otherwise leave no fixpoint in seconds.
 *
 * `CHECK_ADAPTIVE_SPEC` is the small concrete setting the tests check without the
 * abstraction (`--concrete`): with threshold 2 and 2 eager runs every mode change is
 * reachable within a few events (a lazy FP run that counts up, a non-FP run that resets
 * the count, the switch to eager at the threshold, an eager run that stays eager, the
 * return to lazy).
 */

import { BUILTIN_POLICIES } from '../policy/registry.js';

export const CHECK_ADAPTIVE_SPEC = 'adaptive:threshold=2,eagerRuns=2';

/** Policy specs in built-in order, each at its defaults. */
export function defaultCheckSpecs(): string[] {
  return BUILTIN_POLICIES.map((p) => p.name);
}
