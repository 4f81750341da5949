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
 * Speed: the input is read in 1 MB buffers and split into lines in place; an event line
 * is parsed in bytes (trace-scan.ts) and only the rare lines the byte parser does not take
 * become strings for the regular-expression parser (trace-parse.ts), with the same result.
 * A kvm_exit's fields are classified once per distinct "TYPE: HSR_EC: 0x.. (NAME)" text.
 *
 * The stream models one physical CPU. With a multi-CPU trace, `pcpu` keeps the events of
 * one CPU (its host scheduling is then real); without it, the runs of all threads are
 * interleaved in time order as if they shared one CPU. Per-run designs (eager, lazy-*)
 * do not depend on the interleaving; lazy-vcpu's vcpu_put/load costs do.
 */

import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { exitKey, HANDLED, type Handled } from '../cpu/profile.js';
import type { VcpuDesc } from '../policy/types.js';
import { UserError, userText } from '../util/errors.js';
import type { ExitStream } from './exit-stream.js';
import { KvmStat, type StatTime } from './kvm-stat.js';
import { encodeRunClass } from '../machine/run-class.js';
import { RunSpool } from './spool.js';
import type { TraceFpModel, TraceRunPcs } from './trace-fp.js';
import { COLD, EV, type EvCode, HOT, LineRecords, ScanNames, scanLines } from './trace-scan.js';
import {
  importWorkers,
  InlineScanner,
  type ScanRequest,
  type ScanResult,
  ScanWorkers,
} from './trace-scan-pool.js';
import {
  type KvmExit,
  kvmEntryProblem,
  kvmPcHex,
  kvmUserspaceReason,
  parseKvmExit,
  parseTraceLine,
  pcProblem,
  schedSwitchPrev,
} from './trace-parse.js';

