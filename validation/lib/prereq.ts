// Prerequisites, from Debian packages only: host tools (apt-get install) and the arm64
// packages that go into the L1/L2 images (apt-get download, cached under .cache/validation).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CACHE_DIR,
  SkipError,
  ValidationError,
  ensureDir,
  hasCommand,
  progress,
  run,
} from './util.js';

/** Host (amd64) packages: the outer QEMU, the cross compilers, cpio-free (we write newc ourselves). */
const HOST_PACKAGES = [
  'qemu-system-arm', // qemu-system-aarch64 with TCG plugin support (7.2)
  'gcc', // the TCG plugin (a host shared object)
  'gcc-aarch64-linux-gnu', // VMM, L2 benchmark programs, AArch64 guest
  'libc6-dev-arm64-cross', // static libc + linux/kvm.h for the VMM
  'binutils-arm-linux-gnueabihf', // assembles the AArch32 guest
  'binutils', // readelf for the shared-library closure of the in-L1 QEMU
];

const HOST_COMMANDS: Record<string, string> = {
  'qemu-system-aarch64': 'qemu-system-arm',
  gcc: 'gcc',
  'aarch64-linux-gnu-gcc': 'gcc-aarch64-linux-gnu',
  'arm-linux-gnueabihf-as': 'binutils-arm-linux-gnueabihf',
  readelf: 'binutils',
};

interface DebInfo {
  package: string;
  version: string;
  file: string;
}

/** The armhf guest's packages (issue 11): its kernel (the armmp-lpae flavour of the same ABI) and busybox. */
interface ArmhfPrereqs {
  kernel: DebInfo;
  busybox: DebInfo;
}

export interface Prereqs {
  /** present when the run boots the 32-bit (armhf) L2 guest */
  armhf?: ArmhfPrereqs;
  kernel: DebInfo;
  busybox: DebInfo;
  rtTests: DebInfo;
  /** qemu-system-arm:arm64 and the arm64 libraries it (transitively) depends on */
  qemuArm64: DebInfo[];
  hostQemuVersion: string;
  hostGccVersion: string;
}

interface PrereqOptions {
  install: boolean;
  kernelPackage?: string;
  needLinuxGuest: boolean;
  /** the armhf L2 guest: armhf packages and the armhf cross compiler */
  needArmhf?: boolean;
}

type DebArch = 'arm64' | 'armhf';

const DEB_DIR = join(CACHE_DIR, 'debs');

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function missingHostCommands(): string[] {
  return Object.keys(HOST_COMMANDS).filter((c) => !hasCommand(c));
}

function aptFailureIsNetwork(text: string): boolean {
  return /Could not resolve|Failed to fetch|Temporary failure|Network is unreachable|Connection (refused|timed out)|Unable to connect/i.test(
    text,
  );
}

/** Throws for a failed apt-get `what` (update, install, download): a skip when the
 * mirrors are out of reach, else an error with the output's last two lines. */
function aptFailed(what: string, out: string): never {
  if (aptFailureIsNetwork(out))
    throw new SkipError(`no network access to the Debian package mirrors (apt-get ${what} failed)`);
  throw new ValidationError(
    `apt-get ${what} failed: ${out.trim().split('\n').slice(-2).join(' | ')}`,
  );
}

function aptUpdate(): void {
  progress('apt-get update');
  const r = run('apt-get', ['update', '-q']);
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0 || /^(W|E): Failed to fetch/m.test(out)) {
    aptFailed('update', out);
  }
}

/** candidate versions of many packages in one apt-cache call (each call costs ~1 s) */
function candidates(pkgs: string[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  if (!pkgs.length) return out;
  const r = run('apt-cache', ['policy', ...pkgs]);
  let cur: string | undefined;
  for (const line of r.stdout.split('\n')) {
    const h = /^(\S+):$/.exec(line);
    if (h) {
      cur = h[1];
      continue;
    }
    const m = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (m && cur) out.set(cur, m[1] === '(none)' ? undefined : m[1]);
  }
  return out;
}

function candidate(pkg: string): string | undefined {
  return candidates([pkg]).get(pkg);
}

function ensureHostTools(opts: PrereqOptions): void {
  let missing = missingHostCommands();
  if (missing.length === 0 && existsSync('/usr/aarch64-linux-gnu/include/linux/kvm.h')) return;
  if (!opts.install) {
    const pk = [...new Set(missing.map((c) => HOST_COMMANDS[c]))];
    throw new ValidationError(
      missing.includes('qemu-system-aarch64')
        ? 'qemu-system-aarch64 not found (Debian package qemu-system-arm); run without --no-install, or apt-get install it'
        : `missing host tools: ${missing.join(', ')} (Debian packages ${pk.join(', ')}); run without --no-install`,
    );
  }
  if (!isRoot()) throw new SkipError(`not root, cannot apt-get install ${HOST_PACKAGES.join(' ')}`);
  progress(`apt-get install ${HOST_PACKAGES.join(' ')}`);
  let r = run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...HOST_PACKAGES], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) {
    aptUpdate();
    r = run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...HOST_PACKAGES], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  if (r.status !== 0) {
    aptFailed('install', `${r.stdout}\n${r.stderr}`);
  }
  missing = missingHostCommands();
  if (missing.length)
    throw new ValidationError(`still missing after apt-get install: ${missing.join(', ')}`);
}

