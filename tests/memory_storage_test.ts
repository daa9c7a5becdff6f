import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage } from "../adapters/memory/mod.ts";
import { FakeClock } from "../core/fake_clock.ts";
import type { NewJob, Settlement, Storage } from "../core/storage.ts";
import type { JobRecord, JobState } from "../core/task.ts";
import { storageContract } from "./storage_contract.ts";
import { storageDedupeContract } from "./storage_dedupe_contract.ts";
import { storageEventsContract } from "./storage_events_contract.ts";
import { storageInputContract } from "./storage_input_contract.ts";
import { storageSchedulesContract } from "./storage_schedules_contract.ts";
import { storageLimitsContract } from "./storage_limits_contract.ts";

// MemoryStorage stores no text, so there is nothing to corrupt.
storageContract(
  "MemoryStorage",
  () => Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }),
  { corrupt: false },
);
storageEventsContract(
  "MemoryStorage",
  (options = {}) =>
    Promise.resolve({ storage: new MemoryStorage(options), cleanup: () => Promise.resolve() }),
);
storageSchedulesContract(
  "MemoryStorage",
  () => Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }),
);
storageInputContract(
  "MemoryStorage",
  () => Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }),
);
storageLimitsContract(
  "MemoryStorage",
  () => Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }),
);
storageDedupeContract(
  "MemoryStorage",
  () => Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }),
);

const T0 = 1_000_000;
const CHECK_EVERY = 10; // steps between full comparisons of counts and lists

function newJob(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: "memory_task",
    queue: "alpha",
    payload: null,
    priority: 0,
    maxAttempts: 3,
    maxStalls: 1,
    timeout: 0,
    runAt: T0,
    ...overrides,
  };
}

/** Whether `promise` has settled once pending callbacks ran (FakeClock never fires by itself). */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return settled;
}

