// Connections that fail give clear errors, no unhandled rejection and no
// password: a wrong password, nothing listening, and a redis-server that dies
// mid-batch (no job lost, the worker resumes when it is back).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { defineTask, Queue, StorageError, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { freePort, type RedisServer, startRedis } from "./_redis_server.ts";
import {
  collect,
  errorText,
  rejectionCounter,
  sendEmail,
  sleep,
  uniquePrefix,
  waitUntil,
} from "./_bad_input.ts";

describe("Redis: connections that fail give clear errors, no unhandled rejection, no password", () => {
  async function failingWorker(url: string, password: string) {
    const storage = new RedisStorage({ url, prefix: uniquePrefix() });
    const queue = new Queue({ storage });
    const worker = new Worker({
      storage,
      tasks: [sendEmail],
      leaseMs: 1_000,
      heartbeatMs: 200,
      idleWaitMs: 200,
    });
    const errors = collect(worker, "error");
    const rejections = rejectionCounter();
    await worker.start();
    await waitUntil("two error events", () => Promise.resolve(errors.length >= 2), 10_000);
    const enqueueError = await queue.enqueue(sendEmail, { to: "x" }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(enqueueError instanceof StorageError, `enqueue: ${enqueueError}`);
    assert.equal(worker.health().healthy, false);
    assert.ok(worker.health().storageFailures >= 1);
    const started = Date.now();
    await worker.stop({ timeout: 1_000 });
    assert.ok(Date.now() - started < 8_000, "stop() took too long");
    await storage.close();
    await sleep(100);
    rejections.dispose();
    assert.deepEqual(rejections.reasons, [], "no unhandled rejection");
    for (const { error, during } of errors) {
      assert.ok(error instanceof StorageError, `${during}: ${error}`);
      assert.match(error.message, /^Cannot /, error.message);
    }
    for (const text of [...errors.map((e) => errorText(e.error)), errorText(enqueueError)]) {
      assert.ok(!text.includes(password), `the password leaked: ${text}`);
    }
    return { errors, enqueueError: enqueueError as StorageError };
  }

  test("wrong password: every error says so, with the URL's password masked", {
    timeout: 30_000,
  }, async () => {
    const secured = await startRedis({ args: ["--requirepass", "the-right-one"] });
    try {
      const password = "Wr0ng-P4ss-xyz";
      const { errors, enqueueError } = await failingWorker(
        `redis://app:${password}@127.0.0.1:${secured.port}`,
        password,
      );
      for (const error of [...errors.map((e) => e.error as Error), enqueueError]) {
        assert.match(error.message, /WRONGPASS|NOAUTH|invalid username-password/i);
      }
      assert.ok(errors.some((e) => e.during === "reserve"));
      assert.match(enqueueError.message, /redis:\/\/app:\*\*\*@127\.0\.0\.1/);
      const authed = new Redis({ port: secured.port, password: "the-right-one" });
      assert.equal(await authed.dbsize(), 0, "nothing stored");
      authed.disconnect();
    } finally {
      await secured.stop();
    }
  });

  test("wrong port (nothing listening): errors name the refused connection", {
    timeout: 30_000,
  }, async () => {
    const port = await freePort();
    const password = "p0rt-secret-123";
    const { errors, enqueueError } = await failingWorker(
      `redis://:${password}@127.0.0.1:${port}`,
      password,
    );
    for (const error of [...errors.map((e) => e.error as Error), enqueueError]) {
      assert.match(error.message, /ECONNREFUSED|connect|Connection is closed/i, error.message);
    }
  });

  test("Redis dies mid-batch: error events, no loss, and the worker resumes when it is back", {
    timeout: 90_000,
  }, async () => {
    const password = "mid-batch-s3cret";
    const args = ["--requirepass", password, "--appendfsync", "everysec"];
    const dir = await mkdtemp(join(tmpdir(), "taskmill-bad-"));
    let redis: RedisServer = await startRedis({ appendonly: true, dir, args });
    const url = `redis://:${password}@127.0.0.1:${redis.port}`;
    const storage = new RedisStorage({ url, prefix: "die" });
    const queue = new Queue({ storage });
    const runs = new Map<string, number>();
    const slow = defineTask({
      name: "slow",
      maxAttempts: 10,
      maxStalls: 10,
      handler: async (_p: null, ctx) => {
        runs.set(ctx.job.id, (runs.get(ctx.job.id) ?? 0) + 1);
        await sleep(15);
      },
    });
    const worker = new Worker({
      storage,
      tasks: [slow],
      concurrency: 10,
      leaseMs: 3_000,
      idleWaitMs: 500,
      retention: { completed: { count: 1_000_000, age: 3_600_000 } },
    });
    const errors = collect(worker, "error");
    const rejections = rejectionCounter();
    const total = 300;
    try {
      const ids = (await queue.enqueueMany(slow, Array.from({ length: total }, () => null)))
        .map((j) => j.id);
      await worker.start();
      await waitUntil("some progress", async () => (await queue.counts()).completed >= 40, 20_000);
      await redis.stop(); // SIGTERM: the AOF is flushed; in-flight calls fail
      await waitUntil("error events", () => Promise.resolve(errors.length >= 2), 15_000);
      const outage = await queue.counts().then(() => null, (e: unknown) => e);
      assert.ok(outage instanceof StorageError, `counts() during the outage: ${outage}`);
      assert.equal(worker.health().healthy, false);
      await sleep(300);
      redis = await startRedis({ appendonly: true, dir, args, port: redis.port });
      await waitUntil(
        `all ${total} completed after the restart`,
        async () => (await queue.counts()).completed === total,
        45_000,
      );
      assert.deepEqual(await queue.counts(), {
        waiting: 0,
        delayed: 0,
        active: 0,
        completed: total,
        failed: 0,
      });
      assert.deepEqual(ids.filter((id) => !runs.has(id)), [], "every job ran");
      await waitUntil("a healthy worker", () => Promise.resolve(worker.health().healthy), 10_000);
      assert.equal(worker.state, "running");
      for (const { error, during } of errors) {
        assert.ok(error instanceof StorageError, `${during}: ${error}`);
        assert.ok(!errorText(error).includes(password), errorText(error));
      }
      assert.ok(!errorText(outage).includes(password));
      assert.deepEqual(rejections.reasons, [], "no unhandled rejection");
    } finally {
      rejections.dispose();
      await worker.stop({ timeout: 2_000 });
      await storage.close();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
