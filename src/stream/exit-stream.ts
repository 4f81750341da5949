/**
 * ExitStream: one entry per guest run (entry to exit) on one physical CPU, as columns of
 * typed arrays delivered in chunks, so memory stays flat however long the stream.
 */

import type { VcpuDesc } from '../policy/types.js';

/** Runs per chunk: big enough to amortise the per-chunk work, small enough for L2. */
export const CHUNK_RUNS = 1 << 16;

/**
 * One chunk of a stream. The arrays may be longer than `length` and are reused by the
 * producer for the next chunk: a consumer must finish with a chunk before asking for the
 * next, and must not keep references to its arrays.
 */
export interface StreamChunk {
  readonly length: number;
  /** Run class (see run-class.ts): vCPU, FP use, where the exit is handled, host FP, vcpu_put. */
  readonly cls: Uint16Array;
  /** Exit key: exit class code x 3 + where it is handled (see cpu/profile.ts exitKey). */
  readonly exitKey: Uint8Array;
  /** Run length in ns of guest time (entry to exit). */
  readonly ns: Float64Array;
}

/** A stream of runs: what the simulator consumes. */
export interface ExitStream {
  /** Where it came from: a workload name or a trace file. */
  readonly name: string;
  readonly vcpus: readonly VcpuDesc[];
  /** Total runs the stream yields. */
  readonly runs: number;
  chunks(): Iterable<StreamChunk>;
}

/** Allocates the columns of one chunk. */
export function allocChunk(capacity = CHUNK_RUNS): {
  cls: Uint16Array;
  exitKey: Uint8Array;
  ns: Float64Array;
} {
  return {
    cls: new Uint16Array(capacity),
    exitKey: new Uint8Array(capacity),
    ns: new Float64Array(capacity),
  };
}

/** An in-memory stream over given columns (tests, small imports). */
export function arrayStream(
  name: string,
  vcpus: readonly VcpuDesc[],
  cols: { cls: ArrayLike<number>; exitKey: ArrayLike<number>; ns?: ArrayLike<number> },
  chunkRuns = CHUNK_RUNS,
): ExitStream {
  const n = cols.cls.length;
  return {
    name,
    vcpus,
    runs: n,
    *chunks() {
      const buf = allocChunk(Math.min(chunkRuns, Math.max(1, n)));
      for (let start = 0; start < n; start += chunkRuns) {
        const len = Math.min(chunkRuns, n - start);
        for (let i = 0; i < len; i++) {
          buf.cls[i] = cols.cls[start + i];
          buf.exitKey[i] = cols.exitKey[start + i];
          buf.ns[i] = cols.ns ? cols.ns[start + i] : 0;
        }
        yield { length: len, ...buf };
      }
    },
  };
}

/** A stream's runs copied into columns, 11 bytes a run. Cost: O(runs). */
export function streamColumns(stream: ExitStream): {
  runs: number;
  cls: Uint16Array;
  exitKey: Uint8Array;
  ns: Float64Array;
} {
  const cls = new Uint16Array(stream.runs);
  const exitKey = new Uint8Array(stream.runs);
  const ns = new Float64Array(stream.runs);
  let n = 0;
  for (const c of stream.chunks()) {
    cls.set(c.cls.subarray(0, c.length), n);
    exitKey.set(c.exitKey.subarray(0, c.length), n);
    ns.set(c.ns.subarray(0, c.length), n);
    n += c.length;
  }
  return { runs: n, cls, exitKey, ns };
}

/**
 * A stream that can be read many times without being generated again: its runs are
 * copied once into columns (11 bytes a run) and each pass yields views of them. For
 * sweeps that walk batches of policies over the same stream; bounded by `maxRuns`
 * (beyond it the stream is returned as it is, and regenerated per pass).
 */
export function replayable(stream: ExitStream, maxRuns = 4_000_000): ExitStream {
  if (stream.runs > maxRuns) return stream;
  const { runs: n, cls, exitKey, ns } = streamColumns(stream);
  return {
    name: stream.name,
    vcpus: stream.vcpus,
    runs: n,
    *chunks() {
      for (let start = 0; start < n; start += CHUNK_RUNS) {
        const end = Math.min(n, start + CHUNK_RUNS);
        yield {
          length: end - start,
          cls: cls.subarray(start, end),
          exitKey: exitKey.subarray(start, end),
          ns: ns.subarray(start, end),
        };
      }
    },
  };
}
