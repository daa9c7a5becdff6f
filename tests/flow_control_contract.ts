/**
 * Flow control through Queue and Worker, on a FakeClock, with several
 * workers sharing one store: what `storage_limits_contract.ts` proves for
 * single calls, shown to hold for a running system. Each adapter's test
 * file calls {@linkcode flowControlContract} once; its factory makes a
 * fresh, empty storage on the test's clock.
 *
 * @module
 */

import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { defineTask, Queue, RateLimitedError, type Storage, Worker } from "../mod.ts";
import { FakeClock } from "../testing.ts";

const T0 = Date.UTC(2026, 0, 5);
const SECOND = 1_000;

/** A fresh storage on `clock`, and how to drop it after the test. */
export interface FlowFixture {
  storage: Storage;
  cleanup(): Promise<void>;
}

/** `storage`, counting its reserve calls in `calls.reserves`. */
function countingReserves(storage: Storage, calls: { reserves: number }): Storage {
  return new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (key !== "reserve") return typeof value === "function" ? value.bind(target) : value;
      return (...args: Parameters<Storage["reserve"]>) => {
        calls.reserves++;
        return target.reserve(...args);
      };
    },
  });
}

/**
 * Registers the suite for one adapter under `describe(name)`.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../adapters/memory/mod.ts";
 * import { flowControlContract } from "./flow_control_contract.ts";
 *
 * flowControlContract("MemoryStorage", (clock) =>
 *   Promise.resolve({ storage: new MemoryStorage({ clock }), cleanup: () => Promise.resolve() }));
 * ```
 */
