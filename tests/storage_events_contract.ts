/**
 * The conformance suite of the Storage port's observability half: events
 * (`readEvents`, `eventBacklog`), the worker registry and `queues()`, as
 * written in `core/storage.ts` and `core/storage_events.ts`. Each adapter's
 * test file calls {@linkcode storageEventsContract} once.
 *
 * Clock-free like `storage_contract.ts`: every call gets an explicit `now`.
 * The only real waits are the blocking reads, each bounded by a safety
 * deadline, and the test checks the read ended because of the event.
 *
 * @module
 */

import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { NewJob, Retention, Storage } from "../core/storage.ts";
import {
  DEFAULT_EVENT_BACKLOG,
  type EventPage,
  type EventRead,
  type StorageEvent,
  WORKER_STREAM,
  type WorkerInfo,
} from "../core/storage_events.ts";
import type { ContractFixture } from "./storage_contract.ts";

/** What the suite asks of an adapter's factory, per test. */
export interface EventsFixtureOptions {
  /** Events kept per stream; left out: the adapter's default. */
  eventBacklog?: number;
}

/** A fixture of this suite: the storage contract's, and what a trimmed stream may keep. */
export interface EventsFixture extends ContractFixture {
  /**
   * How many events beyond `eventBacklog` a stream may keep (an adapter
   * trimming approximately, like Redis `XADD MAXLEN ~`). Default 0: exactly
   * the backlog.
   */
  backlogSlack?: number;
}

const T0 = 1_000_000;
const LEASE = 30_000;
/** Real ms a blocking read may take before the test gives up on it. */
const SAFETY_MS = 5_000;
const KEEP_NONE: Retention = {
  completed: { count: 0, age: 0 },
  failed: { count: 0, age: 0 },
};

function newJob(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: "events_task",
    queue: "alpha",
    payload: { id },
    priority: 0,
    maxAttempts: 3,
    maxStalls: 1,
    timeout: 0,
    runAt: T0,
    ...overrides,
  };
}

function workerInfo(id: string, overrides: Partial<WorkerInfo> = {}): WorkerInfo {
  return {
    id,
    host: "host-1",
    pid: 42,
    runtime: "deno",
    runtimeVersion: "2.0.0",
    queues: ["alpha"],
    concurrency: 4,
    running: 0,
    processed: 0,
    failed: 0,
    startedAt: T0,
    lastSeen: T0,
    ...overrides,
  };
}

/** The event without undefined keys, so adapters may omit or keep them. */
function plain(event: StorageEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([, value]) => value !== undefined));
}

/** Everything kept in the streams of `queues` (and the workers' if asked), from the oldest. */
async function readAll(storage: Storage, queues: string[], workers = false): Promise<EventPage> {
  const after: Record<string, string> = {};
  for (const queue of queues) after[queue] = "0";
  if (workers) after[WORKER_STREAM] = "0";
  return await storage.readEvents({ queues, workers, after, limit: 10_000, maxWaitMs: 0 });
}

/** The events of one queue, from the oldest kept, without undefined keys. */
async function queueEvents(storage: Storage, queue = "alpha"): Promise<Record<string, unknown>[]> {
  return (await readAll(storage, [queue])).events.map(plain);
}

async function reserveOne(storage: Storage, owner: string, now: number) {
  const { jobs } = await storage.reserve({
    queues: ["alpha"],
    limit: 1,
    owner,
    leaseMs: LEASE,
    now,
  });
  assert.equal(jobs.length, 1, "expected a job to reserve");
  return { id: jobs[0].id, token: jobs[0].lease!.token };
}

