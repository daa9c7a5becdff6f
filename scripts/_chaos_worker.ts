/**
 * A worker process of the chaos run (`scripts/chaos.ts` starts, kills and
 * replaces these). Configured by env: REDIS_URL, PREFIX, WORKER_ID,
 * CONCURRENCY, LEASE_MS, LOG_FILE, WORK_MS ("min-max", a handler's duration).
 *
 * Every execution is written to LOG_FILE, outside Redis, so the record
 * survives whatever happens to the server: `S id attempt worker` when a
 * handler starts and `E id attempt worker` when it finishes, each followed by
 * the time in epoch ms (write(2) before
 * the handler goes on: a SIGKILL cannot lose a line already written). Worker
 * events worth counting are logged too: `X during message` for storage
 * errors, `T id reason` for stalls (lost leases).
 *
 * @module
 */

import { closeSync, openSync, writeSync } from "node:fs";
import process from "node:process";
import { defineTask, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";

const env = process.env;
const url = env.REDIS_URL!;
const prefix = env.PREFIX ?? "chaos";
const workerId = env.WORKER_ID ?? `w${process.pid}`;
const [minMs, maxMs] = (env.WORK_MS ?? "2-10").split("-").map(Number);
const fd = openSync(env.LOG_FILE!, "a");
const log = (line: string): void => {
  writeSync(fd, line + "\n");
};

const chaosJob = defineTask({
  name: "chaos",
  // Kills and outages cost attempts and stalls; the run checks that every job
  // completes, so give them room (the largest attempt count is reported).
  maxAttempts: 100,
  maxStalls: 100,
  handler: async (_payload: { i: number }, ctx) => {
    log(`S ${ctx.job.id} ${ctx.job.attempt} ${workerId} ${Date.now()}`);
    await new Promise((r) => setTimeout(r, minMs + Math.random() * (maxMs - minMs)));
    log(`E ${ctx.job.id} ${ctx.job.attempt} ${workerId} ${Date.now()}`);
    return { by: workerId };
  },
});

const storage = new RedisStorage({ url, prefix });
const worker = new Worker({
  storage,
  tasks: [chaosJob],
  id: workerId,
  concurrency: Number(env.CONCURRENCY ?? 10),
  leaseMs: Number(env.LEASE_MS ?? 5_000),
  idleWaitMs: 1_000,
  // The run checks every job's final state: keep them all.
  retention: {
    completed: { count: 10_000_000, age: 86_400_000 },
    failed: { count: 10_000_000, age: 86_400_000 },
  },
});
worker.on("error", ({ error, during }) => {
  log(
    `X ${during.replaceAll(" ", "_")} ${String((error as Error)?.message ?? error).slice(0, 200)}`,
  );
});
worker.on("stalled", ({ job, reason }) => log(`T ${job.id} ${reason.replaceAll(" ", "_")}`));

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await worker.stop({ timeout: 10_000 });
  await storage.close();
  closeSync(fd);
  console.log(`stopped ${workerId}`);
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
await worker.start();
console.log(`ready ${workerId}`);
