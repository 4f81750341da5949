/**
 * Trace import: line parsing in each format (perf script, trace-cmd report old and new,
 * tracefs with flags), malformed lines, --skip-bad, the perf-kvm-stat table, FP models,
 * streaming input, bad input (one line, exit 2), and the real kernel traces of
 * validation/fixtures against their manifest.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EC, EXIT_TYPE } from '../src/arch/esr.js';
import { exitKey, HANDLED } from '../src/cpu/profile.js';
import { analyzeTrace } from '../src/sim/trace-analyze.js';
import { traceFpModel } from '../src/stream/trace-fp.js';
import { importTrace, MAX_BACKLOG } from '../src/stream/trace-import.js';
import { CLASSES_PER_VCPU } from '../src/machine/run-class.js';
import { parseKvmExit, parseTraceLine } from '../src/stream/trace-parse.js';
import { decodeRunClass } from '../src/machine/run-class.js';
import { runCli } from './helpers/cli.js';
import { at, list, parseObject } from './helpers/json-edit.js';

const ROOT = resolve(import.meta.dirname, '..');
const FIX = join(ROOT, 'test/fixtures/traces');
const fx = (name: string) => join(FIX, name);
const noFp = () => traceFpModel('markov:p=0', { seed: 1, maxVcpus: 64 });

/** All runs of an imported trace: class, exit key, ns. */
async function runsOf(file: string, opts: Partial<Parameters<typeof importTrace>[1]> = {}) {
  const t = await importTrace(file, { fp: noFp(), ...opts });
  try {
    const runs: { cls: ReturnType<typeof decodeRunClass>; key: number; ns: number }[] = [];
    for (const ch of t.stream.chunks())
      for (let i = 0; i < ch.length; i++)
        runs.push({ cls: decodeRunClass(ch.cls[i]), key: ch.exitKey[i], ns: ch.ns[i] });
    return { t, runs };
  } finally {
    t.dispose();
  }
}