export function flowControlContract(
  name: string,
  open: (clock: FakeClock) => Promise<FlowFixture>,
): void {
  describe(`flow control on ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** A clock, a storage on it (its reserves counted), a queue, and a way to start workers. */
    async function setup() {
      const clock = new FakeClock(T0);
      const fixture = await open(clock);
      cleanups.push(() => fixture.cleanup());
      const calls = { reserves: 0 };
      const storage = countingReserves(fixture.storage, calls);
      const queue = new Queue({ storage, clock });
      const workers: Worker[] = [];
      cleanups.push(async () => {
        const stopping = Promise.all(workers.map((worker) => worker.stop({ timeout: 0 })));
        await clock.advance(10 * SECOND);
        await stopping;
      });
      const startWorkers = async (
        count: number,
        // deno-lint-ignore no-explicit-any
        tasks: any[],
        concurrency: number,
        before: (worker: Worker) => void = () => {},
      ) => {
        for (let i = 0; i < count; i++) {
          const worker = new Worker({
            storage,
            clock,
            tasks,
            concurrency,
            prefetch: 0, // starts follow the storage's order of reservations
            id: `w${i + 1}`,
          });
          workers.push(worker);
          before(worker);
          await worker.start();
        }
        await clock.flush();
      };
      return { clock, storage, queue, calls, workers, startWorkers };
    }

    test("a rate of 10 per second across 3 workers starts exactly 10 jobs in each fake second", async () => {
      const { clock, queue, calls, startWorkers } = await setup();
      const starts: number[] = [];
      const call = defineTask({
        name: "call_api",
        queue: "api",
        handler: () => void starts.push(clock.now()),
      });
      await queue.setLimits("api", { rate: { max: 10, per: SECOND } });
      await queue.enqueueMany(call, Array.from({ length: 75 }, (_, i) => i));
      await startWorkers(3, [call], 10);
      await clock.advance(8 * SECOND);
      assert.equal(starts.length, 75);
      const perSecond = new Map<number, number>();
      for (const at of starts) {
        const second = Math.floor((at - T0) / SECOND);
        perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      }
      assert.deepEqual([...perSecond], [[0, 10], [1, 10], [2, 10], [3, 10], [4, 10], [5, 10], [
        6,
        10,
      ], [7, 5]]);
      // Workers slept until the window freed (the reserve's nextAt): no polling
      // (which would reserve every poll interval). A few windows' worth per
      // worker, plus on Redis one per wake-up marker left from the enqueue
      // (at most 16 are kept, lua/marks.ts), each waking one idle worker once.
      assert.ok(calls.reserves <= 8 * 3 * 3 + 16, `${calls.reserves} reserves for 8 windows`);
    });

    test("global concurrency 5 across 3 workers at concurrency 10: never more than 5 active", async () => {
      const { clock, storage, queue, startWorkers } = await setup();
      let running = 0;
      let most = 0;
      const steps: number[] = [];
      const slow = defineTask({
        name: "slow",
        queue: "api",
        handler: async () => {
          running++;
          most = Math.max(most, running);
          await clock.sleep(100 + (running % 3) * 10);
          running--;
        },
      });
      await queue.setLimits("api", { concurrency: 5 });
      await queue.enqueueMany(slow, Array.from({ length: 60 }, (_, i) => i));
      await startWorkers(3, [slow], 10);
      for (let step = 0; step < 200; step++) {
        await clock.advance(10);
        const { active, completed } = await storage.counts("api");
        steps.push(active);
        assert.ok(active <= 5, `${active} active at step ${step}`);
        assert.ok(running <= 5, `${running} running at step ${step}`);
        if (completed === 60) break;
      }
      assert.equal((await storage.counts("api")).completed, 60);
      assert.equal(most, 5, "the limit binds: 5 ran at once");
      assert.ok(steps.includes(5));
    });

    test("fairness: one group of 10 000 and nine of 10: all nine finish within the first 100 starts", async () => {
      const { clock, queue, startWorkers } = await setup();
      const order: string[] = [];
      const work = defineTask({
        name: "tenant_work",
        queue: "tenants",
        handler: (_payload: number, ctx) => void order.push(ctx.job.group!),
      });
      await queue.enqueueMany(work, Array.from({ length: 10_000 }, (_, i) => i), { group: "big" });
      for (let g = 1; g <= 9; g++) {
        await queue.enqueueMany(work, Array.from({ length: 10 }, (_, i) => i), {
          group: `small${g}`,
        });
      }
      await startWorkers(3, [work], 10);
      for (let i = 0; i < 100 && order.length < 10_090; i++) await clock.advance(1);
      assert.equal(order.length, 10_090);
      const first100 = order.slice(0, 100);
      for (let g = 1; g <= 9; g++) {
        assert.equal(first100.filter((group) => group === `small${g}`).length, 10, `small${g}`);
      }
    });

    test("a handler's RateLimitedError holds only its group, and the attempt is not counted", async () => {
      const { clock, queue, startWorkers } = await setup();
      const runs: { group: string; at: number; attempt: number }[] = [];
      let limited = false;
      const call = defineTask({
        name: "tenant_call",
        queue: "api",
        handler: (_payload: number, ctx) => {
          if (ctx.job.group === "a" && !limited) {
            limited = true;
            throw new RateLimitedError(5 * SECOND);
          }
          runs.push({ group: ctx.job.group!, at: clock.now(), attempt: ctx.job.attempt });
        },
      });
      await queue.enqueueMany(call, [1, 2, 3], { group: "a" });
      await queue.enqueueMany(call, [1, 2, 3], { group: "b" });
      const events: { retryAfter: number; holdUntil: number }[] = [];
      await startWorkers(1, [call], 1, (worker) => {
        worker.on("rateLimited", ({ retryAfter, holdUntil }) => {
          events.push({ retryAfter, holdUntil });
        });
      });
      await clock.advance(SECOND);
      assert.deepEqual(runs.map((r) => r.group), ["b", "b", "b"], "group b ran; a is held");
      assert.equal((await queue.groups("api"))[0].heldUntil, T0 + 5 * SECOND);
      await clock.advance(4 * SECOND);
      assert.deepEqual(runs.slice(3).map((r) => [r.group, r.at, r.attempt]), [
        ["a", T0 + 5 * SECOND, 1],
        ["a", T0 + 5 * SECOND, 1],
        ["a", T0 + 5 * SECOND, 1],
      ]);
      assert.deepEqual(events, [{ retryAfter: 5 * SECOND, holdUntil: T0 + 5 * SECOND }]);
    });

    test("limits set or cleared while workers run take effect at the next reserve", async () => {
      const { clock, storage, queue, startWorkers } = await setup();
      const slow = defineTask({
        name: "slow_job",
        queue: "api",
        handler: async () => await clock.sleep(100),
      });
      await queue.enqueueMany(slow, Array.from({ length: 200 }, (_, i) => i));
      await startWorkers(3, [slow], 10);
      await clock.advance(10);
      assert.equal((await storage.counts("api")).active, 30, "no limit yet: 3 x 10");
      await queue.setLimits("api", { concurrency: 2 });
      await clock.advance(100); // the running jobs end; the next reserves see the limit
      assert.equal((await storage.counts("api")).active, 2);
      for (let i = 0; i < 5; i++) {
        await clock.advance(50);
        assert.ok((await storage.counts("api")).active <= 2);
      }
      await queue.setLimits("api", null);
      await clock.advance(1);
      assert.equal(
        (await storage.counts("api")).active,
        30,
        "cleared: the workers fill up at once",
      );
    });
  });
}
