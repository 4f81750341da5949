/**
 * Parametrised built-in workloads: `hackbench:vcpus=2,groups=2,loops=200`,
 * `lmbench-ctx:vcpus=1`, `lmbench-syscall:vcpus=2`. The guest configuration is the input;
 * the exit and switch rates of the `guest` workload are derived from it here, never typed
 * per configuration. The workload file (workloads/<name>.json) supplies what does not
 * depend on the configuration (EL1 width, GIC, timer HZ, host settings, their sources);
 * the derived fields are replaced, each with its derivation in its rationale.
 *
 * The derivations use a few constants of the guest kernel and the machine. Those fitted to
 * measurements live in workloads/fitted/constants.json with the cells they were fitted on
 * (`npm run fit`, validation/fit.ts, reads validation/training.json); the others are
 * sourced below. Cost: O(1) per derivation.
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { packageRoot } from '../util/package-root.js';
import type { NumericParam } from '../util/spec.js';
import type { GuestVm, GuestWorkload } from './guest-schema.js';

/** The fitted constants file. */
export const CONSTANTS_FILE = resolve(packageRoot(), 'workloads/fitted/constants.json');

/** Constants the derivations need that were fitted on the training cells (see the file). */
export interface ModelConstants {
  /** hackbench: guest instructions per 100-byte message in the message phase. */
  readonly insnsPerMessage: number;
  /** hackbench: guest instructions per task for its fork, start-up and exit. */
  readonly insnsPerTask: number;
  /** hackbench: user context switches per message (a receiver blocks on an empty socket). */
  readonly switchesPerMessage: number;
  /** Guest user switches per guest timer tick besides message wake-ups (check_preempt_tick). */
  readonly switchesPerTick: number;
  /** hackbench: share of busy time in the stream phase (a task runs on without blocking). */
  readonly streamShare: number;
  /** Debian 6.1 guest kernel threads preempting a user task, per busy second (interludes). */
  readonly kernelThreadsPerSec: number;
  /** pipe ping-pong: guest instructions per token pass (write, wake, read, block). */
  readonly insnsPerPass: number;
  /** The validation host (QEMU TCG L1, Debian 6.1): vCPU-thread preemptions per guest second. */
  readonly validationPreemptionsPerSec: number;
  /** The validation guest (Debian 6.1 under -icount): reschedule IPIs sent per user switch whose wake-up crosses vCPUs. */
  readonly validationIpiPerWake: number;
  /** The validation guest (2 vCPUs, -icount): idle entries (WFI) per cross-vCPU block of a vCPU's last runnable task (hackbench parameter `wfi`). */
  readonly validationWfiPerBlock: number;
  /** The validation setup (L2 under L1, -icount): time from an L2 (guest) tick to the next L1 (host) tick, microseconds. */
  readonly validationTickOffsetUs: number;
}

const CONSTANT_NAMES: readonly (keyof ModelConstants)[] = [
  'insnsPerMessage',
  'insnsPerTask',
  'switchesPerMessage',
  'switchesPerTick',
  'streamShare',
  'kernelThreadsPerSec',
  'insnsPerPass',
  'validationPreemptionsPerSec',
  'validationIpiPerWake',
  'validationWfiPerBlock',
  'validationTickOffsetUs',
];

interface ConstantsFile {
  readonly constants: Readonly<Record<string, { value: number } | undefined>>;
}

let cached: ModelConstants | undefined;

