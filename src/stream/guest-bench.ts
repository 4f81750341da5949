/**
 * Generation throughput of workload streams: runs per second of one core, the best of
 * several repeats (the least disturbed by other load on a shared machine), measured in
 * process CPU time. `npm run bench` can call `measureGeneration`; run this file directly
 * for a quick table:
 *
 *   node --import tsx src/stream/guest-bench.ts [workload ...] [--runs N] [--repeats K]
 */

import { fileURLToPath } from 'node:url';
import type { ExitStream } from './exit-stream.js';
import {
  builtinWorkloadNames,
  resolveWorkload,
  type Workload,
  workloadStream,
} from './workload.js';

export interface GenerationThroughput {
  readonly workload: string;
  readonly runs: number;
  /** Best of the repeats, runs per CPU second. */
  readonly runsPerSecond: number;
  /** Median of the repeats. */
  readonly medianRunsPerSecond: number;
}

/** Consumes a stream; returns a checksum so that no work can be optimised away. */
export function drain(stream: ExitStream): number {
  let sum = 0;
  for (const chunk of stream.chunks()) sum += chunk.cls[chunk.length - 1] + chunk.exitKey[0];
  return sum;
}

/** Generation throughput of a workload. Cost: (repeats + 1) x runs generated runs. */
export function measureGeneration(
  name: string,
  w: Workload,
  opts: { runs?: number; repeats?: number; seed?: number } = {},
): GenerationThroughput {
  const runs = opts.runs ?? 2_000_000;
  const repeats = opts.repeats ?? 5;
  drain(workloadStream(w, { runs: Math.min(runs, 500_000), seed: 99 })); // warm-up: optimised code
  const rates: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const c0 = process.cpuUsage();
    drain(workloadStream(w, { runs, seed: (opts.seed ?? 1) + k }));
    const c = process.cpuUsage(c0);
    rates.push(runs / ((c.user + c.system) / 1e6));
  }
  rates.sort((a, b) => a - b);
  return {
    workload: name,
    runs,
    runsPerSecond: rates[rates.length - 1],
    medianRunsPerSecond: rates[Math.floor(rates.length / 2)],
  };
}

function main(argv: string[]): void {
  let runs = 2_000_000;
  let repeats = 5;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--repeats') repeats = Number(argv[++i]);
    else names.push(argv[i]);
  }
  const list = names.length > 0 ? names : builtinWorkloadNames();
  for (const name of list) {
    const r = measureGeneration(name, resolveWorkload(name).workload, { runs, repeats });
    console.log(
      `${name.padEnd(24)} ${(r.runsPerSecond / 1e6).toFixed(1).padStart(6)} M runs/s (best of ${repeats}; median ${(r.medianRunsPerSecond / 1e6).toFixed(1)})`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  main(process.argv.slice(2));
