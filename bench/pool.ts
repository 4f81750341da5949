/**
 * A small pool of worker threads running suite tasks. Tasks are plain data and results
 * come back by structured clone; the caller keeps results in task order, so the outcome
 * does not depend on which worker ran what, or when.
 */

import { Worker } from 'node:worker_threads';
import { workerWatchdog } from '../src/policy/watchdog.js';
import { freshCompiled } from './compiled.js';
import type { TaskRequest, TaskResponse } from './tasks.js';

/** A worker's answer and the seconds the task took in it. */
type WorkerReply = TaskResponse & { readonly seconds: number };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
}

export class Pool {
  private readonly workers: Worker[] = [];
  /** Tasks handed to each worker and not answered yet (0 or 1). */
  private readonly held = new Map<Worker, number>();
  private readonly queue: { id: number; task: TaskRequest }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: Error | undefined;
  /** Seconds the workers spent in tasks, summed over workers (as each worker timed them). */
  busySeconds = 0;

  constructor(readonly size: number) {
    const compiled = freshCompiled('worker-main')?.href;
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
      w.on('message', (msg: WorkerReply) => this.onMessage(w, msg));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.held.set(w, 0);
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

  /**
   * Hands queued tasks to idle workers, one each. (Holding a second task on a busy worker
   * was tried: the unit queued behind the long ground-truth unit then ended the phase.)
   */
  private dispatch(): void {
    for (const w of this.workers) {
      if (this.queue.length === 0) return;
      if (this.held.get(w) !== 0) continue;
      const job = this.queue.shift();
      if (job === undefined) return;
      this.held.set(w, 1);
      w.postMessage({ id: job.id, task: job.task });
    }
  }

  private onMessage(w: Worker, msg: WorkerReply): void {
    const p = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    this.busySeconds += msg.seconds;
    this.held.set(w, (this.held.get(w) ?? 1) - 1);
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
