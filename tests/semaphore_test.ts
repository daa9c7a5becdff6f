import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Semaphore } from "../mod.ts";

/** A small deterministic PRNG (mulberry32), so storms are reproducible. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("Semaphore", () => {
  test("grants up to its limit at once, then queues", async () => {
    const semaphore = new Semaphore(2);
    await semaphore.acquire();
    await semaphore.acquire();
    assert.equal(semaphore.available, 0);
    assert.equal(semaphore.tryAcquire(), false);
    let third = false;
    const pending = semaphore.acquire().then(() => (third = true));
    await Promise.resolve();
    assert.equal(third, false);
    assert.equal(semaphore.waiting, 1);
    semaphore.release();
    await pending;
    assert.equal(third, true);
    assert.equal(semaphore.held, 2);
  });

  test("serves waiters first in, first out", async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const order: number[] = [];
    const waits = [1, 2, 3, 4].map((n) => semaphore.acquire().then(() => order.push(n)));
    for (let i = 0; i < 4; i++) {
      semaphore.release();
      await waits[i];
    }
    assert.deepEqual(order, [1, 2, 3, 4]);
  });

  test("an aborted waiter leaves the line without taking a permit", async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const controller = new AbortController();
    const aborted = semaphore.acquire(controller.signal);
    const next = semaphore.acquire();
    controller.abort(new Error("gave up"));
    await assert.rejects(aborted, { message: "gave up" });
    assert.equal(semaphore.waiting, 1);
    semaphore.release();
    await next;
    assert.equal(semaphore.held, 1);
  });

  test("acquire with an already-aborted signal rejects at once", async () => {
    const semaphore = new Semaphore(3);
    await assert.rejects(semaphore.acquire(AbortSignal.abort(new Error("no"))), { message: "no" });
    assert.equal(semaphore.held, 0);
  });

  test("release without acquire throws", () => {
    assert.throws(() => new Semaphore(1).release(), /more times than acquire/);
  });

  test("rejects a limit below 1 or not an integer", () => {
    assert.throws(() => new Semaphore(0), RangeError);
    assert.throws(() => new Semaphore(1.5), TypeError);
  });

  test("run() releases even when the function throws", async () => {
    const semaphore = new Semaphore(1);
    await assert.rejects(semaphore.run(() => Promise.reject(new Error("boom"))), {
      message: "boom",
    });
    assert.equal(semaphore.held, 0);
  });

  test("a storm of acquire, release and abort never exceeds the limit and loses no permit", async () => {
    const random = prng(42);
    const limit = 7;
    const semaphore = new Semaphore(limit);
    let inside = 0;
    let maxInside = 0;
    let completed = 0;
    let aborted = 0;
    const tasks: Promise<void>[] = [];
    for (let i = 0; i < 2_000; i++) {
      const controller = new AbortController();
      const willAbort = random() < 0.2;
      tasks.push(
        semaphore.run(async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          assert.ok(inside <= limit, `inside ${inside} > limit ${limit}`);
          const turns = Math.floor(random() * 4);
          for (let t = 0; t < turns; t++) await Promise.resolve();
          inside--;
          completed++;
        }, controller.signal).catch(() => {
          aborted++;
        }),
      );
      if (willAbort) {
        if (random() < 0.5) controller.abort();
        else queueMicrotask(() => controller.abort());
      }
      if (random() < 0.3) await Promise.resolve();
    }
    await Promise.all(tasks);
    assert.equal(completed + aborted, 2_000);
    assert.ok(aborted > 0, "some acquisitions were aborted");
    assert.equal(maxInside, limit);
    assert.equal(semaphore.held, 0);
    assert.equal(semaphore.waiting, 0);
  });
});
