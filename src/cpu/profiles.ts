/**
 * Built-in CPU cost profiles. Every number carries its source and confidence
 * (DOMAIN.md s6; verification notes of 2026-11-26 in the issue notes). Where a base
 * world-switch cost was fitted so that the model reproduces a published round trip,
 * the entry says `fitted: true` and shows the arithmetic, and the anchor it was fitted
 * to is marked `fitted` in the calibration table: it checks the arithmetic, not the model.
 */

import { EC } from '../arch/esr.js';
import { UserError } from '../util/errors.js';
import type { CpuProfile, Sourced } from './profile.js';

const ISCA16 =
  'Dall et al., "ARM Virtualization: Performance and Architectural Implications", ISCA 2016';
const ISCA16_T3 = `${ISCA16}, Table III (KVM ARM hypercall analysis, X-Gene)`;
const ATC17 =
  'Dall et al., "Optimizing the Design and Implementation of the Linux ARM Hypervisor", USENIX ATC 2017';
const NEVE = 'Lim et al., "NEVE: Nested Virtualization Extensions for ARM", SOSP 2017 (X-Gene)';
const KUT_ALTRA =
  'kvm-unit-tests arm/micro-bench on Ampere Altra, Linux v6.12-rc1 (kvm list, 2024-10-29)';
const LLVM_A57 =
  'LLVM AArch64SchedA57.td: STPQi = 4 S-uops on the single S pipe, LDPQi = 2 L-uops on the single L pipe';
const LLVM_N1 =
  'LLVM AArch64SchedNeoverseN1.td: STPQi = 4 L-uops over 2 L ports, LDPQi = 1 L-uop, 7-cycle latency';
const SEL4_A57 =
  'seL4 issue #1569 (2025): on Cortex-A57 the ISBs of an FPU-switch path cost ~27-36 cycles, the sysreg writes ~4-13';

/** Table III rows of ISCA'16 other than FP (save + restore per hypercall round trip). */
const ISCA16_NON_FP_ROWS = {
  gpRegs: 152 + 184,
  el1SysRegs: 230 + 511,
  vgic: 3250 + 181,
  timer: 104 + 106,
  el2Config: 92 + 107,
  el2VirtualMemory: 92 + 107,
};
const ISCA16_NON_FP = Object.values(ISCA16_NON_FP_ROWS).reduce((a, b) => a + b, 0); // 5,116

const trapXgene: Sourced = {
  value: 72,
  source: `${NEVE}: trap from EL1 to EL2 68-76 cycles`,
  confidence: 'low',
  note: 'midpoint of 68-76; figure from DOMAIN.md, paper table not re-read',
};
const eretXgene: Sourced = {
  value: 65,
  source: `${NEVE}: ERET 65 cycles`,
  confidence: 'low',
  note: 'figure from DOMAIN.md, paper table not re-read',
};
const fpTrapHandler: Sourced = {
  value: 40,
  source:
    'estimate: ~20 instructions of vector dispatch, register spills and the HCR_EL2.RW test in v4.5 hyp/entry.S __fpsimd_guest_restore',
  confidence: 'low',
  note: 'would change with a measured FP-trap round trip on the CPU',
};
const isbA57: Sourced = {
  value: 30,
  source: SEL4_A57,
  confidence: 'low',
  note: 'per ISB; the seL4 figure covers the ISBs of one path, so per-ISB cost is approximate',
};
const sysregWriteA57: Sourced = {
  value: 8,
  source: SEL4_A57,
  confidence: 'medium',
  note: 'midpoint of 4-13 cycles for trap-control register writes without ISB',
};
const sysregRead: Sourced = {
  value: 4,
  source: 'estimate: an mrs of an EL2 register is not serialising; a few cycles',
  confidence: 'low',
};

/**
 * The trap controls the modelled designs execute on a round trip with no guest FP use,
 * priced separately from the base (counted by hand from src/policy/: eager writes
 * CPTR_EL2 at entry and exit; lazy-fixed writes it at entry and exit and reads it at exit;
 * lazy-vcpu writes it at entry and exit). The calibration table re-checks these sums by
 * simulating each anchor's design: a mistake here shows as a non-zero delta.
 */
