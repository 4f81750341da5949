/**
 * Mutation tests: delete one line (one primitive call in one hook) from a clean design
 * and the checker must find the bug it makes, with the invariant a hypervisor engineer
 * would expect. This is how we know every invariant can fail, not only the three of the
 * 2015 thread.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/check/config.js';
import { parseEvent } from '../src/check/events.js';
import { checkPolicy } from '../src/check/explore.js';
import { replayScenario } from '../src/check/scenario.js';
import { mutant } from './check-helpers.js';
import { must } from './helpers/must.js';

type Case = [
  spec: string,
  hook: Parameters<typeof mutant>[1],
  primitive: Parameters<typeof mutant>[2],
  invariant: string,
  length: number,
];

const KILLED: Case[] = [
  // The host's registers are not given back on exit: the VMM finds the guest's state.
  ['lazy-fixed', 'onExit', 'restoreFp', 'host-state', 5],
  // The guest's registers are not saved on exit: it later reads a stale copy of its own.
  ['lazy-fixed', 'onExit', 'saveFp', 'guest-state', 6],
  // The trap handler does not load the guest's state: it reads the host's (a leak).
  ['lazy-fixed', 'onFpTrap', 'restoreFp', 'guest-state', 3],
  // The trap handler does not save the host's state first: the VMM's state is lost.
  ['lazy-fixed', 'onFpTrap', 'saveFp', 'host-state', 5],
  // The guest's own FPEXC is not restored on trap: its EN=0 is lost, the next VFP
  // instruction executes where its own CPU would UNDEF.
  ['lazy-fixed', 'onFpTrap', 'restoreFpexc32', 'guest-undef', 6],
  ['lazy-fixed', 'onExit', 'saveFpexc32', 'guest-undef', 6],
  // bug 2 again, in the landed code
  ['lazy-fixed', 'onFpTrap', 'isb', 'el2-self-trap', 3],
  // v4.18: the guest state is not saved at vcpu_put, or the CPU not flushed / bound.
  ['lazy-vcpu', 'onVcpuPut', 'fpsimdSave', 'guest-state', 7],
  ['lazy-vcpu', 'onVcpuPut', 'flushCpuState', 'host-state', 5],
  ['lazy-vcpu', 'onExit', 'bindToCpu', 'host-state', 5],
  ['lazy-vcpu', 'onFpTrap', 'saveFp', 'host-state', 5],
  // bug 3 in v4.18's entry path (__activate_traps_fpsimd32)
  ['lazy-vcpu', 'onEntry', 'writeFpexc32En', 'guest-undef', 7],
  // the pre-2015 eager switch without FPEXC32 in the 32-bit sysreg save/restore
  ['eager', 'onExit', 'saveFpexc32', 'guest-undef', 6],
  ['eager', 'onEntry', 'restoreFpexc32', 'guest-undef', 7],
  // adaptive's eager-mode entry without the guest's FPEXC: needs a mode change to show
  ['adaptive:threshold=2,eagerRuns=2', 'onEntry', 'restoreFpexc32', 'guest-undef', 13],
];

describe('every mutant of a clean design is caught', () => {
  it.each(KILLED)(
    '%s without %s.%s: %s in %i events',
    async (spec, hook, primitive, invariant, length) => {
      const v = checkPolicy(await mutant(spec, hook, primitive), DEFAULT_CONFIG);
      expect([v.verdict, v.invariant, v.depth]).toEqual(['violation', invariant, length]);
    },
  );

  it('fpexc: the guest reads back an FPEXC.EN it did not write', async () => {
    // Restore FPEXC32 nowhere: after an exit the guest's EN=0 comes back as the EN=1 the
    // entry wrote. The search reports the VFP instruction first (guest-undef, 6 events:
    // `guest fp el0` precedes `guest fpexc read`); the read shows the fpexc invariant.
    const m = await mutant('lazy-fixed', 'all', 'restoreFpexc32');
    const v = checkPolicy(m, DEFAULT_CONFIG);
    expect([v.invariant, v.depth]).toEqual(['guest-undef', 6]);
    const texts = [
      'load vcpu0',
      'enter',
      'guest fpexc write en=0',
      'exit kernel',
      'enter',
      'guest fpexc read',
    ];
    const scenario = {
      name: 'read-back',
      file: '(test)',
      events: texts.map((text) => ({ text, event: must(parseEvent(text), text) })),
    };
    const r = replayScenario(m, DEFAULT_CONFIG, scenario);
    expect([r.invariant, r.steps.length]).toEqual(['fpexc', 6]);
    expect(r.diagnosis).toBe('vcpu0 reads FPEXC.EN=1 but last wrote EN=0');
  });

  it("shows each step's own policy state, and says why FPEXC.EN=1 was wrong", async () => {
    const v = checkPolicy(await mutant('lazy-vcpu', 'onFpTrap', 'restoreFpexc32'), DEFAULT_CONFIG);
    expect([v.invariant, v.depth]).toEqual(['guest-undef', 7]);
    type Flags = { fpEnabled: boolean; fpHost: boolean }[];
    // vcpu_load: FP_HOST set, FP_ENABLED clear; the trap then sets FP_ENABLED.
    expect((v.steps[0].state.policy as Flags)[0]).toEqual({ fpEnabled: false, fpHost: true });
    expect((v.steps[2].state.policy as Flags)[0]).toEqual({ fpEnabled: true, fpHost: false });
    expect(v.diagnosis).toContain("FPEXC32_EL2.EN=1 is not vcpu0's own FPEXC.EN=0");
  });

  it('an equivalent mutant survives: the isb after FPEXC32_EL2 = EN on entry', async () => {
    // In the model only CPTR_EL2 writes wait for synchronisation, and the ERET into the
    // guest synchronises anyway, so this isb changes nothing the invariants can see.
    const v = checkPolicy(await mutant('lazy-fixed', 'onEntry', 'isb'), DEFAULT_CONFIG);
    expect(v.verdict).toBe('ok');
    expect(v.exhaustive).toBe(true);
  });
});
