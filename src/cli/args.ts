/**
 * Command-line parsing helpers: node:util parseArgs with every mistake turned into a
 * UserError (one line, exit 2).
 */

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError, userText } from '../util/errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** What `parse` returns for `options` (named so the compiled .d.ts can refer to it). */
type Parsed<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>
>;

/** Parses `argv` strictly; unknown flags and missing values become UserErrors. */
export function parse<T extends Options>(
  command: string,
  argv: readonly string[],
  options: T,
  allowPositionals = false,
): Parsed<T> {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      const msg = err.message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
      throw new UserError(
        `${userText(msg)} (see ${command === 'bench' ? 'npm run bench -- --help' : `fpswitch ${command} --help`})`,
      );
    }
    throw e;
  }
}

/** Parses a positive integer flag value (allows 1e6 and 1_000_000 forms). */
export function intFlag(
  name: string,
  text: string | undefined,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (text === undefined) return fallback;
  const clean = text.replace(/_/g, '');
  const v = Number(clean);
  if (clean.trim() === '' || !Number.isInteger(v) || v < min || v > max) {
    throw new UserError(
      `--${userText(name)} ${userText(text)}: expected an integer from ${min} to ${max}`,
    );
  }
  return v;
}

/** Parses a seed: a non-negative integer below 2^32. */
export function seedFlag(text: string | undefined, fallback = 1): number {
  return intFlag('seed', text, fallback, 0, 2 ** 32 - 1);
}

/** Flags given more than once come as arrays with `multiple: true`; this flattens comma lists too. */
export function listFlag(values: string[] | string | undefined): string[] {
  if (values === undefined) return [];
  const arr = Array.isArray(values) ? values : [values];
  return arr
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}
