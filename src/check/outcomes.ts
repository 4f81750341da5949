/**
 * Every outcome of one transition. The semantic machine asks a `Chooser` wherever the
 * architecture leaves the outcome open (an EL2 access while a CPTR_EL2 write is not yet
 * synchronised may see either value). Rather than fork the machine, the checker re-runs
 * the transition from the same state with a vector of choices: where the machine asks
 * beyond the vector it takes outcome 0 and records how many there were; the alternatives
 * are then run in turn. Outcomes come out in lexicographic order of their choice vectors,
 * so the search is deterministic.
 */

import type { Chooser } from '../machine/semantic-machine.js';

/** Replays a prefix of choices, then takes outcome 0 and records each choice point. */
export class VectorChooser implements Chooser {
  /** The outcome taken at each choice point so far. */
  readonly taken: number[] = [];
  /** How many outcomes each choice point had. */
  readonly options: number[] = [];
  /** What the taken outcome meant, in words. */
  readonly labels: string[] = [];

  constructor(private readonly prefix: readonly number[] = []) {}

  choose(options: number, what: string, labels?: readonly string[]): number {
    const i = this.taken.length;
    const pick = i < this.prefix.length ? this.prefix[i] : 0;
    if (pick >= options) {
      // A replayed vector that no longer fits means the machine is not deterministic.
      throw new Error(
        `choice ${pick} out of range at "${what}" (${options} outcomes): replay diverged`,
      );
    }
    this.taken.push(pick);
    this.options.push(options);
    this.labels.push(labels?.[pick] ?? `${what}: outcome ${pick + 1} of ${options}`);
    return pick;
  }
}

/**
 * Runs `run` once per outcome, in lexicographic order of choice vectors, until `visit`
 * returns true (stop; then this returns true). `run` must start from the same state
 * every time. Most transitions have no choice point: they run once.
 */
export function forEachOutcome<R>(
  run: (chooser: VectorChooser) => R,
  visit: (result: R, chooser: VectorChooser) => boolean,
): boolean {
  return walkOutcomes(run, visit, []);
}

function walkOutcomes<R>(
  run: (chooser: VectorChooser) => R,
  visit: (result: R, chooser: VectorChooser) => boolean,
  prefix: readonly number[],
): boolean {
  const chooser = new VectorChooser(prefix);
  const result = run(chooser);
  if (visit(result, chooser)) return true;
  // Deeper choice points vary first: [0,0] then [0,1] then [1,...].
  for (let k = chooser.taken.length - 1; k >= prefix.length; k--) {
    for (let alt = 1; alt < chooser.options[k]; alt++) {
      if (walkOutcomes(run, visit, [...chooser.taken.slice(0, k), alt])) return true;
    }
  }
  return false;
}
