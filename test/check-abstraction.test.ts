/**
 * The checker's reductions: the mode abstraction (`src/check/abstraction.ts`) is sound for
 * `adaptive` (its premise holds on every concrete state of a range of settings, and the
 * concrete searches' states are among the abstract one's), it finds a bug on the eager
 * path without any counter to count up, and symmetry over interchangeable vCPUs
 * (`src/check/symmetry.ts`) changes no verdict or counterexample length.
 */

import { describe, expect, it } from 'vitest';
import { checkedPolicy } from '../src/check/abstraction.js';
import { DEFAULT_CONFIG, THREE_AARCH32_CONFIG } from '../src/check/config.js';
import { checkPolicy, explore } from '../src/check/explore.js';
import { machineKey } from '../src/check/state-key.js';
import { renameState, vcpuRenamings } from '../src/check/symmetry.js';
import adaptive from '../src/policy/adaptive.js';
import type { Hyp, PolicyHooks } from '../src/policy/types.js';
import { cli, lazyFixedWithoutFpexcEn, mutant, NOISB_FIXTURE, policy } from './check-helpers.js';
import { BUILTIN_POLICIES } from './helpers/policies.js';

/** A Hyp that records every primitive call; `fpEnabled()` answers `fpOn`. */
function recorder(aarch32: boolean, fpOn: boolean): { hw: Hyp; calls: string[] } {
  const calls: string[] = [];
  const rec =
    (name: string) =>
    (...a: unknown[]) =>
      void calls.push(`${name}(${a.map((x) => JSON.stringify(x)).join(',')})`);
  const hw = {
    vcpus: [
      { id: 0, vm: 0, aarch32 },
      { id: 1, vm: 1, aarch32 },
    ],
    isAArch32: () => aarch32,
    fpEnabled: () => (calls.push('fpEnabled()'), fpOn),
    foreignFpstate: () => (calls.push('foreignFpstate()'), false),
    writeCptrTfp: rec('writeCptrTfp'),
    isb: rec('isb'),
    saveFp: rec('saveFp'),
    restoreFp: rec('restoreFp'),
    saveFpexc32: rec('saveFpexc32'),
    restoreFpexc32: rec('restoreFpexc32'),
    writeFpexc32En: rec('writeFpexc32En'),
    fpsimdSave: rec('fpsimdSave'),
    bindToCpu: rec('bindToCpu'),
    flushCpuState: rec('flushCpuState'),
  } satisfies Hyp;
  return { hw, calls };
}

type Mode = { count: number; eagerLeft: number };
const HOOKS = ['onEntry', 'onFpTrap', 'onExit'] as const;

/** The primitive calls of one hook on vCPU 1 whose mode is `mode` (vCPU 0 in `other`). */
function callsOf(
  hooks: PolicyHooks<Mode[]>,
  hook: (typeof HOOKS)[number],
  mode: Mode,
  other: Mode,
  aarch32: boolean,
  fpOn: boolean,
): string[] {
  const { hw, calls } = recorder(aarch32, fpOn);
  hooks[hook]?.(hw, [{ ...other }, { ...mode }], 1);
  return calls;
}

