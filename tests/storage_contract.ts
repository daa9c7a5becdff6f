/**
 * The storage conformance suite: every promise written in `core/storage.ts`,
 * proved against one adapter. Each adapter's test file calls
 * {@linkcode storageContract} once, so all adapters pass the same tests.
 *
 * The suite is clock-free: every call gets an explicit `now`, and nothing
 * sleeps for real except the `waitForWork` tests, which bound each wait with
 * a safety deadline and check that the wait ended because of the action
 * under test (before the deadline), not because the deadline passed.
 *
 * It uses only the port's public methods, so it runs unchanged against any
 * adapter; each test gets a fresh fixture and shares nothing with the others.
 *
 * @module
 */

import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  MAX_ERROR_HISTORY,
  type NewJob,
  type ReserveRequest,
  type Retention,
  type Settlement,
  type Storage,
  type TaskSettings,
} from "../core/storage.ts";
import type { JobError, JobRecord } from "../core/task.ts";

/** What an adapter's test file gives the suite, fresh for every test. */
export interface ContractFixture {
  /** An empty store. */
  storage: Storage;
  /** Called after each test: close the storage, drop its data. */
  cleanup(): Promise<void>;
  /**
   * Overwrites the stored record of job `id` with text that cannot be
   * parsed (adapter-specific), so the suite can check that `reserve` moves
   * it to failed with the text kept in `raw`.
   */
  corrupt?(id: string): Promise<void>;
}

/** Options of {@linkcode storageContract}. */
export interface ContractOptions {
  /**
   * Whether to register the corrupt-record test, which needs
   * `fixture.corrupt`. Default true; pass false for an adapter whose records
   * cannot be corrupted (such as MemoryStorage, which stores no text). When
   * true and the fixture has no `corrupt`, that test fails rather than
   * passing silently.
   */
  corrupt?: boolean;
}

/** The suite's time origin; every `now` is an offset from it. */
const T0 = 1_000_000;
const LEASE = 30_000;
const DAY = 24 * 60 * 60 * 1000;
/** Keeps everything: retention that never prunes. */
const KEEP_ALL: Retention = {
  completed: { count: 1_000_000, age: 1_000 * DAY },
  failed: { count: 1_000_000, age: 1_000 * DAY },
};

