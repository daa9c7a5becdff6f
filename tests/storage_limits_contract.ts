/**
 * The conformance suite of flow control in the Storage port (see
 * `core/storage_limits.ts`): queue limits (concurrency and a sliding-log
 * rate) enforced in `reserve` across every owner, groups taking turns with
 * limits of their own, holds from a release's `holdUntil`, `groups()`, and
 * refusals of bad input with nothing stored. Each adapter's test file calls
 * {@linkcode storageLimitsContract} once.
 *
 * Clock-free like `storage_contract.ts`: every call gets an explicit `now`.
 * The same rules through Queue and Worker, on a FakeClock with several
 * workers, are `flow_control_contract.ts`'s.
 *
 * @module
 */

import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { NewJob, Settlement, Storage } from "../core/storage.ts";
import type { GroupLimits, QueueLimits } from "../core/storage_limits.ts";
import type { JobRecord } from "../core/task.ts";
import type { ContractFixture } from "./storage_contract.ts";

const T0 = 1_000_000;
const LEASE = 30_000;

function newJob(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: "limits_task",
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

function limits(overrides: Partial<QueueLimits>): QueueLimits {
  return { concurrency: null, rate: null, group: null, ...overrides };
}

function groupLimits(overrides: Partial<GroupLimits>): GroupLimits {
  return { concurrency: null, rate: null, ...overrides };
}

/** `count` jobs `${prefix}1`.. in `group` (none: ungrouped). */
function jobsOf(prefix: string, count: number, overrides: Partial<NewJob> = {}): NewJob[] {
  return Array.from({ length: count }, (_, i) => newJob(`${prefix}${i + 1}`, overrides));
}

/**
 * Registers the suite for one adapter under `describe(name)`; `open` gives
 * a fresh, empty fixture per test, and its `cleanup` runs after it.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../adapters/memory/mod.ts";
 * import { storageLimitsContract } from "./storage_limits_contract.ts";
 *
 * storageLimitsContract("MemoryStorage", () =>
 *   Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }));
 * ```
 */
export function storageLimitsContract(
  name: string,
  open: () => Promise<ContractFixture>,
): void {
  describe(`Storage limits contract: ${name}`, () => {
    const opened: ContractFixture[] = [];
    async function storageOf(): Promise<Storage> {
      const fixture = await open();
      opened.push(fixture);
      return fixture.storage;
    }
    afterEach(async () => {
      for (const fixture of opened.splice(0)) await fixture.cleanup();
    });

    async function reserve(
      storage: Storage,
      now: number,
      limit = 100,
      owner = "w1",
      queues: string[] = ["alpha"],
    ) {
      return await storage.reserve({ queues, limit, owner, leaseMs: LEASE, now });
    }
    const ids = (jobs: JobRecord[]) => jobs.map((job) => job.id);
    const complete = (job: JobRecord): Settlement => ({
      kind: "complete",
      id: job.id,
      token: job.lease!.token,
    });

    test("setLimits stores limits that getLimits reads back; null clears them", async () => {
      const storage = await storageOf();
      assert.equal(await storage.getLimits("alpha"), null);
      const set = limits({
        concurrency: 5,
        rate: { max: 10, per: 1_000 },
        group: groupLimits({ concurrency: 2, rate: { max: 3, per: 500 } }),
      });
      await storage.setLimits("alpha", set, T0);
      assert.deepEqual(await storage.getLimits("alpha"), set);
      assert.equal(await storage.getLimits("beta"), null, "limits are per queue");
      const replaced = limits({ rate: { max: 1, per: 60_000 } });
      await storage.setLimits("alpha", replaced, T0);
      assert.deepEqual(await storage.getLimits("alpha"), replaced, "a set replaces them whole");
      await storage.setLimits("alpha", null, T0);
      assert.equal(await storage.getLimits("alpha"), null);
    });

    test("concurrency bounds the queue's active jobs across every owner", async () => {
      const storage = await storageOf();
      await storage.setLimits("alpha", limits({ concurrency: 3 }), T0);
      await storage.enqueue(jobsOf("j", 8), T0);
      const a = await reserve(storage, T0, 2, "w1");
      const b = await reserve(storage, T0, 10, "w2");
      const c = await reserve(storage, T0, 10, "w3");
      assert.deepEqual(ids(a.jobs), ["j1", "j2"]);
      assert.deepEqual(ids(b.jobs), ["j3"], "one place was left");
      assert.deepEqual(ids(c.jobs), []);
      assert.equal(c.nextAt, T0 + LEASE, "a full queue frees when a settle or a lease expiry does");
      assert.equal((await storage.counts("alpha")).active, 3);
      await storage.settle([complete(a.jobs[0])], { now: T0 + 1 });
      assert.deepEqual(ids((await reserve(storage, T0 + 1, 10, "w3")).jobs), ["j4"]);
      // A release frees its place too, and so does a reclaimed lease.
      await storage.settle([{ kind: "release", id: "j2", token: a.jobs[1].lease!.token }], {
        now: T0 + 2,
      });
      assert.deepEqual(ids((await reserve(storage, T0 + 2, 10, "w3")).jobs), ["j5"]);
      const later = await reserve(storage, T0 + 2 + LEASE, 10, "w3");
      assert.deepEqual(ids(later.jobs), ["j6", "j7", "j8"], "the leases of j3, j4, j5 expired");
    });

    test("rate is a sliding log: at most max reserved in any window of per ms", async () => {
      const storage = await storageOf();
      await storage.setLimits("alpha", limits({ rate: { max: 3, per: 1_000 } }), T0);
      await storage.enqueue(jobsOf("j", 12), T0);
      const first = await reserve(storage, T0, 2);
      assert.equal(first.jobs.length, 2);
      const second = await reserve(storage, T0 + 400, 10);
      assert.deepEqual(ids(second.jobs), ["j3"], "3 in the window (T0 - 1000, T0 + 400]");
      assert.equal(second.nextAt, T0 + 1_000, "the window frees when T0's starts leave it");
      assert.equal((await reserve(storage, T0 + 999, 10)).jobs.length, 0);
      const third = await reserve(storage, T0 + 1_000, 10);
      assert.deepEqual(ids(third.jobs), ["j4", "j5"], "T0's two left; T0 + 400's still counts");
      assert.equal(third.nextAt, T0 + 1_400);
      // Settling does not give a start back: the rate counts starts.
      await storage.settle([...first.jobs, ...second.jobs, ...third.jobs].map(complete), {
        now: T0 + 1_001,
      });
      assert.equal((await reserve(storage, T0 + 1_001, 10)).jobs.length, 0);
      assert.deepEqual(ids((await reserve(storage, T0 + 1_400, 10)).jobs), ["j6"]);
    });

    test("a rate and a concurrency together: the tighter one binds", async () => {
      const storage = await storageOf();
      await storage.setLimits(
        "alpha",
        limits({ concurrency: 2, rate: { max: 3, per: 1_000 } }),
        T0,
      );
      await storage.enqueue(jobsOf("j", 6), T0);
      const a = await reserve(storage, T0, 10);
      assert.equal(a.jobs.length, 2);
      await storage.settle(a.jobs.map(complete), { now: T0 + 10 });
      const b = await reserve(storage, T0 + 10, 10);
      assert.equal(b.jobs.length, 1, "the rate's third start");
      assert.equal(b.nextAt, T0 + 1_000);
    });

    test("limits set or cleared take effect at the next reserve, and wake waiting workers", async () => {
      const storage = await storageOf();
      await storage.enqueue(jobsOf("j", 6), T0);
      await storage.setLimits("alpha", limits({ concurrency: 1 }), T0);
      assert.equal((await reserve(storage, T0, 10)).jobs.length, 1);
      assert.equal((await reserve(storage, T0, 10)).jobs.length, 0);
      const idle = new AbortController();
      const woken = storage.waitForWork(["alpha"], 60_000, idle.signal);
      await storage.setLimits("alpha", limits({ concurrency: 3 }), T0 + 1);
      await woken;
      assert.equal((await reserve(storage, T0 + 1, 10)).jobs.length, 2);
      await storage.setLimits("alpha", null, T0 + 2);
      assert.equal((await reserve(storage, T0 + 2, 10)).jobs.length, 3);
      idle.abort();
    });

    test("a settle in a queue at its concurrency wakes waiting workers", async () => {
      const storage = await storageOf();
      await storage.setLimits("alpha", limits({ concurrency: 1 }), T0);
      await storage.enqueue(jobsOf("j", 2), T0);
      const { jobs } = await reserve(storage, T0, 10);
      const idle = new AbortController();
      const woken = storage.waitForWork(["alpha"], 60_000, idle.signal);
      await storage.settle([complete(jobs[0])], { now: T0 + 1 });
      await woken;
      assert.deepEqual(ids((await reserve(storage, T0 + 1, 10)).jobs), ["j2"]);
      idle.abort();
    });

    test("a limited queue gives way to the next queue of the request", async () => {
      const storage = await storageOf();
      await storage.setLimits("alpha", limits({ rate: { max: 1, per: 1_000 } }), T0);
      await storage.enqueue([...jobsOf("a", 3), ...jobsOf("b", 3, { queue: "beta" })], T0);
      const { jobs, nextAt } = await reserve(storage, T0, 4, "w1", ["alpha", "beta"]);
      assert.deepEqual(ids(jobs), ["a1", "b1", "b2", "b3"]);
      assert.equal(nextAt, T0 + 1_000);
    });

    test("a paused queue with limits: nothing taken, no nextAt from its limits", async () => {
      const storage = await storageOf();
      await storage.setLimits("alpha", limits({ rate: { max: 1, per: 1_000 } }), T0);
      await storage.enqueue(jobsOf("j", 3), T0);
      assert.equal((await reserve(storage, T0, 10)).jobs.length, 1);
      await storage.pause("alpha", T0);
      const paused = await reserve(storage, T0 + 1, 10);
      assert.equal(paused.jobs.length, 0);
      assert.equal(paused.nextAt, null);
    });

    test("grouped jobs carry their group and count as the queue's waiting ones", async () => {
      const storage = await storageOf();
      const [created] = await storage.enqueue([newJob("g1", { group: "tenant-1" })], T0);
      assert.equal(created.job.group, "tenant-1");
      assert.equal((await storage.getJob("g1"))?.group, "tenant-1");
      await storage.enqueue(
        [newJob("u1"), newJob("g2", { group: "tenant-2", runAt: T0 + 50 })],
        T0,
      );
      assert.equal((await storage.getJob("u1"))?.group, undefined);
      assert.deepEqual(await storage.counts("alpha"), {
        waiting: 2,
        delayed: 1,
        active: 0,
        completed: 0,
        failed: 0,
      });
      const waiting = await storage.list("alpha", "waiting");
      assert.deepEqual(waiting.map((job) => job.id).sort(), ["g1", "u1"]);
      const summary = (await storage.queues()).find((queue) => queue.name === "alpha");
      assert.equal(summary?.counts.waiting, 2);
    });

    test("lanes take turns, one job each, priorities kept within a lane", async () => {
      // A group's lane takes its place in the turns when it gets a waiting
      // job; the lane of the jobs without a group keeps the place of its
      // last turn (the first place before it had one).
      const storage = await storageOf();
      await storage.enqueue(jobsOf("a", 4, { group: "a" }), T0);
      await storage.enqueue(jobsOf("b", 2, { group: "b" }), T0);
      await storage.enqueue(jobsOf("u", 2), T0); // the ungrouped jobs: one more lane
      await storage.enqueue([
        newJob("c1", { group: "c" }),
        newJob("a9", { group: "a", priority: 5 }),
      ], T0);
      const one = await reserve(storage, T0, 3);
      const rest = await reserve(storage, T0, 100);
      assert.deepEqual(
        [...ids(one.jobs), ...ids(rest.jobs)],
        ["u1", "a9", "b1", "c1", "u2", "a1", "b2", "a2", "a3", "a4"],
      );
    });

    test("fairness: a group of 1 000 does not hold back nine groups of 10", async () => {
      const storage = await storageOf();
      await storage.enqueue(jobsOf("big", 1_000, { group: "big" }), T0);
      for (let g = 1; g <= 9; g++) {
        await storage.enqueue(jobsOf(`s${g}-`, 10, { group: `small${g}` }), T0);
      }
      const started: JobRecord[] = [];
      for (const limit of [7, 13, 1, 29, 50]) {
        started.push(...(await reserve(storage, T0, limit)).jobs);
      }
      assert.equal(started.length, 100);
      const small = started.filter((job) => job.group !== "big");
      assert.equal(small.length, 90, "every small group's 10 jobs are among the first 100 starts");
      assert.deepEqual(started.slice(0, 10).map((job) => job.group), [
        "big",
        ...Array.from({ length: 9 }, (_, g) => `small${g + 1}`),
      ]);
    });

    test("every group's limits from the queue, and one group's override", async () => {
      const storage = await storageOf();
      await storage.setLimits("alpha", limits({ group: groupLimits({ concurrency: 1 }) }), T0);
      await storage.enqueue(
        [...jobsOf("a", 3, { group: "a" }), ...jobsOf("b", 3, { group: "b" })],
        T0,
      );
      await storage.enqueue(jobsOf("u", 3), T0); // no group: no group limit
      const first = await reserve(storage, T0, 100);
      assert.deepEqual(ids(first.jobs), ["u1", "a1", "b1", "u2", "u3"]);
      await storage.setGroupLimits("alpha", "b", groupLimits({ concurrency: 2 }), T0);
      assert.deepEqual(ids((await reserve(storage, T0, 100)).jobs), ["b2"]);
      await storage.settle([complete(first.jobs[1])], { now: T0 + 1 });
      assert.deepEqual(ids((await reserve(storage, T0 + 1, 100)).jobs), ["a2"]);
      await storage.setGroupLimits("alpha", "b", null, T0 + 1);
      await storage.settle([complete(first.jobs[2])], { now: T0 + 2 });
      assert.deepEqual(
        ids((await reserve(storage, T0 + 2, 100)).jobs),
        [],
        "b is back at the queue's 1, and b2 still runs",
      );
    });

    test("a group rate: each group's own window, and nextAt when it frees", async () => {
      const storage = await storageOf();
      await storage.setLimits(
        "alpha",
        limits({ group: groupLimits({ rate: { max: 2, per: 1_000 } }) }),
        T0,
      );
      await storage.enqueue(
        [...jobsOf("a", 5, { group: "a" }), ...jobsOf("b", 5, { group: "b" })],
        T0,
      );
      const first = await reserve(storage, T0, 100);
      assert.deepEqual(ids(first.jobs), ["a1", "b1", "a2", "b2"]);
      assert.equal(first.nextAt, T0 + 1_000);
      await storage.enqueue(jobsOf("c", 1, { group: "c" }), T0 + 500);
      assert.deepEqual(ids((await reserve(storage, T0 + 500, 100)).jobs), ["c1"]);
      assert.deepEqual(ids((await reserve(storage, T0 + 1_000, 100)).jobs), [
        "a3",
        "b3",
        "a4",
        "b4",
      ]);
    });

    test("queue limits bind over the groups' turns", async () => {
      const storage = await storageOf();
      await storage.setLimits("alpha", limits({ concurrency: 3 }), T0);
      await storage.enqueue(
        [...jobsOf("a", 3, { group: "a" }), ...jobsOf("b", 3, { group: "b" })],
        T0,
      );
      assert.deepEqual(ids((await reserve(storage, T0, 100)).jobs), ["a1", "b1", "a2"]);
      assert.deepEqual(ids((await reserve(storage, T0, 100)).jobs), []);
    });

    test("a release with holdUntil holds only its group; the attempt is not counted", async () => {
      const storage = await storageOf();
      await storage.enqueue(
        [...jobsOf("a", 2, { group: "a" }), ...jobsOf("b", 2, { group: "b" })],
        T0,
      );
      const { jobs } = await reserve(storage, T0, 1);
      assert.deepEqual(ids(jobs), ["a1"]);
      const [released] = await storage.settle([
        { kind: "release", id: "a1", token: jobs[0].lease!.token, holdUntil: T0 + 5_000 },
      ], { now: T0 + 10 });
      assert.equal(released, true);
      const a1 = await storage.getJob("a1");
      assert.equal(a1?.state, "waiting");
      assert.equal(a1?.attempt, 0);
      const during = await reserve(storage, T0 + 10, 100);
      assert.deepEqual(ids(during.jobs), ["b1", "b2"], "group b is not held");
      assert.equal(during.nextAt, T0 + 5_000, "the hold's end");
      assert.deepEqual(ids((await reserve(storage, T0 + 4_999, 100)).jobs), []);
      assert.deepEqual(
        ids((await reserve(storage, T0 + 5_000, 100)).jobs),
        ["a2", "a1"],
        "a1 was released to the back",
      );
      assert.equal((await storage.getJob("a1"))?.attempt, 1);
    });

    test("a release with holdUntil of an ungrouped job holds its whole queue", async () => {
      const storage = await storageOf();
      await storage.enqueue([...jobsOf("u", 2), ...jobsOf("g", 1, { group: "g" })], T0);
      await storage.enqueue(jobsOf("b", 1, { queue: "beta" }), T0);
      const { jobs } = await reserve(storage, T0, 1);
      await storage.settle([
        { kind: "release", id: jobs[0].id, token: jobs[0].lease!.token, holdUntil: T0 + 2_000 },
      ], { now: T0 });
      const held = await reserve(storage, T0 + 1, 100, "w1", ["alpha", "beta"]);
      assert.deepEqual(ids(held.jobs), ["b1"]);
      assert.equal(held.nextAt, T0 + 2_000);
      assert.equal((await reserve(storage, T0 + 2_000, 100)).jobs.length, 3);
    });

    test("a later hold never shortens an earlier one", async () => {
      const storage = await storageOf();
      await storage.enqueue(jobsOf("a", 2, { group: "a" }), T0);
      const { jobs } = await reserve(storage, T0, 2);
      await storage.settle([
        { kind: "release", id: "a1", token: jobs[0].lease!.token, holdUntil: T0 + 9_000 },
        { kind: "release", id: "a2", token: jobs[1].lease!.token, holdUntil: T0 + 1_000 },
      ], { now: T0 });
      assert.deepEqual(ids((await reserve(storage, T0 + 1_000, 100)).jobs), []);
      assert.deepEqual((await storage.groups("alpha", T0 + 1_000)).map((g) => g.heldUntil), [
        T0 + 9_000,
      ]);
      assert.equal((await reserve(storage, T0 + 9_000, 100)).jobs.length, 2);
    });

    test("grouped jobs keep their group through delay, retry, reclaim and retryFailed", async () => {
      const storage = await storageOf();
      await storage.setLimits("alpha", limits({ group: groupLimits({ concurrency: 1 }) }), T0);
      await storage.enqueue([
        newJob("d1", { group: "a", runAt: T0 + 100 }),
        newJob("b1", { group: "b" }),
      ], T0);
      assert.deepEqual(ids((await reserve(storage, T0, 10)).jobs), ["b1"]);
      const due = await reserve(storage, T0 + 100, 10);
      assert.deepEqual(ids(due.jobs), ["d1"], "the delayed job joined group a when due");
      const error = { message: "boom", name: "Error", attempt: 1, at: T0 + 101 };
      await storage.settle([
        { kind: "retry", id: "d1", token: due.jobs[0].lease!.token, error, runAt: T0 + 101 },
      ], { now: T0 + 101 });
      const again = await reserve(storage, T0 + 101, 10);
      assert.deepEqual(ids(again.jobs), ["d1"]);
      assert.equal(again.jobs[0].group, "a");
      // Its lease expires: the reclaim frees group a's place and puts it back in the group.
      const reclaimed = await reserve(storage, T0 + 101 + LEASE, 10);
      assert.deepEqual(ids(reclaimed.jobs).sort(), ["b1", "d1"]);
      await storage.settle([
        {
          kind: "fail",
          id: "d1",
          token: reclaimed.jobs.find((j) => j.id === "d1")!.lease!.token,
          error,
        },
      ], { now: T0 + 102 + LEASE });
      assert.equal(await storage.retryFailed("d1", T0 + 103 + LEASE), true);
      const retried = await reserve(storage, T0 + 103 + LEASE, 10);
      assert.deepEqual(ids(retried.jobs), ["d1"]);
      assert.equal((await storage.getJob("d1"))?.group, "a");
    });

    test("groups() lists each group's waiting and active jobs, its override and hold, paged by name", async () => {
      const storage = await storageOf();
      assert.deepEqual(await storage.groups("alpha", T0), []);
      await storage.enqueue(
        [...jobsOf("b", 3, { group: "b" }), ...jobsOf("a", 2, { group: "a" })],
        T0,
      );
      const { jobs } = await reserve(storage, T0, 2);
      assert.deepEqual(ids(jobs), ["b1", "a1"]);
      await storage.enqueue(jobsOf("u", 2), T0); // jobs without a group are in no group
      await storage.setGroupLimits("alpha", "z", groupLimits({ rate: { max: 1, per: 10 } }), T0);
      await storage.settle([
        { kind: "release", id: "a1", token: jobs[1].lease!.token, holdUntil: T0 + 50 },
      ], { now: T0 });
      assert.deepEqual(await storage.groups("alpha", T0), [
        { name: "a", waiting: 2, active: 0, limits: null, heldUntil: T0 + 50 },
        { name: "b", waiting: 2, active: 1, limits: null, heldUntil: null },
        {
          name: "z",
          waiting: 0,
          active: 0,
          limits: groupLimits({ rate: { max: 1, per: 10 } }),
          heldUntil: null,
        },
      ]);
      assert.deepEqual(
        (await storage.groups("alpha", T0 + 50, { offset: 1, limit: 1 })).map((g) => g.name),
        ["b"],
      );
      assert.deepEqual(
        (await storage.groups("alpha", T0 + 50))[0].heldUntil,
        null,
        "the hold is over",
      );
      assert.deepEqual(await storage.groups("beta", T0), []);
      // A group with no jobs left and no override is no longer listed.
      const b1 = await storage.reserve({
        queues: ["alpha"],
        limit: 100,
        owner: "w",
        leaseMs: LEASE,
        now: T0 + 50,
      });
      await storage.settle([complete(jobs[0]), ...b1.jobs.map(complete)], { now: T0 + 51 });
      assert.deepEqual((await storage.groups("alpha", T0 + 51)).map((g) => g.name), ["z"]);
    });

    test("a removed waiting job of a group leaves its counts", async () => {
      const storage = await storageOf();
      await storage.enqueue(jobsOf("a", 2, { group: "a" }), T0);
      assert.equal(await storage.remove("a1", T0), true);
      assert.equal((await storage.counts("alpha")).waiting, 1);
      assert.deepEqual((await storage.groups("alpha", T0)).map((g) => g.waiting), [1]);
      assert.deepEqual(ids((await reserve(storage, T0, 10)).jobs), ["a2"]);
    });

    test("bad limits, group names and holds are refused with the option named, nothing stored", async () => {
      const storage = await storageOf();
      const kept = limits({ concurrency: 2 });
      await storage.setLimits("alpha", kept, T0);
      const bad: [unknown, RegExp][] = [
        [limits({ concurrency: 0 }), /concurrency must be between 1 and/],
        [limits({ concurrency: 1.5 }), /concurrency must be an integer/],
        [limits({ rate: { max: 0, per: 1_000 } }), /rate\.max must be between 1 and/],
        [limits({ rate: { max: 1, per: -1 } }), /rate\.per must be between 1 and/],
        [limits({ rate: { max: 1 } as never }), /rate\.per must be given/],
        [limits({ group: groupLimits({ concurrency: -2 }) }), /group\.concurrency must be between/],
        [{ ...kept, burst: 3 }, /burst is not an option/],
        [{ concurrency: 3 }, /rate must be given/],
        ["fast", /limits must be an object or null/],
      ];
      for (const [value, message] of bad) {
        await assert.rejects(storage.setLimits("alpha", value as QueueLimits, T0), message);
      }
      assert.deepEqual(await storage.getLimits("alpha"), kept);
      await assert.rejects(
        storage.setGroupLimits("alpha", "has space", groupLimits({}), T0),
        /group "has space" may only contain/,
      );
      await assert.rejects(
        storage.setGroupLimits("alpha", "a", { concurrency: 0, rate: null }, T0),
        /concurrency must be between 1 and/,
      );
      assert.deepEqual(await storage.groups("alpha", T0), []);
      await assert.rejects(
        storage.enqueue([newJob("ok"), newJob("bad", { group: "a/b" })], T0),
        /jobs\[1\]\.group "a\/b" may only contain/,
      );
      assert.equal(await storage.getJob("ok"), null, "the whole batch was refused");
      await storage.enqueue([newJob("j")], T0);
      const { jobs } = await reserve(storage, T0, 1);
      await assert.rejects(
        storage.settle(
          [{ kind: "release", id: "j", token: jobs[0].lease!.token, holdUntil: NaN }],
          {
            now: T0,
          },
        ),
        /holdUntil/,
      );
      assert.equal((await storage.getJob("j"))?.state, "active");
    });
  });
}
