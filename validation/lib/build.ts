// Builds what the boots need, cached under .cache/validation/build: the VMM, the guests,
// the L2 benchmark program, the TCG plugin, and the L1/L2 initramfs images.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type CpioEntry, writeCpio } from './cpio.js';
import { type L1Plan, type L2Group, type LinuxWorkload, l1Init, l2Groups, l2Init } from './plan.js';
import type { GuestLayout, ProgramLayout } from './program-fp.js';
import { type Prereqs, unpack } from './prereq.js';
import {
  CACHE_DIR,
  VALIDATION_DIR,
  ValidationError,
  ensureDir,
  progress,
  run,
  stale,
} from './util.js';

export interface Artifacts {
  kernelImage: string;
  kernelRelease: string;
  plugin: string;
  vmm: string;
  guest64: string;
  guest32: string;
  /** where the scripted guests' FP accesses are (labels of guest64.S / guest32.S) */
  layout: GuestLayout;
  bench: string;
  busybox: string;
  hackbench: string;
  /** root of the unpacked arm64 packages that hold QEMU and its libraries (merged view) */
  qemuRoots: string[];
  libcRoot: string;
  /** the armhf guest (when the prerequisites include it): zImage, busybox, fpsw-bench32 */
  armhf?: { kernelImage: string; busybox: string; bench32: string };
}

const BUILD = join(CACHE_DIR, 'build');
const SRC = (p: string): string => join(VALIDATION_DIR, p);

function cc(out: string, srcs: string[], cmd: string, args: string[]): string {
  if (stale(out, srcs)) {
    progress(`build ${basename(out)}`);
    run(cmd, args, { what: `building ${basename(out)}` });
  }
  return out;
}

/** GUEST_BASE of vmm.c: where the VMM loads and starts the scripted guests. */
function guestBase(): string {
  const m = /#define GUEST_BASE (0x[0-9a-fA-F]+)/.exec(readFileSync(SRC('guest/vmm.c'), 'utf8'));
  if (!m) throw new ValidationError('guest/vmm.c: no "#define GUEST_BASE 0x..." line');
  return m[1];
}

/** The labels of a scripted guest's object file (nm): offsets of its loop, FP accesses and done path. */
function programLayout(nm: string, obj: string): ProgramLayout {
  const out = run(nm, [obj], { what: `${nm} ${basename(obj)}` }).stdout;
  const sym: Partial<Record<string, number>> = {};
  for (const l of out.split('\n')) {
    const m = /^([0-9a-f]+)\s+\w\s+(\w+)$/.exec(l.trim());
    if (m) sym[m[2]] = parseInt(m[1], 16);
  }
  const need = (k: string): number => {
    const v = sym[k];
    if (v === undefined) throw new ValidationError(`${basename(obj)}: no label ${k} (guest/*.S)`);
    return v;
  };
  const opt = (k: string): number[] => (sym[k] === undefined ? [] : [sym[k]]);
  return {
    loop: need('loop'),
    done: need('done'),
    fp: [need('fp_iter')],
    fpexcToggle: [...opt('fpexc_t0'), ...opt('fpexc_t1'), ...opt('fpexc_t2')],
    fpexcPrologue: opt('fpexc_pro'),
  };
}

/** The armhf guest's kernel image, busybox and workload (static A32, VFP hard-float). */
function buildArmhf(pre: Prereqs): Artifacts['armhf'] {
  if (!pre.armhf) return undefined;
  const kboot = join(unpack(pre.armhf.kernel), 'boot');
  const img = readdirSync(kboot).find((f) => f.startsWith('vmlinuz-'));
  if (!img) throw new ValidationError(`${pre.armhf.kernel.package}: no boot/vmlinuz-*`);
  const out = join(BUILD, 'fpsw-bench32');
  const srcs = [SRC('guest/bench32.c'), SRC('guest/mark.h')];
  const bench32 = cc(out, srcs, 'arm-linux-gnueabihf-gcc', [
    '-O2',
    '-Wall',
    '-Wextra',
    '-static',
    '-marm',
    '-mfpu=vfpv3-d16',
    '-mfloat-abi=hard',
    '-o',
    out,
    SRC('guest/bench32.c'),
  ]);
  return {
    kernelImage: join(kboot, img),
    busybox: join(unpack(pre.armhf.busybox), 'bin', 'busybox'),
    bench32,
  };
}

/** The host-built programs: the TCG plugin, the VMM and fpsw-bench (static aarch64). */
function buildPrograms(): { plugin: string; vmm: string; bench: string } {
  const plugin = join(BUILD, 'fprun.so');
  const pluginSrc = [SRC('plugin/fprun.c'), SRC('plugin/qemu-plugin-api.h')];
  cc(plugin, pluginSrc, 'gcc', [
    ...['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-fvisibility=hidden'],
    ...['-o', plugin, SRC('plugin/fprun.c')],
  ]);
  // headers the program includes count for staleness (bench.c: mark.h)
  const aarch64 = (out: string, src: string, headers: string[] = []): string =>
    cc(out, [SRC(src), ...headers.map(SRC)], 'aarch64-linux-gnu-gcc', [
      ...['-O2', '-Wall', '-Wextra', '-static', '-o', out, SRC(src)],
    ]);
  return {
    plugin,
    vmm: aarch64(join(BUILD, 'vmm'), 'guest/vmm.c'),
    bench: aarch64(join(BUILD, 'fpsw-bench'), 'guest/bench.c', ['guest/mark.h']),
  };
}

