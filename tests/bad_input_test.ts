// Bad input gets a clear error and nothing is lost: on a real redis-server
// (started here on a free loopback port; never a mock, never skipped), with
// real Workers and, for the graceful stop, a real worker process.
//
// The same refusals on MemoryStorage, and handler outcomes on FakeClock, are
// in queue_test.ts and worker_test.ts; this file proves them on Redis, where
// the bytes cross a socket and Lua scripts, plus what only Redis has: records
// corrupted by hand, connections that fail, and a server that dies mid-batch.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import {
  defineTask,
  type JobRecord,
  MemoryStorage,
  Queue,
  type ReserveRequest,
  StorageError,
  type Task,
  Worker,
  type WorkerEvents,
} from "../mod.ts";
import { RedisStorage } from "../adapters/redis.ts";
import { FakeClock } from "../testing.ts";
import { freePort, type RedisServer, startRedis } from "./_redis_server.ts";

// deno-lint-ignore no-explicit-any
type AnyTask = Task<any, any>;

const server = await startRedis();
const admin = new Redis(server.url);
let prefixes = 0;

after(async () => {
  admin.disconnect();
  await server.stop();
});

function uniquePrefix(): string {
  return `bad${process.pid}x${++prefixes}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = "none";
  while (!(await check().catch((error) => (lastError = error, false)))) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${lastError})`);
    }
    await sleep(25);
  }
}

/** Every key under `{prefix...}` (test code only: SCAN is never on a hot path). */
async function keysOf(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", `{${prefix}*`, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys.sort();
}

/** The raw keyspace as seen from outside taskmill: DBSIZE and the prefix's keys. */
async function keyspace(prefix: string): Promise<{ dbsize: number; keys: string[] }> {
  return { dbsize: await admin.dbsize(), keys: await keysOf(admin, prefix) };
}

/** Counts unhandled rejections (Node/Bun: process event; Deno: also the web event). */
function rejectionCounter(): { reasons: unknown[]; dispose(): void } {
  const reasons: unknown[] = [];
  const onProcess = (reason: unknown) => void reasons.push(reason);
  const onWeb = (event: Event) => {
    event.preventDefault();
    reasons.push((event as PromiseRejectionEvent).reason);
  };
  process.on("unhandledRejection", onProcess);
  const g = globalThis as { Deno?: unknown };
  if (g.Deno) globalThis.addEventListener("unhandledrejection", onWeb);
  return {
    reasons,
    dispose() {
      process.off("unhandledRejection", onProcess);
      if (g.Deno) globalThis.removeEventListener("unhandledrejection", onWeb);
    },
  };
}

