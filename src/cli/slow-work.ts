/**
 * No silent long work: a workload whose runs cost far more to generate than the
 * built-ins' (a valid but huge rate, e.g. `scheduler.switchesPerSec: 1e10`) is measured
 * on a short pilot before the real run; when the whole command would take long, stderr
 * gets the estimate up front and progress while it runs.
 */

import { CHUNK_RUNS, type ExitStream, type StreamChunk } from '../stream/exit-stream.js';
import { type Workload, workloadStream } from '../stream/workload.js';
import { num } from '../util/format.js';
import { userText } from '../util/errors.js';

/** Above this estimated time (s) the command announces itself and shows progress. */
export const SLOW_SECONDS = 5;

/** Per-run generation cost (s) above which a workload counts as far beyond the built-ins (they take 0.1-3 µs, up to ~25 µs on a loaded machine). */
export const SLOW_RUN_SECONDS = 15e-6;

/**
 * Seconds per generated run of `w`: the best of three pilots of 4,000 runs after a
 * warm-up pilot (the machine may be loaded; the best is the least disturbed). Cost:
 * ~13,000 runs of generation (milliseconds for the built-ins, ~0.4 s for a workload at
 * 30 µs per run).
 */
export function secondsPerRun(w: Workload, seed: number): number {
  const time = (runs: number): number => {
    const t0 = performance.now();
    let n = 0;
    for (const chunk of workloadStream(w, { runs, seed }).chunks()) n += chunk.length;
    if (n !== runs) throw new Error(`pilot: ${n} runs generated, ${runs} asked`);
    return (performance.now() - t0) / 1000 / runs;
  };
  time(1000);
  return Math.min(time(4000), time(4000), time(4000));
}

/**
 * The stream, with progress on stderr when generating `totalRuns` runs (over every
 * policy and seed of the command) is estimated to take more than SLOW_SECONDS.
 */
export function announceSlowWork(
  w: Workload,
  seed: number,
  totalRuns: number,
): ((s: ExitStream) => ExitStream) | undefined {
  if (totalRuns < SLOW_SECONDS / SLOW_RUN_SECONDS) return undefined;
  const perRun = secondsPerRun(w, seed);
  const total = perRun * totalRuns;
  if (perRun < SLOW_RUN_SECONDS || total < SLOW_SECONDS) return undefined;
  process.stderr.write(
    `fpswitch: workload ${userText(w.name)} costs about ${(perRun * 1e6).toFixed(1)} µs per run to generate (its rates make many guest events per run; the built-ins take a few µs at most): about ${num(total)} s for ${num(totalRuns)} runs. Fewer --runs, or lower rates, make it quicker.\n`,
  );
  let done = 0;
  let last = performance.now();
  const t0 = last;
  return (s) => ({
    ...s,
    chunks: function* (): Generator<StreamChunk> {
      for (const chunk of s.chunks()) {
        done += chunk.length;
        const now = performance.now();
        if (now - last > 2000 || (chunk.length < CHUNK_RUNS && done >= totalRuns)) {
          last = now;
          const rate = done / ((now - t0) / 1000);
          process.stderr.write(
            `fpswitch: ${num(done)} of ${num(totalRuns)} runs (${((100 * done) / totalRuns).toFixed(0)}%), about ${num(Math.max(0, (totalRuns - done) / rate))} s left\n`,
          );
        }
        yield chunk;
      }
    },
  });
}
