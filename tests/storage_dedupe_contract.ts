/**
 * The conformance suite of enqueue deduplication (`NewJob.dedupe`, see
 * `JobDedupe` in `core/storage.ts`): unique, throttle and debounce by key
 * within a queue, atomic with the enqueue. Each adapter's test file calls
 * {@linkcode storageDedupeContract} once.
 *
 * Clock-free like `storage_contract.ts`: every call gets an explicit `now`.
 *
 * @module
 */

import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { EnqueueResult, JobDedupe, NewJob, Retention, Storage } from "../core/storage.ts";
import type { StorageEvent } from "../core/storage_events.ts";
import type { ContractFixture } from "./storage_contract.ts";

/** A fixture of this suite: the storage contract's, and a look at the dedupe structures. */
export interface DedupeFixture extends ContractFixture {
  /**
   * How many entries the adapter keeps for the dedupe keys of `queue`
   * (key entries plus ttl bookkeeping): 0 once no job holds a key. Left
   * out: the suite checks what the public API shows only.
   */
  dedupeEntries?(queue: string): Promise<number>;
}

const T0 = 1_000_000;
const LEASE = 30_000;
const KEEP_ALL: Retention = {
  completed: { count: 1_000, age: 1e12 },
  failed: { count: 1_000, age: 1e12 },
};
const KEEP_NONE: Retention = {
  completed: { count: 0, age: 0 },
  failed: { count: 0, age: 0 },
};

function newJob(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: "dedupe_task",
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

function unique(key: string, ttl: number | null = null): JobDedupe {
  return { key, mode: "unique", ttl, delay: null };
}
function throttle(key: string, ttl: number | null = null): JobDedupe {
  return { key, mode: "throttle", ttl, delay: null };
}
function debounce(key: string, delay: number): JobDedupe {
  return { key, mode: "debounce", ttl: null, delay };
}

/** Enqueues one job at `now`; returns its result. */
async function put(
  storage: Storage,
  id: string,
  dedupe: JobDedupe | undefined,
  now: number,
  overrides: Partial<NewJob> = {},
): Promise<EnqueueResult> {
  const job = newJob(id, dedupe === undefined ? overrides : { dedupe, ...overrides });
  const [result] = await storage.enqueue([job], now);
  return result;
}

async function reserveAll(storage: Storage, now: number, queue = "alpha") {
  const { jobs } = await storage.reserve({
    queues: [queue],
    limit: 100,
    owner: "w",
    leaseMs: LEASE,
    now,
  });
  return jobs;
}

async function complete(storage: Storage, now: number, retention = KEEP_ALL, queue = "alpha") {
  const jobs = await reserveAll(storage, now, queue);
  const applied = await storage.settle(
    jobs.map((job) => ({ kind: "complete" as const, id: job.id, token: job.lease!.token })),
    { now, retention },
  );
  assert.ok(applied.every(Boolean));
  return jobs.map((job) => job.id);
}

function plain(event: StorageEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([, value]) => value !== undefined));
}

async function queueEvents(storage: Storage, queue = "alpha"): Promise<Record<string, unknown>[]> {
  const page = await storage.readEvents({
    queues: [queue],
    after: { [queue]: "0" },
    limit: 10_000,
    maxWaitMs: 0,
  });
  return page.events.map(plain);
}

/**
 * Registers the suite for one adapter under `describe(name)`. `open` is
 * called in each test for a fresh, empty fixture, and its `cleanup` after
 * the test.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../adapters/memory/mod.ts";
 * import { storageDedupeContract } from "./storage_dedupe_contract.ts";
 *
 * storageDedupeContract("MemoryStorage", () =>
 *   Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }));
 * ```
 */
