// Queue (producer) behaviour and bad input: clear errors that name what is
// wrong, and nothing stored when something is refused.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defineTask, MemoryStorage, Queue } from "../mod.ts";
import { FakeClock } from "../testing.ts";

const task = defineTask({ name: "send_email", handler: (_p: unknown) => {} });

function setup(maxPayloadBytes?: number) {
  const clock = new FakeClock();
  const storage = new MemoryStorage({ clock });
  const queue = new Queue({ storage, clock, maxPayloadBytes });
  const empty = async () =>
    assert.deepEqual(await queue.counts(), {
      waiting: 0,
      delayed: 0,
      active: 0,
      completed: 0,
      failed: 0,
    });
  return { clock, storage, queue, empty };
}

describe("Queue.enqueue", () => {
  test("stores a waiting job with generated, time-sortable ids", async () => {
    const { queue, clock } = setup();
    const a = await queue.enqueue(task, { to: "a@b.c" });
    await clock.advance(1);
    const b = await queue.enqueue(task, { to: "d@e.f" });
    assert.equal(a.state, "waiting");
    assert.equal(a.name, "send_email");
    assert.equal(a.queue, "default");
    assert.deepEqual(a.payload, { to: "a@b.c" });
    assert.equal(a.attempt, 0);
    assert.equal(a.maxAttempts, 3);
    assert.equal(a.enqueuedAt, clock.now() - 1);
    assert.match(a.id, /^[0-9a-z]{21}$/);
    assert.ok(a.id < b.id, "later ids sort after earlier ones");
    const many = await queue.enqueueMany(task, Array.from({ length: 1000 }, (_, i) => i));
    assert.equal(new Set(many.map((j) => j.id)).size, 1000);
    assert.deepEqual(
      [...many.map((j) => j.id)].sort(),
      many.map((j) => j.id),
      "same-ms ids keep order",
    );
  });

  test("delay and runAt make a delayed job; options override the task's", async () => {
    const { queue, clock } = setup();
    const d = await queue.enqueue(task, null, {
      delay: 5_000,
      queue: "mail",
      maxAttempts: 7,
      timeout: 100,
    });
    assert.equal(d.state, "delayed");
    assert.equal(d.runAt, clock.now() + 5_000);
    assert.equal(d.queue, "mail");
    assert.equal(d.maxAttempts, 7);
    assert.equal(d.timeout, 100);
    const at = await queue.enqueue(task, null, { runAt: new Date(clock.now() + 60_000) });
    assert.equal(at.runAt, clock.now() + 60_000);
    const past = await queue.enqueue(task, null, { runAt: clock.now() - 1_000 });
    assert.equal(past.state, "waiting");
  });

  test("an existing id returns the stored job and stores nothing new", async () => {
    const { queue } = setup();
    const first = await queue.enqueue(task, { n: 1 }, { id: "welcome:42" });
    const again = await queue.enqueue(task, { n: 2 }, { id: "welcome:42", delay: 10_000 });
    assert.equal(again.id, "welcome:42");
    assert.deepEqual(again.payload, { n: 1 });
    assert.equal(again.state, "waiting");
    assert.deepEqual(first, again);
    assert.equal((await queue.counts()).waiting, 1);
  });

  test("a task name string works for producers without the handler code", async () => {
    const { queue } = setup();
    const job = await queue.enqueue("resize_image", { url: "a.png" }, { queue: "images" });
    assert.equal(job.name, "resize_image");
    assert.equal(job.queue, "images");
  });

  test("by name, the settings the enqueue does not set are left to the task (null until reserved)", async () => {
    const { queue } = setup();
    const plain = await queue.enqueue("resize_image", null);
    assert.deepEqual([plain.maxAttempts, plain.timeout, plain.maxStalls], [null, null, null]);
    const stored = await queue.getJob(plain.id);
    assert.deepEqual([stored?.maxAttempts, stored?.timeout, stored?.maxStalls], [null, null, null]);
    const set = await queue.enqueue("resize_image", null, { maxAttempts: 4, timeout: 0 });
    assert.deepEqual([set.maxAttempts, set.timeout, set.maxStalls], [4, 0, null]);
    const [many] = await queue.enqueueMany("resize_image", [1], { timeout: 50 });
    assert.deepEqual([many.maxAttempts, many.timeout, many.maxStalls], [null, 50, null]);
    // With the task itself, its settings are stored at once.
    const byTask = await queue.enqueue(task, null);
    assert.deepEqual([byTask.maxAttempts, byTask.timeout, byTask.maxStalls], [3, 0, 1]);
  });

  test("a __proto__ key stays an own key and pollutes nothing", async () => {
    const { queue } = setup();
    const payload = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
    const job = await queue.enqueue(task, payload);
    const stored = await queue.getJob(job.id);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(Object.hasOwn(stored!.payload as object, "__proto__"));
    assert.deepEqual(Object.keys(stored!.payload as object), ["__proto__", "a"]);
  });

  test("later mutation of the payload object does not change the stored job", async () => {
    const { queue } = setup();
    const payload = { list: [1, 2] };
    const job = await queue.enqueue(task, payload);
    payload.list.push(3);
    assert.deepEqual((await queue.getJob(job.id))?.payload, { list: [1, 2] });
  });
});

