/// <reference lib="deno.unstable" />
// One SQLite benchmark run in a process of its own (started by bench/sqlite.ts):
//   <runtime> bench/sqlite_run.ts <system> <n> <c> <dir>
// enqueues n no-op jobs into a database file in <dir> (which the caller made
// and deletes), then processes them at concurrency c, and prints one line of
// JSON: {"enqueue": jobs/s, "process": jobs/s}.
// - "taskmill": SqliteStorage with its defaults (WAL, synchronous NORMAL),
//   Queue.enqueueMany in batches of 1 000, one Worker at concurrency c with
//   its defaults (prefetch "auto"), completed jobs deleted as they complete
//   (retention completed.count 0), timed from the worker's start to the last
//   `completed` event (fired once the outcome is committed).
// - "taskmill-keep": the same with the default retention (the newest 1 000
//   completed jobs kept).
// - "denokv" (Deno only, --unstable-kv): Deno.openKv(file), enqueue in atomic
//   operations of 1 000 `enqueue`s, then one `listenQueue` handler, timed
//   from listenQueue to the n-th handler's return (Deno acknowledges the
//   message after that). Deno KV's queue has no concurrency option: c is not
//   used.

import process from "node:process";
import { join } from "node:path";
import { defineTask, Queue, Worker } from "../mod.ts";
import { SqliteStorage } from "../adapters/sqlite/mod.ts";
import { batches, countdown, deadline, perSecond } from "./_util.ts";

/** Jobs per bulk-enqueue call, the same for every system that has one. */
const BATCH = 1_000;
const TIMEOUT_MS = 900_000;

async function taskmill(n: number, c: number, dir: string, keep: boolean) {
  const noop = defineTask({ name: "noop", handler: async (_payload: { i: number }) => {} });
  const storage = new SqliteStorage({ path: join(dir, "taskmill.db") });
  const queue = new Queue({ storage });
  let start = performance.now();
  for (const batch of batches(n, BATCH)) await queue.enqueueMany(noop, batch);
  const enqueueMs = performance.now() - start;
  const worker = new Worker({
    storage,
    tasks: [noop],
    concurrency: c,
    retention: keep ? undefined : { completed: { count: 0 } },
  });
  const completed = countdown(n);
  worker.on("completed", completed.tick);
  start = performance.now();
  await worker.start();
  await deadline(completed.done, TIMEOUT_MS, `taskmill SqliteStorage at concurrency ${c}`);
  const processMs = performance.now() - start;
  await worker.stop();
  await storage.close();
  return { enqueue: perSecond(n, enqueueMs), process: perSecond(n, processMs) };
}

async function denoKv(n: number, dir: string) {
  if (typeof Deno === "undefined" || typeof Deno.openKv !== "function") {
    throw new Error("Deno KV needs Deno with --unstable-kv");
  }
  const kv = await Deno.openKv(join(dir, "denokv.db"));
  let start = performance.now();
  for (const batch of batches(n, BATCH)) {
    const op = kv.atomic();
    for (const payload of batch) op.enqueue(payload);
    const result = await op.commit();
    if (!result.ok) throw new Error("Deno KV: an atomic enqueue did not commit");
  }
  const enqueueMs = performance.now() - start;
  const handled = countdown(n);
  start = performance.now();
  const listening = kv.listenQueue((_payload: unknown) => {
    handled.tick();
  });
  await deadline(handled.done, TIMEOUT_MS, "Deno KV listenQueue");
  const processMs = performance.now() - start;
  kv.close();
  await listening.catch(() => {});
  return { enqueue: perSecond(n, enqueueMs), process: perSecond(n, processMs) };
}

const [system, nArg, cArg, dir] = process.argv.slice(2);
const n = Number(nArg);
const c = Number(cArg);
if (!system || !Number.isInteger(n) || n < 1 || !Number.isInteger(c) || c < 1 || !dir) {
  console.error("usage: sqlite_run.ts taskmill|taskmill-keep|denokv <n> <c> <dir>");
  process.exit(2);
}
let run: { enqueue: number; process: number };
if (system === "taskmill" || system === "taskmill-keep") {
  run = await taskmill(n, c, dir, system === "taskmill-keep");
} else if (system === "denokv") run = await denoKv(n, dir);
else throw new Error(`sqlite_run.ts: unknown system ${system}`);
console.log(JSON.stringify(run));
process.exit(0);
