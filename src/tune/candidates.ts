/**
 * The candidates a recommendation chooses from: every design given (by default every
 * built-in policy), at its default parameters, or, for a design with parameters, at every
 * combination of the swept values (the command line's ranges where given, else the default
 * sweep for the parameters named in DEFAULT_SWEEP, else the parameter's default).
 */

import type { Policy, PolicyDefinition } from '../policy/types.js';
import { type SweepSetting, sweepSettings } from './sweep.js';

/** Default sweeps of known parameters (adaptive's threshold and eagerRuns). */
const DEFAULT_SWEEP: Readonly<Partial<Record<string, readonly number[]>>> = {
  threshold: Array.from({ length: 32 }, (_, i) => i + 1),
  eagerRuns: [16, 64, 256],
};

export interface DesignCandidates {
  readonly definition: PolicyDefinition;
  /** The swept ranges (empty for a design without parameters). */
  readonly ranges: Readonly<Record<string, readonly number[]>>;
  readonly settings: readonly SweepSetting[];
}

/**
 * Settings of each design. `ranges` (from --threshold, --eager-runs, --param) apply to every
 * design that has the parameter; a range naming a parameter no design has is an error
 * (sweepSettings words it). Cost: O(settings).
 */
export function designCandidates(
  defs: readonly PolicyDefinition[],
  ranges: Readonly<Record<string, readonly number[]>>,
): DesignCandidates[] {
  const known = new Set(defs.flatMap((d) => Object.keys(d.params ?? {})));
  for (const key of Object.keys(ranges)) {
    if (!known.has(key)) {
      // Let the first design word the error with its known parameters.
      sweepSettings(defs[0], { [key]: ranges[key] });
    }
  }
  return defs.map((definition) => {
    const own: Record<string, readonly number[]> = {};
    for (const key of Object.keys(definition.params ?? {})) {
      const r = Object.hasOwn(ranges, key) ? ranges[key] : DEFAULT_SWEEP[key];
      if (r) own[key] = r;
    }
    return { definition, ranges: own, settings: sweepSettings(definition, own) };
  });
}

/** Every candidate policy, in design order then setting order. */
export function candidatePolicies(designs: readonly DesignCandidates[]): Policy[] {
  return designs.flatMap((d) => d.settings.map((s) => s.policy));
}
