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
import type { ParamSpec, Policy, PolicyDefinition } from './types.js';
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
export interface PolicySpec {
  readonly target: string;
  readonly params: Readonly<Record<string, string>>;
}

const PARAM_LIST = /^[A-Za-z_][\w-]*=[^,=]*(,[A-Za-z_][\w-]*=[^,=]*)*$/;

/**
 * Splits `name:key=value,key=value` (or `path/to/policy.ts:key=value`) into target and
 * parameters. The last `:` starts the parameters only if what follows is a parameter list.
 */
export function parsePolicySpec(spec: string): PolicySpec {
  const s = spec.trim();
  if (s === '') throw new UserError('policy: empty policy name');
  const colon = s.lastIndexOf(':');
  let target = s;
  let list = '';
  if (colon >= 0 && PARAM_LIST.test(s.slice(colon + 1))) {
    target = s.slice(0, colon);
    list = s.slice(colon + 1);
  } else if (colon >= 0 && !isPathLike(s)) {
    throw new UserError(
      `policy "${userText(spec)}": parameters must be given as name:key=value,key=value`,
    );
  }
  const params: Record<string, string> = {};
  if (list !== '') {
    for (const pair of list.split(',')) {
      const eq = pair.indexOf('=');
      const key = pair.slice(0, eq);
      if (key in params)
        throw new UserError(`policy "${userText(spec)}": parameter "${userText(key)}" given twice`);
      params[key] = pair.slice(eq + 1);
    }
  }
  return { target, params };
}

function isPathLike(s: string): boolean {
  return s.includes('/') || s.includes('\\') || /\.[cm]?[jt]s$/.test(s);
}

/** Validates parameter values against the definition and fills in defaults. */
export function resolveParams(
  def: PolicyDefinition,
  given: Readonly<Record<string, string>>,
  label: string,
): Record<string, number> {
  const specs: Readonly<Record<string, ParamSpec>> = def.params ?? {};
  for (const key of Object.keys(given)) {
    if (!(key in specs)) {
      const known = Object.keys(specs);
      throw new UserError(
        `policy "${userText(label)}": unknown parameter "${userText(key)}"` +
          (known.length ? ` (known: ${known.join(', ')})` : ' (it takes no parameters)'),
      );
    }
  }
  const out: Record<string, number> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const text = given[key];
    if (text === undefined) {
      out[key] = spec.default;
      continue;
    }
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) {
      throw new UserError(
        `policy "${userText(label)}": parameter ${userText(key)}="${userText(text)}" is not a number`,
      );
    }
    if (spec.integer && !Number.isInteger(value)) {
      throw new UserError(
        `policy "${userText(label)}": parameter ${userText(key)}=${userText(text)} must be an integer`,
      );
    }
    if (spec.min !== undefined && value < spec.min) {
      throw new UserError(
        `policy "${userText(label)}": parameter ${userText(key)}=${userText(text)} is below its minimum ${spec.min}`,
      );
    }
    if (spec.max !== undefined && value > spec.max) {
      throw new UserError(
        `policy "${userText(label)}": parameter ${userText(key)}=${userText(text)} is above its maximum ${spec.max}`,
      );
    }
    out[key] = value;
  }
  return out;
}

/** The canonical id of a policy instance: name, then every parameter in definition order. */
export function policyId(def: PolicyDefinition, params: Readonly<Record<string, number>>): string {
  const keys = Object.keys(def.params ?? {});
  if (keys.length === 0) return def.name;
  return `${def.name}:${keys.map((k) => `${k}=${params[k]}`).join(',')}`;
}

/** The hooks a policy may define, in lifecycle order. */
export const HOOK_NAMES = [
  'init',
  'onVcpuLoad',
  'onEntry',
  'onFpTrap',
  'onExit',
  'onVcpuPut',
  'onReturnToUser',
] as const;

/** Instantiates a definition with parameters; a user policy's hooks are guarded (guard.ts). */
export function instantiate(
  def: PolicyDefinition,
  params: Readonly<Record<string, number>>,
  source?: string,
): Policy {
  const id = policyId(def, params);
  if (source === undefined) return { id, definition: def, params, hooks: def.create(params) };
  const where = `${userText(source)}: policy ${userText(id)}`;
  const hooks = guardCall('create()', where, () => def.create(params) as unknown);
  const fns = readHooks(hooks, HOOK_NAMES, userText(source));
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

/**
 * Checks that a module's export looks like a policy definition; returns a reason when not.
 */
export function policyShapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'the default export is not an object';
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string' || v.name === '') return 'it has no "name" string';
  if (typeof v.create !== 'function') return 'it has no "create(params)" function';
  if (v.params !== undefined && (v.params === null || typeof v.params !== 'object')) {
    return '"params" is not an object';
  }
  return undefined;
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
