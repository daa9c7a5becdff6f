// Queue.events(), result() from events (no polling), workers() and
// queues(), on MemoryStorage and a FakeClock.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  defineTask,
  fixed,
  JobFailedError,
  MemoryStorage,
  type MemoryStorageOptions,
  Queue,
  ResultTimeoutError,
  type Storage,
  type StorageEvent,
  Worker,
  WORKER_STREAM,
  type WorkerInfo,
} from "../mod.ts";
import { FakeClock } from "../testing.ts";

/** Calls the Queue made: getJob in total, readEvents in total and in flight at most. */
interface Calls {
  getJob: number;
  readEvents: number;
  reading: number;
  maxReading: number;
}

function setup(options: Omit<MemoryStorageOptions, "clock"> = {}) {
  const clock = new FakeClock();
  const storage = new MemoryStorage({ clock, ...options });
  const calls: Calls = { getJob: 0, readEvents: 0, reading: 0, maxReading: 0 };
  // Counts what the Queue asks of the storage (a Proxy keeps every other member as is).
  const counted = new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (key === "getJob") {
        return (id: string) => {
          calls.getJob++;
          return target.getJob(id);
        };
      }
      if (key === "readEvents") {
        return (request: Parameters<Storage["readEvents"]>[0]) => {
          calls.readEvents++;
          calls.maxReading = Math.max(calls.maxReading, ++calls.reading);
          return target.readEvents(request).finally(() => calls.reading--);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Storage;
  const queue = new Queue({ storage: counted, clock });
  return { clock, storage, queue, calls };
}

async function take(events: AsyncIterator<StorageEvent>, n: number): Promise<StorageEvent[]> {
  const got: StorageEvent[] = [];
  while (got.length < n) {
    const next = await events.next();
    assert.equal(next.done, false, `the stream ended after ${got.length} of ${n} events`);
    got.push(next.value);
  }
  return got;
}

/** Reserves every waiting job of "default" and settles each with `settle`. */
async function finishAll(
  storage: MemoryStorage,
  clock: FakeClock,
  settle: "complete" | "fail",
): Promise<number> {
  const now = clock.now();
  const { jobs } = await storage.reserve({
    queues: ["default"],
    limit: 10_000,
    owner: "hand",
    leaseMs: 60_000,
    now,
  });
  const error = { message: "broken", name: "Error", attempt: 1, at: now };
  await storage.settle(
    jobs.map((job) =>
      settle === "complete"
        ? { kind: "complete", id: job.id, token: job.lease!.token, result: { done: job.payload } }
        : { kind: "fail", id: job.id, token: job.lease!.token, error }
    ),
    { now },
  );
  return jobs.length;
}

function fakeWorker(id: string, at: number): WorkerInfo {
  return {
    id,
    host: "elsewhere",
    pid: 7,
    runtime: "node",
    runtimeVersion: "24.0.0",
    queues: ["default"],
    concurrency: 1,
    running: 0,
    processed: 0,
    failed: 0,
    startedAt: at,
    lastSeen: at,
  };
}

describe("Queue.events", () => {
  test("a worker's run shows as enqueued, active, completed; retrying then failed", async () => {
    const { clock, storage, queue } = setup();
    const double = defineTask({ name: "double", handler: (n: number) => n * 2 });
    const broken = defineTask({
      name: "broken",
      maxAttempts: 2,
      retry: fixed(100),
      handler: (): number => {
        throw new Error("nope");
      },
    });
    const events = queue.events({ queues: ["default"], after: { default: "0" } });
    const worker = new Worker({ storage, clock, tasks: [double, broken] });
    await worker.start();
    const a = await queue.enqueue(double, 21);
    const resultA = queue.result(a.id);
    await clock.flush();
    assert.equal(await resultA, 42);
    const b = await queue.enqueue(broken, null);
    const failedB = assert.rejects(queue.result(b.id), JobFailedError); // handled from the start
    await clock.flush();
    await clock.advance(100);
    await failedB;
    const seen = await take(events, 8);
    const of = (id: string) =>
      seen.filter((event) => "jobId" in event && event.jobId === id).map((event) => event.type);
    assert.deepEqual(of(a.id), ["enqueued", "active", "completed"]);
    assert.deepEqual(of(b.id), ["enqueued", "active", "retrying", "active", "failed"]);
    const completed = seen.find((event) => event.type === "completed");
    assert.deepEqual(completed && "result" in completed && completed.result, 42);
    assert.deepEqual(seen.map((event) => event.id), ["1", "2", "3", "4", "5", "6", "7", "8"]);
    await events.return!();
    const stopping = worker.stop({ timeout: 0 });
    await clock.advance(60_000);
    await stopping;
  });

  test("without queues it follows every queue, and a queue made later joins from its start", async () => {
    const { clock, queue } = setup();
    await queue.enqueue("t", 1, { queue: "early" });
    const events = queue.events();
    const first = events.next(); // lists the queues ("early") and waits at their ends
    await clock.flush();
    await queue.enqueue("t", 2, { queue: "early" });
    const [early] = await take({ next: () => first }, 1);
    assert.equal(early.type === "enqueued" && early.queue, "early");
    await queue.enqueue("t", 3, { queue: "late" });
    const next = events.next();
    await clock.advance(5_000); // the quiet wait ends: the queues are listed again
    const late = (await next).value as StorageEvent;
    assert.equal(late.type === "enqueued" && late.queue, "late");
    await events.return!();
  });

  test("the workers' stream, with workers: true", async () => {
    const { clock, storage, queue } = setup();
    const events = queue.events({ queues: [], workers: true });
    const first = events.next();
    await clock.flush();
    await storage.registerWorker(fakeWorker("w1", clock.now()), "online", 3_000, clock.now());
    const { value } = await first;
    assert.equal(value?.type, "online");
    assert.equal(value && "worker" in value && value.worker.id, "w1");
    assert.deepEqual(Object.keys(events.cursors), [WORKER_STREAM]);
    await events.return!();
  });

  test("a reader that fell behind the backlog is told how many it missed", async () => {
    const { queue } = setup({ eventBacklog: 3 });
    for (let i = 0; i < 10; i++) await queue.enqueue("t", i);
    const missed: number[] = [];
    const events = queue.events({
      queues: ["default"],
      after: { default: "0" },
      onMissed: (gap) => missed.push(gap.count),
    });
    const got = await take(events, 3);
    assert.deepEqual(got.map((event) => event.id), ["8", "9", "10"]);
    assert.deepEqual(missed, [7]);
    assert.equal(events.missed, 7);
    await events.return!();
  });

  test("the signal ends a for-await loop; break ends it too", async () => {
    const { clock, queue } = setup();
    const stop = new AbortController();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const event of queue.events({ queues: ["default"], signal: stop.signal })) {
        seen.push(event.type);
      }
    })();
    await clock.flush();
    await queue.enqueue("t", 1);
    await clock.flush();
    stop.abort();
    await loop;
    assert.deepEqual(seen, ["enqueued"]);
  });

  test("bad options are named; a storage with events off refuses", () => {
    const { queue } = setup();
    assert.throws(() => queue.events({ queus: [] } as never), /queus is not an option/);
    assert.throws(() => queue.events({ queues: [""] }), /queues\[0\]/);
    assert.throws(() => queue.events({ after: { default: "x" } }), /after\["default"\]/);
    assert.throws(() => queue.events({ workers: "yes" as never }), /workers must be a boolean/);
    const off = setup({ eventBacklog: 0 }).queue;
    assert.throws(() => off.events(), /eventBacklog is 0/);
  });
});

