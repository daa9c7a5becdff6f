// Stopping against a frozen redis-server (SIGSTOP): worker.stop({ timeout })
// and storage.close() return within their documented bounds (issue 10, item
// 2). Real time, bounded: the server is frozen for a few seconds at most.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { defineTask, Queue, STOP_GRACE_MS, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { startRedis } from "./_redis_server.ts";

/** Slack for a loaded 2-core machine on top of each documented bound. */
const SLACK_MS = 1_500;

describe("RedisStorage: stopping while the server is frozen", () => {
  test("worker.stop({ timeout }) and storage.close() return within their bounds", {
    timeout: 60_000,
  }, async () => {
    const server = await startRedis();
    assert.ok(server.pid, "a server of our own, to freeze");
    const storage = new RedisStorage({ url: server.url, prefix: "frozen" });
    const queue = new Queue({ storage });
    let startedResolve!: () => void;
    const started = new Promise<void>((resolve) => (startedResolve = resolve));
    const task = defineTask({
      name: "long",
      handler: (_: null, ctx) =>
        new Promise((_resolve, reject) => {
          startedResolve();
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
        }),
    });
    const worker = new Worker({ storage, tasks: [task], concurrency: 2, leaseMs: 30_000 });
    worker.on("error", () => {}); // failures while frozen are expected
    let frozen = false;
    try {
      await queue.enqueue(task, null);
      await worker.start();
      await started;
      process.kill(server.pid!, "SIGSTOP");
      frozen = true;
      const stopStart = performance.now();
      await worker.stop({ timeout: 500 });
      const stopTook = performance.now() - stopStart;
      assert.ok(
        stopTook <= 500 + STOP_GRACE_MS + SLACK_MS,
        `stop({ timeout: 500 }) took ${Math.round(stopTook)} ms`,
      );
      const closeStart = performance.now();
      await storage.close();
      const closeTook = performance.now() - closeStart;
      assert.ok(closeTook <= 1_000 + SLACK_MS, `close() took ${Math.round(closeTook)} ms`);
    } finally {
      if (frozen) process.kill(server.pid!, "SIGCONT");
      await storage.close();
      await server.stop();
    }
  });
});