const W = sysregWriteA57.value;
const R = sysregRead.value;
const EAGER_NO_FP_EXTRA = 2 * W;
/** X-Gene hypercall base, fitted: 6,500 - FP rows (282 + 310) - eager's two CPTR_EL2 writes. */
const XGENE_HVC_BASE = 6500 - (282 + 310) - EAGER_NO_FP_EXTRA; // 5,892
/** ATC'17 Seattle split-mode round trips (cycles). */
const SEATTLE = { hypercall: 6413, ioKernel: 8034, ioUser: 10012 };
/** Extra cycles of in-kernel MMIO emulation and of a VMM round trip over a hypercall, on Seattle. */
const SEATTLE_MMIO_KERNEL_EXTRA = SEATTLE.ioKernel - SEATTLE.hypercall; // 1,621
const SEATTLE_MMIO_USER_EXTRA = SEATTLE.ioUser - SEATTLE.hypercall; // 3,599
/** What a lazy (v4.5) world switch adds when the guest does not touch FP: CPTR write at entry, mrs + write at exit. */
const LAZY_NO_FP_EXTRA_A57 = W + R + W;
/** What lazy-vcpu (v4.18+) adds when the guest does not touch FP: CPTR writes at entry and exit. */
const LAZY_VCPU_NO_FP_EXTRA = 2 * W;

const ALTRA_GHZ = 3.0;
const altraCycles = (ns: number) => Math.round(ns * ALTRA_GHZ);

export const xgene: CpuProfile = {
  name: 'xgene',
  title: "APM X-Gene (ISCA'16), KVM ARM split mode",
  description:
    "The ISCA'16 measurement platform: APM X-Gene at 2.4 GHz running KVM ARM in split (non-VHE) mode on a kernel that switched FP eagerly.",
  clockGHz: { value: 2.4, source: ISCA16, confidence: 'medium' },
  fpSave: {
    value: 282 / 2,
    source: `${ISCA16_T3}: FP regs save 282 cycles`,
    confidence: 'low',
    note: 'Table III cells total one hypercall round trip (their 14 cells sum to 5,708 of 6,500 cycles), so 282 covers two saves (guest and host): 141 per 520-byte save',
  },
  fpRestore: {
    value: 310 / 2,
    source: `${ISCA16_T3}: FP regs restore 310 cycles`,
    confidence: 'low',
    note: 'two restores per round trip: 155 per 520-byte restore',
  },
  trapEntry: trapXgene,
  eret: eretXgene,
  fpTrapHandler,
  isb: { ...isbA57, confidence: 'low', note: 'no X-Gene figure; Cortex-A57 value used' },
  sysregWrite: {
    ...sysregWriteA57,
    confidence: 'low',
    note: 'no X-Gene figure; Cortex-A57 value used',
  },
  sysregRead,
  exitBase: {
    hyp: {
      value: 72 + 65 + 100,
      source: `estimate: trap (72) + ERET (65) from ${NEVE} + ~100 cycles of handling in the hyp fast path`,
      confidence: 'low',
    },
    hvc: {
      value: XGENE_HVC_BASE,
      source: `${ISCA16}: hypercall 6,500 cycles, less the FP rows of Table III (282 + 310)`,
      confidence: 'low',
      fitted: true,
      note: `fitted: 6,500 - 592 (FP rows) - 16 (two CPTR_EL2 writes, modelled separately) = ${XGENE_HVC_BASE}; of which Table III non-FP rows ${ISCA16_NON_FP}, trap 72, ERET 65, and ${XGENE_HVC_BASE - ISCA16_NON_FP - 72 - 65} of host-side exit handling no source itemises`,
    },
    sysreg: {
      value: XGENE_HVC_BASE + SEATTLE_MMIO_KERNEL_EXTRA,
      source: `estimate: X-Gene hypercall base + in-kernel emulation extra measured on Seattle (${ATC17}: I/O kernel 8,034 - hypercall 6,413)`,
      confidence: 'low',
    },
    'mmio-kernel': {
      value: XGENE_HVC_BASE + SEATTLE_MMIO_KERNEL_EXTRA,
      source: `estimate: X-Gene hypercall base + ${SEATTLE_MMIO_KERNEL_EXTRA} (${ATC17}: I/O kernel 8,034 - hypercall 6,413, Seattle)`,
      confidence: 'low',
    },
    'mmio-user': {
      value: XGENE_HVC_BASE + SEATTLE_MMIO_USER_EXTRA,
      source: `estimate: X-Gene hypercall base + ${SEATTLE_MMIO_USER_EXTRA} (${ATC17}: I/O user 10,012 - hypercall 6,413, Seattle)`,
      confidence: 'low',
    },
    wfx: {
      value: XGENE_HVC_BASE,
      source:
        'estimate: a world-switch round trip like the hypercall; the time the vCPU sleeps is not CPU cost',
      confidence: 'low',
    },
    irq: {
      value: XGENE_HVC_BASE,
      source:
        'estimate: a world-switch round trip like the hypercall; the host IRQ handler itself is not counted',
      confidence: 'low',
    },
    abort: {
      value: XGENE_HVC_BASE + SEATTLE_MMIO_KERNEL_EXTRA,
      source:
        'estimate: like in-kernel MMIO emulation; a stage-2 fault that allocates a page costs more',
      confidence: 'low',
    },
  },
  anchors: [
    {
      id: 'xgene-hypercall',
      label: 'hypercall round trip (eager, split mode)',
      cycles: 6500,
      source: ISCA16,
      confidence: 'low',
      policy: 'eager',
      exit: { ec: EC.HVC64, handled: 'kernel' },
      fpProbability: 0,
      fitted: true,
      note: 'the hypercall base was fitted to this total; the check shows the FP rows and trap controls add up',
    },
  ],
};