describe("MemoryStorage", () => {
  describe("waitForWork", () => {
    test("is not woken by work on queues it does not watch", async () => {
      const storage = new MemoryStorage({ clock: new FakeClock() });
      const controller = new AbortController();
      const wait = storage.waitForWork(["alpha"], 60_000, controller.signal);
      await storage.enqueue([newJob("b", { queue: "beta" })], T0);
      await storage.resume("beta");
      assert.equal(await isSettled(wait), false);
      controller.abort();
      assert.equal(await isSettled(wait), true);
    });

    test("times out on the injected clock", async () => {
      const clock = new FakeClock();
      const storage = new MemoryStorage({ clock });
      const wait = storage.waitForWork(["alpha"], 1_000, new AbortController().signal);
      await clock.advance(999);
      assert.equal(await isSettled(wait), false);
      await clock.advance(1);
      assert.equal(await isSettled(wait), true);
    });

    test("a woken wait cancels its timer", async () => {
      const clock = new FakeClock();
      const storage = new MemoryStorage({ clock });
      const wait = storage.waitForWork(["alpha"], 1_000, new AbortController().signal);
      assert.equal(clock.pendingTimers, 1);
      await storage.enqueue([newJob("a")], T0);
      await wait;
      await clock.flush();
      assert.equal(clock.pendingTimers, 0);
    });

    test("close resolves pending waits, and later waits resolve at once", async () => {
      const storage = new MemoryStorage({ clock: new FakeClock() });
      const waits = [
        storage.waitForWork(["alpha"], 60_000, new AbortController().signal),
        storage.waitForWork(["beta"], 60_000, new AbortController().signal),
      ];
      await storage.close();
      assert.equal(await isSettled(Promise.all(waits)), true);
      const late = storage.waitForWork(["alpha"], 60_000, new AbortController().signal);
      assert.equal(await isSettled(late), true);
    });

    test("is woken by retryFailed and by a delayed enqueue", async () => {
      const storage = new MemoryStorage({ clock: new FakeClock() });
      const signal = new AbortController().signal;
      await storage.enqueue([newJob("a", { maxAttempts: 1 })], T0);
      const { jobs } = await storage.reserve({
        queues: ["alpha"],
        limit: 1,
        owner: "w",
        leaseMs: 1_000,
        now: T0,
      });
      await storage.settle([{
        kind: "fail",
        id: "a",
        token: jobs[0].lease!.token,
        error: { message: "x", name: "Error", attempt: 1, at: T0 },
      }], { now: T0 });
      let wait = storage.waitForWork(["alpha"], 60_000, signal);
      await storage.retryFailed("a", T0);
      assert.equal(await isSettled(wait), true);
      wait = storage.waitForWork(["alpha"], 60_000, signal);
      await storage.enqueue([newJob("later", { runAt: T0 + 5_000 })], T0);
      assert.equal(await isSettled(wait), true);
    });
  });

  describe("bad arguments", () => {
    test("a bad job in a batch stores none of the batch", async () => {
      const storage = new MemoryStorage();
      await assert.rejects(
        storage.enqueue([newJob("ok"), newJob("bad", { maxAttempts: 0 })], T0),
        { name: "RangeError", message: /jobs\[1\]\.maxAttempts/ },
      );
      await assert.rejects(
        storage.enqueue([newJob("ok"), { ...newJob("bad"), id: 7 as unknown as string }], T0),
        { name: "TypeError", message: /jobs\[1\]\.id/ },
      );
      assert.equal(await storage.getJob("ok"), null);
    });

    test("reserve refuses a limit below 1 and a lease of 0 ms", async () => {
      const storage = new MemoryStorage();
      const request = { queues: ["alpha"], limit: 1, owner: "w", leaseMs: 1_000, now: T0 };
      await assert.rejects(storage.reserve({ ...request, limit: 0 }), RangeError);
      await assert.rejects(storage.reserve({ ...request, leaseMs: 0 }), RangeError);
      await assert.rejects(storage.reserve({ ...request, now: NaN }), TypeError);
    });

    test("a malformed settlement applies none of the batch", async () => {
      const storage = new MemoryStorage();
      await storage.enqueue([newJob("a")], T0);
      const { jobs } = await storage.reserve({
        queues: ["alpha"],
        limit: 1,
        owner: "w",
        leaseMs: 1_000,
        now: T0,
      });
      await assert.rejects(
        storage.settle([
          { kind: "complete", id: "a", token: jobs[0].lease!.token },
          { kind: "explode", id: "a", token: "t" } as never,
        ], { now: T0 }),
        TypeError,
      );
      assert.equal((await storage.getJob("a"))?.state, "active");
    });

    test("list refuses an unknown state and a negative offset", async () => {
      const storage = new MemoryStorage();
      await assert.rejects(storage.list("alpha", "lost" as JobState), RangeError);
      await assert.rejects(storage.list("alpha", "waiting", { offset: -1 }), RangeError);
    });
  });

  test("a payload Date reads back as its ISO string, as JSON storage does", async () => {
    const storage = new MemoryStorage();
    const at = new Date(0);
    const [{ job }] = await storage.enqueue([newJob("a", { payload: { at } })], T0);
    assert.deepEqual(job.payload, { at: "1970-01-01T00:00:00.000Z" });
  });

  test("the lease heap does not grow with settled jobs", async () => {
    // Many reserve/complete rounds with one long lease: stale lease entries
    // are dropped from the top as nextAt is computed, so every round stays cheap
    // and the store ends exact.
    const storage = new MemoryStorage();
    const retention = {
      completed: { count: 100, age: 1_000_000 },
      failed: { count: 100, age: 1_000_000 },
    };
    for (let round = 0; round < 200; round++) {
      const now = T0 + round;
      await storage.enqueue(
        Array.from({ length: 50 }, (_, i) => newJob(`r${round}-${i}`)),
        now,
      );
      const { jobs, nextAt } = await storage.reserve({
        queues: ["alpha"],
        limit: 50,
        owner: "w",
        leaseMs: 60_000,
        now,
      });
      assert.equal(jobs.length, 50);
      assert.equal(nextAt, now + 60_000);
      const applied = await storage.settle(
        jobs.map((job) => ({ kind: "complete", id: job.id, token: job.lease!.token })),
        { now, retention },
      );
      assert.ok(applied.every(Boolean));
    }
    assert.deepEqual(await storage.counts("alpha"), {
      waiting: 0,
      delayed: 0,
      active: 0,
      completed: 100,
      failed: 0,
    });
    const { nextAt } = await storage.reserve({
      queues: ["alpha"],
      limit: 1,
      owner: "w",
      leaseMs: 1,
      now: T0 + 200,
    });
    assert.equal(nextAt, null);
  });

  test("matches a simple reference model under a seeded random workload", async () => {
    for (const seed of [1, 2, 3, 42, 1234]) await runModelCheck(seed, 1_500);
  });
});

/** Mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ModelJob {
  id: string;
  queue: string;
  priority: number;
  maxAttempts: number;
  maxStalls: number;
  state: JobState;
  runAt: number;
  attempt: number;
  stalls: number;
  /** Order stamp of the last move into waiting or delayed, or of the last lease grant/extension. */
  seq: number;
  token?: string;
  expiresAt?: number;
  finishedAt?: number;
}

/**
 * The storage's promises written as plainly as possible (sorting arrays on
 * every call), to check the heaps, FIFO buckets and lazy deletion against.
 */
class Model {
  jobs = new Map<string, ModelJob>();
  paused = new Set<string>();
  #seq = 0;

  stamp(): number {
    return ++this.#seq;
  }

  enqueue(job: NewJob, now: number): void {
    if (this.jobs.has(job.id)) return;
    this.jobs.set(job.id, {
      id: job.id,
      queue: job.queue,
      priority: job.priority,
      // The workload sets both (unset ones are covered by the contract suite).
      maxAttempts: job.maxAttempts!,
      maxStalls: job.maxStalls!,
      state: job.runAt <= now ? "waiting" : "delayed",
      runAt: job.runAt,
      attempt: 0,
      stalls: 0,
      seq: this.stamp(),
    });
  }

  inState(queue: string, state: JobState): ModelJob[] {
    return [...this.jobs.values()].filter((job) => job.queue === queue && job.state === state);
  }

  waitingOrder(queue: string): ModelJob[] {
    return this.inState(queue, "waiting").sort((a, b) => b.priority - a.priority || a.seq - b.seq);
  }

  delayedOrder(queue: string): ModelJob[] {
    return this.inState(queue, "delayed").sort((a, b) => a.runAt - b.runAt || a.seq - b.seq);
  }

  reserve(queues: string[], limit: number, leaseMs: number, now: number) {
    const taken: ModelJob[] = [];
    for (const queue of new Set(queues)) {
      const expired = this.inState(queue, "active")
        .filter((job) => job.expiresAt! <= now)
        .sort((a, b) => a.expiresAt! - b.expiresAt! || a.seq - b.seq);
      for (const job of expired) {
        job.stalls++;
        job.token = undefined;
        if (job.stalls > job.maxStalls || job.attempt >= job.maxAttempts) {
          job.state = "failed";
          job.finishedAt = now;
        } else {
          job.state = "waiting";
          job.seq = this.stamp();
        }
      }
      for (const job of this.delayedOrder(queue).filter((job) => job.runAt <= now)) {
        job.state = "waiting";
        job.seq = this.stamp();
      }
      if (this.paused.has(queue)) continue;
      for (const job of this.waitingOrder(queue)) {
        if (taken.length === limit) break;
        job.state = "active";
        job.attempt++;
        job.expiresAt = now + leaseMs;
        job.seq = this.stamp();
        taken.push(job);
      }
    }
    let nextAt: number | null = null;
    for (const queue of queues) {
      if (this.paused.has(queue)) continue;
      for (const job of [...this.inState(queue, "delayed"), ...this.inState(queue, "active")]) {
        const at = job.state === "delayed" ? job.runAt : job.expiresAt!;
        if (nextAt === null || at < nextAt) nextAt = at;
      }
    }
    return { ids: taken.map((job) => job.id), nextAt };
  }
}

