/**
 * The conformance suite of the Storage port's schedules half
 * (`upsertSchedule`, `removeSchedule`, `getSchedule`, `schedules`,
 * `dueSchedules`, `fireSchedule`), as written in `core/storage.ts` and
 * `core/storage_schedules.ts`. Each adapter's test file calls
 * {@linkcode storageSchedulesContract} once. Clock-free: every call gets
 * an explicit `now`.
 *
 * @module
 */

import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { NewJob, Storage } from "../core/storage.ts";
import {
  type NewSchedule,
  type ScheduleFire,
  scheduleJobId,
  type ScheduleRecord,
} from "../core/storage_schedules.ts";
import type { ContractFixture } from "./storage_contract.ts";

const T0 = 1_000_000;
const MINUTE = 60_000;

/**
 * A schedule every minute in queue "alpha", first due at 1 060 000 (what
 * the suite, and adapters' own tests, start from).
 *
 * @example
 * ```ts ignore
 * const { schedule } = await storage.upsertSchedule(newSchedule("s", { missed: "each" }), 1_000_000);
 * ```
 */
export function newSchedule(id: string, overrides: Partial<NewSchedule> = {}): NewSchedule {
  return {
    id,
    job: {
      name: "tick_task",
      queue: "alpha",
      payload: { schedule: id },
      priority: 0,
      maxAttempts: 3,
      maxStalls: null,
      timeout: null,
    },
    cron: null,
    tz: null,
    every: MINUTE,
    startAt: T0 + MINUTE,
    missed: "latest",
    timing: "every 60000",
    nextRunAt: T0 + MINUTE,
    ...overrides,
  };
}

/**
 * The job of `schedule`'s tick at `tick`, as the core builds it.
 *
 * @example
 * ```ts ignore
 * await storage.enqueue([tickJob(schedule, schedule.nextRunAt)], 1_000_000);
 * ```
 */
export function tickJob(schedule: ScheduleRecord, tick: number): NewJob {
  return { ...schedule.job, id: scheduleJobId(schedule.id, tick), runAt: tick };
}

/**
 * The fire of `schedule`'s next tick (one job), as the core computes it.
 *
 * @example
 * ```ts ignore
 * const { fired } = await storage.fireSchedule(fireOf(schedule), schedule.nextRunAt);
 * ```
 */
export function fireOf(
  schedule: ScheduleRecord,
  overrides: Partial<ScheduleFire> = {},
): ScheduleFire {
  const tick = schedule.nextRunAt;
  return {
    id: schedule.id,
    revision: schedule.revision,
    nextRunAt: tick,
    jobs: [tickJob(schedule, tick)],
    lastTickAt: tick,
    next: tick + (schedule.every ?? MINUTE),
    ...overrides,
  };
}

/**
 * Registers the suite for one adapter under `describe(name)`; `open` gives
 * a fresh, empty fixture per test, and its `cleanup` runs after it.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../adapters/memory/mod.ts";
 * import { storageSchedulesContract } from "./storage_schedules_contract.ts";
 *
 * storageSchedulesContract("MemoryStorage", () =>
 *   Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }));
 * ```
 */
