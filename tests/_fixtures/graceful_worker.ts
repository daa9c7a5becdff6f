// A worker process for the graceful-stop test (tests/bad_input_stop_test.ts).
// Configured by env: REDIS_URL, PREFIX, WORKER_ID, CONCURRENCY, STOP_TIMEOUT
// (ms given to worker.stop() on SIGTERM), and FAST as read by the task, which
// comes from graceful_tasks.ts (the same module the CLI variant of the test
// loads): it records every start and honours ctx.signal.
import process from "node:process";
import { Worker } from "../../mod.ts";
import { RedisStorage } from "../../adapters/redis/mod.ts";
import { closeRecorder, work } from "./graceful_tasks.ts";

const env = process.env;
const url = env.REDIS_URL!;
const prefix = env.PREFIX ?? "taskmill";
const workerId = env.WORKER_ID ?? `w${process.pid}`;

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
  closeRecorder();
  console.log(`stopped ${workerId} completed=${completed}`);
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
await worker.start();
console.log(`ready ${workerId}`);
