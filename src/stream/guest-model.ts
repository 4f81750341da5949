/**
 * A `guest` workload compiled to numbers the generator can use in its hot loop: per vCPU
 * on the physical CPU, the competing exit sources (rates per ns, exit class, where each is
 * handled, host activity after it), and the guest-event mechanism that decides which FP
 * bits a run sets.
 *
 * The FP mechanism is a small state machine per vCPU. A *combo* packs the FP bits the
 * current run has set so far with the guest state that decides what the next guest event
 * does:
 *
 *   combo = bits (FP_EL0 | FP_EL1 | FPEXC_ACCESS) | simd << 3 | en << 4 | inHw << 5
 *
 * - `simd`: the current user time slice runs FP/SIMD code;
 * - `en` (AArch32 only): the guest's FPEXC.EN as the guest kernel last wrote it;
 * - `inHw` (AArch32 only): the current task's VFP state is the one in the registers
 *   (`vfp_state_in_hw`), so re-enabling VFP needs no reload.
 *
 * Guest events (Poisson processes while the vCPU is busy) and what they do, from the guest
 * kernels' code:
 * - user context switch (to a SIMD or a plain slice). AArch64 `fpsimd_thread_switch`
 *   saves the outgoing task's live state (`fpsimd_save`), and the incoming task's state is
 *   loaded on return to user (`fpsimd_restore_current_state`): FP_EL1. AArch32
 *   `vfp_notifier` (THREAD_NOTIFY_SWITCH): `fmrx(FPEXC)`, `vfp_save_state` if EN was set
 *   (SMP), `fmxr(FPEXC, fpexc & ~FPEXC_EN)`: FPEXC_ACCESS (+ FP_EL1 if EN), EN = 0.
 * - interlude (another task runs briefly, then the same user task resumes): AArch64 saves
 *   the outgoing state and, its state still being in the registers, does not reload it:
 *   FP_EL1. AArch32: two switches, FPEXC toggled, VFP saved if EN: FPEXC_ACCESS (+ FP_EL1).
 * - guest kernel-mode NEON: AArch64 `kernel_neon_begin` saves the user state, the kernel
 *   uses the registers, return to user reloads: FP_EL1. AArch32 `kernel_neon_begin`
 *   sets FPEXC.EN, saves the owner's state; `kernel_neon_end` clears EN:
 *   FPEXC_ACCESS | FP_EL1, EN = 0, nobody's state in hardware.
 * - FP/SIMD use by user code (in a SIMD slice): FP_EL0. AArch32 with EN = 0: the VFP
 *   instruction is UNDEFINED at EL1 first (docs/domain.md §2.2), `vfp_support_entry` enables
 *   EN (FPEXC_ACCESS) and loads the task's state unless it is in hardware (FP_EL1), then
 *   the instruction is retried (FP_EL0).
 * An event that would change nothing in the current combo is left out of that combo's
 * rates: removing events without effect from a Poisson superposition is exact (thinning).
 */

import { EC, EXIT_TYPE, exitClassCode, exitClassName } from '../arch/esr.js';
import { exitKey, HANDLED, type Handled } from '../cpu/profile.js';
import type { VcpuDesc } from '../policy/types.js';
import type { GuestVm, GuestWorkload } from './guest-schema.js';
import { FP_EL0, FP_EL1, FPEXC_ACCESS } from '../machine/run-class.js';

export const COMBOS = 64;
/** Guide-table buckets per categorical distribution. */
export const GUIDE = 256;
export const SIMD_BIT = 8;
export const EN_BIT = 16;
export const INHW_BIT = 32;

// Guest events: their indices in a vCPU's `eventRates` and in the per-combo rate tables.
/** A user-task switch to a task that uses SIMD. */
export const EV_SW_SIMD = 0;
/** A user-task switch to a task that does not. */
export const EV_SW_PLAIN = 1;
/** A kernel interlude (a kernel thread runs between two user slices). */
export const EV_INTERLUDE = 2;
/** Kernel-mode NEON in the guest. */
export const EV_KNEON = 3;
/** The running task uses SIMD/VFP. */
export const EV_USE = 4;
export const EVENT_COUNT = 5;

/** What an exit source does besides ending the run (`tick`: periodic, not raced: see ExitSources). */
export const SOURCE_KIND = { plain: 0, idleEntry: 1, tick: 2, vfpIdRead: 3 } as const;

/** What a guest event's VFP state transfer does to the run (vfpIdRead): none, a save, a load. */
export const VFP_ID_NONE = 0;
const VFP_ID_SAVE = 1;
export const VFP_ID_LOAD = 2;

