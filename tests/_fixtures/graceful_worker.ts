// A worker process for the graceful-stop test (tests/bad_input_test.ts).
// Configured by env: REDIS_URL, PREFIX, WORKER_ID, CONCURRENCY, STOP_TIMEOUT
// (ms given to worker.stop() on SIGTERM), FAST (when "1", handlers return at
// once instead of sleeping `payload.ms`). Every handler start is pushed to
// `<prefix>:test:started` ("id attempt worker") so the test knows what runs.
// Handlers honour ctx.signal: a job aborted by stop() rejects at once.
import process from "node:process";
import { Redis } from "ioredis";
import { defineTask, Worker } from "../../mod.ts";
import { RedisStorage } from "../../adapters/redis.ts";

const env = process.env;
const url = env.REDIS_URL!;
const prefix = env.PREFIX ?? "taskmill";
const workerId = env.WORKER_ID ?? `w${process.pid}`;
const fast = env.FAST === "1";
const recorder = new Redis(url, { maxRetriesPerRequest: null });
recorder.on("error", () => {});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

const work = defineTask({
  name: "work",
  maxAttempts: 5,
  handler: async (payload: { ms: number }, ctx) => {
    await recorder.rpush(`${prefix}:test:started`, `${ctx.job.id} ${ctx.job.attempt} ${workerId}`);
    if (!fast) await sleep(payload.ms, ctx.signal);
    return { by: workerId };
  },
});

const storage = new RedisStorage({ url, prefix });
const worker = new Worker({
  storage,
  tasks: [work],
  id: workerId,
  concurrency: Number(env.CONCURRENCY ?? 50),
  prefetch: 0,
  idleWaitMs: 500,
});
let completed = 0;
worker.on("completed", () => void completed++);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await worker.stop({ timeout: Number(env.STOP_TIMEOUT ?? 10_000) });
  await storage.close();
  recorder.disconnect();
  console.log(`stopped ${workerId} completed=${completed}`);
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
await worker.start();
console.log(`ready ${workerId}`);
