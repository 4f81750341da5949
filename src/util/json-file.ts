/** Reading a user's JSON file with errors that name it. */

import { readFileSync } from 'node:fs';
import { UserError } from './errors.js';

/**
 * The parsed contents of the JSON file at `path`, unvalidated. `what` names the file in
 * errors ("workload file", "scenario file"). Throws UserError (one line) when the file
 * cannot be read or is not JSON. Cost: one read and one parse.
 */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot read ${what}${code ? ` (${code})` : ''}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
}
