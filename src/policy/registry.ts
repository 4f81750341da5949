/**
 * Built-in policies, policy specs (`name:key=value,...`) and user policy modules.
 */

import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../util/errors.js';
import adaptive from './adaptive.js';
import eager from './eager.js';
import lazyFixed from './lazy-fixed.js';
import lazyNotafix from './lazy-notafix.js';
import lazyV4 from './lazy-v4.js';
import lazyVcpu from './lazy-vcpu.js';
import {
  HOOK_NAMES,
  type ParamSpec,
  type Policy,
  type PolicyDefinition,
  type PolicyHooks,
} from './types.js';

/** The built-in designs, oldest first (DESIGN.md "Built-in policies"). */
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
    throw new UserError(`policy "${spec}": parameters must be given as name:key=value,key=value`);
  }
  const params: Record<string, string> = {};
  if (list !== '') {
    for (const pair of list.split(',')) {
      const eq = pair.indexOf('=');
      const key = pair.slice(0, eq);
      if (key in params) throw new UserError(`policy "${spec}": parameter "${key}" given twice`);
      params[key] = pair.slice(eq + 1);
    }
  }
  return { target, params };
}

function isPathLike(s: string): boolean {
  return s.includes('/') || s.includes('\\') || /\.(m?[jt]s)$/.test(s);
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
        `policy "${label}": unknown parameter "${key}"` +
          (known.length ? ` (known: ${known.join(', ')})` : ' (it takes no parameters)'),
      );
    }
  }
  const out: Record<string, number> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const text = Object.hasOwn(given, key) ? given[key] : undefined;
    if (text === undefined) {
      out[key] = spec.default;
      continue;
    }
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) {
      throw new UserError(`policy "${label}": parameter ${key}="${text}" is not a number`);
    }
    if (spec.integer && !Number.isInteger(value)) {
      throw new UserError(`policy "${label}": parameter ${key}=${text} must be an integer`);
    }
    if (spec.min !== undefined && value < spec.min) {
      throw new UserError(
        `policy "${label}": parameter ${key}=${text} is below its minimum ${spec.min}`,
      );
    }
    if (spec.max !== undefined && value > spec.max) {
      throw new UserError(
        `policy "${label}": parameter ${key}=${text} is above its maximum ${spec.max}`,
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

/** Errors the engine throws on purpose (a broken invariant, a user's mistake): passed through. */
function isEngineError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'Violation' || e.name === 'UserError');
}

/**
 * Wraps a user policy's hooks so that an exception from its own code is reported as one
 * line naming the file, the policy and the hook, never as a stack trace.
 */
function guardHooks(hooks: PolicyHooks, id: string, source: string): PolicyHooks {
  const guarded: Record<string, unknown> = {};
  for (const name of ['init', ...HOOK_NAMES]) {
    const fn = (hooks as unknown as Record<string, unknown>)[name];
    if (typeof fn !== 'function') continue;
    guarded[name] = (...args: unknown[]) => {
      try {
        return (fn as (...a: unknown[]) => unknown).apply(hooks, args);
      } catch (e) {
        if (isEngineError(e)) throw e;
        const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
        throw new UserError(`${source}: policy ${id} threw in ${name}: ${msg}`);
      }
    };
  }
  return guarded as unknown as PolicyHooks;
}

/** Instantiates a definition with parameters; a user policy's hooks are guarded. */
export function instantiate(
  def: PolicyDefinition,
  params: Readonly<Record<string, number>>,
  source?: string,
): Policy {
  const id = policyId(def, params);
  if (source === undefined) return { id, definition: def, params, hooks: def.create(params) };
  let hooks: PolicyHooks;
  try {
    hooks = def.create(params);
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UserError(`${source}: policy ${id} threw in create(): ${msg}`);
  }
  checkHooks(hooks, source);
  return { id, definition: def, params, hooks: guardHooks(hooks, id, source), source };
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

/** Loads a user policy module (`.ts`, `.mts`, `.js`, `.mjs`) by path. */
export async function loadPolicyModule(path: string): Promise<PolicyDefinition> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UserError(`${path}: no such policy file`);
  const ext = extname(abs);
  if (!['.ts', '.mts', '.js', '.mjs'].includes(ext)) {
    throw new UserError(`${path}: a policy module must be a .ts or .js file`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UserError(`${path}: cannot load policy module: ${msg}`);
  }
  const def = mod.default ?? mod.policy;
  const problem = policyShapeProblem(def);
  if (problem) {
    throw new UserError(
      `${path}: does not export a policy (${problem}; expected \`export default definePolicy({ name, summary, models, create })\`)`,
    );
  }
  const d = def as PolicyDefinition;
  return {
    name: d.name,
    summary: typeof d.summary === 'string' ? d.summary : '(user policy)',
    models: typeof d.models === 'string' ? d.models : abs,
    params: d.params,
    create: d.create.bind(d),
  };
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
    `unknown policy "${target}" (built-in: ${BUILTIN_POLICIES.map((p) => p.name).join(', ')}; or a path to a .ts/.js module)`,
  );
}

function checkHooks(hooks: PolicyHooks, path: string): void {
  const h = hooks as unknown as Record<string, unknown> | null;
  if (h === null || typeof h !== 'object') {
    throw new UserError(`${path}: create() did not return an object of hooks`);
  }
  for (const required of ['init', 'onEntry', 'onExit']) {
    if (typeof h[required] !== 'function') {
      throw new UserError(`${path}: create() returned no "${required}" hook`);
    }
  }
  for (const name of HOOK_NAMES) {
    if (h[name] !== undefined && typeof h[name] !== 'function') {
      throw new UserError(`${path}: hook "${name}" is not a function`);
    }
  }
}
