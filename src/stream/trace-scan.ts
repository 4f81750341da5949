/**
 * The byte-level fast path of the trace parser: an event line is split where it lies in
 * the read buffer, without making a string of it or running a regular expression, so
 * import runs near the speed of reading the file. It accepts only lines whose parse is
 * unambiguous in bytes (ASCII, the usual shapes of perf script, trace-cmd report and
 * tracefs); anything else (headers, odd spacing, non-ASCII, a line that may be bad)
 * returns false and goes through `parseTraceLine` (trace-parse.ts), whose result the
 * fast path reproduces exactly (a property test feeds both random and mutated lines).
 */

import { isAscii } from 'node:buffer';
import { MAX_TRACE_SECONDS } from './trace-parse.js';

/** The event of a line, as a small code (names compared in bytes). */
export const EV = { other: 0, entry: 1, exit: 2, userspace: 3, sched: 4 } as const;
export type EvCode = (typeof EV)[keyof typeof EV];

/** Where the parts of one event line lie in its buffer (reused from line to line). */
interface ScannedEvent {
  commStart: number;
  commEnd: number;
  tid: number;
  cpu: number;
  ns: number;
  event: EvCode;
  /** The event name (without `kvm:`), for EV.other only its bounds matter. */
  eventStart: number;
  eventEnd: number;
  /** The trimmed fields after `event:`. */
  bodyStart: number;
  bodyEnd: number;
}

/** A fresh, reusable ScannedEvent. */
export function scannedEvent(): ScannedEvent {
  return {
    commStart: 0,
    commEnd: 0,
    tid: 0,
    cpu: 0,
    ns: 0,
    event: EV.other,
    eventStart: 0,
    eventEnd: 0,
    bodyStart: 0,
    bodyEnd: 0,
  };
}

