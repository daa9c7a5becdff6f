// Schedules on FakeClock, the same tests on MemoryStorage and on
// RedisStorage (a real redis-server this file starts, single and Cluster-
// free): ticks at their exact times over days of fake time, one job per
// tick with three workers racing, updates mid-run, missed-tick policies
// after an outage, DST in two zones, and refusals of bad input.
import { after, afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Redis } from "ioredis";
import {
  defineTask,
  type JobRecord,
  MemoryStorage,
  Queue,
  scheduleJobId,
  type Storage,
  Worker,
  type WorkerOptions,
} from "../mod.ts";
import { FakeClock } from "../testing.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { dropPrefix, startRedis } from "./_redis_server.ts";

const server = await startRedis();
const admin = new Redis(server.url);
after(async () => {
  await admin.quit();
  await server.stop();
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Heartbeats of a worker living through days of fake time (fewer storage calls). */
const SLOW_BEAT = { leaseMs: 2 * HOUR, heartbeatMs: HOUR, sweepMs: HOUR };
/** A round start: 2026-01-05T00:00:00Z, a Monday. */
const T0 = Date.UTC(2026, 0, 5);

/** `storage`, counting the fires tried and applied in `fires`. */
function countingFires(storage: Storage, fires: { tried: number; applied: number }): Storage {
  return new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (key !== "fireSchedule") return typeof value === "function" ? value.bind(target) : value;
      return async (...args: Parameters<Storage["fireSchedule"]>) => {
        fires.tried++;
        const result = await target.fireSchedule(...args);
        if (result.fired) fires.applied++;
        return result;
      };
    },
  });
}

type StorageFactory = (clock: FakeClock) => { storage: Storage; prefix?: string };
let prefixes = 0;
const factories: [string, StorageFactory][] = [
  ["MemoryStorage", (clock) => ({ storage: new MemoryStorage({ clock }) })],
  ["RedisStorage", () => {
    const prefix = `sc${process.pid}x${++prefixes}`;
    return { storage: new RedisStorage({ url: server.url, prefix }), prefix };
  }],
];

