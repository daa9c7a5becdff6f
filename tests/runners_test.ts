// Runners: handlers in a pool of threads (threadPool) or child processes
// (processPool), on whichever runtime runs this file (Deno, Bun, Node). Real
// threads and processes in real time, each test bounded; FakeClock where no
// child is involved (maxFailures, the prefetch rule).
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  defineTask,
  FakeClock,
  type JobRecord,
  MemoryStorage,
  Queue,
  type Task,
  Worker,
} from "../mod.ts";
import { processPool, RunnerCrashError, threadPool } from "../runners/mod.ts";
import * as cpu from "./_fixtures/cpu_tasks.ts";

const RUNTIME = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "Node";
// deno-lint-ignore no-explicit-any
type AnyTask = Task<any, any>;
type Made = ReturnType<typeof threadPool>;
/** Real threads and processes start in real time (a Deno child type-checks once). */
const SLOW = { timeout: 60_000 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A worker on a fresh MemoryStorage whose handlers run in `pool`. */
async function start(pool: Made, tasks: AnyTask[], options: { concurrency?: number } = {}) {
  const storage = new MemoryStorage();
  const queue = new Queue({ storage });
  const worker = new Worker({
    storage,
    tasks,
    runner: pool,
    concurrency: options.concurrency ?? 1,
    prefetch: 0,
  });
  const failures: { job: JobRecord; name: string; message: string }[] = [];
  worker.on("failed", ({ job, error }) => void failures.push({ job, ...error }));
  worker.on("retrying", ({ job, error }) => void failures.push({ job, ...error }));
  await worker.start();
  cleanups.push(async () => {
    await worker.stop({ timeout: 5_000 });
    await pool.close();
  });
  // deno-lint-ignore no-explicit-any
  const run = async (task: AnyTask, payload: any) => {
    const job = await queue.enqueue(task, payload);
    try {
      return { value: await queue.result(job.id, { timeout: 20_000 }), job: job.id };
    } catch (error) {
      return { error: error as Error, job: job.id };
    }
  };
  return { storage, queue, worker, failures, run };
}

for (const [kind, make] of [["thread", threadPool], ["process", processPool]] as const) {
  describe(`${kind} pool on ${RUNTIME}`, () => {
    test(
      "results and the job's info cross as JSON; each run gets the child's own process or thread",
      SLOW,
      async () => {
        const pool = make({ size: 2 });
        const { run } = await start(pool, [cpu.echo]);
        const { value, job } = await run(cpu.echo, { n: 7 });
        const result = value as {
          n: number;
          attempt: number;
          jobId: string;
          pid: number;
          thread: number;
        };
        assert.equal(result.n, 7);
        assert.equal(result.attempt, 1);
        assert.equal(result.jobId, job);
        if (kind === "process") assert.notEqual(result.pid, process.pid, "ran in another process");
        else assert.notEqual(result.thread, 0, "ran in a thread other than the main one");
      },
    );

    test(
      "errors keep their name and message; retries follow the task, an UnrecoverableError stops them",
      SLOW,
      async () => {
        const pool = make({ size: 1 });
        const { run, failures } = await start(pool, [cpu.throws]);
        const plain = await run(cpu.throws, {});
        assert.match(plain.error!.message, /bad input in the child/);
        const mine = failures.filter((f) => f.job.id === plain.job);
        assert.deepEqual(mine.map((f) => [f.job.attempt, f.name]), [
          [1, "RangeError"],
          [2, "RangeError"],
        ]);
        const fatal = await run(cpu.throws, { unrecoverable: true });
        assert.match(fatal.error!.message, /never again/);
        const once = failures.filter((f) => f.job.id === fatal.job);
        assert.deepEqual(once.map((f) => [f.job.attempt, f.name]), [[1, "UnrecoverableError"]]);
      },
    );

    test("ctx.progress() reports from the child, in order, and is stored", SLOW, async () => {
      const pool = make({ size: 1 });
      const { run, worker, storage } = await start(pool, [cpu.steps]);
      const seen: unknown[] = [];
      worker.on("progress", ({ progress }) => void seen.push(progress));
      const { value, job } = await run(cpu.steps, null);
      assert.equal(value, "stepped");
      assert.deepEqual(seen, [25, 50, 100]);
      assert.equal((await storage.getJob(job))?.progress, 100);
    });

    test(
      "a timeout aborts ctx.signal in the child; a handler that returns keeps its child",
      SLOW,
      async () => {
        const pool = make({ size: 1, killGraceMs: 5_000 });
        const { run, failures } = await start(pool, [cpu.polite, cpu.echo]);
        const timedOut = await run(cpu.polite, null);
        assert.match(timedOut.error!.message, /timed out after 200 ms/);
        assert.equal(failures[0].name, "JobTimeoutError");
        const next = await run(cpu.echo, { n: 1 });
        assert.equal((next.value as { n: number }).n, 1);
        assert.equal(
          pool.started,
          1,
          "the handler saw its signal and returned: no child was ended",
        );
      },
    );

    test(
      "a busy loop that ignores its signal is ended at its timeout, and the next job runs",
      SLOW,
      async () => {
        const pool = make({ size: 1, killGraceMs: 100 });
        const { run, failures } = await start(pool, [cpu.stubborn, cpu.echo]);
        const stuck = await run(cpu.stubborn, null);
        assert.match(stuck.error!.message, /timed out after 300 ms/);
        assert.equal(failures[0].name, "JobTimeoutError");
        const next = await run(cpu.echo, { n: 2 });
        assert.equal((next.value as { n: number }).n, 2);
        assert.equal(pool.started, 2, "the stuck child was ended and replaced");
      },
    );

    test(
      "a child that exits fails only its attempt, with a RunnerCrashError naming the task and the cause",
      SLOW,
      async () => {
        const pool = make({ size: 1 });
        const { run, failures, worker } = await start(pool, [cpu.exits, cpu.echo]);
        const crashed = await run(cpu.exits, null);
        assert.equal(
          crashed.error!.message.replace(/^Job \S+ failed: /, ""),
          `Task "cpu_exits" crashed in its ${kind}: it exited with code 7`,
        );
        assert.equal(failures[0].name, "RunnerCrashError");
        assert.equal(
          (await run(cpu.echo, { n: 3 })).value !== undefined,
          true,
          "the worker goes on",
        );
        assert.equal(worker.health().state, "running");
      },
    );

    test("maxTasksPerChild replaces a child after that many jobs", SLOW, async () => {
      const pool = make({ size: 1, maxTasksPerChild: 2 });
      const { run } = await start(pool, [cpu.echo]);
      const children = new Set<string>();
      for (let n = 0; n < 5; n++) {
        const { value } = await run(cpu.echo, { n });
        const r = value as { pid: number; thread: number };
        children.add(kind === "process" ? `${r.pid}` : `${r.thread}`);
      }
      assert.equal(children.size, 3, "jobs 1-2, 3-4 and 5 each had a child of their own");
      assert.equal(pool.started, 3);
    });

    const heapLimited = kind === "thread" ? RUNTIME === "Node" : RUNTIME !== "Bun";
    if (heapLimited) {
      test(
        "maxMemoryMb: a handler past the heap limit fails its attempt, and the pool goes on",
        SLOW,
        async () => {
          const pool = make({ size: 1, maxMemoryMb: 64 });
          const { run, failures } = await start(pool, [cpu.hog, cpu.echo]);
          const hog = await run(cpu.hog, null);
          assert.match(hog.error!.message, /Task "cpu_hog" crashed in its .*out of memory/);
          assert.equal(failures[0].name, "RunnerCrashError");
          assert.equal((await run(cpu.echo, { n: 4 })).value !== undefined, true);
        },
      );
    } else {
      test(`maxMemoryMb is refused on ${RUNTIME}, saying why`, () => {
        assert.throws(
          () => make({ maxMemoryMb: 64 }),
          new RegExp(`maxMemoryMb is not supported on ${RUNTIME}`),
        );
      });
    }

    test("leases keep renewing while the children burn CPU", SLOW, async () => {
      // Jobs of 600 ms of hashing against a 300 ms lease renewed every 100
      // ms: in the worker's own event loop no renewal could run during one.
      const pool = make({ size: 2 });
      const storage = new MemoryStorage();
      const queue = new Queue({ storage });
      const worker = new Worker({
        storage,
        tasks: [cpu.spin],
        runner: pool,
        concurrency: 2,
        leaseMs: 300,
        heartbeatMs: 100,
      });
      const stalled: string[] = [];
      const beats: number[] = [];
      worker.on("stalled", ({ job }) => void stalled.push(job.id));
      worker.on("heartbeat", ({ at }) => void beats.push(at));
      await worker.start();
      cleanups.push(async () => {
        await worker.stop({ timeout: 5_000 });
        await pool.close();
      });
      const jobs = await queue.enqueueMany(cpu.spin, [1, 2, 3, 4].map(() => ({ ms: 600 })));
      for (const job of jobs) await queue.result(job.id, { timeout: 30_000 });
      for (const job of jobs) assert.equal((await storage.getJob(job.id))?.attempt, 1);
      assert.deepEqual(stalled, []);
      const gaps = beats.slice(1).map((at, i) => at - beats[i]);
      assert.ok(beats.length >= 8, `${beats.length} heartbeats in 1.2 s of jobs`);
      assert.ok(
        Math.max(...gaps) < 300,
        `heartbeat gaps ${gaps.join(", ")} ms: all within a lease`,
      );
    });
  });
}

describe("runner options", () => {
  test("bad pool options, a runner without a module, and a module that is not a URL are refused", () => {
    assert.throws(() => threadPool({ size: 0 }), /Cannot create threadPool: size must be/);
    assert.throws(
      () => processPool({ idle: 5 } as never),
      /Cannot create processPool: options.idle is not an option/,
    );
    const local = defineTask({ name: "local", handler: () => 1 });
    assert.throws(
      () => new Worker({ storage: new MemoryStorage(), tasks: [local], runner: threadPool() }),
      /task "local" runs in a runner but has no module: give its defineTask `module: import.meta.url`/,
    );
    assert.throws(
      () => defineTask({ name: "x", module: "not a url", handler: () => 1 }),
      /module must be a URL such as import.meta.url/,
    );
  });

  test(
    "a module that does not export the task fails the attempt, naming what it exports",
    SLOW,
    async () => {
      const pool = threadPool({ size: 1 });
      const stray = defineTask({ name: "stray", module: cpu.echo.module, handler: () => 1 });
      const { run } = await start(pool, [stray]);
      const { error } = await run(stray, null);
      assert.match(error!.message, /exports no task named "stray" \(it exports "cpu_echo", /);
    },
  );

  test("RunnerCrashError names the task and the cause", () => {
    const error = new RunnerCrashError("resize", "process", "it was killed by SIGKILL");
    assert.equal(error.message, 'Task "resize" crashed in its process: it was killed by SIGKILL');
    assert.equal(error.task, "resize");
  });
});

describe("maxFailures (FakeClock, in-process)", () => {
  test("a worker stops after maxFailures failed attempts in a row, saying why; a success resets the count", async () => {
    const clock = new FakeClock();
    const storage = new MemoryStorage({ clock });
    const queue = new Queue({ storage, clock });
    const flaky = defineTask({
      name: "flaky",
      maxAttempts: 1,
      handler: (ok: boolean) => {
        if (!ok) throw new Error("upstream down");
      },
    });
    const worker = new Worker({
      storage,
      clock,
      tasks: [flaky],
      concurrency: 1,
      prefetch: 0,
      maxFailures: 3,
    });
    const stopping: { reason: string; message: string }[] = [];
    worker.on("stopping", (event) => void stopping.push(event));
    await queue.enqueueMany(flaky, [false, false, true, false, false, false, false]);
    await worker.start();
    await clock.advance(1_000);
    await worker.stopped();
    assert.equal(worker.stopReason, "maxFailures");
    assert.deepEqual(stopping, [{
      workerId: worker.id,
      reason: "maxFailures",
      message: "3 failed attempts in a row (maxFailures 3); the last: Error: upstream down",
    }]);
    const counts = await storage.counts("default");
    assert.equal(counts.completed, 1);
    assert.equal(counts.failed, 5, "two, then the success reset the count, then three");
    assert.equal(counts.waiting, 1, "the last job was left for another worker");
  });
});
