/** Scenario replay: a named history of events, step by step, ending in a violation or ok. */

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/check/config.js';
import { loadScenario, replayScenario } from '../src/check/scenario.js';
import { isUserError } from '../src/util/errors.js';
import { policy, SCENARIOS } from './check-helpers.js';

const file = (name: string) => `${SCENARIOS}/${name}.json`;

describe('replay', () => {
  it('shows the NOTAFIX bug on lazy-notafix at the guest VFP instruction, and lazy-fixed clean', async () => {
    const sc = loadScenario(file('notafix-stale-fpexc'));
    expect(sc.name).toBe('notafix-stale-fpexc');
    expect(sc.config).toBe('default');
    const bad = replayScenario(await policy('lazy-notafix'), DEFAULT_CONFIG, sc);
    expect(bad.verdict).toBe('violation');
    expect(bad.invariant).toBe('guest-undef');
    expect(bad.steps.length).toBe(7);
    expect(bad.steps[6].event).toBe('guest fp el0');
    expect(bad.steps[6].violation?.invariant).toBe('guest-undef');
    expect(bad.diagnosis).toContain('vcpu0 left FPEXC32_EL2.EN=0 behind at step 3 (guest ctxsw)');

    const good = replayScenario(await policy('lazy-fixed'), DEFAULT_CONFIG, sc);
    expect(good.verdict).toBe('ok');
    expect(good.steps.length).toBe(sc.events.length);
    // The same guest instruction now traps to EL2 and runs with vcpu1's own state.
    expect(good.steps[6].hooks).toEqual(['onFpTrap']);
    expect(good.steps[6].state.fpRegs).toBe('vcpu1');
    expect(good.steps[6].state.fpexc32En).toBe(true);
  });

  it('tries both outcomes of an EL2 access with a CPTR_EL2 write pending', async () => {
    const sc = loadScenario(file('v4-trap-without-isb'));
    const r = replayScenario(await policy('lazy-v4'), DEFAULT_CONFIG, sc);
    expect(r.invariant).toBe('el2-self-trap');
    expect(r.steps.length).toBe(3);
    expect(r.steps[2].choices).toEqual(['__fpsimd_save_state saw the old CPTR_EL2.TFP=1']);
    expect(r.steps[2].state).toMatchObject({ tfp: true, tfpWritten: false, hook: 'onFpTrap' });
    // With the isb (NOTAFIX hunk 1) the same history is fine.
    expect(replayScenario(await policy('lazy-notafix'), DEFAULT_CONFIG, sc).verdict).toBe('ok');
  });

  it('replays a long history with host NEON, the VMM and FPEXC toggling cleanly on every fixed design', async () => {
    const sc = loadScenario(file('vmm-round-trip'));
    for (const spec of [
      'eager',
      'lazy-notafix',
      'lazy-fixed',
      'lazy-vcpu',
      'adaptive:threshold=2,eagerRuns=2',
    ]) {
      const r = replayScenario(await policy(spec), DEFAULT_CONFIG, sc);
      expect([spec, r.verdict]).toEqual([spec, 'ok']);
      expect(r.steps.length).toBe(24);
      expect(r.steps[23].state.fpRegs).toBe('host');
    }
    // lazy-vcpu keeps the guest state live across the in-kernel exit (step 22) until put.
    const live = replayScenario(await policy('lazy-vcpu'), DEFAULT_CONFIG, sc);
    expect(live.steps[21].state.fpRegs).toBe('vcpu0');
    expect(live.steps[22].state.tifForeignFpstate).toBe(true);
  });

  it('accepts a plain JSON list of events', async () => {
    const sc = loadScenario(file('plain-list'));
    expect(sc.events.map((e) => e.text)).toEqual(['load vcpu0', 'enter', 'exit kernel']);
    const r = replayScenario(await policy('lazy-v4'), DEFAULT_CONFIG, sc);
    expect(r.invariant).toBe('el2-self-trap');
    expect(r.steps[2].state.hook).toBe('onExit');
  });
});

describe('bad scenarios', () => {
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(isUserError(e)).toBe(true);
      return (e as Error).message;
    }
    throw new Error('expected a UserError');
  };

  it('names the file and the problem', async () => {
    expect(message(() => loadScenario(file('malformed')))).toMatch(
      /malformed\.json: not valid JSON/,
    );
    expect(message(() => loadScenario(file('unknown-event')))).toMatch(
      /unknown-event\.json: events\[2\]: unknown event "guest fp el2" \(events: load vcpuN/,
    );
    expect(message(() => loadScenario(file('bad-field')))).toMatch(
      /bad-field\.json: unknown field "evnets"/,
    );
    expect(message(() => loadScenario(file('does-not-exist')))).toMatch(
      /does-not-exist\.json: cannot read scenario file \(ENOENT\)/,
    );
    const impossible = loadScenario(file('impossible-event'));
    const p = await policy('lazy-fixed');
    expect(message(() => replayScenario(p, DEFAULT_CONFIG, impossible))).toBe(
      `${file('impossible-event')}: events[1] "guest fp el0": cannot happen here: no guest is running`,
    );
  });
});
