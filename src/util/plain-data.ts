/**
 * Plain data: what a policy's state must be so that the engine can copy, compare and hash
 * it (JSON round trip without loss): null, booleans, finite numbers, strings, arrays and
 * plain objects of these. Returns the path of the first value that is not, or undefined.
 */
export function notPlainData(x: unknown, path = 'state'): string | undefined {
  if (x === null || typeof x === 'boolean' || typeof x === 'string') return undefined;
  if (typeof x === 'number') return Number.isFinite(x) ? undefined : `${path} is ${x}`;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      const p = notPlainData(x[i], `${path}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  if (typeof x === 'object') {
    const proto = Object.getPrototypeOf(x) as { constructor?: { name?: string } } | null;
    if (proto !== Object.prototype && proto !== null)
      return `${path} is a ${proto.constructor?.name ?? 'non-plain object'}`;
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
      if (v === undefined) return `${path}.${k} is undefined`;
      const p = notPlainData(v, `${path}.${k}`);
      if (p) return p;
    }
    return undefined;
  }
  return `${path} is a ${typeof x}`;
}
