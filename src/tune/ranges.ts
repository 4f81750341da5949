/**
 * Parameter ranges for sweeps: `1..32` (inclusive integers), `1..32:4` (step 4),
 * `16,64,256` (a list), or a single value.
 */

import { UserError, userText } from '../util/errors.js';

/** Parses a range; `what` names the flag or parameter in messages. Cost: O(values). */
export function parseRange(text: string, what: string, maxValues = 10_000): number[] {
  const t = text.trim();
  const range = /^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(t);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    const stepText = range.at(3); // the step is optional
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!(step > 0)) throw new UserError(`${what} ${userText(text)}: the step must be positive`);
    if (to < from)
      throw new UserError(
        `${what} ${userText(text)}: the range is empty (${from} > ${userText(to)})`,
      );
    const n = Math.floor((to - from) / step + 1e-9) + 1;
    if (n > maxValues)
      throw new UserError(`${what} ${userText(text)}: ${n} values is more than ${maxValues}`);
    return Array.from({ length: n }, (_, i) => Number((from + i * step).toPrecision(12)));
  }
  const parts = t.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v))) {
    throw new UserError(
      `${what} ${userText(text)}: expected a range such as 1..32, 1..32:4, or a list such as 16,64,256`,
    );
  }
  return [...new Set(values)];
}

/** The cartesian product of named value lists, in a fixed order (first key slowest). */
export function cartesian(
  ranges: Readonly<Record<string, readonly number[]>>,
): Record<string, number>[] {
  let out: Record<string, number>[] = [{}];
  for (const [key, values] of Object.entries(ranges)) {
    const next: Record<string, number>[] = [];
    for (const base of out) for (const v of values) next.push({ ...base, [key]: v });
    out = next;
  }
  return out;
}
