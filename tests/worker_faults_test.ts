// Worker lifecycle under faults and misuse (issue 10, items 1-7), on
// MemoryStorage and FakeClock. Faults are injected by a storage that hangs or
// refuses some calls, as a frozen or out-of-memory server does.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  defineTask,
  MemoryStorage,
  type Middleware,
  Queue,
  STOP_GRACE_MS,
  type Storage,
  Worker,
  type WorkerEvents,
  type WorkerOptions,
} from "../mod.ts";
import { FakeClock } from "../testing.ts";

/** Storage calls that can be frozen (they hang until thawed) or made to fail. */
type Faulty = "reserve" | "settle" | "extendLeases" | "waitForWork";

/**
 * A MemoryStorage whose worker-side calls can hang (a frozen server) or
 * reject (a refusing one), one method at a time. A frozen call goes through
 * to the real storage once thawed, as a thawed server answers it.
 */
class FaultyStorage {
  readonly inner: MemoryStorage;
  readonly storage: Storage;
  readonly calls: Record<Faulty, number> = {
    reserve: 0,
    settle: 0,
    extendLeases: 0,
    waitForWork: 0,
  };
  #frozen = new Map<Faulty, Promise<void>>();
  #thaw = new Map<Faulty, () => void>();
  #failing = new Set<Faulty>();

