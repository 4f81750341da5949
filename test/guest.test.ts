/**
 * The guest workload generator: every parameter moves the output the way the mechanism
 * says; the guest kernels' FP mechanisms (comboEffect); determinism; chunking.
 */

import { describe, expect, it } from 'vitest';
import { EC, EXIT_TYPE } from '../src/arch/esr.js';
import { exitKey, HANDLED } from '../src/cpu/profile.js';
import type { GuestWorkload } from '../src/stream/guest-schema.js';
import {
  comboEffect,
  EN_BIT,
  idleEntryEffect,
  INHW_BIT,
  SIMD_BIT,
  vmFigures,
  wakeEffect,
} from '../src/stream/guest-model.js';
import { guestStream } from '../src/stream/guest.js';
import { CHUNK_RUNS } from '../src/stream/exit-stream.js';
import { CLASSES_PER_VCPU, FP_EL0, FP_EL1, FPEXC_ACCESS } from '../src/machine/run-class.js';
import { builtinGuest, type Cols, edited, generate } from './guest-helpers.js';
import { runCli } from './helpers/cli.js';
import { at, type Json } from './helpers/json-edit.js';
import { sim } from './helpers/sim.js';

const RUNS = 60_000;

/** Figures of a generated stream that the mechanism predicts. */
function figures(c: Cols) {
  const n = c.cls.length;
  let put = 0;
  let hostFp = 0;
  let hostFpUser = 0;
  let user = 0;
  let hostFpPut = 0;
  let wfxNs = 0;
  let wfx = 0;
  let ns = 0;
  const vcpu = new Map<number, number>();
  const key = new Map<number, number>();
  const handled = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const code = c.cls[i];
    const v = Math.floor(code / CLASSES_PER_VCPU);
    const r = code % CLASSES_PER_VCPU;
    const h = Math.floor(r / 4) % 3;
    vcpu.set(v, (vcpu.get(v) ?? 0) + 1);
    key.set(c.key[i], (key.get(c.key[i]) ?? 0) + 1);
    handled[h]++;
    if (r & 1) put++;
    if (r & 2) hostFp++;
    if (h === HANDLED.user) {
      user++;
      if (r & 2) hostFpUser++;
    }
    if (r & 1 && r & 2) hostFpPut++;
    if (c.key[i] === exitKey(EC.WFx, HANDLED.kernel)) {
      wfx++;
      wfxNs += c.ns[i];
    }
    ns += c.ns[i];
  }
  return {
    put: put / n,
    hostFp: hostFp / n,
    hostFpOfUser: user ? hostFpUser / user : 0,
    hostFpOfPut: put ? hostFpPut / put : 0,
    wfxMeanNs: wfx ? wfxNs / wfx : 0,
    meanNs: ns / n,
    vcpuShare: (v: number) => (vcpu.get(v) ?? 0) / n,
    keyShare: (k: number) => (key.get(k) ?? 0) / n,
    handledShare: (h: number) => handled[h] / n,
  };
}

async function lazy(w: GuestWorkload, runs = RUNS, seed = 1) {
  return sim('lazy-fixed', guestStream(w, { runs, seed }));
}

const key = (cls: number, handled: number) => exitKey(cls, handled as 0 | 1 | 2);

interface Case {
  readonly param: string;
  readonly base: string;
  readonly low: (w: GuestWorkload) => void;
  readonly high: (w: GuestWorkload) => void;
  /** The figure the mechanism says the parameter moves, and which way (+1 up, -1 down) as the parameter rises. */
  readonly metric: (w: GuestWorkload) => number | Promise<number>;
  readonly direction: 1 | -1;
  /** Smallest change accepted (absolute). */
  readonly min: number;
}

const vm0 = (w: GuestWorkload) => w.vms[0];
const skip = async (w: GuestWorkload) => (await lazy(w)).skipRate;
const stream = (w: GuestWorkload) => generate(w, RUNS, 3);

