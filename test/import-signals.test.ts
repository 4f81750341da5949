/**
 * Nothing left behind: SIGINT or SIGTERM in the middle of an import (the spool file being
 * written, with and without a scan worker) ends the command as the signal would, and its
 * temporary directory holds nothing afterwards.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticTrace } from '../bench/import-throughput.js';

const ROOT = resolve(import.meta.dirname, '..');
let dir = '';
let trace = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fpswitch-import-signals-'));
  trace = join(dir, 'big.trace');
  writeSyntheticTrace(trace, 150e6);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts an import with its own TMPDIR, signals it once its spool exists, and waits. */
async function interrupted(
  signal: NodeJS.Signals,
  workers: number,
): Promise<{ code: number | null; signal: string | null; left: string[]; spooled: boolean }> {
  const tmp = mkdtempSync(join(dir, 'tmp-'));
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/fpswitch.js'), 'import', trace, '--stats'],
    {
      env: { ...process.env, TMPDIR: tmp, FPSWITCH_IMPORT_WORKERS: String(workers) },
      stdio: 'ignore',
    },
  );
  const done = new Promise<{ code: number | null; signal: string | null }>((res) =>
    child.on('exit', (code, sig) => {
      res({ code, signal: sig });
    }),
  );
  let spooled = false;
  for (let k = 0; k < 600 && !spooled && child.exitCode === null; k++) {
    await new Promise((r) => setTimeout(r, 50));
    spooled = readdirSync(tmp).some((f) => f.startsWith('fpswitch-spool-'));
  }
  child.kill(signal);
  const end = await done;
  return { ...end, left: readdirSync(tmp), spooled };
}

describe('an interrupted import leaves nothing in the temporary directory', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    for (const workers of [0, 1]) {
      it(`${signal}, ${workers} scan worker(s)`, async () => {
        const r = await interrupted(signal, workers);
        expect(r.spooled).toBe(true);
        // Ended by the signal (re-raised after the clean-up), or exit 128 + n.
        expect(r.signal === signal || r.code === code).toBe(true);
        expect(r.left).toEqual([]);
      }, 60_000);
    }
  }
});
