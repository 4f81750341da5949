// What runs inside L1: the scripted guests (our VMM) and the Linux L2 guest's workloads,
// and the /init scripts that run them and talk to the harness over the console.
//
// Console protocol (L1 init -> harness), one line each:
//   @@FPSW L1-UP <uptime>            @@FPSW KVM <the kernel's "kvm [1]: ... mode" line>
//   @@FPSW SYM <addr> <type> <name>  (calibration boot: /proc/kallsyms lines we need)
//   @@FPSW RUN <tag> <name>          a step starts
//   @@FPSW TRACE-BEGIN <tag> gzip-base64 ... the tracefs text, gzipped, in base64 ... @@FPSW TRACE-END <tag>
//   @@FPSW STEP-END <tag> rc=<n> uptime=<s>
//   @@FPSW DONE
// L2's init prints "@@L2 ..." lines that reach the console through the in-L1 QEMU.

type El1Width = 'aarch64' | 'aarch32';

export interface ScriptedProgram {
  kind: 'scripted';
  tag: number;
  name: string;
  el1: El1Width;
  /** guest variant bits (guest64.S / guest32.S) */
  variant: number;
  fp: boolean;
  exit: 'hvc' | 'mmio';
  fpexcToggle: boolean;
}

/**
 * The guest configuration of a Linux cell, recorded with its results and per-run fixtures:
 * the workload model derives exit and switch rates from it (issue 11).
 */
interface GuestConfig {
  /** L2's vCPUs (-smp of the in-L1 QEMU) */
  vcpus: number;
  /** the benchmark: null-syscall, pipe-pingpong, hackbench, idle; fp-mix (armhf guest) */
  bench: 'null-syscall' | 'pipe-pingpong' | 'hackbench' | 'idle' | 'fp-mix';
  /** the guest kernel's width (default aarch64): aarch32 is the armhf guest */
  el1?: El1Width;
  /** fp-mix: VFP-heavy and integer-only processes */
  fpTasks?: number;
  intTasks?: number;
  /** hackbench: groups (-g), fds per group (-f), loops (-l), message size in bytes (-s) */
  groups?: number;
  fds?: number;
  loops?: number;
  messageSize?: number;
  /** hackbench: processes or threads; pipe: two processes */
  tasksAre?: 'process' | 'thread';
  /** runnable tasks the workload creates (hackbench: 2 x groups x fds; pipe: 2; null: 1) */
  tasks: number;
  /** null-syscall: getppid calls; pipe: round trips; idle: milliseconds */
  iterations?: number;
  /** pipe: L2 CPUs the two processes are pinned to (sched_setaffinity), e.g. [0, 0] or [0, 1] */
  pinned?: number[];
}

export interface LinuxWorkload {
  kind: 'linux';
  tag: number;
  name: string;
  /** arguments of the L2 program (fpsw-bench, or fpsw-bench32 for the armhf guest) */
  args: string[];
  guest: GuestConfig;
  program?: 'fpsw-bench' | 'fpsw-bench32';
}

/** An L2 Linux workload run by fpsw-bench: its window tag, name, arguments and guest. */
function linuxWorkload(
  tag: number,
  name: string,
  args: string[],
  guest: GuestConfig,
): LinuxWorkload {
  return { kind: 'linux', tag, name, args, guest };
}

function scripted(tag: number, el1: El1Width, variant: number): ScriptedProgram {
  const fp = (variant & 1) !== 0;
  const exit = variant & 2 ? 'mmio' : 'hvc';
  const fpexcToggle = (variant & 4) !== 0;
  const name = `${el1 === 'aarch64' ? 'a64' : 'a32'}/${fpexcToggle ? 'fpexc-' : ''}${fp ? 'fp-' : ''}${exit}`;
  return { kind: 'scripted', tag, name, el1, variant, fp, exit, fpexcToggle };
}

export const SCRIPTED: ScriptedProgram[] = [
  scripted(1, 'aarch64', 0),
  scripted(2, 'aarch64', 1),
  scripted(3, 'aarch64', 2),
  scripted(4, 'aarch64', 3),
  scripted(5, 'aarch32', 0),
  scripted(6, 'aarch32', 1),
  scripted(7, 'aarch32', 2),
  scripted(8, 'aarch32', 3),
  scripted(9, 'aarch32', 5),
  scripted(10, 'aarch32', 7),
];

/** hackbench's defaults (rt-tests 2.4 hackbench.c): 20 fds per group, 100-byte messages */
const HACKBENCH_FDS = 20;
const HACKBENCH_DATASIZE = 100;

