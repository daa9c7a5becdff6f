// What storage hands back wrongly: job records corrupted by hand in a real
// redis-server are moved to failed with their raw text, and a reservation whose
// reply arrives after its lease expired is handed back, not run; the worker
// goes on in both.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defineTask, MemoryStorage, Queue, type ReserveRequest, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { FakeClock } from "../testing.ts";
import { collect, sleep, startBadInputRedis, uniquePrefix, waitUntil } from "./_bad_input.ts";

const { server, admin } = await startBadInputRedis();

// ---- records corrupted by hand ----------------------------------------------

describe("Redis: records corrupted by hand are moved to failed with their raw text; the worker goes on", () => {
  test(
    "missing fields, invalid JSON, wrong field types, wrong key types, in wait, delayed and active",
    { timeout: 30_000 },
    async () => {
      const prefix = uniquePrefix();
      const tag = `{${prefix}}`;
      const storage = new RedisStorage({ url: server.url, prefix });
      const queue = new Queue({ storage });
      const ran: string[] = [];
      const good = defineTask({
        name: "good",
        handler: (p: { n: number }) => {
          ran.push(`good${p.n}`);
          return p.n;
        },
      });
      const seqMember = async (id: string) =>
        String(await admin.incr(`${tag}:seq`)).padStart(15, "0") + id;
      const toWait = async (id: string) =>
        void await admin.zadd(`${tag}:q:default:wait`, 1000, await seqMember(id));
      const base = async (id: string) => {
        // A complete, valid record written by enqueue; then broken below.
        await queue.enqueue(good, { n: -1 }, { id });
      };
      const goods: string[] = [];
      const addGood = async () => {
        const job = await queue.enqueue(good, { n: goods.length });
        goods.push(job.id);
      };

      // id → [how it is broken, what the error must say, what raw must hold]
      const corrupt = new Map<string, [RegExp, string]>();
      await addGood();
      // 1. Missing fields: a hand-written hash with only a name and a payload.
      await admin.hset(`${tag}:job:missing`, "name", "good", "payload", '{"n":1}');
      await toWait("missing");
      corrupt.set("missing", [/job data \(field d\) is missing/, '"payload":"{\\"n\\":1}"']);
      await addGood();
      // 2. Invalid JSON in the payload.
      await base("badjson");
      await admin.hset(`${tag}:job:badjson`, "payload", '{"n": 1,,');
      corrupt.set("badjson", [/payload is not valid JSON/, '{\\"n\\": 1,,']);
      await addGood();
      // 3. Wrong types in fields: numbers that are not numbers (in the packed
      // field d: priority|maxAttempts|maxStalls|timeout|enqueuedAt|name),
      // errors that are not errors.
      await base("badnum");
      await admin.hset(`${tag}:job:badnum`, "d", "0|lots|1|{}|5|good");
      corrupt.set("badnum", [/maxAttempts is not a number/, '"d":"0|lots|1|{}|5|good"']);
      await base("shortd");
      await admin.hset(`${tag}:job:shortd`, "d", "0|3");
      corrupt.set("shortd", [/too few parts/, '"d":"0|3"']);
      await base("baderrors");
      await admin.hset(`${tag}:job:baderrors`, "errors", '{"message":1}\nnot json');
      corrupt.set("baderrors", [/errors is not an error record/, "not json"]);
      await addGood();
      // 4. A member in the wait set with no job hash at all.
      await toWait("ghost");
      corrupt.set("ghost", [/job data \(field d\) is missing/, '"state":"active"']);
      await addGood();
      // 5. The job key holds the wrong Redis type: a string, a list.
      await base("strkey");
      await admin.del(`${tag}:job:strkey`);
      await admin.set(`${tag}:job:strkey`, "I am not a hash");
      corrupt.set("strkey", [/holds a string, not a hash/, "I am not a hash"]);
      await addGood();
      await base("listkey");
      await admin.del(`${tag}:job:listkey`);
      await admin.rpush(`${tag}:job:listkey`, "a", "b");
      corrupt.set("listkey", [/holds a list, not a hash/, "list"]);
      await addGood();
      // 6. A wrong-type key in the delayed set (promoted by reserve) ...
      const delayed = await queue.enqueue(good, { n: -1 }, { id: "delayedstr", delay: 1 });
      await admin.del(`${tag}:job:${delayed.id}`);
      await admin.set(`${tag}:job:${delayed.id}`, "delayed garbage");
      corrupt.set("delayedstr", [/holds a string, not a hash/, "delayed garbage"]);
      // ... and in the active set with an expired lease (reclaimed by reserve).
      await admin.zadd(`${tag}:q:default:active`, 1, "000000000000001activestr");
      await admin.set(`${tag}:job:activestr`, "active garbage");
      corrupt.set("activestr", [/holds a string, not a hash/, "active garbage"]);
      for (let i = 0; i < 5; i++) await addGood();
      await sleep(5); // the delayed job is due

      const worker = new Worker({
        storage,
        tasks: [good],
        concurrency: 2, // several reserve batches, corrupt records among good ones
        idleWaitMs: 200,
      });
      const errors = collect(worker, "error");
      const failedEvents = collect(worker, "failed");
      await worker.start();
      try {
        await waitUntil(
          "every good job to complete",
          async () => (await queue.counts()).completed === goods.length,
          15_000,
        );
        await waitUntil(
          "every corrupt record to be failed",
          async () => (await queue.counts()).failed === corrupt.size,
          5_000,
        ).catch(async (e) => {
          const states: Record<string, unknown> = {};
          for (const id of corrupt.keys()) {
            states[id] = await admin.type(`${tag}:job:${id}`) === "hash"
              ? await admin.hget(`${tag}:job:${id}`, "state")
              : await admin.type(`${tag}:job:${id}`);
          }
          throw new Error(`${e.message}; states: ${JSON.stringify(states)}`);
        });
        assert.deepEqual(await queue.counts(), {
          waiting: 0,
          delayed: 0,
          active: 0,
          completed: goods.length,
          failed: corrupt.size,
        });
        assert.deepEqual(ran.sort(), goods.map((_, n) => `good${n}`).sort());
        for (const [id, [reason, rawPart]] of corrupt) {
          const job = await queue.getJob(id);
          assert.ok(job, `job ${id} is gone`);
          assert.equal(job.state, "failed", id);
          assert.equal(job.error?.name, "CorruptRecordError", id);
          assert.match(job.error!.message, new RegExp(`stored job ${id}: `), id);
          assert.match(job.error!.message, reason, id);
          assert.equal(typeof job.raw, "string", `${id} keeps its raw text`);
          assert.ok(job.raw!.includes(rawPart), `${id}: raw ${job.raw} lacks ${rawPart}`);
        }
        const failedList = await queue.list("default", "failed", { limit: 100 });
        assert.deepEqual(failedList.map((j) => j.id).sort(), [...corrupt.keys()].sort());
        assert.deepEqual(errors, [], "no storage errors");
        assert.equal(failedEvents.length, 0, "no handler ran for a corrupt record");
        assert.equal(worker.state, "running");
      } finally {
        await worker.stop();
        await storage.close();
      }
    },
  );
});

