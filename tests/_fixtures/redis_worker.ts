// A worker process for the multi-process Redis tests. Configured by env:
// REDIS_URL, PREFIX, WORKER_ID, CONCURRENCY, LEASE_MS, SLOW_MS, QUEUES. Every
// execution is recorded in Redis (`<prefix>:test:exec` hash: job id → runs,
// and `<prefix>:test:log` list: "id attempt worker") before the handler
// returns, so the test can count executions across processes.
import process from "node:process";
import { Redis } from "ioredis";
import { defineTask, Worker } from "../../mod.ts";
import { RedisStorage } from "../../adapters/redis/mod.ts";

const env = process.env;
const url = env.REDIS_URL!;
const prefix = env.PREFIX ?? "taskmill";
const workerId = env.WORKER_ID ?? `w${process.pid}`;
const slowMs = Number(env.SLOW_MS ?? 0);
const recorder = new Redis(url, { maxRetriesPerRequest: null });
recorder.on("error", () => {}); // reconnects by itself; a restart test expects outages

async function recordRun(id: string, attempt: number): Promise<void> {
  await recorder.multi()
    .hincrby(`${prefix}:test:exec`, id, 1)
    .rpush(`${prefix}:test:log`, `${id} ${attempt} ${workerId}`)
    .exec();
}

const record = defineTask({
  name: "record",
  maxAttempts: 10,
  maxStalls: 5,
  handler: async (payload: { ms?: number }, ctx) => {
    if (payload.ms) await new Promise((r) => setTimeout(r, payload.ms));
    await recordRun(ctx.job.id, ctx.job.attempt);
    return { by: workerId };
  },
});

// Slow on its first attempt only: the first worker to run it gets killed mid-job.
const slowOnce = defineTask({
  name: "slow_once",
  maxAttempts: 3,
  handler: async (_payload: null, ctx) => {
    await recorder.rpush(`${prefix}:test:started`, `${ctx.job.id} ${ctx.job.attempt} ${workerId}`);
    if (ctx.job.attempt === 1) await new Promise((r) => setTimeout(r, slowMs));
    await recordRun(ctx.job.id, ctx.job.attempt);
    return { by: workerId, attempt: ctx.job.attempt };
  },
});

// In queue "limited": counts the handlers running at once, in all and per
// group (`<prefix>:test:running[:group]`), keeping each count a start saw
// (`<prefix>:test:peaks`, "all group"), then runs `ms` and records the run.
const limited = defineTask({
  name: "limited",
  queue: "limited",
  maxAttempts: 10,
  handler: async (payload: { ms: number }, ctx) => {
    const group = ctx.job.group ?? "";
    const counts = await recorder.multi()
      .incr(`${prefix}:test:running`)
      .incr(`${prefix}:test:running:${group}`)
      .exec();
    const [all, mine] = counts!.map(([, n]) => n);
    await recorder.rpush(`${prefix}:test:peaks`, `${all} ${mine}`);
    await new Promise((r) => setTimeout(r, payload.ms));
    await recorder.multi()
      .decr(`${prefix}:test:running`)
      .decr(`${prefix}:test:running:${group}`)
      .exec();
    await recordRun(ctx.job.id, ctx.job.attempt);
  },
});

const storage = new RedisStorage({ url, prefix });
const worker = new Worker({
  storage,
  tasks: [record, slowOnce, limited],
  queues: (env.QUEUES ?? "default").split(","),
  id: workerId,
  concurrency: Number(env.CONCURRENCY ?? 10),
  leaseMs: Number(env.LEASE_MS ?? 30_000),
  idleWaitMs: 1_000,
  // The tests count completed jobs, so keep them all.
  retention: { completed: { count: 1_000_000, age: 3_600_000 } },
});
let storageErrors = 0;
worker.on("error", () => void storageErrors++);

const shutdown = async () => {
  await worker.stop({ timeout: 10_000 });
  await storage.close();
  recorder.disconnect();
  console.log(`stopped ${workerId} storageErrors=${storageErrors}`);
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
await worker.start();
console.log(`ready ${workerId}`);
