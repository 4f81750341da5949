/**
 * The semantic machine: architectural and host-kernel state as the invariants need it,
 * running a policy's hooks through the same world-switch procedures as the cost machine.
 *
 * Register contents are tags: which context's state a copy holds (its owner) and whether
 * it is that owner's latest value. A context writing its state makes the written copy the
 * latest and every other copy of it stale, so the state space stays finite (docs/design.md
 * §6). CPTR_EL2 writes stay pending until a context synchronisation event (ISB,
 * exception entry, ERET; Arm ARM D1.x "Synchronization requirements for system
 * registers"); an EL2 access while a write is pending may see either value, and the
 * machine asks its chooser which, so a checker can explore both.
 *
 * Guest events are checked against an ideal machine where the guest owns the CPU: its
 * own CPACR and FPEXC.EN, no EL2. Violations are thrown as `Violation`.
 */

import {
  AArch32_VMRS_VMSR,
  type AccessOutcome,
  EL2_FPEXC32Access,
  EL2_FPSIMDAccess,
  guestFpAccess,
  type PeView,
} from '../arch/checks.js';
import { ACCESS_FULL, ACCESS_NONE, type ExceptionLevel } from '../arch/registers.js';
import type { Handled } from '../cpu/profile.js';
import { fpSlotProblem, HOOK_NAMES, type HookName } from '../policy/types.js';
import { markEngineError, UserError, userText } from '../util/errors.js';
import type { FpSlot, Policy, PolicyHooks, VcpuDesc, VcpuId } from '../policy/types.js';
import {
  enterGuest,
  exitGuest,
  kernelNeon,
  takeFpTrap,
  vcpuLoad,
  vcpuPut,
  type WorldMachine,
} from './lifecycle.js';

/** The invariants (docs/design.md §6), plus `progress` for a policy that cannot make progress. */
export const INVARIANTS = [
  'guest-state',
  'guest-undef',
  'host-state',
  'el2-self-trap',
  'fpexc',
  'progress',
] as const;
export type Invariant = (typeof INVARIANTS)[number];

/** A broken invariant: what broke and a one-sentence diagnosis. */
export class Violation extends Error {
  override readonly name = 'Violation';
  constructor(
    readonly invariant: Invariant,
    readonly diagnosis: string,
  ) {
    super(`${invariant}: ${diagnosis}`);
    markEngineError(this);
  }
}

declare const OWNER: unique symbol;
/**
 * Whose FP/SIMD state a copy holds: a vCPU (its index), the host (`HOST`) or nobody
 * (`NONE`: clobbered or never written). A number, so that states hash as plain JSON;
 * built only by `vcpuOwner` and the two constants.
 */
type Owner = number & { readonly [OWNER]: true };
const HOST = -1 as Owner;
const NONE = -2 as Owner;

/** The owner code of vCPU `v`'s own state. */
export function vcpuOwner(v: VcpuId): Owner {
  return v as Owner;
}

/** A copy of some context's FP/SIMD register state. */
export interface Tag {
  readonly owner: Owner;
  readonly latest: boolean;
}

/** The guest's own view on the ideal machine (what it last programmed). */
interface GuestView {
  /** CPACR(_EL1) grants FP access at EL0 and EL1 (cp10/cp11 or FPEN = 0b11), else none. */
  readonly cpacr: boolean;
  /** FPEXC.EN as the guest last wrote it (AArch32 only). */
  readonly fpexcEn: boolean;
}

/**
 * Everything the semantic machine knows: plain data, hashable as JSON. Tags, guest views
 * and arrays are replaced, never changed in place, so copies can share them.
 */
export interface SemState {
  regs: Tag;
  hostCtxt: Tag;
  hostTask: Tag;
  vcpuFp: readonly Tag[];
  /** FPEXC32_EL2.EN as the hardware holds it. */
  fpexcHw: boolean;
  /** FPEXC32_EL2.EN saved in each vCPU's context. */
  fpexcSaved: readonly boolean[];
  /** CPTR_EL2.TFP as last written, and as in effect. */
  tfpWritten: boolean;
  tfpEffective: boolean;
  loaded: number;
  running: boolean;
  /** Host TIF_FOREIGN_FPSTATE, and the context the CPU's registers are bound to. */
  foreign: boolean;
  bound: Owner;
  guests: readonly GuestView[];
  policy: unknown;
}

