/**
 * Simulator throughput, measured with tinybench: the compiled table walk against a bare
 * loop over the same typed array in the same process (a histogram of run classes: one
 * load and one increment per run, the least any simulator must do), and the generator,
 * on a workload's own stream. The suite runs this in a child process per workload
 * (`tp-child.ts`), so no figure inherits another's compiled code or heap.
 */

import { Bench } from 'tinybench';
import type { Policy, VcpuDesc } from '../src/policy/types.js';
import { CLASSES_PER_VCPU } from '../src/machine/run-class.js';
import { PolicyRun } from '../src/sim/simulate.js';
import { bareLoop } from '../src/sim/walk.js';
import type { ExitStream } from '../src/stream/exit-stream.js';
import { type Workload, workloadStream } from '../src/stream/workload.js';

interface WalkThroughput {
  readonly policy: string;
  /** Runs per second of the table walk (mean over tinybench samples). */
  readonly walkRunsPerSecond: number;
  /** Runs per second of the bare loop. */
  readonly bareRunsPerSecond: number;
  /** walk / bare loop over the same stream. */
  readonly ratio: number;
  /** Walker mode used (raw pairs, dense pairs or single steps). */
  readonly mode: string;
  /** States in the policy's table. */
  readonly states: number;
}

/**
 * tinybench options for a measurement of about `timeMs`: tinybench runs at least
 * `iterations` samples (64 by default) whatever the time, which for a 10 ms task is most
 * of a quick run; `minIterations` lowers that floor.
 */
function benchOptions(timeMs: number, minIterations = 64) {
  return {
    time: timeMs,
    warmup: true,
    warmupTime: timeMs / 2,
    iterations: minIterations,
    warmupIterations: Math.max(1, Math.min(16, minIterations >> 2)),
  };
}

/** Materialises the first `runs` run classes of a stream (so generation is not timed). */
function materialize(stream: ExitStream, runs: number): Uint16Array {
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

/** One workload's figures, measured in a process of their own (`tp-child.ts`). */
export interface StreamThroughput {
  readonly workload: string;
  /** The stream measured, in words (workload, seed, length, vCPUs). */
  readonly stream: string;
  readonly bareRunsPerSecond: number;
  readonly walk: readonly WalkThroughput[];
  readonly generateRunsPerSecond: number;
}

export interface StreamThroughputOptions {
  /** Runs of the stream materialised for the walk (one walk of them is one sample). */
  readonly runs: number;
  /** Runs generated per generation sample. */
  readonly generateRuns: number;
  readonly timeMs: number;
  readonly minIterations: number;
  readonly seed: number;
}

/** tinybench mean throughput of one task, in runs per second. */
async function rate(task: () => void, runs: number, timeMs: number, minIterations: number) {
  const bench = new Bench(benchOptions(timeMs, minIterations));
  bench.add('task', task);
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed') throw new Error('benchmark did not complete');
  return r.throughput.mean * runs;
}

/**
 * Each policy as a user's simulate runs it: the table walk, or the cost machine if the
 * table does not pay off (PolicyRun decides), warmed by up to four passes over the stream.
 */
async function walkFigures(
  name: string,
  vcpus: readonly VcpuDesc[],
  cls: Uint16Array,
  policies: readonly Policy[],
  o: StreamThroughputOptions,
  bare: () => Promise<number>,
): Promise<WalkThroughput[]> {
  const walk: WalkThroughput[] = [];
  const chunk = { length: cls.length, cls, exitKey: new Uint8Array(0), ns: new Float64Array(0) };
  for (const policy of policies) {
    const run = new PolicyRun(policy, { name, vcpus });
    for (let k = 0; k < 4 && run.mode !== 'direct'; k++) run.feed(chunk);
    if (run.mode === 'direct') run.feed(chunk);
    // A slow engine gets a sample floor of one: its figure needs no more to show the gap.
    const floor = run.mode === 'direct' ? 1 : o.minIterations;
    // The bare loop right before the walk: on a shared machine the pair is under the same load.
    const b = await bare();
    const w = await rate(
      () => {
        run.feed(chunk);
      },
      cls.length,
      o.timeMs,
      floor,
    );
    walk.push({
      policy: policy.id,
      walkRunsPerSecond: w,
      bareRunsPerSecond: b,
      ratio: w / b,
      mode: run.mode,
      states: run.tableStates,
    });
  }
  return walk;
}

/**
 * Walk, bare loop and generation over one workload's own stream: the first `runs` runs
 * of the stream with `seed`, each policy warmed by up to four passes (every reachable
 * cell compiled, so the figure is the walk alone) and measured right after the bare loop
 * over the same array (walk / bare is taken within that pair).
 */
export async function measureStream(
  name: string,
  workload: Workload,
  policies: readonly Policy[],
  o: StreamThroughputOptions,
): Promise<StreamThroughput> {
  const first = workloadStream(workload, { runs: o.runs, seed: o.seed });
  const cls = materialize(first, o.runs);
  const vcpus = first.vcpus;
  const counts = new Int32Array(vcpus.length * CLASSES_PER_VCPU);
  const bare = () =>
    rate(
      () => {
        bareLoop(cls, cls.length, counts);
      },
      cls.length,
      o.timeMs,
      o.minIterations,
    );
  const walk = await walkFigures(name, vcpus, cls, policies, o, bare);
  const bares = walk.map((x) => x.bareRunsPerSecond).sort((a, b) => a - b);
  const gen = await rate(
    () => {
      let n = 0;
      for (const chunk of workloadStream(workload, { runs: o.generateRuns, seed: o.seed }).chunks())
        n += chunk.length;
      if (n !== o.generateRuns) throw new Error(`generated ${n} runs, not ${o.generateRuns}`);
    },
    o.generateRuns,
    o.timeMs,
    o.minIterations,
  );
  return {
    workload: name,
    stream: `${name}, seed ${o.seed}, first ${cls.length.toLocaleString('en-US')} runs, ${vcpus.length} vCPU${vcpus.length > 1 ? 's' : ''}`,
    bareRunsPerSecond: bares[bares.length >> 1],
    walk,
    generateRunsPerSecond: gen,
  };
}