/**
 * Whether a guest event moves the AArch32 guest's VFP state (see comboEffect), so that
 * the ARMv7 kernel's VFPFSTMIA / VFPFLDMIA macros read MVFR0 (arch/arm/include/asm/
 * vfpmacros.h: `VFPFMRX \tmp, MVFR0` to decide whether D16-D31 exist, between the
 * transfers of D0-D15 and D16-D31). With HCR_EL2.TID3 set (KVM sets it for every guest:
 * HCR_GUEST_FLAGS, arch/arm64/include/asm/kvm_arm.h, so that ID registers can be
 * sanitised; Arm ARM DDI 0487, HCR_EL2.TID3 field: VMRS of MVFR0/1/2 from AArch32 EL1
 * traps to EL2 with EC 0x08)
 * that read exits to KVM (kvm_handle_cp10_id, arch/arm64/kvm/sys_regs.c) in the middle of
 * the save or load. Save: a switch or an interlude with EN set (vfp_notifier ->
 * vfp_save_state), kernel-mode NEON with the owner's state in hardware; load: a VFP
 * instruction with EN clear and the task's state not in hardware (vfp_support_entry ->
 * vfp_load_state). AArch64 guests: none.
 */
export function vfpIdRead(aarch32: boolean, combo: number, event: number): number {
  if (!aarch32) return VFP_ID_NONE;
  const en = (combo & EN_BIT) !== 0;
  const inHw = (combo & INHW_BIT) !== 0;
  switch (event) {
    case EV_SW_SIMD:
    case EV_SW_PLAIN:
    case EV_INTERLUDE:
      return en ? VFP_ID_SAVE : VFP_ID_NONE;
    case EV_KNEON:
      return inHw ? VFP_ID_SAVE : VFP_ID_NONE;
    case EV_USE:
      return (combo & SIMD_BIT) !== 0 && !en && !inHw ? VFP_ID_LOAD : VFP_ID_NONE;
    default:
      return VFP_ID_NONE;
  }
}

/**
 * The exit sources of one vCPU while busy, as parallel arrays: first the `raced` Poisson
 * sources sorted by rate (largest first), then the periodic timer ticks (the guest's,
 * then the host's), which are not raced: a run ends at the next tick unless a raced
 * source or nothing else ends it first (guest.ts).
 */
interface ExitSources {
  readonly names: readonly string[];
  /** Rate per ns of each source (a tick's: its frequency). */
  readonly rates: Float64Array;
  /** How many sources (the first ones) race as Poisson clocks. */
  readonly raced: number;
  /** Cumulative probability of choosing raced sources 0..i (the last raced one is 1; ticks 1). */
  readonly cum: Float64Array;
  readonly exitKey: Uint8Array;
  readonly handled: Uint8Array;
  readonly kind: Uint8Array;
  /** Probability that the host schedules the vCPU thread out after this exit (vcpu_put). */
  readonly putP: Float64Array;
  /** FP bits the run after this exit starts with (the rest of a VFP save or load cut by an MVFR0 read). */
  readonly carry: Uint8Array;
  /** Probability of host FP use before the next entry, without and with a vcpu_put. */
  readonly hostFpNoPut: Float64Array;
  readonly hostFpPut: Float64Array;
}