export const seattle: CpuProfile = {
  name: 'seattle',
  title: "AMD Seattle, Cortex-A57 (ATC'17), KVM split mode",
  description:
    "The ATC'17 platform: AMD Seattle (Cortex-A57) running KVM/ARM in split (non-VHE) mode on a kernel with the v4.5 lazy FP switch; its micro-benchmarks do not touch FP.",
  clockGHz: { value: 2.0, source: `${ATC17} (AMD Seattle)`, confidence: 'low' },
  fpSave: {
    value: 64,
    source: LLVM_A57,
    confidence: 'medium',
    note: "16 x stp q at one S pipe = 64 cycles: an issue-rate lower bound with warm caches (X-Gene's measured save is ~2x more)",
  },
  fpRestore: {
    value: 32,
    source: LLVM_A57,
    confidence: 'medium',
    note: '16 x ldp q at one L pipe = 32 cycles: an issue-rate lower bound with warm caches',
  },
  trapEntry: { ...trapXgene, note: 'no Cortex-A57 figure; X-Gene value (NEVE) used' },
  eret: { ...eretXgene, note: 'no Cortex-A57 figure; X-Gene value (NEVE) used' },
  fpTrapHandler,
  isb: isbA57,
  sysregWrite: sysregWriteA57,
  sysregRead,
  exitBase: {
    hyp: {
      value: 72 + 65 + 100,
      source: 'estimate: trap + ERET (NEVE, X-Gene) + ~100 cycles of handling in the hyp fast path',
      confidence: 'low',
    },
    hvc: {
      value: SEATTLE.hypercall - LAZY_NO_FP_EXTRA_A57,
      source: `${ATC17}: hypercall 6,413 cycles (split mode)`,
      confidence: 'low',
      fitted: true,
      note: `fitted: 6,413 - ${LAZY_NO_FP_EXTRA_A57} (the lazy switch's CPTR_EL2 writes and read, modelled separately)`,
    },
    sysreg: {
      value: SEATTLE.ioKernel - LAZY_NO_FP_EXTRA_A57,
      source: `estimate: like in-kernel MMIO emulation (${ATC17}: I/O kernel 8,034)`,
      confidence: 'low',
    },
    'mmio-kernel': {
      value: SEATTLE.ioKernel - LAZY_NO_FP_EXTRA_A57,
      source: `${ATC17}: I/O kernel 8,034 cycles`,
      confidence: 'low',
      fitted: true,
      note: `fitted: 8,034 - ${LAZY_NO_FP_EXTRA_A57}`,
    },
    'mmio-user': {
      value: SEATTLE.ioUser - LAZY_NO_FP_EXTRA_A57,
      source: `${ATC17}: I/O user 10,012 cycles`,
      confidence: 'low',
      fitted: true,
      note: `fitted: 10,012 - ${LAZY_NO_FP_EXTRA_A57}`,
    },
    wfx: {
      value: SEATTLE.hypercall - LAZY_NO_FP_EXTRA_A57,
      source: 'estimate: a world-switch round trip like the hypercall',
      confidence: 'low',
    },
    irq: {
      value: SEATTLE.hypercall - LAZY_NO_FP_EXTRA_A57,
      source:
        'estimate: a world-switch round trip like the hypercall; the host IRQ handler itself is not counted',
      confidence: 'low',
    },
    abort: {
      value: SEATTLE.ioKernel - LAZY_NO_FP_EXTRA_A57,
      source: 'estimate: like in-kernel MMIO emulation',
      confidence: 'low',
    },
  },
  anchors: [
    {
      id: 'seattle-hypercall',
      label: 'hypercall (split mode)',
      cycles: SEATTLE.hypercall,
      source: ATC17,
      confidence: 'low',
      policy: 'lazy-fixed',
      exit: { ec: EC.HVC64, handled: 'kernel' },
      fpProbability: 0,
      fitted: true,
    },
    {
      id: 'seattle-io-kernel',
      label: 'I/O handled in the kernel (split mode)',
      cycles: SEATTLE.ioKernel,
      source: ATC17,
      confidence: 'low',
      policy: 'lazy-fixed',
      exit: { ec: EC.DABT_LOW, handled: 'kernel' },
      fpProbability: 0,
      fitted: true,
    },
    {
      id: 'seattle-io-user',
      label: 'I/O handled in host userspace (split mode)',
      cycles: SEATTLE.ioUser,
      source: ATC17,
      confidence: 'low',
      policy: 'lazy-fixed',
      exit: { ec: EC.DABT_LOW, handled: 'user' },
      fpProbability: 0,
      fitted: true,
    },
  ],
};

