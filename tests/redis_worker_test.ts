// Workers on RedisStorage against a real redis-server that this file starts
// on a free loopback port: how the worker's idle waits, fetch loop and
// startup checks behave on Redis (connections, ACL refusals, quarantined
// records, server warnings, clock skew). If redis-server cannot start, the
// file fails: never skipped.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Redis } from "ioredis";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { StorageError, StorageWarning } from "../core/errors.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { FakeClock } from "../core/fake_clock.ts";
import type { Storage } from "../core/storage.ts";
import { defineTask, Queue, Worker, type WorkerEvents } from "../mod.ts";
import { dropPrefix, startRedis } from "./_redis_server.ts";

const server = await startRedis();
const admin = new Redis(server.url);
let prefixes = 0;

after(async () => {
  await admin.quit();
  await server.stop();
});

function uniquePrefix(): string {
  return `tw${process.pid}x${++prefixes}`;
}

/** `promise`, or a rejection naming `what` once `ms` of real time passed (a safety net only). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The storage with a count of calls per method (the calls still go to Redis). */
function counted(
  storage: Storage,
): { storage: Storage; calls: Map<string, number>; last: Map<string, unknown> } {
  const calls = new Map<string, number>();
  const last = new Map<string, unknown>();
  const proxy = new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
        const returned = value.apply(target, args);
        last.set(String(key), returned);
        return returned;
      };
    },
  });
  return { storage: proxy, calls, last };
}

/** Resolves with the next event `name` of `worker` that passes `filter`. */
function nextEvent<K extends keyof WorkerEvents>(
  worker: Worker,
  name: K,
  filter: (event: WorkerEvents[K]) => boolean = () => true,
): Promise<WorkerEvents[K]> {
  return new Promise((resolve) => {
    const off = worker.on(name, (event) => {
      if (!filter(event)) return;
      off();
      resolve(event);
    });
  });
}

async function connectionsReceived(): Promise<number> {
  const info = await admin.info("stats");
  return Number(/^total_connections_received:(\d+)/m.exec(info)![1]);
}

const noop = defineTask({ name: "noop", handler: () => {} });

