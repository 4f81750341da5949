/** Runs the CLI in-process and captures what it prints. */

import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { resultJson } from '../../src/cli/simulate.js';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: readonly string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi
    .spyOn(console, 'log')
    .mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      out.push(
        typeof chunk === 'string' ? chunk.replace(/\n$/, '') : Buffer.from(chunk).toString(),
      );
      return true;
    });
  try {
    const code = await main(argv);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

/** `fpswitch simulate --json` for one policy (with `--seeds`, the seed list and intervals). */
export type SimulateJson = ReturnType<typeof resultJson> & {
  seeds?: number[];
  intervals?: Record<string, { mean: number; lo: number; hi: number; n: number }>;
};

/** `fpswitch list --json`. */
export interface ListJson {
  policies: { name: string; params: Record<string, { default: number }> }[];
  workloads: { name: string; kind: string }[];
  cpus: { name: string }[];
}

/** `fpswitch simulate --json` output: one object, or an array with several policies. */
export function simulateJson(stdout: string): SimulateJson {
  return JSON.parse(stdout) as SimulateJson;
}

/** The arguments of `fpswitch simulate --workload W --policy P... --runs N`, then `rest`. */
export function simulateArgs(
  workload: string,
  policies: string | readonly string[],
  runs: number,
  ...rest: string[]
): string[] {
  const ps = typeof policies === 'string' ? [policies] : policies;
  return [
    'simulate',
    '--workload',
    workload,
    ...ps.flatMap((p) => ['--policy', p]),
    '--runs',
    String(runs),
    ...rest,
  ];
}

/** Runs `fpswitch simulate` with `simulateArgs`' arguments. */
export function runSimulate(
  workload: string,
  policies: string | readonly string[],
  runs: number,
  ...rest: string[]
): Promise<CliRun> {
  return runCli(simulateArgs(workload, policies, runs, ...rest));
}
