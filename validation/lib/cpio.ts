// A cpio "newc" (SVR4, no CRC) writer: the initramfs format the kernel unpacks
// (Documentation/driver-api/early-userspace/buffer-format.rst). Uncompressed on purpose:
// unpacking a compressed ~100 MB archive under TCG costs seconds of emulated time.
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; source?: string; data?: Buffer | string; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

export function writeCpio(outFile: string, entries: CpioEntry[]): number {
  const fd = openSync(outFile, 'w');
  let off = 0;
  let ino = 1;
  const write = (b: Buffer): void => {
    writeSync(fd, b);
    off += b.length;
  };
  const pad = (): void => {
    const p = (4 - (off % 4)) % 4;
    if (p) write(Buffer.alloc(p));
  };
  const header = (
    name: string,
    mode: number,
    size: number,
    nlink: number,
    rmaj = 0,
    rmin = 0,
  ): void => {
    const nameBuf = Buffer.from(`${name}\0`);
    const fields = [ino++, mode, 0, 0, nlink, 0, size, 0, 0, rmaj, rmin, nameBuf.length, 0];
    write(Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii'));
    write(nameBuf);
    pad();
  };
  try {
    for (const e of entries) {
      const name = e.path.replace(/^\/+/, '');
      if (e.kind === 'dir') header(name, S_IFDIR | (e.mode ?? 0o755), 0, 2);
      else if (e.kind === 'symlink') {
        const t = Buffer.from(e.target);
        header(name, S_IFLNK | 0o777, t.length, 1);
        write(t);
        pad();
      } else if (e.kind === 'chardev')
        header(name, S_IFCHR | (e.mode ?? 0o600), 0, 1, e.major, e.minor);
      else {
        const data = e.data !== undefined ? Buffer.from(e.data) : readFileSync(e.source as string);
        const mode = e.mode ?? (e.source ? statSync(e.source).mode & 0o777 : 0o644);
        header(name, S_IFREG | mode, data.length, 1);
        write(data);
        pad();
      }
    }
    header('TRAILER!!!', 0, 0, 1);
  } finally {
    closeSync(fd);
  }
  return off;
}
