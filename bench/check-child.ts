/**
 * The checker's time in a process of its own: every built-in policy at its defaults, in
 * every built-in configuration, one after another (as `fpswitch check` runs them), so the
 * figure is not shared with the suite's other units. Prints JSON: per verdict its policy,
 * configuration, seconds, states and what it covers, and the wall and CPU time of them all.
 */

import { BUILTIN_CONFIGS } from '../src/check/config.js';
import { checkPolicy } from '../src/check/explore.js';
import { defaultCheckSpecs } from '../src/check/policies.js';
import { resolvePolicy } from '../src/policy/registry.js';

const policies = await Promise.all(defaultCheckSpecs().map((s) => resolvePolicy(s)));
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const verdicts = BUILTIN_CONFIGS.flatMap((config) =>
  policies.map((p) => {
    const v = checkPolicy(p, config);
    return {
      policy: v.policy,
      config: v.config,
      verdict: v.verdict,
      seconds: v.seconds,
      states: v.states,
      covers: v.covers,
    };
  }),
);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
// CPU time beside wall time: on a shared machine the wall time includes waiting for a core.
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(JSON.stringify({ seconds, cpuSeconds, verdicts }));