async function runModelCheck(seed: number, steps: number): Promise<void> {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const storage: Storage = new MemoryStorage({ clock: new FakeClock() });
  const model = new Model();
  const queues = ["q0", "q1", "q2"];
  let now = T0;
  let nextId = 0;
  const where = (step: number, op: string) => `seed ${seed}, step ${step}: ${op}`;

  for (let step = 0; step < steps; step++) {
    const roll = random();
    if (roll < 0.3) {
      const batch = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const id = random() < 0.05 && nextId > 0
          ? `j${Math.floor(random() * nextId)}` // an existing id: idempotent
          : `j${nextId++}`;
        return newJob(id, {
          queue: pick(queues),
          priority: pick([-1, 0, 0, 0, 2, 5]),
          runAt: now + pick([-10, 0, 0, 0, 5, 20, 20, 100]),
          maxAttempts: pick([1, 2, 3]),
          maxStalls: pick([0, 1, 2]),
        });
      });
      const results = await storage.enqueue(batch, now);
      for (const [i, job] of batch.entries()) {
        const existed = model.jobs.has(job.id);
        model.enqueue(job, now);
        assert.equal(results[i].created, !existed, where(step, "enqueue created"));
      }
    } else if (roll < 0.55) {
      const requested = random() < 0.5 ? [pick(queues)] : [pick(queues), pick(queues)];
      const limit = 1 + Math.floor(random() * 4);
      const leaseMs = pick([10, 30, 50]);
      const expected = model.reserve(requested, limit, leaseMs, now);
      const got = await storage.reserve({ queues: requested, limit, owner: "w", leaseMs, now });
      assert.deepEqual(got.jobs.map((job) => job.id), expected.ids, where(step, "reserve ids"));
      assert.equal(got.nextAt, expected.nextAt, where(step, "reserve nextAt"));
      for (const job of got.jobs) {
        model.jobs.get(job.id)!.token = job.lease!.token;
        assert.equal(job.attempt, model.jobs.get(job.id)!.attempt, where(step, "attempt"));
      }
    } else if (roll < 0.8 && model.jobs.size > 0) {
      const candidates = [...model.jobs.values()].filter((job) => job.state === "active");
      if (candidates.length === 0) continue;
      const job = pick(candidates);
      const stale = random() < 0.1;
      const token = stale ? "stale" : job.token!;
      const kind = pick(["complete", "retry", "fail", "release"] as const);
      const runAt = now + pick([-5, 0, 10, 40]);
      const releaseAt = random() < 0.5 ? undefined : runAt;
      const error = { message: "x", name: "Error", attempt: job.attempt, at: now };
      const settlement: Settlement = kind === "complete"
        ? { kind, id: job.id, token }
        : kind === "fail"
        ? { kind, id: job.id, token, error }
        : kind === "retry"
        ? { kind, id: job.id, token, error, runAt }
        : { kind, id: job.id, token, runAt: releaseAt };
      const [applied] = await storage.settle([settlement], { now });
      assert.equal(applied, !stale, where(step, "settle"));
      if (!stale) {
        job.token = undefined;
        if (kind === "complete" || kind === "fail") {
          job.state = kind === "complete" ? "completed" : "failed";
          job.finishedAt = now;
        } else {
          if (kind === "release") job.attempt--;
          job.runAt = kind === "retry" ? runAt : releaseAt ?? job.runAt;
          job.state = job.runAt <= now ? "waiting" : "delayed";
          job.seq = model.stamp();
        }
      }
    } else if (roll < 0.85) {
      const candidates = [...model.jobs.values()].filter((job) => job.state === "active");
      if (candidates.length === 0) continue;
      const job = pick(candidates);
      const leaseMs = pick([10, 30]);
      const [extended] = await storage.extendLeases(
        [{ id: job.id, token: job.token! }],
        leaseMs,
        now,
      );
      assert.equal(extended, true, where(step, "extendLeases"));
      if (job.expiresAt !== now + leaseMs) {
        job.expiresAt = now + leaseMs;
        job.seq = model.stamp();
      }
    } else if (roll < 0.9 && nextId > 0) {
      const id = `j${Math.floor(random() * nextId)}`;
      const job = model.jobs.get(id);
      const removable = job !== undefined && job.state !== "active";
      assert.equal(await storage.remove(id), removable, where(step, "remove"));
      if (removable) model.jobs.delete(id);
    } else if (roll < 0.93) {
      const queue = pick(queues);
      if (model.paused.has(queue)) {
        model.paused.delete(queue);
        await storage.resume(queue);
      } else {
        model.paused.add(queue);
        await storage.pause(queue);
      }
    } else if (roll < 0.95 && nextId > 0) {
      const id = `j${Math.floor(random() * nextId)}`;
      const job = model.jobs.get(id);
      const retryable = job?.state === "failed";
      assert.equal(await storage.retryFailed(id, now), retryable, where(step, "retryFailed"));
      if (retryable) {
        Object.assign(job, { attempt: 0, stalls: 0, runAt: now, state: "waiting" });
        job.seq = model.stamp();
      }
    } else {
      now += pick([1, 5, 10, 25]);
    }

    if (step % CHECK_EVERY === 0 || step === steps - 1) {
      for (const queue of queues) {
        const counts = await storage.counts(queue);
        for (const state of ["waiting", "delayed", "active", "completed", "failed"] as const) {
          assert.equal(
            counts[state],
            model.inState(queue, state).length,
            where(step, `counts ${queue} ${state}`),
          );
        }
        const listIds = async (state: JobState) =>
          (await storage.list(queue, state, { limit: 10_000 })).map((job: JobRecord) => job.id);
        assert.deepEqual(
          await listIds("waiting"),
          model.waitingOrder(queue).map((job) => job.id),
          where(step, `list waiting ${queue}`),
        );
        assert.deepEqual(
          await listIds("delayed"),
          model.delayedOrder(queue).map((job) => job.id),
          where(step, `list delayed ${queue}`),
        );
      }
    }
  }
}

