/**
 * Where an import's lines are scanned: in this thread (InlineScanner) or in worker
 * threads (ScanWorkers: regions handed out in turn, answers kept in the order asked, so
 * the importer replays the file in order whatever the worker count). A worker is worth it
 * only when a core is free: the importer's own work (threads, runs, the spool) stays in
 * this thread, the scan (about half the work) moves out.
 */

import { statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LineRecords, ScanNames, scanLines } from './trace-scan.js';

/** A region to scan: its lines are `buf[0, end)`; `final` when `end` is the input's end. */
export interface ScanRequest {
  readonly buf: ArrayBuffer;
  readonly end: number;
  readonly final: boolean;
  /** Record arrays of an earlier result to fill again (saves allocating them per region). */
  readonly i32?: Int32Array;
  readonly f64?: Float64Array;
}

/** The scanned lines of one ScanRequest, with its buffer. */
export interface ScanResult {
  /** Which scanner's ScanNames numbered its threads and exit texts. */
  readonly source: number;
  readonly buf: ArrayBuffer;
  readonly end: number;
  readonly n: number;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
}

/** Files smaller than this are scanned in this thread (a worker takes ~20 ms to start). */
const WORKER_MIN_BYTES = 32 << 20;

/**
 * How many scan workers an import of `path` uses: FPSWITCH_IMPORT_WORKERS when set (0-8),
 * else one for a file of 32 MB or more when a CPU is idle (two or more CPUs, a 1-minute
 * load average below their count minus one), else none: with no idle CPU the two threads
 * take turns on one and the import is slower than in one thread (measured: 120-160
 * against 180-230 MB/s on a 200 MB trace with the 2-CPU machine busy).
 */
export function importWorkers(path: string): number {
  const env = process.env.FPSWITCH_IMPORT_WORKERS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 0 && n <= 8) return n;
  }
  const cpus = availableParallelism();
  if (cpus < 2 || loadavg()[0] > cpus - 1) return 0;
  try {
    return statSync(path).size >= WORKER_MIN_BYTES ? 1 : 0;
  } catch {
    return 0;
  }
}

/** Scans in this thread, into one reused LineRecords (one region in flight at a time). */
export class InlineScanner {
  private readonly records = new LineRecords();
  private readonly names = new ScanNames();

  scan(req: ScanRequest): Promise<ScanResult> {
    const r = this.records;
    scanLines(Buffer.from(req.buf), req.end, req.final, r, this.names);
    const { buf, end } = req;
    return Promise.resolve({ source: 0, buf, end, n: r.n, i32: r.i32, f64: r.f64 });
  }

  /** The result's records are replayed (they are reused here anyway). */
  recycle(): void {
    // One LineRecords, reused in place.
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The worker's entry: the compiled module next to this one, or, when running from
 * TypeScript (tsx), a bootstrap that registers tsx first (a .ts file cannot be a worker
 * entry on Node 20: tsx issue #354).
 */
function workerEntry(): URL {
  const self = import.meta.url;
  if (self.endsWith('.js')) return new URL('./trace-scan-worker.js', self);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./trace-scan-worker.ts', self).href;
  const code = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

interface Waiter {
  resolve: (r: ScanResult) => void;
  reject: (e: Error) => void;
}

/** Scan worker threads; each answers its regions in order, regions go round in turn. */
export class ScanWorkers {
  private readonly workers: Worker[] = [];
  private readonly waiting: Waiter[][] = [];
  private next = 0;
  private closed = false;
  /** Record arrays of replayed results, handed out again with the next regions. */
  private readonly spare: { i32: Int32Array; f64: Float64Array }[] = [];

  constructor(count: number) {
    const entry = workerEntry();
    for (let i = 0; i < count; i++) {
      const w = new Worker(entry);
      const queue: Waiter[] = [];
      w.on('message', (r: Omit<ScanResult, 'source'>) =>
        queue.shift()?.resolve({ ...r, source: i }),
      );
      w.on('error', (e) => {
        this.failAll(e);
      });
      w.on('exit', () => {
        this.failAll(new Error('an import scan worker stopped'));
      });
      this.workers.push(w);
      this.waiting.push(queue);
    }
  }

  private failAll(e: Error): void {
    if (this.closed) return;
    for (const q of this.waiting) for (const waiter of q.splice(0)) waiter.reject(e);
  }

  /** Hands `req` (its buffer transferred) to the next worker in turn. */
  scan(req: ScanRequest): Promise<ScanResult> {
    const i = this.next++ % this.workers.length;
    const spare = this.spare.pop();
    const msg: ScanRequest = spare ? { ...req, i32: spare.i32, f64: spare.f64 } : req;
    const transfer: ArrayBuffer[] = [req.buf];
    if (spare) transfer.push(spare.i32.buffer as ArrayBuffer, spare.f64.buffer as ArrayBuffer);
    return new Promise<ScanResult>((resolve, reject) => {
      this.waiting[i].push({ resolve, reject });
      this.workers[i].postMessage(msg, transfer);
    });
  }

  /** The result `r` is replayed: its record arrays go out again with a later region. */
  recycle(r: ScanResult): void {
    this.spare.push({ i32: r.i32, f64: r.f64 });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
