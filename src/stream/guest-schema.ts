/**
 * The `guest` workload kind: a mechanistic description of what guests do on one physical
 * CPU, from which runs, exits and FP/SIMD use follow (guest.ts). The JSON describes
 * guests, not a skip rate. Every number is a sourced value (sourced-param.ts).
 *
 * Rates are per second of the vCPU's busy guest time (time it spends running guest code
 * while it has work), unless the field name says otherwise.
 */

import { z } from 'zod';
import { exitClassCode } from '../arch/esr.js';
import { UserError, userText } from '../util/errors.js';
import { microsParam, probabilityParam, rateParam, sourced } from './sourced-param.js';

const exitLabel = z.string().refine((s) => exitClassCode(s) !== undefined, {
  error:
    'unknown exit class (an EC name such as HVC64, a hex EC such as 0x16, or IRQ/SERROR/HYP_GONE)',
});

/** The guest kernel's scheduler on one vCPU. */
const SchedulerSchema = z.strictObject({
  /**
   * Context switches from one user task to another (a new time slice of another task).
   * AArch64 guest kernel: `fpsimd_thread_switch` saves the outgoing task's live FP state
   * and the incoming task's state is loaded on its return to user. AArch32 guest kernel:
   * `vfp_notifier` reads FPEXC, saves the VFP state if EN was set, writes EN=0.
   */
  switchesPerSec: rateParam,
  /**
   * Brief preemptions of the running user task by another task (a kernel thread, a
   * short-lived daemon) after which the same task resumes: the outgoing task's state is
   * saved (AArch64) or FPEXC toggled (AArch32) without starting a new user time slice.
   */
  interludesPerSec: rateParam,
  /** Guest kernel-mode NEON (`kernel_neon_begin`: crypto, checksums, RAID). */
  kernelNeonPerSec: rateParam,
  /**
   * Bursty switching (optional; absent: user switches are one Poisson process). The vCPU
   * alternates between *churn* (tasks block and wake: every user switch happens here, at
   * switchesPerSec / (1 - streamShare)) and *stream* (one task runs on with work to do:
   * no user switch). A phase boundary is a Poisson clock of busy time whose effect shows
   * at the run's exit: the guest scheduler acts on it in the handler of the interrupt
   * injected at the next entry (scheduler_tick's check_preempt_tick, a wake-up's
   * check_preempt_wakeup: kernel/sched/fair.c), so a run is in one phase throughout. A
   * run that ends at the guest's own tick ends a stream: the tick's check_preempt_tick
   * preempts the streaming task (its slice is over).
   */
  phases: z
    .strictObject({
      /** Share of busy time in the stream phase (at most 0.99 is used: the switches need a churn phase). */
      streamShare: probabilityParam,
      /** Mean length of a stream phase, microseconds of busy time. */
      meanStreamUs: microsParam,
    })
    .optional(),
});

/** The guest's user tasks and how their code uses FP/SIMD. */
const TasksSchema = z.strictObject({
  /** Share of user time slices whose code executes FP/SIMD instructions. */
  simdShare: probabilityParam,
  /** Within such a slice, FP/SIMD uses per second (e.g. glibc string-routine calls). */
  simdUsesPerSec: rateParam,
});

/** Idle periods (WFI) and wake-ups. */
const IdleSchema = z.strictObject({
  /** The vCPU goes idle (the last runnable task blocks; WFI exit), per second of busy time. */
  entriesPerSec: rateParam,
  /** Mean idle period in wall-clock microseconds (decides whether KVM halt-polls or blocks). */
  meanIdleUs: microsParam,
  /** Share of wake-ups that run a user task; the others run only interrupt handlers or kernel threads and go back to WFI. */
  userWakeShare: probabilityParam,
  /** Share of user wake-ups that resume the task whose FP state is still in the registers. */
  sameTaskShare: probabilityParam,
  /** Mean guest run (microseconds) of a wake-up that runs no user task before the next WFI. */
  blipUs: microsParam,
});

/** Exit sources other than the timer tick and idle, per second of busy time. */
const ExitsSchema = z.strictObject({
  /** IPIs this vCPU sends (cross-vCPU wake-ups): GICv2 GICD_SGIR write (DABT_LOW), GICv3 ICC_SGI1R (SYS64, or CP15_64 from AArch32). */
  ipiSentPerSec: rateParam,
  /** IPIs arriving while this vCPU runs: the host kicks it out (IRQ exit) to inject the vIRQ. */
  ipiReceivedPerSec: rateParam,
  /** Device interrupts (I/O completions) arriving while this vCPU runs (IRQ exit). */
  deviceIrqPerSec: rateParam,
  /** MMIO accesses emulated by the VMM in host userspace (DABT_LOW, KVM_RUN returns). */
  mmioUserPerSec: rateParam,
  /** MMIO accesses handled in the host kernel (vGIC emulation, ioeventfd virtio notifications). */
  mmioKernelPerSec: rateParam,
  /** Hypercalls (PSCI and other SMCCC calls: HVC64 / HVC32). */
  hvcPerSec: rateParam,
  /** Stage-2 data aborts on guest RAM (DABT_LOW, handled in the kernel: page faults, dirty logging). */
  stage2DataFaultsPerSec: rateParam,
  /** Stage-2 instruction aborts on guest RAM (IABT_LOW, handled in the kernel). */
  stage2InstrFaultsPerSec: rateParam,
  /** Other trapped system-register accesses (SYS64 / CP15_32), handled in the kernel. */
  sysregPerSec: rateParam,
});

