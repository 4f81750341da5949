/**
 * A suite worker: answers tasks posted by the pool, one at a time in the order posted,
 * each answer carrying the seconds the task took (the pool's busy time).
 */

import { parentPort } from 'node:worker_threads';
import { answer, type TaskRequest } from './tasks.js';

if (!parentPort) throw new Error('worker-main.ts must run in a worker thread');
const port = parentPort;
let previous = Promise.resolve();
port.on('message', (msg: { id: number; task: TaskRequest }) => {
  previous = previous.then(async () => {
    const t = performance.now();
    const r = await answer(msg.id, msg.task); // answer() reports its own errors
    port.postMessage({ ...r, seconds: (performance.now() - t) / 1000 });
  });
});
