/**
 * Guards around a user policy's code: whatever its hooks do (throw any value, return a
 * promise, hide a hook behind a throwing getter, loop forever) the command ends with one
 * line naming the file, the policy and the hook. Built-in policies are not wrapped.
 */

import { isEngineError, thrownText, UserError, userText } from '../util/errors.js';
import type { PolicyHooks } from './types.js';
import { enterWatched, leaveWatched, watchLabel } from './watchdog.js';

type HookFn = (...args: unknown[]) => unknown;

/** The hooks every policy must define. */
const REQUIRED_HOOKS = ['init', 'onEntry', 'onExit'] as const;

/**
 * Reads a user's hooks object once, safely: a getter that throws, a hook that is not a
 * function or a missing required hook is a UserError. Returns the functions found.
 */
export function readHooks(
  hooks: unknown,
  names: readonly string[],
  where: string,
): Record<string, HookFn> {
  if (hooks === null || typeof hooks !== 'object') {
    throw new UserError(`${where}: create() did not return an object of hooks`);
  }
  const found: Record<string, HookFn> = {};
  for (const name of names) {
    let fn: unknown;
    try {
      fn = (hooks as Record<string, unknown>)[name];
    } catch (e) {
      throw new UserError(`${where}: reading hook "${name}" threw: ${thrownText(e)}`);
    }
    if (fn === undefined) continue;
    if (typeof fn !== 'function') throw new UserError(`${where}: hook "${name}" is not a function`);
    found[name] = fn as HookFn;
  }
  for (const required of REQUIRED_HOOKS) {
    if (!(required in found))
      throw new UserError(`${where}: create() returned no "${required}" hook`);
  }
  return found;
}

/** Whether `x` looks like a promise (a thenable); never throws. */
function isThenable(x: unknown): x is PromiseLike<unknown> {
  if (x === null || (typeof x !== 'object' && typeof x !== 'function')) return false;
  try {
    return typeof (x as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

/** A hook returned a promise: keep its rejection from crashing the process later. */
function swallow(p: PromiseLike<unknown>): void {
  try {
    Promise.resolve(p).catch(() => undefined);
  } catch {
    // a hostile thenable: nothing to wait for
  }
}

/**
 * Calls user code in watched section `watch`: a thrown value of any kind becomes one
 * UserError "<where> threw in <what>: ..." (the engine's own errors pass through); a
 * returned promise is refused with "<where>: <promised>".
 */
function callGuarded(
  watch: number,
  where: string,
  what: string,
  promised: string,
  call: () => unknown,
): unknown {
  let result: unknown;
  enterWatched(watch);
  try {
    result = call();
  } catch (e) {
    if (isEngineError(e)) throw e;
    throw new UserError(`${where} threw in ${what}: ${thrownText(e)}`);
  } finally {
    leaveWatched();
  }
  if (isThenable(result)) {
    swallow(result);
    throw new UserError(`${where}: ${promised}`);
  }
  return result;
}

/**
 * Wraps each hook: a thrown value of any kind becomes one UserError naming the file,
 * policy and hook (the engine's own errors pass through); a returned promise is refused
 * (hooks are synchronous: the machine needs their effect before the next event); a call
 * that runs past the watchdog's budget is stopped. Cost: a try/catch and two atomic
 * stores per call.
 */
export function guardHooks(
  fns: Readonly<Record<string, HookFn>>,
  self: unknown,
  id: string,
  source: string,
): PolicyHooks {
  const guarded: Record<string, HookFn> = {};
  for (const [name, fn] of Object.entries(fns)) {
    const where = `${source}: policy ${userText(id)}`;
    const watch = watchLabel(`policy ${userText(id)} (${source}) in hook ${name}`);
    const promised = `hook ${name} returned a Promise (hooks must be synchronous: no async)`;
    guarded[name] = (...args: unknown[]) =>
      callGuarded(watch, where, name, promised, () => fn.apply(self, args));
  }
  return guarded as unknown as PolicyHooks;
}

/** Runs a user's `create(params)` (or any one-off call into user code) guarded the same way. */
export function guardCall(what: string, where: string, call: () => unknown): unknown {
  const watch = watchLabel(`${where} in ${what}`);
  return callGuarded(
    watch,
    where,
    what,
    `${what} returned a Promise (it must be synchronous)`,
    call,
  );
}
