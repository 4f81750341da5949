// fpswitch validation harness (issue 6): boots Debian's arm64 Linux as a KVM host (L1)
// under QEMU's TCG with EL2, runs guests (L2) under it in VHE and nVHE mode, records the
// real kvm traces, the real FP/SIMD trap counts (QEMU's exception log) and the share of
// guest runs that touch FP/SIMD (our TCG plugin), and holds the model against them
// (lib/compare.ts: import + simulate). See validation/README.md.
//
//   node --import tsx validation/run.ts [--quick] [--help] [options]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BootResult, type KvmMode, boot } from './lib/boot.js';
import { type Artifacts, buildArtifacts, buildL1Initramfs, pruneImages } from './lib/build.js';
import { compareAll } from './lib/compare.js';
import { writeFixtures } from './lib/fixtures.js';
import { CALIBRATION_SYMBOLS, type L1Plan, SCRIPTED, linuxWorkloads } from './lib/plan.js';
import { type Prereqs, checkPrereqs } from './lib/prereq.js';
import type { GroundTruth } from '../src/report/ground-truth.js';
import type { GuestLayout } from './lib/program-fp.js';
import { type Cell, SCHEMA_VERSION, linuxCells, scriptedCells } from './lib/results.js';
import {
  CACHE_DIR,
  REPO_DIR,
  SkipError,
  VALIDATION_DIR,
  ValidationError,
  elapsedSec,
  ensureDir,
  inCI,
  progress,
} from './lib/util.js';

const HELP = `usage: node --import tsx validation/run.ts [options]

Boots Debian's arm64 Linux (KVM built in) as an L1 host under qemu-system-aarch64 (TCG,
virtualization=on), runs scripted guests (own VMM) and a Linux L2 guest (Debian's arm64
QEMU inside L1) in VHE and nVHE mode, and writes real kvm traces, FP trap counts and the
share of guest runs touching FP/SIMD to .cache/validation/results/ and validation/results.json.

options:
  --quick              fewer iterations and smaller workloads (< 10 min from a cold cache);
                       results go to .cache/validation/results/ only (validation/results.json
                       keeps the last full run)
  --modes LIST         comma-separated KVM modes to run: vhe,nvhe (default both)
  --iterations N       loop count of each scripted guest (default 200 quick, 1000 full)
  --no-linux           skip the Linux L2 guest (scripted guests only)
  --no-icount          skip the -icount boots of the Linux L2 guest
  --kernel-pkg NAME    exact arm64 kernel package (default: what linux-image-arm64 depends on)
  --timeout SEC        time limit per L1 boot (default 600 quick, 1800 full)
  --no-install         never run apt-get; fail if something is missing
  --update-fixtures    rewrite validation/fixtures/ from this run's traces
  --compare-only       boot nothing: redo the model comparison over the last run's traces
                       (.cache/validation/results/summary.json, or --from FILE) with today's
                       model and workload files, and rewrite validation/results.json
  --from FILE          the summary.json --compare-only starts from
  --help               this text

Exit: 0 on success, or "skipped: ..." outside CI when the machine has no apt or no
network to Debian's mirrors (in CI, CI=true, that is a failure); 1 on a failed run
(guest timeout, QEMU missing with --no-install, ...); 2 on a bad option or package name.
`;

interface Options {
  quick: boolean;
  modes: KvmMode[];
  iterations: number;
  linux: boolean;
  icount: boolean;
  kernelPackage?: string;
  timeoutSec: number;
  install: boolean;
  updateFixtures: boolean;
  compareOnly: boolean;
  from?: string;
}

