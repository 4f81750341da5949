/**
 * Parametrised workloads (`hackbench:vcpus=2,groups=2,loops=200`): every parameter that
 * `list` shows is accepted at its bounds and moves the derived rates the way the
 * derivation says; bad parameters are one line with exit code 2.
 */
import { describe, expect, it } from 'vitest';
import { WORKLOAD_TEMPLATES } from '../src/stream/guest-configs.js';
import type { GuestWorkload } from '../src/stream/guest-schema.js';
import { resolveWorkload, workloadStream } from '../src/stream/workload.js';
import { runSimulate } from './helpers/cli.js';

function guest(spec: string): GuestWorkload {
  const w = resolveWorkload(spec).workload;
  if (w.kind !== 'guest') throw new Error('not a guest workload');
  return w;
}

/** A value the template accepts for `key` at one of its bounds (lmbench-ctx keeps vcpus 1 or >= procs). */
function boundSpec(name: string, key: string, value: number): string {
  if (name === 'lmbench-ctx' && key === 'procs') return `${name}:vcpus=1,procs=${value}`;
  if (name === 'lmbench-ctx' && key === 'vcpus' && value > 1) return `${name}:vcpus=${value}`;
  return `${name}:${key}=${value}`;
}

describe('parametrised workloads', () => {
  it('the issue example works through the CLI, as JSON', async () => {
    const r = await runSimulate(
      'hackbench:vcpus=2,groups=2,loops=200',
      'lazy-fixed',
      20000,
      '--json',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { workload: string; skipRate: number };
    expect(j.workload).toBe('hackbench:vcpus=2,groups=2,loops=200');
    expect(j.skipRate).toBeGreaterThan(0);
    expect(j.skipRate).toBeLessThan(1);
  });

  for (const t of WORKLOAD_TEMPLATES) {
    for (const [key, def] of Object.entries(t.params)) {
      it(`${t.name}: ${key} at its bounds generates a stream`, () => {
        for (const v of [def.min ?? def.default, def.max ?? def.default]) {
          const w = resolveWorkload(boundSpec(t.name, key, v)).workload;
          let runs = 0;
          for (const c of workloadStream(w, { runs: 2000, seed: 3 }).chunks()) runs += c.length;
          expect(runs).toBe(2000);
        }
      });
    }
  }

  it('without parameters a template is its defaults, and the name says which were given', () => {
    expect(guest('hackbench')).toEqual({
      ...guest('hackbench:vcpus=8,groups=10'),
      name: 'hackbench',
    });
    expect(guest('hackbench:groups=2').name).toBe('hackbench:groups=2');
  });

  it('the configuration decides the rates: more vCPUs bring IPIs, one vCPU none; size and threads change switch rates', () => {
    const one = guest('hackbench:vcpus=1').vms[0];
    const two = guest('hackbench:vcpus=2').vms[0];
    expect(one.exits.ipiSentPerSec.value).toBe(0);
    expect(two.exits.ipiSentPerSec.value).toBeGreaterThan(0);
    expect(one.idle.entriesPerSec.value).toBe(0);
    // Bigger messages cost more instructions each: fewer messages, fewer switches per second.
    expect(guest('hackbench:size=4096').vms[0].scheduler.switchesPerSec.value).toBeLessThan(
      guest('hackbench').vms[0].scheduler.switchesPerSec.value,
    );
    // Threads start and exit faster: with few loops the task switches weigh more.
    expect(
      guest('hackbench:loops=1,threads=1').vms[0].scheduler.switchesPerSec.value,
    ).toBeGreaterThan(guest('hackbench:loops=1,threads=0').vms[0].scheduler.switchesPerSec.value);
    // Split pipe ping-pong: IPIs and idle periods instead of switches.
    const split = guest('lmbench-ctx:vcpus=2').vms[0];
    const same = guest('lmbench-ctx:vcpus=1').vms[0];
    expect(split.scheduler.switchesPerSec.value).toBe(0);
    expect(split.exits.ipiSentPerSec.value).toBeGreaterThan(0);
    expect(same.scheduler.switchesPerSec.value).toBeGreaterThan(0);
    expect(same.exits.ipiSentPerSec.value).toBe(0);
  });

  for (const [spec, message] of [
    ['hackbench:bogus=1', 'unknown parameter "bogus"'],
    ['hackbench:vcpus=9', 'vcpus=9 is above its maximum 8'],
    ['hackbench:groups=0', 'groups=0 is below its minimum 1'],
    ['hackbench:groups=two', 'groups="two" is not a number'],
    ['hackbench:loops=1.5', 'loops=1.5 must be an integer'],
    ['hackbench:groups=2,groups=3', 'parameter "groups" given twice'],
    ['virtio-io:vcpus=2', 'virtio-io takes no parameters'],
    ['lmbench-ctx:vcpus=2,procs=3', 'vcpus=2 must be 1'],
  ] as const) {
    it(`bad parameters: ${spec} -> one line, exit 2`, async () => {
      const r = await runSimulate(spec, 'lazy-fixed', 100);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(message);
    });
  }
});
