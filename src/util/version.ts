/** The tool's version: the one in package.json, so there is one place to bump it. */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

/** fpswitch's version from package.json, or 'unknown' if it cannot be read. Cost: one small file read. */
export function toolVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
}
