/**
 * The checker's event alphabet (docs/design.md §6): what can happen next on the one
 * physical CPU, each event enabled only in states where it can really happen. The order
 * of `eventAlphabet()` is the order the search tries events in, so it decides which of
 * several counterexamples of equal length is reported: host events first, then the
 * exits, then the guest's own actions (see `explore.ts`).
 */

import { HANDLED, type HandledName } from '../cpu/profile.js';
import type { SemanticMachine, SemState } from '../machine/semantic-machine.js';
import type { VcpuDesc } from '../policy/types.js';

export type CheckEvent =
  /** Host schedules the vCPU's thread into KVM_RUN: `kvm_arch_vcpu_load()`. */
  | { readonly kind: 'load'; readonly vcpu: number }
  /** Host preempts the loaded vCPU's thread in the kernel: `kvm_arch_vcpu_put()`. */
  | { readonly kind: 'put' }
  /** World-switch entry into the loaded vCPU. */
  | { readonly kind: 'enter' }
  /** The guest exits, handled at EL2, in the host kernel, or in host userspace (the VMM). */
  | { readonly kind: 'exit'; readonly handled: HandledName }
  /** Kernel-mode NEON in the host (`kernel_neon_begin()` ... `kernel_neon_end()`). */
  | { readonly kind: 'host-neon' }
  /** The VMM in host userspace uses FP/SIMD (no vCPU loaded). */
  | { readonly kind: 'host-fp' }
  /** The running guest executes an FP/SIMD data instruction at EL0 or EL1. */
  | { readonly kind: 'fp'; readonly el: 0 | 1 }
  /** AArch32 guest kernel: `VMRS FPEXC`. */
  | { readonly kind: 'fpexc-read' }
  /** AArch32 guest kernel: `VMSR FPEXC` changing EN. */
  | { readonly kind: 'fpexc-write'; readonly en: boolean }
  /** Guest kernel grants or removes FP access in CPACR(_EL1). */
  | { readonly kind: 'cpacr'; readonly on: boolean }
  /** Guest kernel context switch (AArch64: saves FP state; AArch32: clears FPEXC.EN). */
  | { readonly kind: 'ctxsw' };

/** The event's name as written in scenario files and counterexamples. */
export function eventName(e: CheckEvent): string {
  switch (e.kind) {
    case 'load':
      return `load vcpu${e.vcpu}`;
    case 'put':
      return 'put';
    case 'enter':
      return 'enter';
    case 'exit':
      return `exit ${e.handled}`;
    case 'host-neon':
      return 'host neon';
    case 'host-fp':
      return 'host fp';
    case 'fp':
      return `guest fp el${e.el}`;
    case 'fpexc-read':
      return 'guest fpexc read';
    case 'fpexc-write':
      return `guest fpexc write en=${e.en ? 1 : 0}`;
    case 'cpacr':
      return `guest cpacr ${e.on ? 'on' : 'off'}`;
    case 'ctxsw':
      return 'guest ctxsw';
  }
}

/**
 * Every event for a configuration, in search order. Exits come before the guest's own
 * actions: of two counterexamples of the same length, the one that needs no guest
 * FP access (and so no trap handler) is found first.
 */
export function eventAlphabet(vcpus: readonly VcpuDesc[]): readonly CheckEvent[] {
  const out: CheckEvent[] = vcpus.map((v) => ({ kind: 'load', vcpu: v.id }) as const);
  out.push(
    { kind: 'put' },
    { kind: 'enter' },
    { kind: 'exit', handled: 'hyp' },
    { kind: 'exit', handled: 'kernel' },
    { kind: 'exit', handled: 'user' },
    { kind: 'host-neon' },
    { kind: 'host-fp' },
    { kind: 'fp', el: 0 },
    { kind: 'fp', el: 1 },
  );
  if (vcpus.some((v) => v.aarch32)) {
    out.push(
      { kind: 'fpexc-read' },
      { kind: 'fpexc-write', en: false },
      { kind: 'fpexc-write', en: true },
    );
  }
  out.push({ kind: 'cpacr', on: true }, { kind: 'cpacr', on: false }, { kind: 'ctxsw' });
  return out;
}

/** Short forms of every event, for messages. */
export const EVENT_SYNTAX =
  'load vcpuN, put, enter, exit hyp|kernel|user, host neon, host fp, guest fp el0|el1, ' +
  'guest fpexc read, guest fpexc write en=0|1, guest cpacr on|off, guest ctxsw';

/** The events written without an argument: their text (after parseEvent's folding) and kind. */
const EVENTS_WITHOUT_ARGUMENT: Readonly<
  Record<string, 'put' | 'enter' | 'host-neon' | 'host-fp' | 'fpexc-read' | 'ctxsw'>
> = {
  put: 'put',
  enter: 'enter',
  'host neon': 'host-neon',
  'host fp': 'host-fp',
  'fpexc read': 'fpexc-read',
  ctxsw: 'ctxsw',
};

/**
 * Parses an event name (case and spacing free; `vcpuN` for `vN` and the `guest` prefix
 * optional). Returns undefined when the text names no event.
 */
