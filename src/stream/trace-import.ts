/**
 * Import of real KVM arm64 traces (`perf script`, `trace-cmd report`, tracefs text) into an
 * ExitStream. The text is read line by line (node:readline over a stream: constant memory
 * on multi-GB input); each vCPU thread (comm-tid) is one vCPU; a run is a kvm_entry and
 * the same thread's next kvm_exit (length = exit time - entry time, exit class from the
 * exception type and EC). Where an exit was handled: host userspace when the thread's
 * next event is a kvm_userspace_exit (or the exit class is in `userExits`), the kernel
 * otherwise (exits handled at EL2 never reach the kvm_exit tracepoint). A vcpu_put after
 * an exit handled in the kernel: a sched_switch away from the vCPU thread before its
 * next kvm_entry (the host preempted it, or it blocked in WFI: kvm_sched_out ->
 * kvm_arch_vcpu_put); a trace without sched_switch events shows no such put. FP use comes
 * from the chosen FP model (trace-fp.ts). Runs are spooled to disk in exit order
 * (spool.ts) and replayed once per simulated policy.
 *
 * The stream models one physical CPU. With a multi-CPU trace, `pcpu` keeps the events of
 * one CPU (its host scheduling is then real); without it, the runs of all threads are
 * interleaved in time order as if they shared one CPU. Per-run designs (eager, lazy-*)
 * do not depend on the interleaving; lazy-vcpu's vcpu_put/load costs do.
 */

import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { exitKey, HANDLED, type Handled } from '../cpu/profile.js';
import type { VcpuDesc } from '../policy/types.js';
import { UserError } from '../util/errors.js';
import type { ExitStream } from './exit-stream.js';
import { KvmStat, type StatTime } from './kvm-stat.js';
import { encodeRunClass } from '../machine/run-class.js';
import { RunSpool } from './spool.js';
import type { TraceFpModel, TraceRunPcs } from './trace-fp.js';
import {
  kvmEntryOk,
  kvmPcHex,
  kvmUserspaceReason,
  parseKvmExit,
  parseTraceLine,
  schedSwitchPrev,
} from './trace-parse.js';

export interface ImportOptions {
  /** The FP model that decides each run's FP bits. */
  readonly fp: TraceFpModel;
  /** Exit classes handled in host userspace when no kvm_userspace_exit says so. */
  readonly userExits?: ReadonlySet<number>;
  /** Keep only events recorded on this physical CPU. */
  readonly pcpu?: number;
  /** Count bad lines and carry on instead of stopping at the first. */
  readonly skipBad?: boolean;
  /** Most vCPU threads accepted (default 64). */
  readonly maxVcpus?: number;
  /** Which time the perf-kvm-stat table measures (default: guest run time). */
  readonly statTime?: StatTime;
}

/** Runs that may wait for their thread's next event before the oldest is emitted anyway. */
export const MAX_BACKLOG = 1 << 16;

export interface ImportCounts {
  lines: number;
  entries: number;
  exits: number;
  userspaceExits: number;
  /** Event lines of other events (sched_switch, kvm_vcpu_wakeup, ...): ignored, except as below. */
  otherEvents: number;
  /** sched_switch events (counted in otherEvents too). */
  schedSwitches: number;
  /** vcpu_puts seen as a sched_switch away from a vCPU thread between an exit handled in the kernel and its next entry. */
  vcpuPuts: number;
  /** Blank, comment and report-header lines, call-chain frames: ignored. */
  nonEventLines: number;
  /** Events on other physical CPUs (with `pcpu`): ignored. */
  otherCpuEvents: number;
  /** Events the tracer lost (`[LOST n EVENTS]` markers): runs around them may be missing. */
  lostEvents: number;
  badLines: number;
  /** kvm_exit with no earlier kvm_entry on its thread (the trace started mid-run). */
  exitsWithoutEntry: number;
  /** kvm_entry followed by another kvm_entry on its thread (a lost exit). */
  entriesWithoutExit: number;
  /**
   * Runs emitted before their thread's next event (its thread went quiet while more than
   * MAX_BACKLOG other runs arrived): whether a vcpu_put or a userspace exit followed is
   * what was known by then.
   */
  runsDecidedEarly: number;
  runs: number;
}

export interface TraceThread {
  readonly comm: string;
  readonly tid: number;
  readonly vcpu: number;
  runs: number;
}

export interface TraceImport {
  readonly file: string;
  readonly stream: ExitStream;
  readonly counts: ImportCounts;
  readonly stats: KvmStat;
  readonly threads: readonly TraceThread[];
  /** The first bad line skipped (with --skip-bad), as `file:line: reason`. */
  readonly firstBad?: string;
  /** Deletes the run spool. */
  dispose(): void;
}