describe('parsing one line', () => {
  /** One event line in each format, and the fields parseTraceLine must find in it. */
  const FORMATS: [string, string, Record<string, unknown>][] = [
    [
      'perf script: a comm with spaces, the kvm: prefix, microseconds',
      '       CPU 0/KVM  2001 [001]   100.000010: kvm:kvm_exit: TRAP: HSR_EC: 0x0018 (SYS64), PC: 0x0000ffff80001004',
      {
        comm: 'CPU 0/KVM',
        tid: 2001,
        cpu: 1,
        ns: 100_000_010_000,
        event: 'kvm_exit',
        body: 'TRAP: HSR_EC: 0x0018 (SYS64), PC: 0x0000ffff80001004',
      },
    ],
    [
      'perf script with pid/tid',
      'qemu-system-aar   100/101 [000]     1.5: kvm:kvm_entry: PC: 0x0000ffff80001000',
      { comm: 'qemu-system-aar', tid: 101, ns: 1_500_000_000, event: 'kvm_entry' },
    ],
    [
      'trace-cmd report, old 32-bit PC format, no flags column',
      'qemu-system-arm-3001  [000]   200.000100: kvm_entry:            PC: 0xc0008000',
      {
        comm: 'qemu-system-arm',
        tid: 3001,
        cpu: 0,
        ns: 200_000_100_000,
        event: 'kvm_entry',
        body: 'PC: 0xc0008000',
      },
    ],
    [
      'tracefs with a 5-character flags column and nanoseconds',
      '       CPU 0/KVM-4001    [003] d..1.   300.000001100: kvm_exit: SERROR: HSR_EC: 0x0000 (UNKNOWN), PC: 0xffff800008001004',
      { comm: 'CPU 0/KVM', tid: 4001, cpu: 3, ns: 300_000_001_100, event: 'kvm_exit' },
    ],
  ];
  it.each(FORMATS)('%s', (_name, line, fields) => {
    expect(parseTraceLine(line)).toMatchObject({ kind: 'event', ...fields });
  });
  it('a parsed event line has exactly these fields', () => {
    const [, line, fields] = FORMATS[0];
    expect(parseTraceLine(line)).toEqual({ kind: 'event', ...fields });
  });
  it('tracefs with an old 4-character flags column and a record-tgid column', () => {
    expect(
      parseTraceLine(
        ' qemu-system-aar-136     [000] .N..    43.102274: kvm_entry: PC: 0x0000000000400bb4',
      ),
    ).toMatchObject({ tid: 136, ns: 43_102_274_000 });
    expect(
      parseTraceLine('            bash-1977  ( 1977) [000] ....  4.5: kvm_entry: PC: 0x1'),
    ).toMatchObject({ comm: 'bash', tid: 1977 });
  });
  it('headers, blank lines, lost-event markers and call-chain frames', () => {
    expect(parseTraceLine('# tracer: nop').kind).toBe('header');
    expect(parseTraceLine('cpus=4').kind).toBe('header');
    expect(parseTraceLine('version = 6').kind).toBe('header');
    expect(parseTraceLine('CPU 1 is empty').kind).toBe('header');
    expect(parseTraceLine('   ').kind).toBe('blank');
    expect(parseTraceLine('CPU:2 [LOST 120 EVENTS]')).toEqual({ kind: 'lost', events: 120 });
    expect(
      parseTraceLine('\t    ffff800010089a2c kvm_handle_guest_abort+0x2c ([kernel.kallsyms])').kind,
    ).toBe('callchain');
    expect(parseTraceLine('garbage').kind).toBe('bad');
  });
  it('kvm_exit: every exception type, hex EC names, names this table lacks', () => {
    const cases: [string, number, string][] = [
      ['IRQ: HSR_EC: 0x0000 (UNKNOWN)', EXIT_TYPE.IRQ, 'IRQ'],
      ['SERROR: HSR_EC: 0x0000 (UNKNOWN)', EXIT_TYPE.SERROR, 'SERROR'],
      ['HYP_GONE: HSR_EC: 0x0000 (UNKNOWN)', EXIT_TYPE.HYP_GONE, 'HYP_GONE'],
      ['TRAP: HSR_EC: 0x0001 (WFx)', EC.WFx, 'WFx'],
      ['TRAP: HSR_EC: 0x001d (0x1d)', 0x1d, '0x1d'],
      ['TRAP: HSR_EC: 0x0027 (MOPS)', 0x27, 'MOPS'],
    ];
    for (const [text, code, label] of cases)
      expect(parseKvmExit(`${text}, PC: 0x1`)).toEqual({ ok: true, code, label });
  });
  it('kvm_exit: malformed, mismatched, unknown', () => {
    expect(parseKvmExit('TRAP: HSR_EC: 0x0016 (SYS64), PC: 0x1')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /EC name SYS64 \(0x18\) does not match HSR_EC 0x0016/,
      ) as unknown,
    });
    expect(parseKvmExit('BOGUS: HSR_EC: 0x0000 (UNKNOWN), PC: 0x1')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unknown exception class: exception type "BOGUS"/) as unknown,
    });
    expect(parseKvmExit('TRAP: HSR_EC: 0x0040 (0x40), PC: 0x1')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unknown exception class: HSR_EC 0x0040/) as unknown,
    });
    expect(parseKvmExit('TRAP: HSR_EC: 0x0018 (what is this), PC: 0x1')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unknown exception class "what is this"/) as unknown,
    });
    expect(parseKvmExit('PC: 0x0000ffff80001000')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/without an exception class/) as unknown,
    });
    expect(parseKvmExit('vcpu 0 reason EXIT_IO rip 0x1')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/malformed kvm_exit fields/) as unknown,
    });
  });
});

