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
export function utcStamp(d = new Date()): string {
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
  let name = utcStamp(date);
  for (let i = 1; existsSync(join(abs, name)); i++) name = `${utcStamp(date)}-${i}`;
  const tmp = join(abs, `.tmp-${name}-${process.pid}`);
  const final = join(abs, name);
  try {
    mkdirSync(tmp, { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(tmp, file), content);
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${abs}: could not write the report${code ? ` (${code})` : ''}`);
  }
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
 * Removes the temporaries `writeReport` itself names (`.tmp-<stamp>[-N]-<pid>` folders and
 * `.latest-<pid>` links) left by runs that crashed: their process is gone and they are
 * more than an hour old (a run in another pid namespace sharing the folder is not
 * mistaken for a dead one). Anything else in the folder is left alone; a temporary that
 * cannot be removed is left too: the report is already complete.
 */
function removeStaleTemporaries(abs: string): void {
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch {
    return;
  }
  const hourAgo = Date.now() - 3600_000;
  for (const n of names) {
    const dir = /^\.tmp-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ(?:-\d+)?-(\d+)$/.exec(n);
    const link = /^\.latest-(\d+)$/.exec(n);
    const m = dir ?? link;
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    try {
      const st = lstatSync(join(abs, n));
      if ((dir && !st.isDirectory()) || (link && !st.isSymbolicLink()) || st.mtimeMs > hourAgo)
        continue;
      rmSync(join(abs, n), { recursive: true, force: true });
    } catch {
      // not ours to insist on
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