describe("Queue.result from events", () => {
  test("resolves on completion with no polling and no clock advance", async () => {
    const { clock, storage, queue, calls } = setup();
    const job = await queue.enqueue("t", 5);
    const result = queue.result(job.id);
    await clock.flush();
    const before = calls.getJob;
    await finishAll(storage, clock, "complete");
    assert.deepEqual(await result, { done: 5 });
    assert.equal(calls.getJob, before, "no getJob after the subscription: the event resolved it");
    assert.equal(calls.getJob, 2, "one look before subscribing, one after");
  });

  test("rejects with JobFailedError on failure and RangeError on removal", async () => {
    const { clock, storage, queue } = setup();
    const failing = await queue.enqueue("t", 1);
    const failed = queue.result(failing.id);
    await clock.flush();
    await finishAll(storage, clock, "fail");
    await assert.rejects(failed, (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.jobError.message, "broken");
      return true;
    });
    const doomed = await queue.enqueue("t", 2, { delay: 10_000 });
    const removed = queue.result(doomed.id);
    await clock.flush();
    assert.equal(await queue.remove(doomed.id), true);
    await assert.rejects(removed, RangeError);
  });

  test("a job retried after a failure keeps its waiter waiting (the stale failed event is checked)", async () => {
    const { clock, storage, queue } = setup();
    const job = await queue.enqueue("t", 1);
    await finishAll(storage, clock, "fail");
    assert.equal(await queue.retryFailed(job.id), true);
    const result = queue.result(job.id);
    await clock.flush();
    await finishAll(storage, clock, "complete");
    assert.deepEqual(await result, { done: 1 });
  });

  test("times out on the injected clock, and the reader stops with the last waiter", async () => {
    const { clock, queue, calls } = setup();
    const job = await queue.enqueue("t", 1);
    const timedOut = assert.rejects(queue.result(job.id, { timeout: 1_000 }), ResultTimeoutError);
    await clock.flush();
    assert.equal(calls.reading, 1, "one blocking read while a waiter waits");
    await clock.advance(1_000);
    await timedOut;
    await clock.flush();
    assert.equal(calls.reading, 0, "no read once no one waits");
  });

  test("timeout 0 on an unfinished job times out at once, as when polling", async () => {
    const { queue } = setup();
    const job = await queue.enqueue("t", 1);
    await assert.rejects(queue.result(job.id, { timeout: 0 }), ResultTimeoutError);
  });

  test("1 000 waiters share one reader: one blocking read at a time", async () => {
    const { clock, storage, queue, calls } = setup();
    const jobs = await queue.enqueueMany("t", Array.from({ length: 1_000 }, (_, i) => i));
    const results = jobs.map((job) => queue.result(job.id));
    await clock.flush();
    assert.equal(calls.reading, 1);
    assert.equal(await finishAll(storage, clock, "complete"), 1_000);
    const values = await Promise.all(results);
    assert.deepEqual(values[999], { done: 999 });
    assert.equal(calls.maxReading, 1, "never two reads at once");
    assert.ok(calls.readEvents <= 5, `${calls.readEvents} reads for 1 000 waiters`);
    assert.equal(calls.getJob, 2_000, "two looks per waiter, none after");
  });

  test("a storage with events off is polled every pollInterval", async () => {
    const { clock, storage, queue, calls } = setup({ eventBacklog: 0 });
    const job = await queue.enqueue("t", 3);
    const result = queue.result(job.id, { pollInterval: 10 });
    await clock.flush();
    await finishAll(storage, clock, "complete");
    await clock.advance(10);
    assert.deepEqual(await result, { done: 3 });
    assert.equal(calls.readEvents, 0);
  });
});