const OtherExitSchema = z.strictObject({
  exit: exitLabel,
  handled: z.enum(['hyp', 'kernel', 'user']),
  perSec: rateParam,
});

const VmSchema = z.strictObject({
  name: z.string().min(1),
  /** EL1 execution state (HCR_EL2.RW): decides the guest kernel's FP mechanism and exit classes. */
  el1: z.enum(['aarch64', 'aarch32']),
  /** Interrupt controller: decides the exit class of an IPI. */
  gic: z.enum(['v2', 'v3']),
  /** Why this VM looks like this (EL1 width, GIC, vCPU layout). */
  rationale: z.string().min(1),
  /** vCPUs of the VM (for exits per second per guest). */
  vcpus: sourced(z.number().int().min(1).max(4096)),
  /** Of those, vCPUs whose threads share the modelled physical CPU. */
  vcpusOnThisCpu: sourced(z.number().int().min(1).max(8)),
  /** Host scheduler weight of each of its vCPU threads (who runs next after a vcpu_put). */
  hostWeight: sourced(z.number().positive().max(1e6)),
  /** Guest timer tick (CONFIG_HZ): one IRQ exit per tick while the vCPU is busy. */
  hz: rateParam,
  /**
   * The hypervisor traps the guest's ID-register reads (HCR_EL2.TID3; KVM sets it for
   * every guest: HCR_GUEST_FLAGS, arch/arm64/include/asm/kvm_arm.h): an AArch32 guest's VFP save and load
   * read MVFR0 and exit (CP10_ID, guest-model.ts vfpIdRead). Absent: false.
   */
  trapsIdRegs: z.boolean().optional(),
  scheduler: SchedulerSchema,
  tasks: TasksSchema,
  idle: IdleSchema,
  exits: ExitsSchema,
  /** Further exit sources, with their class and where they are handled. */
  otherExits: z.array(OtherExitSchema).default([]),
});

/** What the host does on this physical CPU between exits. */
const HostSchema = z.strictObject({
  /** Host timer tick (CONFIG_HZ): one IRQ exit per tick while a guest runs. */
  hz: rateParam,
  /**
   * Time from a guest timer tick to the next host tick, microseconds (the two ticks' grids
   * are fixed by when the host and the guest booted). Absent: drawn per stream from the
   * seed, uniformly over the host tick's period (an unknown boot phase).
   */
  tickOffsetUs: sourced(z.number().min(0).max(1e7)).optional(),
  /** The host scheduler preempts the running vCPU thread (at a host tick), per second of guest time. */
  preemptionsPerSec: rateParam,
  /** KVM halt polling window (halt_poll_ns) in microseconds: shorter idle periods never schedule the vCPU thread out. */
  haltPollUs: sourced(z.number().min(0).max(1e9)),
  /** Probability of host kernel-mode NEON between an exit handled in the kernel and the next entry. */
  kernelNeonPerExit: probabilityParam,
  /** Probability that the VMM uses FP/SIMD while handling an exit to userspace. */
  vmmFpPerUserExit: probabilityParam,
  /** Probability that a host task using FP runs while the vCPU thread is scheduled out. */
  fpWhileDescheduled: probabilityParam,
});

export const GuestWorkloadSchema = z.strictObject({
  name: z.string().min(1),
  kind: z.literal('guest'),
  description: z.string().optional(),
  vms: z.array(VmSchema).min(1),
  host: HostSchema,
});

export type GuestWorkload = z.infer<typeof GuestWorkloadSchema>;
export type GuestVm = z.infer<typeof VmSchema>;

/** Most vCPUs one stream may hold (run classes are packed per vCPU; see run-class.ts). */
const MAX_GUEST_VCPUS = 8;

/** Checks what the schema cannot: cross-field rules. Throws a UserError naming the field. */
export function validateGuest(w: GuestWorkload, file: string): void {
  const problems: string[] = [];
  const total = w.vms.reduce((n, vm) => n + vm.vcpusOnThisCpu.value, 0);
  if (total > MAX_GUEST_VCPUS) {
    problems.push(`vms: ${total} vCPUs share the physical CPU (at most ${MAX_GUEST_VCPUS})`);
  }
  w.vms.forEach((vm, i) => {
    if (vm.vcpusOnThisCpu.value > vm.vcpus.value) {
      problems.push(
        `vms[${i}].vcpusOnThisCpu: ${vm.vcpusOnThisCpu.value} is more than the VM's ${vm.vcpus.value} vCPUs`,
      );
    }
    const busyExits =
      vm.hz.value +
      w.host.hz.value +
      vm.idle.entriesPerSec.value +
      Object.values(vm.exits).reduce((s, p) => s + p.value, 0) +
      vm.otherExits.reduce((s, o) => s + o.perSec.value, 0);
    if (busyExits <= 0) {
      problems.push(
        `vms[${i}]: no exit source while busy (every exit rate, both ticks and idle.entriesPerSec are 0)`,
      );
    }
  });
  if (w.host.preemptionsPerSec.value > w.host.hz.value) {
    problems.push(
      `host.preemptionsPerSec: ${w.host.preemptionsPerSec.value} is more than host.hz ${w.host.hz.value} (the host preempts a vCPU thread at its ticks)`,
    );
  }
  if (problems.length > 0) throw new UserError(`${userText(file)}: ${problems.join('; ')}`);
}
