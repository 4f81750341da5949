/**
 * One throughput measurement in a process of its own: walk, bare loop and generation over
 * the streams of the workloads named in the JSON argument, printed as JSON on stdout.
 * Run by the suite (`child-measure.ts`), one process per workload in a full run.
 */

import { resolvePolicy } from '../src/policy/registry.js';
import { loadWorkloadFile } from '../src/stream/workload.js';
import { measureStream, type StreamThroughputOptions } from './throughput.js';

interface ChildRequest extends StreamThroughputOptions {
  readonly workloads: readonly { readonly name: string; readonly file: string }[];
  readonly policies: readonly string[];
}

const req = JSON.parse(process.argv[2] ?? '') as ChildRequest;
const policies = await Promise.all(req.policies.map((p) => resolvePolicy(p)));
const out = [];
for (const w of req.workloads) {
  out.push(await measureStream(w.name, loadWorkloadFile(w.file), policies, req));
}
process.stdout.write(JSON.stringify(out));