describe("Queue.workers and Queue.queues", () => {
  test("a running worker is listed with what it says of itself, and leaves at stop", async () => {
    const { clock, storage, queue } = setup();
    const worker = new Worker({
      storage,
      clock,
      tasks: [defineTask({ name: "t", handler: () => {} })],
      queues: ["default", "mail"],
      concurrency: 3,
      heartbeatMs: 1_000,
    });
    await worker.start();
    await clock.flush();
    const [listed, ...others] = await queue.workers();
    assert.deepEqual(others, []);
    assert.equal(listed.id, worker.id);
    assert.deepEqual(listed.queues, ["default", "mail"]);
    assert.equal(listed.concurrency, 3);
    assert.ok(["deno", "bun", "node"].includes(listed.runtime), listed.runtime);
    assert.notEqual(listed.runtimeVersion, "");
    const events = queue.events({ queues: [], workers: true });
    const beat = events.next();
    await clock.advance(1_000);
    assert.equal((await beat).value?.type, "heartbeat");
    await events.return!();
    const stopping = worker.stop({ timeout: 0 });
    await clock.advance(60_000);
    await stopping;
    assert.deepEqual(await queue.workers(), []);
  });

  test("a worker that goes silent leaves after its ttl (3 heartbeats) with an expired event", async () => {
    const { clock, storage, queue } = setup();
    await storage.registerWorker(fakeWorker("gone", clock.now()), "online", 3_000, clock.now());
    assert.deepEqual((await queue.workers()).map((worker) => worker.id), ["gone"]);
    await clock.advance(2_999);
    assert.equal((await queue.workers()).length, 1);
    await clock.advance(1);
    assert.deepEqual(await queue.workers(), []);
    const page = await storage.readEvents({
      queues: [],
      workers: true,
      after: { [WORKER_STREAM]: "0" },
      limit: 10,
      maxWaitMs: 0,
    });
    const last = page.events.at(-1)!;
    assert.deepEqual(
      [last.type, "reason" in last && last.reason],
      ["offline", "expired"],
    );
  });

  test("queues() lists every queue with counts and paused", async () => {
    const { queue } = setup();
    await queue.enqueue("t", 1, { queue: "mail" });
    await queue.pause("reports");
    const listed = await queue.queues();
    assert.deepEqual(listed.map((q) => [q.name, q.counts.waiting, q.paused]), [
      ["mail", 1, false],
      ["reports", 0, true],
    ]);
  });
});