interface ImportOptions {
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
  /**
   * Worker threads that scan a regular file's lines (0: this thread); the result is the
   * same whatever the count. Default: importWorkers().
   */
  readonly workers?: number;
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

interface TraceImport {
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

/** A run waiting for its thread's next event (pooled: reused once emitted as final). */
interface Pending {
  vcpu: number;
  code: number;
  label: string;
  runNs: number;
  exitNs: number;
  pcs: TraceRunPcs | undefined;
  /** kvm_exit to the thread's next kvm_entry (perf kvm stat's x86 event time); unset until then. */
  handledNs: number | undefined;
  user: boolean;
  /** The thread was switched out before its next entry (vcpu_put). */
  put: boolean;
  final: boolean;
}

interface ThreadState {
  readonly info: TraceThread;
  readonly key: string;
  entryNs: number;
  /** PC of the open kvm_entry (when the FP model reads PCs). */
  entryPc: bigint;
  lastNs: number;
  pending?: Pending;
}

/** One event line, parsed: the fields the importer needs, strings made only when needed. */
interface LineEvent {
  readonly cpu: number;
  readonly tid: number;
  readonly ns: number;
  readonly event: EvCode;
  /** The thread's key `comm-tid`, made on demand. */
  key(): string;
  comm(): string;
  /** The trimmed fields after `event:`. */
  body(): string;
}

function newCounts(): ImportCounts {
  return {
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
}

function newPending(): Pending {
  return {
    vcpu: 0,
    code: 0,
    label: '',
    runNs: 0,
    exitNs: 0,
    pcs: undefined,
    handledNs: undefined,
    user: false,
    put: false,
    final: false,
  };
}

const EVENT_CODES: Record<string, EvCode> = {
  kvm_entry: EV.entry,
  kvm_exit: EV.exit,
  kvm_userspace_exit: EV.userspace,
  sched_switch: EV.sched,
};

/**
 * A line's event from the byte scan: one record of a LineRecords (valid during the line).
 * Its HOT slots are loaded into fields; the COLD ones (text positions, the tid) are read
 * only when asked for.
 */
class ScannedLine implements LineEvent {
  buf: Buffer = Buffer.alloc(0);
  cpu = 0;
  ns = 0;
  event: EvCode = EV.other;
  /** HOT.x: a kvm_entry's plain PC (1); a kvm_exit's text number (-1: not plain). */
  x = 0;
  /** HOT.thread: the number given by the scanner `source`. */
  thread = 0;
  source = 0;
  private i32: Int32Array = new Int32Array(0);
  private f64: Float64Array = new Float64Array(0);
  /** Where the line's COLD slots and tid are. */
  private cold = 0;
  private tidAt = 0;

  /** Loads record `k` of `r` (a capacity of `cap` lines), whose lines are in `buf`. */
  load(i32: Int32Array, f64: Float64Array, cap: number, k: number): void {
    const h = k * HOT.stride;
    this.event = (i32[h + HOT.kind] - 1) as EvCode;
    this.cpu = i32[h + HOT.cpu];
    this.thread = i32[h + HOT.thread];
    this.x = i32[h + HOT.x];
    this.ns = f64[k];
    this.i32 = i32;
    this.f64 = f64;
    this.cold = cap * HOT.stride + k * COLD.stride;
    this.tidAt = cap + k;
  }
  get tid(): number {
    return this.f64[this.tidAt];
  }
  get bodyStart(): number {
    return this.i32[this.cold + COLD.bodyStart];
  }
  comm(): string {
    const c = this.cold;
    return this.buf
      .toString('latin1', this.i32[c + COLD.commStart], this.i32[c + COLD.commEnd])
      .trim();
  }
  key(): string {
    return `${this.comm()}-${this.tid}`;
  }
  body(): string {
    const c = this.cold;
    return this.buf.toString('latin1', this.i32[c + COLD.bodyStart], this.i32[c + COLD.bodyEnd]);
  }
}

/** The importer's state over one trace: threads, runs waiting for their handling, counts. */
class TraceImporter {
  readonly counts = newCounts();
  readonly stats: KvmStat;
  readonly infos: TraceThread[] = [];
  readonly spool = new RunSpool();
  firstBad: string | undefined;
  private readonly threads = new Map<string, ThreadState>();
  /** The same threads by tid (sched_switch names the thread it switches out by pid). */
  private readonly byTid = new Map<number, ThreadState>();
  /** Threads by the numbers each scanner gave them ([source][number]): no key string per line. */
  private readonly threadByNumber: (ThreadState | undefined)[][] = [];
  private readonly queue: Pending[] = [];
  /** Emitted runs no thread refers to any more, for reuse (no object per run to collect). */
  private readonly freePending: Pending[] = [];
  private head = 0;
  private readonly usesPcs: boolean;
  private readonly userExits: ReadonlySet<number>;
  private readonly maxVcpus: number;
  /** kvm_exit classification by the text before ", PC:" (few distinct values in a trace). */
  private readonly exitClasses = new Map<string, KvmExit>();
  private readonly scanned = new ScannedLine();
  /** Valid exit classes by the numbers each scanner gave their texts before ", PC:". */
  private readonly exitByNumber: (KvmExit | undefined)[][] = [];

  readonly fp: TraceFpModel;

  constructor(
    readonly file: string,
    private readonly opts: ImportOptions,
  ) {
    this.fp = opts.fp;
    this.stats = new KvmStat(opts.statTime ?? 'run');
    this.usesPcs = opts.fp.usesPcs === true;
    this.userExits = opts.userExits ?? new Set<number>();
    this.maxVcpus = opts.maxVcpus ?? 64;
  }

  /** A bad line: stops the import, or (with skipBad) is counted and the first one kept. */
  private bad(line: number, reason: string): void {
    const where = `${userText(this.file)}:${line}: ${reason}`;
    if (!this.opts.skipBad) throw new UserError(where);
    this.counts.badLines++;
    this.firstBad ??= where;
  }

  /**
   * The lines of buffer `b` scanned into `r` (scanLines, here or in a worker), in order:
   * byte-scanned events applied from their records, the other lines parsed as text.
   */
  replay(b: Buffer, r: Pick<ScanResult, 'source' | 'n' | 'i32' | 'f64'>): void {
    const sc = this.scanned;
    sc.buf = b;
    sc.source = r.source;
    const { i32, f64 } = r;
    const cap = f64.length / 2;
    for (let k = 0; k < r.n; k++) {
      const lineNo = ++this.counts.lines;
      if (i32[k * HOT.stride + HOT.kind] !== 0) {
        sc.load(i32, f64, cap, k);
        this.event(sc, lineNo);
      } else {
        const c = cap * HOT.stride + k * COLD.stride;
        this.slowLine(b.toString('utf8', i32[c + COLD.start], i32[c + COLD.end]), lineNo);
      }
    }
  }

  /** A line the byte scan left to the regular-expression parser. */
  slowLine(text: string, lineNo: number): void {
    const parsed = parseTraceLine(text);
    if (parsed.kind === 'lost') this.counts.lostEvents += parsed.events;
    else if (parsed.kind === 'bad') this.bad(lineNo, parsed.reason);
    else if (parsed.kind !== 'event') this.counts.nonEventLines++;
    else {
      const ev: LineEvent = {
        cpu: parsed.cpu,
        tid: parsed.tid,
        ns: parsed.ns,
        event: EVENT_CODES[parsed.event] ?? EV.other,
        key: () => `${parsed.comm}-${parsed.tid}`,
        comm: () => parsed.comm,
        body: () => parsed.body,
      };
      this.event(ev, lineNo);
    }
  }

  /** One event line: other events counted (sched_switch marks a vcpu_put), KVM events applied. */
  private event(ev: LineEvent, lineNo: number): void {
    const { pcpu } = this.opts;
    if (ev.event === EV.other || ev.event === EV.sched) {
      this.counts.otherEvents++;
      if (ev.event === EV.sched && (pcpu === undefined || ev.cpu === pcpu))
        this.schedSwitch(ev, lineNo);
      return;
    }
    if (pcpu !== undefined && ev.cpu !== pcpu) {
      this.counts.otherCpuEvents++;
      return;
    }
    // Validate the fields before touching any state, so a skipped bad line changes nothing.
    let exit: KvmExit | undefined;
    if (ev.event === EV.exit) {
      exit = this.exitClass(ev);
      if (!exit.ok) {
        this.bad(lineNo, exit.reason);
        return;
      }
    } else if (ev.event === EV.entry) {
      const problem = this.entryProblem(ev);
      if (problem) {
        this.bad(lineNo, problem);
        return;
      }
    } else if (kvmUserspaceReason(ev.body()) === undefined) {
      this.bad(
        lineNo,
        `malformed kvm_userspace_exit fields "${userText(ev.body())}" (expected "reason KVM_EXIT_... (n)")`,
      );
      return;
    }
    const t = this.thread(ev, lineNo);
    if (!t) return;
    t.lastNs = ev.ns;
    if (ev.event === EV.entry) this.entry(t, ev);
    else if (ev.event === EV.exit)
      this.exit(t, ev, exit as { ok: true; code: number; label: string });
    else {
      this.counts.userspaceExits++;
      if (t.pending) t.pending.user = true;
    }
  }

  private schedSwitch(ev: LineEvent, lineNo: number): void {
    this.counts.schedSwitches++;
    const prev = schedSwitchPrev(ev.body());
    if (prev === undefined) {
      this.bad(
        lineNo,
        `malformed sched_switch fields "${userText(ev.body())}" (expected "prev_comm=... prev_pid=N ... ==> ...")`,
      );
      return;
    }
    // Switched out between an exit and the next entry: kvm_sched_out -> vcpu_put.
    const t = this.byTid.get(prev);
    if (t?.pending) t.pending.put = true;
  }

  /** The kvm_exit's class, looked up by its text before ", PC: 0x<hex>" when the PC is plain. */
  private exitClass(ev: LineEvent): KvmExit {
    const sc = this.scanned;
    if (ev !== sc || sc.x < 0) return this.exitClassOfText(ev.body());
    // The scanner numbered the text before the plain tail: the class is known by number.
    const table = (this.exitByNumber[sc.source] ??= []);
    const known = table[sc.x];
    if (known) return known;
    const x = this.exitClassOfText(ev.body());
    if (x.ok) table[sc.x] = x;
    return x;
  }

  /** The class of a kvm_exit's fields text, cached by the text before ", PC: 0x<hex>". */
  private exitClassOfText(body: string): KvmExit {
    const at = body.lastIndexOf(', PC: 0x');
    if (at < 0 || !/^[0-9a-fA-F]+$/.test(body.slice(at + 8))) return parseKvmExit(body);
    const prefix = body.slice(0, at);
    let x = this.exitClasses.get(prefix);
    if (x === undefined) {
      x = parseKvmExit(`${prefix}, PC: 0x0`);
      if (this.exitClasses.size < 4096) this.exitClasses.set(prefix, x);
    }
    if (!x.ok) return parseKvmExit(body);
    const pc = pcProblem(body.slice(at + 8));
    return pc ? { ok: false, reason: pc } : x;
  }

  private entryProblem(ev: LineEvent): string | undefined {
    if (ev === this.scanned && this.scanned.x === 1) return undefined;
    return kvmEntryProblem(ev.body());
  }

  /** The event's thread (made on first sight); undefined when the line was bad. */
  private thread(ev: LineEvent, lineNo: number): ThreadState | undefined {
    let t = this.knownThread(ev);
    if (t && ev.ns < t.lastNs) {
      this.bad(
        lineNo,
        `timestamp goes backwards for thread ${userText(t.key)} (${(ev.ns / 1e9).toFixed(6)} s after ${(t.lastNs / 1e9).toFixed(6)} s)`,
      );
      return undefined;
    }
    if (t) return t;
    if (this.infos.length >= this.maxVcpus) {
      throw new UserError(
        `${userText(this.file)}:${lineNo}: more than ${this.maxVcpus} vCPU threads (raise --max-vcpus, or keep one physical CPU with --pcpu)`,
      );
    }
    const info: TraceThread = { comm: ev.comm(), tid: ev.tid, vcpu: this.infos.length, runs: 0 };
    this.infos.push(info);
    t = { info, key: ev.key(), entryNs: -1, entryPc: 0n, lastNs: ev.ns };
    this.threads.set(t.key, t);
    this.byTid.set(ev.tid, t);
    return t;
  }

  /** The thread of `ev` if seen before: by the scanner's number first, by key string otherwise. */
  private knownThread(ev: LineEvent): ThreadState | undefined {
    const sc = this.scanned;
    if (ev !== sc) return this.threads.get(ev.key());
    const table = (this.threadByNumber[sc.source] ??= []);
    const t = table[sc.thread] ?? this.threads.get(ev.key());
    if (t) table[sc.thread] = t;
    return t;
  }

  private entry(t: ThreadState, ev: LineEvent): void {
    this.counts.entries++;
    if (t.pending) {
      t.pending.handledNs = ev.ns - t.pending.exitNs;
      t.pending.final = true;
      t.pending = undefined;
      this.emit();
    }
    if (t.entryNs >= 0) this.counts.entriesWithoutExit++;
    t.entryNs = ev.ns;
    if (this.usesPcs) t.entryPc = BigInt(`0x${kvmPcHex(ev.body())}`);
  }

  private exit(t: ThreadState, ev: LineEvent, x: { code: number; label: string }): void {
    this.counts.exits++;
    if (t.entryNs < 0) {
      this.counts.exitsWithoutEntry++;
      return;
    }
    const runNs = ev.ns - t.entryNs;
    t.entryNs = -1;
    t.info.runs++;
    const pcs = this.usesPcs
      ? { entry: t.entryPc, exit: BigInt(`0x${kvmPcHex(ev.body())}`) }
      : undefined;
    const p = this.freePending.pop() ?? newPending();
    p.vcpu = t.info.vcpu;
    p.code = x.code;
    p.label = x.label;
    p.runNs = runNs;
    p.exitNs = ev.ns;
    p.pcs = pcs;
    p.handledNs = undefined;
    p.user = false;
    p.put = false;
    p.final = false;
    t.pending = p;
    this.queue.push(p);
  }

  /**
   * Runs leave in exit order; a run waits until its thread's next event says where it was
   * handled. A thread that never enters again (a VM shut down, a long halt) would hold
   * every later run back: past MAX_BACKLOG waiting runs the oldest leaves with what it
   * knows, so memory stays flat and the work linear.
   */
  private emit(): void {
    const { queue, counts } = this;
    while (
      this.head < queue.length &&
      (queue[this.head].final || queue.length - this.head > MAX_BACKLOG)
    ) {
      const p = queue[this.head++];
      if (!p.final) counts.runsDecidedEarly++;
      const handled: Handled = p.user || this.userExits.has(p.code) ? HANDLED.user : HANDLED.kernel;
      const fp = this.opts.fp.runBits(p.vcpu, p.runNs, p.code, p.pcs);
      // An exit to userspace ends KVM_RUN, which puts the vCPU anyway (lifecycle.ts exitGuest).
      const put = p.put && handled !== HANDLED.user;
      if (put) counts.vcpuPuts++;
      // perf kvm stat's table: known only now whether the exit was completed in userspace.
      const statNs = this.stats.time === 'run' ? p.runNs : p.handledNs;
      if (statNs !== undefined) this.stats.add(p.label, statNs, p.vcpu, handled === HANDLED.user);
      this.spool.push(
        encodeRunClass(p.vcpu, fp, handled, false, put),
        exitKey(p.code, handled),
        p.runNs,
      );
      counts.runs++;
      // A run emitted early is still its thread's pending run: only final ones are free.
      if (p.final) this.freePending.push(p);
    }
    if (this.head > 4096 && this.head * 2 > queue.length) {
      queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The trace ends: runs still waiting for their thread's next event keep what they know. */
  finish(): void {
    for (let k = this.head; k < this.queue.length; k++) this.queue[k].final = true;
    this.emit();
    this.spool.finish();
  }

  /** A trace that imported nothing usable is a UserError saying why. */
  checkUsable(): void {
    const { counts, file, opts } = this;
    if (counts.lines === 0 || counts.lines === counts.nonEventLines)
      throw new UserError(`${userText(file)}: empty trace (no event lines)`);
    if (counts.entries + counts.exits === 0) {
      throw new UserError(
        `${userText(file)}: no kvm_entry/kvm_exit events in ${counts.lines} lines (${counts.otherEvents} other events${opts.pcpu !== undefined ? `, ${counts.otherCpuEvents} on other CPUs than ${opts.pcpu}` : ''}); record kvm:kvm_entry and kvm:kvm_exit`,
      );
    }
    if (counts.runs === 0) {
      throw new UserError(
        `${userText(file)}: no complete guest run (a kvm_entry followed by a kvm_exit of the same thread)`,
      );
    }
  }
}

/** Splits a stream's chunks into regions of whole lines, scanned and replayed in this thread. */
class LineSplitter {
  private carry: Buffer | undefined;
  private readonly records = new LineRecords();
  private readonly names = new ScanNames();

  constructor(private readonly importer: TraceImporter) {}

  /** A chunk of input: its complete lines now, the unfinished last one kept for later. */
  push(chunk: Buffer): void {
    let b = chunk;
    if (this.carry) {
      b = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    const last = b.lastIndexOf(10);
    if (last >= 0) this.complete(b, last + 1, false);
    if (last + 1 < b.length) this.carry = Buffer.from(b.subarray(last + 1));
  }

  private complete(b: Buffer, end: number, final: boolean): void {
    const r = this.records;
    scanLines(b, end, final, r, this.names);
    this.importer.replay(b, { source: 0, n: r.n, i32: r.i32, f64: r.f64 });
  }

  /** The input ends: its last line may have no line break. */
  end(): void {
    if (this.carry) this.complete(this.carry, this.carry.length, true);
    this.carry = undefined;
  }
}

/**
 * Input names and sources: a regular file is read with synchronous reads into one reused
 * buffer (no thread hop, no allocation per chunk); a FIFO, /dev/stdin, /dev/fd/N, `-` or a
 * stream is read as a stream.
 */
function openTrace(input: string | Readable): { file: string; stream?: Readable; path?: string } {
  if (typeof input !== 'string') return { file: '<stream>', stream: input };
  if (input === '-') return { file: '<stdin>', stream: process.stdin };
  let regular: boolean;
  try {
    const st = statSync(input);
    if (st.isDirectory()) throw new UserError(`${userText(input)}: not a file (a directory)`);
    regular = st.isFile();
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${userText(input)}: cannot read trace${code ? ` (${code})` : ''}`);
  }
  if (regular) return { file: input, path: input };
  return { file: input, stream: createReadStream(input, { highWaterMark: 1 << 20 }) };
}

/**
 * Bytes read at a time from a regular file: 1 MB in one thread; 4 MB for scan workers
 * (fewer messages between the threads: each costs about 0.2 ms there and back).
 */
const CHUNK = 1 << 20;
const WORKER_CHUNK = 4 << 20;

/**
 * The next region of whole lines of `fd` after the unfinished line `carry`, in a buffer
 * of `chunk` bytes from the free list (or a bigger one for a line longer than that); at
 * the end of the file the last unfinished line (final) or nothing.
 */
function readRegion(
  fd: number,
  carry: Buffer,
  free: ArrayBuffer[],
  chunk: number,
): { req?: ScanRequest; carry: Buffer } {
  for (;;) {
    const size = Math.max(chunk, carry.length * 2);
    const ab = size === chunk ? (free.pop() ?? new ArrayBuffer(chunk)) : new ArrayBuffer(size);
    const buf = Buffer.from(ab);
    carry.copy(buf, 0);
    const got = readSync(fd, buf, carry.length, size - carry.length, null);
    const end = carry.length + got;
    if (got === 0) {
      if (end === 0) free.push(ab);
      return { req: end > 0 ? { buf: ab, end, final: true } : undefined, carry: Buffer.alloc(0) };
    }
    const last = buf.lastIndexOf(10, end - 1);
    if (last >= 0) {
      const rest = Buffer.from(buf.subarray(last + 1, end));
      return { req: { buf: ab, end: last + 1, final: false }, carry: rest };
    }
    carry = Buffer.from(buf.subarray(0, end));
    if (size === chunk) free.push(ab);
  }
}

/**
 * Feeds a regular file to the importer in regions of whole lines, scanned in this
 * thread or by `workers` worker threads (several regions in flight, replayed in file
 * order, so the result is the same whatever the worker count).
 */
async function feedFile(path: string, imp: TraceImporter, workers: number): Promise<void> {
  const fd = openSync(path, 'r');
  const scanner = workers > 0 ? new ScanWorkers(workers) : new InlineScanner();
  const depth = workers > 0 ? 2 * workers + 1 : 1;
  const chunk = workers > 0 ? WORKER_CHUNK : CHUNK;
  const inflight: Promise<ScanResult>[] = [];
  const free: ArrayBuffer[] = [];
  let carry: Buffer = Buffer.alloc(0);
  let eof = false;
  try {
    for (let n = 1; ; n++) {
      while (!eof && inflight.length < depth) {
        const next = readRegion(fd, carry, free, chunk);
        carry = next.carry;
        if (next.req) inflight.push(scanner.scan(next.req));
        eof = next.req === undefined || next.req.final;
      }
      const pending = inflight.shift();
      if (pending === undefined) break;
      const r = await pending;
      imp.replay(Buffer.from(r.buf), r);
      scanner.recycle(r);
      if (r.buf.byteLength === chunk) free.push(r.buf);
      // Signal handlers (the spool's clean-up on SIGINT) run between buffers.
      if (workers === 0 && n % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    closeSync(fd);
    await scanner.close();
  }
}

/**
 * Reads a trace from a file path (regular file, named pipe, `/dev/stdin`, a process
 * substitution's `/dev/fd/N`), `-` (stdin), or a stream, and spools its runs.
 * Cost: one pass over the bytes; memory bounded by MAX_BACKLOG runs and one buffer.
 */
export async function importTrace(
  input: string | Readable,
  opts: ImportOptions,
): Promise<TraceImport> {
  const { file, stream, path } = openTrace(input);
  const imp = new TraceImporter(file, opts);
  try {
    if (path !== undefined) await feedFile(path, imp, opts.workers ?? importWorkers(path));
    else {
      const lines = new LineSplitter(imp);
      for await (const chunk of stream as AsyncIterable<Buffer | string>)
        lines.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      lines.end();
    }
    imp.finish();
    imp.checkUsable();
  } catch (e) {
    imp.spool.dispose();
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string')
      throw new UserError(`${userText(file)}: cannot read trace (${code})`);
    throw e;
  }
  return importResult(input, imp);
}

function importResult(input: string | Readable, imp: TraceImporter): TraceImport {
  const vcpus: VcpuDesc[] = imp.infos.map((info) => ({
    id: info.vcpu,
    vm: 0,
    aarch32: imp.fp.aarch32(info.vcpu),
  }));
  const base =
    typeof input === 'string' && input !== '-' ? (input.split('/').pop() ?? input) : imp.file;
  return {
    file: imp.file,
    stream: imp.spool.stream(`trace ${base}`, vcpus),
    counts: imp.counts,
    stats: imp.stats,
    threads: imp.infos,
    firstBad: imp.firstBad,
    dispose: () => {
      imp.spool.dispose();
    },
  };
}