export function storageDedupeContract(name: string, open: () => Promise<DedupeFixture>): void {
  describe(`Storage dedupe contract: ${name}`, () => {
    const opened: DedupeFixture[] = [];
    async function fresh(): Promise<DedupeFixture> {
      const fixture = await open();
      opened.push(fixture);
      return fixture;
    }
    async function storageOf(): Promise<Storage> {
      return (await fresh()).storage;
    }
    afterEach(async () => {
      for (const fixture of opened.splice(0)) await fixture.cleanup();
    });

    test("unique: a duplicate while the key's job is waiting, delayed or active stores nothing", async () => {
      const storage = await storageOf();
      const first = await put(storage, "a", unique("k"), T0);
      assert.equal(first.created, true);
      assert.equal(first.deduplicated, undefined);
      assert.equal(first.job.dedupeKey, "k");
      assert.equal((await storage.getJob("a"))?.dedupeKey, "k");
      // waiting
      const dup = await put(storage, "b", unique("k"), T0 + 1, { payload: { other: true } });
      assert.equal(dup.created, false);
      assert.equal(dup.deduplicated, "duplicate");
      assert.equal(dup.job.id, "a");
      assert.deepEqual(dup.job.payload, { id: "a" });
      assert.equal(dup.job.state, "waiting");
      assert.equal(await storage.getJob("b"), null);
      // active
      const [reserved] = await reserveAll(storage, T0 + 2);
      assert.equal(reserved.dedupeKey, "k");
      const whileActive = await put(storage, "c", unique("k"), T0 + 3);
      assert.equal(whileActive.deduplicated, "duplicate");
      assert.equal(whileActive.job.id, "a");
      assert.equal(whileActive.job.state, "active");
      assert.equal(await storage.getJob("c"), null);
      assert.deepEqual(await storage.counts("alpha"), {
        waiting: 0,
        delayed: 0,
        active: 1,
        completed: 0,
        failed: 0,
      });
      // delayed
      const later = await put(storage, "d", unique("later"), T0, { runAt: T0 + 10_000 });
      assert.equal(later.job.state, "delayed");
      const dupDelayed = await put(storage, "e", unique("later"), T0 + 5);
      assert.equal(dupDelayed.deduplicated, "duplicate");
      assert.equal(dupDelayed.job.id, "d");
      assert.equal(dupDelayed.job.state, "delayed");
      assert.equal(await storage.getJob("e"), null);
    });

    test("unique: the key is free once its job completed, failed or was removed", async () => {
      const storage = await storageOf();
      await put(storage, "a", unique("k"), T0);
      await complete(storage, T0 + 1);
      const afterComplete = await put(storage, "b", unique("k"), T0 + 2);
      assert.equal(afterComplete.created, true);
      assert.equal(afterComplete.job.id, "b");
      // failed
      const [job] = await reserveAll(storage, T0 + 3);
      assert.equal(job.id, "b");
      await storage.settle([{
        kind: "fail",
        id: "b",
        token: job.lease!.token,
        error: { message: "boom", name: "Error", attempt: 1, at: T0 + 4 },
      }], { now: T0 + 4, retention: KEEP_ALL });
      assert.equal((await storage.getJob("b"))?.state, "failed");
      const afterFail = await put(storage, "c", unique("k"), T0 + 5);
      assert.equal(afterFail.created, true);
      // removed while waiting
      assert.equal(await storage.remove("c", T0 + 6), true);
      const afterRemove = await put(storage, "d", unique("k"), T0 + 7);
      assert.equal(afterRemove.created, true);
      assert.equal(afterRemove.job.id, "d");
    });

    test("unique with ttl: the key is held past completion until ttl after the enqueue", async () => {
      const storage = await storageOf();
      await put(storage, "a", unique("k", 1_000), T0);
      await complete(storage, T0 + 10);
      const held = await put(storage, "b", unique("k", 1_000), T0 + 999);
      assert.equal(held.deduplicated, "duplicate");
      assert.equal(held.job.id, "a");
      assert.equal(held.job.state, "completed");
      assert.equal(await storage.getJob("b"), null);
      // ttl over: free
      const free = await put(storage, "c", unique("k", 1_000), T0 + 1_000);
      assert.equal(free.created, true);
      assert.equal(free.job.id, "c");
    });

    test("unique: a job failed by a reclaim frees its key (and its entry)", async () => {
      const fixture = await fresh();
      const { storage } = fixture;
      await put(storage, "a", unique("k"), T0, { maxStalls: 0 });
      await reserveAll(storage, T0);
      await reserveAll(storage, T0 + LEASE); // the lease expired: a stall, more than maxStalls
      assert.equal((await storage.getJob("a"))?.state, "failed");
      if (fixture.dedupeEntries) assert.equal(await fixture.dedupeEntries("alpha"), 0);
      assert.equal((await put(storage, "b", unique("k"), T0 + LEASE + 1)).created, true);
    });

    test("unique with ttl: a job deleted by retention frees its key", async () => {
      const storage = await storageOf();
      await put(storage, "a", unique("k", 60_000), T0);
      await complete(storage, T0 + 1, KEEP_NONE);
      assert.equal(await storage.getJob("a"), null);
      assert.equal((await put(storage, "b", unique("k", 60_000), T0 + 2)).created, true);
    });

    test("throttle: a duplicate while waiting or delayed, a new job once the old one is active", async () => {
      const storage = await storageOf();
      await put(storage, "a", throttle("k"), T0, { runAt: T0 + 100 });
      const whileDelayed = await put(storage, "b", throttle("k"), T0 + 1);
      assert.equal(whileDelayed.deduplicated, "duplicate");
      assert.equal(whileDelayed.job.id, "a");
      // due: waiting after a reserve promotes it (none reserved: a paused queue)
      await storage.pause("alpha", T0 + 100);
      await reserveAll(storage, T0 + 100);
      assert.equal((await storage.getJob("a"))?.state, "waiting");
      const whileWaiting = await put(storage, "c", throttle("k"), T0 + 101);
      assert.equal(whileWaiting.deduplicated, "duplicate");
      assert.equal(whileWaiting.job.id, "a");
      await storage.resume("alpha", T0 + 102);
      assert.deepEqual((await reserveAll(storage, T0 + 102)).map((j) => j.id), ["a"]);
      const whileActive = await put(storage, "d", throttle("k"), T0 + 103);
      assert.equal(whileActive.created, true);
      assert.equal(whileActive.deduplicated, undefined);
      assert.equal(whileActive.job.id, "d");
      // d holds the key now
      const next = await put(storage, "e", throttle("k"), T0 + 104);
      assert.equal(next.deduplicated, "duplicate");
      assert.equal(next.job.id, "d");
      // and unique sees the active a no longer holding it: d does
      const viaUnique = await put(storage, "f", unique("k"), T0 + 105);
      assert.equal(viaUnique.job.id, "d");
    });

    test("throttle with ttl: the key is held at least ttl after the enqueue, even while active", async () => {
      const storage = await storageOf();
      await put(storage, "a", throttle("k", 500), T0);
      await reserveAll(storage, T0 + 1);
      const held = await put(storage, "b", throttle("k", 500), T0 + 499);
      assert.equal(held.deduplicated, "duplicate");
      assert.equal(held.job.id, "a");
      const free = await put(storage, "c", throttle("k", 500), T0 + 500);
      assert.equal(free.created, true);
    });

    test("debounce: each enqueue replaces the payload and moves runAt to now + delay", async () => {
      const storage = await storageOf();
      const first = await put(storage, "a", debounce("k", 1_000), T0, { payload: { v: 1 } });
      assert.equal(first.created, true);
      assert.equal(first.job.state, "delayed");
      assert.equal(first.job.runAt, T0 + 1_000);
      const second = await put(storage, "b", debounce("k", 1_000), T0 + 400, { payload: { v: 2 } });
      assert.equal(second.created, false);
      assert.equal(second.deduplicated, "debounced");
      assert.equal(second.job.id, "a");
      assert.deepEqual(second.job.payload, { v: 2 });
      assert.equal(second.job.runAt, T0 + 1_400);
      assert.equal(second.job.state, "delayed");
      assert.equal(second.job.dedupeKey, "k");
      assert.equal(await storage.getJob("b"), null);
      const stored = await storage.getJob("a");
      assert.deepEqual(stored?.payload, { v: 2 });
      assert.equal(stored?.runAt, T0 + 1_400);
      assert.equal(stored?.enqueuedAt, T0);
      // not due at the old runAt
      assert.deepEqual(await reserveAll(storage, T0 + 1_000), []);
      assert.deepEqual((await storage.list("alpha", "delayed")).map((j) => j.id), ["a"]);
      const { nextAt } = await storage.reserve({
        queues: ["alpha"],
        limit: 1,
        owner: "w",
        leaseMs: LEASE,
        now: T0 + 1_001,
      });
      assert.equal(nextAt, T0 + 1_400);
      const [job] = await reserveAll(storage, T0 + 1_400);
      assert.equal(job.id, "a");
      assert.deepEqual(job.payload, { v: 2 });
      // active: a new enqueue makes a new job, which then owns the key
      const third = await put(storage, "c", debounce("k", 1_000), T0 + 1_500, {
        payload: { v: 3 },
      });
      assert.equal(third.created, true);
      assert.equal(third.job.id, "c");
      assert.equal(third.job.runAt, T0 + 2_500);
      const fourth = await put(storage, "d", debounce("k", 1_000), T0 + 1_600, {
        payload: { v: 4 },
      });
      assert.equal(fourth.deduplicated, "debounced");
      assert.equal(fourth.job.id, "c");
      assert.equal(fourth.job.runAt, T0 + 2_600);
    });

    test("debounce: a waiting job becomes delayed again and goes to the back of the line", async () => {
      const storage = await storageOf();
      await storage.pause("alpha", T0);
      await put(storage, "a", debounce("k", 100), T0);
      await put(storage, "x", undefined, T0 + 50, { runAt: T0 + 50 });
      await reserveAll(storage, T0 + 200); // paused: promotes a, reserves nothing
      assert.equal((await storage.getJob("a"))?.state, "waiting");
      assert.deepEqual((await storage.list("alpha", "waiting")).map((j) => j.id), ["x", "a"]);
      const debounced = await put(storage, "b", debounce("k", 100), T0 + 300, {
        payload: { v: 9 },
      });
      assert.equal(debounced.deduplicated, "debounced");
      assert.equal(debounced.job.state, "delayed");
      assert.equal(debounced.job.runAt, T0 + 400);
      assert.deepEqual(await storage.counts("alpha"), {
        waiting: 1,
        delayed: 1,
        active: 0,
        completed: 0,
        failed: 0,
      });
      await put(storage, "y", undefined, T0 + 350);
      await storage.resume("alpha", T0 + 400);
      // Due at T0 + 400: behind x and y, which were waiting before.
      assert.deepEqual((await reserveAll(storage, T0 + 400)).map((j) => j.id), ["x", "y", "a"]);
    });

    test("debounce with delay 0: the job is due now, at the back of the line", async () => {
      const storage = await storageOf();
      await storage.pause("alpha", T0);
      await put(storage, "a", debounce("k", 0), T0);
      await put(storage, "x", undefined, T0 + 1);
      const again = await put(storage, "b", debounce("k", 0), T0 + 2, { payload: { v: 2 } });
      assert.equal(again.deduplicated, "debounced");
      assert.equal(again.job.state, "waiting");
      assert.equal(again.job.runAt, T0 + 2);
      await storage.resume("alpha", T0 + 3);
      assert.deepEqual((await reserveAll(storage, T0 + 3)).map((j) => j.id), ["x", "a"]);
    });

    test("within one batch a later job sees an earlier one with the same key", async () => {
      const storage = await storageOf();
      const results = await storage.enqueue([
        newJob("a", { dedupe: unique("k") }),
        newJob("b", { dedupe: unique("k") }),
        newJob("c"),
        newJob("d", { dedupe: debounce("j", 100), payload: { v: 1 } }),
        newJob("e", { dedupe: debounce("j", 100), payload: { v: 2 } }),
      ], T0);
      assert.deepEqual(
        results.map((r) => [r.job.id, r.created, r.deduplicated]),
        [
          ["a", true, undefined],
          ["a", false, "duplicate"],
          ["c", true, undefined],
          ["d", true, undefined],
          ["d", false, "debounced"],
        ],
      );
      assert.deepEqual(results[4].job.payload, { v: 2 });
      assert.deepEqual((await storage.getJob("d"))?.payload, { v: 2 });
      assert.equal(await storage.getJob("b"), null);
      assert.equal(await storage.getJob("e"), null);
      assert.equal((await storage.counts("alpha")).waiting, 2);
      assert.equal((await storage.counts("alpha")).delayed, 1);
    });

    test("a job kept out by its key does not take its id: a later job of the batch may", async () => {
      const storage = await storageOf();
      const results = await storage.enqueue([
        newJob("a", { dedupe: unique("k") }),
        newJob("b", { dedupe: unique("k") }),
        newJob("b", { payload: { plain: true } }),
      ], T0);
      assert.deepEqual(
        results.map((r) => [r.job.id, r.created, r.deduplicated]),
        [["a", true, undefined], ["a", false, "duplicate"], ["b", true, undefined]],
      );
      assert.deepEqual((await storage.getJob("b"))?.payload, { plain: true });
    });

    test("keys are scoped per queue", async () => {
      const storage = await storageOf();
      const a = await put(storage, "a", unique("k"), T0);
      const b = await put(storage, "b", unique("k"), T0, { queue: "beta" });
      assert.equal(a.created, true);
      assert.equal(b.created, true);
      assert.equal(b.job.queue, "beta");
      assert.equal((await put(storage, "c", unique("k"), T0, { queue: "beta" })).job.id, "b");
      assert.equal((await put(storage, "d", unique("k"), T0)).job.id, "a");
    });

    test("an existing id wins over the key", async () => {
      const storage = await storageOf();
      await put(storage, "a", unique("k"), T0);
      await put(storage, "z", undefined, T0, { payload: { z: true } });
      const sameId = await put(storage, "z", unique("k"), T0 + 1);
      assert.equal(sameId.created, false);
      assert.equal(sameId.deduplicated, undefined);
      assert.equal(sameId.job.id, "z");
      const debounceSameId = await put(storage, "z", debounce("other", 10), T0 + 2);
      assert.equal(debounceSameId.created, false);
      assert.equal(debounceSameId.deduplicated, undefined);
      assert.deepEqual((await storage.getJob("z"))?.payload, { z: true });
      // nothing took key "other"
      assert.equal((await put(storage, "y", unique("other"), T0 + 3)).created, true);
    });

    test("events: a debounce writes debounced, a duplicate writes nothing", async () => {
      const storage = await storageOf();
      if (!(storage.eventBacklog > 0)) return;
      await put(storage, "a", unique("k"), T0);
      await put(storage, "b", unique("k"), T0 + 1);
      await put(storage, "d", debounce("j", 100), T0 + 2);
      await put(storage, "e", debounce("j", 100), T0 + 3);
      const events = await queueEvents(storage);
      assert.deepEqual(events.map((e) => [e.type, e.jobId]), [
        ["enqueued", "a"],
        ["enqueued", "d"],
        ["debounced", "d"],
      ]);
      assert.deepEqual(events[2], {
        id: "3",
        at: T0 + 3,
        queue: "alpha",
        jobId: "d",
        type: "debounced",
        runAt: T0 + 103,
      });
    });

    test("bad dedupe input is refused with nothing stored", async () => {
      const storage = await storageOf();
      const bad: [unknown, RegExp][] = [
        [null, /jobs\[1\]\.dedupe must be an object/],
        [{ key: "", mode: "unique", ttl: null, delay: null }, /jobs\[1\]\.dedupe\.key/],
        [
          { key: "x".repeat(513), mode: "unique", ttl: null, delay: null },
          /jobs\[1\]\.dedupe\.key/,
        ],
        [{ key: 5, mode: "unique", ttl: null, delay: null }, /jobs\[1\]\.dedupe\.key/],
        [{ key: "k", mode: "replace", ttl: null, delay: null }, /jobs\[1\]\.dedupe\.mode/],
        [{ key: "k", mode: "unique", ttl: -1, delay: null }, /jobs\[1\]\.dedupe\.ttl/],
        [{ key: "k", mode: "unique", ttl: 1.5, delay: null }, /jobs\[1\]\.dedupe\.ttl/],
        [{ key: "k", mode: "unique", ttl: null, delay: 10 }, /jobs\[1\]\.dedupe\.delay/],
        [{ key: "k", mode: "debounce", ttl: null, delay: null }, /jobs\[1\]\.dedupe\.delay/],
        [{ key: "k", mode: "debounce", ttl: null, delay: -5 }, /jobs\[1\]\.dedupe\.delay/],
        [{ key: "k", mode: "debounce", ttl: 10, delay: 5 }, /jobs\[1\]\.dedupe\.ttl/],
      ];
      for (const [dedupe, message] of bad) {
        await assert.rejects(
          storage.enqueue([newJob("ok"), newJob("bad", { dedupe: dedupe as JobDedupe })], T0),
          message,
        );
      }
      assert.equal(await storage.getJob("ok"), null);
      assert.equal(await storage.getJob("bad"), null);
      assert.equal((await storage.counts("alpha")).waiting, 0);
    });

    test("key entries are dropped once jobs finish and their ttl passed", async () => {
      const fixture = await fresh();
      const { storage } = fixture;
      const entries = fixture.dedupeEntries?.bind(fixture);
      for (let i = 0; i < 20; i++) {
        await put(storage, `u${i}`, unique(`u${i}`), T0);
        await put(storage, `t${i}`, unique(`t${i}`, 1_000), T0);
        await put(storage, `d${i}`, debounce(`d${i}`, 0), T0);
      }
      if (entries !== undefined) assert.equal(await entries("alpha"), 60);
      await complete(storage, T0 + 10);
      // ttl keys stay held until T0 + 1_000
      assert.equal((await put(storage, "again", unique("t3", 1_000), T0 + 11)).job.id, "t3");
      assert.equal((await put(storage, "free", unique("u3"), T0 + 12)).job.id, "free");
      await complete(storage, T0 + 13);
      // a removed job frees its key too
      await put(storage, "gone", unique("gone"), T0 + 14, { runAt: T0 + 50_000 });
      assert.equal(await storage.remove("gone", T0 + 15), true);
      assert.equal(await storage.prune("alpha", KEEP_ALL, T0 + 2_000), 0);
      if (entries !== undefined) assert.equal(await entries("alpha"), 0);
      // and every key is free
      assert.equal((await put(storage, "t3b", unique("t3", 1_000), T0 + 2_001)).created, true);
    });
  });
}
