// Enqueue refuses bad input with a clear error and stores nothing: on a real
// redis-server, where the bytes cross a socket and Lua scripts, with and
// without queueTags. The same refusals on MemoryStorage are in queue_test.ts.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defineTask, Queue, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { sendEmail, startBadInputRedis, uniquePrefix } from "./_bad_input.ts";

const { server, admin, keyspace } = await startBadInputRedis();

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
