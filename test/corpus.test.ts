/**
 * The malformed-input corpus (test/corpus/): workloads, traces, scenarios, configurations,
 * policy modules and flags a hostile or careless user may feed fpswitch. One definition
 * of good for every case: exit 2, exactly one line of at most 300 bytes on stderr, no
 * stack frame, nothing on stdout. Most cases run in-process (fast); those that need a
 * process of their own (an endless loop stopped by the watchdog) run the command.
 */

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const ROOT = resolve(import.meta.dirname, '..');
const CORPUS = join(ROOT, 'test/corpus');

interface Case {
  readonly name: string;
  readonly argv: readonly string[];
  /** Needs its own process (the watchdog stops the main thread's JavaScript). */
  readonly spawn?: boolean;
}

const files = (dir: string) => readdirSync(join(CORPUS, dir)).sort();
const at = (dir: string, f: string) => join(CORPUS, dir, f);

/** Policy modules that are fine for simulate but not for the checker. */
const CHECK_ONLY = new Set(['unclonable-state.mjs']);
/** Policy modules that loop forever: only the watchdog ends them. */
const LOOPS = new Set(['loop-in-hook.mjs', 'loop-at-import.mjs']);
/** Not a mistake but a finding: exit 1 (tested below). */
const FINDINGS = new Set(['state-grows.mjs']);

const CASES: Case[] = [
  ...files('workloads').map((f) => ({
    name: `workload ${f}`,
    argv: ['simulate', '-w', at('workloads', f), '-p', 'eager', '--runs', '1000'],
  })),
  ...files('traces').map((f) => ({
    name: `trace ${f}`,
    argv: ['import', at('traces', f), '--stats'],
  })),
  ...files('scenarios').map((f) => ({
    name: `scenario ${f}`,
    argv: ['check', '--scenario', at('scenarios', f)],
  })),
  ...files('configs').map((f) => ({
    name: `configuration ${f}`,
    argv: ['check', '--config', at('configs', f), '-p', 'eager'],
  })),
  ...files('policies')
    .filter((f) => !FINDINGS.has(f))
    .map((f) => ({
      name: `policy ${f}`,
      argv: CHECK_ONLY.has(f)
        ? ['check', '-p', at('policies', f)]
        : ['simulate', '-w', 'hvc-only', '-p', at('policies', f), '--runs', '2000'],
      spawn: LOOPS.has(f),
    })),
  ...(JSON.parse(readFileSync(join(CORPUS, 'flags.json'), 'utf8')) as string[][]).map(
    (argv, i) => ({ name: `flags #${i}: ${argv.join(' ').slice(0, 60)}`, argv }),
  ),
];

/** The one definition of a good answer to a user's mistake. */
function expectOneCleanLine(r: { code: number; stdout: string; stderr: string }): void {
  expect(r.stdout).toBe('');
  const err = r.stderr.replace(/\n$/, '');
  expect(err.split('\n')).toHaveLength(1);
  expect(Buffer.byteLength(err)).toBeLessThanOrEqual(300);
  // A stack frame: `    at fn (file:line:col)` or `at file:///...:line:col`; a location
  // hint such as `(at /path/policy.cjs:1:7)` is not one.
  expect(err).not.toMatch(
    /^\s+at |\bat [^()]*\((?:file:|node:|\/)[^)]*:\d+:\d+\)|\bat (?:file|node):/m,
  );
  // eslint-disable-next-line no-control-regex -- control characters must arrive escaped
  expect(err).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  expect(r.code).toBe(2);
}

function runBin(argv: readonly string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/fpswitch.js'), ...argv], {
    encoding: 'utf8',
    env: { ...process.env, FPSWITCH_HOOK_TIME_LIMIT_MS: '1000' },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('malformed-input corpus: exit 2, one line of at most 300 bytes, no stack, nothing on stdout', () => {
  it('holds at least 100 inputs across every kind', () => {
    expect(CASES.length + FINDINGS.size).toBeGreaterThanOrEqual(100);
  });
  for (const c of CASES) {
    it(
      c.name,
      async () => {
        expectOneCleanLine(c.spawn ? runBin(c.argv) : await runCli(c.argv));
      },
      120_000,
    );
  }
});

describe('the same through the installed command (compiled, a process of its own)', () => {
  const sample = CASES.filter((c) =>
    /^(policy (syntax-error|throws-at-import|async-hook)|trace pc-192|workload dup-key\.json)/.test(
      c.name,
    ),
  );
  it('covers a sample', () => {
    expect(sample.length).toBeGreaterThanOrEqual(5);
  });
  for (const c of sample)
    it(
      c.name,
      () => {
        expectOneCleanLine(runBin(c.argv));
      },
      120_000,
    );
});

describe('findings are not mistakes', () => {
  it('a policy whose state grows without bound: check stops with exit 1 and says so', async () => {
    const r = await runCli([
      'check',
      '-p',
      at('policies', 'state-grows.mjs'),
      '--max-states',
      '20000',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/state grows without bound/);
  }, 120_000);
});
