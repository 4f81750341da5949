/**
 * The compiled table walk and the hook-by-hook run give identical counters on random
 * streams, for every built-in policy (issue 2 item 6).
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FPSIMD } from '../src/cpu/fp-state.js';
import { exitKey, HANDLED } from '../src/cpu/profile.js';
import { cpuProfile } from '../src/cpu/profiles.js';
import { TransitionTable } from '../src/machine/compile.js';
import adaptive from '../src/policy/adaptive.js';
import { BUILTIN_POLICIES, instantiate } from '../src/policy/registry.js';
import type { Policy, VcpuDesc } from '../src/policy/types.js';
import { CostMachine } from '../src/machine/cost-machine.js';
import { PolicyRun, simulate } from '../src/sim/simulate.js';
import { SINGLE_BUDGET, Walker } from '../src/sim/walk.js';
import { FactoredTable } from '../src/machine/factored.js';
import { FactoredWalker } from '../src/sim/factored-walk.js';
import { arrayStream } from '../src/stream/exit-stream.js';
import { Prng } from '../src/stream/prng.js';
import { decodeRunClass, encodeRunClass, runClassProblem } from '../src/machine/run-class.js';

/** A random valid stream: any vCPU, any FP bits, handling, host FP and put flags. */
function randomStream(vcpus: readonly VcpuDesc[], runs: number, seed: number) {
  const rng = new Prng(seed);
  const cls: number[] = [];
  const keys: number[] = [];
  let vcpu = 0;
  let inGuest = false;
  for (let i = 0; i < runs; i++) {
    // After an exit handled at EL2 the same vCPU must run next.
    if (!inGuest && rng.next() < 0.3) vcpu = rng.int(vcpus.length);
    const handled = rng.int(3) as 0 | 1 | 2;
    // FPEXC accesses only on an AArch32 EL1.
    const fp = rng.int(8) & (vcpus[vcpu].aarch32 ? 7 : 3);
    const hostFp = handled !== HANDLED.hyp && rng.next() < 0.2;
    const put = handled !== HANDLED.hyp && rng.next() < 0.2;
    const code = encodeRunClass(vcpu, fp, handled, hostFp, put);
    expect(runClassProblem(decodeRunClass(code), vcpus)).toBeUndefined();
    cls.push(code);
    keys.push(exitKey(0x16, handled));
    inGuest = handled === HANDLED.hyp;
  }
  return arrayStream('random', vcpus, { cls, exitKey: keys }, 4096);
}

const configs: Record<string, VcpuDesc[]> = {
  'one AArch64 vCPU': [{ id: 0, vm: 0, aarch32: false }],
  'two AArch32 + one AArch64': [
    { id: 0, vm: 0, aarch32: true },
    { id: 1, vm: 1, aarch32: true },
    { id: 2, vm: 2, aarch32: false },
  ],
};

describe('table walk == direct run', () => {
  for (const [label, vcpus] of Object.entries(configs)) {
    for (const def of BUILTIN_POLICIES) {
      const paramSets: Record<string, number>[] =
        def.name === 'adaptive'
          ? [
              { threshold: 2, eagerRuns: 3 },
              { threshold: 6, eagerRuns: 250 },
            ]
          : [{}];
      for (const params of paramSets) {
        it(`${def.name} ${JSON.stringify(params)} on ${label}`, () => {
          const policy = instantiate(def, params);
          for (const cpu of ['xgene', 'altra']) {
            const stream = randomStream(vcpus, 30_000, 11);
            const opts = { cpu: cpuProfile(cpu), fpState: FPSIMD };
            const table = simulate(policy, stream, { ...opts, engine: 'table' });
            const direct = simulate(policy, stream, { ...opts, engine: 'direct' });
            expect(table.counters).toEqual(direct.counters);
            expect(table.skippedRuns).toBe(direct.skippedRuns);
            expect(table.cycles).toEqual(direct.cycles);
          }
        });
      }
    }
  }

  it('survives table evictions (a policy with more states than the table holds)', () => {
    const def = adaptive;
    const policy = instantiate(def, { threshold: 3, eagerRuns: 40 });
    const vcpus = configs['two AArch32 + one AArch64'];
    const stream = randomStream(vcpus, 20_000, 5);
    // A tiny table (16 states) forces many evictions.
    const t = new TransitionTable(policy, vcpus, 16 * 288);
    const w = new Walker(t);
    for (const c of stream.chunks()) w.walk(c.cls, c.length);
    const small = w.totals();
    expect(t.evictions).toBeGreaterThan(0);
    const direct = simulate(policy, stream, { cpu: cpuProfile('seattle'), engine: 'direct' });
    const table = simulate(policy, stream, { cpu: cpuProfile('seattle'), engine: 'table' });
    expect(Array.from(small).slice(0, 8)).toEqual([
      direct.counters.fpSaves,
      direct.counters.fpRestores,
      direct.counters.fpTraps,
      direct.counters.isbs,
      direct.counters.sysregWrites,
      direct.counters.sysregReads,
      direct.counters.fpexc32Accesses,
      direct.counters.fpexcOnlyTraps,
    ]);
    expect(table.counters).toEqual(direct.counters);
  });
});

