/**
 * Importing a user's policy module from anywhere: `.ts`, `.mts`, `.cts`, `.js`, `.mjs`,
 * `.cjs`, inside or outside any package, the same whether fpswitch runs compiled (the
 * installed command) or from its TypeScript sources (`npm run fpswitch`). A module that
 * fails to load is reported with its own error, and a syntax error with file:line:column.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { thrownText, UserError, userText } from '../util/errors.js';
import { enterWatched, leaveWatched, MODULE_TIME_LIMIT_MS, watchLabel } from './watchdog.js';

/** The extensions a policy module may have. */
export const POLICY_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const;

/** Whether the nearest package.json above `file` says `"type": "module"`. */
function inModulePackage(file: string): boolean {
  let dir = dirname(file);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(dir) === dir) return false;
    dir = dirname(dir);
  }
}

/**
 * Whether Node can import `abs` as it is: `.mjs`/`.cjs` always, `.js` inside a
 * `"type": "module"` package. The rest (TypeScript; ES-module syntax in a `.js` file
 * outside such a package, which Node 20 would read as CommonJS) goes through tsx.
 */
function nodeCanImport(abs: string): boolean {
  const ext = extname(abs);
  return ext === '.mjs' || ext === '.cjs' || (ext === '.js' && inModulePackage(abs));
}

/**
 * The module's namespace. tsx's `tsImport` compiles TypeScript (and ES-module `.js`
 * outside a module package) for this one import without registering a loader for the
 * whole process; it is imported only when needed (it costs ~50 ms at start).
 * Throws UserError with the module's own error on failure.
 */
export async function importPolicyModule(
  abs: string,
  shown: string,
): Promise<Record<string, unknown>> {
  const direct = nodeCanImport(abs);
  const tsx = direct ? undefined : await import('tsx/esm/api');
  const watch = watchLabel(
    `policy module ${userText(shown)} (its top level)`,
    MODULE_TIME_LIMIT_MS,
  );
  enterWatched(watch);
  try {
    const url = pathToFileURL(abs).href;
    if (!tsx) return (await import(url)) as Record<string, unknown>;
    return (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(loadFailure(e, abs, shown));
  } finally {
    leaveWatched();
  }
}

/** One line for a module that did not load: the syntax error's place, or the module's own error. */
function loadFailure(e: unknown, abs: string, shown: string): string {
  const transform = esbuildLocation(e);
  if (transform) return transform;
  if (e instanceof SyntaxError) {
    const where = nodeCheckLocation(abs);
    return `${where ?? userText(shown)}: syntax error: ${thrownText(e).replace(/^SyntaxError: /, '')}`;
  }
  const at = userFrame(e, abs);
  return `${userText(shown)}: cannot load policy module: ${thrownText(e)}${at ? ` (at ${at})` : ''}`;
}

/** tsx/esbuild's "Transform failed with 1 error:\n<file>:<line>:<col>: ERROR: <text>". */
function esbuildLocation(e: unknown): string | undefined {
  if (!(e instanceof Error) || typeof e.message !== 'string') return undefined;
  const m = /^Transform failed with \d+ errors?:\n(.+?):(\d+):(\d+): ERROR: (.*)/.exec(e.message);
  if (!m) return undefined;
  return `${userText(m[1])}:${m[2]}:${m[3]}: syntax error: ${userText(m[4])}`;
}

/**
 * Where Node's parser stops in `abs` (Node 20 gives no position for an ES module's
 * syntax error): `node --check` prints "file:line", the source line and a caret. Runs
 * only on the error path (~50 ms).
 */
function nodeCheckLocation(abs: string): string | undefined {
  try {
    execFileSync(process.execPath, ['--check', abs], { stdio: 'pipe', timeout: 10_000 });
    return undefined;
  } catch (e) {
    const stderr = (e as { stderr?: unknown }).stderr;
    const text = Buffer.isBuffer(stderr) ? stderr.toString('utf8') : '';
    const lines = text.split('\n');
    const head = /^(.*):(\d+)$/.exec(lines[0] ?? '');
    if (!head) return undefined;
    const caret = (lines[2] ?? '').indexOf('^');
    return `${userText(head[1])}:${head[2]}${caret >= 0 ? `:${caret + 1}` : ''}`;
  }
}

/** The first stack frame inside the user's module (file:line:col), if the stack has one. */
function userFrame(e: unknown, abs: string): string | undefined {
  try {
    const stack: unknown = e instanceof Error ? e.stack : undefined;
    if (typeof stack !== 'string') return undefined;
    const href = pathToFileURL(abs).href;
    for (const line of stack.split('\n').slice(0, 20)) {
      const m = /\(?((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?$/.exec(line.trim());
      if (m && (m[1] === abs || m[1] === href)) return `${userText(abs)}:${m[2]}:${m[3]}`;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
