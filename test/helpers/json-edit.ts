/**
 * Typed edits of a parsed JSON file, for tests that write a deliberately bad variant of a
 * good input (a wrong type, a missing field): `at(w, 'vms.0.hz').value = '250'`.
 */

/** A value as `JSON.parse` returns it. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

function walk(root: Json, path: string): Json {
  let x = root;
  for (const key of path === '' ? [] : path.split('.')) {
    if (x === null || typeof x !== 'object') throw new Error(`${path}: no object at "${key}"`);
    x = Array.isArray(x) ? x[Number(key)] : x[key];
    if ((x as Json | undefined) === undefined) throw new Error(`${path}: no "${key}"`);
  }
  return x;
}

/** The object at `path` (keys and array indices joined by dots; '' for the root). */
export function at(root: Json, path: string): JsonObject {
  const x = walk(root, path);
  if (x === null || typeof x !== 'object' || Array.isArray(x))
    throw new Error(`${path} is not an object`);
  return x;
}

/** The array at `path`. */
export function list(root: Json, path: string): Json[] {
  const x = walk(root, path);
  if (!Array.isArray(x)) throw new Error(`${path} is not an array`);
  return x;
}

/** Parses JSON text whose top level is an object. */
export function parseObject(text: string): JsonObject {
  return at(JSON.parse(text) as Json, '');
}
