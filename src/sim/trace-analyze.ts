/**
 * One call from a trace file to simulation results: import (trace-import.ts) with an FP
 * model (trace-fp.ts), then every policy simulated over the same imported stream. For the
 * `import` command and the validation harness.
 */

import type { Readable } from 'node:stream';
import { exitClassCode } from '../arch/esr.js';
import { type FpStateSize, FPSIMD } from '../cpu/fp-state.js';
import { cpuProfile } from '../cpu/profiles.js';
import { resolvePolicy } from '../policy/registry.js';
import type { Policy } from '../policy/types.js';
import { type SimResult, simulate } from './simulate.js';
import { UserError, userText } from '../util/errors.js';
import type { KvmStatRow, StatTime, StatView } from '../stream/kvm-stat.js';
import { type TraceInterval, traceInterval } from './trace-bootstrap.js';
import { traceFpModel } from '../stream/trace-fp.js';
import { type ImportCounts, importTrace, type TraceThread } from '../stream/trace-import.js';

export interface AnalyzeOptions {
  /** FP model spec (`markov:p=..,r=..` or a workload name/path); required when policies are given. */
  readonly fp?: string;
  /** Policy specs (as on the command line). */
  readonly policies?: readonly string[];
  readonly cpu?: string;
  readonly fpState?: FpStateSize;
  readonly seed?: number;
  readonly userExits?: readonly string[];
  readonly pcpu?: number;
  readonly skipBad?: boolean;
  readonly maxVcpus?: number;
  readonly statTime?: StatTime;
  /** The perf-kvm-stat table's vCPU and sort key. */
  readonly statView?: StatView;
  /** Bootstrap an interval for each policy's figures (default false: the CLI asks for it). */
  readonly intervals?: boolean;
}

export interface TraceAnalysis {
  readonly file: string;
  readonly fp: string;
  readonly counts: ImportCounts;
  readonly threads: readonly TraceThread[];
  readonly firstBad?: string;
  readonly stats: {
    readonly time: StatTime;
    readonly rows: readonly KvmStatRow[];
    readonly totalUs: number;
    readonly text: string;
  };
  readonly results: readonly SimResult[];
  /** Per policy (same order): a block-bootstrap interval over the trace's runs, or null. */
  readonly intervals: readonly (TraceInterval | null)[];
}

/** Exit class labels to codes, naming the bad one. */
function exitClassCodes(labels: readonly string[], flag: string): Set<number> {
  const out = new Set<number>();
  for (const l of labels) {
    const code = exitClassCode(l);
    if (code === undefined)
      throw new UserError(
        `${flag} ${userText(l)}: unknown exit class (an EC name such as DABT_LOW, a hex EC such as 0x24, or IRQ/SERROR/HYP_GONE)`,
      );
    out.add(code);
  }
  return out;
}

/** Imports a trace and simulates every policy over it. The spool is deleted before returning. */
export async function analyzeTrace(
  input: string | Readable,
  opts: AnalyzeOptions = {},
): Promise<TraceAnalysis> {
  const policySpecs = opts.policies ?? [];
  if (policySpecs.length > 0 && opts.fp === undefined) {
    throw new UserError(
      '--fp is required with --policy: a trace does not show FP use (markov:p=...,r=... or a guest workload)',
    );
  }
  const policies: Policy[] = [];
  for (const spec of policySpecs) policies.push(await resolvePolicy(spec));
  const cpu = cpuProfile(opts.cpu ?? 'seattle');
  const maxVcpus = opts.maxVcpus ?? 64;
  const seed = opts.seed ?? 1;
  // Without policies the FP model is unused: a model that never touches FP keeps the import uniform.
  const fp = traceFpModel(opts.fp ?? 'markov:p=0', { seed, maxVcpus });
  const imported = await importTrace(input, {
    fp,
    userExits: exitClassCodes(opts.userExits ?? [], '--user-exits'),
    pcpu: opts.pcpu,
    skipBad: opts.skipBad,
    maxVcpus,
    statTime: opts.statTime,
  });
  try {
    const view = opts.statView ?? {};
    const vcpus = imported.stats.vcpus;
    if (view.vcpu !== undefined && !vcpus.includes(view.vcpu))
      throw new UserError(
        `--vcpu ${view.vcpu}: the trace has ${vcpus.length ? `vCPU threads ${vcpus.join(', ')}` : 'no vCPU runs'}`,
      );
    const simOpts = { cpu, fpState: opts.fpState ?? FPSIMD };
    const results = policies.map((p) => simulate(p, imported.stream, simOpts));
    const intervals = policies.map((p) =>
      opts.intervals !== true ? null : traceInterval(p, imported.stream, simOpts, seed),
    );
    return {
      file: imported.file,
      fp: opts.fp === undefined ? 'none' : fp.description,
      counts: imported.counts,
      threads: imported.threads,
      firstBad: imported.firstBad,
      stats: {
        time: imported.stats.time,
        rows: imported.stats.rows(view),
        totalUs: imported.stats.totalUsOf(view.vcpu),
        text: imported.stats.format(
          view,
          imported.threads.map((t) => `${t.comm}-${t.tid}`),
        ),
      },
      results,
      intervals,
    };
  } finally {
    imported.dispose();
  }
}