/** Resolves with what the read returned, or "deadline" after SAFETY_MS of real time. */
function withinDeadline(read: Promise<EventPage>): Promise<EventPage | "deadline"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), SAFETY_MS);
  });
  return Promise.race([read, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Registers the suite for one adapter under `describe(name)`. `open` is
 * called in each test for a fresh, empty fixture (with the options the test
 * needs, such as a small backlog), and its `cleanup` after the test.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../adapters/memory/mod.ts";
 * import { storageEventsContract } from "./storage_events_contract.ts";
 *
 * storageEventsContract("MemoryStorage", (options = {}) =>
 *   Promise.resolve({ storage: new MemoryStorage(options), cleanup: () => Promise.resolve() }));
 * ```
 */
export function storageEventsContract(
  name: string,
  open: (options?: EventsFixtureOptions) => Promise<EventsFixture>,
): void {
  describe(`Storage events contract: ${name}`, () => {
    const opened: EventsFixture[] = [];
    async function fresh(options?: EventsFixtureOptions): Promise<EventsFixture> {
      const fixture = await open(options);
      opened.push(fixture);
      return fixture;
    }
    async function storageOf(options?: EventsFixtureOptions): Promise<Storage> {
      return (await fresh(options)).storage;
    }
    afterEach(async () => {
      for (const fixture of opened.splice(0)) await fixture.cleanup();
    });

    test("eventBacklog is the default when the adapter is not told otherwise", async () => {
      assert.equal((await storageOf()).eventBacklog, DEFAULT_EVENT_BACKLOG);
      assert.equal((await storageOf({ eventBacklog: 5 })).eventBacklog, 5);
    });

    test("enqueue writes an enqueued event per created job, none for a duplicate", async () => {
      const storage = await storageOf();
      await storage.enqueue([newJob("a"), newJob("b", { runAt: T0 + 500, name: "other" })], T0);
      await storage.enqueue([newJob("a")], T0 + 1);
      assert.deepEqual(await queueEvents(storage), [
        {
          id: "1",
          at: T0,
          queue: "alpha",
          jobId: "a",
          type: "enqueued",
          name: "events_task",
          runAt: T0,
        },
        {
          id: "2",
          at: T0,
          queue: "alpha",
          jobId: "b",
          type: "enqueued",
          name: "other",
          runAt: T0 + 500,
        },
      ]);
    });

    test("reserve writes active with the attempt and the owner as workerId", async () => {
      const storage = await storageOf();
      await storage.enqueue([newJob("a")], T0);
      await reserveOne(storage, "worker-1", T0 + 10);
      const events = await queueEvents(storage);
      assert.deepEqual(events[1], {
        id: "2",
        at: T0 + 10,
        queue: "alpha",
        jobId: "a",
        type: "active",
        attempt: 1,
        workerId: "worker-1",
      });
    });

    test("settle writes completed with the result, retrying, failed and waiting (released)", async () => {
      const storage = await storageOf();
      await storage.enqueue(["c", "r", "f", "l", "n"].map((id) => newJob(id)), T0);
      const { jobs } = await storage.reserve({
        queues: ["alpha"],
        limit: 5,
        owner: "w",
        leaseMs: LEASE,
        now: T0,
      });
      const token = (id: string) => jobs.find((job) => job.id === id)!.lease!.token;
      const error = { message: "boom", name: "Error", attempt: 1, at: T0 + 1 };
      const applied = await storage.settle([
        { kind: "complete", id: "c", token: token("c"), result: { ok: [1, 2] } },
        { kind: "retry", id: "r", token: token("r"), error, runAt: T0 + 1_000 },
        { kind: "fail", id: "f", token: token("f"), error },
        { kind: "release", id: "l", token: token("l") },
        { kind: "complete", id: "n", token: token("n") },
      ], { now: T0 + 1 });
      assert.deepEqual(applied, [true, true, true, true, true]);
      const settled = (await queueEvents(storage)).slice(10);
      const base = { at: T0 + 1, queue: "alpha" };
      assert.deepEqual(settled, [
        { ...base, id: "11", jobId: "c", type: "completed", result: { ok: [1, 2] } },
        { ...base, id: "12", jobId: "r", type: "retrying", error, runAt: T0 + 1_000 },
        { ...base, id: "13", jobId: "f", type: "failed", error },
        { ...base, id: "14", jobId: "l", type: "waiting", reason: "released" },
        { ...base, id: "15", jobId: "n", type: "completed" },
      ]);
    });

    test("a refused settle writes nothing", async () => {
      const storage = await storageOf();
      await storage.enqueue([newJob("a")], T0);
      await reserveOne(storage, "w", T0);
      assert.deepEqual(
        await storage.settle([{ kind: "complete", id: "a", token: "stale" }], { now: T0 + 1 }),
        [false],
      );
      assert.equal((await queueEvents(storage)).length, 2);
    });

    test("setProgress, retryFailed, remove and removeFailed write their events", async () => {
      const storage = await storageOf();
      await storage.enqueue([newJob("a"), newJob("b")], T0);
      const a = await reserveOne(storage, "w", T0);
      assert.equal(await storage.setProgress(a.id, a.token, { pct: 50 }, T0 + 1), true);
      const error = { message: "no", name: "Error", attempt: 1, at: T0 + 2 };
      await storage.settle([{ kind: "fail", id: "a", token: a.token, error }], { now: T0 + 2 });
      assert.equal(await storage.retryFailed("a", T0 + 3), true);
      assert.equal(await storage.remove("b", T0 + 4), true);
      const again = await reserveOne(storage, "w", T0 + 5);
      await storage.settle([{ kind: "fail", id: "a", token: again.token, error }], { now: T0 + 6 });
      assert.equal(await storage.removeFailed("a", T0 + 7), true);
      assert.equal(await storage.remove("missing", T0 + 8), false);
      const events = await queueEvents(storage);
      assert.deepEqual(events.map((event) => [event.type, event.jobId, event.at]), [
        ["enqueued", "a", T0],
        ["enqueued", "b", T0],
        ["active", "a", T0],
        ["progress", "a", T0 + 1],
        ["failed", "a", T0 + 2],
        ["waiting", "a", T0 + 3],
        ["removed", "b", T0 + 4],
        ["active", "a", T0 + 5],
        ["failed", "a", T0 + 6],
        ["removed", "a", T0 + 7],
      ]);
      assert.deepEqual(events[3].progress, { pct: 50 });
      assert.equal(events[5].reason, "retried");
      assert.equal(events[7].attempt, 1, "retryFailed resets the attempt");
    });

    test("promote writes a waiting event with reason promoted, and nothing when it refuses", async () => {
      const storage = await storageOf();
      await storage.enqueue([newJob("d", { runAt: T0 + 60_000 }), newJob("w")], T0);
      assert.equal(await storage.promote("d", T0 + 1), true);
      assert.equal(await storage.promote("d", T0 + 2), false);
      assert.equal(await storage.promote("w", T0 + 3), false);
      const events = await queueEvents(storage);
      assert.deepEqual(events.map((event) => [event.type, event.jobId, event.at]), [
        ["enqueued", "d", T0],
        ["enqueued", "w", T0],
        ["waiting", "d", T0 + 1],
      ]);
      assert.equal(events[2].reason, "promoted");
    });

    test("pause and resume write events only when they change the flag", async () => {
      const storage = await storageOf();
      await storage.pause("alpha", T0);
      await storage.pause("alpha", T0 + 1);
      await storage.resume("alpha", T0 + 2);
      await storage.resume("alpha", T0 + 3);
      assert.deepEqual(await queueEvents(storage), [
        { id: "1", at: T0, queue: "alpha", type: "paused" },
        { id: "2", at: T0 + 2, queue: "alpha", type: "resumed" },
      ]);
    });

    test("a reclaim writes stalled (then failed when it fails the job), before the actives", async () => {
      const storage = await storageOf();
      await storage.enqueue(
        [newJob("back", { maxStalls: 1 }), newJob("dead", { maxStalls: 0 })],
        T0,
      );
      const { jobs } = await storage.reserve({
        queues: ["alpha"],
        limit: 2,
        owner: "w1",
        leaseMs: LEASE,
        now: T0,
      });
      assert.equal(jobs.length, 2);
      await storage.reserve({
        queues: ["alpha"],
        limit: 5,
        owner: "w2",
        leaseMs: LEASE,
        now: T0 + LEASE,
      });
      const events = (await queueEvents(storage)).slice(4);
      assert.deepEqual(events.map((event) => [event.type, event.jobId]), [
        ["stalled", "back"],
        ["stalled", "dead"],
        ["failed", "dead"],
        ["active", "back"],
      ]);
      assert.equal(events[0].failed, false);
      assert.equal(events[1].failed, true);
      assert.equal((events[2].error as { name: string }).name, "StalledError");
      assert.deepEqual([events[3].attempt, events[3].workerId, events[3].at], [
        2,
        "w2",
        T0 + LEASE,
      ]);
    });

    test("promotions of delayed jobs and retention pruning make no events", async () => {
      const storage = await storageOf();
      await storage.enqueue([newJob("a", { runAt: T0 + 100 })], T0);
      const { id, token } = await reserveOne(storage, "w", T0 + 100);
      await storage.settle([{ kind: "complete", id, token, result: 1 }], {
        now: T0 + 101,
        retention: KEEP_NONE,
      });
      await storage.prune("alpha", KEEP_NONE, T0 + 200);
      assert.deepEqual((await queueEvents(storage)).map((event) => event.type), [
        "enqueued",
        "active",
        "completed",
      ]);
    });

    test("ids count 1, 2, ... without gaps and events keep call order across many calls", async () => {
      const storage = await storageOf();
      const expected: string[] = [];
      for (let i = 0; i < 30; i++) {
        await storage.enqueue([newJob(`j${i}`)], T0 + i);
        const { id, token } = await reserveOne(storage, "w", T0 + i);
        await storage.settle([{ kind: "complete", id, token, result: i }], { now: T0 + i });
        expected.push(`enqueued:j${i}`, `active:j${i}`, `completed:j${i}`);
      }
      const events = await queueEvents(storage);
      assert.deepEqual(events.map((event) => `${event.type}:${event.jobId}`), expected);
      assert.deepEqual(events.map((event) => event.id), expected.map((_, i) => String(i + 1)));
    });

    test('a read replays from an id, from "0", and pages by limit', async () => {
      const storage = await storageOf();
      await storage.enqueue(["a", "b", "c", "d"].map((id) => newJob(id)), T0);
      const from2 = await storage.readEvents({
        queues: ["alpha"],
        after: { alpha: "2" },
        limit: 100,
        maxWaitMs: 0,
      });
      assert.deepEqual(from2.events.map((event) => event.id), ["3", "4"]);
      assert.deepEqual(from2.cursors, { alpha: "4" });
      const page = await storage.readEvents({
        queues: ["alpha"],
        after: { alpha: "0" },
        limit: 3,
        maxWaitMs: 0,
      });
      assert.deepEqual(page.events.map((event) => event.id), ["1", "2", "3"]);
      assert.deepEqual(page.cursors, { alpha: "3" });
      const rest = await storage.readEvents({
        queues: ["alpha"],
        after: page.cursors,
        limit: 3,
        maxWaitMs: 0,
      });
      assert.deepEqual(rest.events.map((event) => event.id), ["4"]);
      const none = await storage.readEvents({
        queues: ["alpha"],
        after: rest.cursors,
        limit: 3,
        maxWaitMs: 0,
      });
      assert.deepEqual(none, { events: [], cursors: { alpha: "4" } });
    });

    test("a stream left out of after is read from its end, and its cursor says where that is", async () => {
      const storage = await storageOf();
      const empty = await storage.readEvents({
        queues: ["alpha"],
        after: {},
        limit: 10,
        maxWaitMs: 0,
      });
      assert.deepEqual(empty, { events: [], cursors: { alpha: "0" } });
      await storage.enqueue([newJob("old")], T0);
      const atEnd = await storage.readEvents({
        queues: ["alpha"],
        after: {},
        limit: 10,
        maxWaitMs: 0,
      });
      assert.deepEqual(atEnd, { events: [], cursors: { alpha: "1" } });
      await storage.enqueue([newJob("new")], T0 + 1);
      const next = await storage.readEvents({
        queues: ["alpha"],
        after: atEnd.cursors,
        limit: 10,
        maxWaitMs: 0,
      });
      assert.deepEqual(next.events.map((event) => (event as { jobId: string }).jobId), ["new"]);
    });

    test("a blocking read is woken by an event from another call", async () => {
      const storage = await storageOf();
      await storage.enqueue([newJob("before")], T0);
      const abort = new AbortController();
      const request: EventRead = {
        queues: ["alpha"],
        after: {},
        limit: 10,
        maxWaitMs: 60_000,
        signal: abort.signal,
      };
      const read = storage.readEvents(request);
      try {
        // Let the read start waiting before the event.
        await new Promise((resolve) => setTimeout(resolve, 20));
        await storage.enqueue([newJob("after")], T0 + 1);
        const page = await withinDeadline(read);
        assert.notEqual(page, "deadline", "the read should end because of the enqueue");
        const { events, cursors } = page as EventPage;
        assert.deepEqual(events.map((event) => (event as { jobId: string }).jobId), ["after"]);
        assert.deepEqual(cursors, { alpha: "2" });
      } finally {
        abort.abort();
        await read;
      }
    });

    test("an abort ends a blocking read with nothing", async () => {
      const storage = await storageOf();
      const abort = new AbortController();
      const read = storage.readEvents({
        queues: ["alpha"],
        after: { alpha: "0" },
        limit: 10,
        maxWaitMs: 60_000,
        signal: abort.signal,
      });
      abort.abort();
      const page = await withinDeadline(read);
      assert.deepEqual(page, { events: [], cursors: { alpha: "0" } });
    });

    test("one read follows two queues, each with its own cursor", async () => {
      const storage = await storageOf();
      await storage.enqueue([newJob("a1"), newJob("b1", { queue: "beta" })], T0);
      await storage.enqueue([newJob("b2", { queue: "beta" })], T0 + 1);
      const page = await readAll(storage, ["alpha", "beta"]);
      assert.deepEqual(page.cursors, { alpha: "1", beta: "2" });
      const byQueue = (queue: string) =>
        page.events.filter((event) => "queue" in event && event.queue === queue)
          .map((event) => (event as { jobId: string }).jobId);
      assert.deepEqual(byQueue("alpha"), ["a1"]);
      assert.deepEqual(byQueue("beta"), ["b1", "b2"]);
    });

    test("a trimmed stream keeps its newest events with consecutive ids; a late reader sees a jump", async () => {
      const fixture = await fresh({ eventBacklog: 5 });
      const storage = fixture.storage;
      const slack = fixture.backlogSlack ?? 0;
      const total = 5 + slack + 10;
      for (let i = 1; i <= total; i++) await storage.enqueue([newJob(`j${i}`)], T0 + i);
      const { events, cursors } = await readAll(storage, ["alpha"]);
      assert.equal(cursors.alpha, String(total));
      assert.ok(events.length >= 5, `kept ${events.length}, fewer than the backlog`);
      assert.ok(events.length <= 5 + slack, `kept ${events.length}, more than backlog + slack`);
      const ids = events.map((event) => Number(event.id));
      assert.deepEqual(
        ids,
        ids.map((_, i) => total - ids.length + 1 + i),
        "consecutive, newest kept",
      );
      const late = await storage.readEvents({
        queues: ["alpha"],
        after: { alpha: "1" },
        limit: 100,
        maxWaitMs: 0,
      });
      assert.ok(Number(late.events[0].id) > 2, "a reader behind the cut sees a jump");
    });

    test("eventBacklog 0 writes no event", async () => {
      const storage = await storageOf({ eventBacklog: 0 });
      assert.equal(storage.eventBacklog, 0);
      await storage.enqueue([newJob("a")], T0);
      const { id, token } = await reserveOne(storage, "w", T0);
      await storage.settle([{ kind: "complete", id, token }], { now: T0 });
      await storage.pause("alpha", T0);
      await storage.registerWorker(workerInfo("w"), "online", 1_000, T0);
      await storage.unregisterWorker("w", T0);
      const page = await readAll(storage, ["alpha"], true);
      assert.deepEqual(page.events, []);
      assert.equal((await storage.counts("alpha")).completed, 1, "the jobs work as ever");
    });

    test("registerWorker lists workers by id until they expire; heartbeat replaces the info", async () => {
      const storage = await storageOf();
      await storage.registerWorker(workerInfo("w2"), "online", 1_000, T0);
      await storage.registerWorker(workerInfo("w1"), "online", 3_000, T0);
      assert.deepEqual((await storage.workers(T0 + 1)).map((worker) => worker.id), ["w1", "w2"]);
      const renewed = workerInfo("w2", { running: 3, processed: 7, lastSeen: T0 + 500 });
      await storage.registerWorker(renewed, "heartbeat", 1_000, T0 + 500);
      assert.deepEqual(await storage.workers(T0 + 1_499), [workerInfo("w1"), renewed]);
      assert.deepEqual((await storage.workers(T0 + 1_500)).map((worker) => worker.id), ["w1"]);
      const { events } = await readAll(storage, [], true);
      assert.deepEqual(events.map((event) => plain(event)), [
        { id: "1", at: T0, type: "online", worker: workerInfo("w2") },
        { id: "2", at: T0, type: "online", worker: workerInfo("w1") },
        { id: "3", at: T0 + 500, type: "heartbeat", worker: renewed },
        { id: "4", at: T0 + 1_500, type: "offline", worker: renewed, reason: "expired" },
      ]);
    });

    test("registerWorker removes the expired too, and unregisterWorker writes offline (stopped)", async () => {
      const storage = await storageOf();
      await storage.registerWorker(workerInfo("old"), "online", 1_000, T0);
      await storage.registerWorker(workerInfo("new"), "online", 5_000, T0 + 1_000);
      await storage.unregisterWorker("new", T0 + 2_000);
      assert.deepEqual(await storage.workers(T0 + 2_000), []);
      const { events, cursors } = await readAll(storage, [], true);
      assert.deepEqual(
        events.map((event) => {
          const { type, reason, worker } = event as {
            type: string;
            reason?: string;
            worker: WorkerInfo;
          };
          return [type, worker.id, reason ?? null, event.at];
        }),
        [
          ["online", "old", null, T0],
          ["offline", "old", "expired", T0 + 1_000],
          ["online", "new", null, T0 + 1_000],
          ["offline", "new", "stopped", T0 + 2_000],
        ],
      );
      assert.deepEqual(cursors, { [WORKER_STREAM]: "4" });
    });

    test("one read follows a queue and the workers' stream", async () => {
      const storage = await storageOf();
      await storage.registerWorker(workerInfo("w"), "online", 1_000, T0);
      await storage.enqueue([newJob("a")], T0);
      const page = await readAll(storage, ["alpha"], true);
      assert.deepEqual(page.cursors, { alpha: "1", [WORKER_STREAM]: "1" });
      assert.deepEqual(page.events.map((event) => event.type).sort(), ["enqueued", "online"]);
      const fromEnd = await storage.readEvents({
        queues: [],
        workers: true,
        after: {},
        limit: 10,
        maxWaitMs: 0,
      });
      assert.deepEqual(fromEnd, { events: [], cursors: { [WORKER_STREAM]: "1" } });
    });

    test("queues() names every queue enqueued to, paused or resumed, by name, with counts", async () => {
      const storage = await storageOf();
      assert.deepEqual(await storage.queues(), []);
      await storage.enqueue([newJob("b1", { queue: "beta" }), newJob("b2", { queue: "beta" })], T0);
      await storage.enqueue([newJob("a1", { queue: "alpha", runAt: T0 + 10 })], T0);
      await storage.pause("gamma", T0);
      await storage.resume("delta", T0);
      await storage.remove("a1", T0);
      const zero = { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 };
      assert.deepEqual(await storage.queues(), [
        { name: "alpha", counts: zero, paused: false },
        { name: "beta", counts: { ...zero, waiting: 2 }, paused: false },
        { name: "delta", counts: zero, paused: false },
        { name: "gamma", counts: zero, paused: true },
      ]);
    });

    test("bad readEvents and registerWorker input is rejected with a clear error", async () => {
      const storage = await storageOf();
      const good: EventRead = { queues: ["alpha"], after: {}, limit: 10, maxWaitMs: 0 };
      await assert.rejects(
        storage.readEvents({ ...good, after: { alpha: "x" } }),
        /after\["alpha"\]/,
      );
      await assert.rejects(storage.readEvents({ ...good, limit: 0 }), /limit/);
      await assert.rejects(storage.readEvents({ ...good, maxWaitMs: -1 }), /maxWaitMs/);
      await assert.rejects(storage.readEvents({ ...good, queues: [""] }), /queue/);
      await assert.rejects(
        storage.registerWorker(workerInfo(""), "online", 1_000, T0),
        /worker\.id/,
      );
      await assert.rejects(storage.registerWorker(workerInfo("w"), "online", 0, T0), /ttlMs/);
    });
  });
}
