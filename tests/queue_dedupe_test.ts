// Queue.enqueue with `dedupe` (unique, throttle, debounce) through a Worker
// on FakeClock, on MemoryStorage, and the options' checks.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defineTask, MemoryStorage, Queue, Worker } from "../mod.ts";
import { FakeClock } from "../testing.ts";

function setup() {
  const clock = new FakeClock();
  const storage = new MemoryStorage({ clock });
  const queue = new Queue({ storage, clock });
  const runs: unknown[] = [];
  const task = defineTask({
    name: "sync",
    handler: async (payload: { rev: number }) => {
      runs.push(payload);
      await clock.sleep(1_000);
      return payload.rev;
    },
  });
  const workers: Worker[] = [];
  const start = async () => {
    const worker = new Worker({ storage, clock, tasks: [task], concurrency: 4 });
    workers.push(worker);
    await worker.start();
    await clock.flush();
  };
  const stopAll = async () => {
    const stopping = Promise.all(workers.map((w) => w.stop({ timeout: 0 })));
    await clock.advance(60_000);
    await stopping;
  };
  return { clock, storage, queue, task, runs, start, stopAll };
}

describe("Queue.enqueue with dedupe", () => {
  test("unique: a burst runs once; once it finished the key is free again", async () => {
    const { clock, queue, task, runs, start, stopAll } = setup();
    await start();
    const first = await queue.enqueue(task, { rev: 1 }, { dedupe: { key: "user:1" } });
    assert.equal(first.dedupeKey, "user:1");
    await clock.flush(); // the worker took it: active
    const dup = await queue.enqueueOutcome(task, { rev: 2 }, { dedupe: { key: "user:1" } });
    assert.equal(dup.created, false);
    assert.equal(dup.deduplicated, "duplicate");
    assert.equal(dup.job.id, first.id);
    assert.equal(dup.job.state, "active");
    await clock.advance(1_000);
    assert.equal((await queue.getJob(first.id))?.state, "completed");
    const again = await queue.enqueueOutcome(task, { rev: 3 }, { dedupe: { key: "user:1" } });
    assert.equal(again.created, true);
    await clock.advance(1_000);
    assert.deepEqual(runs, [{ rev: 1 }, { rev: 3 }]);
    await stopAll();
  });

  test("debounce: a burst runs once, with the last payload, delay after the last enqueue", async () => {
    const { clock, queue, task, runs, start, stopAll } = setup();
    await start();
    const t0 = clock.now();
    const dedupe = { key: "doc:7", mode: "debounce", delay: 500 } as const;
    const a = await queue.enqueue(task, { rev: 1 }, { dedupe });
    assert.equal(a.runAt, t0 + 500);
    await clock.advance(300);
    const b = await queue.enqueueOutcome(task, { rev: 2 }, { dedupe });
    assert.equal(b.deduplicated, "debounced");
    assert.equal(b.job.runAt, t0 + 800);
    await clock.advance(300); // t0 + 600: past the first runAt, not the second
    assert.deepEqual(runs, []);
    await queue.enqueue(task, { rev: 3 }, { dedupe });
    await clock.advance(499);
    assert.deepEqual(runs, []);
    await clock.advance(1);
    assert.deepEqual(runs, [{ rev: 3 }]);
    await clock.advance(1_000);
    assert.equal(await queue.result(a.id), 3);
    await stopAll();
  });

  test("throttle: at most one pending job; a new one may wait while one runs", async () => {
    const { clock, queue, task, runs, start, stopAll } = setup();
    const dedupe = { key: "feed", mode: "throttle" } as const;
    const a = await queue.enqueue(task, { rev: 1 }, { dedupe });
    assert.equal((await queue.enqueue(task, { rev: 2 }, { dedupe })).id, a.id);
    await start(); // a runs
    const b = await queue.enqueue(task, { rev: 3 }, { dedupe });
    assert.notEqual(b.id, a.id);
    assert.equal((await queue.enqueue(task, { rev: 4 }, { dedupe })).id, b.id);
    await clock.advance(2_000);
    assert.deepEqual(runs, [{ rev: 1 }, { rev: 3 }]);
    await stopAll();
  });

  test("enqueueMany with dedupe: the first job holds the key, the others see it", async () => {
    const { queue, task } = setup();
    const jobs = await queue.enqueueMany(task, [{ rev: 1 }, { rev: 2 }], {
      dedupe: { key: "k", ttl: 1_000 },
    });
    assert.equal(jobs[0].id, jobs[1].id);
    assert.equal((await queue.counts()).waiting, 1);
  });

  test("bad dedupe options are refused with a clear error and nothing stored", async () => {
    const { queue, task } = setup();
    const cases: [unknown, RegExp][] = [
      [null, /dedupe must be an object/],
      [{ key: "" }, /dedupe\.key must be a non-empty string/],
      [{ key: "k".repeat(513) }, /at most 512/],
      [{ key: "k", mode: "replace" }, /dedupe\.mode must be one of unique, throttle, debounce/],
      [{ key: "k", ttl: -1 }, /dedupe\.ttl/],
      [{ key: "k", delay: 5 }, /dedupe\.delay is for mode "debounce" only/],
      [{ key: "k", mode: "debounce" }, /needs dedupe\.delay/],
      [{ key: "k", mode: "debounce", delay: 5, ttl: 1 }, /takes no dedupe\.ttl/],
      [{ key: "k", tll: 5 }, /options\.dedupe\.tll is not an option \(did you mean ttl\?\)/],
    ];
    for (const [dedupe, message] of cases) {
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        queue.enqueue(task, { rev: 1 }, { dedupe: dedupe as any }),
        message,
      );
    }
    await assert.rejects(
      queue.enqueue(task, { rev: 1 }, {
        delay: 10,
        dedupe: { key: "k", mode: "debounce", delay: 5 },
      }),
      /"debounce" dedupe takes no delay or runAt option/,
    );
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      queue.enqueue(task, { rev: 1 }, { dedup: { key: "k" } } as any),
      /dedup is not an option \(did you mean dedupe\?\)/,
    );
    assert.equal((await queue.counts()).waiting + (await queue.counts()).delayed, 0);
  });
});