/** A scripted guest: assembled, then objcopied to a flat binary. */
function buildGuest(name: string, src: string, prefix: string): string {
  const bin = join(BUILD, `${name}.bin`);
  if (stale(bin, [SRC(src)])) {
    const obj = join(BUILD, `${name}.o`);
    cc(obj, [SRC(src)], `${prefix}-as`, ['-o', obj, SRC(src)]);
    run(`${prefix}-objcopy`, ['-O', 'binary', obj, bin], { what: `objcopy ${name}` });
  }
  return bin;
}

export function buildArtifacts(pre: Prereqs): Artifacts {
  ensureDir(BUILD);
  const kdir = unpack(pre.kernel);
  const boot = join(kdir, 'boot');
  const img = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  if (!img) throw new ValidationError(`${pre.kernel.package}: no boot/vmlinuz-* in the package`);
  const libcDeb = pre.qemuArm64.find((d) => d.package === 'libc6');
  const programs = buildPrograms();
  const guest64 = buildGuest('guest64', 'guest/guest64.S', 'aarch64-linux-gnu');
  const guest32 = buildGuest('guest32', 'guest/guest32.S', 'arm-linux-gnueabihf');
  const layout: GuestLayout = {
    guestBase: guestBase(),
    aarch64: programLayout('aarch64-linux-gnu-nm', join(BUILD, 'guest64.o')),
    aarch32: programLayout('arm-linux-gnueabihf-nm', join(BUILD, 'guest32.o')),
  };
  return {
    kernelImage: join(boot, img),
    kernelRelease: img.replace(/^vmlinuz-/, ''),
    ...programs,
    guest64,
    guest32,
    layout,
    busybox: join(unpack(pre.busybox), 'bin', 'busybox'),
    hackbench: join(unpack(pre.rtTests), 'usr', 'bin', 'hackbench'),
    qemuRoots: pre.qemuArm64.map(unpack),
    libcRoot: libcDeb ? unpack(libcDeb) : '',
    armhf: buildArmhf(pre),
  };
}

/** Find a shared object by soname in the unpacked package roots. */
function findLib(roots: string[], soname: string): string | undefined {
  for (const r of roots) {
    for (const d of ['lib/aarch64-linux-gnu', 'usr/lib/aarch64-linux-gnu', 'lib', 'usr/lib']) {
      const p = join(r, d, soname);
      if (existsSync(p)) return realpathSync(p);
    }
  }
  return undefined;
}

/** The ELF NEEDED closure of `bin`, resolved in `roots` (readelf reads arm64 ELF fine). */
function libClosure(bin: string, roots: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const todo = [bin];
  while (todo.length) {
    const f = todo.pop() as string;
    const r = run('readelf', ['-d', f], { what: `readelf -d ${basename(f)}` });
    for (const m of r.stdout.matchAll(/\(NEEDED\).*\[(.+)\]/g)) {
      const so = m[1];
      if (out.has(so)) continue;
      const p = findLib(roots, so);
      if (!p)
        throw new ValidationError(
          `${basename(bin)} needs ${so}, not found in the downloaded arm64 packages`,
        );
      out.set(so, p);
      todo.push(p);
    }
  }
  return out;
}

function baseEntries(): CpioEntry[] {
  return ['bin', 'dev', 'proc', 'sys', 'tmp', 'lib', 'lib/aarch64-linux-gnu', 'lib64'].map((d) => ({
    kind: 'dir',
    path: d,
  }));
}

function libEntries(libs: Map<string, string>): CpioEntry[] {
  const e: CpioEntry[] = [];
  for (const [so, p] of libs) {
    if (so === 'ld-linux-aarch64.so.1')
      e.push({ kind: 'file', path: `lib/${so}`, source: p, mode: 0o755 });
    else e.push({ kind: 'file', path: `lib/aarch64-linux-gnu/${so}`, source: p, mode: 0o755 });
  }
  return e;
}

function hashOf(parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
}

function fileStamp(p: string): string {
  const s = statSync(p);
  return `${p}:${s.size}:${s.mtimeMs}`;
}

