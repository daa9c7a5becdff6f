// A process on a SqliteStorage file, for tests/sqlite_process_test.ts.
// Configured by env: DB (the file), EVENT_BACKLOG, POLL_MS, MODE, and per mode:
// - "work": a Worker (WORKER_ID, CONCURRENCY, IDLE_WAIT_MS, LEASE_MS) whose
//   handler (after printing "started <id>" and sleeping SLOW_MS, when set)
//   appends "<job id> <attempt>" to RUNS_FILE before it returns, and prints
//   its error events; stops on SIGTERM.
// - "enqueue": enqueues batches of BATCH jobs ("b<batch>-<i>") one call each,
//   forever, printing "batch <n>" after each (the test SIGKILLs it).
// - "settle": reserves every waiting job (LIMIT), prints "reserved", then
//   settles them in calls of BATCH completions, printing "settled <n>" after
//   each (the test SIGKILLs it).
// Prints "ready" once the file is open (and a worker's SIGTERM handler is set).
import process from "node:process";
import { appendFileSync } from "node:fs";
import { defineTask, Worker } from "../mod.ts";
import { SqliteStorage } from "../adapters/sqlite/mod.ts";

const env = process.env;
const storage = await SqliteStorage.open({
  path: env.DB!,
  pollMs: Number(env.POLL_MS ?? 20),
  eventBacklog: Number(env.EVENT_BACKLOG ?? 10_000),
});
const mode = env.MODE;

if (mode === "work") {
  const workerId = env.WORKER_ID ?? `w${process.pid}`;
  const runs = env.RUNS_FILE!;
  const slowMs = Number(env.SLOW_MS ?? 0);
  const record = defineTask({
    name: "record",
    maxAttempts: 10,
    handler: async (_payload: unknown, ctx) => {
      if (slowMs > 0) {
        console.log(`started ${ctx.job.id}`);
        await new Promise((resolve) => setTimeout(resolve, slowMs));
      }
      appendFileSync(runs, `${ctx.job.id} ${ctx.job.attempt}\n`);
      return { by: workerId };
    },
  });
  const worker = new Worker({
    storage,
    tasks: [record],
    concurrency: Number(env.CONCURRENCY ?? 10),
    idleWaitMs: Number(env.IDLE_WAIT_MS ?? 200),
    leaseMs: Number(env.LEASE_MS ?? 30_000),
  });
  // Any storage error (SQLITE_BUSY given up on, above all) is printed, and the test fails on it.
  worker.on("error", ({ error, during }) => {
    console.log(`worker error during ${during}: ${(error as Error)?.message ?? error}`);
  });
  // Before "ready": a SIGTERM right after it must find the handler in place.
  const started = worker.start();
  process.on("SIGTERM", async () => {
    await started;
    await worker.stop();
    await storage.close();
    console.log("stopped");
    process.exit(0);
  });
  console.log("ready");
  await started;
} else if (mode === "enqueue") {
  console.log("ready");
  const size = Number(env.BATCH);
  for (let batch = 0;; batch++) {
    const now = Date.now();
    await storage.enqueue(
      Array.from({ length: size }, (_, i) => ({
        id: `b${batch}-${i}`,
        name: "record",
        queue: "default",
        payload: { batch, i },
        priority: 0,
        maxAttempts: 3,
        maxStalls: 1,
        timeout: 0,
        runAt: now,
      })),
      now,
    );
    console.log(`batch ${batch}`);
  }
} else if (mode === "settle") {
  console.log("ready");
  const now = Date.now();
  const { jobs } = await storage.reserve({
    queues: ["default"],
    limit: Number(env.LIMIT),
    owner: "settler",
    leaseMs: 3_600_000,
    now,
  });
  console.log("reserved");
  const size = Number(env.BATCH);
  for (let from = 0; from < jobs.length; from += size) {
    const settled = await storage.settle(
      jobs.slice(from, from + size).map((job) => ({
        kind: "complete" as const,
        id: job.id,
        token: job.lease!.token,
        result: { from },
      })),
      { now: Date.now() },
    );
    console.log(`settled ${settled.filter(Boolean).length}`);
  }
  console.log("done");
} else {
  throw new Error(`unknown MODE ${mode}`);
}