interface Pending {
  readonly vcpu: number;
  readonly code: number;
  readonly label: string;
  readonly runNs: number;
  readonly exitNs: number;
  readonly pcs?: TraceRunPcs;
  user: boolean;
  /** The thread was switched out before its next entry (vcpu_put). */
  put: boolean;
  final: boolean;
}

interface ThreadState {
  readonly info: TraceThread;
  entryNs: number;
  /** PC of the open kvm_entry (when the FP model reads PCs). */
  entryPc: bigint;
  lastNs: number;
  pending?: Pending;
}

/** Reads a trace from a file path or `-` (stdin), or from a stream. */
export async function importTrace(
  input: string | Readable,
  opts: ImportOptions,
): Promise<TraceImport> {
  const file = typeof input === 'string' ? (input === '-' ? '<stdin>' : input) : '<stream>';
  let stream: Readable;
  if (typeof input !== 'string') stream = input;
  else if (input === '-') stream = process.stdin;
  else {
    try {
      if (!statSync(input).isFile()) throw new UserError(`${file}: not a file`);
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(`${file}: cannot read trace${code ? ` (${code})` : ''}`);
    }
    stream = createReadStream(input);
  }

  const maxVcpus = opts.maxVcpus ?? 64;
  const userExits = opts.userExits ?? new Set<number>();
  const stats = new KvmStat(opts.statTime ?? 'run');
  const counts: ImportCounts = {
    lines: 0,
    entries: 0,
    exits: 0,
    userspaceExits: 0,
    otherEvents: 0,
    schedSwitches: 0,
    vcpuPuts: 0,
    nonEventLines: 0,
    otherCpuEvents: 0,
    lostEvents: 0,
    badLines: 0,
    exitsWithoutEntry: 0,
    entriesWithoutExit: 0,
    runsDecidedEarly: 0,
    runs: 0,
  };
  const threads = new Map<string, ThreadState>();
  /** The same threads by tid (sched_switch names the thread it switches out by pid). */
  const byTid = new Map<number, ThreadState>();
  const usesPcs = opts.fp.usesPcs === true;
  const infos: TraceThread[] = [];
  const queue: Pending[] = [];
  const spool = new RunSpool();
  let firstBad: string | undefined;

  const bad = (line: number, reason: string) => {
    const where = `${file}:${line}: ${reason}`;
    if (!opts.skipBad) throw new UserError(where);
    counts.badLines++;
    firstBad ??= where;
  };
  let head = 0;
  const emit = () => {
    // Runs leave in exit order; a run waits until its thread's next event says where it was
    // handled. A thread that never enters again (a VM shut down, a long halt) would hold
    // every later run back: past MAX_BACKLOG waiting runs the oldest leaves with what it
    // knows, so memory stays flat and the work linear.
    while (head < queue.length && (queue[head].final || queue.length - head > MAX_BACKLOG)) {
      const p = queue[head++];
      if (!p.final) counts.runsDecidedEarly++;
      const handled: Handled = p.user || userExits.has(p.code) ? HANDLED.user : HANDLED.kernel;
      const fp = opts.fp.runBits(p.vcpu, p.runNs, p.code, p.pcs);
      // An exit to userspace ends KVM_RUN, which puts the vCPU anyway (lifecycle.ts exitGuest).
      const put = p.put && handled !== HANDLED.user;
      if (put) counts.vcpuPuts++;
      spool.push(
        encodeRunClass(p.vcpu, fp, handled, false, put),
        exitKey(p.code, handled),
        p.runNs,
      );
      counts.runs++;
    }
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  };

  try {
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    for await (const text of rl) {
      const lineNo = ++counts.lines;
      const parsed = parseTraceLine(text);
      if (parsed.kind === 'lost') {
        counts.lostEvents += parsed.events;
        continue;
      }
      if (parsed.kind === 'bad') {
        bad(lineNo, parsed.reason);
        continue;
      }
      if (parsed.kind !== 'event') {
        counts.nonEventLines++;
        continue;
      }
      const ev = parsed.event;
      if (ev !== 'kvm_entry' && ev !== 'kvm_exit' && ev !== 'kvm_userspace_exit') {
        counts.otherEvents++;
        if (ev === 'sched_switch' && (opts.pcpu === undefined || parsed.cpu === opts.pcpu)) {
          counts.schedSwitches++;
          const prev = schedSwitchPrev(parsed.body);
          if (prev === undefined) {
            bad(
              lineNo,
              `malformed sched_switch fields "${parsed.body}" (expected "prev_comm=... prev_pid=N ... ==> ...")`,
            );
            continue;
          }
          // Switched out between an exit and the next entry: kvm_sched_out -> vcpu_put.
          const t = byTid.get(prev);
          if (t?.pending) t.pending.put = true;
        }
        continue;
      }
      if (opts.pcpu !== undefined && parsed.cpu !== opts.pcpu) {
        counts.otherCpuEvents++;
        continue;
      }
      // Validate the fields before touching any state, so a skipped bad line changes nothing.
      let exit: ReturnType<typeof parseKvmExit> | undefined;
      if (ev === 'kvm_exit') {
        exit = parseKvmExit(parsed.body);
        if (!exit.ok) {
          bad(lineNo, exit.reason);
          continue;
        }
      } else if (ev === 'kvm_entry' && !kvmEntryOk(parsed.body)) {
        bad(lineNo, `malformed kvm_entry fields "${parsed.body}" (expected "PC: 0x...")`);
        continue;
      } else if (ev === 'kvm_userspace_exit' && kvmUserspaceReason(parsed.body) === undefined) {
        bad(
          lineNo,
          `malformed kvm_userspace_exit fields "${parsed.body}" (expected "reason KVM_EXIT_... (n)")`,
        );
        continue;
      }
      const key = `${parsed.comm}-${parsed.tid}`;
      let t = threads.get(key);
      if (t && parsed.ns < t.lastNs) {
        bad(
          lineNo,
          `timestamp goes backwards for thread ${key} (${(parsed.ns / 1e9).toFixed(6)} s after ${(t.lastNs / 1e9).toFixed(6)} s)`,
        );
        continue;
      }
      if (!t) {
        if (infos.length >= maxVcpus) {
          throw new UserError(
            `${file}:${lineNo}: more than ${maxVcpus} vCPU threads (raise --max-vcpus, or keep one physical CPU with --pcpu)`,
          );
        }
        const info: TraceThread = {
          comm: parsed.comm,
          tid: parsed.tid,
          vcpu: infos.length,
          runs: 0,
        };
        infos.push(info);
        threads.set(key, (t = { info, entryNs: -1, entryPc: 0n, lastNs: parsed.ns }));
        byTid.set(parsed.tid, t);
      }
      t.lastNs = parsed.ns;
      if (ev === 'kvm_entry') {
        counts.entries++;
        if (t.pending) {
          if (stats.time === 'handled') stats.add(t.pending.label, parsed.ns - t.pending.exitNs);
          t.pending.final = true;
          t.pending = undefined;
          emit();
        }
        if (t.entryNs >= 0) counts.entriesWithoutExit++;
        t.entryNs = parsed.ns;
        if (usesPcs) t.entryPc = BigInt(`0x${kvmPcHex(parsed.body)}`);
      } else if (ev === 'kvm_exit') {
        counts.exits++;
        if (t.entryNs < 0) {
          counts.exitsWithoutEntry++;
          continue;
        }
        const x = exit as { ok: true; code: number; label: string };
        const runNs = parsed.ns - t.entryNs;
        t.entryNs = -1;
        t.info.runs++;
        if (stats.time === 'run') stats.add(x.label, runNs);
        const pcs = usesPcs
          ? { entry: t.entryPc, exit: BigInt(`0x${kvmPcHex(parsed.body)}`) }
          : undefined;
        const p: Pending = {
          vcpu: t.info.vcpu,
          code: x.code,
          label: x.label,
          runNs,
          exitNs: parsed.ns,
          pcs,
          user: false,
          put: false,
          final: false,
        };
        t.pending = p;
        queue.push(p);
      } else {
        counts.userspaceExits++;
        if (t.pending) t.pending.user = true;
      }
    }
    // The trace ends: runs still waiting for their thread's next event keep what they know.
    for (let k = head; k < queue.length; k++) queue[k].final = true;
    emit();
    spool.finish();
  } catch (e) {
    spool.dispose();
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw new UserError(`${file}: cannot read trace (${code})`);
    throw e;
  }

  if (counts.lines === 0 || counts.lines === counts.nonEventLines) {
    spool.dispose();
    throw new UserError(`${file}: empty trace (no event lines)`);
  }
  if (counts.entries + counts.exits === 0) {
    spool.dispose();
    throw new UserError(
      `${file}: no kvm_entry/kvm_exit events in ${counts.lines} lines (${counts.otherEvents} other events${opts.pcpu !== undefined ? `, ${counts.otherCpuEvents} on other CPUs than ${opts.pcpu}` : ''}); record kvm:kvm_entry and kvm:kvm_exit`,
    );
  }
  if (counts.runs === 0) {
    spool.dispose();
    throw new UserError(
      `${file}: no complete guest run (a kvm_entry followed by a kvm_exit of the same thread)`,
    );
  }
  const vcpus: VcpuDesc[] = infos.map((info) => ({
    id: info.vcpu,
    vm: 0,
    aarch32: opts.fp.aarch32(info.vcpu),
  }));
  const base =
    typeof input === 'string' && input !== '-' ? (input.split('/').at(-1) ?? file) : file;
  return {
    file,
    stream: spool.stream(`trace ${base}`, vcpus),
    counts,
    stats,
    threads: infos,
    firstBad,
    dispose: () => spool.dispose(),
  };
}