// ASCII white space as the regular expression's \s sees it in ASCII text.
function isWs(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
// [0-9a-fA-F], as a table (called only on bytes inside the line, so never with undefined).
const HEX_CHAR = new Uint8Array(256);
for (let c = 0; c < 128; c++) if (/[0-9a-fA-F]/.test(String.fromCharCode(c))) HEX_CHAR[c] = 1;
function isHex(c: number): boolean {
  return HEX_CHAR[c] === 1;
}
// [\w:.-], as a table: the event name's loop is the scanner's longest (called only on
// bytes inside the line, so never with undefined).
const EVENT_CHAR = new Uint8Array(256);
for (let c = 0; c < 128; c++) if (/[\w:.-]/.test(String.fromCharCode(c))) EVENT_CHAR[c] = 1;
function isEventChar(c: number): boolean {
  return EVENT_CHAR[c] === 1;
}

/**
 * The event code of the name `b[s, e)`: kvm_entry, kvm_exit, kvm_userspace_exit or
 * sched_switch, else EV.other (told apart by length and a few bytes, then confirmed).
 */
function eventCode(b: Buffer, s: number, e: number): EvCode {
  switch (e - s) {
    case 9:
      return b[s + 4] === 0x65 && same(b, s, KVM_ENTRY) ? EV.entry : EV.other;
    case 8:
      return b[s + 5] === 0x78 && same(b, s, KVM_EXIT) ? EV.exit : EV.other;
    case 18:
      return b[s + 4] === 0x75 && same(b, s, KVM_USERSPACE_EXIT) ? EV.userspace : EV.other;
    case 12:
      return b[s] === 0x73 && same(b, s, SCHED_SWITCH) ? EV.sched : EV.other;
    default:
      return EV.other;
  }
}
const KVM_ENTRY = Buffer.from('kvm_entry', 'latin1');
const KVM_EXIT = Buffer.from('kvm_exit', 'latin1');
const KVM_USERSPACE_EXIT = Buffer.from('kvm_userspace_exit', 'latin1');
const SCHED_SWITCH = Buffer.from('sched_switch', 'latin1');

/** Whether `name` is at `b[s...]` (the caller checked the length). */
function same(b: Buffer, s: number, name: Buffer): boolean {
  for (let k = 0; k < name.length; k++) if (b[s + k] !== name[k]) return false;
  return true;
}

/**
 * -1 for a line that parseTraceLine would not treat as an event (a header, a call-chain
 * frame) or whose first bytes need its regular expressions: left to the slow path. Else
 * where the line's leading white space ends.
 */
function slowPathOrStart(b: Buffer, s: number, e: number): number {
  let i = s;
  while (i < e && isWs(b[i])) i++;
  if (i === e || b[i] === 0x23 /* # */) return -1;
  // perf script -g frame: indented, six or more hex digits, white space.
  if (i > s) {
    let h = i;
    while (h < e && isHex(b[h]) && !(b[h] >= 0x41 && b[h] <= 0x46)) h++;
    if (h - i >= 6 && h < e && isWs(b[h])) return -1;
  }
  return i;
}

/**
 * `<comm>[-\s]<tid>[/<tid>]\s+` backwards from the `[` at `bracket`: sets comm and tid.
 * Returns false when the shape is not the plain one (a tgid column, no separator).
 */
function scanThread(
  b: Buffer,
  s: number,
  first: number,
  bracket: number,
  out: ScannedEvent,
): boolean {
  let i = bracket - 1;
  if (i < s || !isWs(b[i])) return false;
  while (i >= s && isWs(b[i])) i--;
  const lastEnd = i + 1;
  while (i >= s && isDigit(b[i])) i--;
  if (i + 1 === lastEnd || lastEnd - (i + 1) > 15) return false;
  let tid = 0;
  for (let k = i + 1; k < lastEnd; k++) tid = tid * 10 + b[k] - 0x30;
  if (i >= s && b[i] === 0x2f /* / */) {
    const firstEnd = i;
    i--;
    while (i >= s && isDigit(b[i])) i--;
    if (i + 1 === firstEnd) return false;
  }
  // The separator, and at least one character of comm before it.
  if (i <= s || !(b[i] === 0x2d || isWs(b[i]))) return false;
  // The comm from its first non-blank byte (importers trim it, so the thread is the same,
  // and the recent-thread check compares fewer bytes); empty when all of it is blank.
  out.commStart = first < i ? first : i;
  out.commEnd = i;
  out.tid = tid;
  return true;
}

/** 10 ** k for k = 0..9 (exact), without a call to Math.pow per line. */
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/** `secs.frac:` at `i`; sets ns and returns the index after the colon, or -1. */
function scanTimestamp(b: Buffer, i: number, e: number, out: ScannedEvent): number {
  let secs = 0;
  const s0 = i;
  while (i < e && isDigit(b[i])) {
    secs = secs * 10 + b[i] - 0x30;
    i++;
  }
  if (i === s0 || i >= e || b[i] !== 0x2e || secs >= MAX_TRACE_SECONDS) return -1;
  i++;
  const f0 = i;
  let frac = 0;
  while (i < e && isDigit(b[i])) {
    frac = frac * 10 + b[i] - 0x30;
    i++;
  }
  const digits = i - f0;
  if (digits === 0 || digits > 9 || i >= e || b[i] !== 0x3a) return -1;
  out.ns = secs * 1e9 + frac * POW10[9 - digits];
  return i + 1;
}

const KVM_ENTRY_COLON = Buffer.from('kvm_entry:', 'latin1');
const KVM_EXIT_COLON = Buffer.from('kvm_exit:', 'latin1');

/**
 * Where "kvm_entry:" or "kvm_exit:" at `n0` ends when it is followed by white space or
 * the line's end `e` (the two names of nearly every line), else 0.
 */
function knownEventEnd(b: Buffer, n0: number, e: number): number {
  const c = b[n0 + 5];
  const name = c === 0x6e ? KVM_ENTRY_COLON : c === 0x78 ? KVM_EXIT_COLON : undefined;
  if (name === undefined) return 0;
  const end = n0 + name.length;
  if (end > e || !same(b, n0, name) || (end < e && !isWs(b[end]))) return 0;
  return end;
}

/** `event:` then optional white space and fields; sets event and body bounds. */
function scanEventAndBody(b: Buffer, i: number, e: number, out: ScannedEvent): boolean {
  const n0 = i;
  const known = knownEventEnd(b, n0, e);
  if (known > 0) {
    // What the loop below finds for these names, with one comparison.
    i = known;
    out.eventStart = n0;
    out.eventEnd = i - 1;
    out.event = b[n0 + 5] === 0x6e ? EV.entry : EV.exit;
  } else {
    while (i < e && isEventChar(b[i])) i++;
    // The run must end in the event's colon, followed by white space or the line's end.
    if (i - n0 < 2 || b[i - 1] !== 0x3a || (i < e && !isWs(b[i]))) return false;
    let ns = n0;
    if (
      i - 1 - n0 >= 4 &&
      b[n0] === 0x6b &&
      b[n0 + 1] === 0x76 &&
      b[n0 + 2] === 0x6d &&
      b[n0 + 3] === 0x3a
    )
      ns = n0 + 4; // kvm:
    out.eventStart = ns;
    out.eventEnd = i - 1;
    out.event = eventCode(b, ns, i - 1);
  }
  while (i < e && isWs(b[i])) i++;
  let end = e;
  while (end > i && isWs(b[end - 1])) end--;
  out.bodyStart = i;
  out.bodyEnd = end;
  return true;
}

/**
 * Parses the ASCII line `b[s, e)` as an event line, filling `out`. Returns false when
 * the line must go through the slow path (parseTraceLine); true means parseTraceLine
 * would return exactly this event. Cost: one pass over the line's bytes.
 */
export function scanEventLine(b: Buffer, s: number, e: number, out: ScannedEvent): boolean {
  const first = slowPathOrStart(b, s, e);
  if (first < 0) return false;
  // The CPU column's '[' (a loop: near the start, where a native indexOf costs more; the
  // leading white space holds none).
  let bracket = first;
  while (bracket < e && b[bracket] !== 0x5b) bracket++;
  if (bracket >= e) return false;
  let i = bracket + 1;
  let cpu = 0;
  while (i < e && isDigit(b[i])) {
    cpu = cpu * 10 + b[i] - 0x30;
    i++;
  }
  if (i === bracket + 1 || i - bracket > 10 || i >= e || b[i] !== 0x5d /* ] */) return false;
  out.cpu = cpu;
  if (!scanThread(b, s, first, bracket, out)) return false;
  i++;
  if (i >= e || !isWs(b[i])) return false;
  while (i < e && isWs(b[i])) i++;
  // An optional flags column: a token of no white space or colon, then white space.
  let t = i;
  while (t < e && !isWs(b[t]) && b[t] !== 0x3a) t++;
  if (t < e && isWs(b[t])) {
    i = t;
    while (i < e && isWs(b[i])) i++;
  }
  i = scanTimestamp(b, i, e, out);
  if (i < 0 || i >= e || !isWs(b[i])) return false;
  while (i < e && isWs(b[i])) i++;
  return scanEventAndBody(b, i, e, out);
}

/** Whether `a` equals `b[s, e)`. */
function sameBytes(a: Buffer, b: Buffer, s: number, e: number): boolean {
  if (a.length !== e - s) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[s + i]) return false;
  return true;
}

