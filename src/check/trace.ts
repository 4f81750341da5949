/**
 * Steps of a history: each event with the register state that matters after it (or, for
 * the step that breaks an invariant, at the moment it broke). This is what a
 * counterexample and a scenario replay print, one step a line.
 */

import {
  clonePlain,
  type Invariant,
  type SemanticMachine,
  type SemState,
  tagName,
  Violation,
} from '../machine/semantic-machine.js';
import type { HookName } from '../policy/types.js';
import { applyEvent, type CheckEvent, eventName } from './events.js';
import { VectorChooser } from './outcomes.js';

/** The registers and flags a hypervisor engineer looks at, at one point in a history. */
export interface StepState {
  /** The loaded vCPU, or null. */
  readonly loaded: number | null;
  /** Where the CPU is: in the guest, in the host, or (at a violation) in a policy hook at EL2. */
  readonly at: 'guest' | 'host' | 'hook';
  /** The policy hook running when the violation happened, else null. */
  readonly hook: HookName | null;
  /** CPTR_EL2.TFP in effect. */
  readonly tfp: boolean;
  /** CPTR_EL2.TFP as last written; differs from `tfp` while the write is pending (no ISB yet). */
  readonly tfpWritten: boolean;
  /** FPEXC32_EL2.EN as the hardware holds it. */
  readonly fpexc32En: boolean;
  /** Whose FP/SIMD state the registers hold (`vcpu0`, `host`, `host (stale)`, `nobody`). */
  readonly fpRegs: string;
  /** The loaded vCPU's own view on its ideal machine: CPACR grants FP, and (AArch32) FPEXC.EN. */
  readonly guest: { readonly cpacr: boolean; readonly fpexcEn: boolean | null } | null;
  /** Host TIF_FOREIGN_FPSTATE: the registers are not the host task's. */
  readonly tifForeignFpstate: boolean;
  /** The policy's own software state (flags, counters). */
  readonly policy: unknown;
}

export interface Step {
  /** 1-based position in the history. */
  readonly n: number;
  readonly event: string;
  /** Outcomes the architecture left open in this step, as taken. */
  readonly choices: readonly string[];
  /** The policy hooks the step ran, in order (`onFpTrap` marks an FP trap to EL2). */
  readonly hooks: readonly HookName[];
  readonly state: StepState;
  /** Set on the step that broke an invariant. */
  readonly violation?: { readonly invariant: Invariant; readonly message: string };
}

function stepState(m: SemanticMachine, inHook: boolean): StepState {
  const s: SemState = m.s;
  const v = s.loaded;
  return {
    loaded: v >= 0 ? v : null,
    at: inHook && m.hook ? 'hook' : s.running ? 'guest' : 'host',
    hook: inHook ? (m.hook ?? null) : null,
    tfp: s.tfpEffective,
    tfpWritten: s.tfpWritten,
    fpexc32En: s.fpexcHw,
    fpRegs: tagName(s.regs),
    guest:
      v >= 0
        ? { cpacr: s.guests[v].cpacr, fpexcEn: m.vcpus[v].aarch32 ? s.guests[v].fpexcEn : null }
        : null,
    tifForeignFpstate: s.foreign,
    // A copy: the hooks mutate the policy's state in place as the history goes on.
    policy: clonePlain(s.policy),
  };
}

/**
 * Runs one event on the machine's current state, asking `chooser` at every point the
 * architecture leaves open; returns the step and the violation, if any.
 */
export function runStep(
  m: SemanticMachine,
  n: number,
  event: CheckEvent,
  chooser: VectorChooser,
): { step: Step; violation?: Violation } {
  m.chooser = chooser;
  m.clearHooksRun();
  let violation: Violation | undefined;
  try {
    applyEvent(m, event);
  } catch (e) {
    if (!(e instanceof Violation)) throw e;
    violation = e;
  }
  const step: Step = {
    n,
    event: eventName(event),
    choices: chooser.labels.slice(),
    hooks: m.hooksRun.slice(),
    state: stepState(m, violation !== undefined),
    ...(violation
      ? { violation: { invariant: violation.invariant, message: violation.message } }
      : {}),
  };
  return { step, violation };
}

/** Replays a path of events with their recorded choices from the initial state. */
export function tracePath(
  m: SemanticMachine,
  initial: SemState,
  path: readonly { readonly event: CheckEvent; readonly choices: readonly number[] }[],
): { steps: Step[]; violation?: Violation } {
  m.restore(initial);
  const steps: Step[] = [];
  for (let i = 0; i < path.length; i++) {
    const { step, violation } = runStep(
      m,
      i + 1,
      path[i].event,
      new VectorChooser(path[i].choices),
    );
    steps.push(step);
    if (violation) return { steps, violation };
  }
  return { steps };
}

/** The state before any event, as step 0. */
export function bootStep(m: SemanticMachine): Step {
  return { n: 0, event: '(boot)', choices: [], hooks: [], state: stepState(m, false) };
}
