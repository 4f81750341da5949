/**
 * Per-run ground-truth fixtures (validation/fixtures/runs/*.runs.tsv.gz): the reader on
 * a hand-written file (exact values), the writer/reader round trip, one-line errors naming
 * file and line, and every committed fixture: well-formed, a window of >= 1,000 runs,
 * consistent with its own metadata.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  RUNS_HEADER,
  RUNS_MAGIC,
  type RunMeta,
  type RunRecord,
  formatRunRecords,
  parseRunRecords,
  readRunRecords,
  writeRunRecords,
} from '../validation/lib/run-records.js';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS_DIR = join(ROOT, 'validation/fixtures/runs');
const tmp = mkdtempSync(join(tmpdir(), 'fpsw-runs-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const META: RunMeta = {
  cell: 'test-cell',
  workload: 'hackbench',
  guest: { vcpus: 1, bench: 'hackbench', groups: 2, fds: 20, loops: 10, tasks: 80 },
  mode: 'vhe',
  icount: true,
  kernel: 'linux-image-test 1',
  source: { generatedAt: '2026-12-07T00:00:00Z' },
};

const TEXT = [
  RUNS_MAGIC,
  `# ${JSON.stringify(META)}`,
  RUNS_HEADER,
  '2004113\t2004113\tIRQ\t0\t1\t31\t1',
  '812\t812\tWFx\t0\t0\t0\t0',
  '5\t5\tHVC64\t1\t1\t2\t-',
  '',
].join('\n');

describe('readRunRecords', () => {
  it('reads a gzipped file field by field', () => {
    const f = join(tmp, 'a.runs.tsv.gz');
    writeFileSync(f, gzipSync(TEXT));
    const { meta, runs } = readRunRecords(f);
    expect(meta.cell).toBe('test-cell');
    expect(meta.guest.groups).toBe(2);
    expect(runs).toEqual([
      { insns: 2004113, ns: 2004113, exit: 'IRQ', fpEl0: 0, fpEl1: 1, switches: 31, injected: 1 },
      { insns: 812, ns: 812, exit: 'WFx', fpEl0: 0, fpEl1: 0, switches: 0, injected: 0 },
      { insns: 5, ns: 5, exit: 'HVC64', fpEl0: 1, fpEl1: 1, switches: 2, injected: null },
    ]);
  });

  it('reads the same text uncompressed', () => {
    const f = join(tmp, 'b.runs.tsv');
    writeFileSync(f, TEXT);
    expect(readRunRecords(f).runs).toHaveLength(3);
  });

  it('round-trips what writeRunRecords writes, byte-identically on a rewrite', () => {
    const runs: RunRecord[] = [
      { insns: 1, ns: 2, exit: 'DABT_LOW', fpEl0: 1, fpEl1: 0, switches: 0, injected: 0 },
      { insns: 3, ns: 4, exit: 'SYS64', fpEl0: 0, fpEl1: 1, switches: 7, injected: null },
    ];
    const f1 = join(tmp, 'c1.runs.tsv.gz');
    const f2 = join(tmp, 'c2.runs.tsv.gz');
    writeRunRecords(f1, META, runs);
    writeRunRecords(f2, META, runs);
    expect(readRunRecords(f1)).toEqual({ meta: META, runs });
    expect(readRunRecords(f1)).toEqual(readRunRecords(f2));
    expect(formatRunRecords(META, runs)).toBe(
      formatRunRecords(readRunRecords(f1).meta, readRunRecords(f1).runs),
    );
  });

  it.each([
    ['no magic', TEXT.replace(RUNS_MAGIC, '# other'), /x:1: not a/],
    [
      'bad metadata',
      TEXT.replace(`# ${JSON.stringify(META)}`, '# {oops'),
      /x:2: metadata is not JSON/,
    ],
    ['wrong header', TEXT.replace(RUNS_HEADER, 'insns\tns'), /x:3: expected the header/],
    [
      'a missing field',
      TEXT.replace('812\t812\tWFx\t0\t0\t0\t0', '812\t812\tWFx\t0\t0\t0'),
      /x:5: expected 7/,
    ],
    ['a bad bit', TEXT.replace('0\t1\t31\t1', '2\t1\t31\t1'), /x:4 fp_el0: expected 0 or 1/],
    [
      'a negative count',
      TEXT.replace('\t31\t', '\t-3\t'),
      /x:4 switches: expected a non-negative integer/,
    ],
  ])('rejects %s with one line naming file and line', (_what, text, err) => {
    expect(() => parseRunRecords(text, 'x')).toThrow(err);
  });
});

const committed = readdirSync(RUNS_DIR, { withFileTypes: true })
  .filter((d) => d.isFile() && d.name.endsWith('.runs.tsv.gz'))
  .map((d) => d.name);

describe('committed per-run fixtures', () => {
  it('exist', () => {
    expect(committed.length).toBeGreaterThan(0);
  });

  it.each(committed)('%s is a consistent window of real runs', (name) => {
    const { meta, runs } = readRunRecords(join(RUNS_DIR, name));
    expect(`${meta.cell}.runs.tsv.gz`).toBe(name);
    const w = meta.window as { first: number; count: number; of: number };
    expect(runs).toHaveLength(w.count);
    expect(w.first + w.count).toBeLessThanOrEqual(w.of);
    expect(typeof meta.guest.vcpus).toBe('number');
    // a run that used FP executed at least one instruction (a run can execute none: an
    // interrupt already pending when the entry's ERET completes exits before any block)
    for (const r of runs) if (r.fpEl0 || r.fpEl1) expect(r.insns).toBeGreaterThan(0);
    // with -icount on one L1 CPU, guest time is the instruction count exactly
    if (String(meta.ns).startsWith('guest instructions'))
      for (const r of runs) expect(r.ns).toBe(r.insns);
  });

  it('each matrix and armhf cell has >= 1,000 runs in its window (over its vCPUs)', () => {
    const perCell = new Map<string, number>();
    for (const name of committed) {
      const { meta } = readRunRecords(join(RUNS_DIR, name));
      const boot = (meta.source as { boot: string }).boot;
      if (!boot.startsWith('vhe-icount-matrix') && boot !== 'vhe-icount-armhf') continue;
      const cell = meta.cell.replace(/\.vcpu\d+$/, '');
      perCell.set(cell, (perCell.get(cell) ?? 0) + (meta.window as { of: number }).of);
    }
    expect(perCell.size).toBeGreaterThan(0);
    for (const [cell, n] of perCell) expect(n, cell).toBeGreaterThanOrEqual(1000);
  });
});
