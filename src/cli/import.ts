/** `fpswitch import`: a real KVM arm64 trace into an exit stream, simulated and/or summarised like `perf kvm stat`. */

import { FPSIMD, fpStateBytes, parseVectorLength } from '../cpu/fp-state.js';
import { type AnalyzeOptions, analyzeTrace, type TraceAnalysis } from '../sim/trace-analyze.js';
import { MAX_BACKLOG } from '../stream/trace-import.js';
import { UserError } from '../util/errors.js';
import { num, pct } from '../util/format.js';
import { STAT_KEYS, type StatKey } from '../stream/kvm-stat.js';
import { FEW_RUNS, type TraceInterval } from '../sim/trace-bootstrap.js';
import { intFlag, listFlag, type Options, parse, seedFlag } from './args.js';
import { formatResult, resultJson } from './simulate.js';

export const IMPORT_HELP = `Usage: fpswitch import <file|-> [--fp <model>] [--policy <name|path>[:key=value,...]]...
                       [--cpu <name>] [--vl <bits>] [--stats] [--event-time run|handled]
                       [--vcpu N] [--key sample|time|max|min|avg] [--user-exits <class,...>]
                       [--pcpu N] [--skip-bad] [--max-vcpus N] [--seed S] [--json]

Reads 'perf script', 'trace-cmd report' or tracefs text holding kvm:kvm_entry and
kvm:kvm_exit events (old and new formats; other events are ignored and counted), turns
each vCPU thread's runs (kvm_entry to the next kvm_exit) into an exit stream, and
simulates policies over it like 'fpswitch simulate'. '-' reads standard input. The text
is read line by line: any size, flat memory.

  --fp          FP model (a trace cannot show FP use): markov:p=<share>,r=<corr>[,aarch32=1]
                for a two-state chain per vCPU, or a guest workload name or path, whose
                task model decides each run's FP use from its real length and exit
  --policy      policy to simulate (repeatable); needs --fp
  --cpu         CPU profile (default seattle); --vl: SVE vector length in bits
  --stats       print the exit mix like 'perf kvm stat report' (VM-EXIT, Samples,
                Samples%, Time%, Min Time, Max Time, Avg time), exits completed in host
                userspace apart from those handled in the kernel, and one line per vCPU
  --event-time  run (default, perf kvm stat's meaning on arm64): guest run time, kvm_entry
                to kvm_exit; handled (its meaning on x86): kvm_exit to the next kvm_entry
  --vcpu        the table for one vCPU thread (numbered in order of appearance)
  --key         sort the table by sample (default), time, max, min or avg
  --user-exits  exit classes handled in host userspace when the trace has no
                kvm_userspace_exit event saying so (default: none; all in the kernel)
  --pcpu        keep only events recorded on this physical CPU (the stream models one CPU)
  --skip-bad    count malformed lines and carry on (default: stop with file:line: reason)
  --max-vcpus   most vCPU threads accepted (default 64)
  --seed        seed of the FP model (default 1)
  --json        one JSON object

Each policy's figures come with the number of runs they rest on and a 95% interval from a
block bootstrap over the runs (seeded by --seed); under 1,000 runs a warning says so.

Examples:
  fpswitch import trace.txt --stats
  fpswitch import trace.txt --stats --event-time handled --vcpu 0 --key max
  perf script | fpswitch import - --fp markov:p=0.3,r=0.5 -p lazy-fixed -p lazy-vcpu
  fpswitch import trace.txt --fp hackbench --policy eager --policy adaptive:threshold=4`;

function countsText(a: TraceAnalysis): string[] {
  const c = a.counts;
  const lines = [
    `trace ${a.file}: ${num(c.lines)} lines, ${num(c.runs)} guest runs from ${a.threads.length} vCPU thread${a.threads.length === 1 ? '' : 's'} (${a.threads.map((t) => `${t.comm}-${t.tid}`).join(', ')})`,
    `  events: ${num(c.entries)} kvm_entry, ${num(c.exits)} kvm_exit, ${num(c.userspaceExits)} kvm_userspace_exit; ignored: ${num(c.otherEvents)} other events, ${num(c.nonEventLines)} header/blank lines${c.otherCpuEvents ? `, ${num(c.otherCpuEvents)} events on other CPUs` : ''}`,
  ];
  const warn: string[] = [];
  if (c.badLines) warn.push(`${num(c.badLines)} bad lines skipped (first: ${a.firstBad})`);
  if (c.lostEvents)
    warn.push(`${num(c.lostEvents)} events lost by the tracer: runs around them are missing`);
  if (c.exitsWithoutEntry)
    warn.push(
      `${num(c.exitsWithoutEntry)} kvm_exit without an earlier kvm_entry (trace started mid-run)`,
    );
  if (c.entriesWithoutExit)
    warn.push(`${num(c.entriesWithoutExit)} kvm_entry without a kvm_exit (lost exits)`);
  if (c.runsDecidedEarly)
    warn.push(
      `${num(c.runsDecidedEarly)} runs emitted before their thread's next event (thread quiet while ${num(MAX_BACKLOG)} other runs arrived): whether a userspace exit or a vcpu_put followed them is not known`,
    );
  for (const w of warn) lines.push(`  note: ${w}`);
  lines.push(`  FP model: ${a.fp}`);
  return lines;
}

