// The README's "Testing your own handlers with FakeClock" example, verbatim
// but for the import paths and the storage line, so the front door's code is
// known to work, on MemoryStorage and (as the README says) on RedisStorage and
// SqliteStorage.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { defineTask, fixed, MemoryStorage, Queue, type Storage, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { SqliteStorage } from "../adapters/sqlite/mod.ts";
import { FakeClock } from "../testing.ts";
import { startRedis } from "./_redis_server.ts";

const server = await startRedis();
after(() => server.stop());

function readmeExample(makeStorage: (clock: FakeClock) => Storage) {
  return async () => {
    const clock = new FakeClock();
    const storage = makeStorage(clock);
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
    await storage.close();
  };
}

test(
  "retries every minute until the API is back (MemoryStorage)",
  readmeExample((clock) => new MemoryStorage({ clock })),
);
test(
  "retries every minute until the API is back (RedisStorage)",
  readmeExample(() => new RedisStorage({ url: server.url, prefix: `readme${process.pid}` })),
);
test(
  "retries every minute until the API is back (SqliteStorage)",
  readmeExample((clock) => new SqliteStorage({ path: ":memory:", clock })),
);
