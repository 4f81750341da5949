/**
 * Scan workers do not change an import: a generated tracefs trace of several read
 * regions, with malformed, non-ASCII, CRLF, header and call-chain lines mixed in, imports
 * to the same counts, stats, threads, first bad line and runs (every class, exit and
 * length) with 0, 1 and 2 scan workers, under --skip-bad and without it (the same first
 * error).
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticTrace } from '../bench/import-throughput.js';
import { traceFpModel } from '../src/stream/trace-fp.js';
import { importTrace } from '../src/stream/trace-import.js';
import { UserError } from '../src/util/errors.js';

/** Lines a real trace may hold next to its events: bad ones, odd ones, ignored ones. */
const ODD = [
  '  CPU 0/KVM-4001 [000] 1.5: kvm_exit: garbage',
  '       CPU 1/KVM-4002    [001] d..1.   100.000000700: kvm_entry: PC: 0x1ffffffffffffffffff',
  '       CPU 2/KVM-4003    [002] d..1.   99999999999.000000700: kvm_entry: PC: 0x10',
  '# a comment',
  '',
  '  ffffffff8100 some_frame+0x10',
  '       CPU 3/KVM-4004    [003] d..1.   100.000000700: kvm_exit: TRAP: HSR_EC: 0x0016 (HVC64), PC: 0xzz',
  '       CPU 0/KVM-4001    [000] d..1.   100.000000700: kvm_userspace_exit: bogus',
  '       CPU 0/KVM-4001    [000] d..1.   100.000000700: sched_switch: nothing',
  '       CPU 0/KVM-4001    [000] d..1.   100.000000700: kvm_vcpu_wakeup: poll',
  '       CPU\u00e9 0/KVM-4001    [000] d..1.   100.000000700: kvm_entry: PC: 0x10',
  'CPU 0/KVM-4001 [000] 100.000000800: kvm_entry: PC: 0x10\r',
  '\u0000\u0007 nul',
];

let dir = '';
let file = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fpswitch-import-workers-'));
  const base = join(dir, 'base.trace');
  writeSyntheticTrace(base, 5e6);
  const lines = readFileSync(base, 'latin1').split('\n');
  let k = 0;
  const mixed = lines.map((l, i) => {
    if (i > 10 && i % 997 === 0) return `${ODD[k++ % ODD.length]}\n${l}`;
    return i > 10 && i % 5003 < 40 ? `${l}\r` : l;
  });
  file = join(dir, 'mixed.trace');
  // No final line break: the last line ends the input.
  writeFileSync(file, mixed.join('\n').trimEnd(), 'latin1');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Everything an import yields, as plain data (the runs in spool order). */
async function imported(workers: number, skipBad: boolean): Promise<unknown> {
  const fp = traceFpModel('markov:p=0.3', { seed: 1, maxVcpus: 64 });
  try {
    const t = await importTrace(file, { fp, skipBad, workers });
    try {
      const runs: number[] = [];
      for (const ch of t.stream.chunks())
        for (let i = 0; i < ch.length; i++) runs.push(ch.cls[i], ch.exitKey[i], ch.ns[i]);
      return {
        counts: t.counts,
        stats: t.stats.rows(),
        threads: t.threads,
        firstBad: t.firstBad,
        runs,
      };
    } finally {
      t.dispose();
    }
  } catch (e) {
    if (e instanceof UserError) return { error: e.message };
    throw e;
  }
}

describe('scan workers give the import of a single thread', () => {
  it('--skip-bad: the same counts, stats, threads, first bad line and runs with 0, 1, 2 workers', async () => {
    const one = (await imported(0, true)) as { counts: { badLines: number; runs: number } };
    // The trace exercises what it should: several regions, bad lines counted, runs made.
    expect(one.counts.badLines).toBeGreaterThan(20);
    expect(one.counts.runs).toBeGreaterThan(20_000);
    expect(await imported(1, true)).toEqual(one);
    expect(await imported(2, true)).toEqual(one);
  });

  it('without --skip-bad: the same first error line', async () => {
    const one = (await imported(0, false)) as { error?: string };
    expect(one.error).toMatch(/mixed\.trace:\d+: /);
    expect(await imported(1, false)).toEqual(one);
    expect(await imported(2, false)).toEqual(one);
  });
});
