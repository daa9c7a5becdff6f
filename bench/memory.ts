// In memory: taskmill's MemoryStorage against p-queue and fastq, N no-op jobs.
// What each figure includes:
// - taskmill: the full job lifecycle: Queue.enqueueMany (payload checks, ids,
//   job records) + a Worker reserving with leases, running the handler,
//   settling (completed state, retention pruning) and emitting `completed`;
//   timed from the first enqueue to the last `completed` event.
// - p-queue: `add()` of N async functions, then `onIdle()`.
// - fastq: `push()` of N tasks to an async worker (fastq.promise), then `drained()`.
// None of the peers keeps job state, retries, leases or events.

import process from "node:process";
import fastq from "fastq";
import PQueue from "p-queue";
import { defineTask, MemoryStorage, Queue, Worker } from "../mod.ts";
import { batches, countdown, deadline, perSecond } from "./_util.ts";

const BATCH = 10_000;

/** Collects garbage where the runtime lets us (Deno with --expose-gc, Bun). */
function gc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

/**
 * The heap in use after garbage collection. Collected three times, a
 * macrotask apart: what the previous run left behind (its last promise
 * reactions, its timers) is only garbage once the event loop has turned.
 */
async function heapUsed(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return process.memoryUsage().heapUsed;
}

/** A taskmill in-memory run. */
export interface MemoryRun {
  jobsPerSecond: number;
  /** Heap after the run minus heap before it (after GC, when available), bytes. */
  heapGrowth: number;
  /** Completed jobs retention kept at the end. */
  kept: number;
}

/**
 * taskmill on MemoryStorage: enqueue + process, full lifecycle. Completed
 * jobs are deleted as they complete (the peers keep none), or with
 * `keepCompleted` kept by the default retention (the newest 1 000).
 */
export async function taskmill(n: number, c: number, keepCompleted = false): Promise<MemoryRun> {
  const noop = defineTask({ name: "noop", handler: async (_payload: { i: number }) => {} });
  const before = await heapUsed();
  const storage = new MemoryStorage();
  const queue = new Queue({ storage });
  const worker = new Worker({
    storage,
    tasks: [noop],
    concurrency: c,
    retention: keepCompleted ? undefined : { completed: { count: 0 } },
  });
  const completed = countdown(n);
  worker.on("completed", completed.tick);
  const start = performance.now();
  for (const batch of batches(n, BATCH)) await queue.enqueueMany(noop, batch);
  await worker.start();
  await deadline(completed.done, 600_000, `taskmill memory at concurrency ${c}`);
  const ms = performance.now() - start;
  await worker.stop();
  const kept = (await storage.counts("default")).completed;
  const heapGrowth = await heapUsed() - before;
  void [storage, queue, worker]; // alive until measured
  return { jobsPerSecond: perSecond(n, ms), heapGrowth, kept };
}

/** p-queue: add + onIdle. */
export async function pQueue(n: number, c: number): Promise<number> {
  const queue = new PQueue({ concurrency: c });
  const start = performance.now();
  for (let i = 0; i < n; i++) queue.add(async () => {});
  await queue.onIdle();
  return perSecond(n, performance.now() - start);
}

/** fastq (promise API): push + drained. */
export async function fastQueue(n: number, c: number): Promise<number> {
  const queue = fastq.promise(async (_i: number) => {}, c);
  const start = performance.now();
  for (let i = 0; i < n; i++) queue.push(i);
  await queue.drained();
  return perSecond(n, performance.now() - start);
}
