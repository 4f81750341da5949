/** User policies given by path: .ts and .js modules, the README example, broken modules. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicySpec } from '../src/policy/registry.js';
import { runCli, simulateJson } from './helpers/cli.js';

const fixtures = resolve(__dirname, 'fixtures/user-policies');

describe('policy specs', () => {
  it('splits names, paths and parameters', () => {
    expect(parsePolicySpec('adaptive:threshold=4,eagerRuns=16')).toEqual({
      target: 'adaptive',
      params: { threshold: '4', eagerRuns: '16' },
    });
    expect(parsePolicySpec('./my-policy.ts')).toEqual({ target: './my-policy.ts', params: {} });
    expect(parsePolicySpec('./dir:x/p.ts:k=1')).toEqual({
      target: './dir:x/p.ts',
      params: { k: '1' },
    });
  });
});

describe('user policy modules', () => {
  it('a .js module simulates exactly like the built-in it copies', async () => {
    const args = ['simulate', '-w', 'hvc-only', '--runs', '2000', '--json'];
    const user = simulateJson(
      (await runCli([...args, '-p', join(fixtures, 'eager-copy.js')])).stdout,
    );
    const builtin = simulateJson((await runCli([...args, '-p', 'eager'])).stdout);
    expect(user.policy).toBe('eager-copy');
    expect(user.counters).toEqual(builtin.counters);
    expect(user.cycles).toEqual(builtin.cycles);
  });

  it('the README example policy runs', async () => {
    const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
    const block = /<!-- policy-example -->\s*```ts\n([\s\S]*?)```/.exec(readme);
    if (!block) throw new Error('README.md has no <!-- policy-example --> block');
    const dir = mkdtempSync(join(resolve(__dirname, 'fixtures/user-policies'), 'readme-'));
    const file = join(dir, 'my-policy.ts');
    writeFileSync(
      file,
      block[1].replace(
        "from 'fpswitch/policy'",
        `from '${resolve(__dirname, '../src/policy/types.js')}'`,
      ),
    );
    const r = await runCli([
      'simulate',
      '-w',
      'hvc-only',
      '--runs',
      '1000',
      '-p',
      `${file}:threshold=3`,
      '--json',
    ]);
    rmSync(dir, { recursive: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(simulateJson(r.stdout).policy).toMatch(/threshold=3/);
  });

  it('a module without a policy export: one line, exit 2', async () => {
    const r = await runCli(['simulate', '-w', 'hvc-only', '-p', join(fixtures, 'no-export.ts')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no-export\.ts: does not export a policy/);
  });

  it('a missing module: one line, exit 2', async () => {
    const r = await runCli(['simulate', '-w', 'hvc-only', '-p', './nowhere/policy.ts']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such policy file/);
  });

  it('a policy that leaves TFP set after a trap is stopped with a clear message', async () => {
    const f = join(tmpdir(), 'fp.json');
    writeFileSync(f, JSON.stringify({ name: 'fp', kind: 'markov', fpProbability: 1 }));
    const r = await runCli([
      'simulate',
      '-w',
      f,
      '-p',
      join(fixtures, 'trap-forever.ts'),
      '--runs',
      '10',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/trap-forever: onFpTrap returned with CPTR_EL2.TFP still set/);
  });
});

describe('broken user policies: one line naming the file, exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'throws in a hook (simulate)',
      ['simulate', '-w', 'hackbench', '--runs', '5000', '-p', join(fixtures, 'throws-in-hook.ts')],
      /throws-in-hook\.ts: policy throwhook threw in onEntry: /,
    ],
    [
      'throws in a hook (check)',
      ['check', '-p', join(fixtures, 'throws-in-hook.ts')],
      /throws-in-hook\.ts: policy throwhook threw in onEntry: Cannot read/,
    ],
    [
      'throws in create()',
      [
        'simulate',
        '-w',
        'hackbench',
        '--runs',
        '5000',
        '-p',
        join(fixtures, 'throws-in-create.ts'),
      ],
      /threw in create\(\): boom in create/,
    ],
    [
      'throws in init',
      ['check', '-p', join(fixtures, 'throws-in-init.ts')],
      /threw in init: boom in init/,
    ],
    [
      'state kept in a closure (simulate)',
      ['simulate', '-w', 'hackbench', '--runs', '5000', '-p', join(fixtures, 'impure-closure.ts')],
      /the same run from the same state gave different results/,
    ],
    [
      'state kept in a closure (check)',
      ['check', '-p', join(fixtures, 'impure-closure.ts')],
      /the same history gave different outcomes/,
    ],
    [
      'a slot that does not exist (simulate)',
      ['simulate', '-w', 'hackbench', '--runs', '5000', '-p', join(fixtures, 'bad-slot.ts')],
      /saveFp\/restoreFp got "hostctxt"/,
    ],
    [
      'a slot that does not exist (check)',
      ['check', '-p', join(fixtures, 'bad-slot.ts')],
      /bad-slot\.ts: policy badslot: saveFp\/restoreFp got "hostctxt"/,
    ],
  ];
  for (const [label, argv, pattern] of cases) {
    it(label, async () => {
      const r = await runCli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});
