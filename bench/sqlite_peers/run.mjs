// One run of a SQLite peer in a process of its own (started by bench/sqlite.ts,
// which copies this file and noop_job.mjs next to the peers it installed in
// .tmp/bench-sqlite-peers, so their names resolve from there):
//   <runtime> run.mjs <system> <n> <c> <dir>
// enqueues n no-op jobs into a database file in <dir> (which the caller made
// and deletes), then processes them at concurrency c in this process, and
// prints one line of JSON: {"enqueue": jobs/s, "process": jobs/s}. Each peer
// runs with the settings its documentation gives for speed, and its own
// defaults otherwise (README and docs of each, read for these versions):
// - plainjob: bun:sqlite on Bun (`{ strict: true }`, as its README asks),
//   better-sqlite3 elsewhere; plainjob sets WAL and synchronous = NORMAL
//   itself. Bulk enqueue with `queue.addMany` in batches of 1 000;
//   concurrency c as c `defineWorker`s on the one queue (how plainjob's own
//   benchmark runs concurrent workers: a worker runs one job at a time),
//   pollIntervall 1 ms (it sleeps only when it finds no job), a logger that
//   drops info and debug (plainjob's benchmark does the same; the default,
//   console, prints a debug line per step of every job). Completed jobs stay
//   as "done" (plainjob removes them after 7 days). Timed to the n-th
//   `onCompleted`, which follows markJobAsDone.
// - liteque: better-sqlite3 (its only driver), buildDBClient with its
//   defaults (WAL, synchronous = NORMAL, runMigrations). No bulk enqueue:
//   `queue.enqueue` one job after another. A Runner at concurrency c,
//   pollIntervalMs 1, timeoutSecs 60, no validator, numRetries 0; completed
//   jobs are deleted (liteque always does). Timed until `runUntilEmpty()`
//   resolves (every job finalized, the queue's stats empty).
// - sidequest: the SQLite backend (knex + better-sqlite3, WAL set by its
//   migration) with synchronous = NORMAL set on the connection through the
//   knex configuration object the backend accepts (better-sqlite3's default
//   is FULL; NORMAL is what every other system here runs with).
//   runner "inline" and fork false (the lightest of the docs' execution
//   modes: no worker threads, no child process), maxConcurrentJobs c and the queue's
//   concurrency c, jobPollingInterval 1 ms (the dispatcher sleeps that long
//   whenever every slot is busy, so the default 100 ms caps C=1 at about 10
//   jobs/s), dashboard off, logger level "error", stale-job release and
//   cleanup off, maxAttempts 1. No bulk enqueue: `Sidequest.build(NoopJob)
//   .enqueue()` one job after another (the builder reused, as its docs
//   show). Completed jobs stay. Timed until a read of the file finds n
//   completed jobs, read every 20 ms once the handler has run n times.

import process from "node:process";
import { join } from "node:path";

const [system, nArg, cArg, dir] = process.argv.slice(2);
const n = Number(nArg);
const c = Number(cArg);
if (!system || !Number.isInteger(n) || n < 1 || !Number.isInteger(c) || c < 1 || !dir) {
  console.error("usage: run.mjs plainjob|liteque|sidequest|better-sqlite3 <n> <c> <dir>");
  process.exit(2);
}
const BATCH = 1_000;
const isBun = typeof globalThis.Bun !== "undefined";
const perSecond = (jobs, ms) => Math.round(jobs / (ms / 1000));
const quiet = { error: console.error, warn: console.warn, info: () => {}, debug: () => {} };

function countdown(count) {
  let left = count;
  let resolve;
  const done = new Promise((r) => (resolve = r));
  return {
    tick: () => {
      if (--left === 0) resolve();
    },
    done,
  };
}

