// RedisStorage against a real redis-server that this file starts on a free
// loopback port (or REDIS_URL): the storage contract, with the shared tag and
// with per-queue tags, plus what only Redis has (round trips, connections,
// credentials). If redis-server cannot start, the file fails: never skipped.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Redis } from "ioredis";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { StorageError, StorageWarning } from "../core/errors.ts";
import type { NewJob } from "../core/storage.ts";
import { storageContract } from "./storage_contract.ts";
import { storageInputContract } from "./storage_input_contract.ts";
import { storageDedupeContract } from "./storage_dedupe_contract.ts";
import { type EventsFixtureOptions, storageEventsContract } from "./storage_events_contract.ts";
import { storageSchedulesContract } from "./storage_schedules_contract.ts";
import { storageLimitsContract } from "./storage_limits_contract.ts";
import { countingClient, dedupeEntries, dropPrefix, startRedis } from "./_redis_server.ts";

const server = await startRedis();
const admin = new Redis(server.url);
let prefixes = 0;

after(async () => {
  await admin.quit();
  await server.stop();
});

/** Events a Redis stream may keep beyond its backlog: one stream node of 100 one-event entries. */
const REDIS_BACKLOG_SLACK = 100;

function uniquePrefix(): string {
  return `tm${process.pid}x${++prefixes}`;
}

/** Overwrites a stored job's payload with text that is not JSON. */
async function corruptJob(prefix: string, id: string, queueTags: boolean): Promise<void> {
  let tag = `{${prefix}}`;
  if (queueTags) tag = `{${prefix}:${await admin.hget(`{${prefix}}:ids`, id)}}`;
  const key = `${tag}:job:${id}`;
  assert.equal(await admin.exists(key), 1, `no job hash at ${key}`);
  await admin.hset(key, "payload", "{not json");
}

for (const queueTags of [false, true]) {
  const name = `RedisStorage${queueTags ? " (queueTags)" : ""}`;
  const open = () => {
    const prefix = uniquePrefix();
    const storage = new RedisStorage({ url: server.url, prefix, queueTags });
    return Promise.resolve({
      storage,
      cleanup: async () => {
        await storage.close();
        await dropPrefix(admin, prefix);
      },
      corrupt: (id: string) => corruptJob(prefix, id, queueTags),
      dedupeEntries: (queue: string) => dedupeEntries(admin, prefix, queueTags, queue),
    });
  };
  storageContract(name, open);
  storageInputContract(name, open);
  storageSchedulesContract(name, open);
  storageDedupeContract(name, open);
  storageLimitsContract(name, open);
  storageEventsContract(name, (options: EventsFixtureOptions = {}) => {
    const prefix = uniquePrefix();
    const storage = new RedisStorage({ url: server.url, prefix, queueTags, ...options });
    return Promise.resolve({
      storage,
      cleanup: async () => {
        await storage.close();
        await dropPrefix(admin, prefix);
      },
      // XADD MINID ~ trims whole stream nodes (up to 100 entries each).
      backlogSlack: REDIS_BACKLOG_SLACK,
    });
  });
}

function job(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: "t",
    queue: "q",
    payload: { id },
    priority: 0,
    maxAttempts: 3,
    maxStalls: 1,
    timeout: 0,
    runAt: 1_000,
    ...overrides,
  };
}

async function commandStats(): Promise<Map<string, number>> {
  const info = await admin.info("commandstats");
  const stats = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    stats.set(match[1], Number(match[2]));
  }
  return stats;
}

