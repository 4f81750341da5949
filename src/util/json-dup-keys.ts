/**
 * Duplicated keys in JSON text. `JSON.parse` keeps the last of two equal keys without a
 * word, so a workload with `"rate"` written twice would silently run with the second;
 * fpswitch refuses such files instead.
 */

/** A duplicated key: its decoded name and where the second one starts (1-based). */
interface DuplicateKey {
  readonly key: string;
  readonly line: number;
  readonly column: number;
}

/**
 * The first key that appears twice in the same object of `text`, which must already be
 * valid JSON (JSON.parse succeeded). Cost: one pass over the text; a Set per open object.
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  // One entry per open container: the keys seen (objects) or null (arrays).
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    } else if (c === 0x22 /* " */) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      if (!expectKey) continue;
      expectKey = false;
      const keys = stack[stack.length - 1];
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (keys?.has(key)) return { key, ...position(text, start) };
      keys?.add(key);
    }
  }
  return undefined;
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
