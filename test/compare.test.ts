/**
 * `fpswitch compare` and `npm run bench -- --baseline`: two runs that differ only in their
 * seeds flag no regression; a candidate whose eager policy saves every FP state twice
 * flags its eager cells and fails; markdown is a table; mismatched schemas exit 2.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const ROOT = resolve(__dirname, '..');
const DOUBLE_SAVE = join(ROOT, 'test/fixtures/user-policies/eager-double-save.js');

/** A small suite run (one workload on one CPU, every policy) into `out`; returns the report folder. */
function bench(out: string, ...extra: string[]): string {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/run.ts',
      '--only',
      'hackbench/{eager,lazy-fixed}/altra',
      '--runs',
      '20000',
      '--seeds',
      '3',
      '--threshold',
      '1',
      '--eager-runs',
      '4',
      '--no-throughput',
      '--quiet',
      '--out',
      out,
      ...extra,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`bench failed: ${r.stderr}`);
  return join(out, 'latest');
}

describe('fpswitch compare', () => {
  let base = '';
  let otherSeeds = '';
  let doubled = '';

  beforeAll(() => {
    const root = tempDir('fpswitch-compare-');
    base = bench(join(root, 'base'));
    otherSeeds = bench(join(root, 'seeds'), '--seed', '7');
    doubled = bench(join(root, 'doubled'), '--policy', DOUBLE_SAVE, '--baseline', base);
  }, 180_000);

  it('flags nothing between two runs that differ only in their seeds', async () => {
    const r = await runCli(['compare', base, otherSeeds, '--fail-on-regression', '5']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/REGRESSION/);
    expect(r.stdout).toMatch(/0 regressions beyond 5% in cycles/);
  });

  it('flags the cells of a policy whose save cost doubled, and exits 1', async () => {
    const r = await runCli(['compare', base, doubled, '--fail-on-regression', '5']);
    expect(r.code).toBe(1);
    const flagged = r.stdout.split('\n').filter((l) => l.endsWith('REGRESSION'));
    expect(flagged.some((l) => l.startsWith('hackbench/eager/altra'))).toBe(true);
    // Only eager changed: no other design's cells are flagged.
    expect(flagged.every((l) => /eager/.test(l))).toBe(true);
  });

  it('prints a Markdown table, also written as summary.md with the report', async () => {
    const r = await runCli(['compare', base, doubled, '--markdown']);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('| figure |'));
    expect(header).toBeGreaterThan(-1);
    expect(lines[header + 1]).toMatch(/^\|(-+:?\|)+$|^\|(---\|)+/);
    const cols = lines[header].split('|').length;
    const rows = lines.slice(header + 2).filter((l) => l.startsWith('|'));
    expect(rows.some((l) => l.startsWith('| hackbench/eager/altra | cycles'))).toBe(true);
    for (const l of rows) expect(l.replace(/\\\|/g, '').split('|').length).toBe(cols);
    const summary = readFileSync(join(doubled, 'summary.md'), 'utf8');
    expect(summary).toMatch(/\| hackbench\/eager\/altra \| cycles/);
    expect(summary).toMatch(/### Recommended design per workload and CPU/);
    expect(readFileSync(join(doubled, 'index.html'), 'utf8')).toMatch(/Change since the baseline/);
  });

  it('refuses results of another schema version in one line, exit 2', async () => {
    const other = JSON.parse(readFileSync(join(base, 'results.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const file = join(tempDir('fpswitch-compare-'), 'results.json');
    writeFileSync(file, JSON.stringify({ ...other, schemaVersion: 1 }));
    const r = await runCli(['compare', file, base]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/schema version 1/);
  });
});
