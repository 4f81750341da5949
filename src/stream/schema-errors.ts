/**
 * Turns schema (zod) issues into one clear line naming the file and every bad field.
 */

import type { z } from 'zod';
import { UserError, userText } from '../util/errors.js';

/** `a.b[2].c` for a zod path. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** One line: `file: field: problem; field: problem`. */
export function schemaError(file: string, error: z.ZodError): UserError {
  const parts = error.issues.map((issue) => {
    const path = fieldPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      const where = issue.path.length ? `${path}: ` : '';
      return `${where}unknown field${keys.length > 1 ? 's' : ''} ${keys
        .slice(0, 5)
        .map((k) => `"${userText(k, 40)}"`)
        .join(', ')}`;
    }
    return `${userText(path)}: ${userText(issue.message)}`;
  });
  return new UserError(`${userText(file)}: ${parts.join('; ')}`);
}
