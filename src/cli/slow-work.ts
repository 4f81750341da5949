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

/**
 * Above this estimated time (s) the command announces itself and shows progress.
 * FPSWITCH_SLOW_SECONDS overrides it (the tests use a short one).
 */
const SLOW_SECONDS =
  Number(process.env.FPSWITCH_SLOW_SECONDS) > 0 ? Number(process.env.FPSWITCH_SLOW_SECONDS) : 5;

/** Per-run generation cost (s) above which a workload counts as far beyond the built-ins (they take 0.1-3 µs, up to ~25 µs on a loaded machine). */
const SLOW_RUN_SECONDS = 15e-6;

/** Time a pilot may take before its estimate is taken as it stands (s). */
const PILOT_SECONDS = 0.25;

/**
 * Seconds per generated run of `w`: a pilot of 100 runs, then (unless that was already
 * far below SLOW_RUN_SECONDS, or took PILOT_SECONDS: a workload hundreds of µs per run
 * needs no finer figure) the best of up to three pilots of 4,000 runs after it (the
 * machine may be loaded; the best is the least disturbed). Cost: under a millisecond
 * for the built-ins, at most ~1 s otherwise.
 */
function secondsPerRun(w: Workload, seed: number): number {
  const time = (runs: number): number => {
    const t0 = performance.now();
    let n = 0;
    for (const chunk of workloadStream(w, { runs, seed }).chunks()) n += chunk.length;
    if (n !== runs) throw new Error(`pilot: ${n} runs generated, ${runs} asked`);
    return (performance.now() - t0) / 1000 / runs;
  };
  // Far below or far above the threshold after 100 runs (warm-up included): settled.
  const first = time(100);
  if (first < SLOW_RUN_SECONDS / 4 || first * 100 >= PILOT_SECONDS) return first;
  let best = time(4000);
  for (let k = 0; k < 2 && best * 4000 < PILOT_SECONDS; k++) best = Math.min(best, time(4000));
  return best;
}

/**
 * The line announcing a slow workload, or undefined when generating `totalRuns` runs of
 * `w` should take less than SLOW_SECONDS (or each run costs no more than the built-ins').
 */
export function slowWorkNote(
  w: Workload,
  seed: number,
  totalRuns: number,
): { note: string; perRun: number } | undefined {
  const perRun = secondsPerRun(w, seed);
  const total = perRun * totalRuns;
  if (perRun < SLOW_RUN_SECONDS || total < SLOW_SECONDS) return undefined;
  const note = `workload ${userText(w.name)} costs about ${(perRun * 1e6).toFixed(1)} µs per run to generate (its rates make many guest events per run; the built-ins take a few µs at most): about ${num(total)} s for ${num(totalRuns)} runs. Fewer --runs, or lower rates, make it quicker.`;
  return { note, perRun };
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
  const slow = slowWorkNote(w, seed, totalRuns);
  if (slow === undefined) return undefined;
  process.stderr.write(
    `fpswitch: ${slow.note} Progress every ${num(Math.min(totalRuns, CHUNK_RUNS))} runs.\n`,
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