function ensureArch(opts: PrereqOptions, arch: DebArch): void {
  const archs = run('dpkg', ['--print-foreign-architectures']).stdout.split(/\s+/);
  if (archs.includes(arch) && candidate(`busybox-static:${arch}`)) return;
  if (!opts.install)
    throw new ValidationError(
      `dpkg has no ${arch} architecture (dpkg --add-architecture ${arch}); run without --no-install`,
    );
  if (!isRoot()) throw new SkipError(`not root, cannot dpkg --add-architecture ${arch}`);
  if (!archs.includes(arch)) {
    progress(`dpkg --add-architecture ${arch}`);
    run('dpkg', ['--add-architecture', arch], { what: `dpkg --add-architecture ${arch}` });
  }
  aptUpdate();
  if (!candidate(`busybox-static:${arch}`))
    throw new ValidationError(`apt has no ${arch} package lists even after apt-get update`);
}

/** Host packages the armhf guest needs: its cross compiler and static libc. */
const ARMHF_HOST_PACKAGES = ['gcc-arm-linux-gnueabihf', 'libc6-dev-armhf-cross'];

/** The armhf guest's prerequisites: the cross compiler, the armmp-lpae kernel of the same ABI, busybox. */
function armhfPrereqs(opts: PrereqOptions, arm64Kernel: string): ArmhfPrereqs {
  if (!hasCommand('arm-linux-gnueabihf-gcc')) {
    if (!opts.install)
      throw new ValidationError(
        `arm-linux-gnueabihf-gcc not found (Debian ${ARMHF_HOST_PACKAGES.join(', ')}); run without --no-install`,
      );
    progress(`apt-get install ${ARMHF_HOST_PACKAGES.join(' ')}`);
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...ARMHF_HOST_PACKAGES], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      what: `apt-get install ${ARMHF_HOST_PACKAGES.join(' ')}`,
    });
  }
  ensureArch(opts, 'armhf');
  const kernel = arm64Kernel.replace(/-arm64$/, '-armmp-lpae');
  const got = download([kernel, 'busybox-static'], opts, 'armhf');
  return { kernel: got.get(kernel) as DebInfo, busybox: got.get('busybox-static') as DebInfo };
}

/** The one exact kernel package: given, or the one linux-image-arm64:arm64 depends on now. */
function resolveKernelPackage(opts: PrereqOptions): string {
  if (opts.kernelPackage) {
    const name = opts.kernelPackage.replace(/:arm64$/, '');
    if (!/^linux-image-[0-9][\w.+-]*-arm64$/.test(name)) {
      throw new ValidationError(
        `--kernel-pkg ${opts.kernelPackage}: expected a name like linux-image-6.1.0-NN-arm64`,
        2,
      );
    }
    return name;
  }
  const r = run('apt-cache', ['depends', 'linux-image-arm64:arm64']);
  const m = /Depends:\s*(linux-image-6\.1\.0-\d+-arm64)(?::arm64)?/.exec(r.stdout);
  if (!m)
    throw new ValidationError(
      'cannot find the current linux-image-6.1.0-NN-arm64 package (apt-cache depends linux-image-arm64:arm64)',
    );
  return m[1];
}

function cachedDeb(pkg: string, version: string, arch: DebArch = 'arm64'): string | undefined {
  // apt-get download names files <pkg>_<version with ':' as %3a>_<arch>.deb
  const want = `${pkg}_${version.replace(/:/g, '%3a')}_${arch}.deb`;
  return existsSync(join(DEB_DIR, want)) ? join(DEB_DIR, want) : undefined;
}

