/**
 * Workload files: the built-ins load and carry a source or rationale for every number;
 * bad files fail with one line naming the file and every bad field (exit 2, no stack);
 * the markov kind keeps working next to the guest kind.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourcedLeaves } from '../src/stream/sourced-param.js';
import {
  builtinWorkloadNames,
  parseWorkload,
  resolveWorkload,
  WORKLOADS_DIR,
} from '../src/stream/workload.js';
import { runCli, runSimulate } from './helpers/cli.js';
import { at, type JsonObject, list, parseObject } from './helpers/json-edit.js';
import { tempDir } from './helpers/temp.js';

const GUEST_BUILTINS = [
  'fp-heavy-aarch32',
  'hackbench',
  'idle',
  'lmbench-ctx',
  'lmbench-syscall',
  'mixed-aarch32-aarch64',
  'virtio-io',
];

function raw(name: string): JsonObject {
  return parseObject(readFileSync(join(WORKLOADS_DIR, `${name}.json`), 'utf8'));
}

/** Every number in a JSON value, with its path. */
function numbers(x: unknown, path = ''): string[] {
  if (typeof x === 'number') return [path];
  if (Array.isArray(x)) return x.flatMap((v, i) => numbers(v, `${path}[${i}]`));
  if (x !== null && typeof x === 'object')
    return Object.entries(x).flatMap(([k, v]) => numbers(v, path ? `${path}.${k}` : k));
  return [];
}

const dir = tempDir('fpswitch-workload-test-');
function writeVariant(name: string, edit: (w: JsonObject) => void): string {
  const w = raw('hackbench');
  edit(w);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(w));
  return file;
}

async function simulateFile(file: string) {
  return runSimulate(file, 'lazy-fixed', 1000);
}

describe('built-in workloads', () => {
  it("are the issue's guest workloads plus the markov calibration stream", () => {
    expect(builtinWorkloadNames()).toEqual(expect.arrayContaining([...GUEST_BUILTINS, 'hvc-only']));
    for (const name of GUEST_BUILTINS) expect(resolveWorkload(name).workload.kind).toBe('guest');
    expect(resolveWorkload('hvc-only').workload.kind).toBe('markov');
  });
  for (const name of GUEST_BUILTINS) {
    it(`${name}: every number is a sourced value with a source or rationale; every estimate says what would change it`, () => {
      const w = raw(name);
      const leaves = sourcedLeaves(w);
      // Every number in the file is the value of a sourced parameter.
      expect(numbers(w).sort()).toEqual(leaves.map((l) => `${l.path}.value`).sort());
      for (const { path, param } of leaves) {
        expect(param.source ?? param.rationale, path).toMatch(/\S{3}/);
        if (param.estimate) expect(param.wouldChange, path).toMatch(/\S{3}/);
      }
      for (const vm of list(w, 'vms')) expect(at(vm, '').rationale).toMatch(/^[^]{21,}$/);
    });
  }
  it('the markov kind still loads and simulates (hvc-only never touches FP)', async () => {
    const r = await runSimulate('hvc-only', 'lazy-fixed', 20000, '--json');
    expect(r.code).toBe(0);
    expect(parseObject(r.stdout).skipRate).toBe(1);
  });
  it('list shows the guest workloads with their kind', async () => {
    const r = await runCli(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hackbench\s+guest/);
    expect(r.stdout).toMatch(/hvc-only\s+markov/);
  });
});