describe('table walk == direct run on every built-in workload', () => {
  it.each(readdirSync('workloads').filter((f) => f.endsWith('.json')))(
    '%s, every built-in policy at its defaults',
    async (file) => {
      const { resolveWorkload, workloadStream } = await import('../src/stream/workload.js');
      const { resolvePolicy } = await import('../src/policy/registry.js');
      const w = resolveWorkload(`workloads/${file}`).workload;
      const cpu = cpuProfile('altra');
      for (const def of BUILTIN_POLICIES) {
        const policy = await resolvePolicy(def.name);
        const stream = () => workloadStream(w, { runs: 100_000, seed: 9 });
        const table = simulate(policy, stream(), { cpu, engine: 'table' });
        const direct = simulate(policy, stream(), { cpu, engine: 'direct' });
        expect([def.name, table.counters]).toEqual([def.name, direct.counters]);
        expect(table.cycles).toEqual(direct.cycles);
        expect(table.skippedRuns).toBe(direct.skippedRuns);
      }
    },
  );
});

describe('a table that does not pay off', () => {
  /** adaptive on the mixed two-vCPU stream by table and by cost machine: identical counts. */
  async function mixedTableAndDirect(policy: Policy, runs: number) {
    const { resolveWorkload, workloadStream } = await import('../src/stream/workload.js');
    const w = resolveWorkload('mixed-aarch32-aarch64').workload;
    const cpu = cpuProfile('seattle');
    const [table, direct] = (['table', 'direct'] as const).map((engine) =>
      simulate(policy, workloadStream(w, { runs, seed: 4 }), { cpu, engine }),
    );
    expect(table.counters).toEqual(direct.counters);
    expect(table.cycles).toEqual(direct.cycles);
    expect(table.skippedRuns).toBe(direct.skippedRuns);
    return table;
  }
  it('hands over to the cost machine mid-stream with identical counts (adaptive on two vCPUs, counters in the table)', async () => {
    // Without `modeOf` the counters are table states: two vCPUs multiply them.
    const { modeOf: _unused, ...rest } = adaptive.abstraction ?? {
      covers: '',
      vcpuModes: [],
      decidesAt: [],
    };
    const policy = instantiate(
      { ...adaptive, abstraction: rest },
      { threshold: 6, eagerRuns: 250 },
    );
    const table = await mixedTableAndDirect(policy, 200_000);
    expect(table.table.directRuns).toBeGreaterThan(0);
    expect(table.table.directRuns).toBeLessThan(200_000);
  });
  it('walks adaptive at its defaults on two vCPUs to the end with its counters beside the table', async () => {
    const { resolvePolicy } = await import('../src/policy/registry.js');
    // A plain table would not pay off (the two vCPUs' counters multiply); the factored
    // one (machine states x the two vCPUs' modes) is walked to the end.
    const table = await mixedTableAndDirect(await resolvePolicy('adaptive'), 300_000);
    expect(table.table.directRuns).toBe(0);
  });
  it('keeps walking the table when it pays off (lazy-fixed)', async () => {
    const { resolveWorkload, workloadStream } = await import('../src/stream/workload.js');
    const { resolvePolicy } = await import('../src/policy/registry.js');
    const w = resolveWorkload('mixed-aarch32-aarch64').workload;
    const r = simulate(
      await resolvePolicy('lazy-fixed'),
      workloadStream(w, { runs: 200_000, seed: 4 }),
      { cpu: cpuProfile('seattle') },
    );
    expect(r.table.directRuns).toBe(0);
  });
});

describe('adaptive on one vCPU: plain or factored, chosen after the plain warm-up', () => {
  it.each([
    ['idle', 'raw'],
    ['hvc-only', 'raw'],
    ['fp-heavy-aarch32', 'factored-quads'],
    ['virtio-io', 'factored-pairs'],
  ])('%s walks %s, with the cost machine counts', async (name, expected) => {
    const { resolveWorkload, workloadStream } = await import('../src/stream/workload.js');
    const w = resolveWorkload(name).workload;
    const policy = instantiate(adaptive, { threshold: 6, eagerRuns: 250 });
    const stream = workloadStream(w, { runs: 200_000, seed: 5 });
    const run = new PolicyRun(policy, stream);
    const m = new CostMachine(policy, stream.vcpus);
    const modes: string[] = [];
    for (const c of stream.chunks()) {
      run.feed(c);
      if (modes.at(-1) !== run.mode) modes.push(run.mode);
      for (let i = 0; i < c.length; i++) m.run(decodeRunClass(c.cls[i]));
    }
    expect(modes.at(-1)).toBe(expected);
    const { totals, table } = run.finish();
    expect(Array.from(totals)).toEqual(Array.from(m.acc));
    // A hand-over mid-stream carried the plain table's counts, state and size.
    if (expected !== 'raw') expect(table.states).toBeGreaterThan(run.tableStates + 100);
    // The same stream and chunks give the same choice (no timing in it).
    const again = new PolicyRun(policy, stream);
    for (const c of workloadStream(w, { runs: 200_000, seed: 5 }).chunks()) again.feed(c);
    expect(again.mode).toBe(run.mode);
  });
});

