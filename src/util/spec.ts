/**
 * `name:key=value,key=value` specs: how a policy (`adaptive:threshold=4`) and a workload
 * (`hackbench:vcpus=2,groups=2`) are named with parameters on the command line. One
 * parser and one validator for both, so the two read and fail the same way.
 */

import { UserError, userText } from './errors.js';

/** A numeric parameter: its default, its range and what it means. */
export interface NumericParam {
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  readonly description: string;
}

/** A parsed spec: a name or a module/file path, and its parameters as text. */
interface Spec {
  readonly target: string;
  readonly params: Readonly<Record<string, string>>;
}

const PARAM_LIST = /^[A-Za-z_][\w-]*=[^,=]*(,[A-Za-z_][\w-]*=[^,=]*)*$/;

function isPathLike(s: string): boolean {
  return s.includes('/') || s.includes('\\') || /\.(m?[jt]s|json)$/.test(s);
}

/**
 * Splits `name:key=value,key=value` (or `path/to/file:key=value`) into target and
 * parameters. The last `:` starts the parameters only if what follows is a parameter
 * list. `what` names the kind of thing in messages ("policy", "workload").
 */
export function parseSpec(spec: string, what: string): Spec {
  const s = spec.trim();
  if (s === '') throw new UserError(`${what}: empty ${what} name`);
  const colon = s.lastIndexOf(':');
  let target = s;
  let list = '';
  if (colon >= 0 && PARAM_LIST.test(s.slice(colon + 1))) {
    target = s.slice(0, colon);
    list = s.slice(colon + 1);
  } else if (colon >= 0 && !isPathLike(s)) {
    throw new UserError(
      `${what} "${userText(spec)}": parameters must be given as name:key=value,key=value`,
    );
  }
  const params: Record<string, string> = {};
  if (list !== '') {
    for (const pair of list.split(',')) {
      const eq = pair.indexOf('=');
      const key = pair.slice(0, eq);
      if (key in params)
        throw new UserError(
          `${what} "${userText(spec)}": parameter "${userText(key)}" given twice`,
        );
      params[key] = pair.slice(eq + 1);
    }
  }
  return { target, params };
}

/**
 * Validates parameter values against their definitions and fills in defaults: an unknown
 * key, a value that is not a number, not an integer where one is required, or out of
 * range is one UserError line naming the spec and the parameter.
 */
export function resolveSpecParams(
  defs: Readonly<Record<string, NumericParam>>,
  given: Readonly<Record<string, string>>,
  label: string,
  what: string,
): Record<string, number> {
  for (const key of Object.keys(given)) {
    if (!(key in defs)) {
      const known = Object.keys(defs);
      throw new UserError(
        `${what} "${userText(label)}": unknown parameter "${userText(key)}"` +
          (known.length ? ` (known: ${known.join(', ')})` : ' (it takes no parameters)'),
      );
    }
  }
  const out: Record<string, number> = {};
  for (const [key, def] of Object.entries(defs)) {
    const text = key in given ? given[key] : undefined;
    out[key] =
      text === undefined ? def.default : checkValue(def, key, text, `${what} "${userText(label)}"`);
  }
  return out;
}

function checkValue(def: NumericParam, key: string, text: string, where: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new UserError(`${where}: parameter ${userText(key)}="${userText(text)}" is not a number`);
  }
  if (def.integer && !Number.isInteger(value)) {
    throw new UserError(
      `${where}: parameter ${userText(key)}=${userText(text)} must be an integer`,
    );
  }
  if (def.min !== undefined && value < def.min) {
    throw new UserError(
      `${where}: parameter ${userText(key)}=${userText(text)} is below its minimum ${def.min}`,
    );
  }
  if (def.max !== undefined && value > def.max) {
    throw new UserError(
      `${where}: parameter ${userText(key)}=${userText(text)} is above its maximum ${def.max}`,
    );
  }
  return value;
}
