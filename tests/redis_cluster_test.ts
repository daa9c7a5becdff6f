// RedisStorage through an ioredis Cluster client against a local 3-master
// Redis Cluster that this file starts (and stops). The storage contract runs
// with the shared tag and with per-queue tags; a CROSSSLOT error would fail
// it. If the cluster cannot start, the file fails: never skipped.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Cluster, Redis } from "ioredis";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { storageContract } from "./storage_contract.ts";
import { storageDedupeContract } from "./storage_dedupe_contract.ts";
import { type EventsFixtureOptions, storageEventsContract } from "./storage_events_contract.ts";
import { storageSchedulesContract } from "./storage_schedules_contract.ts";
import { storageLimitsContract } from "./storage_limits_contract.ts";
import { dedupeEntries, startRedisCluster } from "./_redis_server.ts";

const cluster = await startRedisCluster();
const admin = new Cluster(cluster.nodes);
let prefixes = 0;

after(async () => {
  await admin.quit();
  await cluster.stop();
});

function uniquePrefix(): string {
  return `cl${process.pid}x${++prefixes}`;
}

for (const queueTags of [false, true]) {
  storageEventsContract(
    `RedisStorage on Cluster${queueTags ? " (queueTags)" : ""}`,
    (options: EventsFixtureOptions = {}) => {
      const client = new Cluster(cluster.nodes);
      const storage = new RedisStorage({ client, prefix: uniquePrefix(), queueTags, ...options });
      return Promise.resolve({
        storage,
        cleanup: async () => {
          await storage.close();
          await client.quit();
        },
        backlogSlack: 100, // XADD MINID ~ trims whole stream nodes (up to 100 entries each)
      });
    },
  );
  const open = () => {
    const prefix = uniquePrefix();
    const client = new Cluster(cluster.nodes);
    const storage = new RedisStorage({ client, prefix, queueTags });
    return Promise.resolve({
      storage,
      // The cluster is thrown away after the run; unique prefixes isolate tests.
      cleanup: async () => {
        await storage.close();
        await client.quit();
      },
      corrupt: async (id: string) => {
        let tag = `{${prefix}}`;
        if (queueTags) tag = `{${prefix}:${await admin.hget(`{${prefix}}:ids`, id)}}`;
        assert.equal(await admin.hset(`${tag}:job:${id}`, "payload", "{not json"), 0);
      },
      dedupeEntries: (queue: string) => dedupeEntries(admin, prefix, queueTags, queue),
    });
  };
  const name = `RedisStorage on Cluster${queueTags ? " (queueTags)" : ""}`;
  storageDedupeContract(name, open);
  storageSchedulesContract(name, open);
  storageContract(name, open);
  storageLimitsContract(name, open);
}

/** The master port serving `key`'s slot. */
async function portOf(key: string): Promise<number> {
  const slot = await admin.cluster("KEYSLOT", key) as number;
  const slots = await admin.cluster("SLOTS");
  const range = slots.find(([from, to]) => slot >= from && slot <= to);
  assert.ok(range, `no node serves slot ${slot}`);
  return range[2][1];
}

describe("RedisStorage on Cluster", () => {
  test("with queueTags, two queues land on different nodes and both work", async () => {
    const prefix = uniquePrefix();
    // Find two queue names whose tags hash to slots on different masters.
    const names = Array.from({ length: 30 }, (_, i) => `q${i}`);
    const ports = await Promise.all(names.map((q) => portOf(`{${prefix}:${q}}:seq`)));
    const second = ports.findIndex((port) => port !== ports[0]);
    assert.ok(second > 0, "every queue landed on one node");
    const [qa, qb] = [names[0], names[second]];

    const client = new Cluster(cluster.nodes);
    const storage = new RedisStorage({ client, prefix, queueTags: true });
    try {
      const now = 1_000;
      const base = { name: "t", payload: 1, priority: 0, maxAttempts: 1, maxStalls: 0, timeout: 0 };
      await storage.enqueue([
        { ...base, id: "a", queue: qa, runAt: now },
        { ...base, id: "b", queue: qb, runAt: now },
      ], now);
      for (const [id, queue, port] of [["a", qa, ports[0]], ["b", qb, ports[second]]] as const) {
        const node = new Redis({ host: "127.0.0.1", port });
        try {
          assert.equal(await node.exists(`{${prefix}:${queue}}:job:${id}`), 1);
        } finally {
          await node.quit();
        }
      }
      const { jobs } = await storage.reserve({
        queues: [qb, qa],
        limit: 5,
        owner: "w",
        leaseMs: 1_000,
        now,
      });
      assert.deepEqual(jobs.map((j) => j.id), ["b", "a"]);
      const applied = await storage.settle(
        jobs.map((j) => ({ kind: "complete", id: j.id, token: j.lease!.token })),
        { now },
      );
      assert.deepEqual(applied, [true, true]);
      assert.equal((await storage.getJob("a"))?.state, "completed");
      assert.equal((await storage.counts(qb)).completed, 1);
      const woken = storage.waitForWork([qa, qb], 5_000, new AbortController().signal);
      await storage.enqueue([{ ...base, id: "c", queue: qb, runAt: now }], now);
      await woken;
    } finally {
      await storage.close();
      await client.quit();
    }
  });
});
