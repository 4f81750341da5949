/**
 * The suite's own measurements, each in processes or threads of its own: walk, bare loop
 * and generation per workload stream (child processes running `tp-child.ts`), the CLI's
 * start time (the package's bin as a user runs it), worker scaling on the suite's units
 * (fresh pools of 1 and 2 workers), and the memory of a default simulate run.
 */

import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Throughput } from '../src/report/results.js';
import { freshCompiled } from './compiled.js';
import { Pool } from './pool.js';
import type { TaskRequest } from './tasks.js';
import type { StreamThroughput, StreamThroughputOptions } from './throughput.js';

const run = promisify(execFile);
const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');

/**
 * The node arguments that run a bench script: its compiled form when dist/ is up to date
 * (a child starts in ~0.1 s), else the TypeScript through tsx (~0.7 s).
 */
function scriptArgv(script: string): string[] {
  const compiled = freshCompiled(script);
  return compiled ? [fileURLToPath(compiled)] : ['--import', 'tsx', resolve(BENCH, `${script}.ts`)];
}

/** `node <bench script> <args>` (compiled or through tsx), its stdout. */
async function benchChild(script: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [...scriptArgv(script), ...args], {
    cwd: ROOT,
    maxBuffer: 64 << 20,
  });
  return stdout;
}

/**
 * Walk, bare loop and generation over each workload's own stream: one child process per
 * workload (per `group` workloads: --quick groups them all in one to save start-ups).
 */
export async function measureStreams(
  workloads: readonly { name: string; file: string }[],
  policies: readonly string[],
  o: StreamThroughputOptions & { group: number },
  step: () => void,
): Promise<StreamThroughput[]> {
  const out: StreamThroughput[] = [];
  for (let i = 0; i < workloads.length; i += o.group) {
    const batch = workloads.slice(i, i + o.group);
    const req = { ...o, workloads: batch, policies };
    out.push(
      ...(JSON.parse(await benchChild('tp-child', [JSON.stringify(req)])) as StreamThroughput[]),
    );
    batch.forEach(() => {
      step();
    });
  }
  return out;
}

/** Every built-in policy checked in both configurations, alone in a child process. */
export async function measureCheck(): Promise<{
  seconds: number;
  cpuSeconds: number;
  verdicts: {
    policy: string;
    config: string;
    verdict: string;
    seconds: number;
    states: number;
    covers: string;
  }[];
}> {
  return JSON.parse(await benchChild('check-child', [])) as Awaited<
    ReturnType<typeof measureCheck>
  >;
}

/** The package's bin, from package.json `bin` (whatever it points at: TypeScript or compiled). */
function packageBin(): string {
  const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.fpswitch;
  if (!bin) throw new Error('package.json has no bin for fpswitch');
  return resolve(ROOT, bin);
}

/** Wall time of one process from spawn to exit. */
function timeProcess(argv: readonly string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, argv, { cwd: ROOT, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited with ${r.status}`);
  return (performance.now() - t) / 1000;
}

/** CLI start: `node <bin> list` and a 1 M-run simulate, `node -e 0` beside them; best of `repeats`. */
export function measureCliStart(repeats: number): NonNullable<Throughput['cliStart']> {
  const bin = packageBin();
  const commands = [
    { command: 'list' as const, argv: ['list'] },
    {
      command: 'simulate' as const,
      argv: ['simulate', '--workload', 'hackbench', '--policy', 'lazy-fixed', '--runs', '1000000'],
    },
  ];
  const best = (argv: readonly string[]) =>
    Math.min(...Array.from({ length: repeats }, () => timeProcess(argv)));
  return {
    bin: bin.slice(ROOT.length + 1),
    repeats,
    nodeSeconds: round(best(['-e', '0'])),
    commands: commands.map((c) => ({ ...c, seconds: round(best([bin, ...c.argv])) })),
  };
}

const round = (x: number) => Number(x.toFixed(3));

/**
 * Worker scaling on the suite's own units: the same list of units on a fresh pool of 1
 * worker and of 2, alternately, `repeats` times (each pool first runs one unit per worker
 * to start its threads). The best ratio is the one least disturbed by other load.
 */
export async function measureScaling(
  units: readonly TaskRequest[],
  repeats: number,
): Promise<NonNullable<Throughput['workerScaling']>> {
  const pools = [new Pool(1), new Pool(2)];
  const times: number[][] = [[], []];
  try {
    for (const pool of pools) {
      await Promise.all(units.slice(0, pool.size).map((u) => pool.run(u)));
    }
    for (let r = 0; r < repeats; r++) {
      for (let p = 0; p < pools.length; p++) {
        const s = performance.now();
        await Promise.all(units.map((u) => pools[p].run(u)));
        times[p].push((performance.now() - s) / 1000);
      }
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  const speedups = times[0].map((t1, r) => round(t1 / times[1][r]));
  const best = speedups.indexOf(Math.max(...speedups));
  return {
    units: units.length,
    workers1Seconds: round(times[0][best]),
    workers2Seconds: round(times[1][best]),
    speedup: speedups[best],
    speedups,
    loadAverage: round(loadavg()[0]),
  };
}

/** Peak RSS of a default simulate run (adaptive on the mixed stream) in a child, at each length. */
export function measureMemory(lengths: readonly number[]): Throughput['memory'] {
  return lengths.map((runs) => {
    const out = execFileSync(
      process.execPath,
      [...scriptArgv('rss-probe'), 'mixed-aarch32-aarch64', 'adaptive', String(runs)],
      { encoding: 'utf8', cwd: ROOT },
    );
    const j = JSON.parse(out) as { runs: number; maxRssMiB: number };
    return {
      workload: 'mixed-aarch32-aarch64',
      policy: 'adaptive',
      runs: j.runs,
      maxRssMiB: Number(j.maxRssMiB.toFixed(1)),
    };
  });
}