describe('bad workload files: one line naming the file and the field, exit 2', () => {
  const cases: [string, (w: JsonObject) => void, RegExp][] = [
    [
      'unknown field',
      (w) => (at(w, 'vms.0.scheduler').bogus = 1),
      /vms\[0\]\.scheduler: unknown field "bogus"/,
    ],
    ['unknown top-level field', (w) => (w.extra = true), /: unknown field "extra"/],
    [
      'wrong type',
      (w) => (at(w, 'vms.0.hz').value = '250'),
      /vms\[0\]\.hz\.value: Invalid input: expected number, received string/,
    ],
    [
      'a plain number instead of a sourced value',
      (w) => (at(w, 'vms.0').hz = 250),
      /vms\[0\]\.hz: expected \{ "value": <number>, "source" or "rationale"/,
    ],
    [
      'negative rate',
      (w) => (at(w, 'vms.0.exits.ipiSentPerSec').value = -1),
      /vms\[0\]\.exits\.ipiSentPerSec\.value: Too small: expected number to be >=0/,
    ],
    [
      'probability above 1',
      (w) => (at(w, 'vms.0.tasks.simdShare').value = 1.5),
      /vms\[0\]\.tasks\.simdShare\.value: Too big: expected number to be <=1/,
    ],
    [
      'probability below 0',
      (w) => (at(w, 'host.kernelNeonPerExit').value = -0.1),
      /host\.kernelNeonPerExit\.value: Too small/,
    ],
    [
      'no source or rationale',
      (w) => delete at(w, 'vms.0.hz').source,
      /vms\[0\]\.hz: needs a "source" or a "rationale"/,
    ],
    [
      'an estimate without what would change it',
      (w) => delete at(w, 'vms.0.idle.blipUs').wouldChange,
      /vms\[0\]\.idle\.blipUs\.wouldChange: an estimate must say what would change it/,
    ],
    ['missing field', (w) => delete at(w, 'host').hz, /host\.hz: missing/],
    ['unknown EL1 state', (w) => (at(w, 'vms.0').el1 = 'aarch16'), /vms\[0\]\.el1: Invalid option/],
    [
      'unknown exit class in otherExits',
      (w) =>
        (at(w, 'vms.0').otherExits = [
          { exit: 'NOPE', handled: 'kernel', perSec: { value: 1, rationale: 'x' } },
        ]),
      /vms\[0\]\.otherExits\[0\]\.exit: unknown exit class/,
    ],
    [
      'preemptions above the host tick rate',
      (w) => (at(w, 'host.preemptionsPerSec').value = 1000),
      /host\.preemptionsPerSec: 1000 is more than host\.hz 250/,
    ],
    [
      'more vCPUs on the CPU than the VM has',
      (w) => {
        at(w, 'vms.0.vcpus').value = 2;
        at(w, 'vms.0.vcpusOnThisCpu').value = 3;
      },
      /vms\[0\]\.vcpusOnThisCpu: 3 is more than the VM's 2 vCPUs/,
    ],
    [
      'more than 8 vCPUs on the physical CPU',
      (w) => {
        list(w, 'vms').push(structuredClone(at(w, 'vms.0')));
        at(w, 'vms.0.vcpusOnThisCpu').value = 5;
        at(w, 'vms.1.vcpusOnThisCpu').value = 5;
      },
      /vms: 10 vCPUs share the physical CPU \(at most 8\)/,
    ],
    [
      'every exit rate zero',
      (w) => {
        at(w, 'vms.0.hz').value = 0;
        at(w, 'host.hz').value = 0;
        at(w, 'vms.0.idle.entriesPerSec').value = 0;
        const exits = at(w, 'vms.0.exits');
        for (const k of Object.keys(exits)) at(exits, k).value = 0;
      },
      /vms\[0\]: no exit source while busy/,
    ],
    ['unknown kind', (w) => (w.kind = 'nope'), /kind: unknown workload kind "nope"/],
  ];
  for (const [label, edit, pattern] of cases) {
    it(label, async () => {
      const file = writeVariant(label.replace(/\W+/g, '-'), edit);
      const r = await simulateFile(file);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0].startsWith(`fpswitch simulate: ${file}: `)).toBe(true);
      expect(lines[0]).toMatch(pattern);
      expect(lines[0]).not.toMatch(/\bat \S+:\d+/); // no stack trace
    });
  }
  it('several bad fields are all named on the one line', async () => {
    const file = writeVariant('several', (w) => {
      at(w, 'vms.0.tasks.simdShare').value = 2;
      at(w, 'host.hz').value = -5;
    });
    const r = await simulateFile(file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /vms\[0\]\.tasks\.simdShare\.value: Too big.*; host\.hz\.value: Too small/,
    );
  });
  it('not JSON, and a missing file', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "name": ');
    const r = await simulateFile(file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`^fpswitch simulate: ${file.replace(/[.]/g, '\\.')}: not valid JSON`),
    );
    const m = await simulateFile(join(dir, 'missing.json'));
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/unknown workload/);
  });
  it('parseWorkload names the file it was given', () => {
    expect(() => parseWorkload({ name: 'x', kind: 'guest' }, 'given.json')).toThrow(
      /^given\.json: vms: missing|^given\.json: vms/,
    );
  });
});