export function parseEvent(text: string): CheckEvent | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/^guest /, '');
  let m = /^load (?:v|vcpu)(\d+)$/.exec(t);
  if (m) return { kind: 'load', vcpu: Number(m[1]) };
  m = /^exit (hyp|kernel|user)$/.exec(t);
  if (m) return { kind: 'exit', handled: m[1] as HandledName };
  m = /^fp el([01])$/.exec(t);
  if (m) return { kind: 'fp', el: m[1] === '0' ? 0 : 1 };
  m = /^fpexc write en=([01])$/.exec(t);
  if (m) return { kind: 'fpexc-write', en: m[1] === '1' };
  m = /^cpacr (on|off)$/.exec(t);
  if (m) return { kind: 'cpacr', on: m[1] === 'on' };
  const kind = Object.hasOwn(EVENTS_WITHOUT_ARGUMENT, t) ? EVENTS_WITHOUT_ARGUMENT[t] : undefined;
  return kind === undefined ? undefined : { kind };
}

/**
 * Why the event cannot happen in state `s`, or undefined when it can. Guest events need
 * a running guest (and FPEXC an AArch32 one); host events need the CPU in the host;
 * `host fp` is the VMM in userspace, so no vCPU may be loaded.
 */
export function whyDisabled(
  e: CheckEvent,
  s: SemState,
  vcpus: readonly VcpuDesc[],
): string | undefined {
  const inGuest = s.running;
  const loaded = s.loaded;
  switch (e.kind) {
    case 'load':
      if (e.vcpu < 0 || e.vcpu >= vcpus.length)
        return `there is no vcpu${e.vcpu} (vCPUs: vcpu0..vcpu${vcpus.length - 1})`;
      if (loaded >= 0) return `vcpu${loaded} is still loaded (put it first)`;
      return undefined;
    case 'put':
      if (loaded < 0) return 'no vCPU is loaded';
      if (inGuest) return 'the guest is running (it must exit first)';
      return undefined;
    case 'enter':
      if (loaded < 0) return 'no vCPU is loaded';
      if (inGuest) return 'the guest is already running';
      return undefined;
    case 'host-neon':
      return inGuest ? 'the guest is running, not the host' : undefined;
    case 'host-fp':
      return loaded >= 0
        ? `vcpu${loaded} is loaded: the VMM runs in userspace only between KVM_RUN calls`
        : undefined;
    case 'exit':
    case 'fp':
    case 'ctxsw':
    case 'cpacr':
      return inGuest ? undefined : 'no guest is running';
    case 'fpexc-read':
    case 'fpexc-write':
      if (!inGuest) return 'no guest is running';
      if (!vcpus[loaded].aarch32)
        return `vcpu${loaded}'s EL1 is AArch64: FPEXC is an AArch32 register`;
      return undefined;
  }
}

/**
 * A guest write of the value its own view already holds. The search leaves these out: on
 * the ideal machine they change nothing, and on the real one a VMSR FPEXC of the value
 * the guest believes in could only replace a wrong FPEXC32_EL2 with the right one (hiding
 * a bug, never showing one), while its trap to EL2 is already exercised by
 * `guest fpexc read`. A scenario may still contain them.
 */
export function isNoopWrite(e: CheckEvent, s: SemState): boolean {
  if (e.kind === 'fpexc-write') return s.guests[s.loaded].fpexcEn === e.en;
  if (e.kind === 'cpacr') return s.guests[s.loaded].cpacr === e.on;
  return false;
}

/** Whether the search tries the event in state `s`: `!whyDisabled && !isNoopWrite`, fast. */
export function enabled(e: CheckEvent, s: SemState, vcpus: readonly VcpuDesc[]): boolean {
  switch (e.kind) {
    case 'load':
      return s.loaded < 0;
    case 'put':
    case 'enter':
      return s.loaded >= 0 && !s.running;
    case 'host-neon':
      return !s.running;
    case 'host-fp':
      return s.loaded < 0;
    case 'exit':
    case 'fp':
    case 'ctxsw':
      return s.running;
    case 'fpexc-read':
      return s.running && vcpus[s.loaded].aarch32;
    case 'fpexc-write':
      return s.running && vcpus[s.loaded].aarch32 && s.guests[s.loaded].fpexcEn !== e.en;
    case 'cpacr':
      return s.running && s.guests[s.loaded].cpacr !== e.on;
  }
}

/** Runs the event on the machine (which may throw a `Violation`). */
export function applyEvent(m: SemanticMachine, e: CheckEvent): void {
  switch (e.kind) {
    case 'load':
      return m.load(e.vcpu);
    case 'put':
      return m.put();
    case 'enter':
      return m.enter();
    case 'exit':
      return m.exit(HANDLED[e.handled]);
    case 'host-neon':
      return m.hostNeon();
    case 'host-fp':
      return m.hostUserFp();
    case 'fp':
      return m.guestFp(e.el);
    case 'fpexc-read':
      return m.guestFpexcRead();
    case 'fpexc-write':
      return m.guestFpexcWrite(e.en);
    case 'cpacr':
      return m.guestCpacr(e.on);
    case 'ctxsw':
      return m.guestContextSwitch();
  }
}
