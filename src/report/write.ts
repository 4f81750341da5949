/**
 * Writes a report folder atomically: files go to a hidden temporary folder, which is
 * renamed to `<root>/<UTC timestamp>` only when complete, and `<root>/latest` is then
 * switched to it with a rename (atomic on POSIX). A crash at any point leaves `latest`
 * pointing at the previous complete report.
 */

import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError, userText } from '../util/errors.js';
import { alive } from '../util/alive.js';

/** Checks early (before any work) that reports can be written under `root`. */
export function ensureWritable(root: string): string {
  const abs = resolve(root);
  try {
    mkdirSync(abs, { recursive: true });
    accessSync(abs, constants.W_OK);
    const probe = join(abs, `.probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${abs}: cannot write reports there${code ? ` (${code})` : ''}`);
  }
  return abs;
}

/** `2026-11-26T23-05-09Z`: a timestamp that sorts and is a valid file name. */
function utcStamp(d = new Date()): string {
  return d
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

/**
 * Writes `files` into a new timestamped folder under `root` and points `root/latest` at it.
 * Returns the folder. On any failure the temporary folder is removed and `latest` is untouched.
 */
export function writeReport(
  root: string,
  files: Readonly<Record<string, string | Buffer>>,
  date = new Date(),
): string {
  const abs = resolve(root);
  removeStaleTemporaries(abs);
  const { name, final } = placeReport(abs, files, date);
  const link = join(abs, 'latest');
  const tmpLink = join(abs, `.latest-${process.pid}`);
  try {
    rmSync(tmpLink, { force: true });
    symlinkSync(name, tmpLink);
    renameSync(tmpLink, link);
  } catch (e) {
    // The report itself is complete; only the pointer could not move (e.g. `latest` is a
    // real folder, or the file system has no symbolic links).
    rmSync(tmpLink, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${link}: could not point it at ${userText(name)}${code ? ` (${code})` : ''}; the report is complete in ${final}`,
    );
  }
  removeStaleTemporaries(abs);
  return final;
}

/**
 * Writes the files into a temporary folder and renames it to a free dated name. Two
 * writers finishing in the same second race for the same name: the loser's rename fails
 * (ENOTEMPTY/EEXIST) and it takes the next suffix, so no report is lost.
 */
function placeReport(
  abs: string,
  files: Readonly<Record<string, string | Buffer>>,
  date: Date,
): { name: string; final: string } {
  const stamp = utcStamp(date);
  const tmp = join(abs, `.tmp-${stamp}-${process.pid}`);
  try {
    mkdirSync(tmp, { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(tmp, file), content);
    for (let i = 0; ; i++) {
      const name = i === 0 ? stamp : `${stamp}-${i}`;
      const final = join(abs, name);
      if (existsSync(final)) continue;
      try {
        renameSync(tmp, final);
        return { name, final };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || i > 1000) throw e;
      }
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${abs}: could not write the report${code ? ` (${code})` : ''}`);
  }
}

/**
 * Removes the temporaries `writeReport` itself names (`.tmp-<stamp>[-N]-<pid>` folders and
 * `.latest-<pid>` links) left by runs that were killed: their process is gone, whatever
 * their age (run before and after each report). Anything else in the folder is left
 * alone; a temporary that cannot be removed is left too.
 */
function removeStaleTemporaries(abs: string): void {
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch {
    return;
  }
  for (const n of names) {
    const dir = /^\.tmp-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ(?:-\d+)?-(\d+)$/.exec(n);
    const link = /^\.latest-(\d+)$/.exec(n);
    const m = dir ?? link;
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    try {
      const st = lstatSync(join(abs, n));
      // Its process is gone (killed during writing): remove it, whatever its age.
      if ((dir && !st.isDirectory()) || (link && !st.isSymbolicLink())) continue;
      rmSync(join(abs, n), { recursive: true, force: true });
    } catch {
      // not ours to insist on
    }
  }
}