describe('walker and table evictions', () => {
  it('pair tables are folded away before an eviction renumbers the states (1-run chunks after pair mode)', () => {
    const def = adaptive;
    const policy = instantiate(def, { threshold: 3, eagerRuns: 100 });
    const vcpus = configs['two AArch32 + one AArch64'];
    const rng = new Prng(7);
    // A settled phase (no FP: few states, the walker enters pair mode), then FP-heavy runs
    // fed one at a time while the small table keeps evicting.
    const cls = new Uint16Array(60_000);
    let vcpu = 0;
    for (let i = 0; i < cls.length; i++) {
      if (rng.next() < 0.3) vcpu = rng.int(3);
      cls[i] = encodeRunClass(
        vcpu,
        i >= 4096 && rng.next() < 0.95 ? 1 : 0,
        HANDLED.kernel,
        false,
        false,
      );
    }
    const t = new TransitionTable(policy, vcpus, 60 * 288);
    const w = new Walker(t, {
      maxRawEntries: 1 << 22,
      maxPairEntries: 1 << 20,
      maxCells: 60 * 288,
    });
    w.walk(cls.subarray(0, 2048), 2048);
    w.walk(cls.subarray(2048, 4096), 2048);
    expect(['raw', 'dense']).toContain(w.pairMode);
    for (let i = 4096; i < cls.length; i++) w.walk(cls.subarray(i, i + 1), 1);
    expect(t.evictions).toBeGreaterThan(0);
    const m = new CostMachine(policy, vcpus);
    for (let i = 0; i < cls.length; i++) m.run(decodeRunClass(cls[i]));
    expect(Array.from(w.totals())).toEqual(Array.from(m.acc));
  });
});

describe('factored table walk == direct run (counters beside the table)', () => {
  for (const [label, vcpus] of Object.entries(configs)) {
    for (const params of [
      { threshold: 2, eagerRuns: 3 },
      { threshold: 6, eagerRuns: 250 },
    ]) {
      it(`adaptive ${JSON.stringify(params)} on ${label}`, () => {
        const policy = instantiate(adaptive, params);
        const stream = randomStream(vcpus, 30_000, 11);
        const table = new FactoredTable(policy, vcpus);
        const walker = new FactoredWalker(table, SINGLE_BUDGET);
        const m = new CostMachine(policy, vcpus);
        for (const c of stream.chunks()) {
          walker.walk(c.cls, c.length);
          for (let i = 0; i < c.length; i++) m.run(decodeRunClass(c.cls[i]));
        }
        expect(Array.from(walker.totals())).toEqual(Array.from(m.acc));
        // Its states are machine states x modes, whatever the counters.
        expect(table.stateCount).toBeLessThan(200);
        expect(walker.costState()).toEqual(m.snapshot());
      });
    }
  }
});

describe('factored walk, four runs a step', () => {
  it.each(['fp-heavy-aarch32', 'hackbench', 'virtio-io'])(
    'adaptive at its defaults on %s == the cost machine',
    async (name) => {
      const { resolveWorkload, workloadStream } = await import('../src/stream/workload.js');
      const w = resolveWorkload(name).workload;
      const policy = instantiate(adaptive, { threshold: 6, eagerRuns: 250 });
      const stream = workloadStream(w, { runs: 150_000, seed: 3 });
      const table = new FactoredTable(policy, stream.vcpus);
      const walker = new FactoredWalker(table, SINGLE_BUDGET);
      const m = new CostMachine(policy, stream.vcpus);
      const modes = new Set<string>();
      for (const c of stream.chunks()) {
        // Odd chunk lengths leave tails for the pair and single-run paths.
        for (let at = 0; at < c.length; at += 2047) {
          const n = Math.min(2047, c.length - at);
          walker.walk(c.cls.subarray(at, at + n), n);
          modes.add(walker.pairMode);
        }
        for (let i = 0; i < c.length; i++) m.run(decodeRunClass(c.cls[i]));
      }
      expect(modes).toContain('factored-quads');
      expect(Array.from(walker.totals())).toEqual(Array.from(m.acc));
      expect(walker.costState()).toEqual(m.snapshot());
    },
  );
});
