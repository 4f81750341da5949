/**
 * The mode abstraction (`ModeAbstraction` in the Policy API): a policy whose state is one
 * entry per vCPU, with a declared set of representative per-vCPU "modes", is checked
 * with its state forgotten. At each hook in `decidesAt` the checker lets the calling
 * vCPU's mode be any representative (a choice point, explored like any other), runs the
 * policy's own hook on it, and resets the whole state to the first representative
 * afterwards; every other hook runs on the reset state.
 *
 * Soundness (why a clean verdict here covers every parameter value): the invariants read
 * only the machine's state, never the policy's. Take any concrete history of the policy
 * with any parameters. At each hook call the concrete per-vCPU entry lies in some class;
 * by the premise the hook's effect on the machine is that of the class's representative
 * (for hooks in `decidesAt`) or of any representative (for the others). So the abstract
 * history that chooses, at each deciding hook, the class the concrete run was in makes
 * exactly the same primitive calls in the same order, hence passes through the same
 * machine states and breaks an invariant if and only if the concrete one does. The set
 * of concrete histories is thus contained in the abstract ones, for every parameter
 * value at once. The converse does not hold (the abstraction may choose a mode sequence
 * no setting produces), so a violation found here is replayed as a possible, not a
 * certain, behaviour of a given setting; for `adaptive` every mode sequence is in fact
 * reachable with `threshold=1` and some `eagerRuns`, but the checker does not rely on it.
 * The premise is tested per policy by running each hook on every concrete state of a
 * range of parameters and comparing its primitive calls with its representative's
 * (test/check-abstraction.test.ts).
 *
 * Cost: the policy state contributes one value to the state key, so the search visits at
 * most (machine states) x 1 instead of (machine states) x (counter values)^vCPUs.
 */

import { clonePlain, type Chooser } from '../machine/semantic-machine.js';
import {
  HOOK_NAMES,
  type Hyp,
  type ModeAbstraction,
  type Policy,
  type PolicyHooks,
  type VcpuId,
} from '../policy/types.js';

type HookFn = (hw: Hyp, s: unknown, vcpu: VcpuId) => void;

/** The semantic machine, seen from a hook: it carries the checker's chooser. */
interface ChoosingHyp extends Hyp {
  readonly chooser: Chooser;
}

function chooserOf(hw: Hyp): Chooser {
  const c = (hw as Partial<ChoosingHyp>).chooser;
  if (c === undefined) throw new Error('an abstract policy runs only on the semantic machine');
  return c;
}

/** The reset state: every vCPU in the first mode. */
function resetState(a: ModeAbstraction, n: number): unknown[] {
  return Array.from({ length: n }, () => clonePlain(a.vcpuModes[0].value));
}

/** Puts every entry of the (array) policy state back to the first mode, in place. */
function reset(a: ModeAbstraction, s: unknown): void {
  const arr = s as unknown[];
  for (let i = 0; i < arr.length; i++) arr[i] = clonePlain(a.vcpuModes[0].value);
}

/** One hook of the abstract policy: choose the mode (if deciding), run, reset. */
function abstractHook(a: ModeAbstraction, name: string, fn: HookFn, deciding: boolean): HookFn {
  const labels = a.vcpuModes.map((m) => m.label);
  const n = a.vcpuModes.length;
  return (hw, s, vcpu) => {
    if (deciding) {
      const k = chooserOf(hw).choose(n, `${name}: the policy's mode for vcpu${vcpu}`, labels);
      (s as unknown[])[vcpu] = clonePlain(a.vcpuModes[k].value);
    }
    try {
      fn(hw, s, vcpu);
    } finally {
      reset(a, s);
    }
  };
}

/** The abstract hooks of `hooks` under `a`. */
function abstractHooks(hooks: PolicyHooks, a: ModeAbstraction): PolicyHooks {
  const out: Record<string, unknown> = {
    init: (vcpus: readonly { id: number }[]) => resetState(a, vcpus.length),
  };
  for (const name of HOOK_NAMES) {
    if (hooks[name] === undefined) continue;
    const fn: HookFn = (hw, s, vcpu) => hooks[name]?.(hw, s, vcpu);
    out[name] = abstractHook(a, name, fn, a.decidesAt.includes(name));
  }
  return out as unknown as PolicyHooks;
}

/**
 * The policy the checker explores for `policy`: its mode abstraction when its definition
 * declares one (and `abstract` is not false), else the policy itself. `covers` says which
 * parameter values the verdict on the result covers.
 */
export function checkedPolicy(
  policy: Policy,
  abstract = true,
): { policy: Policy; covers: string; abstracted: boolean } {
  const a = policy.definition.abstraction;
  if (abstract && a !== undefined) {
    const hooks = abstractHooks(policy.hooks, a);
    return {
      policy: { ...policy, id: policy.definition.name, hooks },
      covers: a.covers,
      abstracted: true,
    };
  }
  return { policy, covers: concreteCovers(policy), abstracted: false };
}

/** What a verdict on the policy as given covers: its parameter values, or the one design. */
function concreteCovers(policy: Policy): string {
  const entries = Object.entries(policy.params);
  if (entries.length === 0) return 'the design (no parameters)';
  return `only ${entries.map(([k, v]) => `${k}=${v}`).join(', ')}`;
}
