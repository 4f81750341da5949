/**
 * The fixed designs are clean at the fixpoint of both configurations: no violation in any
 * interleaving of any length. State and transition counts are pinned: they change only
 * when the model, the alphabet or a policy changes, and then they should be looked at.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, THREE_AARCH32_CONFIG } from '../src/check/config.js';
import { checkPolicy, explore } from '../src/check/explore.js';
import { CHECK_ADAPTIVE_SPEC, defaultCheckSpecs } from '../src/check/policies.js';
import { policy } from './check-helpers.js';
import { BUILTIN_POLICIES } from './helpers/policies.js';

const CLEAN: [string, string, number, number, number][] = [
  // Without symmetry reduction or the mode abstraction (adaptive at its small setting).
  // config, policy, states, transitions, depth of the deepest state
  ['default', 'eager', 324, 1788, 13],
  ['default', 'lazy-fixed', 504, 2982, 15],
  ['default', 'lazy-vcpu', 2004, 11084, 21],
  ['default', CHECK_ADAPTIVE_SPEC, 25941, 149577, 32],
  ['three-aarch32', 'eager', 736, 4160, 17],
  ['three-aarch32', 'lazy-fixed', 1016, 6328, 19],
  ['three-aarch32', 'lazy-vcpu', 4020, 23724, 23],
  ['three-aarch32', CHECK_ADAPTIVE_SPEC, 56168, 334792, 32],
];

const CONFIGS = { default: DEFAULT_CONFIG, 'three-aarch32': THREE_AARCH32_CONFIG } as const;

describe('fixed designs are clean at the fixpoint', () => {
  it.each(CLEAN)('%s: %s', async (configName, spec, states, transitions, depth) => {
    const v = checkPolicy(await policy(spec), CONFIGS[configName as keyof typeof CONFIGS], {
      symmetry: false,
      abstract: false,
    });
    expect(v.verdict).toBe('ok');
    expect(v.invariant).toBeNull();
    expect(v.steps).toEqual([]);
    expect(v.exhaustive).toBe(true);
    expect(v.bound).toBeNull();
    expect([v.states, v.transitions, v.depth]).toEqual([states, transitions, depth]);
  });
});

// As `fpswitch check` runs them: vCPUs up to renaming, adaptive through its abstraction.
const REDUCED: [string, string, number, number, number, number][] = [
  // config, policy, states, transitions, depth, renamings
  ['default', 'eager', 184, 1000, 13, 2],
  ['default', 'lazy-fixed', 297, 1725, 15, 2],
  ['default', 'lazy-vcpu', 1071, 5881, 21, 2],
  ['default', 'adaptive', 312, 1938, 15, 2],
  ['three-aarch32', 'eager', 200, 1128, 17, 6],
  ['three-aarch32', 'lazy-fixed', 280, 1716, 19, 6],
  ['three-aarch32', 'lazy-vcpu', 841, 4971, 23, 6],
  ['three-aarch32', 'adaptive', 280, 1810, 19, 6],
];

describe('as checked by default (symmetry, mode abstraction)', () => {
  it.each(REDUCED)('%s: %s', async (configName, spec, states, transitions, depth, group) => {
    const v = checkPolicy(await policy(spec), CONFIGS[configName as keyof typeof CONFIGS]);
    expect([v.verdict, v.exhaustive, v.bound]).toEqual(['ok', true, null]);
    expect([v.states, v.transitions, v.depth, v.symmetry]).toEqual([
      states,
      transitions,
      depth,
      group,
    ]);
    expect(v.covers).toBe(
      spec === 'adaptive'
        ? 'every threshold and eagerRuns (mode chosen freely at every entry)'
        : 'the design (no parameters)',
    );
  });
});

describe('adaptive with small counters reaches every mode change', () => {
  it.each([DEFAULT_CONFIG, THREE_AARCH32_CONFIG])('in $name, for every vCPU', async (config) => {
    const x = explore(await policy(CHECK_ADAPTIVE_SPEC), config, { symmetry: false });
    expect(x.exhaustive).toBe(true);
    type Mode = { count: number; eagerLeft: number };
    for (const v of config.vcpus) {
      const modes = new Set(x.states.map((s) => JSON.stringify((s.policy as Mode[])[v.id])));
      // lazy at 0 and counting at 1 (threshold 2), eager with 2 and 1 runs left
      expect([...modes].sort()).toEqual(
        [
          { count: 0, eagerLeft: 0 },
          { count: 0, eagerLeft: 1 },
          { count: 0, eagerLeft: 2 },
          { count: 1, eagerLeft: 0 },
        ]
          .map((m) => JSON.stringify(m))
          .sort(),
      );
    }
    // Every mode is also reached while the vCPU runs with its FP state loaded eagerly.
    const eagerRunning = x.states.filter(
      (s) =>
        s.running &&
        (s.policy as Mode[])[s.loaded].eagerLeft > 0 &&
        !s.tfpEffective &&
        s.regs.owner === s.loaded,
    );
    expect(eagerRunning.length).toBeGreaterThan(0);
  });
});

describe('the default policy set', () => {
  it('is every built-in at its defaults', () => {
    expect(defaultCheckSpecs()).toEqual(BUILTIN_POLICIES);
  });
});
