/**
 * Import throughput against the floor a user compares with: a synthetic tracefs-format
 * trace (four vCPU threads on four physical CPUs, kvm_entry/kvm_exit with a realistic
 * exit mix, kvm_userspace_exit and sched_switch lines) is written to a temporary file,
 * imported with the CLI's importer, and read again by a plain line count (the bytes
 * scanned for newlines, as `wc -l` does). Self-contained so the suite's throughput
 * section (and `node --import tsx bench/import-throughput.ts [MB]`) can call it.
 */

import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImportThroughput } from '../src/report/results.js';
import { importTrace } from '../src/stream/trace-import.js';
import { traceFpModel } from '../src/stream/trace-fp.js';

/** Exit lines of the synthetic trace: (exception type, EC, name), in rotation. */
const EXITS = [
  'TRAP: HSR_EC: 0x0016 (HVC64)',
  'IRQ: HSR_EC: 0x0000 (UNKNOWN)',
  'TRAP: HSR_EC: 0x0001 (WFx)',
  'TRAP: HSR_EC: 0x0024 (DABT_LOW)',
  'TRAP: HSR_EC: 0x0018 (SYS64)',
  'IRQ: HSR_EC: 0x0000 (UNKNOWN)',
  'TRAP: HSR_EC: 0x0024 (DABT_LOW)',
];

/**
 * Writes a synthetic tracefs trace of about `bytes` bytes to `path`. Deterministic (no
 * randomness: a fixed rotation of exit classes and run lengths). Cost: O(bytes).
 */
export function writeSyntheticTrace(path: string, bytes: number): number {
  const fd = openSync(path, 'w');
  const header = '# tracer: nop\n#\n#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n';
  let written = writeSync(fd, header);
  let ns = 100_000_000_000;
  let k = 0;
  const parts: string[] = [];
  let pending = 0;
  while (written < bytes) {
    const v = k % 4;
    const tid = 4001 + v;
    const pc = (0xffff800008001000 + (k % 4096) * 4).toString(16);
    const prefix = `       CPU ${v}/KVM-${tid}    [00${v}] d..1. `;
    const stamp = (t: number) => `${Math.floor(t / 1e9)}.${String(t % 1e9).padStart(9, '0')}`;
    parts.push(`${prefix}  ${stamp(ns)}: kvm_entry: PC: 0x${pc}\n`);
    ns += 700 + (k % 13) * 150;
    const exit = EXITS[k % EXITS.length];
    parts.push(`${prefix}  ${stamp(ns)}: kvm_exit: ${exit}, PC: 0x${pc}\n`);
    ns += 200;
    if (k % 29 === 0) {
      parts.push(`${prefix}  ${stamp(ns)}: kvm_userspace_exit: reason KVM_EXIT_MMIO (6)\n`);
      ns += 300;
    }
    if (k % 17 === 0) {
      parts.push(
        `${prefix}  ${stamp(ns)}: sched_switch: prev_comm=CPU ${v}/KVM prev_pid=${tid} prev_prio=120 prev_state=S ==> next_comm=swapper/${v} next_pid=0 next_prio=120\n`,
      );
      ns += 400;
    }
    k++;
    if (++pending === 512) {
      written += writeSync(fd, parts.join(''));
      parts.length = 0;
      pending = 0;
    }
  }
  if (parts.length) written += writeSync(fd, parts.join(''));
  closeSync(fd);
  return written;
}

/** Lines of `path` counted by scanning its bytes for newlines (the floor). Returns [lines, seconds]. */
function countLines(path: string): [number, number] {
  const t0 = performance.now();
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    for (let i = buf.indexOf(10); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) lines++;
  }
  closeSync(fd);
  return [lines, (performance.now() - t0) / 1000];
}

/** Best wall and CPU seconds of importing `path` `repeats` times with `workers` scan workers. */
async function timeImport(
  path: string,
  workers: number,
  repeats: number,
): Promise<{ wall: number; cpu: number; runs: number }> {
  let wall = Infinity;
  let cpu = Infinity;
  let runs = 0;
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const imported = await importTrace(path, {
      fp: traceFpModel('markov:p=0.3', { seed: 1, maxVcpus: 64 }),
      workers,
    });
    wall = Math.min(wall, (performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
    runs = imported.counts.runs;
    imported.dispose();
  }
  return { wall, cpu, runs };
}

/**
 * Measures import MB/s next to the line-count floor on a synthetic tracefs trace of
 * `megabytes` MB (best of `repeats` each; the file is deleted afterwards): in one thread
 * and, with two or more CPUs, with one scan worker; the faster is the import figure.
 */
export async function measureImportThroughput(
  megabytes = 200,
  repeats = 3,
): Promise<ImportThroughput> {
  const dir = mkdtempSync(join(tmpdir(), 'fpswitch-import-bench-'));
  const path = join(dir, 'synthetic.trace');
  try {
    writeSyntheticTrace(path, megabytes * 1e6);
    const MB = statSync(path).size / 1e6;
    let bestCount = Infinity;
    let lines = 0;
    for (let r = 0; r < repeats; r++) {
      const [n, seconds] = countLines(path);
      lines = n;
      bestCount = Math.min(bestCount, seconds);
    }
    const single = await timeImport(path, 0, repeats);
    const worker = availableParallelism() >= 2 ? await timeImport(path, 1, repeats) : undefined;
    const best = worker && worker.wall < single.wall ? worker : single;
    const importMBps = MB / best.wall;
    const lineCountMBps = MB / bestCount;
    return {
      megabytes: Number(MB.toFixed(1)),
      lines,
      runs: best.runs,
      importMBps: Number(importMBps.toFixed(1)),
      importCpuMBps: Number((MB / best.cpu).toFixed(1)),
      workers: best === single ? 0 : 1,
      singleThreadMBps: Number((MB / single.wall).toFixed(1)),
      lineCountMBps: Number(lineCountMBps.toFixed(1)),
      ratio: Number((importMBps / lineCountMBps).toFixed(3)),
      repeats,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (fileURLToPath(import.meta.url) === process.argv.at(1)) {
  const mb = Number(process.argv[2] ?? 200);
  console.log(JSON.stringify(await measureImportThroughput(mb), null, 2));
}