/** How many runs a policy's figures rest on, their bootstrap interval, and a warning when few. */
function sampleLines(runs: number, iv: TraceInterval | null): string[] {
  const lines = [
    iv
      ? `  rests on ${num(runs)} runs; 95% block-bootstrap interval (${iv.resamples} resamples of ${num(iv.blockRuns)}-run blocks): skip rate ${pct(iv.skipRate[0])} .. ${pct(iv.skipRate[1])}, cycles per exit ${num(iv.cyclesPerExit[0], 1)} .. ${num(iv.cyclesPerExit[1], 1)}`
      : `  rests on ${num(runs)} runs; no bootstrap interval (${runs < 2 ? 'too few runs' : 'trace too long to resample 50 times'})`,
  ];
  if (runs < FEW_RUNS)
    lines.push(
      `  warning: only ${num(runs)} runs (under ${num(FEW_RUNS)}): these figures describe this trace, not the workload`,
    );
  return lines;
}

const IMPORT_OPTIONS = {
  fp: { type: 'string' },
  policy: { type: 'string', short: 'p', multiple: true },
  cpu: { type: 'string', short: 'c' },
  vl: { type: 'string' },
  stats: { type: 'boolean' },
  'event-time': { type: 'string' },
  'stats-time': { type: 'string' },
  vcpu: { type: 'string' },
  key: { type: 'string' },
  'user-exits': { type: 'string', multiple: true },
  pcpu: { type: 'string' },
  'skip-bad': { type: 'boolean' },
  'max-vcpus': { type: 'string' },
  seed: { type: 'string', short: 's' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

type ImportValues = ReturnType<typeof parse<typeof IMPORT_OPTIONS>>['values'];

/** The analysis options from the flags; UserError (exit 2) for a bad value. */
function analyzeOptions(values: ImportValues, policies: string[]): AnalyzeOptions {
  // --stats-time: the earlier name of --event-time, still accepted.
  const timeFlag = values['event-time'] !== undefined ? 'event-time' : 'stats-time';
  const statTime = values['event-time'] ?? values['stats-time'] ?? 'run';
  if (statTime !== 'run' && statTime !== 'handled')
    throw new UserError(`--${timeFlag} ${statTime}: expected run or handled`);
  const key = values.key ?? 'sample';
  if (!(STAT_KEYS as readonly string[]).includes(key))
    throw new UserError(`--key ${key}: expected one of ${STAT_KEYS.join(', ')}`);
  const fpState = parseVectorLength(values.vl);
  return {
    fp: values.fp,
    policies,
    cpu: values.cpu,
    fpState,
    seed: seedFlag(values.seed),
    userExits: listFlag(values['user-exits']),
    pcpu: values.pcpu === undefined ? undefined : intFlag('pcpu', values.pcpu, 0, 0, 65535),
    skipBad: values['skip-bad'] === true,
    maxVcpus: intFlag('max-vcpus', values['max-vcpus'], 64, 1, 680),
    statTime,
    intervals: true,
    statView: {
      vcpu: values.vcpu === undefined ? undefined : intFlag('vcpu', values.vcpu, 0, 0, 679),
      key: key as StatKey,
    },
  };
}

export async function importCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse('import', argv, IMPORT_OPTIONS, true);
  if (values.help) {
    console.log(IMPORT_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UserError(
      `expected one trace file (or - for standard input), got ${positionals.length} (see fpswitch import --help)`,
    );
  }
  const policies = listFlag(values.policy);
  if (policies.length === 0 && !values.stats) {
    throw new UserError(
      'nothing to do: give --policy (with --fp) and/or --stats (see fpswitch import --help)',
    );
  }
  const opts = analyzeOptions(values, policies);
  const fpState = opts.fpState ?? FPSIMD;
  const a = await analyzeTrace(positionals[0], opts);
  const seed = opts.seed ?? 1;
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          file: a.file,
          fp: a.fp,
          counts: a.counts,
          firstBad: a.firstBad ?? null,
          threads: a.threads,
          stats: values.stats
            ? { time: a.stats.time, rows: a.stats.rows, totalUs: a.stats.totalUs }
            : undefined,
          results: a.results.map((r, i) => ({
            ...resultJson(r, seed),
            interval: a.intervals[i] ?? null,
          })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const out = countsText(a);
  if (values.stats) out.push('', a.stats.text);
  a.results.forEach((r, i) => {
    out.push('', formatResult(r, seed, undefined, fpStateBytes(fpState)));
    out.push(...sampleLines(r.runs, a.intervals[i] ?? null));
  });
  console.log(out.join('\n'));
  return 0;
}
