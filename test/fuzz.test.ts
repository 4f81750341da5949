/**
 * Property-based tests (fast-check, fixed seed, bounded runs): random and mutated inputs
 * to the workload schema, the trace parser and the scenario reader. Whatever comes in,
 * the answer is a value or a UserError whose printed line is one bounded line; and the
 * trace parser's byte fast path agrees exactly with its regular-expression parser.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/check/config.js';
import { loadScenario, replayScenario } from '../src/check/scenario.js';
import { resolvePolicy } from '../src/policy/registry.js';
import { traceFpModel } from '../src/stream/trace-fp.js';
import { importTrace } from '../src/stream/trace-import.js';
import { parseTraceLine } from '../src/stream/trace-parse.js';
import { scanEventLine, scannedEvent } from '../src/stream/trace-scan.js';
import { loadWorkloadFile, parseWorkload } from '../src/stream/workload.js';
import { errorLine, isUserError } from '../src/util/errors.js';

const ROOT = resolve(import.meta.dirname, '..');
const SEED = 20261207;
const params = (numRuns: number) => ({ seed: SEED, numRuns });
const tmp = mkdtempSync(join(tmpdir(), 'fpswitch-fuzz-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** A call that must return, or throw a UserError that prints as one bounded line. */
function userErrorOrValue(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!isUserError(e)) throw e;
    const line = errorLine(e.message);
    expect(line.split('\n')).toHaveLength(1);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(300);
  }
}

/** JSON values with a bias toward the workload schema's own keys and shapes. */
const KEYS = [
  'name',
  'kind',
  'fpProbability',
  'handledIn',
  'exits',
  'meanRunUs',
  'value',
  'source',
  'vms',
  'tasks',
  'hyp',
  'kernel',
  'user',
];
const jsonish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(
      0,
      1,
      -1,
      0.5,
      1e10,
      Number.MAX_VALUE,
      'markov',
      'guest',
      'HVC64',
      '',
      null,
      true,
    ),
    fc.string(),
    fc.double({ noNaN: true }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string()), tie('value'), { maxKeys: 6 }),
  ),
})).value;

/** One built-in workload with one value somewhere inside replaced. */
function mutate(base: unknown, path: number[], replacement: unknown): unknown {
  const copy = structuredClone<unknown>(base);
  let node = copy as Record<string, unknown>;
  for (let depth = 0; depth < path.length; depth++) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[path[depth] % keys.length];
    const child = node[key];
    if (depth === path.length - 1 || child === null || typeof child !== 'object') {
      node[key] = replacement;
      break;
    }
    node = child as Record<string, unknown>;
  }
  return copy;
}

describe('workload schema', () => {
  const builtins = ['hvc-only', 'hackbench', 'mixed-aarch32-aarch64', 'idle'].map((n) =>
    structuredClone(loadWorkloadFile(join(ROOT, 'workloads', `${n}.json`))),
  );
  it('random JSON: a workload or one bounded line', () => {
    fc.assert(
      fc.property(jsonish, (raw) => {
        userErrorOrValue(() => parseWorkload(raw, 'fuzz.json'));
      }),
      params(400),
    );
  });
  it('a built-in with one value replaced: a workload or one bounded line', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: builtins.length - 1 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        jsonish,
        (which, path, replacement) => {
          userErrorOrValue(() =>
            parseWorkload(mutate(builtins[which], path, replacement), 'fuzz.json'),
          );
        },
      ),
      params(400),
    );
  });
});

const LINE = fc.constantFrom(
  '       CPU 0/KVM-4001    [003] d..1.   300.000000100: kvm_entry: PC: 0xffff800008001000',
  '       CPU 0/KVM  2001 [001]   100.000010: kvm:kvm_exit: TRAP: HSR_EC: 0x0018 (SYS64), PC: 0x0000ffff80001004',
  'qemu-system-aar   100/101 [000]     1.5: kvm:kvm_entry: PC: 0x0000ffff80001000',
  'qemu-system-arm-3001  [000]   200.000150: kvm_exit:             TRAP: HSR_EC: 0x0003 (CP15_32), PC: 0xc0008010',
  '           <idle>-0      [002] d..2.   300.000005500: sched_switch: prev_comm=swapper/2 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=CPU 1/KVM next_pid=4002 next_prio=120',
  '   CPU 1/KVM-4002  ( 4000) [002] d..1  10.000000001: kvm_userspace_exit: reason KVM_EXIT_MMIO (6)',
  '# tracer: nop',
  'CPU:1 [LOST 12 EVENTS]',
  '       ffff800010001234 el0_svc+0x10 ([kernel.kallsyms])',
);
const ALPHABET = fc.constantFrom(
  ' ',
  '\t',
  '-',
  '/',
  ':',
  '.',
  '[',
  ']',
  '(',
  ')',
  '0',
  '9',
  'x',
  'f',
  'k',
  'v',
  'm',
  '_',
  ',',
  'P',
  'C',
  '#',
  'é',
  '\u00a0',
  '\u2028',
  '\0',
);

/** A line with a few characters inserted, deleted or replaced. */
const mutatedLine = fc
  .tuple(LINE, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), ALPHABET), { maxLength: 6 }))
  .map(([line, edits]) => {
    let s = line;
    for (const [pos, op, ch] of edits) {
      const p = pos % (s.length + 1);
      if (op === 0) s = s.slice(0, p) + ch + s.slice(p);
      else if (op === 1) s = s.slice(0, p) + s.slice(p + 1);
      else s = s.slice(0, p) + ch + s.slice(p + 1);
    }
    return s;
  });