/** The fitted constants (read once). A missing or incomplete file is an internal error: run `npm run fit`. */
export function modelConstants(file = CONSTANTS_FILE): ModelConstants {
  if (file === CONSTANTS_FILE && cached) return cached;
  if (!existsSync(file)) throw new Error(`${file}: missing (npm run fit writes it)`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as ConstantsFile;
  const out: Record<string, number> = {};
  for (const k of CONSTANT_NAMES) {
    const v = raw.constants[k]?.value;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new Error(`${file}: constant ${k} missing (npm run fit writes it)`);
    out[k] = v;
  }
  const c = out as unknown as ModelConstants;
  if (file === CONSTANTS_FILE) cached = c;
  return c;
}

/** Parameters every template takes. */
const COMMON: Readonly<Record<string, NumericParam>> = {
  vcpus: { default: 2, min: 1, max: 8, integer: true, description: 'vCPUs of the guest' },
  speed: {
    default: 2,
    min: 0.001,
    max: 100,
    description:
      'guest instructions per ns of guest time (estimate for a ~2.5-3 GHz arm64 server core in kernel-heavy code; QEMU -icount shift=0 runs 1)',
  },
  preempt: {
    default: 2,
    min: 0,
    max: 250,
    description: 'host preemptions of the vCPU thread per guest second (per-CPU kernel threads)',
  },
  tickoff: {
    default: -1,
    min: -1,
    max: 1e6,
    description:
      'microseconds from a guest timer tick to the next host tick (-1: drawn from the seed, an unknown boot phase)',
  },
};

/** A parametrised built-in: its parameters and the derivation. */
interface WorkloadTemplate {
  readonly name: string;
  readonly summary: string;
  readonly params: Readonly<Record<string, NumericParam>>;
  /** The workload for these parameter values (validated ranges); throws a UserError for an impossible combination. */
  derive(
    base: GuestWorkload,
    p: Readonly<Record<string, number>>,
    k: ModelConstants,
  ): GuestWorkload;
}

type Num = { value: number; rationale: string; estimate?: boolean; wouldChange?: string };
const derived = (value: number, rationale: string, estimate = true): Num => ({
  value: Number(value.toPrecision(6)),
  rationale,
  ...(estimate
    ? {
        estimate,
        wouldChange:
          'the guest configuration (workload parameters), the fitted constants (npm run fit on new training cells) or the derivation (src/stream/guest-configs.ts)',
      }
    : {}),
});

/**
 * net.core.wmem_default (Documentation/admin-guide/sysctl/net.rst: 212992 bytes) over a
 * message's truesize: its bytes plus ~576 bytes of sk_buff and skb_shared_info on arm64
 * (include/linux/skbuff.h SKB_TRUESIZE; an estimate): messages an AF_UNIX socket queues.
 */
function socketCapacity(size: number): number {
  return Math.max(1, Math.floor(212992 / (size + 576)));
}

/** copy_from_user + copy_to_user: 16-byte LDP/STP pairs, ~0.25 instructions per byte (estimate). */
const INSNS_PER_BYTE = 0.25;
/**
 * IPI exits (each of sent and received) per user switch whose wake-up crosses vCPUs. The
 * Altra hackbench anchor (docs/domain.md: ~150,000 exits in 0.154 s over 64 vCPUs for
 * 4,000,000 messages: ~14,200 IPI exits per vCPU-second besides ticks and idle) over the
 * switches per message fitted here (~0.093 x 406,000 messages per vCPU-second): most
 * wake-ups need no IPI (the target vCPU is already running and polls its run queue, or
 * the wake-up is queued to the next tick). An estimate from one anchor.
 */
const IPI_PER_REMOTE_SWITCH = 0.19;
/** A thread's clone and exit skip the page-table copy and teardown: ~0.3 of a process's (estimate). */
const THREAD_TASK_FACTOR = 0.3;

/** The host side shared by every template. */
function withHost(w: GuestWorkload, p: Readonly<Record<string, number>>): void {
  w.host.preemptionsPerSec = derived(
    p.preempt,
    `workload parameter preempt=${p.preempt} (host per-CPU kernel threads preempting the vCPU thread)`,
  );
  if (p.tickoff >= 0)
    w.host.tickOffsetUs = derived(
      p.tickoff,
      `workload parameter tickoff=${p.tickoff} (the boot phase of the host tick against the guest's)`,
    );
}

/** The guest kernel's own threads (interludes), and the vCPU count. */
function withGuestKernel(
  vm: GuestVm,
  p: Readonly<Record<string, number>>,
  k: ModelConstants,
): void {
  vm.vcpus = derived(p.vcpus, `workload parameter vcpus=${p.vcpus}`, false);
  vm.scheduler.interludesPerSec = derived(
    k.kernelThreadsPerSec,
    'Debian 6.1 guest kernel threads per busy second, fitted on the training cells (workloads/fitted/constants.json)',
  );
}

/**
 * How long an idle vCPU waits, from what wakes it: the next wake-up IPI from the other
 * vCPUs, arriving at `wakesPerSec` (by symmetry, the rate this vCPU sends them). Whether
 * KVM halt-polls through the idle period or blocks the vCPU thread (kvm_vcpu_block ->
 * schedule -> kvm_sched_out -> kvm_arch_vcpu_put, whose kvm_arch_vcpu_put_fp saves the
 * guest's FP state in 6.1, arch/arm64/kvm/fpsimd.c, so the next guest FP use traps
 * again) then follows from halt_poll_ns (guest-model.ts blockProbability), not from a
 * typed probability. No wake-up source: the base file's value stays.
 */
function withIdleLength(vm: GuestVm, wakesPerSec: number, what: string): void {
  if (wakesPerSec <= 0) return;
  vm.idle.meanIdleUs = derived(
    1e6 / wakesPerSec,
    `the idle vCPU sleeps until ${what}: 1e6 / ${wakesPerSec.toPrecision(4)} wake-ups per second`,
  );
}

function clone(w: GuestWorkload): GuestWorkload {
  return structuredClone(w);
}

/** hackbench (rt-tests src/hackbench/hackbench.c): groups of fds senders and fds receivers. */
const hackbench: WorkloadTemplate = {
  name: 'hackbench',
  summary:
    'rt-tests hackbench: groups x (fds senders + fds receivers), loops messages of size bytes',
  params: {
    ...COMMON,
    vcpus: { ...COMMON.vcpus, default: 8 },
    ipi: {
      default: IPI_PER_REMOTE_SWITCH,
      min: 0,
      max: 2,
      description:
        'reschedule IPIs sent per user switch whose wake-up crosses vCPUs (default: the Altra anchor estimate)',
    },
    wfi: {
      default: 1,
      min: 0,
      max: 1,
      description:
        "share of cross-vCPU blocks of a vCPU's last runnable task that leave it idle (WFI); the others find a task pulled by the guest's load balancer (default 1: every one idles)",
    },
    groups: { default: 10, min: 1, max: 1000, integer: true, description: 'groups (-g)' },
    fds: {
      default: 20,
      min: 1,
      max: 1000,
      integer: true,
      description: 'senders and receivers per group (-f)',
    },
    loops: {
      default: 100,
      min: 1,
      max: 1e7,
      integer: true,
      description: 'messages each sender sends each receiver (-l)',
    },
    size: {
      default: 100,
      min: 1,
      max: 65536,
      integer: true,
      description: 'bytes per message (-s)',
    },
    threads: {
      default: 0,
      min: 0,
      max: 1,
      integer: true,
      description: '1: thread mode (-T), 0: process mode (-P)',
    },
  },
  derive(base, p, k) {
    const w = clone(base);
    const vm = w.vms[0];
    const V = p.vcpus;
    const tasks = p.groups * 2 * p.fds;
    const messages = p.groups * p.fds * p.fds * p.loops;
    const perMsg = k.insnsPerMessage + (p.size - 100) * INSNS_PER_BYTE;
    const perTask = k.insnsPerTask * (p.threads === 1 ? THREAD_TASK_FACTOR : 1);
    // Guest time of one run of hackbench over all vCPUs, and the switches it holds:
    // per message, plus two per task (the child's first run, its exit).
    const insns = messages * perMsg + tasks * perTask;
    const speed = p.speed * 1e9; // instructions per second of busy guest time
    const hz = vm.hz.value;
    const sw =
      ((messages * k.switchesPerMessage + 2 * tasks) / insns) * speed + k.switchesPerTick * hz;
    const remote = (V - 1) / V;
    const perVcpu = Math.max(1, tasks / V);
    withHost(w, p);
    withGuestKernel(vm, p, k);
    vm.scheduler.switchesPerSec = derived(
      sw,
      `(messages x ${k.switchesPerMessage} + 2 x tasks) / guest instructions x speed + ${k.switchesPerTick} per tick x ${hz} Hz; messages = groups x fds^2 x loops = ${messages}, tasks = ${tasks}, ${perMsg.toFixed(0)} instructions per message, ${perTask.toFixed(0)} per task (fitted constants)`,
    );
    const streamUs = Math.min(1e6 / hz, ((socketCapacity(p.size) * p.fds * perMsg) / speed) * 1e6);
    vm.scheduler.phases = {
      streamShare: derived(
        k.streamShare,
        'fitted on the training cells (workloads/fitted/constants.json)',
      ),
      meanStreamUs: derived(
        streamUs,
        `a sender writes until its slice ends at the next tick (1/hz) or its receivers' sockets fill: ${socketCapacity(p.size)} messages x fds x instructions per message / speed`,
      ),
    };
    const ipi = sw * remote * p.ipi;
    vm.exits.ipiSentPerSec = derived(
      ipi,
      `switches x (vcpus - 1) / vcpus x ${p.ipi} reschedule IPIs per cross-vCPU wake-up (workload parameter ipi; default ${IPI_PER_REMOTE_SWITCH}, Altra anchor)`,
    );
    vm.exits.ipiReceivedPerSec = derived(
      ipi,
      'as ipiSentPerSec: each IPI sent is received by another, running vCPU',
    );
    vm.idle.entriesPerSec = derived(
      ((sw * remote) / perVcpu) * p.wfi,
      `a vCPU idles when the last of its tasks/vcpus runnable tasks blocks and nothing is pulled: switches x (vcpus - 1) / vcpus / (tasks / vcpus) x ${p.wfi} (workload parameter wfi)`,
    );
    withIdleLength(vm, ipi, 'a reschedule IPI from another vCPU (one waking a task here)');
    vm.idle.sameTaskShare = derived(1 / perVcpu, 'one of tasks / vcpus tasks is woken');
    w.description = `hackbench ${p.threads === 1 ? 'thread' : 'process'} mode, ${p.groups} groups x ${p.fds} fds, ${p.loops} loops of ${p.size} B, in a ${V}-vCPU AArch64 guest (derived: src/stream/guest-configs.ts)`;
    return w;
  },
};

/** lmbench lat_ctx / lat_pipe: a token passed around `procs` processes through pipes. */
const lmbenchCtx: WorkloadTemplate = {
  name: 'lmbench-ctx',
  summary: 'lmbench lat_ctx: a token passed through pipes around procs processes',
  params: {
    ...COMMON,
    procs: {
      default: 2,
      min: 2,
      max: 16,
      integer: true,
      description: 'processes in the ring (lat_ctx N)',
    },
  },
  derive(base, p, k) {
    const V = p.vcpus;
    if (V > 1 && V < p.procs)
      throw new UserError(
        `workload "lmbench-ctx": vcpus=${V} must be 1 (every process on one vCPU) or at least procs=${p.procs} (one each)`,
      );
    const w = clone(base);
    const vm = w.vms[0];
    const passes = (p.speed * 1e9) / k.insnsPerPass; // token passes per busy second on this vCPU
    withHost(w, p);
    withGuestKernel(vm, p, k);
    const split = V > 1;
    const why = `${k.insnsPerPass.toFixed(0)} guest instructions per token pass (fitted) at speed ${p.speed}/ns`;
    vm.scheduler.switchesPerSec = derived(
      split ? 0 : passes + k.switchesPerTick * vm.hz.value,
      split
        ? 'one process per vCPU: a pass wakes the same task from idle'
        : `one switch per pass (${why}) + ${k.switchesPerTick} per tick`,
    );
    vm.exits.ipiSentPerSec = derived(
      split ? passes : 0,
      split ? `one IPI per pass (${why})` : 'every process on this vCPU',
    );
    vm.exits.ipiReceivedPerSec = derived(0, 'the woken vCPU is idle (WFI), not running');
    vm.idle.entriesPerSec = derived(
      split ? passes : 0,
      split ? 'one idle period per pass' : 'a runnable peer always exists',
    );
    if (split) withIdleLength(vm, passes, "the peer's pass (its IPI)");
    w.description = `lmbench lat_ctx with ${p.procs} processes on ${V} vCPU(s) of an AArch64 guest (derived: src/stream/guest-configs.ts)`;
    return w;
  },
};

/** lmbench lat_syscall null: getppid() in a loop. */
const lmbenchSyscall: WorkloadTemplate = {
  name: 'lmbench-syscall',
  summary: 'lmbench lat_syscall null: getppid() in a loop on one vCPU',
  params: COMMON,
  derive(base, p, k) {
    const w = clone(base);
    const vm = w.vms[0];
    const others = p.vcpus - 1;
    withHost(w, p);
    withGuestKernel(vm, p, k);
    vm.scheduler.switchesPerSec = derived(0, 'one task; kernel threads are interludes');
    vm.exits.ipiSentPerSec = derived(
      2 * others,
      'housekeeping IPIs (RCU, TLB shootdown), ~2/s per other vCPU',
    );
    vm.exits.ipiReceivedPerSec = derived(
      5 * others,
      'housekeeping IPIs from the other vCPUs, ~5/s each',
    );
    w.description = `lmbench lat_syscall null in a ${p.vcpus}-vCPU AArch64 guest (derived: src/stream/guest-configs.ts)`;
    return w;
  },
};

/**
 * CFS time slices (kernel/sched/fair.c, before EEVDF: sysctl_sched_latency 6 ms and
 * sysctl_sched_min_granularity 0.75 ms, each x (1 + ilog2(min(CPUs, 8))),
 * SCHED_TUNABLESCALING_LOG): with n runnable tasks on a CPU a slice is latency / n, at
 * least the minimum granularity. check_preempt_tick switches at the first tick after the
 * slice is used, so a CPU-bound CPU switches every ceil(slice x HZ) ticks.
 */
function cfsSwitchesPerSec(tasksOnCpu: number, cpus: number, hz: number): number {
  if (tasksOnCpu <= 1) return 0;
  const scale = 1 + Math.floor(Math.log2(Math.min(cpus, 8)));
  const slice = Math.max((0.006 * scale) / tasksOnCpu, 0.00075 * scale);
  return hz / Math.max(1, Math.ceil(slice * hz - 1e-9));
}

/** The FP-heavy AArch32 guest: vfpProcs VFP-heavy processes beside intProcs integer ones. */
const fpHeavyAarch32: WorkloadTemplate = {
  name: 'fp-heavy-aarch32',
  summary:
    'an AArch32 (armhf) guest running VFP-heavy processes beside integer ones, all CPU-bound',
  params: {
    vcpus: { ...COMMON.vcpus, default: 1 },
    preempt: { ...COMMON.preempt, default: 0 },
    tickoff: COMMON.tickoff,
    vfpProcs: {
      default: 2,
      min: 0,
      max: 64,
      integer: true,
      description: 'CPU-bound processes using VFP/NEON',
    },
    intProcs: {
      default: 1,
      min: 0,
      max: 64,
      integer: true,
      description: 'CPU-bound integer-only processes',
    },
    tid3: {
      default: 1,
      min: 0,
      max: 1,
      integer: true,
      description:
        '1: the hypervisor traps ID-register reads (HCR_EL2.TID3, as KVM does), so the VFP save/load MVFR0 reads exit (CP10_ID)',
    },
  },
  derive(base, p) {
    const n = p.vfpProcs + p.intProcs;
    const w = clone(base);
    const vm = w.vms[0];
    withHost(w, p);
    vm.vcpus = derived(p.vcpus, `workload parameter vcpus=${p.vcpus}`, false);
    // The modelled vCPU runs its share of the tasks (vCPUs beyond the tasks would idle).
    const perCpu = Math.max(1, n / p.vcpus);
    const hz = vm.hz.value;
    vm.scheduler.switchesPerSec = derived(
      cfsSwitchesPerSec(perCpu, p.vcpus, hz),
      `CFS (kernel/sched/fair.c): ${perCpu.toFixed(2)} CPU-bound tasks per vCPU, slice max(6 ms x s / n, 0.75 ms x s), s = 1 + ilog2(vcpus); check_preempt_tick switches at the first ${hz} Hz tick after it`,
      false,
    );
    vm.tasks.simdShare = derived(
      n > 0 ? p.vfpProcs / n : 0,
      'vfpProcs / (vfpProcs + intProcs): CFS gives equal-weight tasks equal slices',
      false,
    );
    vm.trapsIdRegs = p.tid3 === 1;
    w.description = `${p.vfpProcs} VFP-heavy and ${p.intProcs} integer processes on ${p.vcpus} vCPU(s) of an AArch32 (armhf) guest${p.tid3 === 1 ? ', ID-register reads trapped (MVFR0 reads in VFP save/load exit as CP10_ID)' : ''} (derived: src/stream/guest-configs.ts)`;
    return w;
  },
};

/** An idle guest: wake-ups for timers, RCU and kernel threads, now and then a daemon. */
const idle: WorkloadTemplate = {
  name: 'idle',
  summary: 'an idle AArch64 guest: timer and RCU wake-ups, now and then a user task',
  params: {
    vcpus: COMMON.vcpus,
    preempt: { ...COMMON.preempt, default: 0 },
    tickoff: COMMON.tickoff,
    wakeups: {
      default: 50,
      min: 0.01,
      max: 1e6,
      description: 'wake-ups from idle per second per vCPU (timers, RCU, daemons)',
    },
    userwake: {
      default: 0.1,
      min: 0,
      max: 1,
      description: 'share of wake-ups that run a user task (0: a guest with no user task)',
    },
  },
  derive(base, p) {
    const w = clone(base);
    const vm = w.vms[0];
    withHost(w, p);
    vm.vcpus = derived(p.vcpus, `workload parameter vcpus=${p.vcpus}`, false);
    vm.idle.meanIdleUs = derived(
      1e6 / p.wakeups,
      `1e6 / ${p.wakeups} wake-ups per second (workload parameter wakeups)`,
    );
    vm.idle.userWakeShare = derived(p.userwake, `workload parameter userwake=${p.userwake}`);
    w.description = `an idle ${p.vcpus}-vCPU AArch64 guest, ${p.wakeups} wake-ups per second per vCPU, ${p.userwake} of them running a user task (derived: src/stream/guest-configs.ts)`;
    return w;
  },
};

/** The parametrised built-ins by name. */
export const WORKLOAD_TEMPLATES: readonly WorkloadTemplate[] = [
  hackbench,
  lmbenchCtx,
  lmbenchSyscall,
  fpHeavyAarch32,
  idle,
];

export function workloadTemplate(name: string): WorkloadTemplate | undefined {
  return WORKLOAD_TEMPLATES.find((t) => t.name === name);
}