export const altra: CpuProfile = {
  name: 'altra',
  title: 'Ampere Altra, Neoverse N1 (kvm-unit-tests 2024), VHE',
  description:
    'Ampere Altra (Neoverse N1, 3.0 GHz) running Linux v6.12-rc1 with VHE; the guest state stays live across exits (lazy-vcpu) and the micro-benchmark loops do not touch FP.',
  clockGHz: {
    value: ALTRA_GHZ,
    source:
      'Ampere Altra Q80-30 nominal 3.0 GHz (top SKU 3.3 GHz; AnandTech review); the SKU of the 2024 measurement is not stated',
    confidence: 'low',
    note: 'at 3.3 GHz every Altra base cost would be 10% higher',
  },
  fpSave: {
    value: 32,
    source: LLVM_N1,
    confidence: 'medium',
    note: '16 x stp q = 64 L-uops over 2 ports = 32 cycles: issue-rate lower bound, warm caches',
  },
  fpRestore: {
    value: 16,
    source: LLVM_N1,
    confidence: 'medium',
    note: '16 x ldp q = 8 cycles of issue + 7-cycle load latency tail, rounded to 16',
  },
  trapEntry: { ...trapXgene, note: 'no Neoverse N1 figure; X-Gene value (NEVE) used' },
  eret: { ...eretXgene, note: 'no Neoverse N1 figure; X-Gene value (NEVE) used' },
  fpTrapHandler,
  isb: { ...isbA57, confidence: 'low', note: 'no N1 figure; Cortex-A57 value (seL4) used' },
  sysregWrite: {
    ...sysregWriteA57,
    confidence: 'low',
    note: 'no N1 figure; Cortex-A57 value (seL4) used',
  },
  sysregRead,
  exitBase: {
    hyp: {
      value: 72 + 65 + 50,
      source: 'estimate: trap + ERET (NEVE, X-Gene) + ~50 cycles of handling in the hyp fast path',
      confidence: 'low',
    },
    hvc: {
      value: altraCycles(306) - LAZY_VCPU_NO_FP_EXTRA,
      source: `${KUT_ALTRA}: hvc 306 ns at 3.0 GHz`,
      confidence: 'low',
      fitted: true,
      note: `fitted: 306 ns x 3.0 GHz = ${altraCycles(306)} cycles - ${LAZY_VCPU_NO_FP_EXTRA} (CPTR_EL2 writes modelled separately)`,
    },
    sysreg: {
      value: altraCycles(451) - LAZY_VCPU_NO_FP_EXTRA,
      source: `estimate: like in-kernel vGIC MMIO emulation (${KUT_ALTRA}: mmio_read_vgic 451 ns)`,
      confidence: 'low',
    },
    'mmio-kernel': {
      value: altraCycles(451) - LAZY_VCPU_NO_FP_EXTRA,
      source: `${KUT_ALTRA}: mmio_read_vgic 451 ns at 3.0 GHz`,
      confidence: 'low',
      fitted: true,
      note: `fitted: ${altraCycles(451)} - ${LAZY_VCPU_NO_FP_EXTRA}`,
    },
    'mmio-user': {
      value: altraCycles(1683) - LAZY_VCPU_NO_FP_EXTRA,
      source: `${KUT_ALTRA}: mmio_read_user 1,683 ns at 3.0 GHz`,
      confidence: 'low',
      fitted: true,
      note: `fitted: ${altraCycles(1683)} - ${LAZY_VCPU_NO_FP_EXTRA}`,
    },
    wfx: {
      value: altraCycles(306) - LAZY_VCPU_NO_FP_EXTRA,
      source: 'estimate: a world-switch round trip like the hypercall',
      confidence: 'low',
    },
    irq: {
      value: altraCycles(306) - LAZY_VCPU_NO_FP_EXTRA,
      source:
        'estimate: a world-switch round trip like the hypercall; the host IRQ handler itself is not counted',
      confidence: 'low',
    },
    abort: {
      value: altraCycles(451) - LAZY_VCPU_NO_FP_EXTRA,
      source: 'estimate: like in-kernel MMIO emulation',
      confidence: 'low',
    },
  },
  anchors: [
    {
      id: 'altra-hvc',
      label: 'hvc (VHE, v6.12-rc1)',
      cycles: altraCycles(306),
      source: KUT_ALTRA,
      confidence: 'low',
      policy: 'lazy-vcpu',
      exit: { ec: EC.HVC64, handled: 'kernel' },
      fpProbability: 0,
      fitted: true,
    },
    {
      id: 'altra-mmio-vgic',
      label: 'mmio_read_vgic (VHE)',
      cycles: altraCycles(451),
      source: KUT_ALTRA,
      confidence: 'low',
      policy: 'lazy-vcpu',
      exit: { ec: EC.DABT_LOW, handled: 'kernel' },
      fpProbability: 0,
      fitted: true,
    },
    {
      id: 'altra-mmio-user',
      label: 'mmio_read_user (VHE)',
      cycles: altraCycles(1683),
      source: KUT_ALTRA,
      confidence: 'low',
      policy: 'lazy-vcpu',
      exit: { ec: EC.DABT_LOW, handled: 'user' },
      fpProbability: 0,
      fitted: true,
    },
  ],
};

/** The built-in profiles. */
export const BUILTIN_CPUS: readonly CpuProfile[] = [xgene, seattle, altra];

/** Looks up a CPU profile by name; a UserError lists the known ones. */
export function cpuProfile(name: string): CpuProfile {
  const p = BUILTIN_CPUS.find((c) => c.name === name);
  if (!p) {
    throw new UserError(
      `unknown CPU profile "${name}" (known: ${BUILTIN_CPUS.map((c) => c.name).join(', ')})`,
    );
  }
  return p;
}
