/**
 * A run spool: runs written chunk by chunk to a temporary file and replayed as an
 * ExitStream as many times as needed (one pass per simulated policy), so that a trace of
 * any size is parsed once and kept in flat memory (11 bytes per run on disk, one chunk in
 * memory). The spool file is deleted by `dispose()`.
 */

import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VcpuDesc } from '../policy/types.js';
import { allocChunk, CHUNK_RUNS, type ExitStream } from './exit-stream.js';
import { alive } from '../util/alive.js';

/** Spool folders of this process not yet disposed: removed at exit and on SIGINT/SIGTERM. */
const LIVE = new Set<string>();
let hooked = false;

function removeLive(): void {
  for (const dir of LIVE) rmSync(dir, { recursive: true, force: true });
  LIVE.clear();
}

/** Removes the spools, then lets the signal end the process as it would have (exit 128+n). */
function onSignal(signal: NodeJS.Signals): void {
  removeLive();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.kill(process.pid, signal);
}

/**
 * Ensures no spool outlives the process: an exit handler, and SIGINT/SIGTERM handlers
 * installed only while a spool exists (so they never change how an idle process ends).
 * Called before the spool's folder is made: a signal in between would otherwise find no
 * handler and end the process with the folder left behind.
 */
function hookSignals(): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', removeLive);
  }
  if (!process.listeners('SIGINT').includes(onSignal)) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}

/** Takes the signal handlers away when no spool is left (an idle process ends as usual). */
function unhookIfIdle(): void {
  if (LIVE.size === 0) {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

function untrack(dir: string): void {
  LIVE.delete(dir);
  unhookIfIdle();
}

/** Spools left by killed runs (SIGKILL, a crash): removed when their process is gone. */
function removeStaleSpools(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^fpswitch-spool-(\d+)-\w+$/.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

export class RunSpool {
  private readonly dir: string;
  private readonly path: string;
  private fd: number;
  private readonly buf = allocChunk(CHUNK_RUNS);
  private fill = 0;
  private total = 0;
  private closed = false;

  constructor() {
    removeStaleSpools();
    hookSignals();
    try {
      this.dir = mkdtempSync(join(tmpdir(), `fpswitch-spool-${process.pid}-`));
    } catch (e) {
      unhookIfIdle();
      throw e;
    }
    LIVE.add(this.dir);
    this.path = join(this.dir, 'runs.bin');
    this.fd = openSync(this.path, 'w+');
  }

  /** Runs written so far. */
  get runs(): number {
    return this.total;
  }

  /** Appends one run. */
  push(cls: number, exitKey: number, ns: number): void {
    const b = this.buf;
    b.cls[this.fill] = cls;
    b.exitKey[this.fill] = exitKey;
    b.ns[this.fill] = ns;
    this.fill++;
    this.total++;
    if (this.fill === CHUNK_RUNS) this.flush();
  }

  private flush(): void {
    if (this.fill === 0) return;
    const n = this.fill;
    const header = new Uint32Array([n]);
    writeSync(this.fd, new Uint8Array(header.buffer));
    writeSync(this.fd, new Uint8Array(this.buf.cls.buffer, 0, n * 2));
    writeSync(this.fd, new Uint8Array(this.buf.exitKey.buffer, 0, n));
    writeSync(this.fd, new Uint8Array(this.buf.ns.buffer, 0, n * 8));
    this.fill = 0;
  }

  /** Ends writing; the spool can then be replayed. */
  finish(): void {
    this.flush();
  }

  /** A replayable stream over the spooled runs. Each `chunks()` call reads the file from the start. */
  stream(name: string, vcpus: readonly VcpuDesc[]): ExitStream {
    const fd = this.fd;
    const runs = this.total;
    const isClosed = () => this.closed;
    return {
      name,
      vcpus,
      runs,
      *chunks() {
        if (isClosed()) throw new Error('run spool already disposed');
        const buf = allocChunk(CHUNK_RUNS);
        const header = new Uint32Array(1);
        let pos = 0;
        let seen = 0;
        while (seen < runs) {
          readFully(fd, new Uint8Array(header.buffer), pos);
          pos += 4;
          const n = header[0];
          readFully(fd, new Uint8Array(buf.cls.buffer, 0, n * 2), pos);
          pos += n * 2;
          readFully(fd, new Uint8Array(buf.exitKey.buffer, 0, n), pos);
          pos += n;
          readFully(fd, new Uint8Array(buf.ns.buffer, 0, n * 8), pos);
          pos += n * 8;
          seen += n;
          yield { length: n, ...buf };
        }
      },
    };
  }

  /** Closes and deletes the spool file. Safe to call twice. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
    untrack(this.dir);
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let off = 0;
  while (off < into.length) {
    const got = readSync(fd, into, off, into.length - off, position + off);
    if (got === 0) throw new Error('run spool truncated');
    off += got;
  }
}
