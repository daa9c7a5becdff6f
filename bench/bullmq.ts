// BullMQ, configured as its docs recommend for throughput: Queue.addBulk,
// removeOnComplete / removeOnFail, one Worker with `concurrency: C`.
// Completion is counted on the worker's `completed` event (fired once the
// job is moved to completed in Redis).

import { Queue, Worker } from "bullmq";
import { batches, countdown, deadline, perSecond } from "./_util.ts";
import { ENQUEUE_BATCH, type RedisRun } from "./_redis.ts";

const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true };

function connectionOf(url: string) {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
}

/** Enqueues `n` no-op jobs, then processes them at concurrency `c`. */
export async function run(url: string, n: number, c: number): Promise<RedisRun> {
  const connection = connectionOf(url);
  const queue = new Queue("bench", { connection, defaultJobOptions: JOB_OPTIONS });
  await queue.waitUntilReady();
  let start = performance.now();
  for (const batch of batches(n, ENQUEUE_BATCH)) {
    await queue.addBulk(batch.map((data) => ({ name: "noop", data })));
  }
  const enqueueMs = performance.now() - start;

  const completed = countdown(n);
  start = performance.now();
  const worker = new Worker("bench", async () => {}, { connection, concurrency: c });
  worker.on("completed", completed.tick);
  await deadline(completed.done, 600_000, `BullMQ at concurrency ${c}`);
  const processMs = performance.now() - start;
  await worker.close();
  await queue.close();
  return { enqueue: perSecond(n, enqueueMs), process: perSecond(n, processMs) };
}

/** Idle wake-up latency: time from `queue.add` to the processor starting. */
export async function latency(url: string, n: number): Promise<number[]> {
  const connection = connectionOf(url);
  const queue = new Queue("bench-latency", { connection, defaultJobOptions: JOB_OPTIONS });
  let started: (at: number) => void = () => {};
  let completed: () => void = () => {};
  // deno-lint-ignore require-await
  const worker = new Worker("bench-latency", async () => {
    started(performance.now());
  }, { connection, concurrency: 1 });
  worker.on("completed", () => completed());
  await worker.waitUntilReady();
  await new Promise((r) => setTimeout(r, 50));
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const handlerStarted = new Promise<number>((r) => (started = r));
    const done = new Promise<void>((r) => (completed = r));
    const t0 = performance.now();
    await queue.add("probe", { i });
    samples.push(await deadline(handlerStarted, 10_000, "BullMQ latency probe") - t0);
    await done;
    await new Promise((r) => setTimeout(r, 1)); // let the worker go idle again
  }
  await worker.close();
  await queue.close();
  return samples;
}
