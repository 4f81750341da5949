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
import {
  CALIBRATION_SYMBOLS,
  type L1Plan,
  SCRIPTED,
  armhfWorkloads,
  l2StepName,
  linuxWorkloads,
  matrixWorkloads,
} from './lib/plan.js';
import { type Prereqs, checkPrereqs } from './lib/prereq.js';
import type { GroundTruth } from '../src/report/ground-truth.js';
import type { GuestLayout } from './lib/program-fp.js';
import {
  type Cell,
  type CellRuns,
  SCHEMA_VERSION,
  linuxCells,
  scriptedCells,
} from './lib/results.js';
import { writeCellRuns, writeCellSummaries } from './lib/runs.js';
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
  --no-matrix          skip the wider matrix boots (full runs only; -icount, VHE: L2 with 1
                       vCPU on L1 -smp 1 and with 2 vCPUs on L1 -smp 2; hackbench -g 1/2/4
                       and threads, pipe on one vCPU and split, null syscall, idle)
  --no-armhf           skip the armhf boot (full runs only; VHE, -icount: Debian's
                       armmp-lpae kernel as a 32-bit L2 running two VFP-heavy processes and
                       an integer one)
  --only LIST          only these boots: matrix, armhf (comma-separated; no scripted guests,
                       no per-mode Linux boots; validation/results.json is left alone)
  --matrix-scale F     scale the matrix and armhf workload sizes by F (0.05: a smoke test)
  --filter REGEX       only the matrix and armhf workloads whose name matches (e.g. ^idle)
  --sequential         run the matrix and armhf boots one after the other (default: at
                       the same time, after the per-mode boots)
  --kernel-pkg NAME    exact arm64 kernel package (default: what linux-image-arm64 depends on)
  --timeout SEC        time limit per L1 boot (default 600 quick, 1800 full)
  --no-install         never run apt-get; fail if something is missing
  --update-fixtures    rewrite validation/fixtures/ from this run's traces (a full run
                       always writes the per-run fixtures, validation/fixtures/runs/)
  --compare-only       boot nothing: redo the model comparison over the last run's traces
                       (.cache/validation/results/summary.json, or --from FILE) with today's
                       model and workload files, and rewrite validation/results.json
  --from FILE          the summary.json --compare-only starts from
  --help               this text

examples:
  npm run validate -- --quick                                # what CI runs
  npm run validate -- --only matrix,armhf                    # per-run fixtures only
  npm run validate -- --only matrix --matrix-scale 0.03      # a smoke test of the matrix
  node --import tsx validation/analyze-runs.ts --table       # statistics of the fixtures

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
  matrix: boolean;
  armhf: boolean;
  /** --only: just the matrix and/or armhf boots */
  only: boolean;
  matrixScale: number;
  sequential: boolean;
  filter?: RegExp;
}

/** A flag's positive integer, `def` when the flag is absent; anything else is a usage error. */
function positiveInt(s: string | undefined, def: number, what: string): number {
  if (s === undefined) return def;
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0)
    throw new ValidationError(`${what}: expected a positive integer, got "${s}"`, 2);
  return n;
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
        'no-matrix': { type: 'boolean', default: false },
        'no-armhf': { type: 'boolean', default: false },
        only: { type: 'string' },
        sequential: { type: 'boolean', default: false },
        filter: { type: 'string' },
        'matrix-scale': { type: 'string' },
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
  return {
    quick,
    modes: modes as KvmMode[],
    iterations: positiveInt(v.iterations, quick ? 200 : 1000, '--iterations'),
    linux: !v['no-linux'],
    icount: !v['no-icount'],
    kernelPackage: v['kernel-pkg'],
    timeoutSec: positiveInt(v.timeout, quick ? 600 : 1800, '--timeout'),
    install: !v['no-install'],
    updateFixtures: v['update-fixtures'],
    compareOnly: v['compare-only'],
    from: v.from,
    ...extraBoots(quick, v.only, v['no-matrix'], v['no-armhf']),
    matrixScale: scale(v['matrix-scale']),
    sequential: v.sequential,
    filter: regex(v.filter),
  };
}

/** Which of the extra boots (matrix, armhf) run: a full run has both unless left out; --only names them. */
function extraBoots(
  quick: boolean,
  only: string | undefined,
  noMatrix: boolean,
  noArmhf: boolean,
): { matrix: boolean; armhf: boolean; only: boolean } {
  if (only === undefined)
    return { matrix: !quick && !noMatrix, armhf: !quick && !noArmhf, only: false };
  const names = only.split(',').map((x) => x.trim());
  for (const n of names)
    if (n !== 'matrix' && n !== 'armhf')
      throw new ValidationError(`--only: unknown boot "${n}" (matrix, armhf)`, 2);
  return { matrix: names.includes('matrix'), armhf: names.includes('armhf'), only: true };
}