const CASES: Case[] = [
  {
    param: 'scheduler.switchesPerSec',
    base: 'hackbench',
    low: (w) => void (vm0(w).scheduler.switchesPerSec.value = 20_000),
    high: (w) => void (vm0(w).scheduler.switchesPerSec.value = 200_000),
    metric: skip,
    direction: -1,
    min: 0.1,
  },
  {
    param: 'scheduler.interludesPerSec',
    base: 'lmbench-syscall',
    low: (w) => void (vm0(w).scheduler.interludesPerSec.value = 10),
    high: (w) => void (vm0(w).scheduler.interludesPerSec.value = 500),
    metric: skip,
    direction: -1,
    min: 0.2,
  },
  {
    param: 'scheduler.kernelNeonPerSec',
    base: 'lmbench-syscall',
    low: (w) => void (vm0(w).scheduler.kernelNeonPerSec.value = 0),
    high: (w) => void (vm0(w).scheduler.kernelNeonPerSec.value = 500),
    metric: skip,
    direction: -1,
    min: 0.2,
  },
  {
    param: 'tasks.simdShare',
    base: 'lmbench-syscall',
    low: (w) =>
      void (
        (vm0(w).tasks.simdShare.value = 0),
        (vm0(w).tasks.simdUsesPerSec.value = 1e5),
        (vm0(w).scheduler.switchesPerSec.value = 20)
      ),
    high: (w) =>
      void (
        (vm0(w).tasks.simdShare.value = 0.8),
        (vm0(w).tasks.simdUsesPerSec.value = 1e5),
        (vm0(w).scheduler.switchesPerSec.value = 20)
      ),
    metric: skip,
    direction: -1,
    min: 0.3,
  },
  {
    param: 'tasks.simdUsesPerSec',
    base: 'virtio-io',
    low: (w) => void (vm0(w).tasks.simdUsesPerSec.value = 1e4),
    high: (w) => void (vm0(w).tasks.simdUsesPerSec.value = 1e6),
    metric: async (w) => (await lazy(w)).fpUse.el0,
    direction: 1,
    min: 0.1,
  },
  {
    param: 'idle.entriesPerSec',
    base: 'hackbench',
    low: (w) => void (vm0(w).idle.entriesPerSec.value = 100),
    high: (w) => void (vm0(w).idle.entriesPerSec.value = 5000),
    metric: (w) => figures(stream(w)).keyShare(key(EC.WFx, HANDLED.kernel)),
    direction: 1,
    min: 0.1,
  },
  {
    param: 'idle.meanIdleUs (WFI blocks: vcpu_put)',
    base: 'lmbench-ctx',
    low: (w) => void (vm0(w).idle.meanIdleUs.value = 10),
    high: (w) => void (vm0(w).idle.meanIdleUs.value = 5000),
    metric: (w) => figures(stream(w)).put,
    direction: 1,
    min: 0.3,
  },
  {
    param: 'idle.userWakeShare',
    base: 'idle',
    low: (w) => void (vm0(w).idle.userWakeShare.value = 0.02),
    high: (w) => void (vm0(w).idle.userWakeShare.value = 0.6),
    metric: skip,
    direction: -1,
    min: 0.3,
  },
  {
    param: 'idle.sameTaskShare',
    base: 'lmbench-ctx',
    low: (w) => void (vm0(w).idle.sameTaskShare.value = 0),
    high: (w) => void (vm0(w).idle.sameTaskShare.value = 1),
    metric: skip,
    direction: 1,
    min: 0.2,
  },
  {
    param: 'idle.blipUs',
    base: 'idle',
    low: (w) => void (vm0(w).idle.blipUs.value = 2),
    high: (w) => void (vm0(w).idle.blipUs.value = 20),
    metric: (w) => figures(stream(w)).wfxMeanNs,
    direction: 1,
    min: 5000,
  },
  {
    param: 'hz (guest tick)',
    base: 'lmbench-syscall',
    low: (w) => void (vm0(w).hz.value = 100),
    high: (w) => void (vm0(w).hz.value = 1000),
    metric: async (w) => (await lazy(w)).exitsPerGuestSecond,
    direction: 1,
    min: 500,
  },
  {
    param: 'exits.ipiSentPerSec',
    base: 'hackbench',
    low: (w) => void (vm0(w).exits.ipiSentPerSec.value = 1000),
    high: (w) => void (vm0(w).exits.ipiSentPerSec.value = 30_000),
    metric: (w) => figures(stream(w)).keyShare(key(EC.DABT_LOW, HANDLED.kernel)),
    direction: 1,
    min: 0.3,
  },
  {
    param: 'exits.ipiReceivedPerSec',
    base: 'hackbench',
    low: (w) => void (vm0(w).exits.ipiReceivedPerSec.value = 1000),
    high: (w) => void (vm0(w).exits.ipiReceivedPerSec.value = 30_000),
    metric: skip,
    direction: 1,
    min: 0.05,
  },
  {
    param: 'exits.deviceIrqPerSec',
    base: 'virtio-io',
    low: (w) => void (vm0(w).exits.deviceIrqPerSec.value = 0),
    high: (w) => void (vm0(w).exits.deviceIrqPerSec.value = 100_000),
    metric: (w) => figures(stream(w)).keyShare(key(EXIT_TYPE.IRQ, HANDLED.kernel)),
    direction: 1,
    min: 0.2,
  },
  {
    param: 'exits.mmioUserPerSec',
    base: 'virtio-io',
    low: (w) => void (vm0(w).exits.mmioUserPerSec.value = 1000),
    high: (w) => void (vm0(w).exits.mmioUserPerSec.value = 300_000),
    metric: (w) => figures(stream(w)).handledShare(HANDLED.user),
    direction: 1,
    min: 0.3,
  },
  {
    param: 'exits.mmioKernelPerSec',
    base: 'virtio-io',
    low: (w) => void (vm0(w).exits.mmioKernelPerSec.value = 0),
    high: (w) => void (vm0(w).exits.mmioKernelPerSec.value = 300_000),
    metric: (w) => figures(stream(w)).keyShare(key(EC.DABT_LOW, HANDLED.kernel)),
    direction: 1,
    min: 0.3,
  },
  {
    param: 'exits.hvcPerSec',
    base: 'lmbench-syscall',
    low: (w) => void (vm0(w).exits.hvcPerSec.value = 0),
    high: (w) => void (vm0(w).exits.hvcPerSec.value = 500),
    metric: (w) => figures(stream(w)).keyShare(key(EC.HVC64, HANDLED.kernel)),
    direction: 1,
    min: 0.3,
  },
  {
    param: 'exits.stage2DataFaultsPerSec',
    base: 'lmbench-syscall',
    low: (w) => void (vm0(w).exits.stage2DataFaultsPerSec.value = 0),
    high: (w) => void (vm0(w).exits.stage2DataFaultsPerSec.value = 500),
    metric: (w) => figures(stream(w)).keyShare(key(EC.DABT_LOW, HANDLED.kernel)),
    direction: 1,
    min: 0.3,
  },
  {
    param: 'exits.stage2InstrFaultsPerSec',
    base: 'lmbench-syscall',
    low: (w) => void (vm0(w).exits.stage2InstrFaultsPerSec.value = 0),
    high: (w) => void (vm0(w).exits.stage2InstrFaultsPerSec.value = 500),
    metric: (w) => figures(stream(w)).keyShare(key(EC.IABT_LOW, HANDLED.kernel)),
    direction: 1,
    min: 0.3,
  },
  {
    param: 'exits.sysregPerSec',
    base: 'lmbench-syscall',
    low: (w) => void (vm0(w).exits.sysregPerSec.value = 0),
    high: (w) => void (vm0(w).exits.sysregPerSec.value = 500),
    metric: (w) => figures(stream(w)).keyShare(key(EC.SYS64, HANDLED.kernel)),
    direction: 1,
    min: 0.3,
  },
  {
    param: 'host.hz',
    base: 'lmbench-syscall',
    low: (w) => void (w.host.hz.value = 100),
    high: (w) => void (w.host.hz.value = 1000),
    metric: async (w) => (await lazy(w)).exitsPerGuestSecond,
    direction: 1,
    min: 500,
  },
  {
    param: 'host.preemptionsPerSec',
    base: 'mixed-aarch32-aarch64',
    low: (w) => void (w.host.preemptionsPerSec.value = 10),
    high: (w) => void (w.host.preemptionsPerSec.value = 240),
    metric: (w) => figures(stream(w)).put,
    direction: 1,
    min: 0.05,
  },
  {
    param: 'host.haltPollUs',
    base: 'idle',
    low: (w) => void (w.host.haltPollUs.value = 0),
    high: (w) => void (w.host.haltPollUs.value = 200_000),
    metric: (w) => figures(stream(w)).put,
    direction: -1,
    min: 0.5,
  },
  {
    param: 'host.kernelNeonPerExit',
    base: 'lmbench-syscall',
    low: (w) => void (w.host.kernelNeonPerExit.value = 0),
    high: (w) => void (w.host.kernelNeonPerExit.value = 0.5),
    metric: (w) => figures(stream(w)).hostFp,
    direction: 1,
    min: 0.4,
  },
  {
    param: 'host.vmmFpPerUserExit',
    base: 'virtio-io',
    low: (w) => void (w.host.vmmFpPerUserExit.value = 0),
    high: (w) => void (w.host.vmmFpPerUserExit.value = 1),
    metric: (w) => figures(stream(w)).hostFpOfUser,
    direction: 1,
    min: 0.99,
  },
  {
    param: 'host.fpWhileDescheduled',
    base: 'idle',
    low: (w) => void (w.host.fpWhileDescheduled.value = 0),
    high: (w) => void (w.host.fpWhileDescheduled.value = 0.8),
    metric: (w) => figures(stream(w)).hostFpOfPut,
    direction: 1,
    min: 0.7,
  },
  {
    param: 'vcpus (per-guest exit rate)',
    base: 'hackbench',
    low: (w) => void (vm0(w).vcpus.value = 2),
    high: (w) => void (vm0(w).vcpus.value = 16),
    metric: (w) => vmFigures(w, 0).guestExitsPerSec,
    direction: 1,
    min: 100_000,
  },
  {
    param: 'vcpusOnThisCpu',
    base: 'hackbench',
    low: (w) => void (vm0(w).vcpusOnThisCpu.value = 1),
    high: (w) => void ((vm0(w).vcpusOnThisCpu.value = 2), (w.host.preemptionsPerSec.value = 100)),
    metric: (w) => figures(stream(w)).vcpuShare(1),
    direction: 1,
    min: 0.3,
  },
];

