/**
 * The worker side of a parallel import (trace-import.ts): each message is a buffer of
 * whole lines; the lines are scanned into flat records (trace-scan.ts) and the buffer
 * comes back with them, both transferred (no copy). Messages are answered in order.
 */

import { parentPort } from 'node:worker_threads';
import { LineRecords, ScanNames, scanLines } from './trace-scan.js';
import type { ScanRequest, ScanResult } from './trace-scan-pool.js';

/** This worker's numbers for threads and exit texts, kept over the whole import. */
const names = new ScanNames();

parentPort?.on('message', (m: ScanRequest) => {
  const out = m.i32 && m.f64 ? new LineRecords(m.i32, m.f64) : new LineRecords();
  scanLines(Buffer.from(m.buf), m.end, m.final, out, names);
  const result: Omit<ScanResult, 'source'> = {
    buf: m.buf,
    end: m.end,
    n: out.n,
    i32: out.i32,
    f64: out.f64,
  };
  parentPort?.postMessage(result, [
    m.buf,
    out.i32.buffer as ArrayBuffer,
    out.f64.buffer as ArrayBuffer,
  ]);
});
