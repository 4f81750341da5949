/**
 * The `fpswitch` command: dispatches to subcommands; user mistakes print one line and
 * exit 2, internal errors print the stack and exit 1.
 */

import { errorLine, FindingError, isUserError, userText } from '../util/errors.js';
import { fit } from '../util/format.js';
import { toolVersion } from '../util/version.js';
/** A command's module, imported only when that command runs (a fast start for `list`). */
interface CommandModule {
  run: (argv: readonly string[]) => Promise<number>;
  help: string;
}

type Command = { load: () => Promise<CommandModule>; summary: string };

/** A command whose module `load` imports, `pick` finds its entry point and help in. */
function lazyCommand<M>(
  summary: string,
  load: () => Promise<M>,
  pick: (m: M) => CommandModule,
): Command {
  return { load: async () => pick(await load()), summary };
}

const COMMANDS: Record<string, Command> = {
  check: lazyCommand(
    'model-check world-switch policies: shortest counterexample or a clean fixpoint',
    () => import('./check.js'),
    (m) => ({ run: m.checkCommand, help: m.CHECK_HELP }),
  ),
  compare: lazyCommand(
    'compare two bench reports: per-cell change with intervals, regressions for CI',
    () => import('./compare.js'),
    (m) => ({ run: m.compareCommand, help: m.COMPARE_HELP }),
  ),
  list: lazyCommand(
    'list built-in policies, workloads and CPU profiles',
    () => import('./list.js'),
    (m) => ({ run: (argv) => Promise.resolve(m.listCommand(argv)), help: m.LIST_HELP }),
  ),
  simulate: lazyCommand(
    'simulate policies over a workload on a CPU profile',
    () => import('./simulate.js'),
    (m) => ({ run: m.simulateCommand, help: m.SIMULATE_HELP }),
  ),
  import: lazyCommand(
    'import a perf/trace-cmd kvm_entry/kvm_exit trace: exit mix and simulation',
    () => import('./import.js'),
    (m) => ({ run: m.importCommand, help: m.IMPORT_HELP }),
  ),
  sensitivity: lazyCommand(
    'how guest workload parameters move the skip rate, against the 30-50% claim',
    () => import('./sensitivity.js'),
    (m) => ({ run: m.sensitivityCommand, help: m.SENSITIVITY_HELP }),
  ),
  tune: lazyCommand(
    'sweep policy parameters (adaptive threshold) and find the break-even',
    () => import('./tune.js'),
    (m) => ({ run: m.tuneCommand, help: m.TUNE_HELP }),
  ),
};

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
    const asked = rest.at(0);
    const topic =
      name === 'help' && asked !== undefined && Object.hasOwn(COMMANDS, asked)
        ? COMMANDS[asked]
        : undefined;
    if (topic) console.log((await topic.load()).help);
    else console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    console.log(`fpswitch ${toolVersion()}`);
    return 0;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    console.error(
      errorLine(
        `fpswitch: unknown command "${userText(name)}" (commands: ${Object.keys(COMMANDS).join(', ')})`,
      ),
    );
    return 2;
  }
  // Text output fits the terminal: a line too wide is word-wrapped (tables fit on their
  // own, see format.ts table). JSON and Markdown are left exactly as written.
  const log = console.log;
  if (!rest.includes('--json') && !rest.includes('--markdown'))
    console.log = (...a: unknown[]) => {
      log(fit(a.map(String).join(' ')));
    };
  try {
    return await (await cmd.load()).run(rest);
  } catch (e) {
    if (isUserError(e)) {
      console.error(errorLine(`fpswitch ${name}: ${e.message}`));
      return 2;
    }
    if (e instanceof FindingError) {
      console.error(errorLine(`fpswitch ${name}: ${e.message}`));
      return 1;
    }
    throw e;
  } finally {
    console.log = log;
  }
}

/**
 * Runs the CLI on this process's arguments and sets the exit code: the entry of the
 * `fpswitch` bin (bin/fpswitch.js) and of `npm run fpswitch`.
 */
export function runAsCommand(): void {
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

// Run directly (`node --import tsx src/cli/main.ts`, `node dist/src/cli/main.js`).
const script = process.argv.at(1);
if (script !== undefined && /[\\/]cli[\\/]main\.[jt]s$/.test(script)) {
  runAsCommand();
}