  constructor(clock: FakeClock) {
    this.inner = new MemoryStorage({ clock });
    const inner = this.inner;
    const guarded =
      <A extends unknown[], R>(name: Faulty, call: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> => {
        this.calls[name]++;
        const gate = this.#frozen.get(name);
        const reply = (async () => {
          if (gate) await gate;
          if (this.#failing.has(name)) throw new Error(`OOM command not allowed (${name})`);
          return await call(...args);
        })();
        // A frozen call hangs while the test moves fake time on: the clock must
        // not wait for it (the Worker tracks it right after this returns).
        if (gate) queueMicrotask(() => clock.ignore(reply));
        return reply;
      };
    const all: Record<string, unknown> = {};
    for (const name of Object.getOwnPropertyNames(MemoryStorage.prototype)) {
      const member = (inner as unknown as Record<string, unknown>)[name];
      if (name !== "constructor" && typeof member === "function") all[name] = member.bind(inner);
    }
    this.storage = Object.assign(all, {
      reserve: guarded("reserve", inner.reserve.bind(inner)),
      settle: guarded("settle", inner.settle.bind(inner)),
      extendLeases: guarded("extendLeases", inner.extendLeases.bind(inner)),
      waitForWork: guarded("waitForWork", inner.waitForWork.bind(inner)),
    }) as unknown as Storage;
  }

  freeze(...names: Faulty[]): void {
    for (const name of names) {
      if (this.#frozen.has(name)) continue;
      this.#frozen.set(name, new Promise((resolve) => this.#thaw.set(name, resolve)));
    }
  }

  thaw(...names: Faulty[]): void {
    for (const name of names) {
      this.#thaw.get(name)?.();
      this.#frozen.delete(name);
      this.#thaw.delete(name);
    }
  }

  fail(...names: Faulty[]): void {
    for (const name of names) this.#failing.add(name);
  }

  heal(...names: Faulty[]): void {
    for (const name of names) this.#failing.delete(name);
  }
}

function setup() {
  const clock = new FakeClock();
  const faulty = new FaultyStorage(clock);
  const queue = new Queue({ storage: faulty.inner, clock });
  const start = async (options: Partial<WorkerOptions> & Pick<WorkerOptions, "tasks">) => {
    const worker = new Worker({ storage: faulty.storage, clock, ...options });
    await worker.start();
    await clock.flush();
    return worker;
  };
  return { clock, faulty, queue, start, t0: clock.now() };
}

function record<K extends keyof WorkerEvents>(worker: Worker, name: K): WorkerEvents[K][] {
  const events: WorkerEvents[K][] = [];
  worker.on(name, (e) => {
    events.push(e);
  });
  return events;
}

/** Resolves after `n` macrotasks: a bound that needs no timer, fake or real. */
async function macrotasks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A handler that runs until its signal aborts, counting how often it starts. */
function untilAborted(started: string[]) {
  return (_: unknown, ctx: { job: { id: string }; signal: AbortSignal }) =>
    new Promise((_resolve, reject) => {
      started.push(ctx.job.id);
      ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
    });
}

describe("Worker faults: stopping", () => {
  test("item 1: maxTasks reached and settles failing: stop() ends, and the event loop stays free", async () => {
    const { clock, faulty, queue, start } = setup();
    const task = defineTask({ name: "t", handler: () => "ok" });
    await queue.enqueueMany(task, [null, null]);
    faulty.fail("settle");
    const worker = await start({ tasks: [task], maxTasks: 2 });
    await clock.advance(1_000); // both ran; their outcomes cannot be stored
    assert.equal(worker.state, "running");
    const stopping = worker.stop({ timeout: 0 });
    await clock.advance(STOP_GRACE_MS);
    await stopping;
    assert.equal(worker.state, "stopped");
    // A microtask loop here (the old `#stopWhenDrained`) would never let a
    // macrotask run again: this line would never be reached.
    await macrotasks(20);
    const settlesAfterStop = faulty.calls.settle;
    await clock.advance(60_000);
    assert.equal(faulty.calls.settle, settlesAfterStop, "nothing retries after stop");
    assert.equal((await queue.counts()).active, 2, "abandoned: their leases will expire");
  });

  test("item 2: stop({ timeout }) returns at timeout + STOP_GRACE_MS while the server is frozen", async () => {
    const { clock, faulty, queue, start } = setup();
    const started: string[] = [];
    const task = defineTask({ name: "t", handler: untilAborted(started) });
    await queue.enqueue(task, null);
    const worker = await start({ tasks: [task], concurrency: 2, prefetch: 0 });
    assert.equal(started.length, 1);
    faulty.freeze("reserve", "settle", "extendLeases", "waitForWork");
    await queue.enqueue(task, null); // wakes the idle wait: the next reserve hangs
    await clock.flush();
    assert.ok(faulty.calls.reserve >= 2, "the fetch loop is inside a frozen reserve");
    let stoppedAt = -1;
    const stopping = worker.stop({ timeout: 1_000 }).then(() => (stoppedAt = clock.now()));
    const t = clock.now();
    await clock.advance(1_000 + STOP_GRACE_MS - 1);
    assert.equal(stoppedAt, -1);
    await clock.advance(1);
    await stopping;
    assert.equal(stoppedAt - t, 1_000 + STOP_GRACE_MS);
    assert.equal(worker.state, "stopped");
    // The server thaws: the late reservation is handed back, not run.
    faulty.thaw("reserve", "settle", "extendLeases", "waitForWork");
    await clock.advance(0);
    assert.equal(started.length, 1, "nothing starts after stop");
    assert.equal((await queue.counts()).waiting, 2, "both jobs are back in the queue");
  });

  test("item 2: with the server refusing settles, stop() takes timeout + STOP_GRACE_MS, not the lease", async () => {
    const { clock, faulty, queue, start } = setup();
    const task = defineTask({ name: "t", handler: untilAborted([]) });
    await queue.enqueue(task, null);
    const worker = await start({ tasks: [task], leaseMs: 30_000 });
    faulty.fail("settle");
    let stopped = false;
    const stopping = worker.stop({ timeout: 500 }).then(() => (stopped = true));
    await clock.advance(500 + STOP_GRACE_MS - 1);
    assert.equal(stopped, false);
    await clock.advance(1);
    await stopping;
    assert.equal(stopped, true);
  });

  test("item 3: on a FakeClock, stop() with a handler running resolves without advancing the clock", async () => {
    const { queue, start } = setup();
    const started: string[] = [];
    const task = defineTask({ name: "t", handler: untilAborted(started) });
    const job = await queue.enqueue(task, null);
    const worker = await start({ tasks: [task] });
    assert.equal(started.length, 1);
    const outcome = await Promise.race([
      worker.stop().then(() => "stopped"),
      macrotasks(50).then(() => "still waiting for fake time that nobody advances"),
    ]);
    assert.equal(outcome, "stopped");
    const stored = await queue.getJob(job.id);
    assert.equal(stored?.state, "waiting", "handed back");
    assert.equal(stored?.attempt, 0, "not counted");
  });

  test("item 3: an explicit timeout on a FakeClock is still a graceful wait in fake time", async () => {
    const { clock, queue, start } = setup();
    const task = defineTask({ name: "t", handler: () => clock.sleep(2_000).then(() => "done") });
    const job = await queue.enqueue(task, null);
    const worker = await start({ tasks: [task] });
    const stopping = worker.stop({ timeout: 5_000 });
    await clock.advance(2_000);
    await stopping;
    assert.equal((await queue.getJob(job.id))?.result, "done");
  });
});

describe("Worker faults: lost leases", () => {
  test("item 4: jobs whose leases were lost never start here, and unstarted ones do not count toward maxTasks", async () => {
    const { clock, faulty, queue, start } = setup();
    const startedOnA: string[] = [];
    const slow = defineTask({ name: "slow", handler: untilAborted(startedOnA) });
    const jobs = await queue.enqueueMany(slow, [1, 2, 3, 4, 5]);
    const a = await start({
      tasks: [slow],
      id: "A",
      concurrency: 1,
      prefetch: 4,
      maxTasks: 5,
      leaseMs: 3_000,
      heartbeatMs: 1_000,
    });
    assert.equal((await queue.counts()).active, 5, "A holds 1 running + 4 prefetched");
    assert.deepEqual(startedOnA, [jobs[0].id]);
    const stalled = record(a, "stalled");
    faulty.freeze("extendLeases"); // A's renewals hang past the lease
    await clock.advance(3_500);
    // Another worker reclaims all five and runs them.
    const quick = defineTask({ name: "slow", handler: () => "B" });
    const b = new Worker({ storage: faulty.inner, clock, tasks: [quick], id: "B", concurrency: 5 });
    await b.start();
    await clock.flush();
    assert.equal((await queue.counts()).completed, 5);
    await b.stop({ timeout: 0 });
    // A's renewal finally returns: every lease refused.
    faulty.thaw("extendLeases");
    await clock.advance(0);
    assert.deepEqual(startedOnA, [jobs[0].id], "no lost job started on A");
    assert.equal(stalled.length, 5);
    for (const id of jobs.map((j) => j.id)) {
      assert.equal((await queue.getJob(id))?.result, "B", "B's results stand");
    }
    // One job started on A: four more may start before maxTasks stops it.
    await queue.enqueueMany(slow, [6, 7, 8, 9, 10, 11]);
    await clock.flush();
    assert.equal(startedOnA.length, 2);
    assert.equal(a.state, "running");
    a.stop({ timeout: 0 }); // aborts; the others are handed back
    await clock.advance(STOP_GRACE_MS);
  });

  test("item 4: maxTasks counts jobs started, so a lost prefetched job is replaced", async () => {
    const { clock, faulty, queue, start } = setup();
    const ran: number[] = [];
    const task = defineTask({
      name: "t",
      handler: async (n: number) => {
        ran.push(n);
        await clock.sleep(10_000);
      },
    });
    await queue.enqueueMany(task, [1, 2]);
    const a = await start({
      tasks: [task],
      concurrency: 1,
      prefetch: 1,
      maxTasks: 2,
      leaseMs: 3_000,
      heartbeatMs: 1_000,
    });
    assert.deepEqual(ran, [1]);
    faulty.freeze("extendLeases");
    await clock.advance(3_500); // both leases run out; the renewal is still in flight
    const taken = await faulty.inner.reserve({
      queues: ["default"],
      limit: 10,
      owner: "other",
      leaseMs: 60_000,
      now: clock.now(),
    }); // someone else takes them
    assert.equal(taken.jobs.length, 2);
    faulty.thaw("extendLeases");
    await clock.advance(0);
    assert.deepEqual(ran, [1], "job 2 was lost before it started: it never starts here");
    await queue.enqueue(task, 3);
    await clock.advance(0);
    assert.deepEqual(ran, [1, 3], "its place in maxTasks went to job 3");
    await clock.advance(10_000);
    await a.stopped();
    assert.deepEqual(ran, [1, 3]);
  });
});

describe("Worker faults: handlers and middleware", () => {
  test("item 5: a middleware that calls next() twice runs the handler once and fails the attempt", async () => {
    const { clock, queue, start } = setup();
    let calls = 0;
    const twice: Middleware = async (_ctx, next) => {
      await next();
      return await next();
    };
    const task = defineTask({ name: "t", maxAttempts: 1, handler: () => ++calls });
    const job = await queue.enqueue(task, null);
    await start({ tasks: [task], middleware: [twice] });
    await clock.flush();
    assert.equal(calls, 1);
    const stored = await queue.getJob(job.id);
    assert.equal(stored?.state, "failed");
    assert.match(stored?.error?.message ?? "", /middleware\[0\] called next\(\) twice for job /);
  });

  test("item 6: a synchronous handler that outruns its timeout fails with JobTimeoutError", async () => {
    const { clock, queue, start } = setup();
    const task = defineTask({
      name: "busy",
      maxAttempts: 1,
      timeout: 100,
      handler: () => {
        clock.blockFor(500); // a 500 ms busy loop: the timeout timer gets no turn
        return "done";
      },
    });
    const job = await queue.enqueue(task, null);
    await start({ tasks: [task] });
    await clock.advance(0);
    const stored = await queue.getJob(job.id);
    assert.equal(stored?.state, "failed");
    assert.equal(stored?.error?.name, "JobTimeoutError");
    assert.match(stored?.error?.message ?? "", /ran 500 ms, past its 100 ms timeout/);
  });

  test("item 6: a handler that returns within its timeout completes", async () => {
    const { clock, queue, start } = setup();
    const task = defineTask({
      name: "busy",
      timeout: 100,
      handler: () => {
        clock.blockFor(100);
        return "done";
      },
    });
    const job = await queue.enqueue(task, null);
    await start({ tasks: [task] });
    await clock.advance(0);
    assert.equal((await queue.getJob(job.id))?.result, "done");
  });
});

describe("Worker faults: health", () => {
  test("item 7: while settles fail the worker reserves nothing more, backs off and reports unhealthy", async () => {
    const { clock, faulty, queue, start } = setup();
    const task = defineTask({ name: "t", handler: () => "ok" });
    await queue.enqueueMany(task, Array.from({ length: 200 }, (_, i) => i));
    faulty.fail("settle");
    const worker = await start({ tasks: [task], concurrency: 10, prefetch: 0 });
    const errors = record(worker, "error");
    await clock.advance(10_000);
    // The first batch ran, and a second was reserved while its settle was
    // still in flight; after that failed, nothing more (old code: all 200).
    assert.equal((await queue.counts()).active, 20);
    await clock.advance(60_000);
    assert.equal((await queue.counts()).active, 20, "still nothing more");
    const health = worker.health();
    assert.equal(health.healthy, false);
    assert.deepEqual(health.failing, ["settle"]);
    assert.ok(health.storageFailures >= 5);
    // Backoff: doubling from 100 ms to 5 s (about 17 tries in 70 s), not a retry per turn.
    assert.ok(errors.length <= 20, `${errors.length} settle attempts in 70 s`);
    assert.deepEqual([...new Set(errors.map((e) => e.during))], ["settle"]);
    faulty.heal("settle");
    await clock.advance(5_000);
    assert.equal((await queue.counts()).completed, 200);
    assert.equal(worker.health().healthy, true);
    assert.deepEqual(worker.health().failing, []);
    await worker.stop();
  });

  test("item 7: while lease renewals fail the worker reserves nothing, and a lease that runs out aborts its handler", async () => {
    const { clock, faulty, queue, start } = setup();
    const started: string[] = [];
    const task = defineTask({ name: "t", handler: untilAborted(started) });
    await queue.enqueueMany(task, [1, 2, 3]);
    const worker = await start({
      tasks: [task],
      concurrency: 1,
      prefetch: 0,
      leaseMs: 3_000,
      heartbeatMs: 1_000,
    });
    const stalled = record(worker, "stalled");
    faulty.fail("extendLeases");
    await clock.advance(1_000);
    assert.equal(worker.health().healthy, false);
    assert.deepEqual(worker.health().failing, ["lease renewal"]);
    await clock.advance(2_000); // the lease has run out
    assert.equal(stalled.length, 1);
    assert.equal(started.length, 1, "no new job while renewals fail");
    faulty.heal("extendLeases");
    await clock.advance(1_000);
    assert.equal(worker.health().healthy, true);
    assert.ok(started.length >= 2, "reserving again");
    await worker.stop();
  });

  test("item 7: lastHeartbeatAt is the start time until the first heartbeat", async () => {
    const { clock, start, t0 } = setup();
    const task = defineTask({ name: "t", handler: () => {} });
    const worker = await start({ tasks: [task], leaseMs: 3_000, heartbeatMs: 1_000 });
    assert.equal(worker.health().lastHeartbeatAt, t0);
    assert.equal(worker.health().healthy, true);
    await clock.advance(1_000);
    assert.equal(worker.health().lastHeartbeatAt, t0 + 1_000);
    await worker.stop();
  });
});