describe('every guest parameter moves the output the way the mechanism says', () => {
  for (const c of CASES) {
    it(`${c.param} (on ${c.base})`, async () => {
      const lo = await c.metric(edited(builtinGuest(c.base), c.low));
      const hi = await c.metric(edited(builtinGuest(c.base), c.high));
      expect(Math.sign(hi - lo)).toBe(c.direction);
      expect(Math.abs(hi - lo)).toBeGreaterThanOrEqual(c.min);
    });
  }
  it('hostWeight: after a vcpu_put the host picks among the other vCPUs by weight', () => {
    const w3 = (weight: number) =>
      edited(builtinGuest('mixed-aarch32-aarch64'), (w) => {
        w.vms[0].vcpus.value = 2;
        w.vms[0].vcpusOnThisCpu.value = 2;
        w.vms[1].hostWeight.value = weight;
      });
    const share = (w: GuestWorkload) => figures(generate(w, RUNS, 9)).vcpuShare(2);
    // Picks after a put: from the AArch32 vCPUs to the AArch64 one with weight w / (1 + w),
    // back always: the AArch64 vCPU's share of visits is 1/3 at w = 1 and 8/17 at w = 8.
    expect(share(w3(1))).toBeCloseTo(1 / 3, 1);
    expect(share(w3(8))).toBeGreaterThan(share(w3(1)) + 0.1);
  });
  it('an idle guest skips nearly every exit', async () => {
    const w = edited(builtinGuest('idle'), (x) => {
      x.vms[0].idle.userWakeShare.value = 0.01;
      x.host.fpWhileDescheduled.value = 0;
    });
    const r = await lazy(w);
    expect(r.skipRate).toBeGreaterThan(0.98);
    expect(r.exitMix[0].exit).toBe('WFx');
  });
  it('a run that holds no guest event never touches FP, and every run with a context switch does (AArch64)', async () => {
    const none = edited(
      builtinGuest('lmbench-syscall'),
      (w) => void (vm0(w).scheduler.interludesPerSec.value = 0),
    );
    expect((await lazy(none)).skipRate).toBe(1);
    const always = edited(
      builtinGuest('lmbench-syscall'),
      (w) => void (vm0(w).scheduler.switchesPerSec.value = 1e7),
    );
    expect((await lazy(always)).fpUse.el1).toBeGreaterThan(0.999);
  });
});

