// RedisStorage's schedules against a real redis-server that this file starts
// (the port's behaviour is the schedules contract's, run from
// redis_storage_test.ts and redis_cluster_test.ts): what only Redis has, with
// the shared tag and with per-queue tags: the keys, exact round trips, one
// script call per fire, what a refused fire leaves (nothing), leftovers of a
// move cut short, and the wake-up of waiting workers. If redis-server cannot
// start, the file fails: never skipped.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Redis } from "ioredis";
import { RedisStorage } from "../adapters/redis/mod.ts";
import {
  type ScheduleFire,
  scheduleJobId,
  type ScheduleRecord,
} from "../core/storage_schedules.ts";
import { fireOf, newSchedule, tickJob } from "./storage_schedules_contract.ts";
import { countingClient, dropPrefix, startRedis } from "./_redis_server.ts";

const server = await startRedis();
const admin = new Redis(server.url);
let prefixes = 0;

after(async () => {
  await admin.quit();
  await server.stop();
});

const T0 = 1_000_000; // as in the contract's newSchedule
const MINUTE = 60_000;

/** The fire of `schedule`'s next tick, its one job named after `tick`. */
function fireAt(schedule: ScheduleRecord, tick: number): ScheduleFire {
  return { ...fireOf(schedule), jobs: [tickJob(schedule, tick)] };
}

/** Every key of `prefix` with its type and contents, for before/after comparisons. */
async function snapshot(prefix: string): Promise<Record<string, unknown>> {
  const keys = (await admin.keys(`{${prefix}*`)).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await admin.type(key);
    if (type === "hash") out[key] = await admin.hgetall(key);
    else if (type === "zset") out[key] = await admin.zrange(key, "0", "-1", "WITHSCORES");
    else if (type === "set") out[key] = (await admin.smembers(key)).sort();
    else if (type === "list") out[key] = await admin.lrange(key, 0, -1);
    else if (type === "string") out[key] = await admin.get(key);
    else if (type === "stream") out[key] = await admin.xrange(key, "-", "+");
    else out[key] = type;
  }
  return out;
}