function parseOptions(argv: string[]): Options | 'help' {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
        modes: { type: 'string' },
        iterations: { type: 'string' },
        'no-linux': { type: 'boolean', default: false },
        'no-icount': { type: 'boolean', default: false },
        'kernel-pkg': { type: 'string' },
        timeout: { type: 'string' },
        'no-install': { type: 'boolean', default: false },
        'update-fixtures': { type: 'boolean', default: false },
        'compare-only': { type: 'boolean', default: false },
        from: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new ValidationError(`${(e as Error).message} (see --help)`, 2);
  }
  if (v.help) return 'help';
  const quick = v.quick;
  const modes = (v.modes ?? 'vhe,nvhe').split(',').map((m) => m.trim());
  for (const m of modes)
    if (m !== 'vhe' && m !== 'nvhe')
      throw new ValidationError(`--modes: unknown mode "${m}" (vhe, nvhe)`, 2);
  const num = (s: string | undefined, def: number, what: string): number => {
    if (s === undefined) return def;
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0)
      throw new ValidationError(`${what}: expected a positive integer, got "${s}"`, 2);
    return n;
  };
  return {
    quick,
    modes: modes as KvmMode[],
    iterations: num(v.iterations, quick ? 200 : 1000, '--iterations'),
    linux: !v['no-linux'],
    icount: !v['no-icount'],
    kernelPackage: v['kernel-pkg'],
    timeoutSec: num(v.timeout, quick ? 600 : 1800, '--timeout'),
    install: !v['no-install'],
    updateFixtures: v['update-fixtures'],
    compareOnly: v['compare-only'],
    from: v.from,
  };
}

type Kallsyms = Record<string, string>;

/** addresses the plugin needs, from /proc/kallsyms of a first (calibration) boot, cached per kernel */
async function kallsyms(pre: Prereqs, a: Artifacts, opts: Options): Promise<Kallsyms> {
  const file = join(
    ensureDir(join(CACHE_DIR, 'kallsyms')),
    `${pre.kernel.package}_${pre.kernel.version}.json`,
  );
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Kallsyms;
  const plan: L1Plan = {
    calibrate: true,
    scripted: [],
    iterations: 0,
    linux: [],
    stepTimeoutSec: 60,
    l2MemMiB: 256,
  };
  const initrd = buildL1Initramfs(a, plan);
  const b = await boot({
    id: 'calibrate',
    mode: 'vhe',
    icount: false,
    kernelImage: a.kernelImage,
    initrd,
    timeoutSec: Math.min(opts.timeoutSec, 180),
    outDir: join(CACHE_DIR, 'results'),
    stepNames: new Map(),
  });
  // lines: "<addr> <type> <name>" in address order, "--" between groups (grep -A1)
  const syms: Kallsyms = {};
  const lines = b.symbols.map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    const [addr, , name] = lines[i].split(/\s+/);
    if (!name || !CALIBRATION_SYMBOLS.includes(name) || syms[name]) continue;
    syms[name] = addr;
    const next = lines.at(i + 1)?.split(/\s+/);
    if (next && next.length >= 3) syms[`${name}__end`] = next[0];
  }
  for (const s of CALIBRATION_SYMBOLS) {
    if (!syms[s])
      throw new ValidationError(
        `calibration boot: ${s} not in /proc/kallsyms (is this a Debian 6.1 arm64 kernel?)`,
      );
  }
  if (!syms.__guest_enter__end || !syms.__kvm_nvhe___guest_enter__end) {
    throw new ValidationError('calibration boot: cannot bound __guest_enter in /proc/kallsyms');
  }
  writeFileSync(file, `${JSON.stringify(syms, null, 2)}\n`);
  return syms;
}

function pluginArgs(k: Kallsyms): Record<string, string | number> {
  return {
    stext: k._stext,
    etext: k._etext,
    genter: k.__guest_enter,
    genter_end: k.__guest_enter__end,
    nvgenter: k.__kvm_nvhe___guest_enter,
    nvgenter_end: k.__kvm_nvhe___guest_enter__end,
    vcpurun: k.__kvm_vcpu_run,
    nvvcpurun: k.__kvm_nvhe___kvm_vcpu_run,
    full: 1,
    entries: 1,
  };
}