describe("the guest kernels' FP mechanisms", () => {
  const SW_SIMD = 0;
  const SW_PLAIN = 1;
  const INTERLUDE = 2;
  const KNEON = 3;
  const USE = 4;
  it("AArch64: a context switch saves the outgoing task's state (FP at EL1), SIMD code touches FP at EL0", () => {
    expect(comboEffect(false, 0, SW_PLAIN)).toBe(FP_EL1);
    expect(comboEffect(false, 0, SW_SIMD)).toBe(FP_EL1 | SIMD_BIT);
    expect(comboEffect(false, SIMD_BIT, USE)).toBe(FP_EL0 | SIMD_BIT);
    expect(comboEffect(false, 0, USE)).toBe(0); // a plain slice runs no SIMD code
    expect(comboEffect(false, 0, INTERLUDE)).toBe(FP_EL1);
    expect(comboEffect(false, 0, KNEON)).toBe(FP_EL1);
    expect(idleEntryEffect(false, SIMD_BIT)).toBe(SIMD_BIT | FP_EL1);
    expect(wakeEffect(false, SIMD_BIT, true, false)).toBe(SIMD_BIT); // the task's state is still loaded
    expect(wakeEffect(false, SIMD_BIT, false, false)).toBe(FP_EL1); // another task: restored on return to user
  });
  it('AArch32: vfp_notifier reads FPEXC and clears EN on every switch, saving VFP only if EN was set', () => {
    expect(comboEffect(true, 0, SW_PLAIN)).toBe(FPEXC_ACCESS);
    expect(comboEffect(true, EN_BIT | INHW_BIT | SIMD_BIT, SW_PLAIN)).toBe(FPEXC_ACCESS | FP_EL1);
    expect(comboEffect(true, EN_BIT | INHW_BIT | SIMD_BIT, INTERLUDE)).toBe(
      FPEXC_ACCESS | FP_EL1 | SIMD_BIT | INHW_BIT,
    );
  });
  it('AArch32: the first VFP use after EN=0 is undefined at EL1; the undef handler sets EN and loads the state unless it is in hardware', () => {
    expect(comboEffect(true, SIMD_BIT, USE)).toBe(
      FPEXC_ACCESS | FP_EL1 | FP_EL0 | SIMD_BIT | EN_BIT | INHW_BIT,
    );
    expect(comboEffect(true, SIMD_BIT | INHW_BIT, USE)).toBe(
      FPEXC_ACCESS | FP_EL0 | SIMD_BIT | EN_BIT | INHW_BIT,
    );
    expect(comboEffect(true, SIMD_BIT | EN_BIT | INHW_BIT, USE)).toBe(
      FP_EL0 | SIMD_BIT | EN_BIT | INHW_BIT,
    );
    expect(comboEffect(true, EN_BIT | INHW_BIT, KNEON)).toBe(FPEXC_ACCESS | FP_EL1);
    expect(idleEntryEffect(true, SIMD_BIT | EN_BIT | INHW_BIT)).toBe(
      SIMD_BIT | INHW_BIT | FPEXC_ACCESS | FP_EL1,
    );
    expect(wakeEffect(true, SIMD_BIT | INHW_BIT, false, true)).toBe(SIMD_BIT | FPEXC_ACCESS);
  });
  it('AArch32 context switches show up as FPEXC accesses; the same guest with AArch64 EL1 has none', async () => {
    const a32 = await lazy(builtinGuest('fp-heavy-aarch32'));
    expect(a32.fpUse.fpexc).toBeGreaterThan(0.3);
    expect(a32.counters.fpexc32Accesses).toBeGreaterThan(0);
    const a64 = await lazy(
      edited(builtinGuest('fp-heavy-aarch32'), (w) => void (vm0(w).el1 = 'aarch64')),
    );
    expect(a64.fpUse.fpexc).toBe(0);
    // Without switches, EN stays set after the first use: no FPEXC access in any later run.
    const still = await lazy(
      edited(builtinGuest('fp-heavy-aarch32'), (w) => {
        vm0(w).scheduler.switchesPerSec.value = 0;
        vm0(w).scheduler.interludesPerSec.value = 0;
        vm0(w).tasks.simdShare.value = 1;
      }),
    );
    expect(still.fpUse.fpexc).toBeLessThan(0.001);
  });
  it('FPEXC-only runs (the guest kernel toggling EN with no VFP use in the run) are counted as their own FP traps', async () => {
    const w = edited(
      builtinGuest('fp-heavy-aarch32'),
      (x) => void (vm0(x).tasks.simdShare.value = 0.1),
    );
    const r = await lazy(w);
    expect(r.counters.fpexcOnlyTraps).toBeGreaterThan(0.05 * r.runs);
  });
  it('IPI exit class: GICv2 GICD_SGIR (DABT_LOW), GICv3 ICC_SGI1R (SYS64; CP15_64 from AArch32)', () => {
    const share = (w: GuestWorkload, cls: number) =>
      figures(generate(w, 20_000, 1)).keyShare(key(cls, HANDLED.kernel));
    const v2 = builtinGuest('hackbench');
    const v3 = edited(v2, (w) => void (vm0(w).gic = 'v3'));
    const v3a32 = edited(v3, (w) => void (vm0(w).el1 = 'aarch32'));
    expect(share(v2, EC.DABT_LOW)).toBeGreaterThan(0.4);
    expect(share(v2, EC.SYS64)).toBe(0);
    expect(share(v3, EC.SYS64)).toBeGreaterThan(0.4);
    expect(share(v3, EC.DABT_LOW)).toBe(0);
    expect(share(v3a32, EC.CP15_64)).toBeGreaterThan(0.4);
  });
  it('other exit sources keep their class and handling; exits handled at EL2 bring no host activity', () => {
    const w = edited(builtinGuest('virtio-io'), (x) => {
      vm0(x).otherExits = [
        { exit: 'FP_EXC64', handled: 'hyp', perSec: { value: 400_000, rationale: 'test' } },
      ];
    });
    const c = generate(w, 30_000, 2);
    let hyp = 0;
    for (let i = 0; i < c.cls.length; i++) {
      const r = c.cls[i] % CLASSES_PER_VCPU;
      if (Math.floor(r / 4) % 3 === HANDLED.hyp) {
        hyp++;
        expect(c.key[i]).toBe(key(EC.FP_EXC64, HANDLED.hyp));
        expect(r & 3).toBe(0);
      }
    }
    expect(hyp / c.cls.length).toBeGreaterThan(0.4);
  });
});

