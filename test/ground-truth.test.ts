/**
 * Ground truth (issue 6): the importer on real kernel traces kept in validation/fixtures,
 * and the model against the real kernel on them: for every scripted fixture (a whole
 * measurement window of a scripted guest under Debian's 6.1 KVM), lazy-vcpu over the
 * imported trace with the program's known FP use predicts exactly the FP traps the kernel
 * took (QEMU's exception log, recorded in the manifest). Also: vcpu_put from sched_switch,
 * the scripted programs' FP model, the report section and the bench's loader.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EC, EXIT_TYPE } from '../src/arch/esr.js';
import { cpuProfile } from '../src/cpu/profiles.js';
import { resolvePolicy } from '../src/policy/registry.js';
import {
  claimEvidence,
  groundTruthSection,
  isGroundTruth,
  type GroundTruth,
} from '../src/report/ground-truth.js';
import { simulate } from '../src/sim/simulate.js';
import { decodeRunClass, FP_EL1, FPEXC_ACCESS } from '../src/machine/run-class.js';
import { traceFpModel } from '../src/stream/trace-fp.js';
import { importTrace } from '../src/stream/trace-import.js';
import { schedSwitchPrev } from '../src/stream/trace-parse.js';
import {
  loadGroundTruth,
  MODEL_RUNS,
  MODEL_SEED,
  validationWorkloadFile,
} from '../validation/lib/model-side.js';
import { HANDLED } from '../src/cpu/profile.js';
import { loadWorkloadFile, workloadStream } from '../src/stream/workload.js';
import { must } from './helpers/must.js';
import type { ScriptedFixture } from '../validation/lib/fixtures.js';
import { type GuestLayout, ScriptedProgramFp } from '../validation/lib/program-fp.js';

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURES = join(ROOT, 'validation/fixtures');

interface ManifestEntry {
  source: { mode: 'vhe' | 'nvhe'; el1: 'aarch64' | 'aarch32'; program: string; whole?: boolean };
  kvmExit: number;
  scripted?: ScriptedFixture;
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as Record<
  string,
  ManifestEntry
>;
const scripted = Object.entries(manifest).filter(
  (e): e is [string, ManifestEntry & { scripted: ScriptedFixture }] => e[1].scripted !== undefined,
);

async function predict(
  text: string | string[],
  fp: ConstructorParameters<typeof ScriptedProgramFp>,
  policy = 'lazy-vcpu',
) {
  const t = await importTrace(Readable.from(Array.isArray(text) ? text : [text]), {
    fp: new ScriptedProgramFp(...fp),
  });
  try {
    const r = simulate(await resolvePolicy(policy), t.stream, { cpu: cpuProfile('seattle') });
    return { traps: r.counters.fpTraps, counts: t.counts };
  } finally {
    t.dispose();
  }
}

describe('the model against the real kernel on whole scripted windows (validation/fixtures)', () => {
  it('covers VHE and nVHE, AArch64 and AArch32, HVC and MMIO exits', () => {
    const combos = new Set(scripted.map(([, m]) => `${m.source.mode}/${m.scripted.program.el1}`));
    expect([...combos].sort()).toEqual([
      'nvhe/aarch32',
      'nvhe/aarch64',
      'vhe/aarch32',
      'vhe/aarch64',
    ]);
    expect(new Set(scripted.map(([, m]) => m.scripted.program.exit))).toEqual(
      new Set(['hvc', 'mmio']),
    );
    for (const [, m] of scripted) expect(m.source.whole).toBe(true);
  });

  for (const [name, m] of scripted) {
    it(`${name}: lazy-vcpu predicts the ${m.scripted.realFpTraps} FP traps the kernel took`, async () => {
      const text = readFileSync(join(FIXTURES, name), 'utf8');
      const { traps, counts } = await predict(text, [m.scripted.program, m.scripted.layout]);
      expect(counts.badLines).toBe(0);
      expect(counts.runs + counts.exitsWithoutEntry).toBe(m.kvmExit);
      expect(traps).toBe(m.scripted.realFpTraps);
    });
  }

  it('needs the vcpu_puts that only sched_switch shows: without them the HVC programs are mispredicted', async () => {
    let differs = 0;
    let puts = 0;
    for (const [name, m] of scripted.filter(
      ([, x]) => x.scripted.program.exit === 'hvc' && x.scripted.program.fp,
    )) {
      const text = readFileSync(join(FIXTURES, name), 'utf8');
      const kvmOnly = text
        .split('\n')
        .filter((l) => !/\ssched_switch:\s/.test(l))
        .join('\n');
      const w = await predict(text, [m.scripted.program, m.scripted.layout]);
      const wo = await predict(kvmOnly, [m.scripted.program, m.scripted.layout]);
      puts += w.counts.vcpuPuts;
      expect(wo.counts.vcpuPuts).toBe(0);
      if (wo.traps !== m.scripted.realFpTraps) differs++;
    }
    expect(puts).toBeGreaterThan(0);
    expect(differs).toBeGreaterThan(0);
  });

  it('the 2015 design on the same windows: one switch per run that touched FP', async () => {
    // lazy-fixed switches after every run whose FP bits are set: its skip rate is an output of the same FP model.
    const [name, m] = must(
      scripted.find(([, x]) => x.scripted.program.exit === 'mmio' && x.scripted.program.fp),
      'a scripted MMIO fixture that uses FP',
    );
    const text = readFileSync(join(FIXTURES, name), 'utf8');
    const t = await importTrace(Readable.from([text]), {
      fp: new ScriptedProgramFp(m.scripted.program, m.scripted.layout),
    });
    try {
      const r = simulate(await resolvePolicy('lazy-fixed'), t.stream, {
        cpu: cpuProfile('seattle'),
      });
      expect(r.skippedRuns).toBe(r.runs - Math.round(r.fpUse.any * r.runs));
      expect(r.counters.fpTraps).toBe(Math.round(r.fpUse.any * r.runs));
    } finally {
      t.dispose();
    }
  });
});

describe('vcpu_put from sched_switch (importer)', () => {
  const head = ['# tracer: nop', '#'];
  const line = (tid: number, comm: string, t: string, ev: string, body: string) =>
    `${comm.padStart(16)}-${tid}     [000] d.... ${t}: ${ev}: ${body}`;
  const trace = [
    ...head,
    line(90, 'vmm', '1.000000', 'kvm_entry', 'PC: 0x0000000040000000'),
    line(90, 'vmm', '1.000100', 'kvm_exit', 'TRAP: HSR_EC: 0x0016 (HVC64), PC: 0x0000000040000028'),
    // switched out between the exit and the next entry: a vcpu_put
    line(
      90,
      'vmm',
      '1.000110',
      'sched_switch',
      'prev_comm=vmm prev_pid=90 prev_prio=120 prev_state=R+ ==> next_comm=kworker/0:1 next_pid=12 next_prio=120',
    ),
    line(
      12,
      'kworker/0:1',
      '1.000120',
      'sched_switch',
      'prev_comm=kworker/0:1 prev_pid=12 prev_prio=120 prev_state=I ==> next_comm=vmm next_pid=90 next_prio=120',
    ),
    line(90, 'vmm', '1.000130', 'kvm_entry', 'PC: 0x0000000040000028'),
    line(
      90,
      'vmm',
      '1.000200',
      'kvm_exit',
      'IRQ: HSR_EC: 0x0000 (UNKNOWN), PC: 0x0000000040000010',
    ),
    line(90, 'vmm', '1.000210', 'kvm_entry', 'PC: 0x0000000040000010'),
    line(
      90,
      'vmm',
      '1.000300',
      'kvm_exit',
      'TRAP: HSR_EC: 0x0024 (DABT_LOW), PC: 0x0000000040000034',
    ),
    line(90, 'vmm', '1.000310', 'kvm_userspace_exit', 'reason KVM_EXIT_MMIO (6)'),
    // in userspace: the put already happened when KVM_RUN returned
    line(
      90,
      'vmm',
      '1.000320',
      'sched_switch',
      'prev_comm=vmm prev_pid=90 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120',
    ),
    line(90, 'vmm', '1.000400', 'kvm_entry', 'PC: 0x0000000040000034'),
    line(90, 'vmm', '1.000500', 'kvm_exit', 'TRAP: HSR_EC: 0x0016 (HVC64), PC: 0x0000000040000028'),
  ].join('\n');

  it('marks the run before a switch-out as put, and only that one', async () => {
    const t = await importTrace(Readable.from([`${trace}\n`]), {
      fp: traceFpModel('markov:p=0', { seed: 1, maxVcpus: 4 }),
    });
    try {
      const runs = [...t.stream.chunks()].flatMap((ch) =>
        Array.from(ch.cls.subarray(0, ch.length), (c) => decodeRunClass(c)),
      );
      expect(runs.map((r) => r.put)).toEqual([true, false, false, false]);
      expect(runs.map((r) => r.handled)).toEqual([1, 1, 2, 1]);
      expect(t.counts).toMatchObject({
        runs: 4,
        vcpuPuts: 1,
        schedSwitches: 3,
        userspaceExits: 1,
        otherEvents: 3,
      });
    } finally {
      t.dispose();
    }
  });

  it("parses sched_switch as tracefs prints it and as libtraceevent's sched plugin does (perf script, trace-cmd)", () => {
    expect(
      schedSwitchPrev(
        'prev_comm=CPU 0/KVM prev_pid=2001 prev_prio=120 prev_state=R+ ==> next_comm=swapper/1 next_pid=0 next_prio=120',
      ),
    ).toBe(2001);
    expect(schedSwitchPrev('CPU 0/KVM:2001 [120] R ==> swapper/1:0 [120]')).toBe(2001);
    expect(schedSwitchPrev('garbage')).toBeUndefined();
  });

  it('a malformed sched_switch is a bad line with its number', async () => {
    const bad = [
      ...head,
      line(90, 'vmm', '1.0', 'kvm_entry', 'PC: 0x1'),
      line(90, 'vmm', '1.1', 'sched_switch', 'nonsense'),
    ].join('\n');
    await expect(
      importTrace(Readable.from([`${bad}\n`]), {
        fp: traceFpModel('markov:p=0', { seed: 1, maxVcpus: 4 }),
      }),
    ).rejects.toThrow(/<stream>:4: malformed sched_switch/);
  });
});

describe("the scripted programs' FP use, located by PCs", () => {
  // guest64.S / guest32.S as assembled (offsets from the labels)
  const layout: GuestLayout = {
    guestBase: '0x40000000',
    aarch64: { loop: 0xc, done: 0x38, fp: [0x1c], fpexcToggle: [], fpexcPrologue: [] },
    aarch32: {
      loop: 0x14,
      done: 0x6c,
      fp: [0x4c],
      fpexcToggle: [0x2c, 0x34, 0x3c],
      fpexcPrologue: [0x10],
    },
  };
  const pc = (o: number) => 0x40000000n + BigInt(o);
  const a64 = () =>
    new ScriptedProgramFp(
      { name: 'a64/fp-hvc', el1: 'aarch64', fp: true, exit: 'hvc', fpexcToggle: false },
      layout,
    );
  const a32 = () =>
    new ScriptedProgramFp(
      { name: 'a32/fpexc-fp-mmio', el1: 'aarch32', fp: true, exit: 'mmio', fpexcToggle: true },
      layout,
    );

  it('a full pass of the loop (HVC back to the HVC) touches the FP instruction', () => {
    expect(a64().runBits(0, 1, EC.HVC64, { entry: pc(0x2c), exit: pc(0x2c) })).toBe(FP_EL1);
  });
  it('an IRQ taken at the resume PC executed nothing; an abort on the first fetch neither', () => {
    const m = a64();
    expect(m.runBits(0, 1, EC.IABT_LOW, { entry: pc(0), exit: pc(0) })).toBe(0);
    expect(m.runBits(0, 1, EXIT_TYPE.IRQ, { entry: pc(0x2c), exit: pc(0x2c) })).toBe(0);
  });
  it('an IRQ before the FP instruction: not touched; at it: the trap was taken first', () => {
    expect(a64().runBits(0, 1, EXIT_TYPE.IRQ, { entry: pc(0x2c), exit: pc(0x18) })).toBe(0);
    expect(a64().runBits(0, 1, EXIT_TYPE.IRQ, { entry: pc(0x2c), exit: pc(0x1c) })).toBe(FP_EL1);
  });
  it('after an emulated MMIO access the guest resumes one instruction further', () => {
    const m = a32();
    expect(m.runBits(0, 1, EC.DABT_LOW, { entry: pc(0x0), exit: pc(0x64) })).toBe(
      FP_EL1 | FPEXC_ACCESS,
    ); // prologue + first pass
    // kvm_entry prints 0x64 (before the increment): resuming at 0x68, an IRQ there ran nothing
    expect(m.runBits(0, 1, EXIT_TYPE.IRQ, { entry: pc(0x64), exit: pc(0x68) })).toBe(0);
  });
  it("the prologue's FPEXC write counts only once the run got past it; the done path touches nothing", () => {
    const hvc32 = new ScriptedProgramFp(
      { name: 'a32/hvc', el1: 'aarch32', fp: false, exit: 'hvc', fpexcToggle: false },
      layout,
    );
    expect(hvc32.runBits(0, 1, EXIT_TYPE.IRQ, { entry: pc(0), exit: pc(0xc) })).toBe(0);
    expect(hvc32.runBits(0, 1, EC.HVC32, { entry: pc(0xc), exit: pc(0x60) })).toBe(FPEXC_ACCESS);
    expect(hvc32.runBits(0, 1, EC.HVC32, { entry: pc(0x60), exit: pc(0x60) })).toBe(0);
    expect(hvc32.runBits(0, 1, EC.DABT_LOW, { entry: pc(0x60), exit: pc(0x6c) })).toBe(0);
    const mmio32 = a32();
    expect(mmio32.runBits(0, 1, EC.DABT_LOW, { entry: pc(0x0), exit: pc(0x64) })).toBe(
      FP_EL1 | FPEXC_ACCESS,
    );
    expect(mmio32.runBits(0, 1, EC.DABT_LOW, { entry: pc(0x64), exit: pc(0x64) })).toBe(
      FP_EL1 | FPEXC_ACCESS,
    ); // a whole pass from 0x68
    expect(mmio32.runBits(0, 1, EC.DABT_LOW, { entry: pc(0x64), exit: pc(0x6c) })).toBe(0); // from 0x68 to the done path
  });
});

describe("the report section and the bench's loader", () => {
  it('renders the committed comparison, escaping every string, with charts that have data', async () => {
    const gt = await loadGroundTruth();
    expect(gt).not.toBeNull();
    const hostile = '<img src=x onerror=alert(1)>';
    const g = gt as GroundTruth;
    const evil: GroundTruth = {
      ...g,
      source: { ...g.source, kernel: hostile },
      scripted: g.scripted.map((s, i) => (i === 0 ? { ...s, program: hostile } : s)),
    };
    const sec = must(groundTruthSection(evil), 'a ground-truth section');
    expect(sec.id).toBe('ground-truth');
    expect(sec.html).not.toContain(hostile);
    expect(sec.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(sec.charts.map((c) => c.id)).toEqual(['ground-truth-skip', 'ground-truth-traps']);
    for (const c of sec.charts) expect(JSON.stringify(c.spec)).toContain('"values":[{');
    // the matrix's cells are in the held-out -icount table; no-icount cells in their own
    const held = sec.html.slice(sec.html.indexOf('Held-out cells with -icount'));
    const noIcount = held.indexOf('Held-out cells without -icount');
    for (const m of g.matrix ?? [])
      if (m.configModel.role === 'held-out' && m.configModel.spec)
        expect(held.indexOf(`${m.boot}/${m.workload}`), m.workload).toBeLessThan(noIcount);
  });

  it('the claim error comes from held-out -icount cells (matrix included), per workload family; no-icount cells are reported apart', async () => {
    const g = await loadGroundTruth();
    if (!g) throw new Error('no ground truth');
    expect(g.matrix?.length).toBeGreaterThan(0);
    const { err } = claimEvidence(g);
    const cells = [...g.linux, ...(g.matrix ?? [])].filter(
      (l) => l.configModel?.role === 'held-out' && l.configModel.skipError !== null,
    );
    const icount = cells.filter((l) => l.icount);
    expect(err?.cells).toBe(icount.length);
    const maxOf = (list: typeof cells) =>
      Math.max(...list.map((l) => Math.abs(l.configModel?.skipError ?? 0)));
    expect(err?.maxAbs).toBe(maxOf(icount));
    const hb = icount.filter((l) => l.configModel?.spec?.startsWith('hackbench:'));
    expect(err?.byWorkload.hackbench.cells).toBe(hb.length);
    expect(err?.byWorkload.hackbench.maxAbs).toBe(maxOf(hb));
    const no = cells.filter((l) => !l.icount);
    expect(err?.excluded?.cells).toBe(no.length);
    expect(err?.excluded?.maxAbs).toBe(maxOf(no));
    expect(err?.excluded?.reason).toMatch(/-icount/);
    // the armhf guest is predicted by fp-heavy-aarch32 from its configuration, with both numbers
    const armhf = g.matrix?.find((m) => m.workload === 'fp-heavy-aarch32');
    if (armhf) {
      expect(armhf.configModel.builtinOnly).toBeUndefined();
      expect(armhf.configModel.spec).toMatch(/^fp-heavy-aarch32:vcpus=1,.*vfpProcs=2,intProcs=1/);
      expect(armhf.configModel.skipError).toBeCloseTo(
        (armhf.configModel.model?.skip2015 ?? NaN) - (armhf.real.skip2015 ?? NaN),
        3,
      );
    }
  });

  it("recomputes a Linux row's model numbers as the direct engine, run by hand, gives them; measured fields unchanged", async () => {
    const gt = must(await loadGroundTruth(), 'a comparison in validation/results.json');
    expect(gt.modelComputed).toBe('bench');
    const committed = (
      JSON.parse(readFileSync(join(ROOT, 'validation/results.json'), 'utf8')) as {
        comparison: GroundTruth;
      }
    ).comparison;
    expect(gt.linux).toHaveLength(committed.linux.length);
    for (const [i, row] of gt.linux.entries()) {
      const { validationModel: _v, builtinModel: _b, ...measured } = committed.linux[i];
      expect(row).toMatchObject(measured);
      expect(row.validationModel, `${row.workload} ${row.icount}`).not.toBeNull();
      expect(row.builtinModel, row.workload).not.toBeNull();
    }
    // One row in full (1,000,000 runs per policy): the loader walks compiled tables; here
    // each run goes hook by hook through the cost machine and the puts are counted from
    // the run classes directly.
    const row = gt.linux[0];
    const model = must(row.validationModel, 'the validation model of the first Linux row');
    const w = loadWorkloadFile(validationWorkloadFile(row.workload, row.icount));
    const stream = () => workloadStream(w, { runs: MODEL_RUNS, seed: MODEL_SEED });
    const cpu = cpuProfile('seattle');
    const direct = async (spec: string) =>
      simulate(await resolvePolicy(spec), stream(), { cpu, engine: 'direct' });
    const r2015 = await direct('lazy-fixed');
    const r61 = await direct('lazy-vcpu');
    let puts = 0;
    for (const ch of stream().chunks())
      for (let i = 0; i < ch.length; i++) {
        const c = decodeRunClass(ch.cls[i]);
        if (c.put || c.handled === HANDLED.user) puts++;
      }
    expect(model.runs).toBe(MODEL_RUNS);
    expect(model.skip2015).toBeCloseTo(r2015.skipRate, 6);
    expect(model.trapsPerExit61).toBeCloseTo(r61.counters.fpTraps / MODEL_RUNS, 6);
    expect(model.fpTraps61).toBe(r61.counters.fpTraps);
    expect(model.putsPerExit).toBeCloseTo(puts / MODEL_RUNS, 6);
    expect(model.fpUse.any).toBeCloseTo(r61.fpUse.any, 6);
  });

  it('shows nothing for a missing, phase-1 or malformed ground truth', async () => {
    expect(groundTruthSection(null)).toBeUndefined();
    expect(groundTruthSection({ schema: 'other' })).toBeUndefined();
    expect(
      isGroundTruth({ schema: 'fpswitch-ground-truth', version: 1, scripted: [], linux: [] }),
    ).toBe(false);
    expect(await loadGroundTruth({ file: join(ROOT, 'package.json') })).toBeNull();
    expect(await loadGroundTruth({ file: join(ROOT, 'no-such-file.json') })).toBeNull();
    expect(existsSync(join(ROOT, 'validation/results.json'))).toBe(true);
  });
});