function regex(s: string | undefined): RegExp | undefined {
  if (s === undefined) return undefined;
  try {
    return new RegExp(s);
  } catch (e) {
    throw new ValidationError(`--filter: ${(e as Error).message}`, 2);
  }
}

function scale(s: string | undefined): number {
  if (s === undefined) return 1;
  const x = Number(s);
  if (!(x > 0 && x <= 10))
    throw new ValidationError(`--matrix-scale: expected a number in (0, 10], got "${s}"`, 2);
  return x;
}

type Kallsyms = Record<string, string>;

/** addresses the plugin needs, from /proc/kallsyms of a first (calibration) boot, cached per kernel */
async function kallsyms(pre: Prereqs, a: Artifacts, opts: Options): Promise<Kallsyms> {
  const file = join(
    ensureDir(join(CACHE_DIR, 'kallsyms')),
    `${pre.kernel.package}_${pre.kernel.version}.json`,
  );
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Kallsyms;
    if (CALIBRATION_SYMBOLS.every((n) => cached[n])) return cached;
  }
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
    const next = i + 1 < lines.length ? lines[i + 1].split(/\s+/) : [];
    if (next.length >= 3) syms[`${name}__end`] = next[0];
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
    switchto: k.__switch_to,
    full: 1,
    entries: 1,
    records: 1,
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

/** One L1 boot of a run: its id, KVM mode, -icount, L1's CPUs and what runs inside. */
interface BootPlan {
  id: string;
  mode: KvmMode;
  icount: boolean;
  smp: number;
  /** the plugin decodes guest code as A32/T32 (the armhf guest) */
  guest32?: boolean;
  /** a matrix or armhf boot: these run concurrently unless --sequential */
  extra?: boolean;
  plan: L1Plan;
}

function l1Plan(opts: Options, p: Partial<L1Plan>): L1Plan {
  return {
    calibrate: false,
    scripted: [],
    iterations: 0,
    linux: [],
    stepTimeoutSec: Math.floor(opts.timeoutSec * 0.8),
    l2MemMiB: 256,
    ...p,
  };
}

/**
 * The boots of a run: per mode, one without -icount (scripted guests + Linux L2) and one
 * with (Linux L2 only); then the matrix boot (VHE, -icount, L1 -smp 2) unless left out.
 */
function bootPlans(opts: Options): BootPlan[] {
  const plans: BootPlan[] = [];
  for (const mode of opts.only ? [] : opts.modes) {
    plans.push({
      id: `${mode}-noicount`,
      mode,
      icount: false,
      smp: 1,
      plan: l1Plan(opts, {
        scripted: SCRIPTED,
        iterations: opts.iterations,
        linux: opts.linux ? linuxWorkloads(opts.quick, false) : [],
      }),
    });
    if (opts.linux && opts.icount) {
      plans.push({
        id: `${mode}-icount`,
        mode,
        icount: true,
        smp: 1,
        plan: l1Plan(opts, { linux: linuxWorkloads(opts.quick, true) }),
      });
    }
  }
  if (opts.matrix && opts.linux) {
    // L2 with one vCPU on L1 with one CPU (guest time = instructions, exactly); L2 with two
    // vCPUs on L1 with two CPUs
    for (const v of [1, 2]) {
      const linux = matrixWorkloads(opts.matrixScale).filter(
        (w) => w.guest.vcpus === v && (!opts.filter || opts.filter.test(w.name)),
      );
      if (!linux.length) continue;
      plans.push({
        id: `vhe-icount-matrix${v}`,
        mode: 'vhe',
        icount: true,
        smp: v,
        extra: true,
        plan: l1Plan(opts, { linux, l2MemMiB: 128 + 128 * v }),
      });
    }
  }
  if (opts.armhf && opts.linux && (!opts.filter || opts.filter.test('fp-heavy-aarch32'))) {
    plans.push({
      id: 'vhe-icount-armhf',
      mode: 'vhe',
      icount: true,
      smp: 1,
      extra: true,
      guest32: true,
      plan: l1Plan(opts, { linux: armhfWorkloads(opts.matrixScale) }),
    });
  }
  return plans;
}

