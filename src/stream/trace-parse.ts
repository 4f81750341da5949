/**
 * Parsing of one line of `perf script` or `trace-cmd report` (or raw tracefs `trace`) text
 * holding KVM arm64 tracepoints (docs/domain.md §7):
 *
 *   perf script:       `CPU 0/KVM  1234 [002]  5678.123456: kvm:kvm_exit: TRAP: HSR_EC: 0x0018 (SYS64), PC: 0xffff800010001234`
 *   trace-cmd report:  `CPU 0/KVM-1234  [002]  5678.123456: kvm_entry:            PC: 0x0000ffff9a2b3c40`
 *   tracefs trace:     `CPU 0/KVM-1234  [002] d..1.  5678.123456: kvm_exit: IRQ: HSR_EC: 0x0000 (UNKNOWN), PC: 0x...`
 *
 * Formats of the events (arch/arm64/kvm/trace_arm.h):
 * - kvm_entry `PC: 0x%016lx` (before Sept 2020 `PC: 0x%08lx`);
 * - kvm_exit `%s: HSR_EC: 0x%04x (%s), PC: 0x%016lx`: the exception type (IRQ, SERROR,
 *   TRAP, HYP_GONE; older 4.x kernels only IRQ and TRAP), the EC and its name from the
 *   kernel's table (`__print_symbolic`, which prints the value in hex when the table has
 *   no name), the guest PC;
 * - kvm_userspace_exit `reason %s (%d)` (virt/kvm/kvm_main.c: KVM_RUN returns to the VMM);
 * - sched_switch (include/trace/events/sched.h) `prev_comm=%s prev_pid=%d prev_prio=%d
 *   prev_state=%s ==> next_comm=%s next_pid=%d next_prio=%d`, or as libtraceevent's
 *   sched plugin prints it in `perf script` / `trace-cmd report`:
 *   `%s:%d [%d] %s ==> %s:%d [%d]`. A vCPU thread switched out inside KVM_RUN is a
 *   vcpu_put (virt/kvm/kvm_main.c kvm_sched_out -> kvm_arch_vcpu_put), which no kvm
 *   event shows.
 */

import { EC, EXIT_TYPE, ecName, isEcName } from '../arch/esr.js';
import { userText } from '../util/errors.js';

/**
 * Timestamps at or beyond this many seconds are refused: trace clocks count from boot
 * (local, global, mono, boot), and 1e9 s is ~31.7 years of uptime. Below it a timestamp
 * in ns is also exact in a double (< 2^53 ns needs < 9.007e6 s for exactness; above that
 * the error stays under 128 ns at 1e9 s).
 */
export const MAX_TRACE_SECONDS = 1e9;

/** Significant hex digits of a 64-bit value at most (the guest PC is a 64-bit register). */
const PC_HEX_DIGITS = 16;

/** Why a PC's hex digits cannot be a 64-bit PC, or undefined when they can. */
export function pcProblem(hex: string): string | undefined {
  const significant = hex.replace(/^0+/, '');
  if (significant.length <= PC_HEX_DIGITS) return undefined;
  return `PC 0x${userText(hex, 40)} is wider than 64 bits`;
}

type TraceLine =
  | { readonly kind: 'blank' | 'header' | 'callchain' }
  | { readonly kind: 'lost'; readonly events: number }
  | {
      readonly kind: 'event';
      readonly comm: string;
      readonly tid: number;
      readonly cpu: number;
      /** Timestamp in ns (exact: parsed from the decimal digits). */
      readonly ns: number;
      /** Event name without the `kvm:` system prefix. */
      readonly event: string;
      readonly body: string;
    }
  | { readonly kind: 'bad'; readonly reason: string };

/**
 * `<comm>-<tid>` or `<comm> <tid>` (or `<pid>/<tid>`), optional `(tgid)`, `[cpu]`, optional
 * flags (`d..1`, `.N..`, `dNh2.`), `secs.frac:`, `event:`, the event's fields.
 */
const EVENT_LINE =
  /^\s*(.+?)[-\s](\d+)(?:\/(\d+))?\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+(?:([^\s:]+)\s+)?(\d+)\.(\d+):\s+([\w:.-]+):(?:\s+(.*))?$/;

