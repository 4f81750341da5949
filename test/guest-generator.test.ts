/**
 * The fast guest generator against the literal event-by-event reference: the same
 * distributions of FP bits, exits, host flags, consecutive-run FP bits and run lengths,
 * for every built-in guest workload and for stress configurations that exercise every
 * branch of the jump chain and the backward end state.
 */

import { describe, expect, it } from 'vitest';
import type { GuestWorkload } from '../src/stream/guest-schema.js';
import { compileGuest } from '../src/stream/guest-model.js';
import { GuestRunner } from '../src/stream/guest.js';
import { CLASSES_PER_VCPU } from '../src/machine/run-class.js';
import { EC } from '../src/arch/esr.js';
import {
  builtinGuest as builtinFile,
  compareDistributions,
  distribution,
  edited,
  generate,
} from './guest-helpers.js';
import { referenceRuns } from './guest-reference.js';

const RUNS = 120_000;

/**
 * A built-in with its tick offset pinned: left open, each stream draws it from its seed
 * (a different boot phase, so a different run-length distribution per seed); the
 * comparisons are of one configuration.
 */
function builtinGuest(name: string): GuestWorkload {
  return edited(builtinFile(name), (w) => {
    w.host.tickOffsetUs = { value: 1300, rationale: 'pinned for the comparison' };
  });
}

const BUILTINS = [
  'hackbench',
  'lmbench-syscall',
  'lmbench-ctx',
  'idle',
  'virtio-io',
  'mixed-aarch32-aarch64',
];

/** AArch32 with frequent switches, interludes and kernel NEON, a mixed SIMD share and idling: every end-state branch. */
function aarch32Stress(): GuestWorkload {
  return edited(builtinGuest('fp-heavy-aarch32'), (w) => {
    const vm = w.vms[0];
    vm.scheduler.switchesPerSec.value = 3000;
    vm.scheduler.interludesPerSec.value = 2000;
    vm.scheduler.kernelNeonPerSec.value = 800;
    vm.tasks.simdShare.value = 0.5;
    vm.tasks.simdUsesPerSec.value = 1500;
    vm.idle.entriesPerSec.value = 400;
    vm.idle.userWakeShare.value = 0.6;
    vm.idle.sameTaskShare.value = 0.5;
    vm.idle.meanIdleUs.value = 600;
    w.host.fpWhileDescheduled.value = 0.3;
    w.host.kernelNeonPerExit.value = 0.1;
  });
}

/** AArch64 with a SIMD share of one half and switches far more frequent than exits. */
function aarch64Stress(): GuestWorkload {
  return edited(builtinGuest('hackbench'), (w) => {
    const vm = w.vms[0];
    vm.tasks.simdShare.value = 0.5;
    vm.tasks.simdUsesPerSec.value = 30000;
    vm.scheduler.kernelNeonPerSec.value = 500;
    vm.idle.entriesPerSec.value = 3000;
    vm.idle.userWakeShare.value = 0.5;
    vm.idle.sameTaskShare.value = 0.3;
  });
}

/** Bursty switching: a stream phase without user switches, about as long as a few runs. */
function phased(name: string, streamShare = 0.3, meanStreamUs = 5000): GuestWorkload {
  return edited(builtinGuest(name), (w) => {
    w.vms[0].scheduler.phases = {
      streamShare: { value: streamShare, rationale: 'test' },
      meanStreamUs: { value: meanStreamUs, rationale: 'test' },
    };
  });
}

