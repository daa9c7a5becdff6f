// Handlers that misbehave (bad results, odd throws) are recorded readably on a
// real redis-server, and the worker goes on. Their outcomes on FakeClock and
// MemoryStorage are in worker_test.ts.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defineTask, Queue, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import {
  type AnyTask,
  collect,
  rejectionCounter,
  sleep,
  startBadInputRedis,
  uniquePrefix,
  waitUntil,
} from "./_bad_input.ts";

const { server } = await startBadInputRedis();

describe("Redis: handlers that misbehave are recorded readably; the worker goes on", () => {
  test(
    "non-Error throws, never resolving, resolving late, non-JSON results",
    { timeout: 30_000 },
    async () => {
      const prefix = uniquePrefix();
      const storage = new RedisStorage({ url: server.url, prefix });
      const queue = new Queue({ storage });
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const lateResults: string[] = [];
      const t = (name: string, handler: (p: unknown) => unknown, timeout = 0): AnyTask =>
        defineTask({ name, maxAttempts: 1, timeout, handler });
      const cases: [AnyTask, string, RegExp][] = [
        [t("throws_string", () => Promise.reject("disk full")), "NonError", /^disk full$/],
        [
          t("throws_object", () => {
            throw { code: 42, detail: "nope" };
          }),
          "NonError",
          /^Non-error thrown: \{"code":42,"detail":"nope"\}$/,
        ],
        [
          t("throws_undefined", () => {
            throw undefined;
          }),
          "NonError",
          /^undefined was thrown$/,
        ],
        [
          t("throws_null", () => {
            throw null;
          }),
          "NonError",
          /^Non-error thrown: null$/,
        ],
        [
          t("throws_cycle", () => {
            throw cyclic;
          }),
          "NonError",
          /^Non-error thrown: \[object Object\]$/,
        ],
        [t("throws_number", () => Promise.reject(404)), "NonError", /^Non-error thrown: 404$/],
        [t("never_resolves", () => new Promise(() => {}), 300), "JobTimeoutError", /300 ms/],
        [
          t("resolves_late", async () => {
            await sleep(700);
            lateResults.push("late");
            return "late result";
          }, 200),
          "JobTimeoutError",
          /^Job timed out after 200 ms$/,
        ],
        [t("returns_bigint", () => 7n), "TypeError", /^Cannot store result: result is a BigInt/],
        [
          t("returns_function", () => ({ ok: true, next: () => 0 })),
          "TypeError",
          /^Cannot store result: result\.next is a function$/,
        ],
        [
          t("returns_cycle", () => cyclic),
          "TypeError",
          /^Cannot store result: result\.self is a circular reference$/,
        ],
        [
          t("returns_map", () => new Map([[1, 2]])),
          "TypeError",
          /result is a Map instance, not a plain object$/,
        ],
        [t("returns_symbol", () => Symbol("s")), "TypeError", /result is a symbol$/],
        [t("returns_nan", () => ({ score: Number.NaN })), "TypeError", /result\.score is NaN/],
      ];
      const fine = t("fine", (p) => p);
      const worker = new Worker({
        storage,
        tasks: [...cases.map(([task]) => task), fine],
        queues: ["default"],
        concurrency: 4,
        idleWaitMs: 200,
      });
      const errors = collect(worker, "error");
      const rejections = rejectionCounter();
      await worker.start();
      try {
        const ids = new Map<string, string>();
        for (const [task] of cases) ids.set(task.name, (await queue.enqueue(task, null)).id);
        await waitUntil(
          "every misbehaving job to fail",
          async () => (await queue.counts()).failed === cases.length,
          15_000,
        );
        const after = await queue.enqueue(fine, { still: "working" });
        assert.deepEqual(await queue.result(after.id, { timeout: 5_000 }), { still: "working" });
        await waitUntil(
          "the late handler to finish",
          () => Promise.resolve(lateResults.length === 1),
          5_000,
        );
        await sleep(200); // its outcome, if anything kept it, would be stored by now
        for (const [task, name, message] of cases) {
          const job = await queue.getJob(ids.get(task.name)!);
          assert.equal(job?.state, "failed", task.name);
          assert.equal(job.error?.name, name, task.name);
          assert.match(job.error!.message, message, task.name);
          assert.equal(job.result, undefined, `${task.name} stored no result`);
          assert.equal(job.errors.length, 1, task.name);
        }
        assert.deepEqual(await queue.counts(), {
          waiting: 0,
          delayed: 0,
          active: 0,
          completed: 1,
          failed: cases.length,
        });
        assert.deepEqual(errors, []);
        assert.deepEqual(rejections.reasons, [], "no unhandled rejection");
        assert.equal(worker.health().healthy, true);
      } finally {
        rejections.dispose();
        await worker.stop();
        await storage.close();
      }
    },
  );
});
