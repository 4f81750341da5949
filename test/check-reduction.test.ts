/**
 * The search's shortcuts do not change its answers: CPACR subsumption (`subsume.ts`)
 * gives the same verdicts and counterexample lengths and covers the same states; the
 * fast `enabled()` agrees with `whyDisabled()`; state keys are canonical.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/check/config.js';
import { checkPolicy, explore } from '../src/check/explore.js';
import { enabled, eventAlphabet, isNoopWrite, whyDisabled } from '../src/check/events.js';
import { StateKeyer, stateKey } from '../src/check/state-key.js';
import { cpacrDominator } from '../src/check/subsume.js';
import type { SemState } from '../src/machine/semantic-machine.js';
import type { Policy } from '../src/policy/types.js';
import { lazyFixedWithoutFpexcEn, NOISB_FIXTURE, policy } from './check-helpers.js';

const SPECS = [
  'eager',
  'lazy-v4',
  'lazy-notafix',
  'lazy-fixed',
  'lazy-vcpu',
  'adaptive:threshold=1,eagerRuns=1',
  NOISB_FIXTURE,
];

async function policies(): Promise<Policy[]> {
  return [...(await Promise.all(SPECS.map((s) => policy(s)))), lazyFixedWithoutFpexcEn()];
}

/** A state with every guest's CPACR granting access, as a canonical key. */
const granted = (s: SemState) => stateKey(cpacrDominator(s) ?? s);

describe('CPACR subsumption', () => {
  it('changes no verdict, invariant or counterexample', async () => {
    for (const p of await policies()) {
      const reduced = checkPolicy(p, DEFAULT_CONFIG);
      const full = checkPolicy(p, DEFAULT_CONFIG, { subsume: false });
      expect(full.subsumed).toBe(0);
      expect([p.id, reduced.verdict, reduced.invariant, reduced.exhaustive]).toEqual([
        p.id,
        full.verdict,
        full.invariant,
        full.exhaustive,
      ]);
      // The length of the shortest counterexample is kept (a clean verdict's depth, the
      // deepest state, is not: there are fewer states).
      if (full.verdict === 'violation') expect(reduced.depth).toBe(full.depth);
      expect(reduced.steps.map((s) => s.event)).toEqual(full.steps.map((s) => s.event));
      if (full.verdict === 'ok') expect(reduced.states).toBeLessThan(full.states);
    }
  });

  it('covers every reachable state up to the guest CPACR bits', async () => {
    for (const spec of ['lazy-fixed', 'lazy-vcpu', 'adaptive:threshold=1,eagerRuns=1']) {
      const p = await policy(spec);
      const reduced = new Set(explore(p, DEFAULT_CONFIG, { symmetry: false }).states.map(granted));
      const full = new Set(
        explore(p, DEFAULT_CONFIG, { subsume: false, symmetry: false }).states.map(granted),
      );
      expect([...reduced].sort()).toEqual([...full].sort());
    }
  });
});

describe('event enabling', () => {
  it('enabled() is whyDisabled() === undefined and not a no-op write, in every reachable state', async () => {
    const x = explore(await policy('lazy-vcpu'), DEFAULT_CONFIG, { subsume: false });
    const alphabet = eventAlphabet(DEFAULT_CONFIG.vcpus);
    let tried = 0;
    for (const s of x.states) {
      for (const e of alphabet) {
        const slow = whyDisabled(e, s, DEFAULT_CONFIG.vcpus) === undefined && !isNoopWrite(e, s);
        expect(enabled(e, s, DEFAULT_CONFIG.vcpus)).toBe(slow);
        if (slow) tried++;
      }
    }
    expect(tried).toBe(x.transitions);
  });
});

describe('state keys', () => {
  it('do not depend on the key order of the policy state', () => {
    const keyer = new StateKeyer();
    const a = keyer.policyId([{ fpEnabled: true, fpHost: false }]);
    const b = keyer.policyId([{ fpHost: false, fpEnabled: true }]);
    const c = keyer.policyId([{ fpHost: true, fpEnabled: true }]);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    // A hint that does not match is not taken.
    expect(keyer.policyId([{ fpHost: true, fpEnabled: true }], a)).toBe(c);
  });
});