describe('exit rates against the docs/domain.md §9 anchors', () => {
  it('hackbench: 10^5 to 10^6 exits per second per guest', () => {
    const f = vmFigures(builtinGuest('hackbench'), 0);
    expect(f.guestExitsPerSec).toBeGreaterThan(1e5);
    expect(f.guestExitsPerSec).toBeLessThan(1e6);
  });
  it('the simulated exit rate of guest time equals the busy exit rate when the vCPU never idles', async () => {
    const r = await lazy(builtinGuest('lmbench-syscall'), 200_000);
    const f = vmFigures(builtinGuest('lmbench-syscall'), 0);
    expect(Math.abs(r.exitsPerGuestSecond / f.busyExitsPerSec - 1)).toBeLessThan(0.01);
  });
});

describe('determinism and chunking', () => {
  it('the same seed gives a byte-identical stream; another seed does not', () => {
    const w = builtinGuest('mixed-aarch32-aarch64');
    const a = generate(w, 100_000, 42);
    const b = generate(w, 100_000, 42);
    const c = generate(w, 100_000, 43);
    expect(Buffer.from(a.cls.buffer).equals(Buffer.from(b.cls.buffer))).toBe(true);
    expect(Buffer.from(a.key.buffer).equals(Buffer.from(b.key.buffer))).toBe(true);
    expect(Buffer.from(a.ns.buffer).equals(Buffer.from(b.ns.buffer))).toBe(true);
    expect(Buffer.from(a.cls.buffer).equals(Buffer.from(c.cls.buffer))).toBe(false);
  });
  it('the same seed gives a byte-identical simulate --json summary', async () => {
    const args = [
      'simulate',
      '--workload',
      'hackbench',
      '--policy',
      'lazy-fixed',
      '--policy',
      'lazy-vcpu',
      '--runs',
      '50000',
      '--seeds',
      '3',
      '--json',
    ];
    const a = await runCli(args);
    const b = await runCli(args);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(at(JSON.parse(a.stdout) as Json, '0.claimCheck').position).toMatch(
      /inside|overlapping|outside/,
    );
  });
  it('a stream longer than a chunk comes in chunks of CHUNK_RUNS, the last one partial, and a replay gives the same runs', () => {
    const s = guestStream(builtinGuest('hackbench'), { runs: CHUNK_RUNS * 2 + 5, seed: 1 });
    const lengths: number[] = [];
    let first = -1;
    for (const ch of s.chunks()) {
      lengths.push(ch.length);
      if (first < 0) first = ch.cls[0];
    }
    expect(lengths).toEqual([CHUNK_RUNS, CHUNK_RUNS, 5]);
    let again = -1;
    for (const ch of s.chunks()) {
      again = ch.cls[0];
      break;
    }
    expect(again).toBe(first);
  });
});
