/**
 * `npm run bench` as a user runs it: results independent of the worker count, and bad
 * input stopping with one line, exit 2, and no report promoted to `latest`.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Results, timingFree } from '../src/report/results.js';
import { tempDir } from './helpers/temp.js';

const ROOT = resolve(__dirname, '..');
const SMALL = [
  '--quick',
  '--runs',
  '3000',
  '--seeds',
  '2',
  '--no-throughput',
  '--threshold',
  '1..3',
  '--eager-runs',
  '4,16',
  '--quiet',
];

function bench(args: readonly string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run bench', () => {
  it('gives identical results.json with 1 and 2 workers (timing fields aside)', () => {
    const out1 = tempDir('fpswitch-b1-');
    const out2 = tempDir('fpswitch-b2-');
    const a = bench([...SMALL, '--workers', '1', '--out', out1]);
    const b = bench([...SMALL, '--workers', '2', '--out', out2]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const ra = JSON.parse(readFileSync(join(out1, 'latest', 'results.json'), 'utf8')) as Results;
    const rb = JSON.parse(readFileSync(join(out2, 'latest', 'results.json'), 'utf8')) as Results;
    expect(ra.cells.length).toBeGreaterThan(0);
    // One recommendation per workload x CPU; its cost draws are seeded, so the equality
    // below also shows the same draws at 1 and 2 workers.
    expect(ra.recommendations).toHaveLength(
      ra.parameters.workloads.length * ra.parameters.cpus.length,
    );
    for (const rec of ra.recommendations) {
      expect(rec.winShare).toBeGreaterThan(0);
      expect(rec.winShare).toBeLessThanOrEqual(1);
      expect(rec.flips.length).toBeLessThanOrEqual(3);
    }
    expect(JSON.stringify(timingFree(ra))).toBe(JSON.stringify(timingFree(rb)));
    expect(readFileSync(join(out1, 'latest', 'results.csv'), 'utf8')).toBe(
      readFileSync(join(out2, 'latest', 'results.csv'), 'utf8'),
    );
    for (const f of ['index.html', 'results.json', 'results.csv'])
      expect(existsSync(join(out1, 'latest', f))).toBe(true);
    expect(ra.schema).toBe('fpswitch-results');
    expect(ra.schemaVersion).toBe(3);
  }, 300_000);

  it('rejects --only matching nothing', () => {
    const out = tempDir('fpswitch-b3-');
    const r = bench([...SMALL, '--only', 'no-such-workload/*', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^fpswitch bench: --only no-such-workload\/\*: matches no cell/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(out, 'latest'))).toBe(false);
  });

  it('rejects a broken workload among the built-ins before doing any work', () => {
    const dir = tempDir('fpswitch-wl-');
    const builtins = join(ROOT, 'workloads');
    for (const f of readdirSync(builtins).filter((f) => f.endsWith('.json')))
      copyFileSync(join(builtins, f), join(dir, f));
    writeFileSync(
      join(dir, 'broken.json'),
      JSON.stringify({ name: 'broken', kind: 'markov', fpProbability: -0.2 }),
    );
    const out = tempDir('fpswitch-b4-');
    const r = bench([...SMALL, '--workloads-dir', dir, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.json: fpProbability: Too small/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(out, 'latest'))).toBe(false);
  });

  it('rejects two workload files of one name', () => {
    const dir = tempDir('fpswitch-wl-');
    writeFileSync(
      join(dir, 'a.json'),
      JSON.stringify({ name: 'same', kind: 'markov', fpProbability: 0.2 }),
    );
    writeFileSync(
      join(dir, 'b.json'),
      JSON.stringify({ name: 'same', kind: 'markov', fpProbability: 0.4 }),
    );
    const out = tempDir('fpswitch-b8-');
    const r = bench([...SMALL, '--workloads-dir', dir, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/b\.json: name: "same" is also the name of .*a\.json/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('without --quiet, bad input is still one line on stderr: nothing is announced before the options are checked', () => {
    const out = tempDir('fpswitch-b9-');
    const r = bench(['--quick', '--no-throughput', '--threshold', '0..3', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('fpswitch bench: adaptive: threshold=0 is below its minimum 1');
    const r2 = bench(['--quick', '--no-throughput', '--only', 'nothing/*', '--out', out]);
    expect(r2.code).toBe(2);
    expect(r2.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(out)).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('rejects an unwritable output folder', () => {
    const out = tempDir('fpswitch-b5-');
    chmodSync(out, 0o500);
    const r = bench([...SMALL, '--out', join(out, 'sub')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write reports there/);
  });

  it('rejects an output path that is a file', () => {
    const f = join(tempDir('fpswitch-b6-'), 'file');
    writeFileSync(f, 'x');
    const r = bench([...SMALL, '--out', f]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/cannot write reports there/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('keeps the previous report in latest when a run fails', () => {
    const out = tempDir('fpswitch-b7-');
    mkdirSync(join(out, '2000-01-01T00-00-00Z'));
    writeFileSync(join(out, '2000-01-01T00-00-00Z', 'results.json'), '{}');
    spawnSync('ln', ['-s', '2000-01-01T00-00-00Z', join(out, 'latest')]);
    const r = bench([...SMALL, '--only', 'nothing', '--out', out]);
    expect(r.code).toBe(2);
    expect(readFileSync(join(out, 'latest', 'results.json'), 'utf8')).toBe('{}');
  });
});