/** Everything an error could show a user or a log: message, stack, and causes. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      parts.push(current.name, current.message, current.stack ?? "");
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join("\n");
}

function collect<K extends keyof WorkerEvents>(worker: Worker, name: K): WorkerEvents[K][] {
  const events: WorkerEvents[K][] = [];
  worker.on(name, (e) => void events.push(e));
  return events;
}

const sendEmail = defineTask({ name: "send_email", handler: () => "sent" });

// ---- enqueue ----------------------------------------------------------------

for (const queueTags of [false, true]) {
  const mode = queueTags ? " (queueTags)" : "";

  describe(`Redis${mode}: enqueue refuses bad input with a clear error, and stores nothing`, () => {
    async function setup(maxPayloadBytes?: number) {
      const prefix = uniquePrefix();
      const storage = new RedisStorage({ url: server.url, prefix, queueTags });
      const queue = new Queue({ storage, maxPayloadBytes });
      // One good job first, so the slot's keys exist and "unchanged" means something.
      await queue.enqueue(sendEmail, { warm: true }, { id: "warm" });
      const before = await keyspace(prefix);
      const counts = await queue.counts();
      const unchanged = async () => {
        assert.deepEqual(await keyspace(prefix), before, "the keyspace changed");
        assert.deepEqual(await queue.counts(), counts);
        assert.equal((await queue.getJob("warm"))?.state, "waiting");
      };
      return { prefix, storage, queue, unchanged };
    }

    const cycle: Record<string, unknown> = { name: "c" };
    cycle.children = [{ parent: cycle }];
    class Point {
      constructor(public x: number) {}
    }
    const cases: [string, unknown, string, RegExp][] = [
      [
        "a function deep in an array",
        { to: "a@b.c", hooks: [1, { run: () => 0 }] },
        "TypeError",
        /^Cannot enqueue job "send_email": payload\.hooks\[1\]\.run is a function$/,
      ],
      ["a symbol value", { tag: Symbol("t") }, "TypeError", /payload\.tag is a symbol$/],
      [
        "a symbol key",
        { [Symbol("k")]: 1 },
        "TypeError",
        /payload has a symbol key Symbol\(k\)$/,
      ],
      ["a BigInt at the top", 10n, "TypeError", /payload is a BigInt, which JSON cannot/],
      ["a BigInt in an object", { id: 2n ** 70n }, "TypeError", /payload\.id is a BigInt/],
      [
        "a cycle through an array",
        cycle,
        "TypeError",
        /payload\.children\[0\]\.parent is a circular reference$/,
      ],
      ["a class instance", { at: new Point(1) }, "TypeError", /payload\.at is a Point instance/],
      [
        "an object literal with __proto__ (a prototype, not a key)",
        { __proto__: { admin: true } },
        "TypeError",
        /payload is a Object instance, not a plain object/,
      ],
      ["undefined at the top", undefined, "TypeError", /payload is undefined; pass null/],
      ["-Infinity", [-Infinity], "TypeError", /payload\[0\] is -Infinity/],
    ];
    for (const [what, payload, name, message] of cases) {
      test(`payload with ${what}`, { timeout: 10_000 }, async () => {
        const { storage, queue, unchanged } = await setup();
        try {
          await assert.rejects(queue.enqueue(sendEmail, payload), { name, message });
          // One bad payload in a batch: the batch is refused, naming its index.
          await assert.rejects(queue.enqueueMany(sendEmail, [{ ok: 1 }, payload, { ok: 3 }]), {
            name,
            message: /^Cannot enqueue job( "send_email")?: payloads\[1\]/,
          });
          await unchanged();
        } finally {
          await storage.close();
        }
      });
    }

    test("an error names a long key by its start, not by the whole key", {
      timeout: 10_000,
    }, async () => {
      const { storage, queue, unchanged } = await setup();
      try {
        const key = "k".repeat(100_000);
        const error = await queue.enqueue(sendEmail, { [key]: () => 0 }).then(
          () => null,
          (e: Error) => e,
        );
        assert.ok(error instanceof TypeError, String(error));
        assert.ok(error.message.length < 500, `message is ${error.message.length} chars`);
        assert.match(error.message, /payload\["kkkk.*is a function$/);
        await unchanged();
      } finally {
        await storage.close();
      }
    });

    test("an oversize payload: its size and the limit; at the limit it round-trips", {
      timeout: 30_000,
    }, async () => {
      const { storage, queue, unchanged, prefix } = await setup();
      try {
        // Default limit: 1 MiB of UTF-8 JSON. "é" is 2 bytes; +2 for the quotes.
        const limit = 1024 * 1024;
        const over = "é".repeat(limit / 2); // limit + 2 bytes as JSON
        await assert.rejects(queue.enqueue(sendEmail, over), {
          name: "RangeError",
          message: `Cannot enqueue job "send_email": payload is ${
            limit + 2
          } bytes as JSON; the limit is ${limit}`,
        });
        await assert.rejects(queue.enqueueMany(sendEmail, [{}, { big: over }]), {
          name: "RangeError",
          message: /payloads\[1\] is \d+ bytes as JSON; the limit is 1048576/,
        });
        await unchanged();

        const exact = "é".repeat(limit / 2 - 1); // exactly the limit
        const echo = defineTask({ name: "echo_len", handler: (p: string) => p.length });
        const job = await queue.enqueue(echo, exact);
        const tag = queueTags ? `{${prefix}:default}` : `{${prefix}}`;
        const stored = await admin.hget(`${tag}:job:${job.id}`, "payload");
        assert.ok(stored === JSON.stringify(exact), "the payload is stored byte for byte");
        const worker = new Worker({ storage, tasks: [echo], queues: ["default"], concurrency: 1 });
        await worker.start();
        try {
          assert.equal(await queue.result(job.id, { timeout: 10_000 }), exact.length);
        } finally {
          await worker.stop();
        }
      } finally {
        await storage.close();
      }
    });

    test(
      "nesting: 1000 levels round-trip as payload and result; deeper is refused, nothing stored",
      {
        timeout: 20_000,
      },
      async () => {
        const { storage, queue, unchanged } = await setup();
        const nest = (levels: number) => {
          let value: unknown = "leaf";
          for (let i = 0; i < levels; i++) value = [value];
          return value;
        };
        try {
          // Redis would store deeper text, but Lua's cjson decodes only 1000
          // levels and Node 20's JSON.stringify only about 4000: one limit for all.
          for (const levels of [1_001, 10_000]) {
            await assert.rejects(queue.enqueue(sendEmail, { deep: nest(levels) }), {
              name: "RangeError",
              message:
                /^Cannot enqueue job "send_email": payload\.deep(\[0\])+…(\[0\])+ is nested too deep: more than 1000 levels of arrays and objects$/,
            });
          }
          await unchanged();
          const echo = defineTask({
            name: "echo_deep",
            maxAttempts: 1,
            // A number: return that many levels; anything else: echo it.
            handler: (p: unknown) => typeof p === "number" ? nest(p) : p,
          });
          const worker = new Worker({
            storage,
            tasks: [echo],
            queues: ["default"],
            concurrency: 2,
          });
          await worker.start();
          try {
            const deepest = nest(1_000);
            const same = await queue.enqueue(echo, deepest);
            assert.deepEqual(await queue.result(same.id, { timeout: 10_000 }), deepest);
            assert.deepEqual((await queue.getJob(same.id))?.payload, deepest);
            const tooDeep = await queue.enqueue(echo, 1_001);
            await assert.rejects(queue.result(tooDeep.id, { timeout: 10_000 }), {
              name: "JobFailedError",
            });
            const failed = await queue.getJob(tooDeep.id);
            assert.match(
              failed?.error?.message ?? "",
              /^Cannot store result: result(\[0\])+…(\[0\])+ is nested too deep: more than 1000 levels/,
            );
          } finally {
            await worker.stop();
          }
        } finally {
          await storage.close();
        }
      },
    );

    test("a custom maxPayloadBytes is enforced", { timeout: 10_000 }, async () => {
      const { storage, queue, unchanged } = await setup(64);
      try {
        await assert.rejects(queue.enqueue(sendEmail, { text: "x".repeat(60) }), {
          name: "RangeError",
          message: /payload is 71 bytes as JSON; the limit is 64$/,
        });
        await unchanged();
      } finally {
        await storage.close();
      }
    });

    const optionCases: [string, unknown, string, RegExp][] = [
      ["options null", null, "TypeError", /options must be an object, got null/],
      ["options a string", "fast", "TypeError", /options must be an object, got "fast"/],
      ["an invalid Date", { runAt: new Date("nope") }, "TypeError", /runAt must be a finite/],
      ["runAt as a string", { runAt: "tomorrow" }, "TypeError", /runAt must be a finite number/],
      ["delay Infinity", { delay: Infinity }, "TypeError", /delay must be a finite number/],
      ["negative timeout", { timeout: -5 }, "RangeError", /timeout must be between 0/],
      ["maxAttempts as a string", { maxAttempts: "3" }, "TypeError", /maxAttempts must be an int/],
      ["priority NaN", { priority: Number.NaN }, "TypeError", /priority must be an integer/],
      ["queue of 101 chars", { queue: "q".repeat(101) }, "RangeError", /101 characters long/],
      ["queue with a colon", { queue: "a:b" }, "RangeError", /queue "a:b" may only contain/],
      ["id of 257 chars", { id: "i".repeat(257) }, "RangeError", /257 characters long/],
      ["id with a NUL", { id: "a\u0000b" }, "RangeError", /must not contain control/],
      ["id as an object", { id: { toString: () => "x" } }, "TypeError", /id must be a string/],
      ["id with a lone high surrogate", { id: "s\uD800" }, "RangeError", /id is not well-formed/],
      ["id with a lone low surrogate", { id: "s\uDFFF" }, "RangeError", /lone surrogate \\uDFFF/],
    ];
    for (const [what, options, name, message] of optionCases) {
      test(`invalid option: ${what}`, { timeout: 10_000 }, async () => {
        const { storage, queue, unchanged } = await setup();
        try {
          await assert.rejects(queue.enqueue(sendEmail, { ok: true }, options as never), {
            name,
            message,
          });
          await unchanged();
        } finally {
          await storage.close();
        }
      });
    }

    test("task names: empty, huge (1 MB) or odd: refused, the message stays short", {
      timeout: 10_000,
    }, async () => {
      const { storage, queue, unchanged } = await setup();
      try {
        const huge = "t".repeat(1_000_000);
        for (
          const [name, message] of [
            ["", /task name must not be empty/],
            [huge, /task name is 1000000 characters long; the limit is 200$/],
            ["has space", /task name "has space" may only contain/],
            ["{tag}", /task name "\{tag\}" may only contain/],
          ] as const
        ) {
          const error = await queue.enqueue(name, null).then(() => null, (e: Error) => e);
          assert.ok(error instanceof RangeError, `${name.slice(0, 20)}: ${error}`);
          assert.match(error.message, message);
          assert.ok(error.message.length < 300, `message is ${error.message.length} chars`);
        }
        assert.throws(() => defineTask({ name: huge, handler: () => 0 }), (e: Error) => {
          assert.ok(e instanceof RangeError);
          assert.match(e.message, /1000000 characters long; the limit is 200/);
          assert.ok(e.message.length < 300);
          return true;
        });
        await unchanged();
      } finally {
        await storage.close();
      }
    });

    test("__proto__ and constructor keys: stored as plain keys, round-trip, pollute nothing", {
      timeout: 15_000,
    }, async () => {
      const { storage, queue } = await setup();
      const payload = JSON.parse(
        '{"__proto__":{"polluted":"payload"},"nested":{"constructor":{"prototype":' +
          '{"polluted2":"payload"}}},"list":[{"__proto__":{"polluted3":1}}]}',
      );
      let seen: unknown;
      const echo = defineTask({
        name: "echo_proto",
        handler: (p: Record<string, unknown>) => {
          seen = p;
          // The handler's result carries the same keys back through Redis.
          return JSON.parse('{"__proto__":{"pollutedResult":true},"ok":1}');
        },
      });
      const worker = new Worker({ storage, tasks: [echo], queues: ["default"], concurrency: 1 });
      await worker.start();
      try {
        const job = await queue.enqueue(echo, payload);
        const result = await queue.result<Record<string, unknown>>(job.id, { timeout: 10_000 });
        const stored = await queue.getJob<Record<string, unknown>>(job.id);
        for (const value of [seen, stored!.payload]) {
          const p = value as Record<string, unknown>;
          assert.equal(Object.getPrototypeOf(p), Object.prototype);
          assert.ok(Object.hasOwn(p, "__proto__"), "__proto__ stays an own key");
          assert.deepEqual(Object.getOwnPropertyDescriptor(p, "__proto__")?.value, {
            polluted: "payload",
          });
          assert.equal(JSON.stringify(p), JSON.stringify(payload));
        }
        assert.ok(Object.hasOwn(result, "__proto__"));
        assert.equal(result.ok, 1);
        const probe = {} as Record<string, unknown>;
        for (const key of ["polluted", "polluted2", "polluted3", "pollutedResult"]) {
          assert.equal(probe[key], undefined, `Object.prototype.${key} is polluted`);
        }
      } finally {
        await worker.stop();
        await storage.close();
      }
    });
  });
}

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

// ---- handlers ---------------------------------------------------------------

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
          return (request: ReserveRequest) => {
            const reply = (async () => {
              const result = await target.reserve(request);
              if (held && result.jobs.length > 0) {
                held = false;
                await clock.sleep(leaseMs + 500);
              }
              return result;
            })();
            // This reply waits on fake time: the clock must not wait for it
            // (the Worker tracks it right after this returns).
            queueMicrotask(() => clock.ignore(reply));
            return reply;
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

// ---- connections ------------------------------------------------------------

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

// ---- graceful stop under load -----------------------------------------------

const runtimes = globalThis as { Deno?: unknown; Bun?: unknown };
const RUNTIME = runtimes.Deno !== undefined ? "deno" : runtimes.Bun !== undefined ? "bun" : "node";
const IS_DENO = RUNTIME === "deno";
const ext = import.meta.url.endsWith(".js") ? ".js" : ".ts";
const fixture = (name: string) =>
  fileURLToPath(new URL(`./_fixtures/${name}${ext}`, import.meta.url));

interface Proc {
  child: ChildProcess;
  output: string[];
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function spawnProc(args: string[], env: Record<string, string>, ready: RegExp): Proc {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  let markReady!: () => void;
  const isReady = new Promise<void>((r) => (markReady = r));
  child.stdout!.on("data", (d: Uint8Array) => {
    output.push(String(d));
    if (ready.test(output.join(""))) markReady();
  });
  child.stderr!.on("data", (d: Uint8Array) => output.push(String(d)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, ready: isReady, exited };
}

/** Two ways to run a worker process: a fixture, and the `taskmill worker` CLI. */
const launchers: {
  name: string;
  start(env: Record<string, string>): Proc;
  stopped: RegExp;
}[] = [
  {
    name: "a worker process",
    start: (env) =>
      spawnProc(
        IS_DENO ? ["run", "-A", fixture("graceful_worker")] : [fixture("graceful_worker")],
        env,
        /ready/,
      ),
    stopped: /stopped \S+ completed=/,
  },
  {
    name: "the taskmill worker CLI",
    start(env) {
      const cli = RUNTIME === "node"
        ? fileURLToPath(import.meta.resolve("taskmill/cli"))
        : fileURLToPath(new URL("../cli/main.ts", import.meta.url));
      return spawnProc(
        [
          ...(IS_DENO ? ["run", "-A", "--quiet"] : []),
          cli,
          "worker",
          "--tasks",
          fixture("graceful_tasks"),
          "--redis-url",
          env.REDIS_URL,
          "--prefix",
          env.PREFIX,
          "--concurrency",
          env.CONCURRENCY,
          "--stop-timeout",
          env.STOP_TIMEOUT,
        ],
        env,
        /started on/,
      );
    },
    stopped: /worker \S+ stopped/,
  },
];