/** Names of the trace files, by step tag. */
function stepNames(): Map<number, string> {
  return new Map<number, string>([
    ...SCRIPTED.map((p) => [p.tag, p.name] as const),
    [100, l2StepName(1)],
    [101, l2StepName(2)],
    [110, l2StepName(1, 'aarch32')],
  ]);
}

function checkMode(b: BootResult): void {
  if (b.mode === 'nvhe' && b.kvmLine && !/Hyp mode|nVHE|hVHE|protected/i.test(b.kvmLine))
    b.errors.push(`${b.id}: expected nVHE, kernel said: ${b.kvmLine}`);
  if (b.mode === 'vhe' && b.kvmLine && !/VHE mode/.test(b.kvmLine))
    b.errors.push(`${b.id}: expected VHE, kernel said: ${b.kvmLine}`);
}

interface Setup {
  pre: Prereqs;
  art: Artifacts;
  syms: Kallsyms;
  prereqSec: number;
  buildSec: number;
}

/** Prerequisites, builds and the calibration boot: everything before the measurement boots. */
async function setup(opts: Options): Promise<Setup> {
  progress(
    `start (${opts.quick ? 'quick' : 'full'}; modes ${opts.modes.join(',')}; cache ${CACHE_DIR})`,
  );
  const pre = checkPrereqs({
    install: opts.install,
    kernelPackage: opts.kernelPackage,
    needLinuxGuest: opts.linux,
    needArmhf: opts.linux && opts.armhf,
  });
  const prereqSec = elapsedSec();
  progress(
    `prerequisites ready: ${pre.kernel.package} ${pre.kernel.version}, ${pre.hostQemuVersion}`,
  );
  const art = buildArtifacts(pre);
  const syms = await kallsyms(pre, art, opts);
  return { pre, art, syms, prereqSec, buildSec: elapsedSec() };
}

interface Measured {
  cells: Cell[];
  boots: BootResult[];
  errors: string[];
  runs: CellRuns;
  /** L1's CPUs, by boot id */
  smp: Map<string, number>;
}

/** One measurement boot: boot, its cells, its per-boot JSON, a progress line per cell. */
async function measureBoot(bp: BootPlan, env: Setup, opts: Options, out: Measured): Promise<void> {
  const resultsDir = ensureDir(join(CACHE_DIR, 'results'));
  const b = await boot({
    id: bp.id,
    mode: bp.mode,
    icount: bp.icount,
    smp: bp.smp,
    kernelImage: env.art.kernelImage,
    initrd: buildL1Initramfs(env.art, bp.plan),
    plugin: {
      path: env.art.plugin,
      args: { ...pluginArgs(env.syms), ...(bp.guest32 ? { guest32: 1 } : {}) },
    },
    timeoutSec: opts.timeoutSec,
    outDir: resultsDir,
    stepNames: stepNames(),
  });
  checkMode(b);
  const bc = [
    ...scriptedCells(b, bp.plan.scripted, bp.plan.iterations),
    ...linuxCells(b, bp.plan.linux, bp.smp, out.runs),
  ];
  const json = { schemaVersion: SCHEMA_VERSION, boot: bootSummary(b), cells: bc };
  writeFileSync(join(resultsDir, `${bp.id}.json`), `${JSON.stringify(json, null, 2)}\n`);
  for (const c of bc) {
    for (const p of c.problems) out.errors.push(`${bp.id} ${c.program}: ${p}`);
    const share = c.plugin?.fpRunShare;
    const pr = c.perRun;
    progress(
      `${bp.id} ${c.program}: fpTraps=${c.fpTraps?.total ?? '?'} exits=${c.exits?.total ?? '?'}` +
        (share !== undefined && share !== null ? ` fpRunShare=${share}` : '') +
        (pr
          ? ` runs=${pr.matched}/${pr.pluginRuns} (trace ${pr.traceRuns}, class agrees ${pr.classAgree})`
          : ''),
    );
  }
  out.errors.push(...b.errors);
  out.cells.push(...bc);
  out.boots.push(b);
  out.smp.set(bp.id, bp.smp);
}

/**
 * Every boot: the per-mode ones one after the other, then the matrix and armhf boots
 * together (each is one single-threaded TCG process; on a machine with cores to spare
 * this halves the full run) unless --sequential. A boot that fails (timeout, L1 stopped)
 * is reported and the others still run.
 */
async function measureAll(
  plans: BootPlan[],
  env: Setup,
  opts: Options,
  m: Measured,
): Promise<void> {
  const one = async (bp: BootPlan): Promise<void> => {
    try {
      await measureBoot(bp, env, opts, m);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      m.errors.push(e.message);
      progress(`${bp.id} failed: ${e.message}`);
    }
  };
  for (const bp of plans.filter((p) => !p.extra)) await one(bp);
  const extra = plans.filter((p) => p.extra);
  if (opts.sequential) for (const bp of extra) await one(bp);
  else await Promise.all(extra.map(one));
}

