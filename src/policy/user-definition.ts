/**
 * Reading a policy definition out of a user's module: every field copied once into plain
 * data (a getter that throws, a null prototype, a parameter whose default is the string
 * 'abc' all become one clear line), so nothing later touches the module's objects
 * except through the guarded `create`.
 */

import { thrownText, UserError, userText } from '../util/errors.js';
import type { ParamSpec, PolicyDefinition } from './types.js';

const EXPECTED = 'expected `export default definePolicy({ name, summary, models, create })`';

/** `obj[key]`, with a throwing getter reported as a UserError. */
function field(obj: object, key: string, where: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch (e) {
    throw new UserError(`${where}: reading "${key}" threw: ${thrownText(e)}`);
  }
}

function isObject(x: unknown): x is object {
  return x !== null && typeof x === 'object';
}

/** The module's policy: its default export (or `policy`; a CommonJS `exports.default`). */
function pickExport(mod: Record<string, unknown>, shown: string): object {
  let def = field(mod, 'default', shown) ?? field(mod, 'policy', shown);
  if (isObject(def) && field(def, 'create', shown) === undefined) {
    const inner = field(def, 'default', shown);
    if (isObject(inner)) def = inner;
  }
  if (!isObject(def)) {
    throw new UserError(
      `${shown}: does not export a policy (the default export is not an object; ${EXPECTED})`,
    );
  }
  return def;
}

/** One parameter spec, checked: a finite number default inside [min, max]. */
function readParamSpec(spec: unknown, key: string, where: string): ParamSpec {
  const at = `${where}: parameter "${userText(key)}"`;
  if (!isObject(spec)) throw new UserError(`${at}: its spec is not an object`);
  const num = (name: string): number => {
    const v = field(spec, name, at);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      const got = typeof v === 'string' ? JSON.stringify(v) : typeof v;
      throw new UserError(`${at}: "${name}" must be a finite number (got ${userText(got)})`);
    }
    return v;
  };
  const optional = (name: string): number | undefined =>
    field(spec, name, at) === undefined ? undefined : num(name);
  const dflt = num('default');
  const min = optional('min');
  const max = optional('max');
  const integer = field(spec, 'integer', at);
  if (integer !== undefined && typeof integer !== 'boolean') {
    throw new UserError(`${at}: "integer" must be true or false`);
  }
  if ((min !== undefined && dflt < min) || (max !== undefined && dflt > max)) {
    throw new UserError(`${at}: default ${dflt} is outside [${min ?? '-inf'}, ${max ?? 'inf'}]`);
  }
  if (integer === true && !Number.isInteger(dflt)) {
    throw new UserError(`${at}: default ${dflt} is not an integer`);
  }
  const description = field(spec, 'description', at);
  return {
    default: dflt,
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(integer !== undefined ? { integer } : {}),
    description: typeof description === 'string' ? description : '',
  };
}

function readParams(value: unknown, where: string): Record<string, ParamSpec> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new UserError(`${where}: "params" is not an object`);
  let keys: string[];
  try {
    keys = Object.keys(value);
  } catch (e) {
    throw new UserError(`${where}: reading "params" threw: ${thrownText(e)}`);
  }
  const out: Record<string, ParamSpec> = {};
  for (const key of keys) out[key] = readParamSpec(field(value, key, where), key, where);
  return out;
}

/**
 * The policy definition a user's module exports, as plain checked data. `shown` names
 * the file in errors, `abs` stands in for a missing `models`. Throws UserError.
 */
export function readUserDefinition(
  mod: Record<string, unknown>,
  shown: string,
  abs: string,
): PolicyDefinition {
  const def = pickExport(mod, shown);
  const name = field(def, 'name', shown);
  if (typeof name !== 'string' || name === '') {
    throw new UserError(
      `${shown}: does not export a policy (it has no "name" string; ${EXPECTED})`,
    );
  }
  if (!/^[\w.@+-]{1,64}$/.test(name)) {
    throw new UserError(
      `${shown}: policy name "${userText(name)}" must be 1-64 letters, digits or ._@+-`,
    );
  }
  const create = field(def, 'create', shown);
  if (typeof create !== 'function') {
    throw new UserError(
      `${shown}: does not export a policy (it has no "create(params)" function; ${EXPECTED})`,
    );
  }
  const summary = field(def, 'summary', shown);
  const models = field(def, 'models', shown);
  return {
    name,
    summary: typeof summary === 'string' ? userText(summary) : '(user policy)',
    models: typeof models === 'string' ? userText(models) : abs,
    params: readParams(field(def, 'params', shown), shown),
    create: (params) => (create as (p: unknown) => never).call(def, params),
  };
}