function nullSyscall(tag: number, name: string, vcpus: number, n: number): LinuxWorkload {
  const guest: GuestConfig = { vcpus, bench: 'null-syscall', tasks: 1, iterations: n };
  return linuxWorkload(tag, name, ['nullsys', String(n)], guest);
}

function pipePingpong(
  tag: number,
  name: string,
  vcpus: number,
  n: number,
  pinned?: [number, number],
): LinuxWorkload {
  return linuxWorkload(tag, name, ['pipe', String(n), ...(pinned ? pinned.map(String) : [])], {
    vcpus,
    bench: 'pipe-pingpong',
    tasks: 2,
    tasksAre: 'process',
    iterations: n,
    pinned,
  });
}

function hackbench(
  tag: number,
  name: string,
  vcpus: number,
  groups: number,
  loops: number,
  tasksAre: 'process' | 'thread' = 'process',
): LinuxWorkload {
  return linuxWorkload(
    tag,
    name,
    [
      'run',
      'hackbench',
      ...(tasksAre === 'thread' ? ['-T'] : []),
      '-g',
      String(groups),
      '-l',
      String(loops),
    ],
    {
      vcpus,
      bench: 'hackbench',
      groups,
      fds: HACKBENCH_FDS,
      loops,
      messageSize: HACKBENCH_DATASIZE,
      tasksAre,
      tasks: 2 * groups * HACKBENCH_FDS,
    },
  );
}

function idle(tag: number, name: string, vcpus: number, ms: number): LinuxWorkload {
  const guest: GuestConfig = { vcpus, bench: 'idle', tasks: 0, iterations: ms };
  return linuxWorkload(tag, name, ['idle', String(ms)], guest);
}

/**
 * Workload sizes. Under -icount (1 ns per instruction) guest time is short for the same work
 * (10,000 null syscalls are ~5 ms: one or two timer exits), so the icount boots run more
 * work to see a few hundred exits; without -icount, timers run ~100x fast relative to the
 * work and a small workload already sees hundreds of exits.
 */
export function linuxWorkloads(quick: boolean, icount: boolean): LinuxWorkload[] {
  const size = (q: number, qi: number, f: number, fi: number): number =>
    quick ? (icount ? qi : q) : icount ? fi : f;
  return [
    nullSyscall(20, 'null-syscall', 1, size(10000, 300000, 50000, 2000000)),
    pipePingpong(21, 'pipe-pingpong', 1, size(1000, 20000, 5000, 100000)),
    hackbench(22, 'hackbench', 1, 2, size(20, 100, 50, 400)),
    idle(23, 'idle', 1, size(1000, 1000, 3000, 3000)),
  ];
}

/**
 * The wider matrix (issue 11), all under -icount, in two L1 boots: L2 with 1 vCPU (L1
 * -smp 1) and with 2 vCPUs (L1 -smp 2); hackbench -g 1/2/4 in process mode and -g 2 in thread mode, pipe ping-pong
 * on one vCPU and split over two, null syscall, idle. Sized from the full run's rates
 * (~500 exits per second of guest time per busy vCPU: L1's and L2's 250 Hz ticks) so each
 * cell has >= 1,000 runs in its window: ~2.2 s of guest time on one vCPU; the same work on
 * two vCPUs takes about half the time with two vCPUs exiting (plus their IPIs). The idle
 * guest is tickless (176 exits in 30 s on one vCPU), so it idles 210 s, which costs little
 * wall time: -icount sleep=off jumps an idle guest's clock to its next timer. `scale` shrinks them
 * for a smoke test. Tags 30-49.
 */
export function matrixWorkloads(scale = 1): LinuxWorkload[] {
  const w: LinuxWorkload[] = [];
  const k = (n: number): number => Math.max(1, Math.round(n * scale));
  for (const v of [1, 2]) {
    const t = v === 1 ? 30 : 40;
    const n = (base: string): string => `${base}-v${v}`;
    w.push(
      hackbench(t, n('hackbench-p-g1'), v, 1, k(900)),
      hackbench(t + 1, n('hackbench-p-g2'), v, 2, k(450)),
      hackbench(t + 2, n('hackbench-p-g4'), v, 4, k(225)),
      hackbench(t + 3, n('hackbench-t-g2'), v, 2, k(450), 'thread'),
      pipePingpong(t + 4, n('pipe-same'), v, k(150000), [0, 0]),
      nullSyscall(t + 5, n('null-syscall'), v, k(5000000)),
      idle(t + 6, n('idle'), v, k(210000)),
    );
    if (v === 2) w.push(pipePingpong(t + 7, n('pipe-split'), v, k(5000), [0, 1]));
  }
  return w;
}