describe("Worker on RedisStorage", () => {
  test("an idle worker's waits for delayed jobs coming due reuse one blocking connection", async () => {
    const prefix = uniquePrefix();
    const storage = new RedisStorage({ url: server.url, prefix });
    const queue = new Queue({ storage });
    const worker = new Worker({ storage, tasks: [noop] });
    const n = 20;
    let done = 0;
    const all = new Promise<void>((resolve) => {
      worker.on("completed", () => {
        if (++done === n) resolve();
      });
    });
    try {
      await queue.counts("default"); // the main connection
      const before = await connectionsReceived();
      // Delayed jobs 30 ms apart: every idle wait ends on the next one's timer.
      for (let i = 0; i < n; i++) await queue.enqueue(noop, i, { delay: 100 + 30 * i });
      await worker.start();
      await within(all, 20_000, `${n} delayed jobs to complete`);
      const opened = (await connectionsReceived()) - before;
      assert.ok(opened <= 1, `the worker opened ${opened} connections for ${n} idle waits`);
    } finally {
      await worker.stop();
      await storage.close();
      await dropPrefix(admin, prefix);
    }
  });

  test("a reserve short of its batch because records were quarantined does not make the worker idle", async () => {
    const prefix = uniquePrefix();
    const clock = new FakeClock();
    const storage = new RedisStorage({ url: server.url, prefix });
    const queue = new Queue({ storage, clock });
    // idleWaitMs 60 s: a worker that took a short batch for "queue empty"
    // would wait that long (or until the next lease expiry) for each batch.
    const worker = new Worker({
      storage,
      clock,
      tasks: [noop],
      concurrency: 10,
      idleWaitMs: 60_000,
    });
    const n = 200;
    try {
      const jobs = await queue.enqueueMany(noop, Array.from({ length: n }, (_, i) => i));
      // Half the job hashes vanish (evicted, deleted by hand); so do the
      // wake-up markers, so only the fetch loop can find the rest.
      for (let i = 0; i < n; i += 2) await admin.del(`{${prefix}}:job:${jobs[i].id}`);
      await admin.del(`{${prefix}}:q:default:mark`);
      let completed = 0;
      const all = new Promise<void>((resolve) => {
        worker.on("completed", () => {
          if (++completed === n / 2) resolve();
        });
      });
      await worker.start();
      await within(all, 10_000, `the ${n / 2} intact jobs to complete`);
      assert.equal((await queue.counts("default")).failed, n / 2);
    } finally {
      await worker.stop();
      await storage.close();
      await dropPrefix(admin, prefix);
    }
  });

  test("an idle wait refused by ACL is an error event, backs off and counts as a storage failure", async () => {
    const user = `wnoblpop${process.pid}`;
    const password = "acl-secret-worker-99";
    await admin.acl("SETUSER", user, "reset", "on", `>${password}`, "~*", "&*", "+@all", "-blpop");
    const prefix = uniquePrefix();
    const clock = new FakeClock();
    const redis = new RedisStorage({
      url: `redis://${user}:${password}@127.0.0.1:${server.port}`,
      prefix,
    });
    const { storage, calls } = counted(redis);
    const worker = new Worker({ storage, clock, tasks: [noop] });
    const waitFailed = () =>
      within(
        nextEvent(worker, "error", (e) => e.during === "wait for work"),
        10_000,
        "an error event during wait for work",
      );
    try {
      let failed = waitFailed();
      await worker.start();
      const first = await failed;
      assert.ok(first.error instanceof StorageError, `got ${first.error}`);
      assert.match((first.error as Error).message, /may not run BLPOP; grant it with ACL SETUSER/);
      assert.ok(!(first.error as Error).message.includes(password));
      assert.equal(worker.health().healthy, false);
      assert.equal(worker.health().storageFailures, 1);
      assert.equal(calls.get("reserve"), 1);
      // Backing off on the fake clock: no storage call until it moves 100 ms.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(calls.get("reserve"), 1);
      failed = waitFailed();
      await clock.advance(100);
      await failed;
      assert.equal(calls.get("reserve"), 2);
      assert.equal(worker.health().storageFailures, 2);
      // The second backoff is twice as long.
      await clock.advance(199);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(calls.get("reserve"), 2);
      failed = waitFailed();
      await clock.advance(1);
      await failed;
      assert.equal(calls.get("reserve"), 3);
    } finally {
      await worker.stop();
      await redis.close();
      await admin.acl("DELUSER", user);
      await dropPrefix(admin, prefix);
    }
  });

  test("a worker warns when the Redis server may evict keys", async () => {
    const evicting = await startRedis({ args: ["--maxmemory-policy", "allkeys-lru"] });
    const storage = new RedisStorage({ url: evicting.url, onWarning: () => {} });
    const worker = new Worker({ storage, tasks: [noop] });
    try {
      const warned = within(
        nextEvent(worker, "error", (e) => e.during === "storage check"),
        10_000,
        "an error event during storage check",
      );
      await worker.start();
      const { error } = await warned;
      assert.ok(error instanceof StorageWarning, `got ${error}`);
      assert.equal(error.code, "eviction-policy");
      assert.match(error.message, /maxmemory-policy allkeys-lru/);
    } finally {
      await worker.stop();
      await storage.close();
      await evicting.stop();
    }
  });

  test("a worker whose clock is off by more than half of lease minus heartbeat warns", async () => {
    const prefix = uniquePrefix();
    const ahead: Clock = { now: () => Date.now() + 4_000, sleep: systemClock.sleep };
    const storage = new RedisStorage({ url: server.url, prefix });
    // Lease 5 s, heartbeat 1 667 ms: a lease holds against 3 333 ms of skew at most.
    const worker = new Worker({ storage, clock: ahead, tasks: [noop], leaseMs: 5_000 });
    try {
      const warned = within(
        nextEvent(worker, "error", (e) => e.during === "clock skew"),
        10_000,
        "an error event during clock skew",
      );
      await worker.start();
      const { error } = await warned;
      assert.ok(error instanceof StorageWarning, `got ${error}`);
      assert.equal(error.code, "clock-skew");
      assert.match(error.message, /ahead of the storage's clock by (39|40|41)\d\d ms/);
      assert.match(error.message, /leaseMs 5000 - heartbeatMs 1666 = 3334 ms/);
    } finally {
      await worker.stop();
      await storage.close();
      await dropPrefix(admin, prefix);
    }
  });

  test("the same skew within a long lease's bound is no warning", async () => {
    const prefix = uniquePrefix();
    const ahead: Clock = { now: () => Date.now() + 4_000, sleep: systemClock.sleep };
    const { storage, last } = counted(new RedisStorage({ url: server.url, prefix }));
    // Lease 30 s, heartbeat 10 s: 20 s of skew at most; 4 s is well within.
    const worker = new Worker({ storage, clock: ahead, tasks: [noop], leaseMs: 30_000 });
    const errors: WorkerEvents["error"][] = [];
    worker.on("error", (e) => void errors.push(e));
    try {
      await worker.start();
      while (!last.has("serverTime")) await new Promise((r) => setTimeout(r, 5));
      await last.get("serverTime");
      for (let i = 0; i < 10; i++) await Promise.resolve();
      assert.deepEqual(errors, []);
    } finally {
      await worker.stop();
      await storage.close();
      await dropPrefix(admin, prefix);
    }
  });

  test("skew is measured again on heartbeats, at most once a minute", async () => {
    const prefix = uniquePrefix();
    // Starts in step with Redis' clock, then runs a minute ahead of it: a
    // FakeClock's time, in a clock that is not manual (skew is not measured
    // on a manual clock, whose time is fake on purpose).
    const clock = new FakeClock(Date.now());
    const drifting: Clock = { now: () => clock.now(), sleep: (ms, s) => clock.sleep(ms, s) };
    const { storage, calls, last } = counted(new RedisStorage({ url: server.url, prefix }));
    const worker = new Worker({ storage, clock: drifting, tasks: [noop], leaseMs: 30_000 });
    const skews: WorkerEvents["error"][] = [];
    worker.on("error", (e) => void (e.during === "clock skew" && skews.push(e)));
    try {
      await worker.start();
      while (!last.has("serverTime")) await new Promise((r) => setTimeout(r, 5));
      await last.get("serverTime");
      assert.equal(calls.get("serverTime"), 1);
      await clock.advance(50_000); // five heartbeats
      assert.equal(calls.get("serverTime"), 1);
      const warned = within(
        nextEvent(worker, "error", (e) => e.during === "clock skew"),
        10_000,
        "an error event during clock skew",
      );
      await clock.advance(10_000);
      await warned;
      assert.equal(calls.get("serverTime"), 2);
      assert.equal(skews.length, 1);
    } finally {
      await worker.stop();
      await storage.close();
      await dropPrefix(admin, prefix);
    }
  });

  test("on a FakeClock (a manual clock, off on purpose) skew is not measured", async () => {
    const prefix = uniquePrefix();
    const clock = new FakeClock(); // 2026-01-01: far from the server's clock
    const { storage, calls } = counted(new RedisStorage({ url: server.url, prefix }));
    const worker = new Worker({ storage, clock, tasks: [noop], leaseMs: 30_000 });
    const errors: WorkerEvents["error"][] = [];
    worker.on("error", (e) => void errors.push(e));
    try {
      await worker.start();
      await clock.advance(120_000); // twelve heartbeats, two minutes
      assert.equal(calls.get("serverTime") ?? 0, 0);
      assert.deepEqual(errors.map((e) => e.during), []);
    } finally {
      await worker.stop();
      await storage.close();
      await dropPrefix(admin, prefix);
    }
  });
});