for (const [name, factory] of factories) {
  describe(`schedules on ${name}`, () => {
    const made: { storage: Storage; prefix?: string }[] = [];
    /** Stops a test's workers, also when it failed (a closed storage would spin them). */
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
      for (const { storage, prefix } of made.splice(0)) {
        await storage.close();
        if (prefix !== undefined) await dropPrefix(admin, prefix);
      }
    });

    /** A fake clock at `start`, a storage on it, a queue, and workers that record each run. */
    function setup(start = T0) {
      const clock = new FakeClock(start);
      const made1 = factory(clock);
      made.push(made1);
      const fires = { tried: 0, applied: 0 };
      const storage = countingFires(made1.storage, fires);
      const queue = new Queue({ storage, clock });
      const runs: { id: string; at: number; payload: unknown }[] = [];
      const workers: Worker[] = [];
      const ping = defineTask({
        name: "ping",
        handler: (payload: unknown, ctx) => {
          runs.push({ id: ctx.job.id, at: clock.now(), payload });
        },
      });
      const startWorker = async (options: Partial<WorkerOptions> = {}) => {
        const worker = new Worker({ storage, clock, tasks: [ping], ...options });
        workers.push(worker);
        await worker.start();
        await clock.flush();
        return worker;
      };
      const stopAll = async () => {
        const stopping = Promise.all(workers.splice(0).map((w) => w.stop({ timeout: 0 })));
        await clock.advance(10_000);
        await stopping;
      };
      cleanups.push(stopAll);
      return { clock, storage, queue, ping, runs, fires, startWorker, stopAll };
    }

    test("an every-10-minutes schedule runs at each tick's exact time for 3 days", async () => {
      const { clock, queue, ping, runs, startWorker, stopAll } = setup();
      const created = await queue.schedule("tick", ping, { n: 1 }, { every: 10 * MINUTE });
      assert.equal(created.nextRunAt, T0 + 10 * MINUTE, "first run one interval after creation");
      await startWorker(SLOW_BEAT);
      await clock.advance(3 * DAY);
      const expected = Array.from({ length: 432 }, (_, i) => T0 + (i + 1) * 10 * MINUTE);
      assert.deepEqual(runs.map((r) => r.at), expected);
      assert.deepEqual(runs.map((r) => r.id), expected.map((tick) => scheduleJobId("tick", tick)));
      const stored = await queue.getSchedule("tick");
      assert.equal(stored?.nextRunAt, T0 + 3 * DAY + 10 * MINUTE);
      assert.equal(stored?.lastTickAt, T0 + 3 * DAY);
      assert.equal(stored?.lastJobId, scheduleJobId("tick", T0 + 3 * DAY));
      await stopAll();
    });

    test("three workers racing make exactly one job per tick over 200 ticks", async () => {
      const { clock, queue, ping, runs, startWorker, stopAll, storage, fires } = setup();
      await queue.schedule("tick", ping, null, { every: MINUTE });
      await Promise.all([startWorker(), startWorker(), startWorker()]);
      await clock.advance(200 * MINUTE);
      assert.equal(runs.length, 200);
      assert.equal(new Set(runs.map((r) => r.id)).size, 200, "no tick ran twice");
      assert.deepEqual(runs.map((r) => r.at), runs.map((_, i) => T0 + (i + 1) * MINUTE));
      // Memory answers each call at once, so the second worker usually finds
      // the tick fired already; on Redis they race and the storage refuses
      // the losers (the contract suite races fires directly).
      assert.ok(fires.tried >= 200, `${fires.tried} fires tried for 200 ticks`);
      assert.equal(fires.applied, 200);
      const counts = await storage.counts("default");
      assert.equal(counts.completed + counts.waiting + counts.active + counts.delayed, 200);
      await stopAll();
    });

    test("an update mid-run takes effect at the next tick; the same timing keeps the next run", async () => {
      const { clock, queue, ping, runs, startWorker, stopAll } = setup();
      await queue.schedule("tick", ping, { v: 1 }, { every: 10 * MINUTE });
      await startWorker();
      await clock.advance(25 * MINUTE);
      // Declared again with the same timing (an app restart): nothing moves.
      const same = await queue.schedule("tick", ping, { v: 2 }, { every: 10 * MINUTE });
      assert.equal(same.nextRunAt, T0 + 30 * MINUTE);
      assert.equal(same.revision, 2);
      await clock.advance(10 * MINUTE);
      // A new interval: its first run is one new interval from now.
      await queue.schedule("tick", ping, { v: 3 }, { every: 3 * MINUTE });
      await clock.advance(7 * MINUTE);
      assert.deepEqual(runs.map((r) => [r.at - T0, r.payload]), [
        [10 * MINUTE, { v: 1 }],
        [20 * MINUTE, { v: 1 }],
        [30 * MINUTE, { v: 2 }],
        [38 * MINUTE, { v: 3 }],
        [41 * MINUTE, { v: 3 }],
      ]);
      assert.equal((await queue.schedules()).length, 1, "never a second schedule");
      await stopAll();
    });

    test("a schedule's job options apply to every job it makes", async () => {
      const { clock, queue, ping, startWorker, stopAll, storage } = setup();
      await queue.schedule("tick", ping, null, { every: MINUTE }, {
        queue: "reports",
        priority: 5,
        maxAttempts: 7,
        timeout: 1_234,
      });
      await startWorker({ queues: ["reports"] });
      await clock.advance(MINUTE);
      const job = await storage.getJob(scheduleJobId("tick", T0 + MINUTE)) as JobRecord;
      assert.equal(job.queue, "reports");
      assert.equal(job.priority, 5);
      assert.equal(job.maxAttempts, 7);
      assert.equal(job.timeout, 1_234);
      assert.equal(job.state, "completed");
      await stopAll();
    });

    for (
      const [policy, expected] of [
        ["latest", [60]],
        ["each", [10, 20, 30, 40, 50, 60]],
        ["skip", []],
      ] as const
    ) {
      test(`after an outage of 65 minutes, missed "${policy}" runs ${expected.length} of 6 missed ticks`, async () => {
        const { clock, queue, ping, runs, startWorker } = setup();
        await queue.schedule("tick", ping, null, { every: 10 * MINUTE }, { missed: policy });
        await clock.advance(65 * MINUTE); // nobody fires
        assert.equal(runs.length, 0, "nothing fires with no worker running");
        await startWorker();
        await clock.advance(0);
        const ticks = expected.map((minutes) => scheduleJobId("tick", T0 + minutes * MINUTE));
        assert.deepEqual(runs.map((r) => r.id), ticks);
        await clock.advance(5 * MINUTE); // the next tick, at 70 minutes, runs as usual
        assert.equal(runs.length, expected.length + 1);
        assert.equal(runs[runs.length - 1].at, T0 + 70 * MINUTE);
      });
    }

    test('missed "skip" still runs a tick found less than a minute late', async () => {
      const { clock, queue, ping, runs, startWorker } = setup();
      await queue.schedule("tick", ping, null, { every: 10 * MINUTE }, { missed: "skip" });
      await clock.advance(10 * MINUTE + 59_000);
      await startWorker();
      assert.deepEqual(runs.map((r) => r.id), [scheduleJobId("tick", T0 + 10 * MINUTE)]);
    });

    test('missed "each" runs at most the latest 100 ticks', async () => {
      const { clock, queue, ping, runs, startWorker, stopAll } = setup();
      await queue.schedule("tick", ping, null, { every: MINUTE }, { missed: "each" });
      await clock.advance(5 * HOUR);
      await startWorker();
      await clock.advance(0);
      assert.equal(runs.length, 100);
      assert.equal(runs[0].id, scheduleJobId("tick", T0 + 201 * MINUTE));
      assert.equal(runs[99].id, scheduleJobId("tick", T0 + 300 * MINUTE));
      await stopAll();
    });

    test("a restart at the same moment never makes a tick twice", async () => {
      const { clock, queue, ping, runs, startWorker, stopAll } = setup();
      await queue.schedule("tick", ping, null, { every: MINUTE });
      await startWorker();
      await clock.advance(MINUTE);
      await stopAll();
      await startWorker();
      await clock.advance(0);
      assert.equal(runs.length, 1);
      await clock.advance(MINUTE);
      assert.deepEqual(runs.map((r) => r.at), [T0 + MINUTE, T0 + 2 * MINUTE]);
      await stopAll();
    });

    test("unschedule stops the ticks; a worker of another queue or with schedules: false fires none", async () => {
      const { clock, queue, ping, runs, startWorker, stopAll } = setup();
      await queue.schedule("tick", ping, null, { every: MINUTE });
      await startWorker({ queues: ["other"] });
      await startWorker({ schedules: false });
      await clock.advance(5 * MINUTE);
      assert.equal(runs.length, 0);
      await startWorker();
      await clock.advance(MINUTE);
      assert.equal(runs.length, 2, "the latest missed tick, then the next");
      assert.equal(await queue.unschedule("tick"), true);
      await clock.advance(10 * MINUTE);
      assert.equal(runs.length, 2);
      assert.deepEqual(await queue.schedules(), []);
      await stopAll();
    });

    test("a schedule created while workers run is fired within a heartbeat", async () => {
      const { clock, queue, ping, runs, startWorker, stopAll } = setup();
      await startWorker();
      await clock.advance(MINUTE);
      // Its first run is 1 s away, sooner than anything the worker waits for.
      await queue.schedule("soon", ping, null, { every: 1_000 });
      await clock.advance(10_000); // one heartbeat (the default 10 s)
      assert.ok(runs.length >= 1, "fired once the worker looked again");
      assert.equal(runs[0].id.startsWith(scheduleJobId("soon", 0).slice(0, -1)), true);
      await stopAll();
    });

    test("a cron schedule runs at its exact times: */15 9-17 on weekdays, for a week", async () => {
      const { clock, queue, ping, runs, startWorker } = setup();
      await queue.schedule("office", ping, null, { cron: "*/15 9-17 * * MON-FRI" });
      await startWorker(SLOW_BEAT);
      await clock.advance(7 * DAY);
      const expected: number[] = [];
      for (let day = 0; day < 5; day++) {
        for (let hour = 9; hour <= 17; hour++) {
          for (const minute of [0, 15, 30, 45]) {
            expected.push(T0 + day * DAY + hour * HOUR + minute * MINUTE);
          }
        }
      }
      assert.deepEqual(
        runs.map((r) => new Date(r.at).toISOString()),
        expected.map((t) => new Date(t).toISOString()),
      );
    });

    const dst: [string, string, string, string, string[]][] = [
      ["Europe/Berlin", "30 2 * * *", "2026-03-27T12:00:00Z", "2026-03-31T12:00:00Z", [
        "2026-03-28T01:30:00.000Z", // 02:30 CET
        "2026-03-29T01:00:00.000Z", // spring forward: 02:30 does not exist; 03:00 CEST, once
        "2026-03-30T00:30:00.000Z", // 02:30 CEST
        "2026-03-31T00:30:00.000Z",
      ]],
      ["Europe/Berlin", "30 2 * * *", "2026-10-23T12:00:00Z", "2026-10-27T12:00:00Z", [
        "2026-10-24T00:30:00.000Z", // 02:30 CEST
        "2026-10-25T00:30:00.000Z", // fall back: 02:30 happens twice; the first, once
        "2026-10-26T01:30:00.000Z", // 02:30 CET
        "2026-10-27T01:30:00.000Z",
      ]],
      ["America/New_York", "30 2 * * *", "2026-03-06T12:00:00Z", "2026-03-10T12:00:00Z", [
        "2026-03-07T07:30:00.000Z", // 02:30 EST
        "2026-03-08T07:00:00.000Z", // spring forward: 03:00 EDT, once
        "2026-03-09T06:30:00.000Z", // 02:30 EDT
        "2026-03-10T06:30:00.000Z",
      ]],
      ["America/New_York", "30 1 * * *", "2026-10-30T12:00:00Z", "2026-11-03T12:00:00Z", [
        "2026-10-31T05:30:00.000Z", // 01:30 EDT
        "2026-11-01T05:30:00.000Z", // fall back: 01:30 happens twice; the first, once
        "2026-11-02T06:30:00.000Z", // 01:30 EST
        "2026-11-03T06:30:00.000Z",
      ]],
    ];
    for (const [tz, cron, from, to, expected] of dst) {
      test(`DST: "${cron}" in ${tz} from ${from.slice(0, 10)} runs once a day`, async () => {
        const { clock, queue, ping, runs, startWorker } = setup(Date.parse(from));
        await queue.schedule("daily", ping, null, { cron, tz });
        await startWorker(SLOW_BEAT);
        await clock.advanceTo(Date.parse(to));
        assert.deepEqual(runs.map((r) => new Date(r.at).toISOString()), expected);
      });
    }

    for (
      const [day, from, to, count] of [
        ["spring-forward", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23],
        ["fall-back", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25],
      ] as const
    ) {
      test(`DST: an hourly cron runs ${count} times on Berlin's ${day} day`, async () => {
        const { clock, queue, ping, runs, startWorker } = setup(Date.parse(from) - 1);
        await queue.schedule("hourly", ping, null, { cron: "@hourly", tz: "Europe/Berlin" });
        await startWorker(SLOW_BEAT);
        await clock.advanceTo(Date.parse(to) - 1); // local midnight to midnight
        assert.equal(runs.length, count);
        assert.equal(new Set(runs.map((r) => r.id)).size, count);
        assert.equal(runs[0].at, Date.parse(from));
      });
    }

    test("a bad cron expression or zone is refused with the field and the reason", async () => {
      const { queue, ping } = setup();
      await assert.rejects(
        queue.schedule("report", ping, null, { cron: "0 25 * * *" }),
        { message: 'Cannot schedule "report": cron field 2 (hour) 25 is out of range 0-23' },
      );
      await assert.rejects(
        queue.schedule("report", ping, null, { cron: "0 9 * * *", tz: "Mars/Base" }),
        /Cannot schedule "report": unknown time zone "Mars\/Base"/,
      );
      await assert.rejects(
        queue.schedule("report", ping, null, { cron: "0 0 30 2 *" }),
        /Cannot schedule "report": cron expression "0 0 30 2 \*" never matches/,
      );
      assert.deepEqual(await queue.schedules(), []);
    });

    test("bad input is refused with what was wrong, and nothing is stored", async () => {
      const { queue, ping } = setup();
      await assert.rejects(
        queue.schedule("tick", ping, null, { every: 0 }),
        /Cannot schedule "tick": every must be an integer number of ms >= 1, got 0/,
      );
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        queue.schedule("tick", ping, null, { every: 1_000, tz: "UTC" } as any),
        /Cannot schedule "tick": the timing must be \{ cron, tz\? \} or \{ every, startAt\? \}, got a key "tz"/,
      );
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        queue.schedule("tick", ping, null, { every: 1_000 }, { missed: "never" as any }),
        /Cannot schedule "tick": missed must be one of latest, each, skip/,
      );
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        queue.schedule("tick", ping, null, { every: 1_000 }, { delay: 5 } as any),
        /Cannot schedule "tick": options\.delay is not an option/,
      );
      await assert.rejects(
        queue.schedule("tick", ping, null, { every: 1_000 }, { priority: 5_000 }),
        /Cannot schedule "tick": job of "ping": priority/,
      );
      await assert.rejects(
        queue.schedule("tick", ping, undefined, { every: 1_000 }),
        /Cannot schedule "tick": job of "ping": payload is undefined/,
      );
      await assert.rejects(queue.schedule("", ping, null, { every: 1_000 }), /schedule id/);
      assert.deepEqual(await queue.schedules(), []);
    });
  });
}
