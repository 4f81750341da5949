/** Shortcuts for simulating built-in policies over markov streams in tests. */

import { type FpStateSize, FPSIMD } from '../../src/cpu/fp-state.js';
import { cpuProfile } from '../../src/cpu/profiles.js';
import { resolvePolicy } from '../../src/policy/registry.js';
import { type SimResult, simulate } from '../../src/sim/simulate.js';
import type { ExitStream } from '../../src/stream/exit-stream.js';
import { markovStream, MarkovWorkloadSchema } from '../../src/stream/markov.js';

export function markov(fields: Record<string, unknown>, runs: number, seed = 1): ExitStream {
  const w = MarkovWorkloadSchema.parse({ name: 'test', kind: 'markov', ...fields });
  return markovStream(w, { runs, seed });
}

export async function sim(
  policy: string,
  stream: ExitStream,
  opts: { cpu?: string; engine?: 'table' | 'direct'; fpState?: FpStateSize } = {},
): Promise<SimResult> {
  return simulate(await resolvePolicy(policy), stream, {
    cpu: cpuProfile(opts.cpu ?? 'seattle'),
    engine: opts.engine ?? 'table',
    fpState: opts.fpState ?? FPSIMD,
  });
}
