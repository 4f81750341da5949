/**
 * The package's root folder (the one holding fpswitch's package.json), the same whether
 * the code runs from the TypeScript sources (`src/...`) or compiled (`dist/src/...`).
 */

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The package root: the nearest folder above this module with a package.json. Cost: a few stats, once. */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  cached = dir;
  return dir;
}
