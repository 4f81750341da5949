/**
 * Simulator throughput, measured with tinybench: the compiled table walk against a bare
 * loop over the same typed arrays in the same process (a histogram of run classes: one
 * load and one increment per run, the least any simulator must do).
 */

import { Bench } from 'tinybench';
import { TransitionTable } from '../src/machine/compile.js';
import { CLASSES_PER_VCPU } from '../src/machine/run-class.js';
import type { Policy } from '../src/policy/types.js';
import { bareLoop, SINGLE_BUDGET, Walker } from '../src/sim/walk.js';
import type { ExitStream } from '../src/stream/exit-stream.js';

export interface WalkThroughput {
  readonly policy: string;
  /** Runs per second of the table walk (mean over tinybench samples). */
  readonly walkRunsPerSecond: number;
  /** Runs per second of the bare loop. */
  readonly bareRunsPerSecond: number;
  /** walk / the median bare-loop rate of all the policies' measurements. */
  readonly ratio: number;
  /** Walker mode used (raw pairs, dense pairs or single steps). */
  readonly mode: string;
}

/**
 * tinybench options for a measurement of about `timeMs`: tinybench runs at least
 * `iterations` samples (64 by default) whatever the time, which for a 10 ms task is most
 * of a quick run; `minIterations` lowers that floor.
 */
export function benchOptions(timeMs: number, minIterations = 64) {
  return {
    time: timeMs,
    warmup: true,
    warmupTime: timeMs / 2,
    iterations: minIterations,
    warmupIterations: Math.max(1, Math.min(16, minIterations >> 2)),
  };
}

/** Materialises the first `runs` run classes of a stream (so generation is not timed). */
export function materialize(stream: ExitStream, runs: number): Uint16Array {
  const out = new Uint16Array(runs);
  let n = 0;
  for (const c of stream.chunks()) {
    const take = Math.min(c.length, runs - n);
    out.set(c.cls.subarray(0, take), n);
    n += take;
    if (n >= runs) break;
  }
  return out.subarray(0, n);
}

/**
 * Measures walk and bare-loop throughput for each policy over the same columns. The
 * table is warmed first (every reachable cell compiled), so the figure is the walk alone.
 */
export async function measureWalk(
  policies: readonly Policy[],
  stream: ExitStream,
  opts: { runs?: number; timeMs?: number; minIterations?: number } = {},
): Promise<WalkThroughput[]> {
  const cls = materialize(stream, opts.runs ?? 1 << 16);
  const out: WalkThroughput[] = [];
  for (const policy of policies) {
    const walker = new Walker(
      new TransitionTable(policy, stream.vcpus, SINGLE_BUDGET.maxCells),
      SINGLE_BUDGET,
    );
    for (let k = 0; k < 4; k++) walker.walk(cls, cls.length);
    const counts = new Int32Array(stream.vcpus.length * CLASSES_PER_VCPU);
    const bench = new Bench(benchOptions(opts.timeMs ?? 400, opts.minIterations));
    bench.add('walk', () => walker.walk(cls, cls.length));
    bench.add('bare', () => bareLoop(cls, cls.length, counts));
    await bench.run();
    const rate = (name: string) => {
      const r = bench.getTask(name)?.result;
      if (!r || r.state !== 'completed') throw new Error(`benchmark ${name} did not complete`);
      return r.throughput.mean * cls.length;
    };
    const walk = rate('walk');
    const bare = rate('bare');
    out.push({
      policy: policy.id,
      walkRunsPerSecond: walk,
      bareRunsPerSecond: bare,
      ratio: walk / bare,
      mode: walker.pairMode,
    });
  }
  // The bare loop is the same loop over the same array each time: its median over the
  // policies is a steadier yardstick on a shared, noisy machine than any one sample.
  const sorted = out.map((o) => o.bareRunsPerSecond).sort((a, b) => a - b);
  const median =
    sorted.length % 2
      ? sorted[(sorted.length - 1) / 2]
      : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return out.map((o) => ({ ...o, ratio: o.walkRunsPerSecond / median }));
}
