// Across processes, on a real redis-server: several worker processes share a
// queue, one is SIGKILLed mid-job, and the server restarts under load. These
// need real processes and sockets, so they run in real time (bounded).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { defineTask, Queue } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { type RedisServer, startRedis } from "./_redis_server.ts";

const ext = import.meta.url.endsWith(".js") ? ".js" : ".ts";
const FIXTURE = fileURLToPath(new URL(`./_fixtures/redis_worker${ext}`, import.meta.url));
const CONSUMER = fileURLToPath(new URL(`./_fixtures/event_consumer${ext}`, import.meta.url));

function runtimeArgs(file: string): string[] {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno) return ["run", "-A", file];
  return [file];
}

interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  ready: Promise<void>;
  exited: Promise<number | null>;
}

const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/**
 * Asserts a worker process stopped cleanly: it printed its "stopped" line,
 * and exited 0. (Deno's node:child_process reports a child we signalled as
 * killed by that signal even when it exited 0 on its own, so there the
 * "stopped" line, printed right before exit(0), is the evidence.)
 */
function assertCleanExit(worker: WorkerProcess, code: number | null): void {
  const output = worker.output.join("");
  assert.match(output, /stopped /, output);
  if (!IS_DENO) assert.equal(code, 0, output);
}

function spawnWorker(env: Record<string, string>, file = FIXTURE): WorkerProcess {
  const child = spawn(process.execPath, runtimeArgs(file), {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout!.on("data", (d: Uint8Array) => {
    const text = String(d);
    output.push(text);
    if (text.includes("ready")) markReady();
  });
  child.stderr!.on("data", (d: Uint8Array) => output.push(String(d)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, ready, exited };
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  workers: WorkerProcess[] = [],
) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = "none";
  while (!(await check().catch((error) => (lastError = error, false)))) {
    if (Date.now() > deadline) {
      const output = workers.map((w) => w.output.join("")).join("\n");
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what} (last error: ${lastError})\n${output}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const record = defineTask({ name: "record", maxAttempts: 10, handler: () => {} });
const slowOnce = defineTask({ name: "slow_once", maxAttempts: 3, handler: () => {} });

describe("RedisStorage across processes", () => {
  let server: RedisServer;
  let raw: Redis;
  before(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
  });
  after(async () => {
    raw?.disconnect();
    await server?.stop();
  });

  test(
    "3 worker processes share 5 000 jobs; each completes once, and a consumer process sees each completion event once",
    { timeout: 120_000 },
    async () => {
      const prefix = "multi";
      const storage = new RedisStorage({ url: server.url, prefix });
      const queue = new Queue({ storage });
      const workers = ["a", "b", "c"].map((id) =>
        spawnWorker({ REDIS_URL: server.url, PREFIX: prefix, WORKER_ID: id, CONCURRENCY: "20" })
      );
      const consumer = spawnWorker(
        { REDIS_URL: server.url, PREFIX: prefix, QUEUE: "default", EXPECT: "5000" },
        CONSUMER,
      );
      try {
        await Promise.all([...workers, consumer].map((w) => w.ready));
        for (let i = 0; i < 5; i++) {
          await queue.enqueueMany(
            record,
            Array.from({ length: 1_000 }, () => ({})),
          );
        }
        await waitUntil(
          "5 000 completed jobs",
          async () => (await queue.counts()).completed === 5_000,
          60_000,
          workers,
        );
        const exec = await raw.hgetall(`${prefix}:test:exec`);
        assert.equal(Object.keys(exec).length, 5_000);
        assert.deepEqual(Object.values(exec).filter((n) => n !== "1"), [], "no job ran twice");
        const log = await raw.lrange(`${prefix}:test:log`, 0, -1);
        const perWorker = new Map<string, number>();
        for (const line of log) {
          const by = line.split(" ")[2];
          perWorker.set(by, (perWorker.get(by) ?? 0) + 1);
        }
        for (const id of ["a", "b", "c"]) {
          assert.ok(
            (perWorker.get(id) ?? 0) > 0,
            `worker ${id} ran jobs`,
          );
        }
        const counts = await queue.counts();
        assert.deepEqual(counts, {
          waiting: 0,
          delayed: 0,
          active: 0,
          completed: 5_000,
          failed: 0,
        });
        // Delivery is at least once: duplicates would be counted, not hidden.
        await consumer.exited;
        const said = consumer.output.join("");
        assert.match(said, /done distinct=5000 duplicates=0/, said);
        assert.deepEqual((await queue.workers()).map((w) => w.id), ["a", "b", "c"]);
      } finally {
        consumer.child.kill("SIGKILL");
        for (const w of workers) w.child.kill("SIGTERM");
        await storage.close();
      }
      const codes = await Promise.all(workers.map((w) => w.exited));
      workers.forEach((w, i) => assertCleanExit(w, codes[i]));
      // Stopped gracefully: gone from the registry at once, with no wait.
      const after = new RedisStorage({ url: server.url, prefix });
      assert.deepEqual(await new Queue({ storage: after }).workers(), []);
      await after.close();
    },
  );

  test(
    "3 worker processes honour a queue's rate and concurrency and its groups' concurrency",
    { timeout: 120_000 },
    async () => {
      const prefix = "limits";
      const storage = new RedisStorage({ url: server.url, prefix });
      const queue = new Queue({ storage });
      const limits = { concurrency: 4, rate: { max: 10, per: 250 }, group: { concurrency: 1 } };
      await queue.setLimits("limited", limits);
      const groups = 8;
      for (let g = 0; g < groups; g++) {
        await queue.enqueueMany("limited", Array.from({ length: 10 }, () => ({ ms: 20 })), {
          queue: "limited",
          group: `tenant-${g}`,
        });
      }
      const workers = ["l1", "l2", "l3"].map((id) =>
        spawnWorker({
          REDIS_URL: server.url,
          PREFIX: prefix,
          WORKER_ID: id,
          CONCURRENCY: "10",
          QUEUES: "limited",
        })
      );
      try {
        await Promise.all(workers.map((w) => w.ready));
        await waitUntil(
          "80 limited jobs completed",
          async () => (await queue.counts("limited")).completed === 80,
          60_000,
          workers,
        );
        const exec = await raw.hgetall(`${prefix}:test:exec`);
        assert.equal(Object.keys(exec).length, 80);
        assert.deepEqual(Object.values(exec).filter((n) => n !== "1"), [], "each ran once");
        // Handlers run inside their leases, so these bound the active jobs from below.
        const peaks = (await raw.lrange(`${prefix}:test:peaks`, 0, -1)).map((line) =>
          line.split(" ").map(Number)
        );
        const most = Math.max(...peaks.map(([all]) => all));
        const mostInGroup = Math.max(...peaks.map(([, mine]) => mine));
        assert.ok(most <= 4, `${most} ran at once; the limit is 4`);
        assert.equal(mostInGroup, 1, "one job per group at a time");
        // The rate, on the reservation times the storage counted.
        const starts = (await queue.list("limited", "completed", { limit: 100 }))
          .map((job) => job.startedAt!).sort((a, b) => a - b);
        let busiest = 0;
        for (let i = 0, j = 0; i < starts.length; i++) {
          while (starts[j] <= starts[i] - 250) j++;
          busiest = Math.max(busiest, i - j + 1);
        }
        assert.ok(busiest <= 10, `${busiest} started within 250 ms; the rate is 10`);
        const span = starts[starts.length - 1] - starts[0];
        assert.ok(span >= 7 * 250 - 50, `80 starts at 10 per 250 ms took ${span} ms`);
        console.log(
          `limits across 3 processes: 80 jobs in ${span} ms, at most ${most} at once (limit 4), ` +
            `${busiest} in the busiest 250 ms (limit 10), ${mostInGroup} per group (limit 1)`,
        );
      } finally {
        for (const w of workers) w.child.kill("SIGTERM");
        await storage.close();
      }
      const codes = await Promise.all(workers.map((w) => w.exited));
      workers.forEach((w, i) => assertCleanExit(w, codes[i]));
    },
  );

  test(
    "3 worker processes fire a schedule: exactly one job per tick over 200 ticks, each run once",
    { timeout: 120_000 },
    async () => {
      const prefix = "ticks";
      const storage = new RedisStorage({ url: server.url, prefix });
      const queue = new Queue({ storage });
      const every = 50;
      // Set before the workers start, so each finds it due at once (a schedule
      // set while they run is seen within a heartbeat: 10 s here). Its first
      // tick is after they are up: "each" runs the ticks found late too.
      const startAt = Math.ceil((Date.now() + 3_000) / every) * every;
      await queue.schedule("tick", record, {}, { every, startAt }, { missed: "each" });
      const workers = ["t1", "t2", "t3"].map((id) =>
        spawnWorker({ REDIS_URL: server.url, PREFIX: prefix, WORKER_ID: id })
      );
      try {
        await Promise.all(workers.map((w) => w.ready));
        const ticks = 200;
        await waitUntil(
          `${ticks} ticks fired`,
          async () => (await queue.getSchedule("tick"))!.nextRunAt >= startAt + ticks * every,
          60_000,
          workers,
        );
        assert.equal(await queue.unschedule("tick"), true);
        await waitUntil(
          "every tick's job completed",
          async () => {
            const c = await queue.counts();
            return c.waiting + c.delayed + c.active === 0;
          },
          30_000,
          workers,
        );
        const exec = await raw.hgetall(`${prefix}:test:exec`);
        const fired = Object.keys(exec).map((id) => Number(id.split(":").pop())).sort((a, b) =>
          a - b
        );
        assert.ok(fired.length >= ticks, `${fired.length} ticks ran`);
        assert.deepEqual(
          fired,
          fired.map((_, k) => startAt + k * every),
          "one job for each tick, none missing",
        );
        assert.deepEqual(Object.values(exec).filter((n) => n !== "1"), [], "no tick ran twice");
        assert.equal((await queue.counts()).completed, fired.length);
        const ran = new Map<string, number>();
        for (const line of await raw.lrange(`${prefix}:test:log`, 0, -1)) {
          const by = line.split(" ")[2];
          ran.set(by, (ran.get(by) ?? 0) + 1);
        }
        console.log(
          `schedule across 3 processes: ${fired.length} ticks, ${fired.length} jobs, each run once (runs per worker: ${
            [...ran].map(([w, n]) => `${w} ${n}`).join(", ")
          })`,
        );
      } finally {
        for (const w of workers) w.child.kill("SIGTERM");
        await storage.close();
      }
      const codes = await Promise.all(workers.map((w) => w.exited));
      workers.forEach((w, i) => assertCleanExit(w, codes[i]));
    },
  );

  test("a worker SIGKILLed mid-job: the job completes on another worker after the lease expires", {
    timeout: 60_000,
  }, async () => {
    const prefix = "kill";
    const storage = new RedisStorage({ url: server.url, prefix });
    const queue = new Queue({ storage });
    const env = { REDIS_URL: server.url, PREFIX: prefix, LEASE_MS: "1000", SLOW_MS: "60000" };
    const a = spawnWorker({ ...env, WORKER_ID: "doomed" });
    let b: WorkerProcess | undefined;
    try {
      await a.ready;
      assert.deepEqual((await queue.workers()).map((w) => w.id), ["doomed"]);
      const job = await queue.enqueue(slowOnce, null);
      await waitUntil(
        "the first attempt to start",
        async () => (await raw.llen(`${prefix}:test:started`)) === 1,
        10_000,
      );
      a.child.kill("SIGKILL");
      await a.exited;
      const killedAt = Date.now();
      // Its registration outlives it by at most 3 heartbeats (the lease of 1 s here).
      await waitUntil(
        "the killed worker to leave workers()",
        async () => !(await queue.workers()).some((w) => w.id === "doomed"),
        10_000,
      );
      b = spawnWorker({ ...env, WORKER_ID: "survivor" });
      await waitUntil(
        "the job to complete",
        async () => (await queue.getJob(job.id))?.state === "completed",
        20_000,
      );
      const stored = await queue.getJob(job.id);
      assert.equal(stored?.attempt, 2, "the killed attempt counts");
      assert.equal(stored?.stalls, 1);
      assert.deepEqual(stored?.result, { by: "survivor", attempt: 2 });
      assert.deepEqual(await raw.lrange(`${prefix}:test:started`, 0, -1), [
        `${job.id} 1 doomed`,
        `${job.id} 2 survivor`,
      ]);
      assert.ok(Date.now() - killedAt < 15_000);
    } finally {
      a.child.kill("SIGKILL");
      b?.child.kill("SIGTERM");
      await b?.exited;
      await storage.close();
    }
  });
  test(
    "a worker paused past its lease finishes late: its result is refused, the newer attempt's stands",
    {
      timeout: 60_000,
    },
    async () => {
      const prefix = "stale";
      const storage = new RedisStorage({ url: server.url, prefix });
      const queue = new Queue({ storage });
      const env = { REDIS_URL: server.url, PREFIX: prefix, LEASE_MS: "1000", SLOW_MS: "2500" };
      const a = spawnWorker({ ...env, WORKER_ID: "sleepy" });
      let b: WorkerProcess | undefined;
      try {
        await a.ready;
        const job = await queue.enqueue(slowOnce, null);
        await waitUntil(
          "the first attempt to start",
          async () => (await raw.llen(`${prefix}:test:started`)) === 1,
          10_000,
        );
        process.kill(a.child.pid!, "SIGSTOP"); // frozen: no heartbeats, the lease runs out
        b = spawnWorker({ ...env, WORKER_ID: "fresh" });
        await waitUntil(
          "the second attempt to complete",
          async () => (await queue.getJob(job.id))?.state === "completed",
          20_000,
        );
        process.kill(a.child.pid!, "SIGCONT");
        // The sleepy worker's first attempt now finishes and records its run...
        await waitUntil(
          "the late attempt to finish",
          async () => (await raw.llen(`${prefix}:test:log`)) === 2,
          20_000,
        );
        await new Promise((r) => setTimeout(r, 300)); // ...and tries to settle it
        const stored = await queue.getJob(job.id);
        assert.deepEqual(
          stored?.result,
          { by: "fresh", attempt: 2 },
          "the late result was refused",
        );
        assert.equal(stored?.attempt, 2);
        assert.deepEqual((await raw.lrange(`${prefix}:test:log`, 0, -1)).sort(), [
          `${job.id} 1 sleepy`,
          `${job.id} 2 fresh`,
        ]);
      } finally {
        // process.kill, not child.kill: Deno's child_process marks a child it
        // sent SIGSTOP as killed and will not signal it again.
        try {
          process.kill(a.child.pid!, "SIGCONT");
        } catch { /* already gone */ }
        a.child.kill("SIGTERM");
        b?.child.kill("SIGTERM");
        await Promise.all([a.exited, b?.exited]);
        await storage.close();
      }
    },
  );
});

describe("RedisStorage across a redis-server restart", () => {
  test("workers resume after a restart (appendonly on); nothing enqueued before it is lost", {
    timeout: 120_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "taskmill-aof-"));
    let server = await startRedis({ appendonly: true, dir, args: ["--appendfsync", "everysec"] });
    const port = server.port;
    const prefix = "restart";
    const storage = new RedisStorage({ url: server.url, prefix });
    const queue = new Queue({ storage });
    const raw = new Redis(server.url, { maxRetriesPerRequest: null });
    raw.on("error", () => {});
    const env = { REDIS_URL: server.url, PREFIX: prefix, CONCURRENCY: "10", LEASE_MS: "2000" };
    const workers = ["r1", "r2"].map((id) => spawnWorker({ ...env, WORKER_ID: id }));
    const total = 2_000;
    try {
      await Promise.all(workers.map((w) => w.ready));
      const ids = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const jobs = await queue.enqueueMany(
          record,
          Array.from({ length: total / 4 }, () => ({ ms: 2 })),
        );
        for (const j of jobs) ids.add(j.id);
      }
      await waitUntil("some progress", async () => (await queue.counts()).completed >= 300, 30_000);
      await server.stop(); // SIGTERM: redis-server flushes its AOF and exits
      await new Promise((r) => setTimeout(r, 500));
      server = await startRedis({
        appendonly: true,
        dir,
        port,
        args: ["--appendfsync", "everysec"],
      });
      await waitUntil(
        `all ${total} completed`,
        async () => (await queue.counts()).completed === total,
        60_000,
        workers,
      );
      const exec = await raw.hgetall(`${prefix}:test:exec`);
      const missing = [...ids].filter((id) => !(id in exec));
      assert.deepEqual(missing, [], "every job enqueued before the restart ran");
      const counts = await queue.counts();
      assert.deepEqual(counts, { waiting: 0, delayed: 0, active: 0, completed: total, failed: 0 });
      const runs = Object.values(exec).reduce((sum, n) => sum + Number(n), 0);
      console.log(
        `restart: ${total} jobs, ${runs} executions (${runs - total} repeated after the outage)`,
      );
    } finally {
      for (const w of workers) w.child.kill("SIGTERM");
      await Promise.all(workers.map((w) => w.exited));
      raw.disconnect();
      await storage.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
    const codes = await Promise.all(workers.map((w) => w.exited));
    workers.forEach((w, i) => assertCleanExit(w, codes[i]));
  });
});
