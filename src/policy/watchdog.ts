/**
 * A watchdog for a user's policy code: a hook (or a module's top level) that runs past
 * its time budget is stopped with one line naming the policy and the hook, instead of
 * hanging the command. A synchronous loop cannot be interrupted from its own thread, so
 * another thread watches a shared heartbeat:
 * - in the main thread, a small worker watches it and, on overrun, prints the line and
 *   terminates the main thread's JavaScript through the inspector
 *   (`Runtime.terminateExecution`); the process then exits with code 2;
 * - in a worker thread that runs policy code (the bench pool's), the parent that started
 *   it with `workerWatchdog()` watches it and, on overrun, prints the line and ends the
 *   process with code 2 (the inspector can only stop a process's main thread).
 * A worker thread started without it (a test runner's) is not watched.
 *
 * Only time is budgeted here: the steps a hook takes inside one call cannot be counted
 * without rewriting the user's code. The budget that is counted in steps, and so gives
 * the same answer on any machine, is the checker's state budget (`check --max-states`:
 * a policy whose state keeps growing stops there with exit 1).
 *
 * Cost: one watching thread or timer (started only when a user policy is loaded) and two
 * atomic stores per guarded hook call.
 */

import { writeSync } from 'node:fs';
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  Worker,
  workerData,
} from 'node:worker_threads';
import { errorLine } from '../util/errors.js';

const OVERRIDE = Number(process.env.FPSWITCH_HOOK_TIME_LIMIT_MS);

/**
 * How long one hook call may run: far beyond any sane hook (microseconds).
 * FPSWITCH_HOOK_TIME_LIMIT_MS overrides it (the tests use a short one).
 */
const HOOK_TIME_LIMIT_MS = OVERRIDE > 0 ? OVERRIDE : 5_000;

/**
 * How long loading a policy module may take: its top level, and compiling it (tsx starts
 * esbuild, which takes seconds on a loaded machine). The same override applies.
 */
export const MODULE_TIME_LIMIT_MS = OVERRIDE > 0 ? OVERRIDE : 30_000;

// Slots of the shared heartbeat: which watched section runs (0 = none), a call counter.
const ACTIVE = 0;
const CALLS = 1;
const FIRED = 2;

/** A watched section: the line printed when it overruns, and its budget. */
interface Entry {
  readonly line: string;
  readonly limit: number;
}

/** The one line for a section that ran past its budget. */
function overrunLine(label: string, limitMs: number): string {
  return errorLine(
    `fpswitch: ${label} ran for more than ${limitMs / 1000} s and was stopped (hooks and the top level of a policy module must finish promptly: an endless loop?)`,
  );
}

// The main thread's watcher. It keeps the same Entry list, sent one by one.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const inspector = require('node:inspector');
const beat = new Int32Array(workerData.sab);
const labels = [];
parentPort.on('message', (entry) => labels.push(entry));

// Connected only to stop the main thread: a connected session makes any other exit of
// the process wait ("Waiting for the debugger to disconnect...").
const session = new inspector.Session();
let calls = -1, since = 0;
setInterval(() => {
  const active = Atomics.load(beat, ${ACTIVE});
  const n = Atomics.load(beat, ${CALLS});
  if (active === 0 || n !== calls) { calls = n; since = Date.now(); return; }
  const entry = labels[active - 1];
  if (entry === undefined || Date.now() - since < entry.limit) return;
  if (Atomics.load(beat, ${FIRED}) === 1) return;
  Atomics.store(beat, ${FIRED}, 1);
  writeSync(2, entry.line + '\\n');
  session.connectToMainThread();
  session.post('Runtime.terminateExecution');
}, 50);
`;

let beat: Int32Array | undefined;
let worker: Worker | undefined;
let count = 0;
/** In a worker thread started with workerWatchdog(): where its sections are reported. */
let parentPortOfWatch: MessagePort | undefined;

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

/** The workerData key a watched worker thread finds its heartbeat under. */
const WATCH_KEY = 'fpswitchWatchdog';

/** In a worker thread: the heartbeat its parent watches, or undefined (not watched). */
function parentWatch(): MessagePort | undefined {
  if (parentPortOfWatch) return parentPortOfWatch;
  const w = (workerData as Record<string, unknown> | null)?.[WATCH_KEY] as
    { sab: SharedArrayBuffer; port: MessagePort } | undefined;
  if (w === undefined) return undefined;
  beat = new Int32Array(w.sab);
  parentPortOfWatch = w.port;
  return w.port;
}

/**
 * Registers a watched section (e.g. "policy X (file) in onEntry") and returns its index
 * for enterWatched, or -1 when watching is off: inside a worker thread that its parent
 * does not watch (a test runner's), where the inspector would stop the wrong thread.
 */
export function watchLabel(label: string, limitMs = HOOK_TIME_LIMIT_MS): number {
  const entry: Entry = { line: overrunLine(label, limitMs), limit: limitMs };
  if (!isMainThread) {
    const port = parentWatch();
    if (port === undefined) return -1;
    port.postMessage(entry);
    return ++count;
  }
  worker ??= start(limitMs);
  worker.postMessage(entry);
  return ++count;
}

/**
 * For a parent starting a worker thread that runs policy code: `workerData` entries and a
 * transfer list to start it with, then `watch(worker)`: a hook in that thread that runs
 * past its budget ends the process with the one line and exit code 2 (a thread cannot be
 * interrupted from inside; the parent's event loop stays free while it waits for results).
 */
export function workerWatchdog(): {
  data: Record<string, unknown>;
  transferList: MessagePort[];
  watch: (w: Worker) => void;
} {
  const sab = new SharedArrayBuffer(16);
  const { port1, port2 } = new MessageChannel();
  const entries: Entry[] = [];
  port1.on('message', (e: Entry) => entries.push(e));
  port1.unref();
  const watch = (w: Worker): void => {
    const b = new Int32Array(sab);
    let calls = -1;
    let since = 0;
    const timer = setInterval(() => {
      const active = Atomics.load(b, ACTIVE);
      const n = Atomics.load(b, CALLS);
      if (active === 0 || n !== calls) {
        calls = n;
        since = Date.now();
        return;
      }
      const entry = entries.at(active - 1);
      if (entry === undefined || Date.now() - since < entry.limit) return;
      writeSync(2, `${entry.line}\n`);
      process.exit(2);
    }, 50);
    timer.unref();
    w.once('exit', () => {
      clearInterval(timer);
      port1.close();
    });
  };
  return { data: { [WATCH_KEY]: { sab, port: port2 } }, transferList: [port2], watch };
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
