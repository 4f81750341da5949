/**
 * Peak RSS of one default simulation, run in a child process by the suite: the memory
 * budget (< 300 MB, flat in stream length) is about a user's default run, and a child
 * process measures it alone. Prints {"runs":N,"maxRssMiB":M}.
 */

import { cpuProfile } from '../src/cpu/profiles.js';
import { resolvePolicy } from '../src/policy/registry.js';
import { simulate } from '../src/sim/simulate.js';
import { resolveWorkload, workloadStream } from '../src/stream/workload.js';

const [workload, policy, runsText] = process.argv.slice(2);
const runs = Number(runsText);
const w = resolveWorkload(workload).workload;
const r = simulate(await resolvePolicy(policy), workloadStream(w, { runs, seed: 1 }), { cpu: cpuProfile('seattle') });
console.log(JSON.stringify({ runs: r.runs, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
