/**
 * FP models for imported traces. A trace shows exits and run lengths, not whether the
 * guest touched FP/SIMD (the FP trap never reaches the kvm_exit tracepoint, docs/domain.md §1),
 * so the user chooses a model:
 * - `markov:p=<share>,r=<lag-1 correlation>[,aarch32=1]`: each vCPU's runs touch FP at EL0
 *   following the two-state chain of the `markov` kind (markov.ts);
 * - a guest workload (name or path): each vCPU thread behaves like that workload's vCPUs
 *   (thread v like vCPU v mod their count), and the FP bits of each run follow from the
 *   workload's task model given the run's real length and whether it ended in WFI
 *   (`GuestRunner.traceRun`);
 * - a markov workload file: its fpProbability and fpCorrelation.
 */

import { existsSync } from 'node:fs';
import { EC } from '../arch/esr.js';
import { UserError, userText } from '../util/errors.js';
import { GuestRunner } from './guest.js';
import { compileGuest, replicateForTrace } from './guest-model.js';
import { markovTransitions } from './markov.js';
import { Prng } from './prng.js';
import { FP_EL0 } from '../machine/run-class.js';
import { resolveWorkload } from './workload.js';

/** Where a run started and stopped, as the trace printed it (kvm_entry and kvm_exit PCs). */
export interface TraceRunPcs {
  /** The PC of the kvm_entry (6.1 prints it before a pending PC increment is applied, e.g. after an emulated MMIO access). */
  readonly entry: bigint;
  /** The PC of the kvm_exit (the preferred return address of the exception). */
  readonly exit: bigint;
}

export interface TraceFpModel {
  /** One line: what the model is. */
  readonly description: string;
  /** The model reads the runs' PCs (the importer parses them only then). */
  readonly usesPcs?: boolean;
  /** EL1 of trace vCPU v is AArch32. */
  aarch32(v: number): boolean;
  /**
   * FP bits (run-class.ts) of vCPU v's next run: its length in ns and its exit class
   * code; runs of a vCPU come in order. `pcs` is given when the model `usesPcs`.
   */
  runBits(v: number, ns: number, exitClass: number, pcs?: TraceRunPcs): number;
}

/** The two-state chain of the markov kind, per trace vCPU. */
class MarkovFp implements TraceFpModel {
  readonly description: string;
  private readonly rng: Prng;
  private readonly state: boolean[] = [];
  private readonly fromOff: number;
  private readonly fromOn: number;

  constructor(
    private readonly p: number,
    r: number,
    private readonly a32: boolean,
    seed: number,
    where: string,
  ) {
    const t = markovTransitions(p, r, where);
    this.fromOff = t.fromOff;
    this.fromOn = t.fromOn;
    this.rng = new Prng(seed);
    this.description = `markov: P(run touches FP at EL0) = ${p}, lag-1 correlation ${r}${a32 ? ', AArch32 EL1' : ''}`;
  }

  aarch32(): boolean {
    return this.a32;
  }

  runBits(v: number): number {
    // A new vCPU's chain starts from its stationary distribution, as in markov.ts.
    while (this.state.length <= v) this.state.push(this.rng.next() < this.p);
    const on = this.state[v];
    this.state[v] = this.rng.next() < (on ? this.fromOn : this.fromOff);
    return on ? FP_EL0 : 0;
  }
}

/** A guest workload's task model, conditioned on the trace's run lengths and exits. */
class GuestFp implements TraceFpModel {
  readonly description: string;
  private readonly runner: GuestRunner;
  private readonly a32: boolean[];

  constructor(name: string, w: Parameters<typeof compileGuest>[0], maxVcpus: number, seed: number) {
    const model = replicateForTrace(compileGuest(w), maxVcpus);
    this.runner = new GuestRunner(model, seed);
    this.a32 = model.vcpus.map((d) => d.aarch32);
    this.description = `guest workload ${name}: its task model given each run's length and exit`;
  }

  aarch32(v: number): boolean {
    return this.a32[v];
  }

  runBits(v: number, ns: number, exitClass: number): number {
    return this.runner.traceRun(v, ns, exitClass === EC.WFx);
  }
}

/** `--fp markov:p=<share>,r=<corr>[,aarch32=1]`: the two-state FP model with its keys checked. */
function markovFpModel(spec: string, seed: number): MarkovFp {
  const fields = new Map<string, string>();
  for (const part of spec
    .slice('markov:'.length)
    .split(',')
    .filter((x) => x !== '')) {
    const eq = part.indexOf('=');
    if (eq < 0)
      throw new UserError(
        `--fp ${userText(spec)}: "${userText(part)}" is not key=value (keys: p, r, aarch32)`,
      );
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const k of fields.keys()) {
    if (!['p', 'r', 'aarch32'].includes(k))
      throw new UserError(
        `--fp ${userText(spec)}: unknown key "${userText(k)}" (keys: p, r, aarch32)`,
      );
  }
  const num = (k: string, fallback: number | undefined, lo: number, hi: number): number => {
    const text = fields.get(k);
    if (text === undefined) {
      if (fallback === undefined)
        throw new UserError(`--fp ${userText(spec)}: ${userText(k)}=... is required`);
      return fallback;
    }
    const x = Number(text);
    if (text === '' || !Number.isFinite(x) || x < lo || x > hi)
      throw new UserError(
        `--fp ${userText(spec)}: ${userText(k)}=${userText(text)}: expected a number from ${lo} to ${hi}`,
      );
    return x;
  };
  const p = num('p', undefined, 0, 1);
  const r = num('r', 0, -1, 1);
  const a32 = num('aarch32', 0, 0, 1) === 1;
  return new MarkovFp(p, r, a32, seed, `--fp ${spec}`);
}

/** Parses `--fp`. `maxVcpus` bounds the trace's vCPU threads. */
export function traceFpModel(spec: string, opts: { seed: number; maxVcpus: number }): TraceFpModel {
  if (spec.startsWith('markov:') || spec === 'markov') return markovFpModel(spec, opts.seed);
  // "name:..." that is not markov is a model kind we do not have, not a workload name.
  if (
    /^[a-z][\w-]*:/i.test(spec) &&
    !spec.includes('/') &&
    !spec.endsWith('.json') &&
    !existsSync(spec)
  ) {
    throw new UserError(
      `--fp ${userText(spec)}: unknown FP model "${userText(spec.slice(0, spec.indexOf(':')))}" (models: markov:p=<share>,r=<corr>[,aarch32=1], or a guest workload name or path)`,
    );
  }
  const { workload, file } = resolveWorkload(spec);
  if (workload.kind === 'markov') {
    return new MarkovFp(
      workload.fpProbability,
      workload.fpCorrelation,
      workload.aarch32,
      opts.seed,
      file,
    );
  }
  return new GuestFp(workload.name, workload, opts.maxVcpus, opts.seed);
}