for (const launcher of launchers) {
  describe(`Graceful stop under load: SIGTERM to ${launcher.name} with 50 jobs in flight`, () => {
    test("each job completes or is handed back (waiting); none lost; exit 0", {
      timeout: 60_000,
    }, async () => {
      const prefix = uniquePrefix();
      const storage = new RedisStorage({ url: server.url, prefix });
      const queue = new Queue({ storage });
      const work = defineTask({ name: "work", handler: () => {} });
      const env = {
        REDIS_URL: server.url,
        PREFIX: prefix,
        CONCURRENCY: "50",
        STOP_TIMEOUT: "1500",
      };
      const first = launcher.start({ ...env, WORKER_ID: "first" });
      let second: Proc | undefined;
      try {
        await Promise.race([
          first.ready,
          first.exited.then(() => {
            throw new Error(`the worker exited early:\n${first.output.join("")}`);
          }),
        ]);
        // 30 finish within the stop timeout, 20 would run for a minute.
        const short = await queue.enqueueMany(
          work,
          Array.from({ length: 30 }, () => ({ ms: 400 })),
        );
        const long = await queue.enqueueMany(
          work,
          Array.from({ length: 20 }, () => ({ ms: 60_000 })),
        );
        await waitUntil(
          "50 jobs in flight",
          async () =>
            (await admin.llen(`${prefix}:test:started`)) === 50 &&
            (await queue.counts()).active === 50,
          15_000,
        );
        first.child.kill("SIGTERM");
        const code = await first.exited;
        const output = first.output.join("");
        assert.match(output, launcher.stopped, output);
        if (!IS_DENO) assert.equal(code, 0, output);

        const states = async (jobs: JobRecord[]) =>
          await Promise.all(jobs.map(async (j) => (await queue.getJob(j.id))?.state));
        assert.deepEqual(await states(short), short.map(() => "completed"));
        assert.deepEqual(await states(long), long.map(() => "waiting"), "handed back");
        assert.deepEqual(await queue.counts(), {
          waiting: 20,
          delayed: 0,
          active: 0,
          completed: 30,
          failed: 0,
        });
        for (const job of long) {
          const stored = await queue.getJob(job.id);
          assert.equal(stored?.error, undefined, "a hand-back is not a failure");
          assert.equal(stored?.stalls, 0);
          assert.equal(stored?.attempt, 0, "a hand-back does not count as an attempt");
        }

        // Nothing was lost: another worker picks the handed-back jobs up at once.
        second = launcher.start({ ...env, WORKER_ID: "second", FAST: "1" });
        await waitUntil(
          "the handed-back jobs to complete",
          async () => (await queue.counts()).completed === 50,
          15_000,
        );
        const byIds = await Promise.all(long.map((j) => queue.getJob(j.id)));
        assert.ok(byIds.every((j) => (j?.result as { by: string }).by === "second"));
      } finally {
        first.child.kill("SIGKILL");
        second?.child.kill("SIGTERM");
        await Promise.all([first.exited, second?.exited]);
        await storage.close();
      }
      const secondOutput = second!.output.join("");
      assert.match(secondOutput, launcher.stopped, secondOutput);
    });
  });
}
