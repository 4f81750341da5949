/**
 * The checker finds each of the 2015 review-thread bugs (docs/domain.md §3) in the variant that
 * has it, with the shortest counterexample, the same one every run.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, THREE_AARCH32_CONFIG } from '../src/check/config.js';
import { checkPolicy, type Verdict } from '../src/check/explore.js';
import { lazyFixedWithoutFpexcEn, NOISB_FIXTURE, policy } from './check-helpers.js';

const events = (v: Verdict) => v.steps.map((s) => s.event);
const last = (v: Verdict) => v.steps[v.steps.length - 1];

/** Expects a violation of `invariant` by exactly the history `history`; its last state. */
function violation(v: Verdict, invariant: string, history: readonly string[]) {
  expect(v.verdict).toBe('violation');
  expect(v.invariant).toBe(invariant);
  expect(v.depth).toBe(history.length);
  expect(events(v)).toEqual(history);
  return last(v).state;
}

describe.each([DEFAULT_CONFIG, THREE_AARCH32_CONFIG])(
  'counterexamples in configuration $name',
  (config) => {
    it('lazy-v4: el2-self-trap, EL2 reads FPEXC32_EL2 on an exit where the 32-bit guest never touched FP', async () => {
      const v = checkPolicy(await policy('lazy-v4'), config);
      // Exits come before guest events in the alphabet, so of the two 3-event
      // counterexamples (this one, and the trap handler's missing isb) this one is found.
      const st = violation(v, 'el2-self-trap', ['load vcpu0', 'enter', 'exit kernel']);
      expect(st.hook).toBe('onExit');
      expect(st.tfp).toBe(true);
      expect(st.tfpWritten).toBe(true); // TFP set at entry and in effect: not a pending write
      expect(last(v).choices).toEqual([]);
      expect(last(v).hooks).not.toContain('onFpTrap'); // the guest never touched FP
      expect(v.diagnosis).toContain('mrs fpexc32_el2 in onExit');
      expect(v.diagnosis).toContain('vcpu0 did not touch FP/SIMD in this run');
      expect(v.exhaustive).toBe(false);
    });

    it('lazy-noisb fixture: el2-self-trap caused by the CPTR_EL2 write still pending in the trap handler', async () => {
      const v = checkPolicy(await policy(NOISB_FIXTURE), config);
      const st = violation(v, 'el2-self-trap', ['load vcpu0', 'enter', 'guest fp el0']);
      expect(st.hook).toBe('onFpTrap');
      expect(st.tfp).toBe(true);
      expect(st.tfpWritten).toBe(false); // cleared, not yet synchronised
      expect(last(v).choices).toEqual(['__fpsimd_save_state saw the old CPTR_EL2.TFP=1']);
      expect(v.diagnosis).toContain('not yet synchronised');
      expect(v.diagnosis).toContain('needs an isb');
    });

    it("lazy-notafix: guest-undef, a stale FPEXC32_EL2.EN=0 from one AArch32 vCPU UNDEFs another one's VFP instruction", async () => {
      const v = checkPolicy(await policy('lazy-notafix'), config);
      const st = violation(v, 'guest-undef', [
        'load vcpu0',
        'enter',
        'guest fpexc write en=0',
        'exit user',
        'load vcpu1',
        'enter',
        'guest fp el0',
      ]);
      // Two different AArch32 vCPUs: the one that left EN=0 and the one that UNDEFs.
      expect(v.steps[2].state.loaded).toBe(0);
      expect(v.steps[2].state.fpexc32En).toBe(false);
      expect(config.vcpus[0].aarch32 && config.vcpus[1].aarch32).toBe(true);
      expect(st.loaded).toBe(1);
      expect(st.fpexc32En).toBe(false);
      expect(st.guest).toEqual({ cpacr: true, fpexcEn: true }); // the guest had enabled VFP
      expect(st.tfp).toBe(true); // TFP was set, but EN is checked first
      expect(v.diagnosis).toContain('vcpu0 left FPEXC32_EL2.EN=0 behind at step 3');
      expect(v.diagnosis).toContain('EN is checked before CPTR_EL2.TFP');
    });

    it('mutation: lazy-fixed without its FPEXC32_EL2.EN write on entry brings guest-undef back', async () => {
      const fixed = checkPolicy(await policy('lazy-fixed'), config);
      expect(fixed.verdict).toBe('ok');
      const v = checkPolicy(lazyFixedWithoutFpexcEn(), config);
      expect(v.invariant).toBe('guest-undef');
      expect(v.depth).toBe(7);
      expect(last(v).state.fpexc32En).toBe(false);
      expect(last(v).state.loaded).not.toBe(v.steps[2].state.loaded);
    });
  },
);

describe('determinism', () => {
  it('gives the same counterexample, states and transitions on every run', async () => {
    for (const spec of ['lazy-v4', 'lazy-notafix', NOISB_FIXTURE]) {
      const p = await policy(spec);
      const a = checkPolicy(p, DEFAULT_CONFIG);
      const b = checkPolicy(await policy(spec), DEFAULT_CONFIG);
      expect({ ...b, seconds: 0 }).toEqual({ ...a, seconds: 0 });
    }
  });
});

describe('depth bound', () => {
  it('reports no violation below the counterexample length, and the violation at it', async () => {
    const p = await policy('lazy-notafix');
    const short = checkPolicy(p, DEFAULT_CONFIG, { depth: 6 });
    expect(short.verdict).toBe('ok');
    expect(short.exhaustive).toBe(false);
    expect(short.bound).toBe('depth');
    expect(short.depth).toBe(6);
    const enough = checkPolicy(p, DEFAULT_CONFIG, { depth: 7 });
    expect(enough.invariant).toBe('guest-undef');
    expect(enough.depth).toBe(7);
  });

  it('recognises the fixpoint when the bound reaches the deepest state, and not before', async () => {
    const p = await policy('lazy-fixed');
    const full = checkPolicy(p, DEFAULT_CONFIG);
    expect(full.exhaustive).toBe(true);
    const atDepth = checkPolicy(p, DEFAULT_CONFIG, { depth: full.depth });
    expect(atDepth.exhaustive).toBe(true);
    expect(atDepth.states).toBe(full.states);
    const below = checkPolicy(p, DEFAULT_CONFIG, { depth: full.depth - 1 });
    expect(below.exhaustive).toBe(false);
    expect(below.states).toBeLessThan(full.states);
  });

  it('stops at the state limit and says how deep the check went', async () => {
    const v = checkPolicy(await policy('lazy-fixed'), DEFAULT_CONFIG, {
      maxStates: 50,
      symmetry: false,
    });
    expect(v.verdict).toBe('ok');
    expect(v.exhaustive).toBe(false);
    expect(v.bound).toBe('max-states');
    expect(v.states).toBe(50);
    // The 50th new state turned up while expanding a depth-4 state: every history of up
    // to 4 events was checked, not every one of 5.
    expect([v.depth, v.transitions]).toEqual([4, 166]);
  });
});