describe('trace parser', () => {
  it('the byte fast path, when it takes a line, agrees exactly with parseTraceLine', () => {
    const out = scannedEvent();
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof(mutatedLine, fc.string({ maxLength: 120 })), (line) => {
        const b = Buffer.from(line, 'utf8');
        if (!b.every((c) => c < 0x80) || line.includes('\r') || line.includes('\n')) return;
        if (!scanEventLine(b, 0, b.length, out)) return;
        taken++;
        const slow = parseTraceLine(line);
        const name = b.toString('latin1', out.eventStart, out.eventEnd);
        expect(slow).toEqual({
          kind: 'event',
          comm: b.toString('latin1', out.commStart, out.commEnd).trim(),
          tid: out.tid,
          cpu: out.cpu,
          ns: out.ns,
          event: name,
          body: b.toString('latin1', out.bodyStart, out.bodyEnd),
        });
      }),
      params(3000),
    );
    // Not vacuous: many mutated lines still take the fast path.
    expect(taken).toBeGreaterThan(300);
  });

  it('a mutated trace imports the same whatever the read chunks, or fails with one bounded line', async () => {
    const base = [
      '# tracer: nop',
      '       CPU 0/KVM-4001    [003] d..1.   300.000000100: kvm_entry: PC: 0xffff800008001000',
      '       CPU 0/KVM-4001    [003] d..1.   300.000001100: kvm_exit: TRAP: HSR_EC: 0x0016 (HVC64), PC: 0xffff800008001004',
      '       CPU 1/KVM-4002    [002] d..1.   300.000001200: kvm_entry: PC: 0xffff800008002000',
      '       CPU 0/KVM-4001    [003] d..1.   300.000001300: kvm_userspace_exit: reason KVM_EXIT_MMIO (6)',
      '       CPU 0/KVM-4001    [003] d..1.   300.000002100: kvm_entry: PC: 0xffff800008001004',
      '       CPU 1/KVM-4002    [002] d..1.   300.000003000: kvm_exit: IRQ: HSR_EC: 0x0000 (UNKNOWN), PC: 0xffff800008002000',
      '           <idle>-0      [002] d..2.   300.000003500: sched_switch: prev_comm=CPU 1/KVM prev_pid=4002 prev_prio=120 prev_state=S ==> next_comm=swapper/2 next_pid=0 next_prio=120',
      '       CPU 0/KVM-4001    [003] d..1.   300.000004100: kvm_exit: TRAP: HSR_EC: 0x0024 (DABT_LOW), PC: 0xffff800008001010',
      '       CPU 1/KVM-4002    [002] d..1.   300.000005000: kvm_entry: PC: 0xffff800008002000',
    ];
    const summary = async (chunks: string[], skipBad: boolean) => {
      try {
        const t = await importTrace(Readable.from(chunks), {
          fp: traceFpModel('markov:p=0.5', { seed: 1, maxVcpus: 64 }),
          skipBad,
        });
        const runs: number[] = [];
        for (const c of t.stream.chunks())
          runs.push(...c.cls.subarray(0, c.length), ...c.ns.subarray(0, c.length));
        t.dispose();
        return JSON.stringify({
          counts: t.counts,
          runs,
          firstBad: t.firstBad,
          stats: t.stats.rows(),
        });
      } catch (e) {
        if (!isUserError(e)) throw e;
        const line = errorLine(e.message);
        expect(line.split('\n')).toHaveLength(1);
        expect(Buffer.byteLength(line)).toBeLessThanOrEqual(300);
        return `error: ${e.message}`;
      }
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), mutatedLine), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        fc.constantFrom('\n', '\r\n'),
        async (replacements, cuts, skipBad, eol) => {
          const lines = [...base];
          for (const [at, line] of replacements) lines[at % lines.length] = line;
          const text = lines.join(eol) + eol;
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const pieces: string[] = [];
          let prev = 0;
          for (const p of points) {
            pieces.push(text.slice(prev, p));
            prev = p;
          }
          pieces.push(text.slice(prev));
          expect(
            await summary(
              pieces.filter((p) => p !== ''),
              skipBad,
            ),
          ).toBe(await summary([text], skipBad));
        },
      ),
      params(200),
    );
  });
});

describe('scenario reader', () => {
  const EVENTS = [
    'load vcpu0',
    'load vcpu1',
    'enter',
    'exit kernel',
    'exit user',
    'guest fp el0',
    'guest fp el1',
    'guest ctxsw',
    'guest fpexc read',
    'put',
    'host fp',
  ];
  const eventish = fc.oneof(fc.constantFrom(...EVENTS), fc.string({ maxLength: 30 }), jsonish);
  const scenario = fc.oneof(
    fc.array(eventish, { maxLength: 8 }),
    fc.record(
      {
        name: fc.oneof(fc.string(), jsonish),
        events: fc.oneof(fc.array(eventish, { maxLength: 8 }), jsonish),
      },
      { requiredKeys: [] },
    ),
    jsonish,
  );
  it('random and mutated scenarios: replayed, or one bounded line', async () => {
    const eager = await resolvePolicy('eager');
    let n = 0;
    fc.assert(
      fc.property(scenario, (raw) => {
        const file = join(tmp, `s${n++}.json`);
        writeFileSync(file, JSON.stringify(raw));
        userErrorOrValue(() => replayScenario(eager, DEFAULT_CONFIG, loadScenario(file)));
      }),
      params(300),
    );
  });
});