/** One vCPU on the physical CPU, compiled. */
export interface VcpuModel {
  readonly vm: number;
  readonly vmName: string;
  readonly aarch32: boolean;
  /** Total rate per ns of the raced exit sources (without the periodic ticks). */
  readonly busyRate: number;
  /** Guest and host tick periods in ns (Infinity: no tick) and their source indices (-1: none). */
  readonly guestTickNs: number;
  readonly hostTickNs: number;
  readonly guestTickSrc: number;
  readonly hostTickSrc: number;
  /** Mean idle period in ns (wall time between a WFI and the wake-up: the ticks' grids move on). */
  readonly meanIdleNs: number;
  readonly sources: ExitSources;
  /** Guest event rates per ns: [switch to SIMD, switch to plain, interlude, kernel NEON, SIMD use (in a SIMD slice)]. */
  readonly eventRates: Float64Array;
  readonly simdShare: number;
  /** FP bits the in-run guest events can set at all (the forward walk stops once a run has them all). */
  readonly reachable: number;
  /** Per combo: total rate (per ns) of events that change the combo. */
  readonly comboRate: Float64Array;
  /** Per combo x event slot: cumulative rate of the effective events, and the combo each leads to. */
  readonly comboCum: Float64Array;
  readonly comboNext: Uint8Array;
  readonly comboCount: Uint8Array;
  /** Per combo x event slot: the exit source the event's MVFR0 read ends the run with (-1: none). */
  readonly comboExit: Int16Array;
  /**
   * The hot loop's view of the same chain: per combo, one categorical over "the run
   * ends by exit source j" and "effective guest event k happens first", with
   * probabilities rate / (busyRate + comboRate[c]). Outcome codes below COMBOS are the
   * next combo; COMBOS + j is exit source j. `outGuide` (GUIDE buckets per combo) holds
   * the first outcome whose cumulative probability exceeds the bucket's start, so a
   * uniform finds its outcome with a lookup and usually no scan (Chen & Asau's guide
   * tables, see Devroye, "Non-Uniform Random Variate Generation", 1986, s3.4).
   */
  readonly outStride: number;
  readonly outCum: Float64Array;
  readonly outCode: Uint8Array;
  /** Per outcome: the combo the run ends with (an exit source's: unchanged; an MVFR0-read event's: after it). */
  readonly outNext: Uint8Array;
  readonly outGuide: Uint8Array;
  /** 1 / (busyRate + comboRate[c]): the mean time to the next outcome, per combo. */
  readonly invTotal: Float64Array;
  /** Guide table over the exit sources alone (for the rest of a run once no FP bit can change). */
  readonly srcGuide: Uint8Array;
  /** Rate per ns (of busy time) at which this scheduler phase ends; 0 without phases. */
  readonly phaseEndRate: number;
  /** Idle: user wake share, same-task share, blip mean (ns), WFI block probability and its host FP. */
  readonly userWakeShare: number;
  readonly sameTaskShare: number;
  readonly blipNs: number;
  readonly blipPutP: number;
  readonly blipHostFpNoPut: number;
  readonly blipHostFpPut: number;
}

export interface GuestModel {
  readonly name: string;
  readonly vcpus: readonly VcpuDesc[];
  readonly models: readonly VcpuModel[];
  /** Scheduler phases per vCPU: 2 when any VM has `scheduler.phases`, else 1. */
  readonly phases: number;
  /** Every vCPU in every phase: vCPU v in phase p is `slots[v * phases + p]` (phase 0 is `models[v]`). */
  readonly slots: readonly VcpuModel[];
  /**
   * Who runs after a vcpu_put of vCPU v: cumulative host scheduling weights over the
   * *other* vCPUs, row v at v * vcpus (the host scheduled v's thread out in favour of
   * another thread, or v blocked in WFI).
   */
  readonly pickCum: Float64Array;
  /**
   * Time from a guest tick to the next host tick, ns (`host.tickOffsetUs`); null: drawn
   * per stream from the seed (an unknown boot phase).
   */
  readonly tickOffsetNs: number | null;
}

const PER_SEC_TO_PER_NS = 1e-9;
/** A mean time (ns) standing for "never" where no clock races: finite, so x * 0 stays 0. */
export const NEVER = 1e300;

/** The combo a guest event leads to (see the header comment for the mechanism). */
export function comboEffect(aarch32: boolean, combo: number, event: number): number {
  let bits = combo & 7;
  let simd = (combo & SIMD_BIT) !== 0;
  let en = (combo & EN_BIT) !== 0;
  let inHw = (combo & INHW_BIT) !== 0;
  if (!aarch32) {
    switch (event) {
      case EV_SW_SIMD:
      case EV_SW_PLAIN:
        bits |= FP_EL1;
        simd = event === EV_SW_SIMD;
        break;
      case EV_INTERLUDE:
      case EV_KNEON:
        bits |= FP_EL1;
        break;
      case EV_USE:
        if (simd) bits |= FP_EL0;
        break;
    }
    en = false;
    inHw = false;
  } else {
    switch (event) {
      case EV_SW_SIMD:
      case EV_SW_PLAIN:
        bits |= FPEXC_ACCESS | (en ? FP_EL1 : 0);
        en = false;
        inHw = false;
        simd = event === EV_SW_SIMD;
        break;
      case EV_INTERLUDE:
        bits |= FPEXC_ACCESS | (en ? FP_EL1 : 0);
        en = false;
        break;
      case EV_KNEON:
        bits |= FPEXC_ACCESS | FP_EL1;
        en = false;
        inHw = false;
        break;
      case EV_USE:
        if (!simd) break;
        if (en) {
          bits |= FP_EL0;
        } else {
          bits |= FPEXC_ACCESS | FP_EL0 | (inHw ? 0 : FP_EL1);
          en = true;
          inHw = true;
        }
        break;
    }
  }
  return bits | (simd ? SIMD_BIT : 0) | (en ? EN_BIT : 0) | (inHw ? INHW_BIT : 0);
}