/** apt-get download the exact packages (name:arch=version) not yet in the cache. */
function download(
  pkgs: string[],
  opts: PrereqOptions,
  arch: DebArch = 'arm64',
): Map<string, DebInfo> {
  ensureDir(DEB_DIR);
  const out = new Map<string, DebInfo>();
  const todo: string[] = [];
  const versions = new Map<string, string>();
  const cands = candidates(pkgs.map((p) => `${p}:${arch}`));
  for (const p of pkgs) {
    const v = cands.get(`${p}:${arch}`);
    if (!v) {
      throw new ValidationError(
        p.startsWith('linux-image')
          ? `kernel package ${p}:${arch} not found in the apt lists (apt-cache policy shows no candidate)`
          : `package ${p}:${arch} not found in the apt lists`,
        p.startsWith('linux-image') ? 2 : 1,
      );
    }
    versions.set(p, v);
    const f = cachedDeb(p, v, arch);
    if (f) out.set(p, { package: p, version: v, file: f });
    else todo.push(`${p}:${arch}=${v}`);
  }
  if (todo.length) {
    if (!opts.install)
      throw new ValidationError(`not cached and --no-install given: ${todo.join(' ')}`);
    progress(`apt-get download ${todo.length} ${arch} package(s)`);
    const r = run('apt-get', ['download', '-q', ...todo], { cwd: DEB_DIR });
    if (r.status !== 0) {
      aptFailed('download', `${r.stdout}\n${r.stderr}`);
    }
    for (const p of pkgs) {
      if (out.has(p)) continue;
      const f = cachedDeb(p, versions.get(p) ?? '', arch);
      if (!f)
        throw new ValidationError(
          `apt-get download did not produce ${p}_${versions.get(p)}_${arch}.deb`,
        );
      out.set(p, { package: p, version: versions.get(p) ?? '?', file: f });
    }
  }
  return out;
}

/**
 * qemu-system-arm:arm64 and its library closure: breadth-first over Depends/PreDepends,
 * following only library packages (lib*, zlib1g): the binary's ELF closure is copied later
 * from what these unpack to, so an extra package costs only download bytes.
 */
function qemuArm64Packages(): string[] {
  const listFile = join(DEB_DIR, 'qemu-arm64-packages.txt');
  const want = candidate('qemu-system-arm:arm64');
  if (!want) throw new ValidationError('qemu-system-arm:arm64 not found in the apt lists');
  if (existsSync(listFile)) {
    const [head, ...rest] = readFileSync(listFile, 'utf8').trim().split('\n');
    if (head === want) return rest;
  }
  const seen = new Set<string>(['qemu-system-arm']);
  let level = ['qemu-system-arm'];
  while (level.length) {
    // one apt-cache call per level of the dependency tree
    const r = run('apt-cache', [
      'depends',
      '--no-recommends',
      '--no-suggests',
      '--no-conflicts',
      '--no-breaks',
      '--no-replaces',
      '--no-enhances',
      ...level.map((p) => `${p}:arm64`),
    ]);
    const next: string[] = [];
    for (const m of r.stdout.matchAll(
      /^\s+(?:Pre)?Depends:\s*([a-z0-9][a-z0-9.+-]*)(?::arm64)?\s*$/gm,
    )) {
      const d = m[1];
      if ((d.startsWith('lib') || d === 'zlib1g') && !seen.has(d)) {
        seen.add(d);
        next.push(d);
      }
    }
    level = next;
  }
  const list = [...seen];
  ensureDir(DEB_DIR);
  writeFileSync(listFile, [want, ...list].join('\n') + '\n');
  return list;
}

export function checkPrereqs(opts: PrereqOptions): Prereqs {
  if (!hasCommand('apt-get') || !hasCommand('dpkg')) {
    throw new SkipError(
      'no apt-get/dpkg: the validation builds its images from Debian packages only',
    );
  }
  ensureHostTools(opts);
  ensureArch(opts, 'arm64');
  const kernelPkg = resolveKernelPackage(opts);
  const pkgs = [kernelPkg, 'busybox-static', 'rt-tests', 'libc6'];
  const qemuPkgs = opts.needLinuxGuest ? qemuArm64Packages() : [];
  const got = download([...new Set([...pkgs, ...qemuPkgs])], opts);
  const get = (p: string): DebInfo => got.get(p) as DebInfo;
  const hostQemu = run('qemu-system-aarch64', ['--version']).stdout.split('\n')[0] ?? '?';
  const hostGcc = run('aarch64-linux-gnu-gcc', ['--version']).stdout.split('\n')[0] ?? '?';
  return {
    armhf: opts.needArmhf ? armhfPrereqs(opts, kernelPkg) : undefined,
    kernel: get(kernelPkg),
    busybox: get('busybox-static'),
    rtTests: get('rt-tests'),
    qemuArm64: qemuPkgs.map(get),
    hostQemuVersion: hostQemu,
    hostGccVersion: hostGcc,
  };
}

/** dpkg-deb -x each package into its own folder under pkg/, once. */
export function unpack(deb: DebInfo): string {
  const arch = deb.file.endsWith('_armhf.deb') ? '_armhf' : '';
  const dir = join(CACHE_DIR, 'pkg', `${deb.package}_${deb.version.replace(/:/g, '%3a')}${arch}`);
  if (!existsSync(join(dir, '.unpacked'))) {
    ensureDir(dir);
    run('dpkg-deb', ['-x', deb.file, dir], { what: `dpkg-deb -x ${deb.file}` });
    writeFileSync(join(dir, '.unpacked'), '');
  }
  return dir;
}
