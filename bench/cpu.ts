// CPU-bound jobs: N jobs of about MS ms of hashing each at concurrency 4, on
// the same redis-server: taskmill with its handlers in the worker (the
// in-process default), in a thread pool of 2 and a process pool of 2, and
// BullMQ's sandboxed processor (useWorkerThreads) beside them. Figures:
// jobs/s (from the first start to the last completion) and how late the
// worker's lease renewals ran: the p99 of each heartbeat's delay past its
// interval (100 ms) for taskmill; for BullMQ, whose lock renewal is a timer
// of the same kind, the p99 delay of a 100 ms interval timer in the worker.

import { fileURLToPath } from "node:url";
import { Queue as BullQueue, Worker as BullWorker } from "bullmq";
import { Queue, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { processPool, threadPool } from "../runners/mod.ts";
import { burn, cpuHash } from "./cpu_tasks.ts";
import { countdown, percentile } from "./_util.ts";

const HEARTBEAT_MS = 100;
const CONCURRENCY = 4;

/** One system's run. */
export interface CpuRun {
  perSecond: number;
  /** p99 of how late the lease renewals (or, for BullMQ, a 100 ms timer) ran, ms. */
  heartbeatP99: number;
}

/**
 * Hash rounds that take about `ms` ms on this thread, once the JIT is warm:
 * a quarter second of hashing first (a cold measure overestimates the cost,
 * and the jobs came out half as long), then the fastest of three timings.
 */
export function roundsFor(ms: number): number {
  const warmUntil = performance.now() + 250;
  while (performance.now() < warmUntil) burn(500);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    burn(5_000);
    best = Math.min(best, performance.now() - t0);
  }
  return Math.max(1, Math.round(5_000 * ms / best));
}

/** taskmill on Redis with `runner` ("inline": in the worker). */
export async function runTaskmillCpu(
  redisUrl: string,
  reset: () => Promise<void>,
  runner: "inline" | "thread" | "process",
  jobs: number,
  rounds: number,
): Promise<CpuRun> {
  await reset();
  const storage = new RedisStorage({ url: redisUrl, prefix: "benchcpu" });
  const pool = runner === "thread"
    ? threadPool({ size: 2 })
    : runner === "process"
    ? processPool({ size: 2 })
    : undefined;
  const queue = new Queue({ storage });
  await queue.enqueueMany(cpuHash, Array.from({ length: jobs }, () => ({ rounds })));
  const worker = new Worker({
    storage,
    tasks: [cpuHash],
    concurrency: CONCURRENCY,
    heartbeatMs: HEARTBEAT_MS,
    runner: pool,
    retention: { completed: { count: 0 } },
  });
  // Warm the pool (threads and processes start, modules load) before timing.
  if (pool !== undefined) {
    const warm = Array.from({ length: 2 }, () => ({ rounds: 1 }));
    const ids = await queue.enqueueMany(cpuHash, warm, { queue: "cpu_warm" });
    const warmer = new Worker({
      storage,
      tasks: [cpuHash],
      queues: ["cpu_warm"],
      runner: pool,
      concurrency: 2,
    });
    await warmer.start();
    for (const job of ids) await queue.result(job.id, { timeout: 60_000 });
    await warmer.stop();
  }
  const done = countdown(jobs);
  const beats: number[] = [];
  worker.on("completed", done.tick);
  worker.on("heartbeat", ({ at }) => void beats.push(at));
  const started = performance.now();
  await worker.start();
  await done.done;
  const ms = performance.now() - started;
  await worker.stop();
  await pool?.close();
  await storage.close();
  const delays = beats.slice(1).map((at, i) => Math.max(0, at - beats[i] - HEARTBEAT_MS));
  return {
    perSecond: jobs / (ms / 1000),
    heartbeatP99: delays.length ? percentile(delays, 99) : 0,
  };
}

/** BullMQ's sandboxed processor in worker threads (one per concurrent job). */
export async function runBullSandboxed(
  redisUrl: string,
  reset: () => Promise<void>,
  jobs: number,
  rounds: number,
): Promise<CpuRun> {
  await reset();
  const url = new URL(redisUrl);
  const connection = { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };
  const queue = new BullQueue("cpu", { connection });
  await queue.addBulk(
    Array.from({ length: jobs }, () => ({
      name: "hash",
      data: { rounds },
      opts: { removeOnComplete: true },
    })),
  );
  const processor = fileURLToPath(new URL("./cpu_bullmq_processor.mjs", import.meta.url));
  const done = countdown(jobs);
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - HEARTBEAT_MS));
    last = now;
  }, HEARTBEAT_MS);
  const started = performance.now();
  const worker = new BullWorker("cpu", processor, {
    connection,
    concurrency: CONCURRENCY,
    useWorkerThreads: true,
    // BullMQ passes the parent's flags to its threads, and Node refuses
    // --expose-gc there (bench:node runs with it): the threads get none.
    workerThreadsOptions: { execArgv: [] },
  });
  worker.on("completed", done.tick);
  await done.done;
  const ms = performance.now() - started;
  clearInterval(timer);
  await worker.close();
  await queue.close();
  return { perSecond: jobs / (ms / 1000), heartbeatP99: percentile(lags, 99) };
}