/** Classifies and splits one line. Cost: O(line length). */
export function parseTraceLine(line: string): TraceLine {
  if (line.trim() === '') return { kind: 'blank' };
  if (/^\s*#/.test(line)) return { kind: 'header' };
  // trace-cmd report preamble and per-CPU notes.
  if (
    /^cpus=\d+\s*$/.test(line) ||
    /^version = \d+/.test(line) ||
    /^CPU \d+ is empty\s*$/.test(line)
  )
    return { kind: 'header' };
  if (/^CPU \d+ data recorded at offset/.test(line) || /^\s+\d+ KB\s*$/.test(line))
    return { kind: 'header' };
  const lost = /^\s*CPU:?\s*\d+\s*\[(?:LOST|\*\*\*\s*LOST)\s+(\d+)\s+EVENTS\]/.exec(line);
  if (lost) return { kind: 'lost', events: Number(lost[1]) };
  // perf script -g call-chain frames: an indented hex address and a symbol.
  if (/^\s+[0-9a-f]{6,}\s+\S/.test(line)) return { kind: 'callchain' };
  const m = EVENT_LINE.exec(line);
  if (!m)
    return {
      kind: 'bad',
      reason: 'not a trace event line (expected "comm-tid [cpu] secs.usecs: event: fields")',
    };
  const frac = m[7];
  if (frac.length > 9)
    return {
      kind: 'bad',
      reason: `timestamp ${userText(m[6], 30)}.${userText(frac, 30)}: more than 9 fractional digits`,
    };
  if (Number(m[6]) >= MAX_TRACE_SECONDS)
    return {
      kind: 'bad',
      reason: `timestamp ${userText(m[6], 40)} s is beyond any real trace (limit ${MAX_TRACE_SECONDS} s since boot, ~31 years)`,
    };
  const ns = Number(m[6]) * 1e9 + Number(frac.padEnd(9, '0'));
  const tid = Number(m.at(3) ?? m[2]);
  const event = m[8].startsWith('kvm:') ? m[8].slice(4) : m[8];
  return {
    kind: 'event',
    comm: m[1].trim(),
    tid,
    cpu: Number(m[4]),
    ns,
    event,
    body: (m.at(9) ?? '').trim(),
  };
}

const EXIT_BODY = /^(\w+):\s+HSR_EC:\s+0x([0-9a-fA-F]+)\s+\(([^)]*)\),\s+PC:\s+0x([0-9a-fA-F]+)$/;
const ENTRY_BODY = /^PC:\s+0x([0-9a-fA-F]+)$/;
const USERSPACE_BODY = /^reason\s+(\S+)(?:\s+\((-?\d+)\))?/;

export type KvmExit =
  | {
      readonly ok: true;
      /** Exit class code (esr.ts: EC for TRAP exits, EXIT_TYPE otherwise). */
      readonly code: number;
      /** The label the trace gave it (the kernel's EC name, or the type). */
      readonly label: string;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Parses the fields of a kvm_exit. The exit class comes from the exception type and, for
 * TRAP exits, the numeric EC: the kernel's name in parentheses is checked against it when
 * it is a name this tool knows, and kept as the label otherwise (newer kernels name ECs
 * this table lacks; unnamed ones print in hex).
 */
export function parseKvmExit(body: string): KvmExit {
  const m = EXIT_BODY.exec(body);
  if (!m) {
    if (/^PC:\s+0x[0-9a-fA-F]+$/.test(body)) {
      return {
        ok: false,
        reason:
          'kvm_exit without an exception class (a kernel before 4.x that printed only the PC): cannot tell exits apart',
      };
    }
    return {
      ok: false,
      reason: `malformed kvm_exit fields "${userText(body)}" (expected "TYPE: HSR_EC: 0x.... (NAME), PC: 0x...")`,
    };
  }
  const pc = pcProblem(m[4]);
  if (pc) return { ok: false, reason: pc };
  const type = m[1];
  const ec = parseInt(m[2], 16);
  const name = m[3].trim();
  if (type === 'IRQ' || type === 'SERROR' || type === 'HYP_GONE') {
    return { ok: true, code: EXIT_TYPE[type], label: type };
  }
  if (type !== 'TRAP') {
    return {
      ok: false,
      reason: `unknown exception class: exception type "${userText(type, 40)}" (expected IRQ, SERROR, TRAP or HYP_GONE)`,
    };
  }
  if (ec > 0x3f)
    return {
      ok: false,
      reason: `unknown exception class: HSR_EC 0x${userText(m[2], 40)} does not fit the 6-bit EC field`,
    };
  if (/^0x[0-9a-fA-F]+$/.test(name)) {
    if (parseInt(name, 16) !== ec)
      return {
        ok: false,
        reason: `EC ${userText(name, 40)} in parentheses does not match HSR_EC 0x${userText(m[2], 40)}`,
      };
    return { ok: true, code: ec, label: ecName(ec) ?? `0x${ec.toString(16).padStart(2, '0')}` };
  }
  if (isEcName(name)) {
    if (EC[name] !== ec)
      return {
        ok: false,
        reason: `EC name ${name} (0x${EC[name].toString(16)}) does not match HSR_EC 0x${userText(m[2], 40)}`,
      };
    return { ok: true, code: ec, label: name };
  }
  // A name this table lacks (a newer kernel's, e.g. SME or MOPS): keep it, classify by the value.
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name))
    return { ok: false, reason: `unknown exception class "${userText(name, 40)}"` };
  return { ok: true, code: ec, label: name };
}

/** Why a kvm_entry's fields are malformed, or undefined when they are well formed. */
export function kvmEntryProblem(body: string): string | undefined {
  const m = ENTRY_BODY.exec(body);
  if (!m) return `malformed kvm_entry fields "${userText(body)}" (expected "PC: 0x...")`;
  return pcProblem(m[1]);
}

/** The guest PC of a well-formed kvm_entry or kvm_exit (hex digits, no 0x). */
export function kvmPcHex(body: string): string | undefined {
  return /PC:\s+0x([0-9a-fA-F]+)$/.exec(body)?.[1];
}

const SWITCH_RAW = /(?:^|\s)prev_pid=(\d+)\s/;
const SWITCH_PLUGIN = /^(.+):(\d+)\s+\[-?\d+\]\s+\S+\s+==>\s/;

/** The thread a sched_switch switches out (its prev_pid), or undefined when malformed. */
export function schedSwitchPrev(body: string): number | undefined {
  const m = SWITCH_RAW.exec(body) ?? SWITCH_PLUGIN.exec(body);
  if (!m) return undefined;
  return Number(m[m.length - 1]);
}

/** The reason of a kvm_userspace_exit, or undefined when malformed. */
export function kvmUserspaceReason(body: string): string | undefined {
  return USERSPACE_BODY.exec(body)?.[1];
}