/** FP bits and state after the vCPU goes idle (the user task blocks; switch to the idle task). */
export function idleEntryEffect(aarch32: boolean, combo: number): number {
  if (!aarch32) return combo | FP_EL1; // fpsimd_save of the outgoing user task
  const en = (combo & EN_BIT) !== 0;
  // vfp_notifier: FPEXC read/write, save if EN; the task's state stays in hardware.
  return (combo | FPEXC_ACCESS | (en ? FP_EL1 : 0)) & ~EN_BIT;
}

/** FP bits and state after a wake-up that runs a user task (`same`: the task whose state is in the registers). */
export function wakeEffect(
  aarch32: boolean,
  combo: number,
  same: boolean,
  simdNew: boolean,
): number {
  let c = combo;
  if (!same) c = (c & ~SIMD_BIT) | (simdNew ? SIMD_BIT : 0);
  if (!aarch32) return same ? c : c | FP_EL1; // restore on return to user unless still loaded
  // Switch from the idle task: vfp_notifier reads and writes FPEXC (EN already 0).
  c |= FPEXC_ACCESS;
  if (!same) c &= ~INHW_BIT;
  return c & ~EN_BIT;
}

/** The exit class a source produces on this VM (docs/domain.md §6 EC names; arch/arm64 esr.h). */
function ipiExitClass(vm: GuestVm): number {
  if (vm.gic === 'v2') return EC.DABT_LOW; // GICD_SGIR is a distributor MMIO register (GICv2 spec 4.3.15)
  // GICv3: ICC_SGI1R_EL1 write traps with HCR_EL2.IMO (AArch64: MSR -> SYS64; AArch32: MCRR p15 -> CP15_64).
  return vm.el1 === 'aarch64' ? EC.SYS64 : EC.CP15_64;
}

interface Src {
  name: string;
  rate: number;
  cls: number;
  handled: Handled;
  kind: number;
  putP: number;
  hfNo: number;
  hfPut: number;
  carry?: number;
}

/** The VM's further exit sources (`otherExits`), with their class and handling. */
function otherSources(w: GuestWorkload, vm: GuestVm): Src[] {
  const h = w.host;
  const kNeon = h.kernelNeonPerExit.value;
  const list: Src[] = [];
  for (const o of vm.otherExits) {
    const handled = HANDLED[o.handled];
    list.push({
      name: `other ${o.exit} (${o.handled})`,
      rate: o.perSec.value,
      cls: exitClassCode(o.exit) ?? EC.UNKNOWN,
      handled,
      kind: SOURCE_KIND.plain,
      putP: 0,
      // An exit handled at EL2 never reaches the host (run-class.ts runClassProblem).
      hfNo:
        handled === HANDLED.hyp ? 0 : handled === HANDLED.user ? h.vmmFpPerUserExit.value : kNeon,
      hfPut: 0,
    });
  }
  return list;
}

const GUEST_TICK = 'guest timer tick';
const HOST_TICK = 'host timer tick';
const VFP_SAVE_EXIT = 'MVFR0 read in a VFP save (CP10_ID)';
const VFP_LOAD_EXIT = 'MVFR0 read in a VFP load (CP10_ID)';