describe('importing the hand-written fixtures', () => {
  it('perf script: runs per thread in exit order, lengths, userspace exits, ignored lines', async () => {
    const { t, runs } = await runsOf(fx('perf-script.txt'));
    expect(t.counts).toMatchObject({
      lines: 21,
      entries: 7,
      exits: 6,
      userspaceExits: 1,
      otherEvents: 2,
      nonEventLines: 5,
      badLines: 0,
      runs: 6,
      exitsWithoutEntry: 0,
    });
    expect(t.threads.map((x) => `${x.comm}-${x.tid}:${x.vcpu}`)).toEqual([
      'CPU 0/KVM-2001:0',
      'CPU 1/KVM-2002:1',
    ]);
    expect(runs.map((r) => [r.cls.vcpu, r.key, r.ns])).toEqual([
      [0, exitKey(EC.SYS64, HANDLED.kernel), 10_000],
      [0, exitKey(EXIT_TYPE.IRQ, HANDLED.kernel), 20_000],
      [1, exitKey(EC.HVC64, HANDLED.kernel), 50_000],
      [1, exitKey(EXIT_TYPE.IRQ, HANDLED.kernel), 5_000],
      [0, exitKey(EC.DABT_LOW, HANDLED.user), 30_000],
      [0, exitKey(EC.WFx, HANDLED.kernel), 40_000],
    ]);
    expect(runs[4].cls.handled).toBe(HANDLED.user);
  });
  it("trace-cmd report (old format, IRQ and TRAP only, an AArch32 guest's CP15_32)", async () => {
    const { t, runs } = await runsOf(fx('trace-cmd-old.txt'));
    expect(t.counts).toMatchObject({
      lines: 12,
      entries: 4,
      exits: 4,
      userspaceExits: 1,
      nonEventLines: 3,
      runs: 4,
    });
    expect(runs.map((r) => [r.key, r.ns])).toEqual([
      [exitKey(EC.CP15_32, HANDLED.kernel), 50_000],
      [exitKey(EXIT_TYPE.IRQ, HANDLED.kernel), 100_000],
      [exitKey(EC.DABT_LOW, HANDLED.user), 20_000],
      [exitKey(EC.WFx, HANDLED.kernel), 100_000],
    ]);
  });
  it('tracefs (flags column, nanoseconds, SERROR, HYP_GONE, hex and newer EC names)', async () => {
    const { t, runs } = await runsOf(fx('tracefs.txt'));
    expect(t.counts).toMatchObject({
      lines: 23,
      entries: 5,
      exits: 5,
      otherEvents: 1,
      nonEventLines: 12,
      runs: 5,
    });
    expect(runs.map((r) => [r.cls.vcpu, r.key, r.ns])).toEqual([
      [0, exitKey(EXIT_TYPE.SERROR, HANDLED.kernel), 1_000],
      [0, exitKey(0x1d, HANDLED.kernel), 2_000],
      [0, exitKey(0x27, HANDLED.kernel), 3_000],
      [1, exitKey(EXIT_TYPE.HYP_GONE, HANDLED.kernel), 4_000],
      [0, exitKey(EC.SYS64, HANDLED.kernel), 5_000],
    ]);
    expect(
      t.stats
        .rows()
        .map((r) => r.exit)
        .sort(),
    ).toEqual(['0x1d', 'HYP_GONE', 'MOPS', 'SERROR', 'SYS64']);
  });
  it('--pcpu keeps one physical CPU; --user-exits maps exit classes to host userspace', async () => {
    const one = await runsOf(fx('tracefs.txt'), { pcpu: 2 });
    expect(one.runs.map((r) => r.key)).toEqual([exitKey(EXIT_TYPE.HYP_GONE, HANDLED.kernel)]);
    expect(one.t.counts.otherCpuEvents).toBe(8);
    const user = await runsOf(fx('tracefs.txt'), { userExits: new Set([EC.SYS64]) });
    expect(user.runs[4].key).toBe(exitKey(EC.SYS64, HANDLED.user));
  });
  it('a trace read from a stream, with lost events, exits without entries and double entries counted', async () => {
    const lines = [
      '       CPU 0/KVM-1    [000] d..1.   1.000010: kvm_exit: TRAP: HSR_EC: 0x0018 (SYS64), PC: 0x1',
      '       CPU 0/KVM-1    [000] d..1.   1.000020: kvm_entry: PC: 0x1',
      'CPU:0 [LOST 7 EVENTS]',
      '       CPU 0/KVM-1    [000] d..1.   1.000030: kvm_entry: PC: 0x1',
      '       CPU 0/KVM-1    [000] d..1.   1.000035: kvm_exit: TRAP: HSR_EC: 0x0016 (HVC64), PC: 0x1',
    ];
    const t = await importTrace(Readable.from(lines.map((l) => `${l}\n`)), { fp: noFp() });
    try {
      expect(t.counts).toMatchObject({
        runs: 1,
        lostEvents: 7,
        exitsWithoutEntry: 1,
        entriesWithoutExit: 1,
      });
    } finally {
      t.dispose();
    }
  });
  it('a long trace streams through: 200,000 runs, every one counted', async () => {
    function* gen() {
      for (let i = 0; i < 200_000; i++) {
        const t0 = 10 + i * 0.00002;
        yield `       CPU 0/KVM-9    [000] d..1. ${t0.toFixed(6)}: kvm_entry: PC: 0x1\n`;
        yield `       CPU 0/KVM-9    [000] d..1. ${(t0 + 0.00001).toFixed(6)}: kvm_exit: TRAP: HSR_EC: 0x0016 (HVC64), PC: 0x1\n`;
      }
    }
    const t = await importTrace(Readable.from(gen()), { fp: noFp() });
    try {
      expect(t.counts.runs).toBe(200_000);
      expect(t.stream.runs).toBe(200_000);
      let n = 0;
      let chunks = 0;
      for (const ch of t.stream.chunks()) {
        n += ch.length;
        chunks++;
      }
      expect(n).toBe(200_000);
      expect(chunks).toBe(4); // 65,536-run chunks: the spool replays in flat memory
    } finally {
      t.dispose();
    }
  });

  it('a thread that goes quiet does not hold the other threads back: the backlog stays bounded', async () => {
    const others = MAX_BACKLOG + 1000;
    function* gen() {
      // Thread 7 runs once and never enters again; thread 9 keeps running.
      yield `       CPU 1/KVM-7    [000] d..1. 9.000000: kvm_entry: PC: 0x1\n`;
      yield `       CPU 1/KVM-7    [000] d..1. 9.000020: kvm_exit: TRAP: HSR_EC: 0x0016 (HVC64), PC: 0x1\n`;
      for (let i = 0; i < others; i++) {
        const t0 = 10 + i * 0.00002;
        yield `       CPU 0/KVM-9    [000] d..1. ${t0.toFixed(6)}: kvm_entry: PC: 0x1\n`;
        yield `       CPU 0/KVM-9    [000] d..1. ${(t0 + 0.00001).toFixed(6)}: kvm_exit: TRAP: HSR_EC: 0x0016 (HVC64), PC: 0x1\n`;
      }
    }
    const t = await importTrace(Readable.from(gen()), { fp: noFp() });
    try {
      expect(t.counts.runs).toBe(others + 1);
      // Only thread 7's run left before its thread's next event (there was none).
      expect(t.counts.runsDecidedEarly).toBe(1);
      // In exit order: thread 7's 20 us run first (vCPU 0), then every run of thread 9
      // (vCPU 1, 10 us each), each once.
      const ns: number[] = [];
      const vcpu: number[] = [];
      for (const ch of t.stream.chunks()) {
        for (let k = 0; k < ch.length; k++) {
          ns.push(Math.round(ch.ns[k]));
          vcpu.push(Math.floor(ch.cls[k] / CLASSES_PER_VCPU));
        }
      }
      expect(ns.length).toBe(others + 1);
      expect([ns[0], vcpu[0]]).toEqual([20_000, 0]);
      expect(vcpu.slice(1).every((v) => v === 1)).toBe(true);
      expect(ns.slice(1).every((x) => x === 10_000)).toBe(true);
    } finally {
      t.dispose();
    }
  });
});

