/**
 * A watchdog for a user's policy code: a hook (or a module's top level) that runs past
 * its time budget is stopped with one line naming the policy and the hook, instead of
 * hanging the command. A synchronous loop cannot be interrupted from its own thread, so
 * a small worker watches a shared heartbeat and, on overrun, prints the line and
 * terminates the main thread's JavaScript through the inspector
 * (`Runtime.terminateExecution`); the process then exits with code 2.
 *
 * Cost: one worker (~20 ms, started only when a user policy is loaded) and two atomic
 * stores per guarded hook call.
 */

import { isMainThread, Worker } from 'node:worker_threads';
import { ERROR_LINE_MAX } from '../util/errors.js';

const OVERRIDE = Number(process.env.FPSWITCH_HOOK_TIME_LIMIT_MS);

/**
 * How long one hook call may run: far beyond any sane hook (microseconds).
 * FPSWITCH_HOOK_TIME_LIMIT_MS overrides it (the tests use a short one).
 */
export const HOOK_TIME_LIMIT_MS = OVERRIDE > 0 ? OVERRIDE : 5_000;

/**
 * How long loading a policy module may take: its top level, and compiling it (tsx starts
 * esbuild, which takes seconds on a loaded machine). The same override applies.
 */
export const MODULE_TIME_LIMIT_MS = OVERRIDE > 0 ? OVERRIDE : 30_000;

// Slots of the shared heartbeat: which watched section runs (0 = none), a call counter.
const ACTIVE = 0;
const CALLS = 1;
const FIRED = 2;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const inspector = require('node:inspector');
const beat = new Int32Array(workerData.sab);
const labels = [];
parentPort.on('message', (entry) => labels.push(entry));

const session = new inspector.Session();
session.connectToMainThread();
let calls = -1, since = 0;
setInterval(() => {
  const active = Atomics.load(beat, ${ACTIVE});
  const n = Atomics.load(beat, ${CALLS});
  if (active === 0 || n !== calls) { calls = n; since = Date.now(); return; }
  const entry = labels[active - 1] ?? { label: 'a policy', limit: workerData.limit };
  if (Date.now() - since < entry.limit) return;
  if (Atomics.load(beat, ${FIRED}) === 1) return;
  Atomics.store(beat, ${FIRED}, 1);
  let line = 'fpswitch: ' + entry.label + ' ran for more than ' + entry.limit / 1000 +
    ' s and was stopped (hooks and the top level of a policy module must finish promptly: an endless loop?)';
  if (Buffer.byteLength(line) > ${ERROR_LINE_MAX}) {
    while (Buffer.byteLength(line) > ${ERROR_LINE_MAX} - 3) line = line.slice(0, -1);
    line += '…';
  }
  writeSync(2, line + '\\n');
  session.post('Runtime.terminateExecution');
}, 50);
`;

let beat: Int32Array | undefined;
let worker: Worker | undefined;
let count = 0;

function start(limitMs: number): Worker {
  beat = new Int32Array(new SharedArrayBuffer(16));
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { sab: beat.buffer, limit: limitMs },
  });
  w.unref();
  process.once('exit', () => {
    if (beat && Atomics.load(beat, FIRED) === 1) process.exitCode = 2;
  });
  return w;
}

/**
 * Registers a watched section (e.g. "policy X (file) in onEntry") and returns its index
 * for enterWatched, or -1 when watching is off: inside a worker thread (a test runner's),
 * where the inspector would stop the wrong thread.
 */
export function watchLabel(label: string, limitMs = HOOK_TIME_LIMIT_MS): number {
  if (!isMainThread) return -1;
  worker ??= start(limitMs);
  worker.postMessage({ label, limit: limitMs });
  return ++count;
}

/** Marks the start of watched section `index` (from watchLabel). */
export function enterWatched(index: number): void {
  if (beat === undefined || index < 0) return;
  Atomics.add(beat, CALLS, 1);
  Atomics.store(beat, ACTIVE, index);
}

/** Marks the end of the current watched section. */
export function leaveWatched(): void {
  if (beat !== undefined) Atomics.store(beat, ACTIVE, 0);
}
