/**
 * The hook watchdog in worker threads: `bench --policy` runs a user's policy in the pool's
 * workers, where the inspector cannot stop a loop; the pool's parent watches each
 * worker's heartbeat, so a hook that never returns ends the run with the one line naming
 * the policy and the hook, and exit code 2, instead of hanging.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

describe('the hook watchdog in the bench pool', () => {
  it('a hook looping forever in a worker thread: one line naming policy and hook, exit 2, no report', () => {
    const out = mkdtempSync(join(tmpdir(), 'fpswitch-watchdog-'));
    try {
      const args = ['--quick', '--no-throughput', '--only', 'hvc-only/eager/*', '--out', out];
      const policy = join(ROOT, 'test/corpus/bench/eager-loop.mjs');
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', ...args, '--policy', policy],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, FPSWITCH_HOOK_TIME_LIMIT_MS: '1000' },
          timeout: 120_000,
        },
      );
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      // The bench's own progress lines come first; the last line is the watchdog's.
      const last = r.stderr.trimEnd().split('\n').at(-1) ?? '';
      expect(last).toBe(
        `fpswitch: policy eager (${policy}) in hook onExit ran for more than 1 s and was stopped (hooks and the top level of a policy module must finish promptly: an endless loop?)`,
      );
      expect(r.stderr).not.toMatch(/^\s+at |debugger/m);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