describe("RedisStorage on Redis", () => {
  test("each operation is one round trip: one EVALSHA for a reserve of 50 jobs", async () => {
    const { client, sent } = countingClient(server.url);
    const storage = new RedisStorage({ client, prefix: uniquePrefix() });
    try {
      const jobs = Array.from({ length: 50 }, (_, i) => job(`j${i}`));
      await storage.enqueue(jobs, 1_000); // loads the scripts (NOSCRIPT -> EVAL) the first time
      await storage.counts("q");
      sent.length = 0;
      const before = await commandStats();
      const reserved = await storage.reserve({
        queues: ["q", "other"],
        limit: 50,
        owner: "w",
        leaseMs: 30_000,
        now: 1_000,
      });
      const afterStats = await commandStats();
      assert.equal(reserved.jobs.length, 50);
      assert.deepEqual(sent, ["evalsha"]);
      assert.equal((afterStats.get("evalsha") ?? 0) - (before.get("evalsha") ?? 0), 1);
      assert.equal((afterStats.get("eval") ?? 0) - (before.get("eval") ?? 0), 0);

      sent.length = 0;
      const settled = await storage.settle(
        reserved.jobs.map((j) => ({ kind: "complete", id: j.id, token: j.lease!.token })),
        {
          now: 1_001,
          retention: {
            completed: { count: 10, age: 60_000 },
            failed: { count: 10, age: 60_000 },
          },
        },
      );
      assert.ok(settled.every(Boolean));
      assert.deepEqual(sent, ["evalsha"]);
      assert.equal((await storage.counts("q")).completed, 10);

      sent.length = 0;
      await storage.enqueue(jobs.map((j) => ({ ...j, id: `n${j.id}` })), 1_002);
      const more = await storage.reserve({
        queues: ["q"],
        limit: 50,
        owner: "w",
        leaseMs: 30_000,
        now: 1_002,
      });
      await storage.extendLeases(
        more.jobs.map((j) => ({ id: j.id, token: j.lease!.token })),
        30_000,
        1_003,
      );
      await storage.getJob("nj1");
      await storage.list("q", "active");
      assert.deepEqual(sent, ["evalsha", "evalsha", "evalsha", "hmget", "evalsha"]);
    } finally {
      await storage.close();
      await client.quit();
    }
  });

  test("enqueue refuses a queue name Queue would refuse, before storing anything", async () => {
    const prefix = uniquePrefix();
    for (const queueTags of [false, true]) {
      const storage = new RedisStorage({ url: server.url, prefix, queueTags });
      const keys = await admin.dbsize();
      try {
        await assert.rejects(
          storage.enqueue([job("a"), job("b", { queue: "q|x" })], 1_000),
          {
            name: "RangeError",
            message: 'Cannot enqueue jobs: jobs[1].queue "q|x" may only contain A-Z a-z 0-9 _ . -',
          },
        );
        assert.equal(await storage.getJob("a"), null);
        assert.equal(await admin.dbsize(), keys, "no key was written");
      } finally {
        await storage.close();
      }
    }
  });

  test("enqueue refuses ids that are not well-formed Unicode: they would share one key", async () => {
    const prefix = uniquePrefix();
    for (const queueTags of [false, true]) {
      const storage = new RedisStorage({ url: server.url, prefix, queueTags });
      const keys = await admin.dbsize();
      try {
        // Both encode to the same UTF-8 bytes (U+FFFD), so Redis would see one id.
        for (const id of ["s\uD800", "s\uDBFF"]) {
          await assert.rejects(storage.enqueue([job("ok"), job(id)], 1_000), {
            name: "RangeError",
            message: new RegExp(
              `^Cannot enqueue jobs: jobs\\[1\\]\\.id is not well-formed Unicode: a lone surrogate`,
            ),
          });
        }
        assert.equal(await storage.getJob("ok"), null);
        assert.equal(await admin.dbsize(), keys, "no key was written");
      } finally {
        await storage.close();
      }
    }
  });

  test("a big enqueue keeps order and first-wins ids, repeated or already stored", async () => {
    const prefix = uniquePrefix();
    const storage = new RedisStorage({ url: server.url, prefix });
    try {
      await storage.enqueue([job("old", { payload: "stored before" })], 1_000);
      // 1 200 jobs in one call; ids repeat within it and one is stored already.
      const jobs = Array.from({ length: 1_200 }, (_, n) => job(`j${n}`));
      jobs[700] = job("j3", { payload: "repeat" });
      jobs[1_100] = job("old", { payload: "repeat" });
      jobs[1_199] = job("j700b", { runAt: 5_000 });
      const results = await storage.enqueue(jobs, 1_000);
      assert.equal(results.filter((r) => !r.created).length, 2);
      assert.equal(results[700].created, false);
      assert.deepEqual(results[700].job.payload, { id: "j3" });
      assert.equal(results[700].job.state, "waiting");
      assert.equal(results[1_100].created, false);
      assert.equal(results[1_100].job.payload, "stored before");
      assert.equal(results[1_199].job.state, "delayed");
      assert.equal((await storage.getJob("j700b"))?.state, "delayed");
      assert.equal((await storage.getJob("j3"))?.state, "waiting");
      assert.deepEqual((await storage.counts("q")).waiting, 1_198);
      const { jobs: reserved } = await storage.reserve({
        queues: ["q"],
        limit: 1_198,
        owner: "w",
        leaseMs: 30_000,
        now: 1_000,
      });
      const expected = [
        "old",
        ...jobs.map((j) => j.id).filter((_, n) => n !== 700 && n !== 1_100 && n !== 1_199),
      ];
      assert.deepEqual(reserved.map((j) => j.id), expected);
    } finally {
      await storage.close();
      await dropPrefix(admin, prefix);
    }
  });

  test("no KEYS or SCAN command is ever sent by the storage", async () => {
    const { client, sent } = countingClient(server.url);
    const storage = new RedisStorage({ client, prefix: uniquePrefix() });
    try {
      await storage.enqueue([job("a"), job("b", { runAt: 2_000 })], 1_000);
      const { jobs } = await storage.reserve({
        queues: ["q"],
        limit: 5,
        owner: "w",
        leaseMs: 10,
        now: 1_000,
      });
      await storage.reserve({ queues: ["q"], limit: 5, owner: "w", leaseMs: 10, now: 3_000 });
      await storage.settle([{ kind: "complete", id: jobs[0].id, token: "x" }], { now: 3_000 });
      await storage.counts("q");
      await storage.list("q", "waiting");
      await storage.prune("q", {
        completed: { count: 0, age: 0 },
        failed: { count: 0, age: 0 },
      }, 5_000);
      assert.ok(sent.length > 0);
      assert.ok(!sent.some((name) => /^(keys|scan)$/i.test(name)), sent.join(","));
    } finally {
      await storage.close();
      await client.quit();
    }
    const stats = await commandStats();
    assert.equal(stats.get("keys"), undefined);
  });

  test("wake-up markers stay bounded", async () => {
    const prefix = uniquePrefix();
    const storage = new RedisStorage({ url: server.url, prefix });
    try {
      for (let i = 0; i < 20; i++) {
        await storage.enqueue(Array.from({ length: 10 }, (_, n) => job(`j${i}-${n}`)), 1_000);
      }
      await storage.resume("q");
      const length = await admin.llen(`{${prefix}}:q:q:mark`);
      assert.ok(length > 0 && length <= 16, `marker list has ${length} entries`);
    } finally {
      await storage.close();
      await dropPrefix(admin, prefix);
    }
  });

  test("waitForWork returns promptly on abort and the storage still works after", async () => {
    const storage = new RedisStorage({ url: server.url, prefix: uniquePrefix() });
    try {
      const controller = new AbortController();
      const started = Date.now();
      const wait = storage.waitForWork(["idle"], 10_000, controller.signal);
      setTimeout(() => controller.abort(), 50);
      await wait;
      assert.ok(Date.now() - started < 2_000, "abort did not end the wait promptly");
      const again = new AbortController();
      const second = storage.waitForWork(["idle"], 10_000, again.signal);
      await storage.enqueue([job("x", { queue: "idle" })], 1_000);
      await second;
      assert.ok(Date.now() - started < 5_000);
    } finally {
      await storage.close();
    }
  });

  test("an aborted wait keeps its connection, and a marker its BLPOP pops is not lost", async () => {
    const storage = new RedisStorage({ url: server.url, prefix: uniquePrefix() });
    const stats = async () =>
      Number(/total_connections_received:(\d+)/.exec(await admin.info("stats"))![1]);
    try {
      await storage.counts("idle"); // the main connection
      const before = await stats();
      for (let i = 0; i < 5; i++) {
        const controller = new AbortController();
        const wait = storage.waitForWork(["idle"], 10_000, controller.signal);
        // Until CLIENT LIST shows the BLPOP blocked, so the abort ends a sent one.
        while (!/cmd=blpop/.test(await admin.client("LIST") as string)) {
          await new Promise((r) => setTimeout(r, 5));
        }
        controller.abort();
        await wait;
      }
      // The abandoned BLPOP is still blocked: an enqueue's marker goes to it,
      // and the next wait must still see that work may have arrived.
      await storage.enqueue([job("x", { queue: "idle" })], 1_000);
      await admin.ping();
      const started = Date.now();
      await storage.waitForWork(["idle"], 10_000, new AbortController().signal);
      assert.ok(Date.now() - started < 5_000, "the wait missed the marker its BLPOP popped");
      assert.equal(await stats() - before, 1, "one blocking connection for every wait");
    } finally {
      await storage.close();
    }
  });

  test("queueTags: prune sweeps id-index entries of jobs that were never stored, after a grace", async () => {
    const prefix = uniquePrefix();
    const storage = new RedisStorage({ url: server.url, prefix, queueTags: true });
    const index = `{${prefix}}:ids`;
    const keep = {
      completed: { count: 100, age: 86_400_000 },
      failed: { count: 100, age: 86_400_000 },
    };
    try {
      await storage.enqueue([job("real1"), job("real2")], 1_000);
      // What a batch killed between claiming its ids and storing its jobs leaves.
      const ghosts = Array.from({ length: 300 }, (_, i) => `ghost${i}`);
      await admin.hset(index, ...ghosts.flatMap((id) => [id, "q"]));
      assert.equal(await admin.hlen(index), 302);
      // A claim as young as an enqueue in flight is left alone...
      await storage.prune("q", keep, 10_000);
      assert.equal(await admin.hlen(index), 302);
      // ...its job may still come (here ghost7's does)...
      await storage.enqueue([job("ghost7")], 20_000);
      // ...and one still without its job after the grace goes.
      await storage.prune("q", keep, 10_000 + 10 * 60_000);
      assert.deepEqual((await admin.hkeys(index)).sort(), ["ghost7", "real1", "real2"]);
      assert.equal((await storage.getJob("ghost7"))?.state, "waiting");
      assert.equal((await storage.getJob("real1"))?.state, "waiting");
      assert.equal(await storage.getJob("ghost1"), null);
    } finally {
      await storage.close();
      await dropPrefix(admin, prefix);
    }
  });

  test("queueTags: a lease this instance lost is forgotten, not kept in its map of leased jobs", async () => {
    const prefix = uniquePrefix();
    const { client, sent } = countingClient(server.url);
    const a = new RedisStorage({ client, prefix, queueTags: true });
    const b = new RedisStorage({ url: server.url, prefix, queueTags: true });
    try {
      await b.enqueue([job("x"), job("y")], 1_000);
      const { jobs } = await a.reserve({
        queues: ["q"],
        limit: 2,
        owner: "a",
        leaseMs: 100,
        now: 1_000,
      });
      assert.equal(jobs.length, 2);
      // b reclaims both once the leases expired; a learns it at its heartbeat.
      const again = await b.reserve({
        queues: ["q"],
        limit: 2,
        owner: "b",
        leaseMs: 30_000,
        now: 2_000,
      });
      assert.equal(again.jobs.length, 2);
      const leases = jobs.map((j) => ({ id: j.id, token: j.lease!.token }));
      assert.deepEqual(await a.extendLeases(leases, 100, 2_001), [false, false]);
      // Forgotten: a call about these ids asks the id index again.
      sent.length = 0;
      assert.deepEqual(await a.extendLeases(leases, 100, 2_002), [false, false]);
      assert.equal(sent[0], "hmget", sent.join(","));
    } finally {
      await a.close();
      await b.close();
      await client.quit();
      await dropPrefix(admin, prefix);
    }
  });

  test("warns when the server may evict keys (maxmemory-policy), read with INFO, not CONFIG", async () => {
    const password = "evict-secret-55";
    const evicting = await startRedis({
      args: ["--maxmemory-policy", "allkeys-lru", "--requirepass", password],
    });
    const setup = new Redis(`redis://:${password}@127.0.0.1:${evicting.port}`);
    await setup.acl("SETUSER", "app", "on", ">app-secret-66", "~*", "&*", "+@all", "-config");
    await setup.quit();
    const seen: StorageWarning[] = [];
    const storage = new RedisStorage({
      url: `redis://app:app-secret-66@127.0.0.1:${evicting.port}`,
      onWarning: (warning) => void seen.push(warning),
    });
    try {
      const warnings = await storage.checkSetup();
      assert.equal(warnings.length, 1);
      const [warning] = warnings;
      assert.ok(warning instanceof StorageWarning);
      assert.equal(warning.code, "eviction-policy");
      assert.match(warning.message, /maxmemory-policy allkeys-lru/);
      assert.match(warning.message, /CONFIG SET maxmemory-policy noeviction/);
      assert.match(warning.message, /redis:\/\/app:\*\*\*@127\.0\.0\.1/);
      assert.ok(!warning.message.includes("app-secret-66"));
      assert.deepEqual(seen, [warning], "onWarning is told once");
      assert.deepEqual(storage.warnings, [warning]);
      await storage.counts("q");
      assert.deepEqual(await storage.checkSetup(), [warning]);
      assert.equal(seen.length, 1);
    } finally {
      await storage.close();
      await evicting.stop();
    }
    // The test server runs with noeviction: nothing to say.
    const fine = new RedisStorage({
      url: server.url,
      prefix: uniquePrefix(),
      onWarning: (warning) => void seen.push(warning),
    });
    try {
      assert.deepEqual(await fine.checkSetup(), []);
      assert.equal(seen.length, 1);
    } finally {
      await fine.close();
    }
  });

  test("serverTime is the server's clock (TIME), in epoch ms", async () => {
    const storage = new RedisStorage({ url: server.url, prefix: uniquePrefix() });
    try {
      const before = Date.now();
      const time = await storage.serverTime();
      const after = Date.now();
      // Same machine: the server's clock is this process's clock.
      assert.ok(time >= before - 5 && time <= after + 5, `${before} ${time} ${after}`);
    } finally {
      await storage.close();
    }
  });

  test("a wrong password fails fast with a StorageError that hides the password", async () => {
    const secured = await startRedis({ args: ["--requirepass", "right-secret"] });
    const storage = new RedisStorage({
      url: `redis://default:wrong-secret-123@127.0.0.1:${secured.port}`,
    });
    try {
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        const error = await storage.counts("q").then(() => null, (e: unknown) => e);
        assert.ok(error instanceof StorageError, `expected a StorageError, got ${error}`);
        assert.ok(Date.now() - started < 3_000, "the failed connect took too long");
        const text = `${error.message} ${String(error.cause)} ${error.stack}`;
        assert.ok(!text.includes("wrong-secret-123"), text);
        assert.match(error.message, /WRONGPASS|NOAUTH|invalid/i);
        assert.match(error.message, /redis:\/\/default:\*\*\*@127\.0\.0\.1/);
      }
      const good = new RedisStorage({ url: `redis://:right-secret@127.0.0.1:${secured.port}` });
      assert.equal((await good.counts("q")).waiting, 0);
      await good.close();
    } finally {
      await storage.close();
      await secured.stop();
    }
  });

  test("an unreachable server fails promptly, with the URL's password redacted", async () => {
    const storage = new RedisStorage({ url: "redis://app:hunter2@127.0.0.1:1/0" });
    try {
      const started = Date.now();
      const error = await storage.reserve({
        queues: ["q"],
        limit: 1,
        owner: "w",
        leaseMs: 1_000,
        now: 0,
      }).then(() => null, (e: unknown) => e);
      assert.ok(error instanceof StorageError);
      assert.ok(Date.now() - started < 6_000);
      assert.ok(!`${error.message} ${String(error.cause)}`.includes("hunter2"));
      assert.match(error.message, /redis:\/\/app:\*\*\*@127\.0\.0\.1:1/);
    } finally {
      await storage.close();
    }
  });

  test("close() leaves a user's client open but closes what it duplicated", async () => {
    const client = new Redis(server.url);
    const storage = new RedisStorage({ client, prefix: uniquePrefix() });
    try {
      await storage.waitForWork(["q"], 10, new AbortController().signal);
      await storage.close();
      await storage.close();
      assert.equal(await client.ping(), "PONG");
      const clients = await admin.client("LIST") as string;
      assert.ok(!/cmd=blpop/.test(clients), clients);
      await assert.rejects(storage.counts("q"), StorageError);
    } finally {
      await client.quit();
    }
  });

  test("a script refused by ACL names the command and the ACL fix, never the password", async () => {
    const user = `nozpop${process.pid}`;
    const password = "acl-secret-zpop-77";
    await admin.acl(
      "SETUSER",
      user,
      "reset",
      "on",
      `>${password}`,
      "~*",
      "&*",
      "+@all",
      "-zpopmin",
    );
    const storage = new RedisStorage({
      url: `redis://${user}:${password}@127.0.0.1:${server.port}`,
      prefix: uniquePrefix(),
    });
    try {
      await storage.enqueue([job("a")], 1_000);
      const error = await storage.reserve({
        queues: ["q"],
        limit: 1,
        owner: "w",
        leaseMs: 1_000,
        now: 1_000,
      }).then(() => null, (e: unknown) => e);
      assert.ok(error instanceof StorageError, `expected a StorageError, got ${error}`);
      assert.match(
        error.message,
        new RegExp(
          `^Cannot reserve jobs: the Redis user "${user}" may not run ZPOPMIN; ` +
            `grant it with ACL SETUSER ${user} \\+zpopmin`,
        ),
      );
      assert.ok(!`${error.message} ${String(error.cause)}`.includes(password));
    } finally {
      await storage.close();
      await admin.acl("DELUSER", user);
    }
  });

  test("waitForWork rejects with a StorageError naming BLPOP when ACL refuses it", async () => {
    const user = `noblpop${process.pid}`;
    const password = "acl-secret-blpop-88";
    await admin.acl("SETUSER", user, "reset", "on", `>${password}`, "~*", "&*", "+@all", "-blpop");
    const storage = new RedisStorage({
      url: `redis://${user}:${password}@127.0.0.1:${server.port}`,
      prefix: uniquePrefix(),
    });
    try {
      const error = await storage.waitForWork(["q"], 1_000, new AbortController().signal)
        .then(() => null, (e: unknown) => e);
      assert.ok(error instanceof StorageError, `expected a StorageError, got ${error}`);
      assert.match(
        error.message,
        new RegExp(
          `^Cannot wait for work: the Redis user "${user}" may not run BLPOP; ` +
            `grant it with ACL SETUSER ${user} \\+blpop`,
        ),
      );
      assert.ok(!`${error.message} ${String(error.cause)}`.includes(password));
    } finally {
      await storage.close();
      await admin.acl("DELUSER", user);
    }
  });

  test("rejects a bad prefix and a missing connection", () => {
    assert.throws(() => new RedisStorage({ url: server.url, prefix: "a{b}" }), RangeError);
    assert.throws(() => new RedisStorage({} as never), TypeError);
    assert.throws(() => new RedisStorage({ url: "http://x" }), TypeError);
  });

  test("refuses a misspelt option, naming it and the option meant", () => {
    assert.throws(() => new RedisStorage({ url: server.url, prefx: "app" } as never), {
      name: "TypeError",
      message: "Cannot create RedisStorage: options.prefx is not an option (did you mean prefix?)",
    });
    assert.throws(() => new RedisStorage({ url: server.url, queueTag: true } as never), {
      name: "TypeError",
      message:
        "Cannot create RedisStorage: options.queueTag is not an option (did you mean queueTags?)",
    });
  });
});

describe("RedisStorage dedupe", () => {
  test("dedupe: a job kept out by its key leaves no id-index entry (queueTags)", async () => {
    const prefix = uniquePrefix();
    const storage = new RedisStorage({ url: server.url, prefix, queueTags: true });
    try {
      const dedupe = { key: "k", mode: "unique", ttl: null, delay: null } as const;
      const [a, b] = await storage.enqueue([job("a", { dedupe }), job("b", { dedupe })], 1_000);
      assert.equal(a.created, true);
      assert.equal(b.deduplicated, "duplicate");
      const [c] = await storage.enqueue([job("c", { dedupe })], 1_001);
      assert.equal(c.job.id, "a");
      assert.deepEqual(await admin.hgetall(`{${prefix}}:ids`), { a: "q" });
      assert.equal(await admin.hget(`{${prefix}:q}:q:q:dedupe`, "k"), "a");
      // An enqueue without dedupe costs no command on the dedupe keys.
      assert.equal((await storage.enqueue([job("plain")], 1_002))[0].created, true);
      assert.equal(await admin.hlen(`{${prefix}:q}:q:q:dedupe`), 1);
    } finally {
      await storage.close();
      await dropPrefix(admin, prefix);
    }
  });
});
