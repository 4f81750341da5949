/**
 * Peak RSS of one default simulation, run in a child process by the suite: the memory
 * budget (< 300 MB, flat in stream length) is about a user's default run, and a child
 * process measures it alone. Prints {"runs":N,"maxRssMiB":M}.
 */

import { readFileSync } from 'node:fs';
import { cpuProfile } from '../src/cpu/profiles.js';
import { resolvePolicy } from '../src/policy/registry.js';
import { simulate } from '../src/sim/simulate.js';
import { resolveWorkload, workloadStream } from '../src/stream/workload.js';

const [workload, policy, runsText] = process.argv.slice(2);
const runs = Number(runsText);
const w = resolveWorkload(workload).workload;
const r = simulate(await resolvePolicy(policy), workloadStream(w, { runs, seed: 1 }), {
  cpu: cpuProfile('seattle'),
});
console.log(JSON.stringify({ runs: r.runs, maxRssMiB: peakRssKiB() / 1024 }));

/**
 * Peak resident set of this process's own address space. On Linux getrusage's maxrss
 * survives exec and so starts at the parent's size at fork (a spawn from a 500 MB suite
 * reads 500 MB before this program does anything); VmHWM in /proc/self/status is the
 * high-water mark of the address space exec created, which is this program alone.
 */
function peakRssKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS;
}