/** The armhf L2's initramfs: armhf busybox and fpsw-bench32 (both static). */
function buildL2InitramfsArmhf(a: Artifacts, workloads: LinuxWorkload[]): string {
  const x = a.armhf;
  if (!x) throw new ValidationError('the armhf guest needs the armhf packages (prerequisites)');
  const init = l2Init(workloads);
  const out = join(
    BUILD,
    `l2a32-${hashOf([init, fileStamp(x.busybox), fileStamp(x.bench32)])}.cpio`,
  );
  if (existsSync(out)) return out;
  progress('build armhf L2 initramfs');
  writeCpio(out, [
    ...baseEntries(),
    { kind: 'file', path: 'init', data: init, mode: 0o755 },
    { kind: 'file', path: 'bin/busybox', source: x.busybox, mode: 0o755 },
    { kind: 'file', path: 'bin/fpsw-bench32', source: x.bench32, mode: 0o755 },
  ]);
  return out;
}

/** The initramfs of one in-L1 QEMU run (AArch64 or armhf guest). */
function buildL2Group(a: Artifacts, g: L2Group): string {
  return g.el1 === 'aarch32'
    ? buildL2InitramfsArmhf(a, g.workloads)
    : buildL2Initramfs(a, g.workloads);
}

/** L2's initramfs: busybox, fpsw-bench, hackbench and the glibc it links against. */
function buildL2Initramfs(a: Artifacts, workloads: LinuxWorkload[]): string {
  const init = l2Init(workloads);
  const key = hashOf([init, fileStamp(a.busybox), fileStamp(a.bench), fileStamp(a.hackbench)]);
  const out = join(BUILD, `l2-${key}.cpio`);
  if (existsSync(out)) return out;
  progress('build L2 initramfs');
  const libs = libClosure(a.hackbench, [a.libcRoot, ...a.qemuRoots]);
  writeCpio(out, [
    ...baseEntries(),
    { kind: 'file', path: 'init', data: init, mode: 0o755 },
    { kind: 'file', path: 'bin/busybox', source: a.busybox, mode: 0o755 },
    { kind: 'file', path: 'bin/fpsw-bench', source: a.bench, mode: 0o755 },
    { kind: 'file', path: 'bin/hackbench', source: a.hackbench, mode: 0o755 },
    ...libEntries(libs),
  ]);
  return out;
}

/** L1's initramfs: busybox, the VMM and guests, and for the Linux L2 the arm64 QEMU + libs + L2 image. */
export function buildL1Initramfs(a: Artifacts, plan: L1Plan): string {
  const init = l1Init(plan);
  const needQemu = plan.linux.length > 0;
  const groups = l2Groups(plan.linux);
  const l2 = groups.map((g) => ({ path: g.initrd, source: buildL2Group(a, g) }));
  const a32 = groups.some((g) => g.el1 === 'aarch32') ? a.armhf?.kernelImage : undefined;
  const qemuBin = needQemu
    ? a.qemuRoots.map((r) => join(r, 'usr/bin/qemu-system-aarch64')).find(existsSync)
    : undefined;
  if (needQemu && !qemuBin)
    throw new ValidationError('qemu-system-arm:arm64 did not unpack a usr/bin/qemu-system-aarch64');
  const key = hashOf([
    init,
    ...l2.map((x) => x.source),
    fileStamp(a.vmm),
    fileStamp(a.guest64),
    fileStamp(a.guest32),
    fileStamp(a.kernelImage),
    qemuBin ?? '',
    a32 ?? '',
  ]);
  const out = join(BUILD, `l1-${key}.cpio`);
  if (existsSync(out)) return out;
  progress(`build L1 initramfs${needQemu ? ' (with arm64 QEMU and the L2 image)' : ''}`);
  const entries: CpioEntry[] = [
    ...baseEntries(),
    { kind: 'dir', path: 'guest' },
    { kind: 'file', path: 'init', data: init, mode: 0o755 },
    { kind: 'file', path: 'bin/busybox', source: a.busybox, mode: 0o755 },
    { kind: 'file', path: 'bin/vmm', source: a.vmm, mode: 0o755 },
    { kind: 'file', path: 'guest/guest64.bin', source: a.guest64 },
    { kind: 'file', path: 'guest/guest32.bin', source: a.guest32 },
  ];
  if (qemuBin) {
    entries.push(
      { kind: 'dir', path: 'l2' },
      { kind: 'file', path: 'bin/qemu-system-aarch64', source: qemuBin, mode: 0o755 },
      ...libEntries(libClosure(qemuBin, a.qemuRoots)),
      { kind: 'file', path: 'l2/Image', source: a.kernelImage },
      ...l2.map((x): CpioEntry => ({ kind: 'file', path: x.path, source: x.source })),
    );
    if (a32) entries.push({ kind: 'file', path: 'l2/zImage32', source: a32 });
  }
  writeCpio(out, entries);
  return out;
}

/** Keep the build folder from growing without bound: drop all but the newest few images. */
export function pruneImages(keep = 8): void {
  const files = readdirSync(BUILD)
    .filter((f) => /^l(?:[12]|2a32)-[0-9a-f]+\.cpio$/.test(f))
    .map((f) => ({ f, t: statSync(join(BUILD, f)).mtimeMs }))
    .sort((x, y) => y.t - x.t);
  for (const { f } of files.slice(keep)) rmSync(join(BUILD, f), { force: true });
}
