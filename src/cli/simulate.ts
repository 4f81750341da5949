/** `fpswitch simulate`: a policy on a CPU profile over a workload's exit stream. */

import { cpuProfile } from '../cpu/profiles.js';
import { fpStateBytes, parseVectorLength } from '../cpu/fp-state.js';
import { resolvePolicy } from '../policy/registry.js';
import { seedEstimates } from '../sim/seeds.js';
import { CYCLE_COMPONENTS, type Engine, type SimResult, simulate } from '../sim/simulate.js';
import { claimCheck, claimLine } from '../stream/claim.js';
import type { ExitStream } from '../stream/exit-stream.js';
import { deriveSeed } from '../stream/prng.js';
import { resolveWorkload, workloadStream } from '../stream/workload.js';
import { UserError } from '../util/errors.js';
import { num, pct, table } from '../util/format.js';
import { estimate, type Estimate, SHARE } from '../util/stats.js';
import { intFlag, parse, seedFlag } from './args.js';
import { announceSlowWork } from './slow-work.js';

export const SIMULATE_HELP = `Usage: fpswitch simulate --workload <name|path> --policy <name|path>[:key=value,...]
                         [--policy ...] [--cpu <name>] [--vl <bits>] [--runs N] [--seed S]
                         [--seeds K] [--engine table|direct] [--json]

Simulates world-switch policies over a workload's exit stream on a CPU cost profile and
reports the share of exits that skip the FP/SIMD switch, FP traps, saves, restores, bytes
moved and cycles per exit by component.

  --workload   built-in workload name (fpswitch list), with the guest configuration for
               a parametrised one (hackbench:vcpus=2,groups=2,loops=200), or path to a
               workload JSON file
  --policy     built-in policy, optionally with parameters (adaptive:threshold=4), or a
               path to a .ts/.js policy module; repeat for several policies
  --cpu        CPU profile (default seattle)
  --vl         SVE vector length in bits (128..2048, multiple of 128); default FPSIMD
  --runs       guest runs (exits) per seed (default 1,000,000)
  --seed       base seed (default 1)
  --seeds      independent seeds; with more than one, every figure gets a 95% interval
  --engine     table (compiled table walk, default) or direct (hooks run by run)
  --json       one JSON object per policy (an array when several policies are given)

Examples:
  fpswitch simulate --workload hackbench --policy lazy-fixed --cpu altra
  fpswitch simulate --workload hackbench:vcpus=2,groups=2,loops=200 --policy lazy-fixed --json
  fpswitch simulate --workload hackbench -p eager -p lazy-fixed -p lazy-vcpu --seeds 5
  fpswitch simulate --workload ./my-guest.json --policy adaptive:threshold=4 --vl 512 --json`;

/** The JSON shape of one simulate result (issue 2 field names). */
export function resultJson(r: SimResult, seed: number, extra: Record<string, unknown> = {}) {
  return {
    workload: r.workload,
    policy: r.policy,
    cpu: r.cpu,
    fpState: r.fpState,
    seed,
    runs: r.runs,
    skipRate: r.skipRate,
    skippedRuns: r.skippedRuns,
    counters: r.counters,
    cycles: {
      total: r.cycles.total,
      perExit: r.cycles.perExit,
      components: r.cycles.components,
      perExitByComponent: r.cycles.perExitByComponent,
    },
    guestSeconds: r.guestNs / 1e9,
    exitsPerGuestSecond: r.exitsPerGuestSecond,
    fpUse: r.fpUse,
    exitMix: r.exitMix,
    table: r.table,
    ...extra,
  };
}

interface SeedSummary {
  skipRate: Estimate;
  perExit: Estimate;
  fpTrapsPerExit: Estimate;
}

/** The seed estimates under the names `--json` has always used (`perExit`). */
function summarizeSeeds(results: readonly SimResult[]): SeedSummary {
  const e = seedEstimates(results);
  return { skipRate: e.skipRate, perExit: e.cyclesPerExit, fpTrapsPerExit: e.fpTrapsPerExit };
}

function interval(e: Estimate, f: (x: number) => string): string {
  return e.n > 1 ? `${f(e.mean)}  [95% CI ${f(e.lo)} .. ${f(e.hi)}, ${e.n} seeds]` : f(e.mean);
}

interface SideItem {
  readonly r: SimResult;
  readonly s?: SeedSummary;
  readonly claim?: string;
}

/** A figure with its seed interval when there is one: `12.3% (11.9 .. 12.7)`. */
function withCi(e: Estimate | undefined, v: number, f: (x: number) => string): string {
  return e && e.n > 1 ? `${f(e.mean)} (${f(e.lo)}..${f(e.hi)})` : f(v);
}

/**
 * Several policies over one stream, side by side: one column per policy, one row per
 * figure; the stream's own properties (FP use, exit mix) once below.
 */
