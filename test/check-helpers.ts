/**
 * Shared helpers for the checker tests: policies by name, the mutant of lazy-fixed, and
 * the CLI run with its output captured.
 */

import lazyFixed from '../src/policy/lazy-fixed.js';
import { instantiate, resolvePolicy } from '../src/policy/registry.js';
import {
  definePolicy,
  HOOK_NAMES,
  type HookName,
  type Hyp,
  type Policy,
  type PolicyHooks,
  type VcpuDesc,
} from '../src/policy/types.js';
import { runCli } from './helpers/cli.js';

export const NOISB_FIXTURE = 'test/fixtures/policies/lazy-noisb.ts';
export const SCENARIOS = 'test/fixtures/scenarios';

export async function policy(spec: string): Promise<Policy> {
  return resolvePolicy(spec);
}

/** `hw` with one primitive turned into a no-op: a mutation of whatever code calls it. */
function withoutPrimitive(hw: Hyp, name: keyof Hyp): Hyp {
  return new Proxy(hw, {
    get(target, prop) {
      if (prop === name) return () => {};
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * A mutant of a policy: its own hooks, unchanged, except that in the hook `where` the
 * primitive `primitive` does nothing (as if that line were deleted from the hyp code).
 */
export async function mutant(
  spec: string,
  where: HookName | 'all',
  primitive: keyof Hyp,
  /** Keep the original's mode abstraction and symmetry declaration (checked through them). */
  keepAbstraction = false,
): Promise<Policy> {
  const original = await resolvePolicy(spec);
  const base = original.hooks;
  const hooks: Record<string, unknown> = { init: (vcpus: readonly VcpuDesc[]) => base.init(vcpus) };
  for (const name of HOOK_NAMES) {
    if (!(name in base)) continue;
    const call = (hw: Hyp, s: unknown, v: number) => base[name]?.(hw, s, v);
    hooks[name] =
      where === 'all' || where === name
        ? (hw: Hyp, s: unknown, v: number) => call(withoutPrimitive(hw, primitive), s, v)
        : call;
  }
  const def = definePolicy({
    name: `${original.id}-without-${primitive}${where === 'all' ? '' : `-in-${where}`}`,
    summary: `mutant of ${original.id}`,
    models: `mutation of ${original.id}`,
    ...(keepAbstraction
      ? {
          abstraction: original.definition.abstraction,
          vcpuSymmetric: original.definition.vcpuSymmetric,
        }
      : {}),
    create: () => hooks as unknown as PolicyHooks,
  });
  return instantiate(def, {});
}

/**
 * The mutation test's mutant: lazy-fixed's own hooks, run with `writeFpexc32En` (the
 * FPEXC32_EL2 = EN write of the v4.5 fix) removed and nothing else changed.
 */
export function lazyFixedWithoutFpexcEn(): Policy {
  const base = lazyFixed.create({});
  const def = definePolicy({
    name: 'lazy-fixed-no-fpexc-en',
    summary: 'lazy-fixed with the FPEXC32_EL2.EN write on entry removed (mutant)',
    models: 'mutation of lazy-fixed',
    create: () => ({
      init: (vcpus) => base.init(vcpus),
      onEntry: (hw, s, v) => base.onEntry(withoutPrimitive(hw, 'writeFpexc32En'), s, v),
      onFpTrap: (hw, s, v) => base.onFpTrap?.(withoutPrimitive(hw, 'writeFpexc32En'), s, v),
      onExit: (hw, s, v) => base.onExit(withoutPrimitive(hw, 'writeFpexc32En'), s, v),
    }),
  });
  return instantiate(def, {});
}

interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `fpswitch <args>` in-process and captures stdout and stderr. */
export async function cli(args: readonly string[]): Promise<CliRun> {
  const r = await runCli(args);
  return { code: r.code, out: r.stdout, err: r.stderr };
}