/**
 * Whether `a` equals `b[s, e)`, compared from the end: exit texts share their beginning
 * ("TRAP: HSR_EC: 0x00") and differ in the name at the end, so a miss costs a few bytes.
 */
function sameBytesBackwards(a: Buffer, b: Buffer, s: number, e: number): boolean {
  const n = a.length;
  if (n !== e - s) return false;
  for (let i = n - 1; i >= 0; i--) if (a[i] !== b[s + i]) return false;
  return true;
}

/**
 * Backwards from the end of a scanned body over "0x<hex>": the start of the hex digits,
 * or -1 when the body does not end so or the PC has more than 16 significant digits.
 */
function pcStart(b: Buffer, bodyStart: number, bodyEnd: number): number {
  let i = bodyEnd;
  while (i > bodyStart && isHex(b[i - 1])) i--;
  if (i === bodyEnd || i - 2 < bodyStart || b[i - 1] !== 0x78 || b[i - 2] !== 0x30) return -1;
  let z = i;
  while (z < bodyEnd && b[z] === 0x30) z++;
  return bodyEnd - z > 16 ? -1 : i;
}

/** Whether a scanned kvm_entry's fields `b[s, e)` are exactly "PC:<ws>0x<hex>" with a 64-bit PC. */
function plainEntry(b: Buffer, s: number, e: number): boolean {
  const i = pcStart(b, s, e);
  if (i < 0) return false;
  let k = i - 2;
  if (k <= s + 3 || !isWs(b[k - 1])) return false;
  while (k > s && isWs(b[k - 1])) k--;
  return k === s + 3 && b[k - 3] === 0x50 && b[k - 2] === 0x43 && b[k - 1] === 0x3a;
}

/**
 * Where a scanned kvm_exit's "<ws>PC:<ws>0x<hex>" tail begins (at its comma) in the
 * fields `b[s, e)`, or -1 when the tail is not in that plain form (or the PC is wider
 * than 64 bits).
 */
