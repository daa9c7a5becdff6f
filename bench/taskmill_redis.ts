// taskmill on Redis: bulk enqueue with Queue.enqueueMany, then one Worker at
// concurrency C with its defaults (prefetch "auto"), except retention: like
// the peers (BullMQ removeOnComplete, bee-queue removeOnSuccess), completed
// jobs are deleted as they complete unless `keepCompleted` asks for the
// default retention (the newest 1 000 kept). Completion is counted on the
// worker's `completed` event, which fires once the outcome is stored.

import { defineTask, Queue, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { batches, countdown, deadline, perSecond } from "./_util.ts";
import { ENQUEUE_BATCH, type RedisRun } from "./_redis.ts";

const noop = defineTask({ name: "noop", handler: async (_payload: { i: number }) => {} });

/** How a taskmill run departs from the peers' configuration. */
export interface RunOptions {
  /** A fixed prefetch instead of the Worker's default "auto". */
  prefetch?: number;
  /** Keep completed jobs by the default retention instead of deleting them. */
  keepCompleted?: boolean;
  /** Events on (the default) or off (`eventBacklog: 0`). */
  events?: boolean;
}

/** Enqueues `n` no-op jobs, then processes them at concurrency `c`. */
export async function run(
  url: string,
  n: number,
  c: number,
  options: RunOptions = {},
): Promise<RedisRun> {
  const storage = new RedisStorage({
    url,
    prefix: "bench",
    eventBacklog: options.events === false ? 0 : undefined,
  });
  const queue = new Queue({ storage });
  let start = performance.now();
  for (const batch of batches(n, ENQUEUE_BATCH)) await queue.enqueueMany(noop, batch);
  const enqueueMs = performance.now() - start;

  const worker = new Worker({
    storage,
    tasks: [noop],
    concurrency: c,
    prefetch: options.prefetch,
    retention: options.keepCompleted ? undefined : { completed: { count: 0 } },
  });
  const completed = countdown(n);
  worker.on("completed", completed.tick);
  start = performance.now();
  await worker.start();
  await deadline(completed.done, 600_000, `taskmill at concurrency ${c}`);
  const processMs = performance.now() - start;
  await worker.stop();
  await storage.close();
  return { enqueue: perSecond(n, enqueueMs), process: perSecond(n, processMs) };
}

/**
 * Idle wake-up latency: with the worker idle (blocked waiting for work), the
 * time from calling `enqueue` to the handler starting, one job at a time.
 */
export async function latency(url: string, n: number): Promise<number[]> {
  const storage = new RedisStorage({ url, prefix: "bench-latency" });
  const queue = new Queue({ storage });
  let started: (at: number) => void = () => {};
  const probe = defineTask({
    name: "probe",
    handler: () => {
      started(performance.now());
    },
  });
  const worker = new Worker({ storage, tasks: [probe], concurrency: 1 });
  let completed: () => void = () => {};
  worker.on("completed", () => completed());
  await worker.start();
  const samples: number[] = [];
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < n; i++) {
    const handlerStarted = new Promise<number>((r) => (started = r));
    const done = new Promise<void>((r) => (completed = r));
    const t0 = performance.now();
    await queue.enqueue(probe, { i });
    samples.push(await deadline(handlerStarted, 10_000, "taskmill latency probe") - t0);
    await done;
    await new Promise((r) => setTimeout(r, 1)); // let the worker go idle again
  }
  await worker.stop();
  await storage.close();
  return samples;
}