/** Every exit source of a busy vCPU of `vm`, with its class, handling and host activity after it. */
function sourceList(w: GuestWorkload, vm: GuestVm): Src[] {
  const h = w.host;
  const pPreempt = h.hz.value > 0 ? Math.min(1, h.preemptionsPerSec.value / h.hz.value) : 0;
  const pBlock = blockProbability(w, vm);
  const fpOut = h.fpWhileDescheduled.value;
  const kNeon = h.kernelNeonPerExit.value;
  const withPut = 1 - (1 - kNeon) * (1 - fpOut);
  const kernel = (
    name: string,
    rate: number,
    cls: number,
    putP = 0,
    kind: number = SOURCE_KIND.plain,
  ): Src => ({
    name,
    rate,
    cls,
    handled: HANDLED.kernel,
    kind,
    putP,
    hfNo: kNeon,
    hfPut: withPut,
  });
  const e = vm.exits;
  const a32 = vm.el1 === 'aarch32';
  // The timer ticks are periodic, at CONFIG_HZ (Debian's kernel config, debian/config/config:
  // CONFIG_HZ_250=y; kernel/time/tick-sched.c tick_sched_timer re-arms the sched timer one
  // TICK_NSEC later with hrtimer_forward, so the ticks keep one grid, across NO_HZ idle
  // too): the guest's virtual timer (an IRQ exit to inject it), and the host's own tick
  // (an IRQ exit, at which the host may preempt the vCPU thread). Not raced (guest.ts).
  const tick = SOURCE_KIND.tick;
  const list: Src[] = [
    kernel(GUEST_TICK, vm.hz.value, EXIT_TYPE.IRQ, 0, tick),
    kernel(HOST_TICK, h.hz.value, EXIT_TYPE.IRQ, pPreempt, tick),
    kernel('IPI sent', e.ipiSentPerSec.value, ipiExitClass(vm)),
    kernel('IPI received', e.ipiReceivedPerSec.value, EXIT_TYPE.IRQ),
    kernel('device interrupt', e.deviceIrqPerSec.value, EXIT_TYPE.IRQ),
    kernel('idle (WFI)', vm.idle.entriesPerSec.value, EC.WFx, pBlock, SOURCE_KIND.idleEntry),
    {
      name: 'MMIO to userspace',
      rate: e.mmioUserPerSec.value,
      cls: EC.DABT_LOW,
      handled: HANDLED.user,
      kind: SOURCE_KIND.plain,
      putP: 0,
      hfNo: h.vmmFpPerUserExit.value,
      hfPut: h.vmmFpPerUserExit.value,
    },
    kernel('MMIO in kernel', e.mmioKernelPerSec.value, EC.DABT_LOW),
    kernel('hypercall', e.hvcPerSec.value, a32 ? EC.HVC32 : EC.HVC64),
    kernel('stage-2 data fault', e.stage2DataFaultsPerSec.value, EC.DABT_LOW),
    kernel('stage-2 instruction fault', e.stage2InstrFaultsPerSec.value, EC.IABT_LOW),
    kernel('system register trap', e.sysregPerSec.value, a32 ? EC.CP15_32 : EC.SYS64),
  ];
  list.push(...otherSources(w, vm));
  if (a32 && vm.trapsIdRegs) {
    // Not raced: guest events end the run with these (vfpIdRead); rate 1 keeps them listed.
    const id = SOURCE_KIND.vfpIdRead;
    list.push(
      { ...kernel(VFP_SAVE_EXIT, 1, EC.CP10_ID, 0, id), carry: FP_EL1 },
      { ...kernel(VFP_LOAD_EXIT, 1, EC.CP10_ID, 0, id), carry: FP_EL1 | FP_EL0 },
    );
  }
  return list;
}

/** The exit sources of a busy vCPU of `vm`, compiled (sorted by rate, cumulative, typed arrays). */
function compileSources(w: GuestWorkload, vm: GuestVm): ExitSources {
  const list = sourceList(w, vm).filter((s) => s.rate > 0);
  // Raced sources largest first, so the linear scan in the hot loop usually stops at the
  // first entry; ties keep the declaration order (Array.prototype.sort is stable). Then
  // the ticks, guest before host.
  const paced = (s: Src) => s.kind === SOURCE_KIND.tick || s.kind === SOURCE_KIND.vfpIdRead;
  const raced = list.filter((s) => !paced(s)).sort((a, b) => b.rate - a.rate);
  const used = [
    ...raced,
    ...list.filter((s) => s.kind === SOURCE_KIND.tick),
    ...list.filter((s) => s.kind === SOURCE_KIND.vfpIdRead),
  ];
  const total = raced.reduce((s, x) => s + x.rate, 0);
  const cum = new Float64Array(used.length).fill(1);
  let acc = 0;
  raced.forEach((s, i) => {
    acc += s.rate;
    cum[i] = i === raced.length - 1 ? 1 : acc / total;
  });
  return {
    names: used.map((s) => s.name),
    raced: raced.length,
    rates: Float64Array.from(used.map((s) => s.rate * PER_SEC_TO_PER_NS)),
    cum,
    exitKey: Uint8Array.from(used.map((s) => exitKey(s.cls, s.handled))),
    handled: Uint8Array.from(used.map((s) => s.handled)),
    kind: Uint8Array.from(used.map((s) => s.kind)),
    putP: Float64Array.from(used.map((s) => s.putP)),
    carry: Uint8Array.from(used.map((s) => s.carry ?? 0)),
    hostFpNoPut: Float64Array.from(used.map((s) => s.hfNo)),
    hostFpPut: Float64Array.from(used.map((s) => s.hfPut)),
  };
}

/**
 * Probability that a WFI blocks long enough for the vCPU thread to be scheduled out: KVM
 * halt-polls for up to halt_poll_ns first (virt/kvm/kvm_main.c kvm_vcpu_halt); with
 * exponential idle periods of mean D, P(idle > window) = exp(-window / D).
 */
function blockProbability(w: GuestWorkload, vm: GuestVm): number {
  return Math.exp(-w.host.haltPollUs.value / vm.idle.meanIdleUs.value);
}