function exitPrefixEnd(b: Buffer, s: number, e: number): number {
  const i = pcStart(b, s, e);
  if (i < 0) return -1;
  let k = i - 2;
  if (k <= s || !isWs(b[k - 1])) return -1;
  while (k > s && isWs(b[k - 1])) k--;
  if (k - 3 <= s || b[k - 1] !== 0x3a || b[k - 2] !== 0x43 || b[k - 3] !== 0x50) return -1;
  k -= 3;
  if (!isWs(b[k - 1])) return -1;
  while (k > s && isWs(b[k - 1])) k--;
  return k > s && b[k - 1] === 0x2c ? k - 1 : -1;
}

/**
 * Slots of one line in LineRecords. The replaying thread reads every line's HOT slots
 * (4 int32 and the timestamp: 24 bytes, so a worker's records cross between CPU caches
 * cheaply) and the COLD ones (positions in the buffer, the tid) only when it needs text:
 * - HOT.kind: 0 for a line the byte scan left to parseTraceLine, else 1 + its EvCode;
 * - HOT.thread: for a KVM event, the ScanNames number of its thread (comm and tid);
 * - HOT.x: for a kvm_entry 1 when its fields are a plain 64-bit PC (else 0); for a
 *   kvm_exit with a plain ", PC: 0x..." tail, the ScanNames number of its text before
 *   the tail (else -1);
 * - COLD: the line's bounds, its comm's and its fields' bounds.
 */
export const HOT = { kind: 0, cpu: 1, thread: 2, x: 3, stride: 4 } as const;
export const COLD = {
  start: 0,
  end: 1,
  commStart: 2,
  commEnd: 3,
  bodyStart: 4,
  bodyEnd: 5,
  stride: 6,
} as const;

/** Slots of ScanNames' table of recent threads (a power of two). */
const RECENT = 64;

/**
 * Numbers for the threads (comm and tid) and kvm_exit texts a scanner has met, in the
 * order met, so the importer finds a line's thread and exit class by index instead of
 * comparing bytes (numbers are per scanner: the importer keeps a table per scanner).
 */
export class ScanNames {
  /** The last comm bytes seen for a tid, with its number: most lines need no string. */
  private readonly lastOfTid = new Map<number, { tid: number; comm: Buffer; id: number }>();
  private readonly recent: ({ tid: number; comm: Buffer; id: number } | undefined)[] = new Array<
    { tid: number; comm: Buffer; id: number } | undefined
  >(RECENT).fill(undefined);
  private readonly threadIds = new Map<string, number>();
  private readonly exitTexts: Buffer[] = [];

  /** The number of the thread `comm-tid` of line `b` (its comm trimmed, as the importer keys threads). */
  thread(b: Buffer, ev: ScannedEvent): number {
    // A small table by the tid's low bits first (a trace has a few busy vCPU threads).
    const slot = ev.tid & (RECENT - 1);
    const recent = this.recent[slot];
    if (recent && recent.tid === ev.tid && sameBytes(recent.comm, b, ev.commStart, ev.commEnd))
      return recent.id;
    const last = this.lastOfTid.get(ev.tid);
    if (last && sameBytes(last.comm, b, ev.commStart, ev.commEnd)) {
      this.recent[slot] = last;
      return last.id;
    }
    const key = `${b.toString('latin1', ev.commStart, ev.commEnd).trim()}-${ev.tid}`;
    let id = this.threadIds.get(key);
    if (id === undefined) this.threadIds.set(key, (id = this.threadIds.size));
    const entry = { tid: ev.tid, comm: Buffer.from(b.subarray(ev.commStart, ev.commEnd)), id };
    this.lastOfTid.set(ev.tid, entry);
    this.recent[slot] = entry;
    return id;
  }

  /** The number of the exit text `b[s, e)` (a trace has a handful), or -1 past 64 of them. */
  exitText(b: Buffer, s: number, e: number): number {
    const known = this.exitTexts;
    for (let k = 0; k < known.length; k++) if (sameBytesBackwards(known[k], b, s, e)) return k;
    if (known.length >= 64) return -1;
    known.push(Buffer.from(b.subarray(s, e)));
    return known.length - 1;
  }
}

/**
 * The lines of one buffer region as flat records (no object per line), so they can be
 * made in a worker thread and replayed in order by the importer (trace-import.ts). For
 * a capacity of `cap` lines: i32 holds the HOT slots of every line, then the COLD ones
 * (from cap * HOT.stride); f64 the timestamps (ns), then the tids (from cap).
 */