for (const queueTags of [false, true]) {
  const tag = (prefix: string, queue: string) => queueTags ? `{${prefix}:${queue}}` : `{${prefix}}`;

  describe(`RedisStorage schedules${queueTags ? " (queueTags)" : ""}`, () => {
    const opened: { storage: RedisStorage; prefix: string }[] = [];
    function open(): { storage: RedisStorage; prefix: string } {
      const prefix = `sc${process.pid}x${++prefixes}`;
      const storage = new RedisStorage({ url: server.url, prefix, queueTags });
      opened.push({ storage, prefix });
      return { storage, prefix };
    }
    after(async () => {
      for (const { storage, prefix } of opened) {
        await storage.close();
        await dropPrefix(admin, prefix);
      }
    });

    test("the keys: the schedule's hash, its queue's sorted set, the index", async () => {
      const { storage, prefix } = open();
      await storage.upsertSchedule(newSchedule("s"), T0);
      assert.deepEqual(await admin.hgetall(`{${prefix}}:schedules`), { s: "alpha" });
      assert.deepEqual(
        await admin.zrange(`${tag(prefix, "alpha")}:q:alpha:sched`, "0", "-1", "WITHSCORES"),
        [
          "s",
          String(T0 + MINUTE),
        ],
      );
      const hash = await admin.hgetall(`${tag(prefix, "alpha")}:sched:s`);
      assert.equal(hash.queue, "alpha");
      assert.equal(hash.revision, "1");
      assert.equal(hash.nextRunAt, String(T0 + MINUTE));
      assert.equal(hash.lastJobId, "");
      assert.deepEqual(await admin.smembers(`{${prefix}}:queues`), ["alpha"]);
      // A move leaves no trace in the old queue.
      await storage.upsertSchedule(
        newSchedule("s", { job: { ...newSchedule("s").job, queue: "beta" } }),
        T0 + 1,
      );
      assert.deepEqual(await admin.hgetall(`{${prefix}}:schedules`), { s: "beta" });
      assert.equal(await admin.exists(`${tag(prefix, "alpha")}:q:alpha:sched`), 0);
      if (queueTags) assert.equal(await admin.exists(`${tag(prefix, "alpha")}:sched:s`), 0);
      const moved = await admin.hgetall(`${tag(prefix, "beta")}:sched:s`);
      assert.equal(moved.revision, "2");
      assert.equal(moved.createdAt, String(T0), "createdAt carried over");
      assert.equal(await storage.removeSchedule("s"), true);
      const left = Object.keys(await snapshot(prefix)).filter((k) => /sched/.test(k));
      assert.deepEqual(left, [], "remove leaves no schedule key");
    });

    test("records round-trip exactly: numbers, nulls, text, payload JSON", async () => {
      const { storage } = open();
      const schedule = newSchedule("ünïcode:id/with spaces {and} braces", {
        job: {
          name: "t",
          queue: "alpha",
          payload: { big: 2 ** 53 - 1, tiny: 1e-7, neg: -0.5, s: 'é\u{1F600}"\n', n: null, a: [] },
          priority: -1000,
          maxAttempts: null,
          maxStalls: 0,
          timeout: 12_345,
        },
        cron: "0 */2 * * *",
        tz: "America/New_York",
        every: null,
        startAt: null,
        missed: "each",
        timing: "cron 0 */2 * * * America/New_York | odd\ttext",
        nextRunAt: 8_640_000_000_000_000,
      });
      const { schedule: stored } = await storage.upsertSchedule(schedule, T0 + 0.25);
      const read = await storage.getSchedule(schedule.id);
      assert.deepEqual(read, stored);
      assert.deepEqual(read, {
        ...schedule,
        revision: 1,
        createdAt: T0 + 0.25,
        updatedAt: T0 + 0.25,
        lastTickAt: null,
        lastJobId: null,
      });
      assert.deepEqual(await storage.schedules(), [stored]);
      const [due] = (await storage.dueSchedules(["alpha"], 8_640_000_000_000_000, 1)).due;
      assert.deepEqual(due, stored);
    });

    test("the round trips of a fire: one script call (and the indexes with queueTags)", async () => {
      const { prefix } = open();
      const { client, sent } = countingClient(server.url);
      const storage = new RedisStorage({ client, prefix, queueTags });
      try {
        const { schedule } = await storage.upsertSchedule(newSchedule("s"), T0);
        // Loads the script (NOSCRIPT -> EVAL) the first time.
        await storage.fireSchedule({ ...fireOf(schedule), revision: 9 }, T0 + MINUTE);
        sent.length = 0;
        assert.equal((await storage.fireSchedule(fireOf(schedule), T0 + MINUTE)).fired, true);
        assert.deepEqual(
          sent.sort(),
          queueTags ? ["evalsha", "hget", "hmget", "hset"] : ["evalsha"],
        );
        sent.length = 0;
        assert.equal((await storage.fireSchedule(fireOf(schedule), T0 + MINUTE)).fired, false);
        assert.deepEqual(sent.sort(), queueTags ? ["evalsha", "hget", "hmget"] : ["evalsha"]);
      } finally {
        await storage.close();
        await client.quit();
      }
    });

    if (!queueTags) {
      test("every schedule method is one EVALSHA", async () => {
        const { prefix } = open();
        const { client, sent } = countingClient(server.url);
        const storage = new RedisStorage({ client, prefix });
        try {
          // Loads the scripts (NOSCRIPT -> EVAL) and adds the queue to the queue set.
          await storage.upsertSchedule(newSchedule("warm"), T0);
          await storage.removeSchedule("warm");
          await storage.getSchedule("warm");
          await storage.schedules();
          await storage.dueSchedules(["alpha"], T0, 10);
          const calls: [string, () => Promise<unknown>][] = [
            ["upsertSchedule", () => storage.upsertSchedule(newSchedule("s"), T0)],
            ["getSchedule", () => storage.getSchedule("s")],
            ["schedules", () => storage.schedules()],
            ["dueSchedules", () => storage.dueSchedules(["alpha", "beta"], T0 + MINUTE, 10)],
            ["removeSchedule", () => storage.removeSchedule("s")],
          ];
          for (const [name, call] of calls) {
            sent.length = 0;
            await call();
            assert.deepEqual(sent, ["evalsha"], name);
          }
        } finally {
          await storage.close();
          await client.quit();
        }
      });
    }

    test("a refused fire changes no key", async () => {
      const { storage, prefix } = open();
      const { schedule } = await storage.upsertSchedule(newSchedule("s"), T0);
      const first = fireOf(schedule);
      assert.equal((await storage.fireSchedule(first, T0 + MINUTE)).fired, true);
      const before = await snapshot(prefix);
      // A late racer with another tick (it computed "latest" at another time),
      // a stale revision, a schedule that is gone.
      const late = await storage.fireSchedule(
        fireAt(schedule, T0 + MINUTE + 1),
        T0 + MINUTE + 1,
      );
      assert.deepEqual(late, { fired: false, jobs: [] });
      const stale = { ...fireOf((await storage.getSchedule("s"))!), revision: 7 };
      assert.equal((await storage.fireSchedule(stale, T0 + 2 * MINUTE)).fired, false);
      assert.equal(
        (await storage.fireSchedule({ ...fireOf(schedule), id: "missing" }, T0)).fired,
        false,
      );
      assert.deepEqual(await snapshot(prefix), before, "nothing written, no index entry");
    });

    test("three workers racing over 30 ticks with different ticks: one job a tick, no orphan id-index entry", async () => {
      const { storage, prefix } = open();
      const others = [0, 1].map(() => new RedisStorage({ url: server.url, prefix, queueTags }));
      opened.push(...others.map((other) => ({ storage: other, prefix })));
      await storage.upsertSchedule(newSchedule("s"), T0);
      const racers = [storage, ...others];
      for (let tick = 1; tick <= 30; tick++) {
        const now = T0 + tick * MINUTE;
        const reads = await Promise.all(
          racers.map((racer) => racer.dueSchedules(["alpha"], now, 10)),
        );
        // Each racer names its own job (a worker whose clock read a later tick).
        const results = await Promise.all(
          reads.map((read, r) =>
            racers[r].fireSchedule(fireAt(read.due[0], read.due[0].nextRunAt + r), now)
          ),
        );
        assert.equal(results.filter((result) => result.fired).length, 1, `tick ${tick}`);
      }
      const counts = await storage.counts("alpha");
      assert.equal(counts.waiting + counts.delayed, 30);
      if (queueTags) {
        const index = await admin.hgetall(`{${prefix}}:ids`);
        assert.equal(
          Object.keys(index).length,
          30,
          "one entry per stored job, none per refused fire",
        );
        for (const id of Object.keys(index)) assert.notEqual(await storage.getJob(id), null, id);
      }
    });

    test("a fired job id that exists is returned, not stored again (across queues with queueTags)", async () => {
      const { storage } = open();
      const { schedule } = await storage.upsertSchedule(newSchedule("s"), T0);
      const job = tickJob(schedule, T0 + MINUTE);
      // Made by hand beforehand, even in another queue.
      const [made] = await storage.enqueue([{ ...job, queue: "beta", payload: "by hand" }], T0);
      const result = await storage.fireSchedule(fireOf(schedule), T0 + MINUTE);
      assert.equal(result.fired, true);
      assert.deepEqual(result.jobs, [{ job: made.job, created: false }]);
      assert.equal((await storage.counts("alpha")).waiting, 0);
      assert.equal((await storage.getSchedule("s"))?.lastJobId, job.id);
    });

    test("upsert and remove write no event; a fire writes the enqueued event", async () => {
      const { storage } = open();
      const { schedule } = await storage.upsertSchedule(newSchedule("s"), T0);
      await storage.upsertSchedule(newSchedule("s", { missed: "skip" }), T0 + 1);
      await storage.fireSchedule({ ...fireOf(schedule), revision: 2 }, T0 + MINUTE);
      await storage.removeSchedule("s");
      const page = await storage.readEvents({
        queues: ["alpha"],
        after: { alpha: "0" },
        limit: 100,
        maxWaitMs: 0,
      });
      assert.deepEqual(page.events.map((e) => e.type), ["enqueued"]);
    });

    test("a fire wakes a worker waiting on another instance", async () => {
      const { storage } = open();
      const { prefix } = opened[opened.length - 1];
      const waiter = new RedisStorage({ url: server.url, prefix, queueTags });
      try {
        const { schedule } = await storage.upsertSchedule(newSchedule("s"), T0);
        const started = Date.now();
        const waiting = waiter.waitForWork(["alpha"], 5_000, new AbortController().signal);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await storage.fireSchedule(fireOf(schedule), T0 + MINUTE);
        await waiting;
        assert.ok(Date.now() - started < 2_500, "woken by the fire, not by the timeout");
      } finally {
        await waiter.close();
      }
    });

    test("bad ids are refused as job ids are", async () => {
      const { storage } = open();
      await assert.rejects(
        storage.upsertSchedule(newSchedule("bad\uD800id"), T0),
        /not well-formed Unicode/,
      );
      await assert.rejects(storage.getSchedule("bad\uDC00"), /not well-formed Unicode/);
      await assert.rejects(
        storage.upsertSchedule(
          newSchedule("s", { job: { ...newSchedule("s").job, queue: "no spaces" } }),
          T0,
        ),
        /job.queue "no spaces" may only contain/,
      );
    });

    if (queueTags) {
      test("leftovers of a move cut short are never returned nor fired, and go after a grace", async () => {
        const { storage, prefix } = open();
        await storage.upsertSchedule(newSchedule("s"), T0);
        const oldHash = await admin.hgetall(`${tag(prefix, "alpha")}:sched:s`);
        const moved = { ...newSchedule("s").job, queue: "beta" };
        await storage.upsertSchedule(newSchedule("s", { job: moved }), T0 + 1);
        // A crash after the index moved, before the old record went: put it back.
        await admin.hset(`${tag(prefix, "alpha")}:sched:s`, {
          ...oldHash,
          updatedAt: String(T0 + 30_000),
        });
        await admin.zadd(`${tag(prefix, "alpha")}:q:alpha:sched`, T0 + MINUTE, "s");
        const leftover = await storage.dueSchedules(["alpha"], T0 + MINUTE, 10);
        assert.deepEqual(leftover, { due: [], nextAt: null }, "within the grace: dropped, kept");
        assert.equal(await admin.exists(`${tag(prefix, "alpha")}:sched:s`), 1);
        // A fire read from the leftover (revision 1) is refused: the index routes to beta.
        const fromLeftover: ScheduleFire = {
          id: "s",
          revision: 1,
          nextRunAt: T0 + MINUTE,
          jobs: [{ ...moved, id: scheduleJobId("s", T0 + MINUTE), runAt: T0 + MINUTE }],
          lastTickAt: T0 + MINUTE,
          next: T0 + 2 * MINUTE,
        };
        assert.equal((await storage.fireSchedule(fromLeftover, T0 + MINUTE)).fired, false);
        const late = T0 + 10 * MINUTE;
        assert.deepEqual(await storage.dueSchedules(["alpha"], late, 10), {
          due: [],
          nextAt: null,
        });
        assert.equal(await admin.exists(`${tag(prefix, "alpha")}:sched:s`), 0, "deleted");
        assert.equal(await admin.exists(`${tag(prefix, "alpha")}:q:alpha:sched`), 0);
        const [due] = (await storage.dueSchedules(["beta"], late, 10)).due;
        assert.equal(due.revision, 2);
        assert.equal((await storage.fireSchedule(fireOf(due), late)).fired, true);
        assert.deepEqual((await storage.schedules()).map((s) => s.job.queue), ["beta"]);
      });

      test("an index entry without its record (a create cut short) is no schedule", async () => {
        const { storage, prefix } = open();
        await admin.hset(`{${prefix}}:schedules`, "s", "alpha");
        assert.equal(await storage.getSchedule("s"), null);
        assert.deepEqual(await storage.schedules(), []);
        assert.equal(await storage.removeSchedule("s"), false);
        assert.equal(await admin.hexists(`{${prefix}}:schedules`, "s"), 0, "cleaned by remove");
        await admin.hset(`{${prefix}}:schedules`, "s", "beta");
        const { created } = await storage.upsertSchedule(newSchedule("s"), T0);
        assert.equal(created, true);
        assert.deepEqual(await admin.hgetall(`{${prefix}}:schedules`), { s: "alpha" });
      });
    }
  });
}
