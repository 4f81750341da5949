/** `fpswitch check` through the CLI's main(): output, JSON, exit codes, bad input. */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../src/check/explore.js';
import { cli, NOISB_FIXTURE, SCENARIOS } from './check-helpers.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('fpswitch-check-');
/** `fpswitch check --scenario` of a scenario fixture on one policy, with `rest`. */
function replay(scenario: string, policy: string, ...rest: string[]) {
  return cli(['check', '--scenario', `${SCENARIOS}/${scenario}`, '-p', policy, ...rest]);
}
function tmpFile(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe('fpswitch check', () => {
  it('prints the configuration, the initial state and a clean fixpoint verdict, exit 0', async () => {
    const r = await cli(['check', '--policy', 'lazy-fixed']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      'configuration default: host + two AArch32 vCPUs (different VMs) + one AArch64 vCPU',
    );
    expect(r.out).toContain('vcpu0 AArch32 (VM 0), vcpu1 AArch32 (VM 1), vcpu2 AArch64 (VM 2)');
    expect(r.out).toContain(
      'after boot: host task running with its FP state live in the registers',
    );
    expect(r.out).toMatch(
      /lazy-fixed: ok, no violation in any interleaving \(fixpoint: 297 states, every one reached within 15 events; 1,725 transitions, 144 subsumed, \d+\.\d{3} s\)/,
    );
    expect(r.err).toBe('');
  });

  it('prints the shortest counterexample one step a line, exit 1', async () => {
    const r = await cli(['check', '-p', 'lazy-v4']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'lazy-v4: VIOLATION of el2-self-trap: shortest counterexample, 3 events',
    );
    expect(r.out).toContain('diagnosis: EL2 traps on its own mrs fpexc32_el2 in onExit');
    const lines = r.out.split('\n');
    const step = (n: number) => lines.find((l) => new RegExp(`^\\s+${n}  `).test(l)) ?? '';
    expect(step(1)).toMatch(/load vcpu0\s+vcpu0 \(host\)\s+0\s+1\s+host\s+CPACR on, EN=1\s+no/);
    expect(step(2)).toMatch(/enter\s+vcpu0 \(in guest\)\s+1\s+1\s+host/);
    expect(step(3)).toMatch(/exit kernel\s+vcpu0 \(in onExit\)\s+1\s+1\s+host.*<- el2-self-trap/);
  });

  it('checks every built-in when no policy is named, and exits 1 because two have bugs', async () => {
    const r = await cli(['check']);
    expect(r.code).toBe(1);
    for (const line of [
      'eager: ok, no violation in any interleaving',
      'lazy-v4: VIOLATION of el2-self-trap: shortest counterexample, 3 events',
      'lazy-notafix: VIOLATION of guest-undef: shortest counterexample, 7 events',
      'lazy-fixed: ok, no violation in any interleaving',
      'lazy-vcpu: ok, no violation in any interleaving',
      'adaptive: ok, no violation in any interleaving (fixpoint: 312 states',
      '  covers: every threshold and eagerRuns (mode chosen freely at every entry); states identified up to 2 renamings of interchangeable vCPUs',
    ]) {
      expect(r.out).toContain(line);
    }
  });

  it("--json: one object per policy with the issue's fields", async () => {
    const one = await cli(['check', '-p', 'lazy-notafix', '--json']);
    expect(one.code).toBe(1);
    const v = JSON.parse(one.out) as Verdict;
    expect(Object.keys(v).slice(0, 10)).toEqual([
      'policy',
      'verdict',
      'invariant',
      'diagnosis',
      'steps',
      'exhaustive',
      'depth',
      'states',
      'transitions',
      'seconds',
    ]);
    expect(v).toMatchObject({
      policy: 'lazy-notafix',
      verdict: 'violation',
      invariant: 'guest-undef',
      exhaustive: false,
      depth: 7,
    });
    expect(v.steps).toHaveLength(7);
    expect(v.steps[6]).toMatchObject({
      event: 'guest fp el0',
      state: { loaded: 1, fpexc32En: false, tfp: true },
    });
    expect(typeof v.seconds).toBe('number');

    const two = await cli(['check', '-p', 'lazy-fixed', '-p', 'eager', '--json']);
    expect(two.code).toBe(0);
    const arr = JSON.parse(two.out) as Verdict[];
    expect(arr.map((x) => [x.policy, x.verdict, x.exhaustive, x.states])).toEqual([
      ['lazy-fixed', 'ok', true, 297],
      ['eager', 'ok', true, 184],
    ]);
  });

  it('--depth N bounds the search and says so', async () => {
    const r = await cli(['check', '-p', 'lazy-notafix', '--depth', '5']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /lazy-notafix: ok, no violation up to depth 5 \(not a fixpoint; 42 states, 155 transitions, 13 subsumed, \d+\.\d{3} s\)/,
    );
  });

  it('takes user policies by path, and other configurations', async () => {
    const r = await cli(['check', '-p', NOISB_FIXTURE, '--config', 'three-aarch32']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('configuration three-aarch32');
    expect(r.out).toContain(
      'lazy-noisb: VIOLATION of el2-self-trap: shortest counterexample, 3 events',
    );
    expect(r.out).toContain('open: __fpsimd_save_state saw the old CPTR_EL2.TFP=1');
  });

  it('reads a configuration file', async () => {
    const path = tmpFile(
      'two32.json',
      JSON.stringify({ name: 'two32', vcpus: [{ el1: 'aarch32' }, { el1: 'aarch32', vm: 0 }] }),
    );
    const r = await cli(['check', '-p', 'lazy-notafix', '-p', 'lazy-fixed', '--config', path]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`configuration two32 (${path}): host + AArch32 + AArch32 vCPUs`);
    expect(r.out).toContain('vcpu0 AArch32 (VM 0), vcpu1 AArch32 (VM 0)');
    expect(r.out).toContain(
      'lazy-notafix: VIOLATION of guest-undef: shortest counterexample, 7 events',
    );
    expect(r.out).toContain('lazy-fixed: ok, no violation in any interleaving');
  });

  it('replays a scenario: exit 1 on a violation, 0 when ok', async () => {
    const bad = await replay('notafix-stale-fpexc.json', 'lazy-notafix');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('scenario notafix-stale-fpexc on lazy-notafix:');
    expect(bad.out).toContain('lazy-notafix: VIOLATION of guest-undef at step 7');
    const good = await replay('notafix-stale-fpexc.json', 'lazy-fixed');
    expect(good.code).toBe(0);
    expect(good.out).toContain('  lazy-fixed: ok');
    expect(good.out).toMatch(/ 9 {2}exit kernel /);
    const json = await replay('plain-list.json', 'lazy-v4', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({
      policy: 'lazy-v4',
      verdict: 'violation',
      invariant: 'el2-self-trap',
    });
  });

  it('takes the configuration and policy a scenario names, relative to its file', async () => {
    const r = await cli(['check', '--scenario', `${SCENARIOS}/same-vm-stale-fpexc.json`]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /configuration two-aarch32 \(.*scenarios\/two-aarch32\.config\.json\): host \+ two AArch32 vCPUs of the same VM/,
    );
    expect(r.out).toContain('vcpu0 AArch32 (VM 0), vcpu1 AArch32 (VM 0)');
    expect(r.out).toContain('lazy-notafix: VIOLATION of guest-undef at step 8');
    expect(r.out).toContain('vcpu1 left FPEXC32_EL2.EN=0 behind at step 3 (guest ctxsw)');
    // The command line overrides the file's policy.
    const fixed = await replay('same-vm-stale-fpexc.json', 'lazy-fixed');
    expect(fixed.code).toBe(0);
  });

  it('prints its help', async () => {
    const r = await cli(['check', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: fpswitch check');
  });
});

describe('bad input: one line naming the problem, exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'depth 0',
      ['--depth', '0'],
      /^fpswitch check: --depth 0: expected an integer from 1 to 10000$/,
    ],
    [
      'depth too large',
      ['--depth', '10001'],
      /^fpswitch check: --depth 10001: expected an integer from 1 to 10000$/,
    ],
    [
      'depth not a number',
      ['--depth', 'deep'],
      /^fpswitch check: --depth deep: expected an integer/,
    ],
    [
      'unknown policy',
      ['-p', 'lazy-v5'],
      /^fpswitch check: unknown policy "lazy-v5" \(built-in: eager, lazy-v4/,
    ],
    [
      'bad policy parameter',
      ['-p', 'adaptive:threshold=0'],
      /^fpswitch check: policy "adaptive:threshold=0": parameter threshold=0 is below its minimum 1$/,
    ],
    [
      'missing policy file',
      ['-p', './nope/policy.ts'],
      /^fpswitch check: \.\/nope\/policy\.ts: no such policy file$/,
    ],
    [
      'unknown configuration',
      ['--config', 'four-aarch32'],
      /^fpswitch check: unknown configuration "four-aarch32" \(built-in: default, three-aarch32/,
    ],
    [
      'malformed scenario',
      ['--scenario', `${SCENARIOS}/malformed.json`],
      /^fpswitch check: .*malformed\.json: not valid JSON/,
    ],
    [
      'unknown scenario event',
      ['--scenario', `${SCENARIOS}/unknown-event.json`],
      /unknown-event\.json: events\[2\]: unknown event "guest fp el2"/,
    ],
    [
      'impossible scenario event',
      ['--scenario', `${SCENARIOS}/impossible-event.json`, '-p', 'eager'],
      /impossible-event\.json: events\[1\] "guest fp el0": cannot happen here: no guest is running$/,
    ],
    [
      'depth with scenario',
      ['--scenario', `${SCENARIOS}/plain-list.json`, '--depth', '3'],
      /^fpswitch check: --depth and --max-states apply to the search, not to --scenario$/,
    ],
    ['unknown flag', ['--dept', '3'], /^fpswitch check: Unknown option '--dept'/],
    [
      'policy that throws',
      ['-p', 'test/fixtures/policies/throws-on-entry.ts'],
      /throws-on-entry\.ts: policy throws-on-entry threw in onEntry: cannot read properties/,
    ],
  ];
  it.each(cases)('%s', async (_label, args, pattern) => {
    const r = await cli(['check', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(pattern);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('names the file and field of a bad configuration', async () => {
    const bad = tmpFile(
      'bad-config.json',
      JSON.stringify({ name: 'x', vcpus: [{ el1: 'aarch16' }] }),
    );
    const r = await cli(['check', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad-config\.json: vcpus\[0\]\.el1: /);
    const tooMany = tmpFile(
      'many.json',
      JSON.stringify({ name: 'x', vcpus: Array(6).fill({ el1: 'aarch32' }) }),
    );
    const r2 = await cli(['check', '--config', tooMany]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/many\.json: vcpus: /);
    const notJson = tmpFile('notjson.json', '{ name: x }');
    const r3 = await cli(['check', '--config', notJson]);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/notjson\.json: not valid JSON/);
  });
});
