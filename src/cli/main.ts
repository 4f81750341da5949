/**
 * The `fpswitch` command: dispatches to subcommands; user mistakes print one line and
 * exit 2, internal errors print the stack and exit 1.
 */

import { isUserError } from '../util/errors.js';
import { toolVersion } from '../util/version.js';
import { CHECK_HELP, checkCommand } from './check.js';
import { IMPORT_HELP, importCommand } from './import.js';
import { LIST_HELP, listCommand } from './list.js';
import { SENSITIVITY_HELP, sensitivityCommand } from './sensitivity.js';
import { SIMULATE_HELP, simulateCommand } from './simulate.js';
import { TUNE_HELP, tuneCommand } from './tune.js';

type Command = {
  run: (argv: readonly string[]) => number | Promise<number>;
  summary: string;
  help: string;
};

const COMMANDS: Record<string, Command> = {
  check: {
    run: checkCommand,
    summary: 'model-check world-switch policies: shortest counterexample or a clean fixpoint',
    help: CHECK_HELP,
  },
  list: {
    run: listCommand,
    summary: 'list built-in policies, workloads and CPU profiles',
    help: LIST_HELP,
  },
  simulate: {
    run: simulateCommand,
    summary: 'simulate policies over a workload on a CPU profile',
    help: SIMULATE_HELP,
  },
  import: {
    run: importCommand,
    summary: 'import a perf/trace-cmd kvm_entry/kvm_exit trace: exit mix and simulation',
    help: IMPORT_HELP,
  },
  sensitivity: {
    run: sensitivityCommand,
    summary: 'how guest workload parameters move the skip rate, against the 30-50% claim',
    help: SENSITIVITY_HELP,
  },
  tune: {
    run: tuneCommand,
    summary: 'sweep policy parameters (adaptive threshold) and find the break-even',
    help: TUNE_HELP,
  },
};

/** The command called `name`; undefined for anything else (`constructor` included). */
function command(name: string): Command | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'Usage: fpswitch <command> [options]',
    '',
    'A cost model, simulator and model checker for FP/SIMD context switching in',
    'hypervisor world switches (KVM arm64 and its 2015 lazy switch).',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'fpswitch <command> --help' for a command's options.",
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const name = argv.at(0);
  const rest = argv.slice(1);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? command(rest.at(0) ?? '') : undefined;
    console.log(topic ? topic.help : usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    console.log(`fpswitch ${toolVersion()}`);
    return 0;
  }
  const cmd = command(name);
  if (!cmd) {
    console.error(
      `fpswitch: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`,
    );
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (isUserError(e)) {
      console.error(`fpswitch ${name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

const script = process.argv.at(1);
const isEntry = script !== undefined && /(?:main\.ts|bin\.js|fpswitch)$/.test(script);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 1;
    },
  );
}