describe("Queue: bad input is refused with the path of the bad value, and nothing is stored", () => {
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  const cases: [string, unknown, RegExp][] = [
    ["a function", { at: () => 1 }, /^Cannot enqueue job "send_email": payload\.at is a function$/],
    ["a symbol", { deep: { s: Symbol("x") } }, /payload\.deep\.s is a symbol/],
    ["a BigInt", { n: [1, 2n] }, /payload\.n\[1\] is a BigInt/],
    ["a cycle", cycle, /payload\.self is a circular reference/],
    ["undefined at the top", undefined, /payload is undefined; pass null/],
    ["undefined in an array", [1, undefined], /payload\[1\] is undefined/],
    ["NaN", { x: Number.NaN }, /payload\.x is NaN/],
    ["Infinity", { x: Infinity }, /payload\.x is Infinity/],
    ["a Map", { m: new Map() }, /payload\.m is a Map instance, not a plain object/],
    ["an odd key", { "a b": () => 1 }, /payload\["a b"\] is a function/],
  ];
  for (const [what, payload, message] of cases) {
    test(`payload with ${what}`, async () => {
      const { queue, empty } = setup();
      await assert.rejects(queue.enqueue(task, payload), { name: "TypeError", message });
      await empty();
    });
  }

  test("a payload over the size limit, with its size", async () => {
    const { queue, empty } = setup(1_000);
    await assert.rejects(queue.enqueue(task, { text: "é".repeat(600) }), {
      name: "RangeError",
      message: /payload is 1211 bytes as JSON; the limit is 1000/,
    });
    await queue.enqueue(task, { text: "x".repeat(900) });
    await assert.rejects(queue.enqueue(task, "x".repeat(2_000)), RangeError);
    assert.equal((await queue.counts()).waiting, 1);
    void empty;
  });

  test("enqueueMany stores nothing when one payload is bad, and says which", async () => {
    const { queue, empty } = setup();
    await assert.rejects(queue.enqueueMany(task, [{ ok: 1 }, { ok: 2 }, { bad: () => 0 }]), {
      name: "TypeError",
      message: /payloads\[2\]\.bad is a function/,
    });
    await empty();
  });

  const optionCases: [string, Record<string, unknown>, string, RegExp][] = [
    ["negative delay", { delay: -1 }, "RangeError", /delay must be between 0/],
    ["NaN delay", { delay: Number.NaN }, "TypeError", /delay must be a finite number/],
    ["delay and runAt", { delay: 1, runAt: 5 }, "TypeError", /give delay or runAt, not both/],
    ["fractional priority", { priority: 1.5 }, "TypeError", /priority must be an integer/],
    [
      "priority out of range",
      { priority: 5_000 },
      "RangeError",
      /priority must be between -1000 and 1000/,
    ],
    [
      "queue name with a space",
      { queue: "my queue" },
      "RangeError",
      /queue "my queue" may only contain/,
    ],
    ["queue name with a brace", { queue: "a{b}" }, "RangeError", /queue "a\{b\}" may only contain/],
    ["empty queue name", { queue: "" }, "RangeError", /queue must not be empty/],
    ["empty id", { id: "" }, "RangeError", /id must not be empty/],
    ["id with a newline", { id: "a\nb" }, "RangeError", /id must not contain control characters/],
    ["numeric id", { id: 42 }, "TypeError", /id must be a string, got 42/],
    [
      "id with a lone high surrogate",
      { id: "s\uD800" },
      "RangeError",
      /^Cannot enqueue job "send_email": id is not well-formed Unicode: a lone surrogate \\uD800 at index 1$/,
    ],
    [
      "id with a lone low surrogate",
      { id: "\uDC00x" },
      "RangeError",
      /lone surrogate \\uDC00 at index 0/,
    ],
    ["id with reversed surrogates", { id: "\uDC00\uD800" }, "RangeError", /lone surrogate/],
    ["zero maxAttempts", { maxAttempts: 0 }, "RangeError", /maxAttempts must be between 1/],
  ];
  for (const [what, options, name, message] of optionCases) {
    test(`option: ${what}`, async () => {
      const { queue, empty } = setup();
      await assert.rejects(queue.enqueue(task, null, options), { name, message });
      await empty();
    });
  }

  test("task names: empty, huge, or with odd characters", async () => {
    const { queue, empty } = setup();
    await assert.rejects(queue.enqueue("", null), {
      name: "RangeError",
      message: /task name must not be empty/,
    });
    await assert.rejects(queue.enqueue("x".repeat(201), null), {
      name: "RangeError",
      message: /task name is 201 characters long; the limit is 200/,
    });
    await assert.rejects(queue.enqueue("drop table;", null), {
      name: "RangeError",
      message: /may only contain/,
    });
    await assert.rejects(queue.enqueue(42 as never, null), {
      name: "TypeError",
      message: /from defineTask\(\) or a task name/,
    });
    await empty();
  });

  test("defineTask refuses bad options, naming them", () => {
    const handler = () => {};
    assert.throws(
      () => defineTask({ name: "", handler }),
      /Cannot define task: name must not be empty/,
    );
    assert.throws(() => defineTask({ name: "t", maxAttempts: 0, handler }), {
      name: "RangeError",
      message: 'Cannot define task "t": maxAttempts must be between 1 and 1000000, got 0',
    });
    assert.throws(
      () => defineTask({ name: "t", timeout: -5, handler }),
      /timeout must be between 0/,
    );
    assert.throws(
      () => defineTask({ name: "t", handler: "nope" as never }),
      /handler must be a function/,
    );
    assert.throws(
      () => defineTask({ name: "t", retry: 1000 as never, handler }),
      /retry must be a strategy/,
    );
  });

  test("list and counts refuse unknown states and bad paging", async () => {
    const { queue } = setup();
    await assert.rejects(
      queue.list("default", "done" as never),
      /state must be one of waiting, delayed, active, completed, failed/,
    );
    await assert.rejects(queue.list("default", "waiting", { limit: 0 }), /limit must be between 1/);
    await assert.rejects(queue.counts("bad name"), RangeError);
  });
});

