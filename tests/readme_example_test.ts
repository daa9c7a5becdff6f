// The README's "Testing your own handlers with FakeClock" example, verbatim
// but for the import paths, so the front door's code is known to work.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineTask, fixed, MemoryStorage, Queue, Worker } from "../mod.ts";
import { FakeClock } from "../testing.ts";

test("retries every minute until the API is back", async () => {
  const clock = new FakeClock();
  const storage = new MemoryStorage({ clock });
  let calls = 0;
  const sync = defineTask({
    name: "sync",
    maxAttempts: 5,
    retry: fixed(60_000),
    handler: () => {
      if (++calls < 3) throw new Error("503");
      return "synced";
    },
  });
  const queue = new Queue({ storage, clock });
  const worker = new Worker({ storage, clock, tasks: [sync] });
  await worker.start();
  const job = await queue.enqueue(sync, null);

  await clock.advance(119_999); //          1 ms before the second retry
  assert.equal(calls, 2);
  await clock.advance(1);
  assert.equal((await queue.getJob(job.id))?.result, "synced");
  await worker.stop();
});