/** FP bits the in-run guest events of a vCPU can set (see comboEffect). */
function reachableBits(aarch32: boolean, rates: Float64Array, simdShare: number): number {
  const switching =
    rates[EV_SW_SIMD] + rates[EV_SW_PLAIN] + rates[EV_INTERLUDE] + rates[EV_KNEON] > 0;
  const uses = rates[EV_USE] > 0 && simdShare > 0;
  if (!aarch32) return (switching ? FP_EL1 : 0) | (uses ? FP_EL0 : 0);
  return (
    (switching || uses ? FPEXC_ACCESS : 0) |
    (rates[EV_KNEON] > 0 || uses ? FP_EL1 : 0) |
    (uses ? FP_EL0 : 0)
  );
}

/** The stream share used at most: every user switch happens in churn, which must exist. */
const MAX_STREAM_SHARE = 0.99;

/** The guest's scheduler phases (see guest-schema.ts `scheduler.phases`). */
const PHASE_CHURN = 0;
const PHASE_STREAM = 1;

/**
 * Guest event rates per ns in one scheduler phase: [switch to SIMD, switch to plain,
 * interlude, kernel NEON, SIMD use]. All user switches happen in the churn phase, at the
 * time-averaged rate / (1 - streamShare); the stream phase has none.
 */
function phaseEventRates(vm: GuestVm, phase: number): Float64Array {
  const s = vm.tasks.simdShare.value;
  const pi = Math.min(MAX_STREAM_SHARE, vm.scheduler.phases?.streamShare.value ?? 0);
  const sw =
    phase === PHASE_STREAM ? 0 : (vm.scheduler.switchesPerSec.value / (1 - pi)) * PER_SEC_TO_PER_NS;
  return Float64Array.from([
    sw * s,
    sw * (1 - s),
    vm.scheduler.interludesPerSec.value * PER_SEC_TO_PER_NS,
    vm.scheduler.kernelNeonPerSec.value * PER_SEC_TO_PER_NS,
    vm.tasks.simdUsesPerSec.value * PER_SEC_TO_PER_NS,
  ]);
}

/**
 * Rate per ns at which a phase ends: 1 / mean stream length in the stream phase; in churn
 * 1 / (mean stream x (1 - share) / share), so that the stream phase holds `streamShare` of
 * busy time (an alternating renewal process). 0 without phases.
 */
function phaseEndRate(vm: GuestVm, phase: number): number {
  const ph = vm.scheduler.phases;
  if (!ph || ph.streamShare.value <= 0) return 0;
  const pi = Math.min(MAX_STREAM_SHARE, ph.streamShare.value);
  const stream = ph.meanStreamUs.value * 1000;
  return phase === PHASE_STREAM ? 1 / stream : pi / ((1 - pi) * stream);
}

/** Per combo: the effective guest events (those that change the combo), cumulative rates and targets. */
function comboTables(aarch32: boolean, eventRates: Float64Array, sources: ExitSources) {
  const comboRate = new Float64Array(COMBOS);
  const comboCum = new Float64Array(COMBOS * EVENT_COUNT);
  const comboNext = new Uint8Array(COMBOS * EVENT_COUNT);
  const comboCount = new Uint8Array(COMBOS);
  const comboExit = new Int16Array(COMBOS * EVENT_COUNT).fill(-1);
  const save = sources.names.indexOf(VFP_SAVE_EXIT);
  const load = sources.names.indexOf(VFP_LOAD_EXIT);
  for (let c = 0; c < COMBOS; c++) {
    let acc = 0;
    let k = 0;
    for (let ev = 0; ev < EVENT_COUNT; ev++) {
      const r = ev === EV_USE ? ((c & SIMD_BIT) !== 0 ? eventRates[ev] : 0) : eventRates[ev];
      if (r <= 0) continue;
      const next = comboEffect(aarch32, c, ev);
      const id = save >= 0 ? vfpIdRead(aarch32, c, ev) : VFP_ID_NONE;
      if (next === c && id === VFP_ID_NONE) continue; // no effect here: thinned out
      acc += r;
      comboCum[c * EVENT_COUNT + k] = acc;
      comboNext[c * EVENT_COUNT + k] = next;
      if (id !== VFP_ID_NONE) comboExit[c * EVENT_COUNT + k] = id === VFP_ID_SAVE ? save : load;
      k++;
    }
    comboRate[c] = acc;
    comboCount[c] = k;
  }
  return { comboRate, comboCum, comboNext, comboCount, comboExit };
}

