// Small helpers shared by the validation harness: paths, progress lines, subprocesses.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VALIDATION_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_DIR = dirname(VALIDATION_DIR);
export const CACHE_DIR = resolve(
  process.env.FPSW_VALIDATION_CACHE ?? join(REPO_DIR, '.cache', 'validation'),
);

/** An expected failure: one clear line, then exit with `code`. */
export class ValidationError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

/** The environment cannot run the validation at all (no apt, no network): skip, except in CI. */
export class SkipError extends Error {}

const t0 = Date.now();
export function progress(msg: string): void {
  const s = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[validate ${s}s] ${msg}\n`);
}

export function elapsedSec(): number {
  return (Date.now() - t0) / 1000;
}

export function ensureDir(p: string): string {
  mkdirSync(p, { recursive: true });
  return p;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** throw a ValidationError with this text (plus the tail of stderr) on a non-zero exit */
  what?: string;
}

/** Run a command to completion, capturing output. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (opts.what && (r.status !== 0 || r.error)) {
    const detail = (r.error?.message ?? r.stderr).trim().split('\n').slice(-3).join(' | ');
    throw new ValidationError(`${opts.what} failed (${cmd} exit ${r.status ?? 'none'}): ${detail}`);
  }
  return r;
}

/** true when `out` is missing or older than any of `inputs` */
export function stale(out: string, inputs: string[]): boolean {
  if (!existsSync(out)) return true;
  const t = statSync(out).mtimeMs;
  return inputs.some((i) => statSync(i).mtimeMs > t);
}

export function inCI(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}