/**
 * The armhf guest (issue 11): Debian's armmp-lpae kernel under the in-L1 QEMU with
 * `-cpu host,aarch64=off`, one vCPU, two VFP-heavy processes next to an integer one
 * (guest/bench32.c): the configuration of the built-in `fp-heavy-aarch32`. ~2.5 s of guest
 * time: >= 1,000 runs at ~500 exits per second. Tag 50.
 */
export function armhfWorkloads(scale = 1): LinuxWorkload[] {
  const ms = Math.max(20, Math.round(2500 * scale));
  return [
    {
      kind: 'linux',
      tag: 50,
      name: 'fp-heavy-aarch32',
      program: 'fpsw-bench32',
      args: ['mix', String(ms), '2', '1'],
      guest: {
        vcpus: 1,
        el1: 'aarch32',
        bench: 'fp-mix',
        tasks: 3,
        fpTasks: 2,
        intTasks: 1,
        iterations: ms,
      },
    },
  ];
}

export interface L2Group {
  /** the L1 step that runs it (its trace) */
  step: number;
  vcpus: number;
  el1: El1Width;
  /** its initramfs inside L1 */
  initrd: string;
  workloads: LinuxWorkload[];
}

/** The in-L1 QEMU runs of a plan: one per L2 vCPU count and kernel width, each a step with its own trace. */
export function l2Groups(workloads: LinuxWorkload[]): L2Group[] {
  const key = (w: LinuxWorkload): string => `${w.guest.el1 ?? 'aarch64'}/${w.guest.vcpus}`;
  const keys = [...new Set(workloads.map(key))].sort();
  return keys.map((k) => {
    const ws = workloads.filter((w) => key(w) === k);
    const { vcpus } = ws[0].guest;
    const el1 = ws[0].guest.el1 ?? 'aarch64';
    const a32 = el1 === 'aarch32';
    return {
      step: a32 ? 110 : 99 + vcpus,
      vcpus,
      el1,
      initrd: a32 ? 'l2/initrd-a32.cpio' : `l2/initrd-smp${vcpus}.cpio`,
      workloads: ws,
    };
  });
}

/** kvm events for the Linux L2 run: everything but the per-entry debug/timer noise */
const L2_EVENTS = [
  'kvm_entry',
  'kvm_exit',
  'kvm_userspace_exit',
  'kvm_mmio',
  'kvm_hvc_arm64',
  'kvm_wfx_arm64',
  'kvm_guest_fault',
  'kvm_sys_access',
  'kvm_handle_sys_reg',
  'kvm_irq_line',
  'kvm_vcpu_wakeup',
  'kvm_access_fault',
  'vgic_update_irq_pending',
];

export const CALIBRATION_SYMBOLS = [
  '_stext',
  '_etext',
  '__guest_enter',
  '__kvm_nvhe___guest_enter',
  '__kvm_vcpu_run',
  '__kvm_nvhe___kvm_vcpu_run',
  '__switch_to',
];

export interface L1Plan {
  calibrate: boolean;
  scripted: ScriptedProgram[];
  iterations: number;
  linux: LinuxWorkload[];
  /** per-step time limit inside L1 (the VMM's alarm; the harness has its own per boot) */
  stepTimeoutSec: number;
  l2MemMiB: number;
}

/** the name of the L2 step that runs L2 with `vcpus` vCPUs (trace file names) */
export function l2StepName(vcpus: number, el1: El1Width = 'aarch64'): string {
  if (el1 === 'aarch32') return 'linux-l2-armhf';
  return vcpus === 1 ? 'linux-l2' : `linux-l2-smp${vcpus}`;
}

const PREAMBLE = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmp /tmp
`;

/** The scripted guests' steps: each VMM run traced with every kvm event and sched_switch. */
function scriptedSteps(plan: L1Plan, s: string[]): void {
  if (!plan.scripted.length) return;
  // sched_switch: a vCPU thread switched out between an exit and its next entry is a
  // vcpu_put (kvm_sched_out), which no kvm event shows; the importer needs it.
  s.push(`echo 8192 > $T/buffer_size_kb
echo 1 > $T/events/kvm/enable
echo 1 > $T/events/sched/sched_switch/enable
`);
  for (const p of plan.scripted) {
    const img = p.el1 === 'aarch64' ? '/guest/guest64.bin' : '/guest/guest32.bin';
    const w = p.el1 === 'aarch64' ? 'a64' : 'a32';
    s.push(`echo "@@FPSW RUN ${p.tag} ${p.name}"