export class LineRecords {
  n = 0;
  constructor(
    public i32: Int32Array = new Int32Array((HOT.stride + COLD.stride) * 16384),
    public f64: Float64Array = new Float64Array(2 * 16384),
  ) {
    this.cap = f64.length / 2;
  }

  /** Lines the arrays hold (a field, not a getter: read once per line). */
  cap: number;

  /** Twice the room, each part moved to its new place. */
  private grow(): void {
    const cap = this.cap;
    const i32 = new Int32Array(this.i32.length * 2);
    i32.set(this.i32.subarray(0, cap * HOT.stride));
    i32.set(this.i32.subarray(cap * HOT.stride), 2 * cap * HOT.stride);
    const f64 = new Float64Array(this.f64.length * 2);
    f64.set(this.f64.subarray(0, cap));
    f64.set(this.f64.subarray(cap), 2 * cap);
    this.i32 = i32;
    this.f64 = f64;
    this.cap = f64.length / 2;
  }

  /** Appends line `b[s, e)`, scanned in bytes when it is ASCII (`ascii`: known to be). */
  add(b: Buffer, s: number, e: number, ascii: boolean, ev: ScannedEvent, names: ScanNames): void {
    if (this.n === this.cap) this.grow();
    const k = this.n++;
    const { cap } = this;
    const { i32 } = this;
    const h = k * HOT.stride;
    const c = cap * HOT.stride + k * COLD.stride;
    i32[c + COLD.start] = s;
    i32[c + COLD.end] = e;
    if (!((ascii || isAscii(b.subarray(s, e))) && scanEventLine(b, s, e, ev))) {
      i32[h + HOT.kind] = 0;
      return;
    }
    i32[h + HOT.kind] = 1 + ev.event;
    i32[h + HOT.cpu] = ev.cpu;
    let x = 0;
    if (ev.event === EV.entry) x = Number(plainEntry(b, ev.bodyStart, ev.bodyEnd));
    else if (ev.event === EV.exit) {
      const comma = exitPrefixEnd(b, ev.bodyStart, ev.bodyEnd);
      x = comma >= 0 ? names.exitText(b, ev.bodyStart, comma) : -1;
    }
    i32[h + HOT.x] = x;
    if (ev.event !== EV.other && ev.event !== EV.sched) i32[h + HOT.thread] = names.thread(b, ev);
    i32[c + COLD.commStart] = ev.commStart;
    i32[c + COLD.commEnd] = ev.commEnd;
    i32[c + COLD.bodyStart] = ev.bodyStart;
    i32[c + COLD.bodyEnd] = ev.bodyEnd;
    this.f64[k] = ev.ns;
    this.f64[cap + k] = ev.tid;
  }
}

/** A line that may hold CRs: each CR ends a line too (a final CR belongs to CRLF). */
function crLines(
  b: Buffer,
  s: number,
  e: number,
  ascii: boolean,
  out: LineRecords,
  ev: ScannedEvent,
  names: ScanNames,
): void {
  let start = s;
  for (let cr = b.indexOf(13, s); cr >= 0 && cr < e; cr = b.indexOf(13, start)) {
    if (cr === e - 1) break;
    out.add(b, start, cr, ascii, ev, names);
    start = cr + 1;
  }
  out.add(b, start, e > start && b[e - 1] === 13 ? e - 1 : e, ascii, ev, names);
}

/**
 * Splits `b[0, end)` into lines (LF, CRLF or a lone CR end a line, as node:readline) and
 * scans each into `out` (cleared first), numbering threads and exit texts in `names`
 * (kept from region to region). `end` follows a line feed, or with `final` is
 * the end of the input (its last line may have no line break). Cost: one pass.
 */
export function scanLines(
  b: Buffer,
  end: number,
  final: boolean,
  out: LineRecords,
  names: ScanNames,
): void {
  out.n = 0;
  const ev = scannedEvent();
  const region = b.subarray(0, end);
  const ascii = isAscii(region);
  const hasCr = region.indexOf(13) >= 0;
  let s = 0;
  for (let nl = b.indexOf(10); nl >= 0 && nl < end; nl = b.indexOf(10, s)) {
    if (hasCr) crLines(b, s, nl, ascii, out, ev, names);
    else out.add(b, s, nl, ascii, ev, names);
    s = nl + 1;
  }
  if (final && s < end) crLines(b, s, end, ascii, out, ev, names);
}