function bootSummary(b: BootResult): Record<string, unknown> {
  return {
    id: b.id,
    mode: b.mode,
    icount: b.icount,
    kvmLine: b.kvmLine ?? null,
    wallSec: Number(b.wallSec.toFixed(1)),
    l1UpUptimeSec: b.l1UpSec ?? null,
    l2: { upUptimeSec: b.l2.upUptime ?? null, doneUptimeSec: b.l2.doneUptime ?? null },
    console: b.consoleFile.replace(`${REPO_DIR}/`, ''),
    qemuArgs: b.qemuArgs.map((a) => a.replace(`${REPO_DIR}/`, '')),
    exceptionLog: b.intlog
      ? {
          lines: b.intlog.lines,
          bytes: b.intlog.bytes,
          guestEntries: b.intlog.guestEntries,
          guestFpTrapsToEl2: b.intlog.guestFpTrapsAll,
          hostFpTrapsToEl2: b.intlog.hostFpTrapsAll,
          pluginBaseFound: b.intlog.pluginBaseFound ?? null,
          pluginTotals: b.intlog.pluginTotals,
        }
      : null,
    errors: b.errors,
  };
}

/** The model held against the kernel over every cell (lib/compare.ts), with its progress lines and the errors it finds. */
async function compare(
  cells: Cell[],
  layout: GuestLayout,
  generatedAt: string,
  quick: boolean,
  kernel: string,
  qemu: string,
): Promise<{ comparison: GroundTruth; errors: string[] }> {
  progress('holding the model against the kernel (import + simulate every cell)');
  const errors: string[] = [];
  const { comparison, problems } = await compareAll({
    cells,
    programs: SCRIPTED,
    layout,
    generatedAt,
    quick,
    kernel,
    qemu,
  });
  for (const p of problems) errors.push(`comparison: ${p}`);
  for (const r of comparison.scripted) {
    progress(
      `${r.boot} ${r.program}: real FP traps ${r.realFpTraps}, lazy-vcpu predicts ${r.predictedFpTraps} (${r.schedPuts} puts from sched_switch)${r.agree ? '' : '  <-- DIFFERS'}`,
    );
    if (!r.agree)
      errors.push(
        `${r.boot} ${r.program}: the model predicts ${r.predictedFpTraps} FP traps, the kernel took ${r.realFpTraps}`,
      );
  }
  const f = (x: number | null | undefined, d = 3) =>
    x === null || x === undefined ? '-' : x.toFixed(d);
  for (const r of comparison.linux) {
    progress(
      `${r.boot} ${r.workload}: 2015 skip real ${f(r.real.skip2015)} trace+model ${f(r.traceModel?.skip2015)} model ${f(r.validationModel?.skip2015)}; ` +
        `6.1 traps/exit real ${f(r.real.trapsPerExit61, 4)} trace+share ${f(r.traceMeasuredShare?.trapsPerExit61, 4)} trace+model ${f(r.traceModel?.trapsPerExit61, 4)}`,
    );
  }
  return { comparison, errors };
}