function formatSideBySide(items: readonly SideItem[], seed: number, fpBytes: number): string {
  const r0 = items[0].r;
  const per = (r: SimResult, x: number) => (r.runs ? x / r.runs : 0);
  const row = (label: string, f: (x: SideItem) => string) => [label, ...items.map(f)];
  const rows = [
    row('skip rate', (x) => withCi(x.s?.skipRate, x.r.skipRate, (v) => pct(v))),
    row('FP traps / exit', (x) =>
      withCi(x.s?.fpTrapsPerExit, per(x.r, x.r.counters.fpTraps), (v) => v.toFixed(4)),
    ),
    row('FP saves / exit', (x) => per(x.r, x.r.counters.fpSaves).toFixed(3)),
    row('FP restores / exit', (x) => per(x.r, x.r.counters.fpRestores).toFixed(3)),
    row('bytes / exit', (x) => num(per(x.r, x.r.counters.bytesMoved), 1)),
    row('ISBs / exit', (x) => per(x.r, x.r.counters.isbs).toFixed(3)),
    row('cycles / exit', (x) => withCi(x.s?.perExit, x.r.cycles.perExit, (v) => num(v, 1))),
    ...CYCLE_COMPONENTS.map((c) => row(`  ${c}`, (x) => num(x.r.cycles.perExitByComponent[c], 1))),
  ];
  const out = [
    `workload ${r0.workload}, cpu ${r0.cpu} (${r0.fpState}, ${fpBytes} B), ${num(r0.runs)} runs, seed ${seed}${items[0].s ? `; (lo..hi): 95% interval over ${items[0].s.skipRate.n} seeds` : ''}`,
    table(['', ...items.map((x) => x.r.policy)], rows, { indent: '  ' }),
  ];
  for (const x of items) if (x.claim) out.push(x.claim);
  out.push(
    `  guest FP use: EL0 ${pct(r0.fpUse.el0)}, EL1 ${pct(r0.fpUse.el1)}, FPEXC ${pct(r0.fpUse.fpexc)}, any ${pct(r0.fpUse.any)} of runs${r0.guestNs > 0 ? `; ${num(r0.exitsPerGuestSecond)} exits per second of guest time` : ''}`,
    '  exit mix (the same stream for every policy):',
    table(
      ['exit', 'handled', 'runs', 'share'],
      r0.exitMix.slice(0, 12).map((e) => [e.exit, e.handled, num(e.runs), pct(e.runs / r0.runs)]),
      { indent: '    ' },
    ),
  );
  return out.join('\n');
}

export function formatResult(
  r: SimResult,
  seed: number,
  s?: SeedSummary,
  fpBytes?: number,
): string {
  const per = (x: number) => (r.runs ? x / r.runs : 0);
  const lines = [
    `workload ${r.workload}, policy ${r.policy}, cpu ${r.cpu} (${r.fpState}${fpBytes ? `, ${fpBytes} B` : ''}), ${num(r.runs)} runs, seed ${seed}`,
    `  skip rate          ${s ? interval(s.skipRate, (x) => pct(x)) : pct(r.skipRate)}  (exits with no FP/SIMD save or restore)`,
    `  FP traps           ${num(r.counters.fpTraps)}  (${s ? interval(s.fpTrapsPerExit, (x) => x.toFixed(4)) : per(r.counters.fpTraps).toFixed(4)} per exit)`,
    `  FP saves/restores  ${num(r.counters.fpSaves)} / ${num(r.counters.fpRestores)}  (${per(r.counters.fpSaves).toFixed(3)} / ${per(r.counters.fpRestores).toFixed(3)} per exit)`,
    `  bytes moved        ${num(r.counters.bytesMoved)}`,
    `  ISBs, CPTR/FPEXC32 ${num(r.counters.isbs)} ISBs, ${num(r.counters.sysregWrites)} msr, ${num(r.counters.sysregReads)} mrs, ${num(r.counters.fpexc32Accesses)} FPEXC32_EL2 accesses`,
  ];
  if (r.counters.fpexcOnlyTraps > 0)
    lines.push(
      `  FPEXC-only traps   ${num(r.counters.fpexcOnlyTraps)}  (the AArch32 guest kernel toggling FPEXC.EN)`,
    );
  lines.push(
    `  cycles per exit    ${s ? interval(s.perExit, (x) => num(x, 1)) : num(r.cycles.perExit, 1)}`,
  );
  for (const c of CYCLE_COMPONENTS)
    lines.push(`    ${c.padEnd(16)} ${num(r.cycles.perExitByComponent[c], 1).padStart(10)}`);
  lines.push(
    `  guest FP use       EL0 ${pct(r.fpUse.el0)}, EL1 ${pct(r.fpUse.el1)}, FPEXC ${pct(r.fpUse.fpexc)}, any ${pct(r.fpUse.any)} of runs`,
  );
  if (r.guestNs > 0) lines.push(`  exits per second   ${num(r.exitsPerGuestSecond)} of guest time`);
  lines.push('  exit mix:');
  lines.push(
    table(
      ['exit', 'handled', 'runs', 'share'],
      r.exitMix.slice(0, 12).map((e) => [e.exit, e.handled, num(e.runs), pct(e.runs / r.runs)]),
      { indent: '    ' },
    ),
  );
  return lines.join('\n');
}

