/**
 * Built-in policies, policy specs (`name:key=value,...`) and user policy modules.
 */

import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { UserError, userText } from '../util/errors.js';
import adaptive from './adaptive.js';
import eager from './eager.js';
import lazyFixed from './lazy-fixed.js';
import lazyNotafix from './lazy-notafix.js';
import lazyV4 from './lazy-v4.js';
import lazyVcpu from './lazy-vcpu.js';
import { guardCall, guardHooks, readHooks } from './guard.js';
import { importPolicyModule, POLICY_EXTENSIONS } from './load-module.js';
import { parseSpec, resolveSpecParams } from '../util/spec.js';
import { HOOK_NAMES, type Policy, type PolicyDefinition } from './types.js';
import { readUserDefinition } from './user-definition.js';

/** The built-in designs, oldest first (docs/domain.md §4 has their kernel history). */
export const BUILTIN_POLICIES: readonly PolicyDefinition[] = [
  eager,
  lazyV4,
  lazyNotafix,
  lazyFixed,
  lazyVcpu,
  adaptive,
];

/** A parsed policy spec: a built-in name or a module path, and its parameters as text. */
interface PolicySpec {
  readonly target: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Splits `name:key=value,key=value` (or `path/to/policy.ts:key=value`) into target and
 * parameters (src/util/spec.ts: the same parser reads workload specs).
 */
export function parsePolicySpec(spec: string): PolicySpec {
  return parseSpec(spec, 'policy');
}

function isPathLike(s: string): boolean {
  return s.includes('/') || s.includes('\\') || /\.[cm]?[jt]s$/.test(s);
}

/** Validates parameter values against the definition and fills in defaults. */
function resolveParams(
  def: PolicyDefinition,
  given: Readonly<Record<string, string>>,
  label: string,
): Record<string, number> {
  return resolveSpecParams(def.params ?? {}, given, label, 'policy');
}

/** The canonical id of a policy instance: name, then every parameter in definition order. */
function policyId(def: PolicyDefinition, params: Readonly<Record<string, number>>): string {
  const keys = Object.keys(def.params ?? {});
  if (keys.length === 0) return def.name;
  return `${def.name}:${keys.map((k) => `${k}=${params[k]}`).join(',')}`;
}

/** Every function a policy's hooks object may define: `init`, then the engine's hooks. */
const POLICY_FUNCTIONS = ['init', ...HOOK_NAMES] as const;

/** Instantiates a definition with parameters; a user policy's hooks are guarded (guard.ts). */
export function instantiate(
  def: PolicyDefinition,
  params: Readonly<Record<string, number>>,
  source?: string,
): Policy {
  const id = policyId(def, params);
  if (source === undefined) return { id, definition: def, params, hooks: def.create(params) };
  const where = `${userText(source)}: policy ${userText(id)}`;
  const hooks = guardCall('create()', where, () => def.create(params));
  const fns = readHooks(hooks, POLICY_FUNCTIONS, userText(source));
  return {
    id,
    definition: def,
    params,
    hooks: guardHooks(fns, hooks, id, userText(source)),
    source,
  };
}

/** Looks up a built-in policy by name. */
export function builtinPolicy(name: string): PolicyDefinition | undefined {
  return BUILTIN_POLICIES.find((p) => p.name === name);
}

/** Loads a user policy module (`.ts`, `.mts`, `.cts`, `.js`, `.mjs`, `.cjs`) by path. */
export async function loadPolicyModule(path: string): Promise<PolicyDefinition> {
  const abs = resolve(path);
  const shown = userText(path);
  if (!existsSync(abs)) throw new UserError(`${shown}: no such policy file`);
  if (!(POLICY_EXTENSIONS as readonly string[]).includes(extname(abs))) {
    throw new UserError(`${shown}: a policy module must be a ${POLICY_EXTENSIONS.join(', ')} file`);
  }
  const mod = await importPolicyModule(abs, path);
  return readUserDefinition(mod, shown, abs);
}

/**
 * Resolves a policy spec (built-in name or module path, with optional parameters) to a
 * ready policy. Throws a UserError naming the problem.
 */
export async function resolvePolicy(spec: string): Promise<Policy> {
  const { target, params } = parsePolicySpec(spec);
  const builtin = builtinPolicy(target);
  if (builtin) return instantiate(builtin, resolveParams(builtin, params, spec));
  if (isPathLike(target)) {
    const def = await loadPolicyModule(target);
    return instantiate(def, resolveParams(def, params, spec), resolve(target));
  }
  throw new UserError(
    `unknown policy "${userText(target)}" (built-in: ${BUILTIN_POLICIES.map((p) => p.name).join(', ')}; or a path to a .ts/.js module)`,
  );
}
