// Counting over the real tracefs text of the L1 kernel (format: docs/domain.md §7):
//   qemu-system-aar-88 [000] d.... 28.177953: kvm_entry: PC: 0x0000000040000000
//   vmm-94 [000] ..... 10.025806: kvm_exit: TRAP: HSR_EC: 0x0024 (DABT_LOW), PC: 0x...
//   vmm-94 [000] ..... 10.757030: kvm_userspace_exit: reason KVM_EXIT_MMIO (6)
// This is the harness's own quick count; the project's importer (src/stream) is what the
// fixtures taken from these traces are for.
import { ecName } from './ec.js';

export interface TraceEvent {
  line: number;
  /** the task (thread id) and L1 CPU that logged it */
  pid: number;
  cpu: number;
  ts: number;
  event: string;
  body: string;
}

const LINE_RE = /^\s*(.*?)-(\d+)\s+\[(\d+)\]\s+(?:(\S{4,5})\s+)?(\d+\.\d+):\s+([\w:]+):\s?(.*)$/;

export function parseTrace(text: string): {
  events: TraceEvent[];
  headerLines: number;
  badLines: number;
} {
  const events: TraceEvent[] = [];
  let headerLines = 0;
  let badLines = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith('#')) {
      headerLines++;
      continue;
    }
    if (!l.trim()) continue;
    const m = LINE_RE.exec(l);
    if (!m) {
      badLines++;
      continue;
    }
    events.push({
      line: i + 1,
      pid: Number(m[2]),
      cpu: Number(m[3]),
      ts: Number(m[5]),
      event: m[6],
      body: m[7],
    });
  }
  return { events, headerLines, badLines };
}

export interface TraceStats {
  entries: number;
  exits: number;
  /** kvm_exit by exception type: IRQ, TRAP, SERROR, HYP_GONE, ... */
  exitsByType: Record<string, number>;
  /** kvm_exit by class: the type for non-TRAP exits, the EC name for TRAP */
  exitsByClass: Record<string, number>;
  userspaceExits: number;
  userspaceExitsByReason: Record<string, number>;
  mmio: number;
  /** seconds from the first to the last event counted (L1's clock) */
  windowSec: number;
  /** seconds spent in the guest: sum of kvm_entry -> next kvm_exit */
  guestRunSec: number;
  firstLine: number;
  lastLine: number;
}

/** A kvm_exit line's type (IRQ, TRAP, ...) and class (the EC name for TRAP, else the type). */
export function exitClass(body: string): { type: string; cls: string } {
  const m = /^(\w+): HSR_EC: 0x([0-9a-f]+)/.exec(body);
  const type = m?.[1] ?? '?';
  return { type, cls: type === 'TRAP' && m ? ecName(parseInt(m[2], 16)) : type };
}

export function countEvents(events: TraceEvent[], from = 0, to = events.length): TraceStats {
  const s: TraceStats = {
    entries: 0,
    exits: 0,
    exitsByType: {},
    exitsByClass: {},
    userspaceExits: 0,
    userspaceExitsByReason: {},
    mmio: 0,
    windowSec: 0,
    guestRunSec: 0,
    firstLine: events[from]?.line ?? 0,
    lastLine: events[to - 1]?.line ?? 0,
  };
  let entryTs: number | undefined;
  for (let i = from; i < to; i++) {
    const e = events[i];
    switch (e.event) {
      case 'kvm_entry':
        s.entries++;
        entryTs = e.ts;
        break;
      case 'kvm_exit': {
        s.exits++;
        const { type, cls } = exitClass(e.body);
        s.exitsByType[type] = (s.exitsByType[type] ?? 0) + 1;
        s.exitsByClass[cls] = (s.exitsByClass[cls] ?? 0) + 1;
        if (entryTs !== undefined) s.guestRunSec += e.ts - entryTs;
        entryTs = undefined;
        break;
      }
      case 'kvm_userspace_exit': {
        s.userspaceExits++;
        const r = /reason (\S+)/.exec(e.body)?.[1] ?? '?';
        s.userspaceExitsByReason[r] = (s.userspaceExitsByReason[r] ?? 0) + 1;
        break;
      }
      case 'kvm_mmio':
        s.mmio++;
        break;
      default:
    }
  }
  if (to > from) s.windowSec = events[to - 1].ts - events[from].ts;
  s.guestRunSec = Number(s.guestRunSec.toFixed(6));
  s.windowSec = Number(s.windowSec.toFixed(6));
  return s;
}

/** The window written by the VMM: between its trace_marker begin/end lines (else all). */
export function vmmWindow(events: TraceEvent[]): [number, number] {
  const b = events.findIndex(
    (e) => e.event === 'tracing_mark_write' && e.body.startsWith('fpswitch-begin'),
  );
  const en = events.findIndex(
    (e) => e.event === 'tracing_mark_write' && e.body.startsWith('fpswitch-end'),
  );
  return [b >= 0 ? b + 1 : 0, en >= 0 ? en : events.length];
}

const FWCFG_OPEN = 'mmio read len 4 gpa 0x9020000 ';
const FWCFG_CLOSE = 'mmio read len 4 gpa 0x9020004 ';

/**
 * The L2 workloads' windows: each opens with its MMIO read of fw_cfg 0x09020000 and closes
 * with one of 0x09020004 (fpsw-bench). A window starts after the open read's kvm_mmio event
 * and ends before the kvm_exit of the close read, so neither marker exit is counted.
 */
export function fwcfgWindows(events: TraceEvent[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let open = -1;
  let lastExit = -1;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e.event === 'kvm_exit') lastExit = i;
    else if (e.event === 'kvm_mmio') {
      if (e.body.startsWith(FWCFG_OPEN)) open = i + 1;
      else if (e.body.startsWith(FWCFG_CLOSE) && open >= 0) {
        out.push([open, lastExit >= open ? lastExit : i]);
        open = -1;
      }
    }
  }
  return out;
}
