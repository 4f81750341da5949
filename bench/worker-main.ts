/** A suite worker: answers tasks posted by the pool, one at a time. */

import { parentPort } from 'node:worker_threads';
import { answer, type TaskRequest } from './tasks.js';

if (!parentPort) throw new Error('worker-main.ts must run in a worker thread');
const port = parentPort;
port.on('message', (msg: { id: number; task: TaskRequest }) => {
  void answer(msg.id, msg.task).then((r) => port.postMessage(r)); // answer() reports its own errors
});
