// bee-queue, configured as its docs recommend for throughput: a producer
// saving jobs in batches (createJob + saveAll, storeJobs off), a worker with
// removeOnSuccess, and events, delayed-job activation and job storage off.
// Completion is counted on the worker's local `succeeded` event (fired once
// the outcome is written to Redis).

import BeeQueue from "bee-queue";
import { batches, countdown, deadline, perSecond } from "./_util.ts";
import { ENQUEUE_BATCH, type RedisRun } from "./_redis.ts";

const FAST = {
  getEvents: false,
  sendEvents: false,
  storeJobs: false,
  activateDelayedJobs: false,
  removeOnSuccess: true,
  removeOnFailure: true,
};

/** Enqueues `n` no-op jobs, then processes them at concurrency `c`. */
export async function run(url: string, n: number, c: number): Promise<RedisRun> {
  const { hostname, port } = new URL(url);
  const redis = { host: hostname, port: Number(port) };
  const producer = new BeeQueue("bench", { ...FAST, redis, isWorker: false });
  await producer.ready();
  let start = performance.now();
  for (const batch of batches(n, ENQUEUE_BATCH)) {
    const errors = await producer.saveAll(batch.map((data) => producer.createJob(data)));
    if (errors.size > 0) throw new Error(`bee-queue saveAll failed: ${[...errors.values()][0]}`);
  }
  const enqueueMs = performance.now() - start;

  const completed = countdown(n);
  start = performance.now();
  const worker = new BeeQueue("bench", { ...FAST, redis });
  worker.on("succeeded", completed.tick);
  worker.process(c, async () => {});
  await deadline(completed.done, 600_000, `bee-queue at concurrency ${c}`);
  const processMs = performance.now() - start;
  await worker.close();
  await producer.close();
  return { enqueue: perSecond(n, enqueueMs), process: perSecond(n, processMs) };
}