describe('guest generator matches the event-by-event reference', () => {
  it('scheduler phases (AArch64 hackbench, a stream phase of ~2 runs)', () => {
    const w = phased('hackbench', 0.3, 150);
    expect(
      compareDistributions(
        distribution(generate(w, RUNS, 31)),
        distribution(referenceRuns(w, RUNS, 32)),
      ),
    ).toEqual([]);
  });
  it('scheduler phases (AArch32 stress, long stream phases)', () => {
    const w = edited(aarch32Stress(), (x) => {
      x.vms[0].scheduler.phases = {
        streamShare: { value: 0.5, rationale: 'test' },
        meanStreamUs: { value: 3000, rationale: 'test' },
      };
    });
    expect(
      compareDistributions(
        distribution(generate(w, RUNS, 33)),
        distribution(referenceRuns(w, RUNS, 34)),
      ),
    ).toEqual([]);
  });

  for (const name of BUILTINS) {
    it(`built-in ${name}`, () => {
      const w = builtinGuest(name);
      const fast = distribution(generate(w, RUNS, 11));
      const ref = distribution(referenceRuns(w, RUNS, 12));
      expect(compareDistributions(fast, ref)).toEqual([]);
    });
  }
  it('built-in fp-heavy-aarch32 (VFP uses at 5,000/s: the reference draws every use)', () => {
    const w = edited(builtinGuest('fp-heavy-aarch32'), (x) => {
      x.vms[0].tasks.simdUsesPerSec.value = 5000;
    });
    expect(
      compareDistributions(
        distribution(generate(w, RUNS, 7)),
        distribution(referenceRuns(w, RUNS, 8)),
      ),
    ).toEqual([]);
  });
  it('AArch32 stress configuration', () => {
    const w = aarch32Stress();
    expect(
      compareDistributions(
        distribution(generate(w, RUNS, 3)),
        distribution(referenceRuns(w, RUNS, 4)),
      ),
    ).toEqual([]);
  });
  it('AArch32 stress configuration with ID-register reads trapped (MVFR0 reads in VFP saves and loads exit)', () => {
    const w = edited(aarch32Stress(), (x) => {
      x.vms[0].trapsIdRegs = true;
    });
    const fast = distribution(generate(w, RUNS, 15));
    expect(compareDistributions(fast, distribution(referenceRuns(w, RUNS, 16)))).toEqual([]);
    // the mechanism is exercised: CP10_ID exits appear
    expect([...generate(w, 20_000, 17).key].some((k) => Math.floor(k / 3) === EC.CP10_ID)).toBe(
      true,
    );
  });
  it('AArch64 stress configuration', () => {
    const w = aarch64Stress();
    expect(
      compareDistributions(
        distribution(generate(w, RUNS, 5)),
        distribution(referenceRuns(w, RUNS, 6)),
      ),
    ).toEqual([]);
  });
  it('long walks (more steps than the hot loop takes) are finished by the general method the same way', () => {
    // Switches at 200x the exit rate between SIMD and plain slices, SIMD code so rare that
    // FP_EL0 is seldom set: a run walks ~100 effective events.
    const w = edited(builtinGuest('lmbench-syscall'), (x) => {
      const vm = x.vms[0];
      vm.scheduler.switchesPerSec.value = 100_000;
      vm.tasks.simdShare.value = 0.5;
      vm.tasks.simdUsesPerSec.value = 20;
    });
    const runs = 24_000;
    expect(
      compareDistributions(
        distribution(generate(w, runs, 13)),
        distribution(referenceRuns(w, runs, 14)),
      ),
    ).toEqual([]);
  });
  it('the comparison itself detects a different mechanism (a test that can fail)', () => {
    const w = builtinGuest('hackbench');
    const other = edited(w, (x) => {
      x.vms[0].scheduler.switchesPerSec.value *= 1.1;
    });
    expect(
      compareDistributions(
        distribution(generate(w, RUNS, 11)),
        distribution(referenceRuns(other, RUNS, 12)),
      ).length,
    ).toBeGreaterThan(0);
  });
});

describe('trace-conditioned runs (traceRun) match the reference given its run lengths and exits', () => {
  for (const [name, w] of [
    ['idle', builtinGuest('idle')],
    ['lmbench-ctx', builtinGuest('lmbench-ctx')],
    ['AArch32 stress', aarch32Stress()],
    ['AArch64 stress', aarch64Stress()],
    ['hackbench with scheduler phases', phased('hackbench', 0.3, 150)],
  ] as const) {
    it(name, () => {
      const ref = referenceRuns(w, RUNS, 21);
      const runner = new GuestRunner(compileGuest(w), 22);
      const cls = new Uint16Array(RUNS);
      for (let i = 0; i < RUNS; i++) {
        const fp = runner.traceRun(ref.vcpu[i], ref.ns[i], ref.wfx[i] === 1);
        // Keep the reference's exit and host flags: only the FP bits come from traceRun.
        const r = ref.cls[i] % CLASSES_PER_VCPU;
        cls[i] = ref.vcpu[i] * CLASSES_PER_VCPU + fp * 12 + (r % 12);
      }
      const a = distribution({ cls, key: ref.key, ns: ref.ns });
      const b = distribution(ref);
      expect(compareDistributions(a, b)).toEqual([]);
    });
  }
});