export function storageSchedulesContract(
  name: string,
  open: () => Promise<ContractFixture>,
): void {
  describe(`Storage schedules contract: ${name}`, () => {
    const opened: ContractFixture[] = [];
    async function storageOf(): Promise<Storage> {
      const fixture = await open();
      opened.push(fixture);
      return fixture.storage;
    }
    afterEach(async () => {
      for (const fixture of opened.splice(0)) await fixture.cleanup();
    });

    test("upsert creates a schedule at revision 1; get and schedules() read it back", async () => {
      const storage = await storageOf();
      const { schedule, created } = await storage.upsertSchedule(newSchedule("b"), T0);
      assert.equal(created, true);
      const expected: ScheduleRecord = {
        ...newSchedule("b"),
        revision: 1,
        createdAt: T0,
        updatedAt: T0,
        lastTickAt: null,
        lastJobId: null,
      };
      assert.deepEqual(schedule, expected);
      assert.deepEqual(await storage.getSchedule("b"), expected);
      await storage.upsertSchedule(
        newSchedule("a", { job: { ...expected.job, queue: "beta" } }),
        T0,
      );
      assert.deepEqual((await storage.schedules()).map((s) => s.id), ["a", "b"]);
      assert.equal(await storage.getSchedule("missing"), null);
    });

    test("an update with the same timing keeps nextRunAt and startAt, replaces the rest", async () => {
      const storage = await storageOf();
      await storage.upsertSchedule(newSchedule("s"), T0);
      const job = { ...newSchedule("s").job, payload: { v: 2 }, priority: 7, timeout: 5_000 };
      const { schedule, created } = await storage.upsertSchedule(
        newSchedule("s", {
          job,
          missed: "each",
          startAt: T0 + 5 * MINUTE,
          nextRunAt: T0 + 5 * MINUTE,
        }),
        T0 + 10,
      );
      assert.equal(created, false);
      assert.equal(schedule.revision, 2);
      assert.equal(schedule.nextRunAt, T0 + MINUTE, "the stored next tick is kept");
      assert.equal(schedule.startAt, T0 + MINUTE);
      assert.deepEqual(schedule.job, job);
      assert.equal(schedule.missed, "each");
      assert.equal(schedule.createdAt, T0);
      assert.equal(schedule.updatedAt, T0 + 10);
      assert.deepEqual(await storage.getSchedule("s"), schedule);
      assert.equal((await storage.schedules()).length, 1, "never a second schedule");
    });

    test("an update with another timing takes its nextRunAt and startAt", async () => {
      const storage = await storageOf();
      await storage.upsertSchedule(newSchedule("s"), T0);
      const { schedule } = await storage.upsertSchedule(
        newSchedule("s", {
          cron: "*/5 * * * *",
          tz: "Europe/Berlin",
          every: null,
          startAt: null,
          timing: "cron */5 * * * * Europe/Berlin",
          nextRunAt: T0 + 3 * MINUTE,
        }),
        T0 + 1,
      );
      assert.equal(schedule.nextRunAt, T0 + 3 * MINUTE);
      assert.equal(schedule.startAt, null);
      assert.equal(schedule.cron, "*/5 * * * *");
      assert.equal(schedule.tz, "Europe/Berlin");
      assert.equal(schedule.every, null);
      assert.equal(schedule.revision, 2);
    });

    test("payloads are stored as JSON and every read is a fresh copy", async () => {
      const storage = await storageOf();
      const job = {
        ...newSchedule("s").job,
        payload: { at: new Date(0), gone: undefined, n: [1] },
      };
      await storage.upsertSchedule(newSchedule("s", { job }), T0);
      const first = await storage.getSchedule("s");
      assert.deepEqual(first!.job.payload, { at: "1970-01-01T00:00:00.000Z", n: [1] });
      (first!.job.payload as { n: number[] }).n.push(2);
      assert.deepEqual((await storage.getSchedule("s"))!.job.payload, {
        at: "1970-01-01T00:00:00.000Z",
        n: [1],
      });
    });

    test("dueSchedules: only the asked queues, earliest first, at most limit; nextAt of the rest", async () => {
      const storage = await storageOf();
      const at = (id: string, nextRunAt: number, queue = "alpha") =>
        storage.upsertSchedule(
          newSchedule(id, { nextRunAt, job: { ...newSchedule(id).job, queue } }),
          T0,
        );
      await at("late", T0 + 3 * MINUTE);
      await at("first", T0 + MINUTE);
      await at("second", T0 + 2 * MINUTE);
      await at("other", T0, "beta");
      assert.deepEqual(await storage.dueSchedules(["alpha"], T0, 10), {
        due: [],
        nextAt: T0 + MINUTE,
      });
      const two = await storage.dueSchedules(["alpha"], T0 + 2 * MINUTE, 10);
      assert.deepEqual(two.due.map((s) => s.id), ["first", "second"]);
      assert.equal(two.nextAt, T0 + 3 * MINUTE);
      const limited = await storage.dueSchedules(["alpha"], T0 + 2 * MINUTE, 1);
      assert.deepEqual(limited.due.map((s) => s.id), ["first"]);
      assert.ok(limited.nextAt !== null && limited.nextAt <= T0 + 2 * MINUTE, "more is due now");
      const both = await storage.dueSchedules(["beta", "alpha"], T0 + MINUTE, 10);
      assert.deepEqual(both.due.map((s) => s.id), ["other", "first"]);
      assert.deepEqual(await storage.dueSchedules(["gamma"], T0 + 9 * MINUTE, 10), {
        due: [],
        nextAt: null,
      });
      assert.deepEqual(both.due[1], await storage.getSchedule("first"), "full records");
    });

    test("fire enqueues the tick's job and moves nextRunAt, lastTickAt and lastJobId", async () => {
      const storage = await storageOf();
      await storage.upsertSchedule(newSchedule("s"), T0);
      const [due] = (await storage.dueSchedules(["alpha"], T0 + MINUTE, 10)).due;
      const fire = fireOf(due);
      const result = await storage.fireSchedule(fire, T0 + MINUTE + 5);
      assert.equal(result.fired, true);
      assert.equal(result.jobs.length, 1);
      assert.equal(result.jobs[0].created, true);
      const id = scheduleJobId("s", T0 + MINUTE);
      assert.equal(result.jobs[0].job.id, id);
      const job = await storage.getJob(id);
      assert.equal(job?.state, "waiting");
      assert.equal(job?.runAt, T0 + MINUTE);
      assert.equal(job?.enqueuedAt, T0 + MINUTE + 5);
      assert.equal(job?.priority, 0);
      assert.equal(job?.maxAttempts, 3);
      assert.equal(job?.maxStalls, null);
      assert.deepEqual(job?.payload, { schedule: "s" });
      const after = await storage.getSchedule("s");
      assert.equal(after?.nextRunAt, T0 + 2 * MINUTE);
      assert.equal(after?.lastTickAt, T0 + MINUTE);
      assert.equal(after?.lastJobId, id);
      assert.equal(after?.revision, 1, "a fire is not an update");
      const { jobs } = await storage.reserve({
        queues: ["alpha"],
        limit: 10,
        owner: "w",
        leaseMs: 30_000,
        now: T0 + MINUTE + 6,
      });
      assert.deepEqual(jobs.map((j) => j.id), [id]);
    });

    test("a fire whose nextRunAt or revision is stale, or whose schedule is gone, changes nothing", async () => {
      const storage = await storageOf();
      const { schedule } = await storage.upsertSchedule(newSchedule("s"), T0);
      const first = fireOf(schedule);
      assert.equal((await storage.fireSchedule(first, T0 + MINUTE)).fired, true);
      // The same fire again (another worker read the same record): refused.
      const again = await storage.fireSchedule(
        { ...first, jobs: [tickJob(schedule, T0 + MINUTE + 1)] },
        T0 + MINUTE,
      );
      assert.deepEqual(again, { fired: false, jobs: [] });
      assert.equal(await storage.getJob(scheduleJobId("s", T0 + MINUTE + 1)), null);
      // Updated since it was read: refused.
      const read = (await storage.getSchedule("s"))!;
      await storage.upsertSchedule(newSchedule("s"), T0 + MINUTE + 1);
      assert.equal((await storage.fireSchedule(fireOf(read), T0 + 2 * MINUTE)).fired, false);
      assert.equal(await storage.getJob(scheduleJobId("s", T0 + 2 * MINUTE)), null);
      assert.equal((await storage.getSchedule("s"))?.nextRunAt, T0 + 2 * MINUTE);
      // Removed: refused.
      const current = (await storage.getSchedule("s"))!;
      assert.equal(await storage.removeSchedule("s"), true);
      assert.equal((await storage.fireSchedule(fireOf(current), T0 + 2 * MINUTE)).fired, false);
      assert.equal(await storage.getJob(scheduleJobId("s", T0 + 2 * MINUTE)), null);
      assert.deepEqual((await storage.counts("alpha")).waiting, 1, "only the first tick's job");
    });

    test("fires racing for one tick: exactly one is applied, one job each tick over 50 ticks", async () => {
      const storage = await storageOf();
      await storage.upsertSchedule(newSchedule("s"), T0);
      for (let tick = 1; tick <= 50; tick++) {
        const now = T0 + tick * MINUTE;
        const reads = await Promise.all(
          [0, 1, 2].map(() => storage.dueSchedules(["alpha"], now, 10)),
        );
        const results = await Promise.all(
          reads.map((read) => storage.fireSchedule(fireOf(read.due[0]), now)),
        );
        assert.equal(results.filter((r) => r.fired).length, 1, `tick ${tick}`);
      }
      const counts = await storage.counts("alpha");
      assert.equal(counts.waiting, 50);
      assert.equal((await storage.getSchedule("s"))?.nextRunAt, T0 + 51 * MINUTE);
    });

    test("a fire of several missed ticks stores each once; an existing id is not stored again", async () => {
      const storage = await storageOf();
      const { schedule } = await storage.upsertSchedule(newSchedule("s", { missed: "each" }), T0);
      const ticks = [1, 2, 3].map((k) => T0 + k * MINUTE);
      // A job of the second tick exists already (a fire applied elsewhere, or by hand).
      await storage.enqueue([tickJob(schedule, ticks[1])], T0);
      const result = await storage.fireSchedule({
        ...fireOf(schedule),
        jobs: ticks.map((tick) => tickJob(schedule, tick)),
        lastTickAt: ticks[2],
        next: T0 + 4 * MINUTE,
      }, T0 + 3 * MINUTE);
      assert.equal(result.fired, true);
      assert.deepEqual(result.jobs.map((r) => r.created), [true, false, true]);
      const counts = await storage.counts("alpha");
      assert.equal(counts.waiting + counts.delayed, 3);
      const after = await storage.getSchedule("s");
      assert.equal(after?.lastJobId, scheduleJobId("s", ticks[2]));
      assert.equal(after?.lastTickAt, ticks[2]);
    });

    test("a fire with no job (ticks skipped) moves the schedule on and keeps lastJobId", async () => {
      const storage = await storageOf();
      const { schedule } = await storage.upsertSchedule(newSchedule("s", { missed: "skip" }), T0);
      await storage.fireSchedule(fireOf(schedule), T0 + MINUTE);
      const read = (await storage.getSchedule("s"))!;
      const skipped = await storage.fireSchedule(
        { ...fireOf(read), jobs: [], lastTickAt: T0 + 9 * MINUTE, next: T0 + 10 * MINUTE },
        T0 + 9 * MINUTE + 30_000,
      );
      assert.deepEqual(skipped, { fired: true, jobs: [] });
      const after = await storage.getSchedule("s");
      assert.equal(after?.nextRunAt, T0 + 10 * MINUTE);
      assert.equal(after?.lastTickAt, T0 + 9 * MINUTE);
      assert.equal(after?.lastJobId, scheduleJobId("s", T0 + MINUTE));
      assert.equal((await storage.counts("alpha")).waiting, 1);
    });

    test("a fired job in the future is delayed, and its events are written", async () => {
      const storage = await storageOf();
      const { schedule } = await storage.upsertSchedule(newSchedule("s"), T0);
      const id = scheduleJobId("s", T0 + MINUTE);
      await storage.fireSchedule(fireOf(schedule), T0);
      assert.equal((await storage.getJob(id))?.state, "delayed");
      if (storage.eventBacklog > 0) {
        const page = await storage.readEvents({
          queues: ["alpha"],
          after: { alpha: "0" },
          limit: 100,
          maxWaitMs: 0,
        });
        assert.deepEqual(
          page.events.map((e) => [e.type, "jobId" in e ? e.jobId : ""]),
          [["enqueued", id]],
        );
      }
    });

    test("an update may move a schedule to another queue", async () => {
      const storage = await storageOf();
      await storage.upsertSchedule(newSchedule("s"), T0);
      const moved = { ...newSchedule("s").job, queue: "beta" };
      await storage.upsertSchedule(newSchedule("s", { job: moved }), T0 + 1);
      const later = T0 + MINUTE;
      assert.deepEqual((await storage.dueSchedules(["alpha"], later, 10)).due, []);
      const [due] = (await storage.dueSchedules(["beta"], later, 10)).due;
      assert.equal(due.job.queue, "beta");
      assert.equal(due.nextRunAt, T0 + MINUTE, "same timing: the next tick is kept");
      assert.equal((await storage.fireSchedule(fireOf(due), later)).fired, true);
      assert.equal((await storage.counts("beta")).waiting, 1);
      assert.deepEqual((await storage.schedules()).map((s) => s.job.queue), ["beta"]);
    });

    test("removeSchedule deletes the schedule, not the jobs it made", async () => {
      const storage = await storageOf();
      const { schedule } = await storage.upsertSchedule(newSchedule("s"), T0);
      await storage.fireSchedule(fireOf(schedule), T0 + MINUTE);
      assert.equal(await storage.removeSchedule("s"), true);
      assert.equal(await storage.removeSchedule("s"), false);
      assert.equal(await storage.getSchedule("s"), null);
      assert.deepEqual(await storage.schedules(), []);
      assert.deepEqual(await storage.dueSchedules(["alpha"], T0 + 9 * MINUTE, 10), {
        due: [],
        nextAt: null,
      });
      assert.equal((await storage.getJob(scheduleJobId("s", T0 + MINUTE)))?.state, "waiting");
    });

    test("bad input is refused with what was wrong, and nothing is stored", async () => {
      const storage = await storageOf();
      await assert.rejects(
        storage.upsertSchedule(newSchedule(""), T0),
        /Cannot store schedule: the schedule id must be a non-empty string/,
      );
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        storage.upsertSchedule(newSchedule("s", { missed: "sometimes" as any }), T0),
        /missed must be one of latest, each, skip/,
      );
      await assert.rejects(
        storage.upsertSchedule(newSchedule("s", { every: 0 }), T0),
        /Cannot store schedule: every/,
      );
      await assert.rejects(
        storage.upsertSchedule(
          newSchedule("s", { job: { ...newSchedule("s").job, priority: NaN } }),
          T0,
        ),
        /priority must be a finite number/,
      );
      await assert.rejects(
        storage.upsertSchedule(newSchedule("s", { nextRunAt: NaN }), T0),
        /nextRunAt must be a finite number/,
      );
      assert.deepEqual(await storage.schedules(), []);
      await assert.rejects(storage.dueSchedules(["alpha"], T0, 0), /limit/);
      await assert.rejects(storage.removeSchedule(""), /schedule id/);
      const { schedule } = await storage.upsertSchedule(newSchedule("s"), T0);
      const mixed = [tickJob(schedule, T0 + MINUTE), {
        ...tickJob(schedule, T0 + 2 * MINUTE),
        queue: "beta",
      }];
      await assert.rejects(
        storage.fireSchedule({ ...fireOf(schedule), jobs: mixed }, T0 + MINUTE),
        /every job must be in one queue/,
      );
      await assert.rejects(
        storage.fireSchedule({ ...fireOf(schedule), next: T0 + MINUTE }, T0 + MINUTE),
        /next .* must be after lastTickAt/,
      );
      assert.deepEqual(await storage.getSchedule("s"), schedule, "unchanged");
      assert.equal((await storage.counts("alpha")).waiting, 0);
    });
  });
}
