/**
 * `npm run bench`: every built-in policy on every CPU profile over the built-in
 * workloads, the calibration table (model vs published anchors), and the simulator's
 * throughput against a bare loop. Progress goes to stderr, results to stdout.
 */

import { BUILTIN_CPUS } from '../src/cpu/profiles.js';
import { num, pct, table } from '../src/cli/format.js';
import { BUILTIN_POLICIES, instantiate } from '../src/policy/registry.js';
import { simulate } from '../src/sim/simulate.js';
import { markovStream, MarkovWorkloadSchema } from '../src/stream/markov.js';
import { builtinWorkloadNames, resolveWorkload, workloadStream } from '../src/stream/workload.js';
import { calibrate } from './calibration.js';
import { measureWalk } from './throughput.js';

const RUNS = 200_000;
const SEED = 1;

function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const policies = BUILTIN_POLICIES.map((d) => instantiate(d, Object.fromEntries(Object.entries(d.params ?? {}).map(([k, v]) => [k, v.default]))));

  progress(`simulating ${policies.length} policies x ${BUILTIN_CPUS.length} CPUs x ${builtinWorkloadNames().length} workloads, ${num(RUNS)} runs each`);
  const rows: string[][] = [];
  for (const name of builtinWorkloadNames()) {
    const { workload } = resolveWorkload(name);
    for (const cpu of BUILTIN_CPUS) {
      for (const policy of policies) {
        const r = simulate(policy, workloadStream(workload, { runs: RUNS, seed: SEED }), { cpu });
        rows.push([
          name,
          cpu.name,
          policy.id,
          pct(r.skipRate),
          num((1000 * r.counters.fpTraps) / r.runs, 1),
          num(r.cycles.perExit, 1),
          num(r.cycles.perExitByComponent.fpSave + r.cycles.perExitByComponent.fpRestore, 1),
        ]);
      }
    }
  }
  console.log('Simulation (seed 1):');
  console.log(table(['workload', 'cpu', 'policy', 'skip', 'traps/1k', 'cycles/exit', 'FP save+restore/exit'], rows));

  progress('calibration');
  const cal = await calibrate(BUILTIN_CPUS);
  console.log('\nCalibration: model vs published anchors (fitted = a base cost was fitted to this anchor):');
  console.log(
    table(
      ['cpu', 'anchor', 'policy', 'exit', 'paper', 'model', 'delta', 'within 5%', 'fitted', 'confidence'],
      cal.map((c) => [
        c.cpu,
        c.label,
        c.policy,
        c.exit,
        num(c.paperCycles),
        num(c.modelCycles, 1),
        pct(c.delta, 2),
        c.withinFivePercent ? 'yes' : 'NO',
        c.fitted ? 'fitted' : 'held out',
        c.confidence,
      ]),
    ),
  );

  progress('throughput (tinybench)');
  const p37 = MarkovWorkloadSchema.parse({ name: 'p37', kind: 'markov', fpProbability: 0.37 });
  const tp = await measureWalk(policies, markovStream(p37, { runs: 1 << 16, seed: 3 }));
  console.log('\nSimulator throughput, one core (markov p=0.37 stream, 65,536-run chunk, table walk vs bare loop over the same Uint16Array):');
  console.log(
    table(
      ['policy', 'walk runs/s', 'bare loop runs/s', 'ratio', 'mode', 'target >= 300 M/s and >= 0.75'],
      tp.map((t) => [
        t.policy,
        `${num(t.walkRunsPerSecond / 1e6, 0)} M`,
        `${num(t.bareRunsPerSecond / 1e6, 0)} M`,
        t.ratio.toFixed(2),
        t.mode,
        t.walkRunsPerSecond >= 300e6 && t.ratio >= 0.75 ? 'met' : 'NOT met',
      ]),
    ),
  );
  progress(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