/**
 * A nondeterministic choice point (for the checker): how many outcomes, which one taken.
 * `labels[i]`, when given, says in words what outcome `i` means (for counterexamples).
 */
export interface Chooser {
  choose(options: number, what: string, labels?: readonly string[]): number;
}

/** Takes the first outcome at every choice point. */
const FIRST_CHOICE: Chooser = { choose: () => 0 };

function ownerName(owner: Owner): string {
  return owner === HOST ? 'host' : owner === NONE ? 'nobody' : `vcpu${owner}`;
}

/** `vcpu1` / `host` / `nobody`, with `(stale)` when the copy is not the latest. */
export function tagName(t: Tag): string {
  if (t.owner === NONE) return 'nobody';
  return `${ownerName(t.owner)}${t.latest ? '' : ' (stale)'}`;
}

/** The state after boot: see `describeInitialState`. */
function initialSemState(vcpus: readonly VcpuDesc[], hooks: PolicyHooks): SemState {
  return {
    regs: { owner: HOST, latest: true },
    hostCtxt: { owner: NONE, latest: false },
    hostTask: { owner: HOST, latest: false },
    vcpuFp: vcpus.map((v) => ({ owner: vcpuOwner(v.id), latest: true })),
    fpexcHw: true,
    fpexcSaved: vcpus.map(() => true),
    tfpWritten: false,
    tfpEffective: false,
    loaded: -1,
    running: false,
    foreign: false,
    bound: HOST,
    guests: vcpus.map(() => ({ cpacr: true, fpexcEn: true })),
    policy: hooks.init(vcpus),
  };
}

/** The initial state in words, for checker output. */
export function describeInitialState(vcpus: readonly VcpuDesc[]): string {
  const widths = vcpus
    .map((v) => `vcpu${v.id} ${v.aarch32 ? 'AArch32' : 'AArch64'} (VM ${v.vm})`)
    .join(', ');
  return [
    `after boot: host task running with its FP state live in the registers (CPTR_EL2.TFP clear); no vCPU loaded; ${widths}`,
    'each guest kernel has enabled FP (CPACR full access; AArch32: FPEXC.EN=1), and its FP state is in its vCPU context',
    'FPEXC32_EL2 holds EN=1, as the last AArch32 guest to run left it',
  ].join('\n');
}