describe("MemoryStorage eventBacklog option", () => {
  test("rejects a backlog that is not an integer >= 0, naming the option", () => {
    assert.throws(() => new MemoryStorage({ eventBacklog: -1 }), /eventBacklog/);
    assert.throws(
      () => new MemoryStorage({ eventBacklog: 1.5 }),
      /eventBacklog must be an integer/,
    );
  });

  test("keeps exactly the backlog, across many compactions", async () => {
    const storage = new MemoryStorage({ eventBacklog: 3 });
    for (let i = 0; i < 20; i++) await storage.pause("q", i), await storage.resume("q", i);
    const page = await storage.readEvents({
      queues: ["q"],
      after: { q: "0" },
      limit: 100,
      maxWaitMs: 0,
    });
    assert.deepEqual(page.events.map((event) => event.id), ["38", "39", "40"]);
  });

  test("a reader's events are its own copies", async () => {
    const storage = new MemoryStorage();
    await storage.registerWorker(
      {
        id: "w",
        host: "",
        pid: 0,
        runtime: "deno",
        runtimeVersion: "",
        queues: ["q"],
        concurrency: 1,
        running: 0,
        processed: 0,
        failed: 0,
        startedAt: 0,
        lastSeen: 0,
      },
      "online",
      1_000,
      0,
    );
    const read = () =>
      storage.readEvents({
        queues: [],
        workers: true,
        after: { "@workers": "0" },
        limit: 10,
        maxWaitMs: 0,
      });
    const first = await read();
    (first.events[0] as { worker: { queues: string[] } }).worker.queues.push("changed");
    const second = await read();
    assert.deepEqual((second.events[0] as { worker: { queues: string[] } }).worker.queues, ["q"]);
  });
});
