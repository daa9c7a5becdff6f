// Misspelt option names are refused, never silently ignored: every options
// object a user passes names the unknown key (and a close match, if there is
// one), and nothing is stored. RedisStorage's own options are checked in
// redis_storage_test.ts (without a server: the constructor refuses first).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defineTask, exponential, MemoryStorage, Queue, Worker } from "../mod.ts";
import { FakeClock } from "../testing.ts";

const task = defineTask({ name: "send_email", handler: (_p: unknown) => {} });

function setup() {
  const clock = new FakeClock();
  const storage = new MemoryStorage({ clock });
  const queue = new Queue({ storage, clock });
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

describe("Unknown option names are refused, naming the key and a close match", () => {
  test("enqueue, by task and by name: nothing is stored", async () => {
    const { queue, empty } = setup();
    const cases: [object, string][] = [
      [
        { delya: 5_000 },
        'Cannot enqueue job "send_email": options.delya is not an option (did you mean delay?)',
      ],
      [
        { maxAtempts: 2 },
        'Cannot enqueue job "send_email": options.maxAtempts is not an option (did you mean maxAttempts?)',
      ],
      [
        { runat: 5 },
        'Cannot enqueue job "send_email": options.runat is not an option (did you mean runAt?)',
      ],
      [
        { delay: 1, colour: "red" },
        'Cannot enqueue job "send_email": options.colour is not an option ' +
        "(options are delay, runAt, priority, id, queue, maxAttempts, timeout, dedupe, group)",
      ],
      // An explicit undefined is still a misspelling.
      [
        { prority: undefined },
        'Cannot enqueue job "send_email": options.prority is not an option (did you mean priority?)',
      ],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(queue.enqueue(task, null, options as never), {
        name: "TypeError",
        message,
      });
      await assert.rejects(queue.enqueue("send_email", null, options as never), {
        name: "TypeError",
        message,
      });
      await assert.rejects(queue.enqueueMany(task, [1, 2], options as never), {
        name: "TypeError",
        message,
      });
    }
    await empty();
  });

  test("Queue constructor, result, list and prune", async () => {
    const { queue, storage } = setup();
    assert.throws(() => new Queue({ storage, maxPayloadByte: 10 } as never), {
      name: "TypeError",
      message:
        "Cannot create Queue: options.maxPayloadByte is not an option (did you mean maxPayloadBytes?)",
    });
    const job = await queue.enqueue(task, null);
    await assert.rejects(queue.result(job.id, { timout: 5 } as never), {
      name: "TypeError",
      message: "Cannot wait for result: options.timout is not an option (did you mean timeout?)",
    });
    await assert.rejects(queue.list("default", "waiting", { limt: 5 } as never), {
      name: "TypeError",
      message: "Cannot list jobs: options.limt is not an option (did you mean limit?)",
    });
    await assert.rejects(
      queue.prune(
        "default",
        { complete: { count: 1, age: 1 }, failed: { count: 1, age: 1 } } as never,
      ),
      {
        name: "TypeError",
        message:
          "Cannot prune queue: retention.complete is not an option (did you mean completed?)",
      },
    );
    await assert.rejects(
      queue.prune("default", {
        completed: { count: 1, age: 1 },
        failed: { count: 1, ages: 1 },
      } as never),
      {
        name: "TypeError",
        message: "Cannot prune queue: retention.failed.ages is not an option (did you mean age?)",
      },
    );
    assert.equal((await queue.getJob(job.id))?.state, "waiting");
  });

  test("defineTask", () => {
    const handler = () => {};
    assert.throws(() => defineTask({ name: "t", handler, maxAtempts: 5 } as never), {
      name: "TypeError",
      message:
        'Cannot define task "t": options.maxAtempts is not an option (did you mean maxAttempts?)',
    });
    assert.throws(() => defineTask({ name: "t", handler, retryif: () => true } as never), {
      name: "TypeError",
      message: 'Cannot define task "t": options.retryif is not an option (did you mean retryIf?)',
    });
  });

  test("Worker constructor, its retention, and stop", async () => {
    const storage = new MemoryStorage();
    assert.throws(() => new Worker({ storage, tasks: [task], concurency: 5 } as never), {
      name: "TypeError",
      message:
        "Cannot create Worker: options.concurency is not an option (did you mean concurrency?)",
    });
    assert.throws(
      () => new Worker({ storage, tasks: [task], retention: { completed: { cont: 0 } } } as never),
      {
        name: "TypeError",
        message:
          "Cannot create Worker: retention.completed.cont is not an option (did you mean count?)",
      },
    );
    assert.throws(
      () => new Worker({ storage, tasks: [task], retention: { done: { count: 0 } } } as never),
      /Cannot create Worker: retention\.done is not an option \(options are completed, failed\)/,
    );
    const worker = new Worker({ storage, tasks: [task], clock: new FakeClock() });
    await worker.start();
    assert.throws(() => worker.stop({ timout: 0 } as never), {
      name: "TypeError",
      message: "Cannot stop worker: options.timout is not an option (did you mean timeout?)",
    });
    await worker.stop({ timeout: 0 });
  });

  test("retry strategy options and MemoryStorage", () => {
    assert.throws(() => exponential({ bse: 100 } as never), {
      name: "TypeError",
      message: "exponential(): options.bse is not an option (did you mean base?)",
    });
    assert.throws(() => exponential({ jiter: true } as never), /did you mean jitter\?/);
    assert.throws(() => new MemoryStorage({ clok: new FakeClock() } as never), {
      name: "TypeError",
      message: "Cannot create MemoryStorage: options.clok is not an option (did you mean clock?)",
    });
  });

  test("known options still work, and inherited or symbol keys are not options", async () => {
    const { queue } = setup();
    const job = await queue.enqueue(task, null, { delay: 5, priority: 1, maxAttempts: 2 });
    assert.equal(job.state, "delayed");
    // A symbol key is not an option name anyone could have misspelt.
    await queue.enqueue(task, null, { [Symbol("meta")]: 1 } as never);
    // Nor is a key inherited from a prototype: only the caller's own keys are checked.
    const inherited = Object.create({ extra: 1 });
    inherited.delay = 5;
    assert.equal((await queue.enqueue(task, null, inherited)).state, "delayed");
    assert.equal(exponential({ base: 10, factor: 3 })(2, null), 30);
  });
});