echo > $T/trace; echo 1 > $T/tracing_on
/bin/vmm ${img} ${w} ${p.variant} ${plan.iterations} ${plan.stepTimeoutSec} ${p.tag}
rc=$?
echo 0 > $T/tracing_on
dump_trace ${p.tag}
step_end ${p.tag} $rc
`);
  }
  s.push(`echo 0 > $T/events/kvm/enable; echo 0 > $T/events/sched/sched_switch/enable\n`);
}

/** The Linux L2 steps: one in-L1 QEMU run per L2 group (vCPU count, kernel width). */
function linuxSteps(plan: L1Plan, s: string[]): void {
  if (!plan.linux.length) return;
  s.push(`echo 32768 > $T/buffer_size_kb
for e in ${L2_EVENTS.join(' ')}; do [ -e $T/events/kvm/$e/enable ] && echo 1 > $T/events/kvm/$e/enable; done
echo 1 > $T/events/sched/sched_switch/enable
`);
  // L2 boots with nokaslr: its __switch_to is then at L1's (same kernel) VA, which the
  // plugin counts as the guest's task switches (it tells L1's code from L2's by host address).
  // The armhf guest: a 32-bit EL1 (-cpu host,aarch64=off: KVM_ARM_VCPU_EL1_32BIT), its
  // zImage, highmem=off (no 64-bit MMIO regions for a 32-bit kernel).
  for (const g of l2Groups(plan.linux)) {
    const a32 = g.el1 === 'aarch32';
    const machine = a32 ? 'virt,gic-version=3,highmem=off' : 'virt,gic-version=3';
    const cpu = a32 ? 'host,aarch64=off,sve=off' : 'host';
    const kernel = a32 ? '/l2/zImage32' : '/l2/Image';
    s.push(`echo "@@FPSW RUN ${g.step} ${l2StepName(g.vcpus, g.el1)}"
echo > $T/trace; echo 1 > $T/tracing_on
timeout ${plan.stepTimeoutSec} /bin/qemu-system-aarch64 -M ${machine} -cpu ${cpu} -enable-kvm -smp ${g.vcpus} -m ${plan.l2MemMiB} \\
  -display none -nodefaults -no-user-config -serial stdio -monitor none -nic none \\
  -kernel ${kernel} -initrd /${g.initrd} -append "console=ttyAMA0 rdinit=/init quiet loglevel=3 nokaslr" </dev/null
rc=$?
echo 0 > $T/tracing_on
dump_trace ${g.step}
step_end ${g.step} $rc
`);
  }
}

/** L1's /init: set-up, the calibration symbols, the scripted steps, the Linux L2 steps. */
export function l1Init(plan: L1Plan): string {
  const s: string[] = [PREAMBLE];
  s.push(`mount -t tracefs nodev /sys/kernel/tracing
echo 1 4 1 7 > /proc/sys/kernel/printk
T=/sys/kernel/tracing
echo "@@FPSW L1-UP $(cut -d' ' -f1 /proc/uptime)"
echo "@@FPSW KVM $(dmesg | grep -E 'kvm \\[[0-9]+\\]: .*(mode initialized|Hyp mode)' | tail -1)"
[ -c /dev/kvm ] || echo "@@FPSW ERROR no /dev/kvm in L1"
step_end() { echo "@@FPSW STEP-END $1 rc=$2 uptime=$(cut -d' ' -f1 /proc/uptime)"; }
# the serial console moves ~150 KB/s under TCG: send the trace gzipped, in base64
dump_trace() {
  echo "@@FPSW TRACE-BEGIN $1 gzip-base64"
  gzip -1 -c $T/trace | base64
  echo "@@FPSW TRACE-END $1"
}
`);
  if (plan.calibrate) {
    s.push(
      `sort /proc/kallsyms | grep -A1 -E ' (${CALIBRATION_SYMBOLS.join('|')})$' | sed 's/^/@@FPSW SYM /'\n`,
    );
  }
  scriptedSteps(plan, s);
  linuxSteps(plan, s);
  s.push(`echo "@@FPSW DONE"
poweroff -f
`);
  return s.join('');
}

export function l2Init(workloads: LinuxWorkload[]): string {
  const s: string[] = [PREAMBLE];
  s.push(`echo "@@L2 UP $(cut -d' ' -f1 /proc/uptime)"\n`);
  for (const w of workloads) {
    s.push(`echo "@@L2 RUN ${w.tag} ${w.name}"
out=$(FPSW_TAG=${w.tag} ${w.program ?? 'fpsw-bench'} ${w.args.join(' ')} 2>&1); rc=$?
echo "$out" | sed 's/^/@@L2 OUT ${w.tag} /'
[ -f /tmp/run.out ] && sed 's/^/@@L2 OUT ${w.tag} /' /tmp/run.out && rm -f /tmp/run.out
echo "@@L2 END ${w.tag} rc=$rc"
`);
  }
  s.push(`echo "@@L2 DONE $(cut -d' ' -f1 /proc/uptime)"
poweroff -f
`);
  return s.join('');
}