/**
 * The per-run records of every Linux cell: all of them (up to 50,000 per vCPU) under
 * .cache/validation/results/runs/, and a middle window of FIXTURE_RUNS_CAP under
 * validation/fixtures/runs/ for a full run or --update-fixtures.
 */
function writeRuns(m: Measured, env: Setup, opts: Options, generatedAt: string): void {
  const src = { generatedAt, kernel: `${env.pre.kernel.package} ${env.pre.kernel.version}` };
  const cacheDir = ensureDir(join(CACHE_DIR, 'results', 'runs'));
  const fixDir = join(VALIDATION_DIR, 'fixtures', 'runs');
  const toFixtures = !opts.quick || opts.updateFixtures;
  if (toFixtures) ensureDir(fixDir);
  for (const [id, { cell, join: j }] of m.runs) {
    const s = { ...src, l1Cpus: m.smp.get(cell.boot) ?? 1 };
    writeCellRuns(cacheDir, id, cell, j, s, 50000);
    if (toFixtures && cell.perRun) {
      cell.perRun.fixtures = writeCellRuns(fixDir, id, cell, j, s).map((f) =>
        f.replace(`${REPO_DIR}/`, ''),
      );
    }
  }
  if (toFixtures) writeCellSummaries(join(fixDir, 'cells.json'), m.cells, generatedAt);
}

function summaryOf(
  opts: Options,
  env: Setup,
  m: Measured,
  generatedAt: string,
  comparison: GroundTruth,
): Record<string, unknown> {
  const { pre } = env;
  return {
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
    kallsyms: env.syms,
    programLayout: env.art.layout,
    options: {
      iterations: opts.iterations,
      modes: opts.modes,
      linux: opts.linux,
      icount: opts.icount,
      matrix: opts.matrix,
      armhf: opts.armhf,
      matrixScale: opts.matrixScale,
      workloads: {
        noIcount: linuxWorkloads(opts.quick, false),
        icount: linuxWorkloads(opts.quick, true),
        matrix: opts.matrix ? matrixWorkloads(opts.matrixScale) : [],
        armhf: opts.armhf ? armhfWorkloads(opts.matrixScale) : [],
      },
    },
    timings: {
      totalSec: Number(elapsedSec().toFixed(1)),
      prerequisitesSec: Number(env.prereqSec.toFixed(1)),
      buildAndCalibrateSec: Number((env.buildSec - env.prereqSec).toFixed(1)),
      boots: m.boots.map((b) => ({ id: b.id, wallSec: Number(b.wallSec.toFixed(1)) })),
    },
    boots: m.boots.map(bootSummary),
    cells: m.cells,
    comparison,
    errors: m.errors,
  };
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const opts = parsed;
  if (opts.compareOnly) return compareOnly(opts);
  const env = await setup(opts);
  const m: Measured = { cells: [], boots: [], errors: [], runs: new Map(), smp: new Map() };
  await measureAll(bootPlans(opts), env, opts, m);
  pruneImages();
  const generatedAt = new Date().toISOString();
  writeRuns(m, env, opts, generatedAt);
  const { comparison, errors: compareErrors } = await compare(
    m.cells,
    env.art.layout,
    generatedAt,
    opts.quick,
    `${env.pre.kernel.package} ${env.pre.kernel.version}`,
    env.pre.hostQemuVersion,
  );
  m.errors.push(...compareErrors);
  const text = `${JSON.stringify(summaryOf(opts, env, m, generatedAt, comparison), null, 2)}\n`;
  const resultsDir = join(CACHE_DIR, 'results');
  writeFileSync(join(resultsDir, 'summary.json'), text);
  // validation/results.json holds a full run (the bench report reads it): --quick leaves it alone.
  if (!opts.quick && !opts.only) writeFileSync(join(VALIDATION_DIR, 'results.json'), text);
  if (opts.updateFixtures) writeFixtures(m.boots, m.cells, env.art.layout, generatedAt);
  progress(
    `results: ${opts.quick || opts.only ? '' : 'validation/results.json and '}${resultsDir.replace(`${REPO_DIR}/`, '')}/ (${elapsedSec().toFixed(0)} s in all)`,
  );
  for (const e of m.errors) process.stderr.write(`error: ${e}\n`);
  return m.errors.length ? 1 : 0;
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
