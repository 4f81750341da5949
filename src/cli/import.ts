/** `fpswitch import`: a real KVM arm64 trace into an exit stream, simulated and/or summarised like `perf kvm stat`. */

import { fpStateBytes, parseVectorLength } from '../cpu/fp-state.js';
import { type AnalyzeOptions, analyzeTrace, type TraceAnalysis } from '../sim/trace-analyze.js';
import { MAX_BACKLOG } from '../stream/trace-import.js';
import { UserError } from '../util/errors.js';
import { num } from '../util/format.js';
import { intFlag, listFlag, parse, seedFlag } from './args.js';
import { formatResult, resultJson } from './simulate.js';

export const IMPORT_HELP = `Usage: fpswitch import <file|-> [--fp <model>] [--policy <name|path>[:key=value,...]]...
                       [--cpu <name>] [--vl <bits>] [--stats] [--stats-time run|handled]
                       [--user-exits <class,...>] [--pcpu N] [--skip-bad] [--max-vcpus N]
                       [--seed S] [--json]

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
                Samples%, Time%, Min Time, Max Time, Avg time)
  --stats-time  run (default): guest run time, kvm_entry to kvm_exit; handled: the time
                from kvm_exit to the next kvm_entry (perf kvm stat's own meaning)
  --user-exits  exit classes handled in host userspace when the trace has no
                kvm_userspace_exit event saying so (default: none; all in the kernel)
  --pcpu        keep only events recorded on this physical CPU (the stream models one CPU)
  --skip-bad    count malformed lines and carry on (default: stop with file:line: reason)
  --max-vcpus   most vCPU threads accepted (default 64)
  --seed        seed of the FP model (default 1)
  --json        one JSON object`;

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

// eslint-disable-next-line max-lines-per-function -- not split yet (left out on branch lint for time); this command's output is reworked on branch report
export async function importCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(
    'import',
    argv,
    {
      fp: { type: 'string' },
      policy: { type: 'string', short: 'p', multiple: true },
      cpu: { type: 'string', short: 'c' },
      vl: { type: 'string' },
      stats: { type: 'boolean' },
      'stats-time': { type: 'string' },
      'user-exits': { type: 'string', multiple: true },
      pcpu: { type: 'string' },
      'skip-bad': { type: 'boolean' },
      'max-vcpus': { type: 'string' },
      seed: { type: 'string', short: 's' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
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
  const statTime = values['stats-time'] ?? 'run';
  if (statTime !== 'run' && statTime !== 'handled')
    throw new UserError(`--stats-time ${statTime}: expected run or handled`);
  const fpState = parseVectorLength(values.vl);
  const opts: AnalyzeOptions = {
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
  };
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
          results: a.results.map((r) => resultJson(r, seed)),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const out = countsText(a);
  if (values.stats) out.push('', a.stats.text);
  for (const r of a.results) out.push('', formatResult(r, seed, undefined, fpStateBytes(fpState)));
  console.log(out.join('\n'));
  return 0;
}
