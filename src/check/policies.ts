/**
 * The policies `fpswitch check` checks when none is named: every built-in design, with
 * `adaptive` at threshold 2 and 2 eager runs. Its counters only decide *when* it changes
 * mode, not what a mode does, and with these values every change is reachable within a
 * few events: a lazy FP run that counts up, a non-FP run that resets the count, the
 * switch to eager at the threshold, an eager run that stays eager, and the return to lazy.
 * At the x86-like defaults (6 and 250) each vCPU would have ~256 modes and three vCPUs
 * ~16 million combinations: no fixpoint in seconds, and no new behaviour either.
 */

import { BUILTIN_POLICIES } from '../policy/registry.js';

export const CHECK_ADAPTIVE_SPEC = 'adaptive:threshold=2,eagerRuns=2';

/** Policy specs in built-in order, `adaptive` with small counters. */
export function defaultCheckSpecs(): string[] {
  return BUILTIN_POLICIES.map((p) => (p.name === 'adaptive' ? CHECK_ADAPTIVE_SPEC : p.name));
}