describe('the perf kvm stat table', () => {
  it('guest run time (default, perf on arm64): exact rows and layout, userspace exits apart', async () => {
    const r = await runCli(['import', fx('perf-script.txt'), '--stats']);
    expect(r.code).toBe(0);
    const start = r.stdout.indexOf('Analyze events');
    const table = r.stdout.slice(start, r.stdout.indexOf('\n', r.stdout.indexOf('Total Samples')));
    expect(table).toBe(
      [
        'Analyze events for all VMs, all VCPUs:',
        'Event time: guest run time, kvm_entry to kvm_exit (perf kvm stat on arm64); sorted by sample.',
        '',
        'Exits handled in the kernel:',
        'VM-EXIT  Samples  Samples%   Time%  Min Time  Max Time  Avg time',
        '-------  -------  --------  ------  --------  --------  --------  -------------',
        '    IRQ        2    33.33%  16.13%    5.00us   20.00us   12.50us  ( +- 60.00% )',
        '  HVC64        1    16.67%  32.26%   50.00us   50.00us   50.00us   ( +- 0.00% )',
        '  SYS64        1    16.67%   6.45%   10.00us   10.00us   10.00us   ( +- 0.00% )',
        '    WFx        1    16.67%  25.81%   40.00us   40.00us   40.00us   ( +- 0.00% )',
        '',
        'Exits completed in host userspace (a kvm_userspace_exit followed):',
        ' VM-EXIT  Samples  Samples%   Time%  Min Time  Max Time  Avg time',
        '--------  -------  --------  ------  --------  --------  --------  ------------',
        'DABT_LOW        1    16.67%  19.35%   30.00us   30.00us   30.00us  ( +- 0.00% )',
        '',
        'Total Samples:6, Total events handled time:155.00us.',
      ].join('\n'),
    );
  });
  it("exit handling time (perf's meaning on x86): kvm_exit to the next kvm_entry", async () => {
    const a = await analyzeTrace(fx('perf-script.txt'), { statTime: 'handled' });
    expect(a.stats.rows.map((r) => [r.exit, r.samples, r.avgUs])).toEqual([
      ['DABT_LOW', 1, 15],
      ['HVC64', 1, 4],
      ['IRQ', 1, 3],
      ['SYS64', 1, 2],
      ['WFx', 1, 380],
    ]);
  });
});