describe("adaptive's mode abstraction", () => {
  const a = adaptive.abstraction;
  if (a === undefined) throw new Error('adaptive declares no abstraction');
  const rep = (eager: boolean) => a.vcpuModes[eager ? 1 : 0].value as Mode;
  const modeOf = a.modeOf;
  if (modeOf === undefined) throw new Error('adaptive declares no modeOf');

  it('premise: each hook calls what its mode representative calls, on every concrete state', () => {
    let compared = 0;
    for (const [threshold, eagerRuns] of [
      [1, 1],
      [2, 3],
      [6, 250],
      [4, 16],
    ]) {
      const hooks = adaptive.create({ threshold, eagerRuns }) as PolicyHooks<Mode[]>;
      const states: Mode[] = [];
      for (let count = 0; count < threshold; count++) states.push({ count, eagerLeft: 0 });
      for (let left = 1; left <= eagerRuns; left++) states.push({ count: 0, eagerLeft: left });
      for (const hook of HOOKS) {
        const deciding = a.decidesAt.includes(hook);
        for (const mode of states) {
          for (const other of [states[0], states[states.length - 1]]) {
            for (const aarch32 of [false, true]) {
              for (const fpOn of [false, true]) {
                const want = callsOf(
                  hooks,
                  hook,
                  deciding ? (a.vcpuModes[modeOf(mode)].value as Mode) : rep(false),
                  rep(false),
                  aarch32,
                  fpOn,
                );
                expect(callsOf(hooks, hook, mode, other, aarch32, fpOn)).toEqual(want);
                compared++;
              }
            }
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(4000);
  });

  it('its representatives differ where it decides: lazy and eager entries call different primitives', () => {
    const hooks = adaptive.create({ threshold: 6, eagerRuns: 250 }) as PolicyHooks<Mode[]>;
    expect(callsOf(hooks, 'onEntry', rep(false), rep(false), true, false)).not.toEqual(
      callsOf(hooks, 'onEntry', rep(true), rep(false), true, false),
    );
  });

  it.each([
    [DEFAULT_CONFIG, ['adaptive:threshold=1,eagerRuns=1']],
    [THREE_AARCH32_CONFIG, ['adaptive:threshold=1,eagerRuns=1']],
  ] as const)(
    'every machine state of a concrete setting is reached by the abstraction (%#)',
    async (config, specs) => {
      const abstractStates = new Set(
        explore(checkedPolicy(await policy('adaptive')).policy, config, {
          symmetry: false,
          subsume: false,
        }).states.map(machineKey),
      );
      for (const spec of specs) {
        const concrete = explore(await policy(spec), config, { symmetry: false, subsume: false });
        expect(concrete.exhaustive).toBe(true);
        const missing = concrete.states.map(machineKey).filter((k) => !abstractStates.has(k));
        expect([spec, missing.length]).toEqual([spec, 0]);
      }
    },
  );

  it('a mutant that skips the guest FPEXC write on its eager path is caught, for every setting', async () => {
    const m = await mutant('adaptive', 'onEntry', 'restoreFpexc32', true);
    const v = checkPolicy(m, DEFAULT_CONFIG);
    expect([v.verdict, v.invariant]).toEqual(['violation', 'guest-undef']);
    expect(v.covers).toBe('every threshold and eagerRuns (mode chosen freely at every entry)');
    // The counterexample chooses the eager entry: no counter had to count up.
    expect(v.steps.some((s) => s.choices.some((c) => c.includes('eager')))).toBe(true);
    expect(v.depth).toBeLessThan(13);
  });

  it('fpswitch check --policy adaptive: a clean fixpoint covering every threshold and eagerRuns', async () => {
    const r = await cli(['check', '--policy', 'adaptive']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\nadaptive: ok, no violation in any interleaving \(fixpoint: /);
    expect(r.out).toContain(
      '  covers: every threshold and eagerRuns (mode chosen freely at every entry)',
    );
    const c = await cli(['check', '-p', 'adaptive:threshold=2,eagerRuns=2', '--concrete']);
    expect(c.out).toContain(
      'adaptive:threshold=2,eagerRuns=2: ok, no violation in any interleaving (fixpoint: 13,432 states',
    );
    expect(c.out).toContain('  covers: only threshold=2, eagerRuns=2');
  });
});

describe('symmetry over interchangeable vCPUs', () => {
  it('finds the renamings: two AArch32 vCPUs of different VMs; all six of three', () => {
    expect(vcpuRenamings(DEFAULT_CONFIG.vcpus)).toEqual([[1, 0, 2]]);
    expect(vcpuRenamings(THREE_AARCH32_CONFIG.vcpus)).toHaveLength(5);
    // Two vCPUs of one VM and one of another: only the two of one VM swap.
    expect(
      vcpuRenamings([
        { id: 0, vm: 0, aarch32: true },
        { id: 1, vm: 0, aarch32: true },
        { id: 2, vm: 1, aarch32: true },
      ]),
    ).toEqual([[1, 0, 2]]);
  });

  it('renaming twice by a swap gives the state back', async () => {
    const x = explore(await policy('lazy-vcpu'), DEFAULT_CONFIG, { symmetry: false });
    for (const s of x.states.slice(0, 300)) {
      const back = renameState(renameState(s, [1, 0, 2]), [1, 0, 2]);
      expect(JSON.stringify(back)).toBe(JSON.stringify(s));
    }
  });

  it('changes no verdict, invariant or counterexample length', async () => {
    const specs = [...BUILTIN_POLICIES, NOISB_FIXTURE];
    const ps = [...(await Promise.all(specs.map((s) => policy(s)))), lazyFixedWithoutFpexcEn()];
    ps.push(await mutant('lazy-vcpu', 'onVcpuPut', 'fpsimdSave', true));
    ps.push(await mutant('adaptive', 'onEntry', 'restoreFpexc32', true));
    for (const config of [DEFAULT_CONFIG, THREE_AARCH32_CONFIG]) {
      for (const p of ps) {
        const reduced = checkPolicy(p, config);
        const full = checkPolicy(p, config, { symmetry: false });
        expect([
          p.id,
          reduced.verdict,
          reduced.invariant,
          reduced.exhaustive,
          reduced.depth,
        ]).toEqual([p.id, full.verdict, full.invariant, full.exhaustive, full.depth]);
        if (full.verdict === 'ok' && reduced.symmetry > 1)
          expect(reduced.states).toBeLessThan(full.states);
      }
    }
  });
});