/** The command line of `fpswitch simulate`, parsed (unknown flags are a UserError). */
function parseSimulate(argv: readonly string[]) {
  return parse('simulate', argv, {
    workload: { type: 'string', short: 'w' },
    policy: { type: 'string', short: 'p', multiple: true },
    cpu: { type: 'string', short: 'c' },
    vl: { type: 'string' },
    runs: { type: 'string', short: 'n' },
    seed: { type: 'string', short: 's' },
    seeds: { type: 'string' },
    engine: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
}

/** The flags checked and resolved, in the order a user reads them: the first mistake is the one reported. */
function simulateSettings(values: ReturnType<typeof parseSimulate>['values']) {
  if (!values.workload)
    throw new UserError('--workload is required (see fpswitch simulate --help)');
  // Not split on commas: a policy's parameters are comma-separated.
  const policySpecs = (values.policy ?? []).map((p) => p.trim()).filter((p) => p !== '');
  if (policySpecs.length === 0)
    throw new UserError('--policy is required (see fpswitch simulate --help)');
  const engine = values.engine ?? 'table';
  if (engine !== 'table' && engine !== 'direct')
    throw new UserError(`--engine ${engine}: expected table or direct`);
  const cpu = cpuProfile(values.cpu ?? 'seattle');
  const fpState = parseVectorLength(values.vl);
  const runs = intFlag('runs', values.runs, 1_000_000, 1, 1e12);
  const seed = seedFlag(values.seed);
  const seeds = intFlag('seeds', values.seeds, 1, 1, 1000);
  const { workload } = resolveWorkload(values.workload);
  const checkedEngine: Engine = engine;
  return { policySpecs, engine: checkedEngine, cpu, fpState, runs, seed, seeds, workload };
}

export async function simulateCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseSimulate(argv);
  if (values.help) {
    console.log(SIMULATE_HELP);
    return 0;
  }
  const { policySpecs, engine, cpu, fpState, runs, seed, seeds, workload } =
    simulateSettings(values);
  const policies = [];
  for (const spec of policySpecs) policies.push(await resolvePolicy(spec));
  const slow = announceSlowWork(workload, seed, runs * seeds * policies.length);
  const out: unknown[] = [];
  const text: string[] = [];
  const side: SideItem[] = [];
  for (const policy of policies) {
    const perSeed: SimResult[] = [];
    const seedList: number[] = [];
    for (let k = 0; k < seeds; k++) {
      const watched = slow ?? ((x: ExitStream) => x);
      // Seed k of a multi-seed run: the first is the base seed itself, so --seeds 1 == --seed.
      const s = k === 0 ? seed : deriveSeed(seed, k);
      seedList.push(s);
      perSeed.push(
        simulate(policy, watched(workloadStream(workload, { runs, seed: s })), {
          cpu,
          fpState,
          engine,
        }),
      );
    }
    const summary = seeds > 1 ? summarizeSeeds(perSeed) : undefined;
    const claim = claimCheck(
      workload.name,
      policy.definition.name,
      summary?.skipRate ?? estimate([perSeed[0].skipRate], SHARE),
    );
    if (values.json) {
      const extra: Record<string, unknown> = {};
      if (summary) {
        extra.seeds = seedList;
        extra.intervals = summary;
        extra.perSeed = perSeed.map((r, i) => resultJson(r, seedList[i]));
      }
      if (claim) extra.claimCheck = claim;
      out.push(resultJson(perSeed[0], seed, extra));
    } else {
      side.push({ r: perSeed[0], s: summary, claim: claim ? claimLine(claim) : undefined });
      text.push(formatResult(perSeed[0], seed, summary, fpStateBytes(fpState)));
      if (claim) text.push(claimLine(claim));
      if (summary)
        text.push(
          `  (per-seed counters above are for seed ${seed}; intervals over ${seeds} seeds)`,
        );
    }
  }
  if (values.json) console.log(JSON.stringify(out.length === 1 ? out[0] : out, null, 2));
  else if (side.length > 1) console.log(formatSideBySide(side, seed, fpStateBytes(fpState)));
  else console.log(text.join('\n\n'));
  return 0;
}