/** `leaf` inside `levels` nested arrays: `[[...[leaf]...]]`. */
function nestArrays(levels: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

describe("Queue: deeply nested payloads", () => {
  test("1000 levels of nesting round-trip; 1001 and 10 000 are refused with the path and the limit", async () => {
    const { queue, storage, clock, empty } = setup();
    for (const levels of [1_001, 10_000]) {
      const error = await queue.enqueue(task, { data: nestArrays(levels) }).then(
        () => null,
        (e: Error) => e,
      );
      assert.ok(error instanceof RangeError, String(error));
      assert.match(
        error.message,
        /^Cannot enqueue job "send_email": payload\.data(\[0\])+…(\[0\])+ is nested too deep: more than 1000 levels of arrays and objects$/,
      );
      assert.ok(error.message.length < 300, `message is ${error.message.length} chars`);
      await assert.rejects(queue.enqueueMany(task, [1, nestArrays(levels)]), {
        name: "RangeError",
        message: /payloads\[1\](\[0\])+….* is nested too deep/,
      });
    }
    let deepObject: unknown = "leaf";
    for (let i = 0; i < 1_500; i++) deepObject = { child: deepObject };
    await assert.rejects(queue.enqueue(task, deepObject), {
      name: "RangeError",
      message: /^Cannot enqueue job "send_email": payload(\.child)+…(\.child)+ is nested too deep/,
    });
    await empty();
    // At the limit: stored, read back and reserved whole.
    const deepest = nestArrays(1_000, "leaf");
    const job = await queue.enqueue(task, deepest);
    assert.deepEqual((await queue.getJob(job.id))?.payload, deepest);
    const [reserved] = (await storage.reserve({
      queues: ["default"],
      limit: 1,
      owner: "w",
      leaseMs: 1_000,
      now: clock.now(),
    })).jobs;
    assert.deepEqual(reserved.payload, deepest);
  });
});

describe("Queue: job ids must be well-formed Unicode", () => {
  test("ids with lone surrogates are refused everywhere an id is taken; paired ones work", async () => {
    const { queue, empty } = setup();
    for (const id of ["s\uD800", "s\uDBFF"]) {
      await assert.rejects(queue.enqueue(task, null, { id }), RangeError);
      await assert.rejects(queue.getJob(id), /Cannot get job: id is not well-formed Unicode/);
      await assert.rejects(queue.remove(id), /Cannot remove job: id is not well-formed/);
      await assert.rejects(queue.retryFailed(id), /Cannot retry job: id is not well-formed/);
      await assert.rejects(queue.result(id), /Cannot wait for result: id is not well-formed/);
    }
    await empty();
    const job = await queue.enqueue(task, null, { id: "rocket \uD83D\uDE80" });
    assert.equal((await queue.getJob("rocket 🚀"))?.id, job.id);
  });
});

describe("Queue: inspection and dead-letter operations", () => {
  test("list pages through jobs in order; retryFailed and remove", async () => {
    const { queue, storage, clock } = setup();
    const jobs = await queue.enqueueMany(task, [0, 1, 2, 3, 4]);
    const page = await queue.list("default", "waiting", { offset: 1, limit: 2 });
    assert.deepEqual(page.map((j) => j.payload), [1, 2]);
    const reserved = await storage.reserve({
      queues: ["default"],
      limit: 1,
      owner: "w",
      leaseMs: 1_000,
      now: clock.now(),
    });
    const [job] = reserved.jobs;
    await storage.settle([{
      kind: "fail",
      id: job.id,
      token: job.lease!.token,
      error: { message: "x", name: "Error", attempt: 1, at: clock.now() },
    }], { now: clock.now() });
    assert.equal((await queue.getJob(job.id))?.state, "failed");
    assert.equal(await queue.remove(jobs[1].id), true);
    assert.equal(await queue.remove(jobs[1].id), false);
    assert.equal(await queue.removeFailed(jobs[2].id), false, "a waiting job is not removed");
    assert.equal((await queue.getJob(jobs[2].id))?.state, "waiting");
    assert.equal(await queue.retryFailed(job.id), true);
    assert.equal(await queue.retryFailed(job.id), false);
    const again = await queue.getJob(job.id);
    assert.equal(again?.state, "waiting");
    assert.equal(again?.attempt, 0);
    assert.equal(await queue.getJob("nope"), null);
    assert.equal(await queue.prune("default"), 0);
  });

  test("removeFailed deletes a failed job only, in one storage step", async () => {
    const { queue, storage, clock } = setup();
    const job = await queue.enqueue(task, null, { id: "f" });
    const [reserved] = (await storage.reserve({
      queues: ["default"],
      limit: 1,
      owner: "w",
      leaseMs: 1_000,
      now: clock.now(),
    })).jobs;
    await storage.settle([{
      kind: "fail",
      id: job.id,
      token: reserved.lease!.token,
      error: { message: "x", name: "Error", attempt: 1, at: clock.now() },
    }], { now: clock.now() });
    await assert.rejects(queue.removeFailed("a\u0000b"), /Cannot remove job: id must not contain/);
    assert.equal(await queue.removeFailed("f"), true);
    assert.equal(await queue.getJob("f"), null);
    assert.equal(await queue.removeFailed("f"), false);
  });
});
