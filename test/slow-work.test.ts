/**
 * No silent long work: a valid workload at a huge rate (scheduler.switchesPerSec at its
 * schema limit, 1e10) costs hundreds of µs per run to generate. `simulate` prints the
 * estimate up front and progress with the time left; the suite's check (slowWorkNote,
 * which `bench` prints as a note) flags it, and not a built-in. Behaviour, not timing:
 * the threshold is lowered through FPSWITCH_SLOW_SECONDS where the run would be short.
 */

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { slowWorkNote } from '../src/cli/slow-work.js';
import { loadWorkloadFile, resolveWorkload } from '../src/stream/workload.js';

const ROOT = resolve(import.meta.dirname, '..');
const HUGE = join(ROOT, 'test/corpus/slow/huge-switch-rate.json');

describe('a workload at a huge rate', () => {
  it('simulate: the estimate first, then progress with the time left, then the result', () => {
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/fpswitch.js'), 'simulate', '-w', HUGE, '-p', 'eager', '--runs', '1500'],
      {
        encoding: 'utf8',
        env: { ...process.env, FPSWITCH_SLOW_SECONDS: '0.01' },
        timeout: 120_000,
      },
    );
    expect(r.status).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^fpswitch: workload huge-switch-rate costs about [\d.]+ µs per run to generate .* about [\d,.]+ s for 1,500 runs\. Fewer --runs, or lower rates, make it quicker\. Progress every 1,500 runs\.$/,
    );
    expect(lines.at(-1)).toMatch(/^fpswitch: 1,500 of 1,500 runs \(100%\), about [\d,.]+ s left$/);
    expect(r.stdout).toMatch(/eager/);
  }, 130_000);

  it('the check bench uses flags it for a default-sized run, and not a built-in', () => {
    const slow = slowWorkNote(loadWorkloadFile(HUGE), 1, 3_000_000);
    expect(slow?.note).toMatch(/^workload huge-switch-rate costs about [\d.]+ µs per run/);
    expect(slow?.perRun).toBeGreaterThan(15e-6);
    const builtin = resolveWorkload('hvc-only').workload;
    expect(slowWorkNote(builtin, 1, 3_000_000)).toBeUndefined();
  });
});