/** --compare-only: the comparison over the traces of the last run, nothing booted. */
async function compareOnly(opts: Options): Promise<number> {
  const file = opts.from ?? join(CACHE_DIR, 'results', 'summary.json');
  if (!existsSync(file))
    throw new ValidationError(`--compare-only: ${file} does not exist (run the harness first)`, 2);
  type Summary = {
    generatedAt: string;
    quick: boolean;
    host: { qemu: string };
    packages: { kernel: { package: string; version: string } };
    programLayout?: GuestLayout;
    boots: Array<{ id: string; mode: KvmMode; icount: boolean; kvmLine: string | null }>;
    cells: Cell[];
    comparison?: GroundTruth;
    errors: string[];
  };
  const summary = JSON.parse(readFileSync(file, 'utf8')) as Summary;
  if (!summary.programLayout)
    throw new ValidationError(
      `--compare-only: ${file} comes from a harness without the model comparison (no programLayout): run the harness again`,
      2,
    );
  const k = summary.packages.kernel;
  const { comparison, errors } = await compare(
    summary.cells,
    summary.programLayout,
    summary.generatedAt,
    summary.quick,
    `${k.package} ${k.version}`,
    summary.host.qemu,
  );
  const old = summary.errors.filter((e) => !/^comparison: |the model predicts/.test(e));
  const out = {
    ...summary,
    schemaVersion: SCHEMA_VERSION,
    comparison,
    errors: [...old, ...errors],
  };
  const text = `${JSON.stringify(out, null, 2)}\n`;
  writeFileSync(file, text);
  if (!summary.quick) writeFileSync(join(VALIDATION_DIR, 'results.json'), text);
  if (opts.updateFixtures) {
    writeFixtures(
      summary.boots.map((b) => ({ ...b, kvmLine: b.kvmLine ?? undefined })),
      summary.cells,
      summary.programLayout,
      summary.generatedAt,
    );
  }
  progress(
    `comparison of the run of ${summary.generatedAt} written to ${file.replace(`${REPO_DIR}/`, '')}${summary.quick ? '' : ' and validation/results.json'}`,
  );
  for (const e of errors) process.stderr.write(`error: ${e}\n`);
  return errors.length ? 1 : 0;
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const opts = parsed;
  if (opts.compareOnly) return compareOnly(opts);
  progress(
    `start (${opts.quick ? 'quick' : 'full'}; modes ${opts.modes.join(',')}; cache ${CACHE_DIR})`,
  );
  const pre = checkPrereqs({
    install: opts.install,
    kernelPackage: opts.kernelPackage,
    needLinuxGuest: opts.linux,
  });
  const prereqSec = elapsedSec();
  progress(
    `prerequisites ready: ${pre.kernel.package} ${pre.kernel.version}, ${pre.hostQemuVersion}`,
  );
  const art = buildArtifacts(pre);
  const syms = await kallsyms(pre, art, opts);
  const buildSec = elapsedSec();
  const resultsDir = ensureDir(join(CACHE_DIR, 'results'));
  const stepNames = new Map<number, string>([
    ...SCRIPTED.map((p) => [p.tag, p.name] as const),
    [100, 'linux-l2'],
  ]);

  const cells: Cell[] = [];
  const boots: BootResult[] = [];
  const errors: string[] = [];
  for (const mode of opts.modes) {
    const runs: Array<{ icount: boolean; plan: L1Plan }> = [
      {
        icount: false,
        plan: {
          calibrate: false,
          scripted: SCRIPTED,
          iterations: opts.iterations,
          linux: opts.linux ? linuxWorkloads(opts.quick, false) : [],
          stepTimeoutSec: Math.floor(opts.timeoutSec * 0.8),
          l2MemMiB: 256,
        },
      },
    ];
    if (opts.linux && opts.icount) {
      runs.push({
        icount: true,
        plan: {
          calibrate: false,
          scripted: [],
          iterations: 0,
          linux: linuxWorkloads(opts.quick, true),
          stepTimeoutSec: Math.floor(opts.timeoutSec * 0.8),
          l2MemMiB: 256,
        },
      });
    }
    for (const r of runs) {
      const id = `${mode}-${r.icount ? 'icount' : 'noicount'}`;
      const initrd = buildL1Initramfs(art, r.plan);
      const b = await boot({
        id,
        mode,
        icount: r.icount,
        kernelImage: art.kernelImage,
        initrd,
        plugin: { path: art.plugin, args: pluginArgs(syms) },
        timeoutSec: opts.timeoutSec,
        outDir: resultsDir,
        stepNames,
      });
      if (mode === 'nvhe' && b.kvmLine && !/Hyp mode|nVHE|hVHE|protected/i.test(b.kvmLine)) {
        b.errors.push(`${id}: expected nVHE, kernel said: ${b.kvmLine}`);
      }
      if (mode === 'vhe' && b.kvmLine && !/VHE mode/.test(b.kvmLine))
        b.errors.push(`${id}: expected VHE, kernel said: ${b.kvmLine}`);
      const bc = [
        ...scriptedCells(b, r.plan.scripted, r.plan.iterations),
        ...linuxCells(b, r.plan.linux),
      ];
      writeFileSync(
        join(resultsDir, `${id}.json`),
        `${JSON.stringify({ schemaVersion: SCHEMA_VERSION, boot: bootSummary(b), cells: bc }, null, 2)}\n`,
      );
      for (const c of bc) {
        for (const p of c.problems) errors.push(`${id} ${c.program}: ${p}`);
        const share = c.plugin?.fpRunShare;
        progress(
          `${id} ${c.program}: fpTraps=${c.fpTraps?.total ?? '?'} exits=${c.exits?.total ?? '?'}` +
            (share !== undefined && share !== null ? ` fpRunShare=${share}` : ''),
        );
      }
      errors.push(...b.errors);
      cells.push(...bc);
      boots.push(b);
    }
  }
  pruneImages();
  const generatedAt = new Date().toISOString();
  const { comparison, errors: compareErrors } = await compare(
    cells,
    art.layout,
    generatedAt,
    opts.quick,
    `${pre.kernel.package} ${pre.kernel.version}`,
    pre.hostQemuVersion,
  );
  errors.push(...compareErrors);
  const summary = {
    schemaVersion: SCHEMA_VERSION,
    generatedAt,
    quick: opts.quick,
    host: {
      node: process.version,
      cpus: cpus().length,
      qemu: pre.hostQemuVersion,
      crossGcc: pre.hostGccVersion,
    },
    packages: {
      kernel: { package: pre.kernel.package, version: pre.kernel.version },
      busybox: { package: pre.busybox.package, version: pre.busybox.version },
      rtTests: { package: pre.rtTests.package, version: pre.rtTests.version },
      qemuArm64:
        pre.qemuArm64
          .filter((d) => d.package === 'qemu-system-arm')
          .map((d) => ({ package: d.package, version: d.version }))[0] ?? null,
      qemuArm64Libraries: pre.qemuArm64.length - 1,
    },
    kallsyms: syms,
    programLayout: art.layout,
    options: {
      iterations: opts.iterations,
      modes: opts.modes,
      linux: opts.linux,
      icount: opts.icount,
      workloads: {
        noIcount: linuxWorkloads(opts.quick, false),
        icount: linuxWorkloads(opts.quick, true),
      },
    },
    timings: {
      totalSec: Number(elapsedSec().toFixed(1)),
      prerequisitesSec: Number(prereqSec.toFixed(1)),
      buildAndCalibrateSec: Number((buildSec - prereqSec).toFixed(1)),
      boots: boots.map((b) => ({ id: b.id, wallSec: Number(b.wallSec.toFixed(1)) })),
    },
    boots: boots.map(bootSummary),
    cells,
    comparison,
    errors,
  };
  writeFileSync(join(resultsDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  // validation/results.json holds a full run (the bench report reads it): --quick leaves it alone.
  if (!opts.quick)
    writeFileSync(join(VALIDATION_DIR, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  if (opts.updateFixtures) writeFixtures(boots, cells, art.layout, generatedAt);
  progress(
    `results: ${opts.quick ? '' : 'validation/results.json and '}${resultsDir.replace(`${REPO_DIR}/`, '')}/ (${elapsedSec().toFixed(0)} s in all)`,
  );
  if (errors.length) {
    for (const e of errors) process.stderr.write(`error: ${e}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof SkipError) {
      if (inCI()) {
        process.stderr.write(`error: cannot validate in CI: ${e.message}\n`);
        process.exit(1);
      }
      process.stdout.write(`skipped: ${e.message}\n`);
      process.exit(0);
    }
    if (e instanceof ValidationError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exit(e.code);
    }
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
