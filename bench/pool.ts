/**
 * A small pool of worker threads running suite tasks. Tasks are plain data and results
 * come back by structured clone; the caller keeps results in task order, so the outcome
 * does not depend on which worker ran what, or when.
 */

import { Worker } from 'node:worker_threads';
import { workerWatchdog } from '../src/policy/watchdog.js';
import { freshCompiledWorker } from './compiled.js';
import type { TaskRequest, TaskResponse } from './tasks.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
}

export class Pool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; task: TaskRequest }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: Error | undefined;
  /** When each running task was handed to a worker. */
  private readonly started = new Map<number, number>();
  /** Seconds the workers spent in tasks, summed over workers. */
  busySeconds = 0;

  constructor(readonly size: number) {
    const compiled = freshCompiledWorker()?.href;
    for (let i = 0; i < size; i++) {
      // A modest old-generation limit makes each worker collect garbage early (peak RSS),
      // far above what any task keeps alive.
      // A user policy's hook that loops forever in a worker ends the run with one line.
      const watchdog = workerWatchdog();
      const w = new Worker(new URL('./worker.mjs', import.meta.url), {
        resourceLimits: { maxOldGenerationSizeMb: 160 },
        workerData: { compiled, ...watchdog.data },
        transferList: watchdog.transferList,
      });
      watchdog.watch(w);
      w.on('message', (msg: TaskResponse) => this.onMessage(w, msg));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Runs a task on the next free worker. */
  run<T>(task: TaskRequest): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.queue.push({ id, task });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop();
      const job = this.queue.shift();
      if (w === undefined || job === undefined) return; // both non-empty: the loop's condition
      this.started.set(job.id, performance.now());
      w.postMessage({ id: job.id, task: job.task });
    }
  }

  private onMessage(w: Worker, msg: TaskResponse): void {
    const p = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    this.busySeconds +=
      (performance.now() - (this.started.get(msg.id) ?? performance.now())) / 1000;
    this.started.delete(msg.id);
    this.idle.push(w);
    if (p) {
      if (msg.ok) p.resolve(msg.result);
      else {
        const e = new Error(msg.error);
        (e as Error & { userError?: boolean }).userError = msg.userError;
        p.reject(e);
      }
    }
    this.dispatch();
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