function deadline(work, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
const TIMEOUT_MS = 900_000;

async function plainjob() {
  const { bun, better, defineQueue, defineWorker } = await import("plainjob");
  const file = join(dir, "plainjob.db");
  let connection;
  if (isBun) {
    const { Database } = await import("bun:sqlite");
    connection = bun(new Database(file, { strict: true }));
  } else {
    const { default: Database } = await import("better-sqlite3");
    connection = better(new Database(file));
  }
  const queue = defineQueue({ connection, logger: quiet });
  let start = performance.now();
  for (let from = 0; from < n; from += BATCH) {
    const batch = [];
    for (let i = from; i < Math.min(n, from + BATCH); i++) batch.push({ i });
    queue.addMany("noop", batch);
  }
  const enqueueMs = performance.now() - start;
  const completed = countdown(n);
  const workers = [];
  for (let w = 0; w < c; w++) {
    workers.push(defineWorker("noop", async () => {}, {
      queue,
      logger: quiet,
      pollIntervall: 1,
      onCompleted: completed.tick,
    }));
  }
  start = performance.now();
  const running = workers.map((w) => w.start());
  await deadline(completed.done, TIMEOUT_MS, `plainjob at concurrency ${c}`);
  const processMs = performance.now() - start;
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(running);
  queue.close();
  return { enqueue: perSecond(n, enqueueMs), process: perSecond(n, processMs) };
}

async function liteque() {
  const { buildDBClient, Runner, SqliteQueue } = await import("liteque");
  const db = buildDBClient(join(dir, "liteque.db"), { runMigrations: true });
  const queue = new SqliteQueue("noop", db, {
    defaultJobArgs: { numRetries: 0 },
    keepFailedJobs: false,
  });
  let start = performance.now();
  for (let i = 0; i < n; i++) await queue.enqueue({ i });
  const enqueueMs = performance.now() - start;
  const runner = new Runner(queue, { run: async () => {} }, {
    concurrency: c,
    pollIntervalMs: 1,
    timeoutSecs: 60,
  });
  start = performance.now();
  await deadline(runner.runUntilEmpty(), TIMEOUT_MS, `liteque at concurrency ${c}`);
  const processMs = performance.now() - start;
  const stats = await queue.stats();
  if (stats.pending + stats.pending_retry + stats.running + stats.failed !== 0) {
    throw new Error(`liteque: jobs left after the run: ${JSON.stringify(stats)}`);
  }
  return { enqueue: perSecond(n, enqueueMs), process: perSecond(n, processMs) };
}

async function sidequest() {
  const { Sidequest } = await import("sidequest");
  const { NoopJob, ran } = await import("./noop_job.mjs");
  const file = join(dir, "sidequest.sqlite");
  const config = {
    backend: {
      driver: "@sidequest/sqlite-backend",
      config: {
        connection: { filename: file },
        pool: {
          afterCreate: (conn, done) => {
            conn.pragma("synchronous = NORMAL");
            done();
          },
        },
      },
    },
    queues: [{ name: "default", concurrency: c, priority: 0, state: "active" }],
    maxConcurrentJobs: c,
    runner: "inline",
    fork: false,
    jobPollingInterval: 1,
    dashboard: { enabled: false },
    logger: { level: "error" },
    releaseStaleJobsIntervalMin: false,
    cleanupFinishedJobsIntervalMin: false,
    gracefulShutdown: false,
  };
  await Sidequest.configure(config);
  const builder = Sidequest.build(NoopJob).maxAttempts(1);
  let start = performance.now();
  for (let i = 0; i < n; i++) await builder.enqueue({ i });
  const enqueueMs = performance.now() - start;
  const { default: Database } = await import("better-sqlite3");
  const reader = new Database(file, { readonly: true });
  const count = reader.prepare(
    "SELECT count(*) AS n FROM sidequest_jobs WHERE state = 'completed'",
  );
  start = performance.now();
  await Sidequest.start(config);
  const allCompleted = (async () => {
    while (ran.count < n) await new Promise((r) => setTimeout(r, 20));
    while (count.get().n < n) await new Promise((r) => setTimeout(r, 20));
  })();
  await deadline(allCompleted, TIMEOUT_MS, `sidequest at concurrency ${c}`);
  const processMs = performance.now() - start;
  reader.close();
  await Sidequest.stop();
  return { enqueue: perSecond(n, enqueueMs), process: perSecond(n, processMs) };
}

/** Whether better-sqlite3 loads on this runtime (liteque and sidequest have no other driver). */
async function betterSqlite3() {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(":memory:");
  db.close();
  return { enqueue: 0, process: 0 };
}

const systems = { plainjob, liteque, sidequest, "better-sqlite3": betterSqlite3 };
if (!(system in systems)) throw new Error(`run.mjs: unknown system ${system}`);
const run = await systems[system]();
console.log(JSON.stringify(run));
process.exit(0);
