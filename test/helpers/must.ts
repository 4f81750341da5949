/** `x`, or a test failure naming what was missing (instead of a non-null assertion). */
export function must<T>(x: T | null | undefined, what: string): T {
  if (x === null || x === undefined) throw new Error(`expected ${what}`);
  return x;
}
