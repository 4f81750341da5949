/** Reading a user's JSON file with errors that name it. */

import { readFileSync } from 'node:fs';
import { UserError, userText } from './errors.js';
import { findDuplicateKey } from './json-dup-keys.js';

/**
 * The parsed contents of the JSON file at `path`, unvalidated. `what` names the file in
 * errors ("workload file", "scenario file"). Throws UserError (one line) when the file
 * cannot be read, is not JSON or has a key twice in one object. Cost: one read and one parse.
 */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${userText(path)}: cannot read ${what}${code ? ` (${code})` : ''}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new UserError(
      `${userText(path)}: not valid JSON (${userText((e as Error).message.split('\n')[0])})`,
    );
  }
  const dup = findDuplicateKey(text);
  if (dup) {
    throw new UserError(
      `${userText(path)}:${dup.line}:${dup.column}: key "${userText(dup.key, 60)}" appears twice in the same object (JSON would silently keep the last)`,
    );
  }
  return value;
}
