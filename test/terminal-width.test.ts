/**
 * Output fits the terminal: on 80 columns no line of list, check, simulate, tune,
 * sensitivity or import --stats is wider, both where the width comes from `COLUMNS` (not
 * a terminal) and from a real pseudo-terminal set to 80 columns (util-linux `script`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const ROOT = resolve(__dirname, '..');
const COMMANDS: readonly (readonly string[])[] = [
  ['list'],
  ['check'],
  ['simulate', '--workload', 'hackbench', '-p', 'lazy-fixed', '-p', 'eager', '--runs', '20000'],
  ['tune', '--workload', 'hackbench', '--runs', '20000'],
  ['sensitivity', '--workload', 'hackbench', '--runs', '20000'],
  ['import', 'validation/fixtures/vhe-a64-fp-mmio.trace', '--stats'],
];

function widest(text: string): { width: number; line: string } {
  let best = { width: 0, line: '' };
  for (const line of text.replace(/\r/g, '').split('\n'))
    if (line.length > best.width) best = { width: line.length, line };
  return best;
}

const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;

describe('output fits an 80-column terminal', () => {
  for (const args of COMMANDS) {
    it(`fpswitch ${args[0]} (COLUMNS=80, not a terminal)`, () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, COLUMNS: '80' },
      });
      expect(r.stdout.length).toBeGreaterThan(0);
      const w = widest(r.stdout);
      expect(w.width, w.line).toBeLessThanOrEqual(80);
    });
  }

  it.skipIf(!existsSync('/usr/bin/script'))('in a real 80-column pseudo-terminal', () => {
    for (const args of [COMMANDS[0], COMMANDS[1], COMMANDS[5]]) {
      const cmd = `stty cols 80 rows 50; ${quote(process.execPath)} --import tsx src/cli/main.ts ${args.map(quote).join(' ')}`;
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.COLUMNS; // the width must come from the terminal itself
      const r = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], {
        cwd: ROOT,
        encoding: 'utf8',
        env,
      });
      expect(r.stdout.length).toBeGreaterThan(0);
      const w = widest(r.stdout);
      expect(w.width, `${args[0]}: ${w.line}`).toBeLessThanOrEqual(80);
    }
  });
});

describe('help and tallies', () => {
  it('every command has an Examples section in its --help', async () => {
    for (const c of ['list', 'check', 'simulate', 'import', 'sensitivity', 'tune', 'compare']) {
      const r = await runCli([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout, c).toMatch(/\nExamples:\n {2}(fpswitch|perf) /);
    }
    const bench = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(bench.stdout).toMatch(/\nExamples:\n {2}npm run bench/);
  });

  it('check ends with a tally line', async () => {
    const r = await runCli(['check', '--policy', 'lazy-fixed', '--policy', 'lazy-notafix']);
    const last = r.stdout.trimEnd().split('\n').slice(-1)[0];
    expect(last).toMatch(
      /^tally \(default\): 2 policies, 1 clean at a fixpoint, 1 broken \(lazy-notafix: guest-undef in \d+ events\)$/,
    );
  });
});
