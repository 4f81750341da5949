/**
 * The byte-level fast path of the trace parser: an event line is split where it lies in
 * the read buffer, without making a string of it or running a regular expression, so
 * import runs near the speed of reading the file. It accepts only lines whose parse is
 * unambiguous in bytes (ASCII, the usual shapes of perf script, trace-cmd report and
 * tracefs); anything else (headers, odd spacing, non-ASCII, a line that may be bad)
 * returns false and goes through `parseTraceLine` (trace-parse.ts), whose result the
 * fast path reproduces exactly (a property test feeds both random and mutated lines).
 */

import { MAX_TRACE_SECONDS } from './trace-parse.js';

/** The event of a line, as a small code (names compared in bytes). */
export const EV = { other: 0, entry: 1, exit: 2, userspace: 3, sched: 4 } as const;
export type EvCode = (typeof EV)[keyof typeof EV];

/** Where the parts of one event line lie in its buffer (reused from line to line). */
export interface ScannedEvent {
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
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}
// [\w:.-]
function isEventChar(c: number): boolean {
  return (
    isDigit(c) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    c === 0x5f ||
    c === 0x3a ||
    c === 0x2e ||
    c === 0x2d
  );
}

const NAMES: readonly [string, EvCode][] = [
  ['kvm_entry', EV.entry],
  ['kvm_exit', EV.exit],
  ['kvm_userspace_exit', EV.userspace],
  ['sched_switch', EV.sched],
];
const NAME_BYTES = NAMES.map(([n, code]) => [Buffer.from(n, 'latin1'), code] as const);

function eventCode(b: Buffer, s: number, e: number): EvCode {
  for (const [name, code] of NAME_BYTES) {
    if (e - s !== name.length) continue;
    let k = 0;
    while (k < name.length && b[s + k] === name[k]) k++;
    if (k === name.length) return code;
  }
  return EV.other;
}

/**
 * A line that parseTraceLine would not treat as an event (a header, a call-chain frame)
 * or whose first bytes need its regular expressions: left to the slow path.
 */
function needsSlowPath(b: Buffer, s: number, e: number): boolean {
  let i = s;
  while (i < e && isWs(b[i])) i++;
  if (i === e || b[i] === 0x23 /* # */) return true;
  // perf script -g frame: indented, six or more hex digits, white space.
  if (i > s) {
    let h = i;
    while (h < e && isHex(b[h]) && !(b[h] >= 0x41 && b[h] <= 0x46)) h++;
    if (h - i >= 6 && h < e && isWs(b[h])) return true;
  }
  return false;
}

/**
 * `<comm>[-\s]<tid>[/<tid>]\s+` backwards from the `[` at `bracket`: sets comm and tid.
 * Returns false when the shape is not the plain one (a tgid column, no separator).
 */
function scanThread(b: Buffer, s: number, bracket: number, out: ScannedEvent): boolean {
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
  out.commStart = s;
  out.commEnd = i;
  out.tid = tid;
  return true;
}

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
  out.ns = secs * 1e9 + frac * 10 ** (9 - digits);
  return i + 1;
}

/** `event:` then optional white space and fields; sets event and body bounds. */
function scanEventAndBody(b: Buffer, i: number, e: number, out: ScannedEvent): boolean {
  const n0 = i;
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
  if (needsSlowPath(b, s, e)) return false;
  const bracket = b.indexOf(0x5b /* [ */, s);
  if (bracket < 0 || bracket >= e) return false;
  let i = bracket + 1;
  let cpu = 0;
  while (i < e && isDigit(b[i])) {
    cpu = cpu * 10 + b[i] - 0x30;
    i++;
  }
  if (i === bracket + 1 || i - bracket > 10 || i >= e || b[i] !== 0x5d /* ] */) return false;
  out.cpu = cpu;
  if (!scanThread(b, s, bracket, out)) return false;
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
