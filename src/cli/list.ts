/** `fpswitch list`: the built-in policies, workloads and CPU profiles. */

import { BUILTIN_CPUS } from '../cpu/profiles.js';
import { BUILTIN_POLICIES } from '../policy/registry.js';
import { workloadTemplate } from '../stream/guest-configs.js';
import { builtinWorkloadNames, resolveWorkload } from '../stream/workload.js';
import { table } from '../util/format.js';
import { parse } from './args.js';

export const LIST_HELP = `Usage: fpswitch list [--json]

Lists the built-in world-switch policies (with their parameters), workloads and CPU
profiles. A policy or workload can also be given as a path wherever a name is accepted.

Parametrised workloads take their guest configuration like policies take parameters
(\`fpswitch list --json\` gives each parameter's range and meaning).

Examples:
  fpswitch list
  fpswitch list --json | jq '.policies[].name'
  fpswitch simulate --workload hackbench:vcpus=2,groups=2,loops=200 --policy lazy-fixed`;

/** Each parameter's description as a plain object (JSON output). */
function copyParams<P extends object>(params: Readonly<Record<string, P>>): Record<string, P> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { ...v }]));
}

/** `key=default,...` of a parameter list, or `-` without parameters. */
function defaultsText(params: Readonly<Record<string, { readonly default: number }>>): string {
  return (
    Object.entries(params)
      .map(([k, v]) => `${k}=${v.default}`)
      .join(',') || '-'
  );
}

/** The built-in policies, workloads and CPU profiles with their parameters, as plain data. */
function catalogue() {
  const policies = BUILTIN_POLICIES.map((p) => ({
    name: p.name,
    summary: p.summary,
    models: p.models,
    params: copyParams(p.params ?? {}),
  }));
  const workloads = builtinWorkloadNames().map((name) => {
    const { workload, file } = resolveWorkload(name);
    const params = workloadTemplate(name)?.params ?? {};
    return {
      name,
      kind: workload.kind,
      description: workload.description ?? '',
      file,
      params: copyParams(params),
    };
  });
  const cpus = BUILTIN_CPUS.map((c) => ({
    name: c.name,
    title: c.title,
    clockGHz: c.clockGHz.value,
    description: c.description,
  }));
  return { policies, workloads, cpus };
}

/** The catalogue as three terminal tables. */
function printCatalogue({ policies, workloads, cpus }: ReturnType<typeof catalogue>): void {
  console.log('Policies (name[:key=value,...]):');
  console.log(
    table(
      ['name', 'parameters', 'summary'],
      policies.map((p) => [p.name, defaultsText(p.params), p.summary]),
    ),
  );
  console.log('\nWorkloads (name[:key=value,...]):');
  console.log(
    table(
      ['name', 'kind', 'parameters', 'description'],
      workloads.map((w) => [w.name, w.kind, defaultsText(w.params), w.description]),
    ),
  );
  console.log('\nCPU profiles:');
  console.log(
    table(
      ['name', 'GHz', 'title'],
      cpus.map((c) => [c.name, c.clockGHz.toFixed(1), c.title]),
    ),
  );
}

export function listCommand(argv: readonly string[]): number {
  const { values } = parse('list', argv, {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(LIST_HELP);
    return 0;
  }
  const all = catalogue();
  if (values.json) console.log(JSON.stringify(all, null, 2));
  else printCatalogue(all);
  return 0;
}