/** A copy of plain data (numbers, strings, booleans, null, arrays and objects of those). */
export function clonePlain<T>(x: T): T {
  if (x === null || typeof x !== 'object') return x;
  if (Array.isArray(x)) {
    const out = new Array<unknown>(x.length);
    for (let i = 0; i < x.length; i++) out[i] = clonePlain(x[i] as unknown);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  // for-in over a plain object visits its own keys only (no inherited enumerables).
  for (const k in x) out[k] = clonePlain((x as Record<string, unknown>)[k]);
  return out as T;
}

/**
 * A copy of a machine state. The machine never changes a tag, a guest view or one of the
 * state's arrays in place (it replaces them: `replaceAt`), so a copy shares them and only
 * the policy's own state, which its hooks do mutate in place, is copied deeply. The
 * checker copies a state for every transition it explores.
 */
function cloneSemState(x: SemState): SemState {
  // Field by field rather than a spread: one object shape, and measurably faster.
  return {
    regs: x.regs,
    hostCtxt: x.hostCtxt,
    hostTask: x.hostTask,
    vcpuFp: x.vcpuFp,
    fpexcHw: x.fpexcHw,
    fpexcSaved: x.fpexcSaved,
    tfpWritten: x.tfpWritten,
    tfpEffective: x.tfpEffective,
    loaded: x.loaded,
    running: x.running,
    foreign: x.foreign,
    bound: x.bound,
    guests: x.guests,
    policy: clonePlain(x.policy),
  };
}

/** A copy of `a` with element `i` replaced. */
function replaceAt<T>(a: readonly T[], i: number, v: T): T[] {
  const out = a.slice();
  out[i] = v;
  return out;
}

/**
 * Wraps a policy's hooks so the machine knows which one is running: a violation inside a
 * hook (an EL2 self-trap in the exit path, say) is then reported against that hook.
 */
function tracedHooks(h: PolicyHooks, setHook: (name: HookName | undefined) => void): PolicyHooks {
  const out: Record<string, unknown> = { init: (vcpus: readonly VcpuDesc[]) => h.init(vcpus) };
  for (const name of HOOK_NAMES) {
    if (!(name in h)) continue;
    out[name] = (hw: WorldMachine, s: unknown, vcpu: VcpuId) => {
      setHook(name);
      h[name]?.(hw, s, vcpu);
      setHook(undefined);
    };
  }
  return out as unknown as PolicyHooks;
}

export class SemanticMachine implements WorldMachine {
  readonly hooks: PolicyHooks;
  readonly vcpus: readonly VcpuDesc[];
  s: SemState;
  chooser: Chooser = FIRST_CHOICE;
  /** The policy hook running now; left set when a violation is thrown inside it. */
  hook: HookName | undefined;
  /** The hooks entered since the last `restore()` or `clearHooksRun()`, in order. */
  hooksRun: HookName[] = [];

  constructor(
    readonly policy: Policy,
    vcpus: readonly VcpuDesc[],
    state?: SemState,
  ) {
    this.hooks = tracedHooks(policy.hooks, (name) => {
      this.hook = name;
      if (name) this.hooksRun.push(name);
    });
    this.vcpus = vcpus;
    this.s = state ? cloneSemState(state) : initialSemState(vcpus, policy.hooks);
  }

  snapshot(): SemState {
    return cloneSemState(this.s);
  }

  restore(state: SemState): void {
    this.s = cloneSemState(state);
    this.clearHooksRun();
  }

  /** Forgets which hooks ran (the start of a new step). */
  clearHooksRun(): void {
    this.hook = undefined;
    if (this.hooksRun.length) this.hooksRun = [];
  }

  /** A canonical key of the state (for hashing). */
  key(): string {
    return JSON.stringify(this.s);
  }

  // --- WorldMachine fields -----------------------------------------------------------

  get policyState(): unknown {
    return this.s.policy;
  }
  get loaded(): number {
    return this.s.loaded;
  }
  set loaded(v: number) {
    this.s.loaded = v;
  }
  get running(): boolean {
    return this.s.running;
  }
  set running(v: boolean) {
    this.s.running = v;
  }

  // --- events: host ------------------------------------------------------------------

  /** Host schedules vCPU `v` (its thread enters KVM_RUN): vcpu_load. */
  load(v: VcpuId): void {
    vcpuLoad(this, v);
  }

  /** Host preempts the loaded vCPU's thread: vcpu_put. */
  put(): void {
    vcpuPut(this);
  }

  /** World-switch entry into the loaded vCPU. */
  enter(): void {
    enterGuest(this);
  }

  /** The guest exits, handled at EL2, in the host kernel, or in host userspace. */
  exit(handled: Handled): void {
    exitGuest(this, handled);
  }

  /** Kernel-mode NEON in the host (kernel_neon_begin ... end). */
  hostNeon(): void {
    this.hostFpAccessCheck('kernel-mode NEON');
    kernelNeon(this);
  }

  /** The host task (the VMM, in userspace) uses its FP state: it must find its latest value. */
  hostUserFp(): void {
    this.restoreCurrentState();
    this.hostFpAccessCheck('the VMM in userspace');
    const r = this.s.regs;
    if (r.owner !== HOST || !r.latest) {
      throw new Violation(
        'host-state',
        `the host task's FP registers hold ${tagName(r)}'s state when it resumes in userspace: its own state was lost`,
      );
    }
    this.write(HOST);
  }

  // --- events: guest -----------------------------------------------------------------

  /** The running guest executes an FP/SIMD data instruction at EL0 or EL1. */
  guestFp(el: ExceptionLevel): void {
    const v = this.s.loaded;
    const real = this.guestAccess('fp', el);
    const ideal = guestFpAccess(this.pe(v, el, true));
    if (real !== ideal) this.undefMismatch(real, ideal, `FP/SIMD instruction at EL${el}`);
    if (real !== 'executes') return;
    const r = this.s.regs;
    if (r.owner !== v || !r.latest) {
      const what =
        r.owner === v
          ? `a stale copy of its own state`
          : r.owner === NONE
            ? 'clobbered registers'
            : `${ownerName(r.owner)}'s state (another context's registers leak into the guest)`;
      throw new Violation(
        'guest-state',
        `vcpu${v}'s FP/SIMD instruction reads ${what} instead of its latest state`,
      );
    }
    this.write(vcpuOwner(v));
  }

  /** AArch32 guest kernel reads FPEXC (VMRS at EL1). */
  guestFpexcRead(): void {
    const v = this.s.loaded;
    const real = this.guestAccess('fpexc', 1);
    const ideal = AArch32_VMRS_VMSR(this.pe(v, 1, true), 'FPEXC');
    if (real !== ideal) this.undefMismatch(real, ideal, 'VMRS FPEXC');
    if (real !== 'executes') return;
    const want = this.s.guests[v].fpexcEn;
    if (this.s.fpexcHw !== want) {
      throw new Violation(
        'fpexc',
        `vcpu${v} reads FPEXC.EN=${this.s.fpexcHw ? 1 : 0} but last wrote EN=${want ? 1 : 0}`,
      );
    }
  }

  /** AArch32 guest kernel writes FPEXC.EN (VMSR at EL1). */
  guestFpexcWrite(en: boolean): void {
    const v = this.s.loaded;
    const real = this.guestAccess('fpexc', 1);
    const ideal = AArch32_VMRS_VMSR(this.pe(v, 1, true), 'FPEXC');
    if (real !== ideal) this.undefMismatch(real, ideal, `VMSR FPEXC (EN=${en ? 1 : 0})`);
    if (real !== 'executes') return;
    this.s.fpexcHw = en;
    this.s.guests = replaceAt(this.s.guests, v, { ...this.s.guests[v], fpexcEn: en });
  }

  /**
   * The guest kernel grants or removes FP access in CPACR. The guest's CPACR_EL1 is
   * switched with its EL1 system registers on every world switch, so the real and ideal
   * machines agree on it by construction.
   */
  guestCpacr(enabled: boolean): void {
    const v = this.s.loaded;
    this.s.guests = replaceAt(this.s.guests, v, { ...this.s.guests[v], cpacr: enabled });
  }

  /**
   * A guest context switch: an AArch64 kernel saves the outgoing task's FP state (an FP
   * access at EL1); an AArch32 kernel disables VFP for the next task by reading FPEXC and
   * writing it back with EN=0 (arch/arm/vfp `vfp_notifier`, docs/domain.md §9).
   */
  guestContextSwitch(): void {
    const v = this.s.loaded;
    if (this.vcpus[v].aarch32) {
      this.guestFpexcRead();
      this.guestFpexcWrite(false);
    } else if (this.s.guests[v].cpacr) {
      this.guestFp(1);
    }
  }

  /**
   * The architectural view of a guest access: on the real machine (FPEXC.EN as the
   * hardware holds it, CPTR_EL2.TFP in effect) or on the ideal one the guest owns (its
   * own FPEXC.EN, no EL2 trap).
   */
  private pe(v: VcpuId, el: ExceptionLevel, ideal: boolean): PeView {
    return {
      el,
      el1IsAArch32: this.vcpus[v].aarch32,
      cpacr: this.s.guests[v].cpacr ? ACCESS_FULL : ACCESS_NONE,
      asedis: false,
      fpexcEn: ideal ? this.s.guests[v].fpexcEn : this.s.fpexcHw,
      cptrTfp: ideal ? false : this.s.tfpEffective,
    };
  }

  /**
   * Runs a guest access check on the real machine, taking FP traps to EL2 until it
   * resolves: an FP/SIMD data instruction (`fp`), or VMRS/VMSR FPEXC at EL1 (`fpexc`).
   */
  private guestAccess(kind: 'fp' | 'fpexc', el: ExceptionLevel): AccessOutcome {
    for (let attempt = 0; attempt < 3; attempt++) {
      const pe = this.pe(this.s.loaded, el, false);
      const outcome = kind === 'fp' ? guestFpAccess(pe) : AArch32_VMRS_VMSR(pe, 'FPEXC');
      if (outcome !== 'trap-el2') return outcome;
      takeFpTrap(this);
    }
    throw new Violation('progress', 'the guest keeps trapping to EL2 on the same FP access');
  }

  /** The real and the ideal machine disagree on a guest access: a guest-undef violation. */
  private undefMismatch(real: AccessOutcome, ideal: AccessOutcome, what: string): never {
    const v = this.s.loaded;
    const g = this.s.guests[v];
    const guestSide = this.vcpus[v].aarch32
      ? `CPACR ${g.cpacr ? 'enabled' : 'disabled'}, FPEXC.EN=${g.fpexcEn ? 1 : 0}`
      : `CPACR_EL1.FPEN ${g.cpacr ? 'enabled' : 'disabled'}`;
    const cause =
      real === 'undef-el1' && !this.s.fpexcHw && g.fpexcEn
        ? ` because FPEXC32_EL2.EN=0 is stale (the guest wrote EN=1)${this.s.tfpEffective ? ', and EN is checked before CPTR_EL2.TFP' : ''}`
        : '';
    throw new Violation(
      'guest-undef',
      `vcpu${v}'s ${what} ${outcomeWords(real)} although on its own CPU (${guestSide}) it ${outcomeWords(ideal)}${cause}`,
    );
  }

  // --- WorldMachine ------------------------------------------------------------------

  exceptionEntry(): void {
    this.sync();
  }

  exceptionReturn(): void {
    this.sync();
  }

  restoreCurrentState(): void {
    if (!this.s.foreign) return;
    this.hostFpAccessCheck('fpsimd_restore_current_state');
    this.s.regs = { ...this.s.hostTask };
    this.s.bound = HOST;
    this.s.foreign = false;
  }

  tfpWritten(): boolean {
    return this.s.tfpWritten;
  }

  clobberFp(): void {
    this.s.regs = { owner: NONE, latest: false };
  }

  policyFault(message: string): never {
    throw new Violation('progress', message);
  }

  // --- Hyp primitives ----------------------------------------------------------------

  isAArch32(vcpu: VcpuId): boolean {
    return this.vcpus.at(vcpu)?.aarch32 ?? false;
  }

  writeCptrTfp(set: boolean): void {
    this.s.tfpWritten = set;
  }

  fpEnabled(): boolean {
    // A direct read of a system register returns the last value written to it.
    return !this.s.tfpWritten;
  }

  isb(): void {
    this.sync();
  }

  saveFp(to: FpSlot): void {
    this.checkSlot(to);
    this.el2Access('__fpsimd_save_state', EL2_FPSIMDAccess);
    this.setSlot(to, { ...this.s.regs });
  }

  restoreFp(from: FpSlot): void {
    this.checkSlot(from);
    this.el2Access('__fpsimd_restore_state', EL2_FPSIMDAccess);
    this.s.regs = { ...this.slot(from) };
  }

  saveFpexc32(vcpu: VcpuId): void {
    this.el2Access('mrs fpexc32_el2', EL2_FPEXC32Access);
    this.s.fpexcSaved = replaceAt(this.s.fpexcSaved, vcpu, this.s.fpexcHw);
  }

  restoreFpexc32(vcpu: VcpuId): void {
    this.el2Access('msr fpexc32_el2', EL2_FPEXC32Access);
    this.s.fpexcHw = this.s.fpexcSaved[vcpu];
  }

  writeFpexc32En(): void {
    this.el2Access('msr fpexc32_el2, EN', EL2_FPEXC32Access);
    this.s.fpexcHw = true;
  }

  fpsimdSave(): void {
    if (this.s.foreign) return;
    this.hostFpAccessCheck('fpsimd_save');
    if (this.s.bound !== NONE)
      this.setSlot(this.s.bound === HOST ? 'hostTask' : this.s.bound, { ...this.s.regs });
  }

  bindToCpu(vcpu: VcpuId): void {
    this.s.bound = vcpuOwner(vcpu);
    this.s.foreign = false;
  }

  flushCpuState(): void {
    this.s.foreign = true;
    this.s.bound = NONE;
  }

  foreignFpstate(): boolean {
    return this.s.foreign;
  }

  // --- helpers -----------------------------------------------------------------------

  /** A slot that does not exist is a mistake in the policy's code, not a finding about it. */
  private checkSlot(slot: FpSlot): void {
    const problem = fpSlotProblem(slot, this.vcpus.length);
    if (!problem) return;
    if (this.policy.source !== undefined)
      throw new UserError(`${this.policy.source}: policy ${userText(this.policy.id)}: ${problem}`);
    throw new Error(`policy ${this.policy.id}: ${problem}`);
  }

  /** Context synchronisation: a pending CPTR_EL2 write takes effect. */
  private sync(): void {
    this.s.tfpEffective = this.s.tfpWritten;
  }

  /**
   * An EL2 access to the FP registers or FPEXC32_EL2. With a CPTR_EL2 write pending the
   * access may see the old or the new TFP (architecturally either): ask the chooser.
   */
  private el2Access(what: string, check: (pe: PeView) => AccessOutcome): void {
    let tfp = this.s.tfpEffective;
    let pendingNote = '';
    if (this.s.tfpWritten !== this.s.tfpEffective) {
      const oldTfp = this.s.tfpEffective ? 1 : 0;
      const newTfp = this.s.tfpWritten ? 1 : 0;
      const seesNew =
        this.chooser.choose(2, `${what} with a CPTR_EL2 write pending`, [
          `${what} saw the old CPTR_EL2.TFP=${oldTfp}`,
          `${what} saw the new CPTR_EL2.TFP=${newTfp}`,
        ]) === 1;
      if (seesNew) tfp = this.s.tfpWritten;
      pendingNote = ` (a CPTR_EL2 write setting TFP=${newTfp} was not yet synchronised: no ISB since)`;
    }
    const pe: PeView = {
      el: 2,
      el1IsAArch32: false,
      cpacr: ACCESS_FULL,
      asedis: false,
      fpexcEn: true,
      cptrTfp: tfp,
    };
    if (check(pe) === 'el2-self-trap') {
      const where = this.hook ? ` in ${this.hook}` : '';
      throw new Violation(
        'el2-self-trap',
        `EL2 traps on its own ${what}${where} because CPTR_EL2.TFP=1 is in effect${pendingNote}`,
      );
    }
  }

  /** A host FP access at EL1 (non-VHE): trapped to EL2 if the world switch left TFP set. */
  private hostFpAccessCheck(what: string): void {
    if (this.s.tfpEffective) {
      throw new Violation(
        'host-state',
        `the host's ${what} traps to EL2: the world switch returned to the host with CPTR_EL2.TFP still set`,
      );
    }
  }

  /** A context writes its FP state: the live copy becomes its latest, every other copy stale. */
  private write(owner: Owner): void {
    const stale = (t: Tag): Tag => (t.owner === owner ? { owner, latest: false } : t);
    this.s.hostCtxt = stale(this.s.hostCtxt);
    this.s.hostTask = stale(this.s.hostTask);
    this.s.vcpuFp = this.s.vcpuFp.map(stale);
    this.s.regs = { owner, latest: true };
  }

  private slot(s: FpSlot): Tag {
    if (s === 'hostCtxt') return this.s.hostCtxt;
    if (s === 'hostTask') return this.s.hostTask;
    return this.s.vcpuFp[s];
  }

  private setSlot(s: FpSlot | number, t: Tag): void {
    if (s === 'hostCtxt') this.s.hostCtxt = t;
    else if (s === 'hostTask') this.s.hostTask = t;
    else this.s.vcpuFp = replaceAt(this.s.vcpuFp, s, t);
  }
}

function outcomeWords(o: AccessOutcome): string {
  switch (o) {
    case 'executes':
      return 'executes';
    case 'undef-el1':
      return 'is UNDEFINED at the guest EL1';
    case 'trap-el1':
      return 'traps to the guest EL1';
    case 'trap-el2':
      return 'traps to EL2';
    case 'el2-self-trap':
      return 'traps EL2 on itself';
  }
}