/** Per combo: one categorical over "exit source j ends the run" and "effective event k comes first" (see VcpuModel). */
function outcomeTables(
  sources: ExitSources,
  busyRate: number,
  combos: ReturnType<typeof comboTables>,
) {
  const nSrc = sources.raced;
  const outStride = nSrc + EVENT_COUNT;
  const outCum = new Float64Array(COMBOS * outStride);
  const outCode = new Uint8Array(COMBOS * outStride);
  const outNext = new Uint8Array(COMBOS * outStride);
  const outGuide = new Uint8Array(COMBOS * GUIDE);
  const invTotal = new Float64Array(COMBOS);
  for (let c = 0; c < COMBOS; c++) {
    const total = busyRate + combos.comboRate[c];
    invTotal[c] = total > 0 ? 1 / total : NEVER; // nothing raced: only a tick ends the run
    const base = c * outStride;
    let acc = 0;
    let j = 0;
    for (let k = 0; k < nSrc; k++) {
      acc += sources.rates[k];
      outCum[base + j] = acc / total;
      outCode[base + j] = COMBOS + k;
      outNext[base + j] = c;
      j++;
    }
    let prev = 0;
    for (let k = 0; k < combos.comboCount[c]; k++) {
      const cumRate = combos.comboCum[c * EVENT_COUNT + k];
      acc += cumRate - prev;
      prev = cumRate;
      outCum[base + j] = acc / total;
      const next = combos.comboNext[c * EVENT_COUNT + k];
      const exit = combos.comboExit[c * EVENT_COUNT + k];
      // An event whose MVFR0 read exits ends the run: its code is that exit source's.
      outCode[base + j] = exit >= 0 ? COMBOS + exit : next;
      outNext[base + j] = next;
      j++;
    }
    // Exactly 1, so a uniform in [0, 1) always finds an outcome. Nothing raced and no
    // event (only ticks end the run): the one entry is never read (the tick comes first).
    if (j > 0) outCum[base + j - 1] = 1;
    buildGuide(outCum, base, j, outGuide, c * GUIDE);
  }
  return { outStride, outCum, outCode, outNext, outGuide, invTotal };
}

/** One vCPU of `vm` in one scheduler phase, compiled. Cost: O(combos x (events + sources + GUIDE)). */
function compileVcpu(
  w: GuestWorkload,
  vm: GuestVm,
  vmIndex: number,
  phase = PHASE_CHURN,
): VcpuModel {
  const aarch32 = vm.el1 === 'aarch32';
  const sources = compileSources(w, vm);
  const s = vm.tasks.simdShare.value;
  const eventRates = phaseEventRates(vm, phase);
  const combos = comboTables(aarch32, eventRates, sources);
  const busyRate = sources.rates.slice(0, sources.raced).reduce((a, b) => a + b, 0);
  const srcGuide = new Uint8Array(GUIDE);
  buildGuide(sources.cum, 0, Math.max(1, sources.raced), srcGuide, 0);
  const gTick = sources.names.indexOf(GUEST_TICK);
  const hTick = sources.names.indexOf(HOST_TICK);
  const pBlock = blockProbability(w, vm);
  const fpOut = w.host.fpWhileDescheduled.value;
  const kNeon = w.host.kernelNeonPerExit.value;
  return {
    vm: vmIndex,
    vmName: vm.name,
    aarch32,
    busyRate,
    guestTickNs: gTick >= 0 ? 1e9 / vm.hz.value : Infinity,
    hostTickNs: hTick >= 0 ? 1e9 / w.host.hz.value : Infinity,
    guestTickSrc: gTick,
    hostTickSrc: hTick,
    meanIdleNs: vm.idle.meanIdleUs.value * 1000,
    sources,
    eventRates,
    simdShare: s,
    // With MVFR0 reads exiting, guest events end runs: the walk never stops early.
    reachable: sources.names.includes(VFP_SAVE_EXIT) ? 0 : reachableBits(aarch32, eventRates, s),
    ...combos,
    ...outcomeTables(sources, busyRate, combos),
    srcGuide,
    phaseEndRate: phaseEndRate(vm, phase),
    userWakeShare: vm.idle.userWakeShare.value,
    sameTaskShare: vm.idle.sameTaskShare.value,
    blipNs: vm.idle.blipUs.value * 1000,
    blipPutP: pBlock,
    blipHostFpNoPut: kNeon,
    blipHostFpPut: 1 - (1 - kNeon) * (1 - fpOut),
  };
}

/** Fills a guide table: for each bucket b, the first index whose cumulative probability exceeds b / GUIDE. */
function buildGuide(
  cum: Float64Array,
  base: number,
  n: number,
  guide: Uint8Array,
  at: number,
): void {
  let j = 0;
  for (let b = 0; b < GUIDE; b++) {
    while (j < n - 1 && cum[base + j] <= b / GUIDE) j++;
    guide[at + b] = j;
  }
}

