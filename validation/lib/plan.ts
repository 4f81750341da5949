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

export type El1Width = 'aarch64' | 'aarch32';

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

export interface LinuxWorkload {
  kind: 'linux';
  tag: number;
  name: string;
  /** fpsw-bench arguments */
  args: string[];
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

/**
 * Workload sizes. Under -icount (1 ns per instruction) guest time is short for the same work
 * (10,000 null syscalls are ~5 ms: one or two timer exits), so the icount boots run more
 * work to see a few hundred exits; without -icount, timers run ~100x fast relative to the
 * work and a small workload already sees hundreds of exits.
 */
export function linuxWorkloads(quick: boolean, icount: boolean): LinuxWorkload[] {
  const size = (q: number, qi: number, f: number, fi: number): string =>
    String(quick ? (icount ? qi : q) : icount ? fi : f);
  return [
    {
      kind: 'linux',
      tag: 20,
      name: 'null-syscall',
      args: ['nullsys', size(10000, 300000, 50000, 2000000)],
    },
    {
      kind: 'linux',
      tag: 21,
      name: 'pipe-pingpong',
      args: ['pipe', size(1000, 20000, 5000, 100000)],
    },
    {
      kind: 'linux',
      tag: 22,
      name: 'hackbench',
      args: ['run', 'hackbench', '-g', '2', '-l', size(20, 100, 50, 400)],
    },
    { kind: 'linux', tag: 23, name: 'idle', args: ['idle', size(1000, 1000, 3000, 3000)] },
  ];
}

/** kvm events for the Linux L2 run: everything but the per-entry debug/timer noise */
export const L2_EVENTS = [
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

const PREAMBLE = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmp /tmp
`;

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
  if (plan.scripted.length) {
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
  if (plan.linux.length) {
    s.push(`echo 32768 > $T/buffer_size_kb
for e in ${L2_EVENTS.join(' ')}; do [ -e $T/events/kvm/$e/enable ] && echo 1 > $T/events/kvm/$e/enable; done
echo 1 > $T/events/sched/sched_switch/enable
echo "@@FPSW RUN 100 linux-l2"
echo > $T/trace; echo 1 > $T/tracing_on
timeout ${plan.stepTimeoutSec} /bin/qemu-system-aarch64 -M virt,gic-version=3 -cpu host -enable-kvm -smp 1 -m ${plan.l2MemMiB} \\
  -display none -nodefaults -no-user-config -serial stdio -monitor none -nic none \\
  -kernel /l2/Image -initrd /l2/initrd.cpio -append "console=ttyAMA0 rdinit=/init quiet loglevel=3" </dev/null
rc=$?
echo 0 > $T/tracing_on
dump_trace 100
step_end 100 $rc
`);
  }
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
out=$(FPSW_TAG=${w.tag} fpsw-bench ${w.args.join(' ')} 2>&1); rc=$?
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