describe('FP models and policies over an imported trace', () => {
  it('markov:p=1 touches FP in every run (lazy-fixed never skips); p=0 never (always skips)', async () => {
    const on = await analyzeTrace(fx('perf-script.txt'), {
      fp: 'markov:p=1',
      policies: ['lazy-fixed'],
    });
    expect(on.results[0].fpUse.el0).toBe(1);
    expect(on.results[0].skipRate).toBe(0);
    const off = await analyzeTrace(fx('perf-script.txt'), {
      fp: 'markov:p=0',
      policies: ['lazy-fixed', 'eager'],
    });
    expect(off.results[0].skipRate).toBe(1);
    expect(off.results[1].skipRate).toBe(0);
    expect(off.results[0].runs).toBe(6);
  });
  it("a guest workload's task model: AArch32 guests get FPEXC accesses; the WFx exit carries the switch to idle", async () => {
    const a32 = await analyzeTrace(fx('trace-cmd-old.txt'), {
      fp: 'fp-heavy-aarch32',
      policies: ['lazy-fixed'],
    });
    expect(a32.results[0].fpUse.fpexc).toBeGreaterThan(0);
    const a64 = await analyzeTrace(fx('trace-cmd-old.txt'), {
      fp: 'lmbench-ctx',
      policies: ['lazy-fixed'],
    });
    expect(a64.results[0].fpUse.fpexc).toBe(0);
    // lmbench-ctx: one user task that never runs SIMD code; the only FP touch is the save when it blocks (WFx).
    expect(a64.results[0].fpUse.el1).toBe(0.25);
  });
  it('the same seed gives the same result; JSON output is complete', async () => {
    const args = [
      'import',
      fx('perf-script.txt'),
      '--fp',
      'hackbench',
      '--policy',
      'lazy-fixed',
      '--policy',
      'lazy-vcpu',
      '--stats',
      '--json',
    ];
    const a = await runCli(args);
    const b = await runCli(args);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const j = parseObject(a.stdout);
    expect(at(j, 'counts').runs).toBe(6);
    expect(list(j, 'results')).toHaveLength(2);
    expect(at(j, 'stats.rows.0').exit).toBe('IRQ');
  });
});