/** Compiles a validated guest workload. Cost: O(vCPUs x combos x events). */
export function compileGuest(w: GuestWorkload): GuestModel {
  const vcpus: VcpuDesc[] = [];
  const models: VcpuModel[] = [];
  const slots: VcpuModel[] = [];
  const weights: number[] = [];
  const phases = w.vms.some((vm) => phaseEndRate(vm, PHASE_STREAM) > 0) ? 2 : 1;
  w.vms.forEach((vm, i) => {
    for (let k = 0; k < vm.vcpusOnThisCpu.value; k++) {
      const m = compileVcpu(w, vm, i);
      vcpus.push({ id: vcpus.length, vm: i, aarch32: m.aarch32 });
      models.push(m);
      slots.push(m);
      if (phases === 2) slots.push(compileVcpu(w, vm, i, PHASE_STREAM));
      weights.push(vm.hostWeight.value);
    }
  });
  const nv = weights.length;
  const pickCum = new Float64Array(nv * nv);
  for (let v = 0; v < nv && nv > 1; v++) {
    const total = weights.reduce((a, b, u) => (u === v ? a : a + b), 0);
    let acc = 0;
    let last = -1;
    for (let u = 0; u < nv; u++) {
      if (u !== v) {
        acc += weights[u];
        last = u;
      }
      pickCum[v * nv + u] = acc / total;
    }
    pickCum[v * nv + last] = 1; // exactly 1; entries after `last` are never reached
    for (let u = last + 1; u < nv; u++) pickCum[v * nv + u] = 1;
  }
  const off = w.host.tickOffsetUs?.value;
  return {
    name: w.name,
    vcpus,
    models,
    phases,
    slots,
    pickCum,
    tickOffsetNs: off === undefined ? null : off * 1000,
  };
}

/**
 * A model for attributing FP use to `n` vCPU threads of a trace: vCPU v behaves like the
 * workload's vCPU v mod (its vCPU count). Only `GuestRunner.traceRun` uses it (a trace
 * may have more vCPUs than the generator's flat tables allow: guest-tables.ts).
 */
export function replicateForTrace(model: GuestModel, n: number): GuestModel {
  const k = model.models.length;
  const P = model.phases;
  const models = Array.from({ length: n }, (_, v) => model.models[v % k]);
  const slots = Array.from(
    { length: n * P },
    (_, s) => model.slots[(Math.floor(s / P) % k) * P + (s % P)],
  );
  const vcpus = models.map((m, id) => ({ id, vm: m.vm, aarch32: m.aarch32 }));
  return {
    name: model.name,
    vcpus,
    models,
    phases: P,
    slots,
    pickCum: new Float64Array(0),
    tickOffsetNs: model.tickOffsetNs,
  };
}

/** Figures that follow from a VM's parameters alone (for summaries and the sensitivity view). */
interface VmFigures {
  readonly vm: string;
  readonly el1: 'aarch64' | 'aarch32';
  /** Exits per second of busy guest time on one vCPU. */
  readonly busyExitsPerSec: number;
  /** Busy exits per second for the whole VM (all its vCPUs busy): the "per guest" figure. */
  readonly guestExitsPerSec: number;
  /** Guest context switches (user switches + interludes) per busy exit. */
  readonly switchesPerExit: number;
  readonly simdShare: number;
  /** Expected exits per busy second by source. */
  readonly sources: readonly { name: string; exit: string; handled: string; perSec: number }[];
}

export function vmFigures(w: GuestWorkload, vmIndex: number): VmFigures {
  const vm = w.vms[vmIndex];
  const m = compileVcpu(w, vm, vmIndex);
  // The MVFR0-read exits come from guest events, not from a rate: not counted here.
  const rated = m.sources.names
    .map((_, i) => i)
    .filter((i) => m.sources.kind[i] !== SOURCE_KIND.vfpIdRead);
  const perSec = rated.reduce((a, i) => a + m.sources.rates[i], 0) / PER_SEC_TO_PER_NS;
  const switches = vm.scheduler.switchesPerSec.value + vm.scheduler.interludesPerSec.value;
  return {
    vm: vm.name,
    el1: vm.el1,
    busyExitsPerSec: perSec,
    guestExitsPerSec: perSec * vm.vcpus.value,
    switchesPerExit: perSec > 0 ? switches / perSec : 0,
    simdShare: vm.tasks.simdShare.value,
    sources: rated.map((i) => ({
      name: m.sources.names[i],
      exit: exitClassName(Math.floor(m.sources.exitKey[i] / 3)),
      handled: ['hyp', 'kernel', 'user'][m.sources.handled[i]],
      perSec: m.sources.rates[i] / PER_SEC_TO_PER_NS,
    })),
  };
}