// ---- a reservation that arrives too late -------------------------------------

describe("A reservation whose reply arrives after its lease expired", () => {
  test("is handed back, not run: no job runs twice (found by the chaos run's pause mode)", {
    timeout: 10_000,
  }, async () => {
    // Worker A's reserve reply is held up for longer than the lease (as when
    // redis-server is frozen with SIGSTOP); meanwhile worker B reclaims the
    // expired leases. A must not run jobs whose lease already ran out.
    const clock = new FakeClock();
    const memory = new MemoryStorage({ clock });
    const leaseMs = 1_000;
    let held = true;
    // Every method of `memory`, bound to it, but a reserve whose reply is late.
    const slow = new Proxy(memory, {
      get(target, name) {
        if (name === "reserve") {
          return async (request: ReserveRequest) => {
            const result = await target.reserve(request);
            if (held && result.jobs.length > 0) {
              held = false;
              await clock.sleep(leaseMs + 500);
            }
            return result;
          };
        }
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const runs = new Map<string, string[]>();
    const task = defineTask({
      name: "once",
      maxStalls: 5,
      handler: (_p: null, ctx) => {
        runs.set(ctx.job.id, [...(runs.get(ctx.job.id) ?? []), ctx.job.attempt.toString()]);
      },
    });
    const queue = new Queue({ storage: memory, clock });
    const jobs = await queue.enqueueMany(task, [null, null, null]);
    const a = new Worker({ storage: slow, clock, tasks: [task], leaseMs, id: "a" });
    const b = new Worker({ storage: memory, clock, tasks: [task], leaseMs, id: "b" });
    const stalled = collect(a, "stalled");
    await a.start();
    await clock.flush();
    await b.start();
    await clock.flush();
    for (let i = 0; i < 10; i++) await clock.advance(500);
    const counts = await queue.counts();
    assert.equal(counts.completed, 3, JSON.stringify(counts));
    for (const job of jobs) assert.deepEqual(runs.get(job.id)?.length, 1, `${job.id} ran once`);
    assert.ok(stalled.length >= 1);
    assert.match(stalled[0].reason, /lease expired before the reservation arrived/);
    const stopping = Promise.all([a.stop({ timeout: 0 }), b.stop({ timeout: 0 })]);
    await clock.advance(60_000);
    await stopping;
  });
});