describe('bad input: one line naming the file (and line), exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'a malformed line stops the import',
      [fx('malformed.txt'), '--stats'],
      /^fpswitch import: \S+malformed\.txt:4: malformed kvm_exit fields "TRAP: HSR_EC: 0x00zz/,
    ],
    [
      'an empty trace',
      [fx('empty.txt'), '--stats'],
      /^fpswitch import: \S+empty\.txt: empty trace/,
    ],
    [
      'a trace of headers only',
      [fx('header-only.txt'), '--stats'],
      /^fpswitch import: \S+header-only\.txt: empty trace/,
    ],
    [
      'a trace without kvm events',
      [fx('no-kvm.txt'), '--stats'],
      /^fpswitch import: \S+no-kvm\.txt: no kvm_entry\/kvm_exit events in 4 lines \(2 other events\)/,
    ],
    [
      'an unknown exception class',
      [fx('unknown-class.txt'), '--stats'],
      /^fpswitch import: \S+unknown-class\.txt:2: unknown exception class: exception type "BOGUS"/,
    ],
    ['no complete run', [fx('no-entry.txt'), '--stats'], /no complete guest run/],
    [
      'a missing file',
      [fx('does-not-exist.txt'), '--stats'],
      /does-not-exist\.txt: cannot read trace \(ENOENT\)/,
    ],
    ['a directory', [FIX, '--stats'], /traces: not a file/],
    [
      '--policy without --fp',
      [fx('perf-script.txt'), '--policy', 'lazy-fixed'],
      /--fp is required with --policy/,
    ],
    ['nothing to do', [fx('perf-script.txt')], /nothing to do/],
    ['two files', [fx('perf-script.txt'), fx('tracefs.txt'), '--stats'], /expected one trace file/],
    [
      'a bad FP model',
      [fx('perf-script.txt'), '--fp', 'markov:p=1.5', '--policy', 'lazy-fixed'],
      /--fp markov:p=1\.5: p=1\.5: expected a number from 0 to 1/,
    ],
    [
      'an unknown FP workload',
      [fx('perf-script.txt'), '--fp', 'nope', '--policy', 'lazy-fixed'],
      /unknown workload "nope"/,
    ],
    [
      'an unknown FP model kind',
      [fx('perf-script.txt'), '--fp', 'bernoulli:0.3', '--policy', 'lazy-fixed'],
      /--fp bernoulli:0\.3: unknown FP model "bernoulli" \(models: markov:/,
    ],
    [
      'an unknown user exit class',
      [fx('perf-script.txt'), '--stats', '--user-exits', 'NOPE'],
      /--user-exits NOPE: unknown exit class/,
    ],
    [
      'a bad --stats-time',
      [fx('perf-script.txt'), '--stats', '--stats-time', 'wall'],
      /--stats-time wall: expected run or handled/,
    ],
    [
      'too many vCPU threads',
      [fx('perf-script.txt'), '--stats', '--max-vcpus', '1'],
      /perf-script\.txt:7: more than 1 vCPU threads/,
    ],
  ];
  for (const [label, args, pattern] of cases) {
    it(label, async () => {
      const r = await runCli(['import', ...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    });
  }
  it('--skip-bad counts bad lines, names the first, and carries on', async () => {
    const r = await runCli(['import', fx('malformed.txt'), '--stats', '--skip-bad']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 guest runs/);
    expect(r.stdout).toMatch(
      /note: 3 bad lines skipped \(first: \S+malformed\.txt:4: malformed kvm_exit fields/,
    );
    expect(r.stdout).toMatch(/note: 1 kvm_entry without a kvm_exit/);
    const a = await analyzeTrace(fx('malformed.txt'), { skipBad: true });
    expect(a.counts.badLines).toBe(3);
    expect(a.stats.rows.map((x) => [x.exit, x.avgUs])).toEqual([
      ['HVC64', 18],
      ['IRQ', 10],
      ['SYS64', 10],
    ]);
  });
  it('--help', async () => {
    const r = await runCli(['import', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: fpswitch import <file\|->/);
  });
});

describe('standard input', () => {
  it('fpswitch import - reads the trace from stdin', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'import', '-', '--stats'],
      {
        input: readFileSync(fx('trace-cmd-old.txt')),
        encoding: 'utf8',
        cwd: ROOT,
      },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^trace <stdin>: 12 lines, 4 guest runs/);
    expect(r.stdout).toMatch(/CP15_32\s+1\s+25\.00%/);
  });
});

describe('real kernel traces (validation/fixtures) against their manifest', () => {
  const dir = join(ROOT, 'validation/fixtures');
  const manifestFile = join(dir, 'manifest.json');
  const manifest: Record<
    string,
    {
      kvmEntry: number;
      kvmExit: number;
      kvmUserspaceExit: number;
      exitsByClass: Record<string, number>;
    }
  > = existsSync(manifestFile)
    ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as typeof manifest)
    : {};
  it.skipIf(Object.keys(manifest).length === 0)(
    "every fixture imports with the manifest's event counts and exit classes",
    async () => {
      for (const [name, m] of Object.entries(manifest)) {
        const a = await analyzeTrace(join(dir, name), {
          fp: 'markov:p=0.5',
          policies: ['lazy-fixed'],
        });
        expect(a.counts.entries, name).toBe(m.kvmEntry);
        expect(a.counts.exits, name).toBe(m.kvmExit);
        expect(a.counts.userspaceExits, name).toBe(m.kvmUserspaceExit);
        expect(a.counts.badLines, name).toBe(0);
        // Exit classes of complete runs: the manifest counts every kvm_exit, so allow exits without an entry.
        const byClass = Object.fromEntries(a.stats.rows.map((r) => [r.exit, r.samples]));
        for (const [cls, n] of Object.entries(m.exitsByClass))
          expect(
            (byClass[cls] ?? 0) + a.counts.exitsWithoutEntry,
            `${name} ${cls}`,
          ).toBeGreaterThanOrEqual(n);
        expect(a.counts.runs + a.counts.exitsWithoutEntry, name).toBe(m.kvmExit);
      }
    },
  );
});