function newJob(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: "contract_task",
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

function jobError(message: string, attempt: number, at: number): JobError {
  return { message, name: "Error", attempt, at };
}

function ids(jobs: readonly JobRecord[]): string[] {
  return jobs.map((job) => job.id);
}

/** The record without keys whose value is undefined, so adapters may omit or keep them. */
function plain(record: JobRecord | null | undefined): Record<string, unknown> {
  assert.ok(record, "expected a job record");
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** The fields of a freshly enqueued job. */
function enqueued(job: NewJob, now: number): Record<string, unknown> {
  return {
    id: job.id,
    name: job.name,
    queue: job.queue,
    payload: job.payload,
    priority: job.priority,
    attempt: 0,
    maxAttempts: job.maxAttempts,
    stalls: 0,
    maxStalls: job.maxStalls,
    timeout: job.timeout,
    enqueuedAt: now,
    runAt: job.runAt,
    state: job.runAt <= now ? "waiting" : "delayed",
    errors: [],
  };
}

/**
 * Registers the conformance suite for one adapter under `describe(name)`.
 * `factory` is called before every test for a fresh, empty fixture, and its
 * `cleanup` after every test.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../adapters/memory/mod.ts";
 * import { storageContract } from "./storage_contract.ts";
 *
 * storageContract("MemoryStorage", () =>
 *   Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }), {
 *   corrupt: false,
 * });
 * ```
 */
export function storageContract(
  name: string,
  factory: () => Promise<ContractFixture>,
  options: ContractOptions = {},
): void {
  describe(`Storage contract: ${name}`, () => {
    let fixture: ContractFixture;
    let storage: Storage;

    beforeEach(async () => {
      fixture = await factory();
      storage = fixture.storage;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    async function put(jobs: NewJob[], now = T0) {
      return await storage.enqueue(jobs, now);
    }

    async function reserve(request: Partial<ReserveRequest> = {}) {
      return await storage.reserve({
        queues: ["alpha"],
        limit: 100,
        owner: "worker-1",
        leaseMs: LEASE,
        now: T0,
        ...request,
      });
    }

    /** Reserves exactly one job (asserting it is `id`) and returns it. */
    async function reserveOne(id: string, request: Partial<ReserveRequest> = {}) {
      const { jobs } = await reserve({ limit: 1, ...request });
      assert.deepEqual(ids(jobs), [id]);
      return jobs[0];
    }

    function tokenOf(job: JobRecord): string {
      assert.ok(job.lease, `job ${job.id} has no lease`);
      return job.lease.token;
    }

    async function settleOne(settlement: Settlement, now = T0, retention?: Retention) {
      const [applied] = await storage.settle([settlement], { now, retention });
      return applied;
    }

    async function stateOf(id: string) {
      return (await storage.getJob(id))?.state ?? null;
    }

    /**
     * Starts a wait on `queues`, runs `action` right after the call (no
     * await between), and tells whether the wait ended before a safety
     * deadline that is shorter than `maxWaitMs`, so a wait that only timed
     * out counts as not woken.
     */
    async function wokenBy(
      queues: string[],
      action: () => Promise<unknown>,
      maxWaitMs = 2_000,
    ): Promise<boolean> {
      const controller = new AbortController();
      const wait = storage.waitForWork(queues, maxWaitMs, controller.signal);
      await action();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"deadline">((resolve) => {
        timer = setTimeout(() => resolve("deadline"), 1_500);
      });
      const first = await Promise.race([wait.then(() => "woken" as const), deadline]);
      clearTimeout(timer);
      controller.abort();
      await wait;
      return first === "woken";
    }

    describe("enqueue", () => {
      test("stores a due job as waiting with every field populated", async () => {
        const job = newJob("a", {
          priority: 5,
          maxAttempts: 4,
          maxStalls: 2,
          timeout: 1_234,
          runAt: T0 - 10,
        });
        const [result] = await put([job]);
        assert.equal(result.created, true);
        assert.deepEqual(plain(result.job), enqueued(job, T0));
        assert.equal(result.job.state, "waiting");
        assert.deepEqual(plain(await storage.getJob("a")), enqueued(job, T0));
      });

      test("stores a job due exactly now as waiting", async () => {
        const [result] = await put([newJob("a", { runAt: T0 })]);
        assert.equal(result.job.state, "waiting");
        assert.equal(result.job.runAt, T0);
      });

      test("stores a job due 1 ms from now as delayed", async () => {
        const job = newJob("a", { runAt: T0 + 1 });
        const [result] = await put([job]);
        assert.equal(result.job.state, "delayed");
        assert.deepEqual(plain(result.job), enqueued(job, T0));
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 0,
          delayed: 1,
          active: 0,
          completed: 0,
          failed: 0,
        });
      });

      test("returns one entry per job, in input order, across queues", async () => {
        const results = await put([
          newJob("a"),
          newJob("b", { queue: "beta" }),
          newJob("c", { runAt: T0 + 5 }),
        ]);
        assert.deepEqual(results.map((r) => [r.job.id, r.job.queue, r.job.state, r.created]), [
          ["a", "alpha", "waiting", true],
          ["b", "beta", "waiting", true],
          ["c", "alpha", "delayed", true],
        ]);
        assert.equal((await storage.counts("alpha")).waiting, 1);
        assert.equal((await storage.counts("beta")).waiting, 1);
      });

      test("accepts an empty batch", async () => {
        assert.deepEqual(await put([]), []);
      });

      test("is idempotent by id: an existing id stores nothing and returns the stored job", async () => {
        const first = newJob("same", { payload: { v: 1 }, priority: 1 });
        await put([first]);
        const [again] = await put(
          [newJob("same", { payload: { v: 2 }, priority: 9, queue: "beta" })],
          T0 + 50,
        );
        assert.equal(again.created, false);
        assert.deepEqual(plain(again.job), enqueued(first, T0));
        assert.deepEqual(plain(await storage.getJob("same")), enqueued(first, T0));
        assert.equal((await storage.counts("alpha")).waiting, 1);
        assert.equal((await storage.counts("beta")).waiting, 0);
      });

      test("within one batch the first of two equal ids wins", async () => {
        const results = await put([
          newJob("dup", { payload: "first" }),
          newJob("other"),
          newJob("dup", { payload: "second", runAt: T0 + 100 }),
        ]);
        assert.deepEqual(results.map((r) => r.created), [true, true, false]);
        assert.equal(results[2].job.payload, "first");
        assert.equal(results[2].job.state, "waiting");
        assert.equal((await storage.getJob("dup"))?.payload, "first");
        assert.equal((await storage.counts("alpha")).waiting, 2);
      });

      test("an id that exists in a finished state is not enqueued again", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        assert.equal(await settleOne({ kind: "complete", id: "a", token: tokenOf(job) }), true);
        const [again] = await put([newJob("a")], T0 + 1);
        assert.equal(again.created, false);
        assert.equal(again.job.state, "completed");
        assert.deepEqual((await reserve({ now: T0 + 1 })).jobs, []);
      });

      test("stores a batch of 100 000 jobs in one call, in order, first id winning", async () => {
        // Big enough that spreading one argument per job into a function
        // call overflows the stack on V8 (about 62 000 arguments).
        const n = 100_000;
        const jobs = new Array<NewJob>(n);
        for (let i = 0; i < n; i++) {
          jobs[i] = newJob(`big${i}`, { payload: i, queue: i % 2 === 0 ? "alpha" : "beta" });
        }
        jobs[n - 1] = newJob("big0", { payload: "repeat" });
        const results = await put(jobs);
        assert.equal(results.length, n);
        assert.equal(results.filter((r) => r.created).length, n - 1);
        assert.equal(results[n - 1].created, false);
        assert.equal(results[n - 1].job.payload, 0);
        assert.equal(results[n - 2].job.id, `big${n - 2}`);
        assert.equal((await storage.counts("alpha")).waiting, n / 2);
        assert.equal((await storage.counts("beta")).waiting, n / 2 - 1);
        const { jobs: first } = await reserve({ queues: ["beta", "alpha"], limit: 3 });
        assert.deepEqual(ids(first), ["big1", "big3", "big5"]);
      });

      test("a removed job's id can be enqueued again", async () => {
        await put([newJob("a", { payload: 1 })]);
        assert.equal(await storage.remove("a"), true);
        const [again] = await put([newJob("a", { payload: 2 })], T0 + 1);
        assert.equal(again.created, true);
        assert.equal(again.job.payload, 2);
        assert.equal(again.job.enqueuedAt, T0 + 1);
      });
    });

    describe("payloads and results", () => {
      const nested = {
        text: 'héllo wörld ✓ 日本語 🚀 \u2028 "quoted" \\ back',
        numbers: [0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER],
        flags: [true, false, null],
        deep: { a: { b: { c: [{ d: "e" }, [], {}] } } },
        empty: "",
      };

      test("a nested JSON payload round-trips through enqueue, getJob, reserve and list", async () => {
        const [result] = await put([newJob("a", { payload: nested })]);
        assert.deepEqual(result.job.payload, nested);
        assert.deepEqual((await storage.getJob("a"))?.payload, nested);
        assert.deepEqual((await storage.list("alpha", "waiting"))[0].payload, nested);
        assert.deepEqual((await reserveOne("a")).payload, nested);
      });

      test("primitive payloads round-trip", async () => {
        const payloads = ["text", "", 0, -2.5, true, false, null, [1, "two"]];
        await put(payloads.map((payload, i) => newJob(`p${i}`, { payload })));
        for (const [i, payload] of payloads.entries()) {
          assert.deepEqual((await storage.getJob(`p${i}`))?.payload, payload);
        }
      });

      test("a __proto__ key stays an own key and pollutes nothing", async () => {
        const payload = JSON.parse('{"__proto__": {"polluted": "yes"}, "ok": 1}');
        await put([newJob("a", { payload })]);
        const stored = (await storage.getJob("a"))?.payload as Record<string, unknown>;
        assert.ok(Object.hasOwn(stored, "__proto__"));
        assert.deepEqual(Object.getOwnPropertyDescriptor(stored, "__proto__")?.value, {
          polluted: "yes",
        });
        assert.equal(Object.getPrototypeOf(stored), Object.prototype);
        assert.equal(stored.ok, 1);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
        const job = await reserveOne("a");
        assert.equal(
          await settleOne({ kind: "complete", id: "a", token: tokenOf(job), result: payload }),
          true,
        );
        const result = (await storage.getJob("a"))?.result as Record<string, unknown>;
        assert.ok(Object.hasOwn(result, "__proto__"));
        assert.equal(Object.getPrototypeOf(result), Object.prototype);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      });

      test("a nested JSON result round-trips", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        await settleOne({ kind: "complete", id: "a", token: tokenOf(job), result: nested });
        assert.deepEqual((await storage.getJob("a"))?.result, nested);
        assert.deepEqual((await storage.list("alpha", "completed"))[0].result, nested);
      });

      test("returned records are copies: mutating them changes nothing stored", async () => {
        const [result] = await put([newJob("a", { payload: { list: [1], inner: { x: 1 } } })]);
        (result.job.payload as { list: number[] }).list.push(2);
        result.job.priority = 99;
        const got = await storage.getJob("a");
        assert.ok(got);
        (got.payload as { inner: { x: number } }).inner.x = 2;
        got.errors.push(jobError("fake", 1, T0));
        const job = await reserveOne("a");
        assert.deepEqual(job.payload, { list: [1], inner: { x: 1 } });
        assert.equal(job.priority, 0);
        assert.deepEqual(job.errors, []);
        const token = tokenOf(job);
        job.lease!.token = "changed";
        job.lease!.expiresAt = 0;
        job.state = "completed";
        const stored = await storage.getJob("a");
        assert.equal(stored?.state, "active");
        assert.deepEqual(stored?.lease, { owner: "worker-1", token, expiresAt: T0 + LEASE });
        const error = jobError("boom", 1, T0);
        await settleOne({ kind: "retry", id: "a", token, error, runAt: T0 + 10 });
        error.message = "mutated after settle";
        const retried = await storage.getJob("a");
        assert.ok(retried?.error);
        retried.error.message = "mutated copy";
        retried.errors[0].message = "mutated copy";
        const again = await storage.getJob("a");
        assert.equal(again?.error?.message, "boom");
        assert.equal(again?.errors[0].message, "boom");
      });
    });

    describe("reserve: order", () => {
      test("returns nothing and nextAt null from an empty store", async () => {
        assert.deepEqual(await reserve({ queues: ["alpha", "beta"] }), { jobs: [], nextAt: null });
      });

      test("jobs of equal priority come out first in, first out", async () => {
        await put([newJob("a"), newJob("b")]);
        await put([newJob("c")], T0 + 1);
        await put([newJob("d"), newJob("e")], T0 + 2);
        assert.deepEqual(ids((await reserve({ now: T0 + 2 })).jobs), ["a", "b", "c", "d", "e"]);
      });

      test("higher priority first, then first in, first out", async () => {
        await put([
          newJob("low1", { priority: 0 }),
          newJob("high1", { priority: 10 }),
          newJob("neg", { priority: -5 }),
          newJob("mid", { priority: 3 }),
          newJob("high2", { priority: 10 }),
          newJob("low2", { priority: 0 }),
        ]);
        assert.deepEqual(ids((await reserve()).jobs), [
          "high1",
          "high2",
          "mid",
          "low1",
          "low2",
          "neg",
        ]);
      });

      test("limit caps the jobs returned; the rest stay waiting in order", async () => {
        await put(["a", "b", "c", "d", "e"].map((id) => newJob(id)));
        assert.deepEqual(ids((await reserve({ limit: 2 })).jobs), ["a", "b"]);
        assert.equal((await storage.counts("alpha")).waiting, 3);
        assert.deepEqual(ids((await reserve({ limit: 2 })).jobs), ["c", "d"]);
        assert.deepEqual(ids((await reserve({ limit: 2 })).jobs), ["e"]);
        assert.deepEqual(ids((await reserve({ limit: 2 })).jobs), []);
      });

      test("earlier queues are drained first, then later ones fill the limit", async () => {
        await put([
          newJob("b1", { queue: "beta", priority: 100 }),
          newJob("a1"),
          newJob("g1", { queue: "gamma" }),
          newJob("b2", { queue: "beta" }),
          newJob("a2"),
        ]);
        const request = { queues: ["alpha", "beta", "gamma"], limit: 3 };
        assert.deepEqual(ids((await reserve(request)).jobs), ["a1", "a2", "b1"]);
        assert.deepEqual(ids((await reserve(request)).jobs), ["b2", "g1"]);
      });

      test("the queue order of the request decides, not the order queues were created", async () => {
        await put([newJob("a1"), newJob("b1", { queue: "beta" })]);
        assert.deepEqual(ids((await reserve({ queues: ["beta", "alpha"], limit: 1 })).jobs), [
          "b1",
        ]);
      });

      test("queues not requested are not touched", async () => {
        await put([newJob("a1"), newJob("b1", { queue: "beta" })]);
        assert.deepEqual(ids((await reserve({ queues: ["beta"] })).jobs), ["b1"]);
        assert.equal(await stateOf("a1"), "waiting");
      });

      test("a job is never reserved twice while its lease holds", async () => {
        await put([newJob("a")]);
        await reserveOne("a");
        assert.deepEqual((await reserve({ owner: "worker-2", now: T0 + LEASE - 1 })).jobs, []);
      });
    });

    describe("reserve: the reserved record", () => {
      test("is active with attempt + 1, startedAt = now and a lease", async () => {
        const job = newJob("a", { maxAttempts: 7, priority: 2, runAt: T0 - 5 });
        await put([job], T0 - 100);
        const reserved = await reserveOne("a", { owner: "me", leaseMs: 5_000, now: T0 });
        const token = tokenOf(reserved);
        assert.equal(typeof token, "string");
        assert.ok(token.length > 0);
        assert.deepEqual(plain(reserved), {
          ...enqueued(job, T0 - 100),
          state: "active",
          attempt: 1,
          startedAt: T0,
          lease: { owner: "me", token, expiresAt: T0 + 5_000 },
        });
        assert.deepEqual(plain(await storage.getJob("a")), plain(reserved));
      });

      test("every reservation of a job gets a token it never had before", async () => {
        await put([newJob("a", { maxAttempts: 10, maxStalls: 10 })]);
        const tokens = new Set<string>();
        let now = T0;
        // Through release, retry and lease expiry, each way back to waiting.
        let job = await reserveOne("a", { now });
        tokens.add(tokenOf(job));
        await settleOne({ kind: "release", id: "a", token: tokenOf(job) }, now);
        job = await reserveOne("a", { now });
        tokens.add(tokenOf(job));
        await settleOne({
          kind: "retry",
          id: "a",
          token: tokenOf(job),
          error: jobError("x", job.attempt, now),
          runAt: now,
        }, now);
        job = await reserveOne("a", { now });
        tokens.add(tokenOf(job));
        now += LEASE;
        job = await reserveOne("a", { now });
        tokens.add(tokenOf(job));
        assert.equal(tokens.size, 4);
      });

      test("tokens differ between jobs reserved in one call", async () => {
        await put(["a", "b", "c"].map((id) => newJob(id)));
        const { jobs } = await reserve();
        assert.equal(new Set(jobs.map(tokenOf)).size, 3);
      });
    });

    describe("reserve: task defaults (jobs enqueued by task name)", () => {
      const UNSET = { maxAttempts: null, maxStalls: null, timeout: null };
      const settings: TaskSettings = { maxAttempts: 5, maxStalls: 2, timeout: 2_000 };
      const taskDefaults = new Map([["contract_task", settings], [
        "other_task",
        { maxAttempts: 9, maxStalls: 9, timeout: 9 },
      ]]);

      test("unset settings read back null until reserved, then are the task's, stored", async () => {
        const job = newJob("a", UNSET);
        const [result] = await put([job]);
        assert.deepEqual(plain(result.job), enqueued(job, T0));
        assert.deepEqual(plain(await storage.getJob("a")), enqueued(job, T0));
        assert.equal((await storage.list("alpha", "waiting"))[0].maxAttempts, null);
        const reserved = await reserveOne("a", { taskDefaults });
        assert.deepEqual(
          [reserved.maxAttempts, reserved.maxStalls, reserved.timeout],
          [5, 2, 2_000],
        );
        for (
          const read of [await storage.getJob("a"), (await storage.list("alpha", "active"))[0]]
        ) {
          assert.deepEqual([read?.maxAttempts, read?.maxStalls, read?.timeout], [5, 2, 2_000]);
        }
        // Stored for good: a later reserve without defaults keeps them.
        await settleOne({
          kind: "retry",
          id: "a",
          token: tokenOf(reserved),
          error: jobError("x", 1, T0),
          runAt: T0,
        });
        const again = await reserveOne("a");
        assert.deepEqual([again.maxAttempts, again.maxStalls, again.timeout], [5, 2, 2_000]);
      });

      test("only the unset settings are filled: those the enqueue set are kept", async () => {
        await put([newJob("a", { maxAttempts: 7, maxStalls: null, timeout: null })]);
        await put([newJob("b", { maxAttempts: null, maxStalls: 0, timeout: 10 })]);
        const { jobs } = await reserve({ taskDefaults });
        assert.deepEqual(
          jobs.map((j) => [j.id, j.maxAttempts, j.maxStalls, j.timeout]),
          [["a", 7, 2, 2_000], ["b", 5, 0, 10]],
        );
      });

      test("each job gets its own task's settings; jobs enqueued together stay independent", async () => {
        await put([
          newJob("a", UNSET),
          newJob("b", UNSET),
          newJob("c", { ...UNSET, name: "other_task" }),
          newJob("d", { ...UNSET, name: "unknown_task" }),
        ]);
        const [a] = (await reserve({ limit: 1, taskDefaults })).jobs;
        assert.equal(a.maxAttempts, 5);
        // b shares its enqueue with a: reserving a must not have set b's.
        assert.equal((await storage.getJob("b"))?.maxAttempts, null);
        const [b] = (await reserve({ limit: 1 })).jobs;
        assert.deepEqual([b.id, b.maxAttempts, b.maxStalls, b.timeout], ["b", null, null, null]);
        const rest = (await reserve({ taskDefaults })).jobs;
        assert.deepEqual(
          rest.map((j) => [j.id, j.maxAttempts, j.maxStalls, j.timeout]),
          [["c", 9, 9, 9], ["d", null, null, null]],
        );
        assert.equal((await storage.getJob("d"))?.maxAttempts, null);
      });

      test("a reclaim sees the stored settings: maxAttempts 1 from the task fails the job", async () => {
        await put([newJob("a", UNSET)]);
        const one = new Map([["contract_task", { maxAttempts: 1, maxStalls: 5, timeout: 0 }]]);
        await reserveOne("a", { leaseMs: 100, taskDefaults: one });
        await reserve({ now: T0 + 100 }); // reclaims, without any defaults
        const job = await storage.getJob("a");
        assert.equal(job?.state, "failed");
        assert.equal(job?.error?.name, "StalledError");
      });

      test("a reclaim sees the stored settings: maxStalls 0 from the task fails the job", async () => {
        await put([newJob("a", UNSET)]);
        const none = new Map([["contract_task", { maxAttempts: 10, maxStalls: 0, timeout: 0 }]]);
        await reserveOne("a", { leaseMs: 100, taskDefaults: none });
        await reserve({ now: T0 + 100 });
        assert.equal(await stateOf("a"), "failed");
      });

      test("still unset at a reclaim (no worker knew the task): the built-in 3 attempts and 1 stall", async () => {
        await put([newJob("a", UNSET)]);
        await reserveOne("a", { leaseMs: 100 });
        const second = await reserveOne("a", { now: T0 + 100, leaseMs: 100 });
        assert.equal(second.stalls, 1);
        assert.equal(second.maxStalls, null);
        await reserve({ now: T0 + 200 }); // a second stall: more than 1
        assert.equal(await stateOf("a"), "failed");
      });

      test("released unrun by a worker that does not know the task, then taken by one that does", async () => {
        await put([newJob("a", UNSET)]);
        const first = await reserveOne("a", { taskDefaults: new Map() });
        assert.equal(first.maxAttempts, null);
        await settleOne({ kind: "release", id: "a", token: tokenOf(first) });
        const second = await reserveOne("a", { taskDefaults });
        assert.deepEqual([second.maxAttempts, second.maxStalls, second.timeout], [5, 2, 2_000]);
        assert.equal(second.attempt, 1);
      });
    });

    describe("reserve: paused queues", () => {
      test("are skipped while other queues are served; enqueue still works", async () => {
        await put([newJob("a1"), newJob("b1", { queue: "beta" })]);
        await storage.pause("alpha");
        const [late] = await put([newJob("a2")]);
        assert.equal(late.created, true);
        assert.equal(late.job.state, "waiting");
        assert.deepEqual(ids((await reserve({ queues: ["alpha", "beta"] })).jobs), ["b1"]);
        assert.deepEqual((await storage.counts("alpha")).waiting, 2);
        await storage.resume("alpha");
        assert.deepEqual(ids((await reserve({ queues: ["alpha", "beta"] })).jobs), ["a1", "a2"]);
      });

      test("isPaused tracks pause and resume, per queue", async () => {
        assert.equal(await storage.isPaused("alpha"), false);
        await storage.pause("alpha");
        assert.equal(await storage.isPaused("alpha"), true);
        assert.equal(await storage.isPaused("beta"), false);
        await storage.pause("alpha");
        assert.equal(await storage.isPaused("alpha"), true);
        await storage.resume("alpha");
        assert.equal(await storage.isPaused("alpha"), false);
        await storage.resume("alpha");
        assert.equal(await storage.isPaused("alpha"), false);
      });
    });

    describe("reserve: delayed jobs", () => {
      test("a delayed job is not reserved 1 ms before runAt and is exactly at runAt", async () => {
        await put([newJob("a", { runAt: T0 + 1_000 })]);
        assert.deepEqual((await reserve({ now: T0 + 999 })).jobs, []);
        assert.equal(await stateOf("a"), "delayed");
        const job = await reserveOne("a", { now: T0 + 1_000 });
        assert.equal(job.attempt, 1);
        assert.equal(job.startedAt, T0 + 1_000);
        assert.equal(job.runAt, T0 + 1_000);
      });

      test("due delayed jobs are reserved in runAt order", async () => {
        await put([
          newJob("late", { runAt: T0 + 300 }),
          newJob("early", { runAt: T0 + 100 }),
          newJob("middle", { runAt: T0 + 200 }),
          newJob("not-yet", { runAt: T0 + 301 }),
        ]);
        assert.deepEqual(ids((await reserve({ now: T0 + 300 })).jobs), [
          "early",
          "middle",
          "late",
        ]);
        assert.equal(await stateOf("not-yet"), "delayed");
      });

      test("due delayed jobs with equal runAt keep the order they were delayed", async () => {
        await put([newJob("first", { runAt: T0 + 100 })]);
        await put([newJob("second", { runAt: T0 + 100 })], T0 + 1);
        await put([newJob("third", { runAt: T0 + 100 })], T0 + 2);
        assert.deepEqual(ids((await reserve({ now: T0 + 100 })).jobs), [
          "first",
          "second",
          "third",
        ]);
      });

      test("a promoted job keeps its priority against jobs already waiting", async () => {
        await put([
          newJob("waiting-low", { priority: 0 }),
          newJob("delayed-high", { priority: 5, runAt: T0 + 10 }),
        ]);
        assert.deepEqual(ids((await reserve({ now: T0 + 10 })).jobs), [
          "delayed-high",
          "waiting-low",
        ]);
      });

      test("a due delayed job beyond the limit stays reservable by the next call", async () => {
        await put([newJob("a", { runAt: T0 + 10 }), newJob("b", { runAt: T0 + 20 })]);
        assert.deepEqual(ids((await reserve({ now: T0 + 20, limit: 1 })).jobs), ["a"]);
        assert.deepEqual(ids((await reserve({ now: T0 + 20, limit: 1 })).jobs), ["b"]);
      });
    });

    describe("reserve: nextAt", () => {
      test("is the earliest delayed runAt among the requested queues", async () => {
        await put([
          newJob("a", { runAt: T0 + 500 }),
          newJob("b", { queue: "beta", runAt: T0 + 200 }),
          newJob("c", { queue: "gamma", runAt: T0 + 100 }),
        ]);
        assert.equal((await reserve({ queues: ["alpha", "beta"] })).nextAt, T0 + 200);
        assert.equal((await reserve({ queues: ["alpha"] })).nextAt, T0 + 500);
        assert.equal((await reserve({ queues: ["delta"] })).nextAt, null);
      });

      test("counts lease expiries of active jobs, including those just reserved", async () => {
        await put([newJob("a"), newJob("b", { runAt: T0 + 60_000 })]);
        const first = await reserve({ limit: 1, leaseMs: 10_000 });
        assert.deepEqual(ids(first.jobs), ["a"]);
        assert.equal(first.nextAt, T0 + 10_000);
        assert.equal((await reserve({ now: T0 + 5 })).nextAt, T0 + 10_000);
      });

      test("moves on once the earliest delayed job is promoted", async () => {
        await put([newJob("a", { runAt: T0 + 100 }), newJob("b", { runAt: T0 + 200 })]);
        const { jobs, nextAt } = await reserve({ now: T0 + 100, leaseMs: 1_000 });
        assert.deepEqual(ids(jobs), ["a"]);
        assert.equal(nextAt, T0 + 200);
      });

      test("ignores paused queues", async () => {
        await put([
          newJob("a", { runAt: T0 + 100 }),
          newJob("b", { queue: "beta", runAt: T0 + 300 }),
        ]);
        await storage.pause("alpha");
        assert.equal((await reserve({ queues: ["alpha", "beta"] })).nextAt, T0 + 300);
        assert.equal((await reserve({ queues: ["alpha"] })).nextAt, null);
      });

      test("is null when nothing is delayed or active", async () => {
        await put([newJob("a"), newJob("b")]);
        const { jobs, nextAt } = await reserve({ limit: 1 });
        assert.equal(jobs.length, 1);
        assert.equal(nextAt, T0 + LEASE);
        const done = await settleOne({ kind: "complete", id: jobs[0].id, token: tokenOf(jobs[0]) });
        assert.equal(done, true);
        await storage.remove("b");
        assert.equal((await reserve()).nextAt, null);
      });
    });

    describe("reserve: expired leases", () => {
      test("a lease is reclaimed at expiresAt, not 1 ms before, and reserved again at once", async () => {
        await put([newJob("a")]);
        const first = await reserveOne("a", { leaseMs: 1_000 });
        assert.deepEqual((await reserve({ now: T0 + 999 })).jobs, []);
        assert.equal(await stateOf("a"), "active");
        const second = await reserveOne("a", { now: T0 + 1_000, owner: "worker-2" });
        assert.equal(second.attempt, 2);
        assert.equal(second.stalls, 1);
        assert.equal(second.startedAt, T0 + 1_000);
        assert.deepEqual(second.lease, {
          owner: "worker-2",
          token: tokenOf(second),
          expiresAt: T0 + 1_000 + LEASE,
        });
        assert.notEqual(tokenOf(second), tokenOf(first));
      });

      test("a reclaimed job is waiting when the limit is already used up", async () => {
        await put([newJob("a"), newJob("b")]);
        await reserveOne("a", { leaseMs: 100 });
        assert.deepEqual(ids((await reserve({ now: T0 + 100, limit: 1 })).jobs), ["b"]);
        const job = await storage.getJob("a");
        assert.equal(job?.state, "waiting");
        assert.equal(job?.stalls, 1);
        assert.equal(job?.lease, undefined);
        assert.equal((await storage.counts("alpha")).waiting, 1);
      });

      test("the old token of a reclaimed job is refused everywhere", async () => {
        await put([newJob("a")]);
        const old = await reserveOne("a", { leaseMs: 100 });
        const current = await reserveOne("a", { now: T0 + 100 });
        const now = T0 + 150;
        const stale = tokenOf(old);
        assert.deepEqual(await storage.extendLeases([{ id: "a", token: stale }], LEASE, now), [
          false,
        ]);
        assert.equal(await storage.setProgress("a", stale, 50), false);
        assert.equal(await settleOne({ kind: "complete", id: "a", token: stale }, now), false);
        assert.equal(
          await settleOne(
            { kind: "fail", id: "a", token: stale, error: jobError("x", 1, now) },
            now,
          ),
          false,
        );
        const job = await storage.getJob("a");
        assert.equal(job?.state, "active");
        assert.equal(job?.lease?.token, tokenOf(current));
        assert.equal(job?.progress, undefined);
        assert.equal(
          await settleOne({ kind: "complete", id: "a", token: tokenOf(current) }, now),
          true,
        );
      });

      test("fails the job with a StalledError once stalls exceed maxStalls", async () => {
        await put([newJob("a", { maxStalls: 1, maxAttempts: 10 })]);
        await reserveOne("a", { leaseMs: 100 });
        await reserveOne("a", { leaseMs: 100, now: T0 + 100 });
        const { jobs } = await reserve({ now: T0 + 200 });
        assert.deepEqual(jobs, []);
        const job = await storage.getJob("a");
        assert.ok(job);
        assert.equal(job.state, "failed");
        assert.equal(job.stalls, 2);
        assert.equal(job.attempt, 2);
        assert.equal(job.finishedAt, T0 + 200);
        assert.equal(job.lease, undefined);
        assert.equal(job.error?.name, "StalledError");
        assert.equal(job.error?.attempt, 2);
        assert.equal(job.error?.at, T0 + 200);
        assert.equal(typeof job.error?.message, "string");
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 0,
          delayed: 0,
          active: 0,
          completed: 0,
          failed: 1,
        });
      });

      test("maxStalls 0 fails the job on its first reclaim", async () => {
        await put([newJob("a", { maxStalls: 0, maxAttempts: 10 })]);
        await reserveOne("a", { leaseMs: 100 });
        assert.deepEqual((await reserve({ now: T0 + 100 })).jobs, []);
        const job = await storage.getJob("a");
        assert.equal(job?.state, "failed");
        assert.equal(job?.stalls, 1);
        assert.equal(job?.error?.name, "StalledError");
      });

      test("fails the job with a StalledError when its last attempt's lease expires", async () => {
        await put([newJob("a", { maxStalls: 5, maxAttempts: 2 })]);
        await reserveOne("a", { leaseMs: 100 });
        const second = await reserveOne("a", { leaseMs: 100, now: T0 + 100 });
        assert.equal(second.attempt, 2);
        assert.deepEqual((await reserve({ now: T0 + 200 })).jobs, []);
        const job = await storage.getJob("a");
        assert.equal(job?.state, "failed");
        assert.equal(job?.stalls, 2);
        assert.equal(job?.error?.name, "StalledError");
      });

      test("a lease reclaimed while its queue holds other jobs keeps counts exact", async () => {
        await put([newJob("a"), newJob("b"), newJob("c", { runAt: T0 + 50 })]);
        await reserve({ leaseMs: 100 });
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 0,
          delayed: 1,
          active: 2,
          completed: 0,
          failed: 0,
        });
        const { jobs } = await reserve({ now: T0 + 100, limit: 2 });
        assert.equal(jobs.length, 2);
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 1,
          delayed: 0,
          active: 2,
          completed: 0,
          failed: 0,
        });
      });
    });

    describe("settle: complete", () => {
      test("stores the result and finishedAt, drops the lease, keeps the attempt", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        const applied = await settleOne(
          { kind: "complete", id: "a", token: tokenOf(job), result: { ok: true } },
          T0 + 42,
        );
        assert.equal(applied, true);
        const done = await storage.getJob("a");
        assert.deepEqual(plain(done), {
          ...enqueued(newJob("a"), T0),
          state: "completed",
          attempt: 1,
          startedAt: T0,
          finishedAt: T0 + 42,
          result: { ok: true },
        });
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 0,
          delayed: 0,
          active: 0,
          completed: 1,
          failed: 0,
        });
      });

      test("an undefined result leaves no result; null is kept", async () => {
        await put([newJob("a"), newJob("b")]);
        const [a, b] = (await reserve()).jobs;
        await storage.settle([
          { kind: "complete", id: "a", token: tokenOf(a) },
          { kind: "complete", id: "b", token: tokenOf(b), result: null },
        ], { now: T0 });
        assert.equal((await storage.getJob("a"))?.result, undefined);
        assert.equal((await storage.getJob("b"))?.result, null);
      });

      test("a completed job is not reserved again", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        await settleOne({ kind: "complete", id: "a", token: tokenOf(job) });
        assert.deepEqual((await reserve({ now: T0 + 10 * LEASE })).jobs, []);
      });
    });

    describe("settle: refusals", () => {
      test("refuses a missing job", async () => {
        assert.equal(await settleOne({ kind: "complete", id: "nope", token: "t" }), false);
        assert.equal(await storage.getJob("nope"), null);
      });

      test("refuses a stale token and leaves the job as it was", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        const error = jobError("x", 1, T0);
        for (
          const settlement of [
            { kind: "complete", id: "a", token: "wrong" },
            { kind: "retry", id: "a", token: "wrong", error, runAt: T0 },
            { kind: "fail", id: "a", token: "wrong", error },
            { kind: "release", id: "a", token: "wrong" },
          ] satisfies Settlement[]
        ) {
          assert.equal(await settleOne(settlement), false, settlement.kind);
        }
        assert.deepEqual(plain(await storage.getJob("a")), plain(job));
      });

      test("refuses jobs that are not active, in every state", async () => {
        await put([newJob("w"), newJob("d", { runAt: T0 + 100 }), newJob("c"), newJob("f")]);
        const { jobs } = await reserve({ queues: ["alpha"], limit: 3 });
        const [w, c, f] = jobs;
        assert.deepEqual(ids(jobs), ["w", "c", "f"]);
        await storage.settle([
          { kind: "release", id: "w", token: tokenOf(w) },
          { kind: "complete", id: "c", token: tokenOf(c) },
          { kind: "fail", id: "f", token: tokenOf(f), error: jobError("x", 1, T0) },
        ], { now: T0 });
        const refused = await storage.settle([
          { kind: "complete", id: "w", token: tokenOf(w) },
          { kind: "complete", id: "d", token: "any" },
          { kind: "complete", id: "c", token: tokenOf(c) },
          { kind: "release", id: "f", token: tokenOf(f) },
        ], { now: T0 });
        assert.deepEqual(refused, [false, false, false, false]);
        assert.deepEqual(
          await Promise.all(["w", "d", "c", "f"].map(stateOf)),
          ["waiting", "delayed", "completed", "failed"],
        );
      });

      test("each entry is applied or refused on its own, in input order", async () => {
        await put([newJob("a"), newJob("b"), newJob("c")]);
        const [a, b, c] = (await reserve()).jobs;
        const applied = await storage.settle([
          { kind: "complete", id: "a", token: tokenOf(a), result: "A" },
          { kind: "complete", id: "b", token: "stale" },
          { kind: "complete", id: "missing", token: "t" },
          { kind: "fail", id: "c", token: tokenOf(c), error: jobError("bad", 1, T0) },
          { kind: "complete", id: "a", token: tokenOf(a), result: "twice" },
        ], { now: T0 + 1 });
        assert.deepEqual(applied, [true, false, false, true, false]);
        assert.equal((await storage.getJob("a"))?.result, "A");
        assert.equal(await stateOf("b"), "active");
        assert.equal((await storage.getJob("b"))?.lease?.token, tokenOf(b));
        assert.equal(await stateOf("c"), "failed");
      });

      test("an empty batch returns an empty array", async () => {
        assert.deepEqual(await storage.settle([], { now: T0 }), []);
      });
    });

    describe("settle: retry, fail, release", () => {
      test("retry with a later runAt delays the job and records the error", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        const error: JobError = { ...jobError("boom", 1, T0 + 5), stack: "Error: boom\n  at x" };
        const applied = await settleOne(
          { kind: "retry", id: "a", token: tokenOf(job), error, runAt: T0 + 1_000 },
          T0 + 5,
        );
        assert.equal(applied, true);
        assert.deepEqual(plain(await storage.getJob("a")), {
          ...enqueued(newJob("a"), T0),
          state: "delayed",
          attempt: 1,
          startedAt: T0,
          runAt: T0 + 1_000,
          error,
          errors: [error],
        });
        assert.deepEqual((await reserve({ now: T0 + 999 })).jobs, []);
        const again = await reserveOne("a", { now: T0 + 1_000 });
        assert.equal(again.attempt, 2);
        assert.deepEqual(again.errors, [error]);
      });

      test("retry with runAt <= now makes the job waiting and reservable at once", async () => {
        await put([newJob("a"), newJob("b")]);
        const [a, b] = (await reserve()).jobs;
        const applied = await storage.settle([
          { kind: "retry", id: "a", token: tokenOf(a), error: jobError("x", 1, T0), runAt: T0 },
          { kind: "retry", id: "b", token: tokenOf(b), error: jobError("y", 1, T0), runAt: T0 - 1 },
        ], { now: T0 });
        assert.deepEqual(applied, [true, true]);
        assert.equal(await stateOf("a"), "waiting");
        assert.equal(await stateOf("b"), "waiting");
        assert.deepEqual(ids((await reserve()).jobs), ["a", "b"]);
      });

      test("keeps the last MAX_ERROR_HISTORY errors, oldest first", async () => {
        assert.equal(MAX_ERROR_HISTORY, 10);
        const attempts = MAX_ERROR_HISTORY + 3;
        await put([newJob("a", { maxAttempts: attempts + 1 })]);
        for (let attempt = 1; attempt <= attempts; attempt++) {
          const now = T0 + attempt;
          const job = await reserveOne("a", { now });
          assert.equal(job.attempt, attempt);
          const error = jobError(`failure ${attempt}`, attempt, now);
          assert.equal(
            await settleOne(
              { kind: "retry", id: "a", token: tokenOf(job), error, runAt: now },
              now,
            ),
            true,
          );
        }
        const job = await storage.getJob("a");
        assert.ok(job);
        assert.equal(job.errors.length, MAX_ERROR_HISTORY);
        assert.deepEqual(
          job.errors.map((error) => error.message),
          Array.from({ length: MAX_ERROR_HISTORY }, (_, i) => `failure ${i + 4}`),
        );
        assert.deepEqual(job.error, jobError(`failure ${attempts}`, attempts, T0 + attempts));
      });

      test("fail moves the job to failed with its error", async () => {
        await put([newJob("a")]);
        const first = await reserveOne("a");
        const e1 = jobError("first", 1, T0);
        await settleOne({ kind: "retry", id: "a", token: tokenOf(first), error: e1, runAt: T0 });
        const second = await reserveOne("a", { now: T0 + 1 });
        const e2 = jobError("final", 2, T0 + 2);
        assert.equal(
          await settleOne({ kind: "fail", id: "a", token: tokenOf(second), error: e2 }, T0 + 2),
          true,
        );
        assert.deepEqual(plain(await storage.getJob("a")), {
          ...enqueued(newJob("a"), T0),
          state: "failed",
          attempt: 2,
          startedAt: T0 + 1,
          finishedAt: T0 + 2,
          error: e2,
          errors: [e1, e2],
        });
        assert.deepEqual((await reserve({ now: T0 + 10 * LEASE })).jobs, []);
        assert.equal((await storage.counts("alpha")).failed, 1);
      });

      test("release gives the attempt back and makes the job waiting", async () => {
        await put([newJob("a"), newJob("b")]);
        const a = await reserveOne("a");
        assert.equal(
          await settleOne({ kind: "release", id: "a", token: tokenOf(a) }, T0 + 1),
          true,
        );
        const released = await storage.getJob("a");
        assert.equal(released?.state, "waiting");
        assert.equal(released?.attempt, 0);
        assert.equal(released?.lease, undefined);
        assert.deepEqual(released?.errors, []);
        assert.equal((await storage.counts("alpha")).waiting, 2);
        const { jobs } = await reserve({ now: T0 + 1 });
        assert.deepEqual(jobs.map((job) => [job.id, job.attempt]), [["b", 1], ["a", 1]]);
      });

      test("release with a later runAt delays the job until then", async () => {
        await put([newJob("a")]);
        const a = await reserveOne("a");
        const applied = await settleOne(
          { kind: "release", id: "a", token: tokenOf(a), runAt: T0 + 500 },
          T0 + 1,
        );
        assert.equal(applied, true);
        const released = await storage.getJob("a");
        assert.equal(released?.state, "delayed");
        assert.equal(released?.runAt, T0 + 500);
        assert.equal(released?.attempt, 0);
        assert.deepEqual((await reserve({ now: T0 + 499 })).jobs, []);
        assert.equal((await reserveOne("a", { now: T0 + 500 })).attempt, 1);
      });
    });

    describe("retention", () => {
      async function finish(
        id: string,
        kind: "complete" | "fail",
        now: number,
        retention?: Retention,
      ) {
        await put([newJob(id)], now);
        const job = await reserveOne(id, { now });
        const settlement: Settlement = kind === "complete"
          ? { kind, id, token: tokenOf(job) }
          : { kind, id, token: tokenOf(job), error: jobError("x", 1, now) };
        assert.equal(await settleOne(settlement, now, retention), true);
      }

      test("settle keeps the newest completed jobs up to the count", async () => {
        const retention: Retention = { ...KEEP_ALL, completed: { count: 2, age: DAY } };
        for (const [i, id] of ["a", "b", "c", "d"].entries()) {
          await finish(id, "complete", T0 + i, retention);
        }
        assert.equal(await storage.getJob("a"), null);
        assert.equal(await storage.getJob("b"), null);
        assert.deepEqual(ids(await storage.list("alpha", "completed")), ["d", "c"]);
        assert.equal((await storage.counts("alpha")).completed, 2);
      });

      test("settle drops jobs finished more than age ms ago, keeping those exactly age ago", async () => {
        const retention: Retention = { ...KEEP_ALL, completed: { count: 100, age: 1_000 } };
        await finish("old", "complete", T0, retention);
        await finish("edge", "complete", T0 + 1, retention);
        await finish("now", "complete", T0 + 1_001, retention);
        assert.deepEqual(ids(await storage.list("alpha", "completed")), ["now", "edge"]);
        assert.equal(await storage.getJob("old"), null);
      });

      test("settle applies the failed policy to failed jobs", async () => {
        const retention: Retention = { ...KEEP_ALL, failed: { count: 1, age: DAY } };
        await finish("f1", "fail", T0, retention);
        await finish("c1", "complete", T0 + 1, retention);
        await finish("f2", "fail", T0 + 2, retention);
        assert.deepEqual(ids(await storage.list("alpha", "failed")), ["f2"]);
        assert.equal(await storage.getJob("f1"), null);
        assert.equal(await stateOf("c1"), "completed");
      });

      test("a completed count of 0 deletes completed jobs at once; failed ones keep their policy", async () => {
        const retention: Retention = { ...KEEP_ALL, completed: { count: 0, age: DAY } };
        await finish("kept", "complete", T0); // stored before, without retention
        await finish("c1", "fail", T0 + 1, retention);
        await put([newJob("c2"), newJob("c3")], T0 + 2);
        const [a, b] = (await reserve({ now: T0 + 2, limit: 2 })).jobs;
        const applied = await storage.settle([
          { kind: "complete", id: a.id, token: tokenOf(a), result: { big: "result" } },
          { kind: "complete", id: b.id, token: tokenOf(b) },
          { kind: "complete", id: b.id, token: tokenOf(b) }, // its lease is gone: refused
        ], { now: T0 + 3, retention });
        assert.deepEqual(applied, [true, true, false]);
        assert.equal(await storage.getJob("c2"), null);
        assert.equal(await storage.getJob("c3"), null);
        assert.equal(await storage.getJob("kept"), null, "older completed jobs are pruned too");
        assert.equal(await stateOf("c1"), "failed");
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 0,
          delayed: 0,
          active: 0,
          completed: 0,
          failed: 1,
        });
        assert.deepEqual(await storage.list("alpha", "completed"), []);
        // The ids are free again: enqueueing one stores a new job.
        const [again] = await put([newJob("c2")], T0 + 4);
        assert.equal(again.created, true);
      });

      test("settle without retention keeps every finished job", async () => {
        for (const [i, id] of ["a", "b", "c"].entries()) await finish(id, "complete", T0 + i);
        assert.equal((await storage.counts("alpha")).completed, 3);
      });

      test("prune removes finished jobs beyond count and age and returns how many", async () => {
        for (const [i, id] of ["c1", "c2", "c3", "c4"].entries()) {
          await finish(id, "complete", T0 + i);
        }
        for (const [i, id] of ["f1", "f2", "f3"].entries()) await finish(id, "fail", T0 + 10 + i);
        await put([newJob("active")], T0);
        await put([newJob("waiting"), newJob("delayed", { runAt: T0 + 10 * DAY })], T0);
        await reserveOne("active", { now: T0 + 20 });
        const removed = await storage.prune("alpha", {
          completed: { count: 3, age: DAY },
          failed: { count: 10, age: 100 },
        }, T0 + 111);
        // c1 by count; f1 (finished at T0+10) by age; f2 at T0+11 is exactly 100 ms old.
        assert.equal(removed, 2);
        assert.deepEqual(ids(await storage.list("alpha", "completed")), ["c4", "c3", "c2"]);
        assert.deepEqual(ids(await storage.list("alpha", "failed")), ["f3", "f2"]);
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 1,
          delayed: 1,
          active: 1,
          completed: 3,
          failed: 2,
        });
      });

      test("prune touches only the named queue", async () => {
        await finish("a", "complete", T0);
        await put([newJob("b", { queue: "beta" })]);
        const job = await reserveOne("b", { queues: ["beta"] });
        await settleOne({ kind: "complete", id: "b", token: tokenOf(job) });
        const none: Retention = {
          completed: { count: 0, age: DAY },
          failed: { count: 0, age: DAY },
        };
        assert.equal(await storage.prune("beta", none, T0), 1);
        assert.equal(await stateOf("a"), "completed");
        assert.equal(await storage.getJob("b"), null);
        assert.equal(await storage.prune("beta", none, T0), 0);
        assert.equal(await storage.prune("unknown", none, T0), 0);
      });
    });

    describe("extendLeases", () => {
      test("moves the expiry to now + leaseMs, so the job is not reclaimed at the old one", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a", { leaseMs: 1_000 });
        const extended = await storage.extendLeases(
          [{ id: "a", token: tokenOf(job) }],
          5_000,
          T0 + 900,
        );
        assert.deepEqual(extended, [true]);
        const renewed = await storage.getJob("a");
        assert.deepEqual(renewed?.lease, {
          owner: "worker-1",
          token: tokenOf(job),
          expiresAt: T0 + 5_900,
        });
        const early = await reserve({ now: T0 + 1_000 });
        assert.deepEqual(early.jobs, []);
        assert.equal(early.nextAt, T0 + 5_900);
        assert.deepEqual((await reserve({ now: T0 + 5_899 })).jobs, []);
        const reclaimed = await reserveOne("a", { now: T0 + 5_900 });
        assert.equal(reclaimed.stalls, 1);
      });

      test("answers per entry: false for a wrong token, a missing or a non-active job", async () => {
        await put([newJob("a"), newJob("b"), newJob("w")]);
        const [a, b] = (await reserve({ limit: 2 })).jobs;
        await settleOne({ kind: "complete", id: "b", token: tokenOf(b) });
        const extended = await storage.extendLeases(
          [
            { id: "a", token: tokenOf(a) },
            { id: "a", token: "wrong" },
            { id: "missing", token: "t" },
            { id: "b", token: tokenOf(b) },
            { id: "w", token: "t" },
          ],
          LEASE,
          T0 + 10,
        );
        assert.deepEqual(extended, [true, false, false, false, false]);
        assert.equal((await storage.getJob("a"))?.lease?.expiresAt, T0 + 10 + LEASE);
        assert.equal(await stateOf("b"), "completed");
        assert.equal(await stateOf("w"), "waiting");
      });

      test("an empty batch returns an empty array", async () => {
        assert.deepEqual(await storage.extendLeases([], LEASE, T0), []);
      });
    });

    describe("setProgress", () => {
      test("records progress on an active job under its token", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        assert.equal(await storage.setProgress("a", tokenOf(job), 42), true);
        assert.equal((await storage.getJob("a"))?.progress, 42);
        const detail = { step: "upload", done: [1, 2], note: "ünïcode" };
        assert.equal(await storage.setProgress("a", tokenOf(job), detail), true);
        const got = await storage.getJob("a");
        assert.deepEqual(got?.progress, detail);
        (got?.progress as { done: number[] }).done.push(3);
        assert.deepEqual((await storage.getJob("a"))?.progress, detail);
      });

      test("is refused for a wrong token, a missing job or a job that is not active", async () => {
        await put([newJob("a"), newJob("w")]);
        const job = await reserveOne("a");
        assert.equal(await storage.setProgress("a", "wrong", 1), false);
        assert.equal(await storage.setProgress("missing", "t", 1), false);
        assert.equal(await storage.setProgress("w", "t", 1), false);
        await settleOne({ kind: "complete", id: "a", token: tokenOf(job) });
        assert.equal(await storage.setProgress("a", tokenOf(job), 1), false);
        assert.equal((await storage.getJob("a"))?.progress, undefined);
        assert.equal((await storage.getJob("w"))?.progress, undefined);
      });
    });

    describe("getJob and counts", () => {
      test("getJob returns null for an unknown id", async () => {
        assert.equal(await storage.getJob("unknown"), null);
      });

      test("counts every state of one queue exactly", async () => {
        await put([
          newJob("a1"),
          newJob("c1"),
          newJob("f1"),
          newJob("w1"),
          newJob("w2"),
          newJob("d1", { runAt: T0 + 100 }),
          newJob("other", { queue: "beta" }),
        ]);
        const { jobs } = await reserve({ limit: 3 });
        assert.deepEqual(ids(jobs), ["a1", "c1", "f1"]);
        const [, c1, f1] = jobs;
        await storage.settle([
          { kind: "complete", id: "c1", token: tokenOf(c1) },
          { kind: "fail", id: "f1", token: tokenOf(f1), error: jobError("x", 1, T0) },
        ], { now: T0 });
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 2,
          delayed: 1,
          active: 1,
          completed: 1,
          failed: 1,
        });
        assert.deepEqual(await storage.counts("beta"), {
          waiting: 1,
          delayed: 0,
          active: 0,
          completed: 0,
          failed: 0,
        });
      });

      test("counts of an unknown queue are all zero", async () => {
        assert.deepEqual(await storage.counts("nothing-here"), {
          waiting: 0,
          delayed: 0,
          active: 0,
          completed: 0,
          failed: 0,
        });
      });
    });

    describe("list", () => {
      test("lists waiting jobs in reservation order", async () => {
        await put([
          newJob("low1"),
          newJob("high", { priority: 2 }),
          newJob("low2"),
          newJob("mid", { priority: 1 }),
        ]);
        const listed = await storage.list("alpha", "waiting");
        assert.deepEqual(ids(listed), ["high", "mid", "low1", "low2"]);
        assert.ok(listed.every((job) => job.state === "waiting"));
        assert.deepEqual(ids((await reserve()).jobs), ids(listed));
      });

      test("lists delayed jobs by runAt", async () => {
        await put([
          newJob("c", { runAt: T0 + 300 }),
          newJob("a", { runAt: T0 + 100 }),
          newJob("b", { runAt: T0 + 200 }),
          newJob("w"),
        ]);
        assert.deepEqual(ids(await storage.list("alpha", "delayed")), ["a", "b", "c"]);
      });

      test("lists active jobs by startedAt", async () => {
        await put([newJob("a"), newJob("b"), newJob("c")]);
        await reserve({ limit: 1, now: T0 + 1 });
        await reserve({ limit: 1, now: T0 + 2 });
        await reserve({ limit: 1, now: T0 + 3 });
        const listed = await storage.list("alpha", "active");
        assert.deepEqual(listed.map((job) => [job.id, job.startedAt]), [
          ["a", T0 + 1],
          ["b", T0 + 2],
          ["c", T0 + 3],
        ]);
      });

      test("lists completed and failed jobs newest finished first", async () => {
        await put(["c1", "f1", "c2", "f2", "c3"].map((id) => newJob(id)));
        const { jobs } = await reserve();
        for (const [i, job] of jobs.entries()) {
          const settlement: Settlement = job.id.startsWith("c")
            ? { kind: "complete", id: job.id, token: tokenOf(job) }
            : { kind: "fail", id: job.id, token: tokenOf(job), error: jobError("x", 1, T0 + i) };
          assert.equal(await settleOne(settlement, T0 + i), true);
        }
        assert.deepEqual(ids(await storage.list("alpha", "completed")), ["c3", "c2", "c1"]);
        assert.deepEqual(ids(await storage.list("alpha", "failed")), ["f2", "f1"]);
      });

      test("pages with offset and limit in every state", async () => {
        await put(["a", "b", "c", "d", "e"].map((id) => newJob(id)));
        await put(["d1", "d2", "d3"].map((id, i) => newJob(id, { runAt: T0 + 10 + i })));
        assert.deepEqual(ids(await storage.list("alpha", "waiting", { offset: 1, limit: 2 })), [
          "b",
          "c",
        ]);
        assert.deepEqual(ids(await storage.list("alpha", "waiting", { offset: 3 })), ["d", "e"]);
        assert.deepEqual(ids(await storage.list("alpha", "waiting", { offset: 5 })), []);
        assert.deepEqual(ids(await storage.list("alpha", "waiting", { limit: 1 })), ["a"]);
        assert.deepEqual(ids(await storage.list("alpha", "delayed", { offset: 2, limit: 5 })), [
          "d3",
        ]);
        const { jobs } = await reserve({ limit: 4 });
        for (const [i, job] of jobs.entries()) {
          await settleOne({ kind: "complete", id: job.id, token: tokenOf(job) }, T0 + i);
        }
        assert.deepEqual(ids(await storage.list("alpha", "completed", { offset: 1, limit: 2 })), [
          "c",
          "b",
        ]);
      });

      test("returns at most 100 jobs by default", async () => {
        await put(Array.from({ length: 105 }, (_, i) => newJob(`j${String(i).padStart(3, "0")}`)));
        const listed = await storage.list("alpha", "waiting");
        assert.equal(listed.length, 100);
        assert.equal(listed[0].id, "j000");
        assert.equal(listed[99].id, "j099");
      });

      test("lists only the named queue, and nothing for an unknown one", async () => {
        await put([newJob("a"), newJob("b", { queue: "beta" })]);
        assert.deepEqual(ids(await storage.list("beta", "waiting")), ["b"]);
        assert.deepEqual(await storage.list("unknown", "waiting"), []);
        assert.deepEqual(await storage.list("alpha", "failed"), []);
      });
    });

    describe("retryFailed", () => {
      test("moves a failed job back to waiting with attempt and stalls reset, errors kept", async () => {
        await put([newJob("a", { maxAttempts: 2, maxStalls: 5 })]);
        await reserveOne("a", { leaseMs: 100 });
        const second = await reserveOne("a", { now: T0 + 100 });
        const error = jobError("final", 2, T0 + 101);
        await settleOne({ kind: "fail", id: "a", token: tokenOf(second), error }, T0 + 101);
        assert.equal(await storage.retryFailed("a", T0 + 200), true);
        const job = await storage.getJob("a");
        assert.equal(job?.state, "waiting");
        assert.equal(job?.attempt, 0);
        assert.equal(job?.stalls, 0);
        assert.equal(job?.lease, undefined);
        assert.deepEqual(job?.errors, [error]);
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 1,
          delayed: 0,
          active: 0,
          completed: 0,
          failed: 0,
        });
        const again = await reserveOne("a", { now: T0 + 200 });
        assert.equal(again.attempt, 1);
      });

      test("revives a job that failed by stalling", async () => {
        await put([newJob("a", { maxStalls: 0 })]);
        await reserveOne("a", { leaseMs: 100 });
        await reserve({ now: T0 + 100 });
        assert.equal(await stateOf("a"), "failed");
        assert.equal(await storage.retryFailed("a", T0 + 100), true);
        const job = await reserveOne("a", { now: T0 + 100 });
        assert.equal(job.stalls, 0);
        assert.equal(job.attempt, 1);
      });

      test("is refused for jobs that are not failed", async () => {
        await put([newJob("w"), newJob("d", { runAt: T0 + 100 }), newJob("a"), newJob("c")]);
        const { jobs } = await reserve({ limit: 3 });
        assert.deepEqual(ids(jobs), ["w", "a", "c"]);
        await settleOne({ kind: "release", id: "w", token: tokenOf(jobs[0]) });
        await settleOne({ kind: "complete", id: "c", token: tokenOf(jobs[2]) });
        for (const id of ["w", "d", "a", "c", "missing"]) {
          assert.equal(await storage.retryFailed(id, T0), false, id);
        }
        assert.deepEqual(
          await Promise.all(["w", "d", "a", "c"].map(stateOf)),
          ["waiting", "delayed", "active", "completed"],
        );
      });
    });

    describe("promote", () => {
      test("makes a delayed job waiting with runAt = now, reservable at once", async () => {
        await put([newJob("d", { runAt: T0 + DAY }), newJob("w")]);
        assert.equal(await storage.promote("d", T0 + 5), true);
        const job = await storage.getJob("d");
        assert.equal(job?.state, "waiting");
        assert.equal(job?.runAt, T0 + 5);
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 2,
          delayed: 0,
          active: 0,
          completed: 0,
          failed: 0,
        });
        // It joins the back of the waiting order, and a later reserve does not promote it twice.
        const { jobs } = await reserve({ now: T0 + 5, leaseMs: 3 * DAY });
        assert.deepEqual(ids(jobs), ["w", "d"]);
        assert.deepEqual(ids((await reserve({ now: T0 + 2 * DAY })).jobs), []);
      });

      test("keeps attempt, stalls and errors of a job delayed by a retry", async () => {
        await put([newJob("a")]);
        const first = await reserveOne("a");
        const error = jobError("later", 1, T0);
        await settleOne({ kind: "retry", id: "a", token: tokenOf(first), error, runAt: T0 + DAY });
        assert.equal(await stateOf("a"), "delayed");
        assert.equal(await storage.promote("a", T0 + 1), true);
        const job = await storage.getJob("a");
        assert.equal(job?.state, "waiting");
        assert.equal(job?.attempt, 1);
        assert.equal(job?.stalls, 0);
        assert.deepEqual(job?.errors, [error]);
        const again = await reserveOne("a", { now: T0 + 1 });
        assert.equal(again.attempt, 2);
      });

      test("is woken by a promote", async () => {
        await put([newJob("d", { runAt: T0 + DAY })]);
        assert.equal(await wokenBy(["alpha"], () => storage.promote("d", T0)), true);
      });

      test("returns false for waiting, active, completed, failed and missing jobs, changing nothing", async () => {
        await put([
          newJob("w"),
          newJob("a"),
          newJob("c"),
          newJob("f", { maxAttempts: 1 }),
          newJob("d", { runAt: T0 + DAY }),
        ]);
        const { jobs } = await reserve({ limit: 4 });
        assert.deepEqual(ids(jobs), ["w", "a", "c", "f"]);
        await settleOne({ kind: "release", id: "w", token: tokenOf(jobs[0]) });
        await settleOne({ kind: "complete", id: "c", token: tokenOf(jobs[2]) });
        await settleOne({
          kind: "fail",
          id: "f",
          token: tokenOf(jobs[3]),
          error: jobError("x", 1, T0),
        });
        const before = await Promise.all(["w", "a", "c", "f", "d"].map((id) => storage.getJob(id)));
        for (const id of ["w", "a", "c", "f", "missing"]) {
          assert.equal(await storage.promote(id, T0 + 1), false, id);
        }
        const after = await Promise.all(["w", "a", "c", "f", "d"].map((id) => storage.getJob(id)));
        assert.deepEqual(after.map(plain), before.map(plain));
        assert.equal(await storage.getJob("missing"), null);
      });
    });

    describe("remove", () => {
      test("deletes waiting, delayed, completed and failed jobs", async () => {
        await put([newJob("w"), newJob("d", { runAt: T0 + 100 }), newJob("c"), newJob("f")]);
        await put([newJob("keep")], T0 + 1);
        const { jobs } = await reserve({ limit: 3 });
        const [w, c, f] = jobs;
        await storage.settle([
          { kind: "release", id: "w", token: tokenOf(w) },
          { kind: "complete", id: "c", token: tokenOf(c) },
          { kind: "fail", id: "f", token: tokenOf(f), error: jobError("x", 1, T0) },
        ], { now: T0 });
        for (const id of ["w", "d", "c", "f"]) {
          assert.equal(await storage.remove(id), true, id);
          assert.equal(await storage.getJob(id), null, id);
        }
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 1,
          delayed: 0,
          active: 0,
          completed: 0,
          failed: 0,
        });
        assert.deepEqual(ids((await reserve({ now: T0 + 1_000 })).jobs), ["keep"]);
        assert.deepEqual(await storage.list("alpha", "delayed"), []);
      });

      test("refuses an active job and a missing one", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        assert.equal(await storage.remove("a"), false);
        assert.equal(await storage.remove("missing"), false);
        assert.equal(await stateOf("a"), "active");
        assert.equal(await settleOne({ kind: "complete", id: "a", token: tokenOf(job) }), true);
        assert.equal(await storage.remove("a"), true);
        assert.equal(await storage.remove("a"), false);
      });

      test("a removed job's settle is refused", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        await settleOne({
          kind: "retry",
          id: "a",
          token: tokenOf(job),
          error: jobError("x", 1, T0),
          runAt: T0 + 50,
        });
        assert.equal(await storage.remove("a"), true);
        assert.equal(await settleOne({ kind: "complete", id: "a", token: tokenOf(job) }), false);
        assert.deepEqual((await reserve({ now: T0 + 50 })).jobs, []);
        assert.equal((await reserve({ now: T0 + 50 })).nextAt, null);
      });
    });

    describe("removeFailed", () => {
      test("deletes a failed job, and refuses every other state and a missing id", async () => {
        await put([newJob("w"), newJob("d", { runAt: T0 + 100 }), newJob("a"), newJob("c")]);
        await put([newJob("f")], T0 + 1);
        const { jobs } = await reserve({ limit: 4, now: T0 + 1 });
        assert.deepEqual(ids(jobs), ["w", "a", "c", "f"]);
        const [w, , c, f] = jobs;
        await storage.settle([
          { kind: "release", id: "w", token: tokenOf(w) },
          { kind: "complete", id: "c", token: tokenOf(c) },
          { kind: "fail", id: "f", token: tokenOf(f), error: jobError("x", 1, T0 + 1) },
        ], { now: T0 + 1 });
        for (const id of ["w", "d", "a", "c", "missing"]) {
          assert.equal(await storage.removeFailed(id), false, id);
        }
        assert.deepEqual(
          await Promise.all(["w", "d", "a", "c"].map(stateOf)),
          ["waiting", "delayed", "active", "completed"],
        );
        assert.equal(await storage.removeFailed("f"), true);
        assert.equal(await storage.getJob("f"), null);
        assert.equal(await storage.removeFailed("f"), false);
        assert.deepEqual(await storage.counts("alpha"), {
          waiting: 1,
          delayed: 1,
          active: 1,
          completed: 1,
          failed: 0,
        });
        assert.deepEqual(await storage.list("alpha", "failed"), []);
      });

      test("a failed job retried before the remove is left alone (no read-then-delete race)", async () => {
        await put([newJob("a", { maxAttempts: 1 })]);
        const job = await reserveOne("a");
        await settleOne({
          kind: "fail",
          id: "a",
          token: tokenOf(job),
          error: jobError("x", 1, T0),
        });
        // What `taskmill failed remove` races with: someone retries it meanwhile.
        assert.equal(await storage.retryFailed("a", T0 + 1), true);
        assert.equal(await storage.removeFailed("a"), false);
        assert.equal(await stateOf("a"), "waiting");
        assert.deepEqual(ids((await reserve({ now: T0 + 1 })).jobs), ["a"]);
      });

      test("a failed job's id can be enqueued again once removed", async () => {
        await put([newJob("a", { maxAttempts: 1, payload: 1 })]);
        const job = await reserveOne("a");
        await settleOne({
          kind: "fail",
          id: "a",
          token: tokenOf(job),
          error: jobError("x", 1, T0),
        });
        assert.equal(await storage.removeFailed("a"), true);
        const [again] = await put([newJob("a", { payload: 2 })], T0 + 1);
        assert.equal(again.created, true);
        assert.equal(again.job.payload, 2);
      });
    });

    describe("waitForWork", () => {
      test("is woken by an enqueue issued right after the call", async () => {
        assert.equal(await wokenBy(["alpha"], () => put([newJob("a")])), true);
      });

      test("is woken by an enqueue on any of the watched queues", async () => {
        const woken = await wokenBy(["alpha", "beta"], () => put([newJob("b", { queue: "beta" })]));
        assert.equal(woken, true);
      });

      test("is woken by resume", async () => {
        await storage.pause("alpha");
        await put([newJob("a")]);
        assert.equal(await wokenBy(["alpha"], () => storage.resume("alpha")), true);
      });

      test("is woken by a retry settle that makes a job waiting", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        const woken = await wokenBy(["alpha"], () =>
          settleOne({
            kind: "retry",
            id: "a",
            token: tokenOf(job),
            error: jobError("x", 1, T0),
            runAt: T0,
          }));
        assert.equal(woken, true);
      });

      test("is woken by a release", async () => {
        await put([newJob("a")]);
        const job = await reserveOne("a");
        const woken = await wokenBy(
          ["alpha"],
          () => settleOne({ kind: "release", id: "a", token: tokenOf(job) }),
        );
        assert.equal(woken, true);
      });

      test("resolves after maxWaitMs when nothing happens", async () => {
        assert.equal(await wokenBy(["alpha"], () => Promise.resolve(), 20), true);
      });

      test("resolves, without rejecting, when the signal aborts", async () => {
        const controller = new AbortController();
        const wait = storage.waitForWork(["alpha"], 2_000, controller.signal);
        controller.abort(new Error("stop"));
        assert.equal(await wait, undefined);
      });

      test("resolves at once when the signal is already aborted", async () => {
        const wait = storage.waitForWork(["alpha"], 2_000, AbortSignal.abort());
        let timer: ReturnType<typeof setTimeout> | undefined;
        const deadline = new Promise<"deadline">((resolve) => {
          timer = setTimeout(() => resolve("deadline"), 1_500);
        });
        const first = await Promise.race([wait.then(() => "resolved" as const), deadline]);
        clearTimeout(timer);
        assert.equal(first, "resolved");
      });
    });

    describe("close", () => {
      test("is idempotent", async () => {
        await storage.close();
        await storage.close();
      });
    });

    if (options.corrupt ?? true) {
      describe("unparsable records", () => {
        test("reserve moves an unparsable record to failed with its text kept in raw", async () => {
          assert.ok(
            fixture.corrupt,
            "the fixture has no corrupt(id) hook; pass { corrupt: false } to storageContract",
          );
          await put([newJob("bad"), newJob("good")]);
          await fixture.corrupt("bad");
          const { jobs } = await reserve();
          assert.deepEqual(ids(jobs), ["good"]);
          const bad = await storage.getJob("bad");
          assert.ok(bad);
          assert.equal(bad.state, "failed");
          assert.equal(typeof bad.raw, "string");
          assert.ok(bad.raw!.length > 0);
          assert.equal(bad.lease, undefined);
          assert.equal((await storage.counts("alpha")).failed, 1);
          // "good" is settled first, or its expired lease would hand it out again.
          assert.equal(
            await settleOne({ kind: "complete", id: "good", token: tokenOf(jobs[0]) }),
            true,
          );
          assert.deepEqual((await reserve({ now: T0 + 10 * LEASE })).jobs, []);
        });

        test("a reserve short of its limit because records were quarantined says more may wait", async () => {
          assert.ok(fixture.corrupt, "the fixture has no corrupt(id) hook");
          await put([newJob("bad1"), newJob("good1"), newJob("bad2"), newJob("good2")]);
          await put([newJob("good3"), newJob("good4")], T0 + 1);
          await fixture.corrupt("bad1");
          await fixture.corrupt("bad2");
          const first = await reserve({ limit: 4 });
          assert.deepEqual(ids(first.jobs), ["good1", "good2"]);
          assert.equal(first.more, true, "fewer than asked does not mean the queue is empty");
          const second = await reserve({ limit: 4, now: T0 + 1 });
          assert.deepEqual(ids(second.jobs), ["good3", "good4"]);
          assert.notEqual(second.more, true);
          const last = await reserve({ limit: 4, now: T0 + 1 });
          assert.deepEqual(ids(last.jobs), []);
          assert.notEqual(last.more, true, "an empty queue has nothing more");
        });
      });
    }
  });
}
