// SqliteStorage against the storage contracts, on a temp-dir file and on
// :memory:, and what is its own: waking across processes (connections) on
// one file, and data surviving a reopen.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStorage, type SqliteStorageOptions } from "../adapters/sqlite/mod.ts";
import { ChangeWatch } from "../adapters/sqlite/change_watch.ts";
import { openDatabase } from "../adapters/sqlite/database.ts";
import { WAL_SIZE_LIMIT } from "../adapters/sqlite/schema.ts";
import type { NewJob } from "../core/storage.ts";
import { type ContractFixture, storageContract } from "./storage_contract.ts";
import { type DedupeFixture, storageDedupeContract } from "./storage_dedupe_contract.ts";
import { type EventsFixtureOptions, storageEventsContract } from "./storage_events_contract.ts";
import { storageInputContract } from "./storage_input_contract.ts";
import { storageLimitsContract } from "./storage_limits_contract.ts";
import { storageSchedulesContract } from "./storage_schedules_contract.ts";

const dir = mkdtempSync(join(tmpdir(), "taskmill-sqlite-storage-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function freshPath(): string {
  return join(dir, `jobs-${++files}.db`);
}

/** Runs `sql` on the file at `path` through a connection of its own (as another process would). */
async function onFile<T>(path: string, run: (db: Awaited<ReturnType<typeof openDatabase>>) => T) {
  const db = await openDatabase(path);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    return run(db);
  } finally {
    db.close();
  }
}

/** A fixture on a fresh file (corrupt and dedupeEntries reach it through their own connection). */
function onAFile(options: Partial<SqliteStorageOptions> = {}): Promise<DedupeFixture> {
  const path = freshPath();
  const storage = new SqliteStorage({ ...options, path });
  return Promise.resolve({
    storage,
    cleanup: async () => {
      await storage.close();
      for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
    },
    corrupt: (id: string) =>
      onFile(path, (db) => {
        const changed = db.prepare("UPDATE jobs SET payload = '{not json' WHERE id = ?").run(id);
        assert.equal(changed.changes, 1, `job ${id} is stored`);
      }),
    dedupeEntries: (queue: string) =>
      onFile(
        path,
        (db) =>
          Number(db.prepare("SELECT count(*) AS n FROM dedupe_keys WHERE queue = ?").get(queue)!.n),
      ),
  });
}

/** A fixture in memory: no other connection can reach it, so nothing to corrupt from outside. */
function inMemory(options: Partial<SqliteStorageOptions> = {}): Promise<ContractFixture> {
  const storage = new SqliteStorage({ ...options, path: ":memory:" });
  return Promise.resolve({ storage, cleanup: () => storage.close() });
}

storageContract("SqliteStorage (file)", () => onAFile());
storageContract("SqliteStorage (:memory:)", () => inMemory(), { corrupt: false });
storageEventsContract(
  "SqliteStorage (file)",
  (options: EventsFixtureOptions = {}) => onAFile(options),
);
storageEventsContract(
  "SqliteStorage (:memory:)",
  (options: EventsFixtureOptions = {}) => inMemory(options),
);
storageSchedulesContract("SqliteStorage (file)", () => onAFile());
storageSchedulesContract("SqliteStorage (:memory:)", () => inMemory());
storageInputContract("SqliteStorage (file)", () => onAFile());
storageInputContract("SqliteStorage (:memory:)", () => inMemory());
storageLimitsContract("SqliteStorage (file)", () => onAFile());
storageLimitsContract("SqliteStorage (:memory:)", () => inMemory());
storageDedupeContract("SqliteStorage (file)", () => onAFile());
storageDedupeContract("SqliteStorage (:memory:)", () => inMemory());

const T0 = 1_000_000;

function newJob(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: "sqlite_task",
    queue: "alpha",
    payload: { id },
    priority: 0,
    maxAttempts: 3,
    maxStalls: 1,
    timeout: 0,
    runAt: T0,
    ...overrides,
  };
}

describe("SqliteStorage", () => {
  test("jobs, events and schedules survive closing and reopening the file", async () => {
    const path = freshPath();
    const first = new SqliteStorage({ path });
    await first.enqueue([newJob("a"), newJob("b", { runAt: T0 + 1_000 })], T0);
    const { jobs } = await first.reserve({
      queues: ["alpha"],
      limit: 1,
      owner: "w",
      leaseMs: 30_000,
      now: T0,
    });
    await first.close();
    const again = new SqliteStorage({ path });
    assert.deepEqual(await again.getJob("a"), jobs[0]);
    assert.equal((await again.getJob("b"))?.state, "delayed");
    assert.deepEqual(await again.counts("alpha"), {
      waiting: 0,
      delayed: 1,
      active: 1,
      completed: 0,
      failed: 0,
    });
    const page = await again.readEvents({
      queues: ["alpha"],
      after: { alpha: "0" },
      limit: 10,
      maxWaitMs: 0,
    });
    assert.deepEqual(page.events.map((event) => event.type), ["enqueued", "enqueued", "active"]);
    assert.equal(
      await again.settle([{ kind: "complete", id: "a", token: jobs[0].lease!.token }], {
        now: T0 + 1,
      }).then(([applied]) => applied),
      true,
      "the lease taken before the reopen still holds",
    );
    await again.close();
  });

  test("a wait is woken by an enqueue of another instance on the file, within pollMs", async () => {
    const path = freshPath();
    const waiting = new SqliteStorage({ path, pollMs: 20 });
    const other = new SqliteStorage({ path });
    await waiting.queues(); // opened
    await other.queues();
    const controller = new AbortController();
    const started = Date.now();
    const wait = waiting.waitForWork(["alpha"], 10_000, controller.signal);
    await other.enqueue([newJob("a")], T0);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      wait.then(() => "woken" as const),
      new Promise<"deadline">((resolve) => timer = setTimeout(() => resolve("deadline"), 2_000)),
    ]);
    clearTimeout(timer);
    controller.abort();
    assert.equal(outcome, "woken");
    assert.ok(Date.now() - started < 1_000, "well before maxWaitMs");
    assert.equal((await waiting.getJob("a"))?.state, "waiting");
    await waiting.close();
    await other.close();
  });

  test("readEvents waiting for events is woken by another instance's commit", async () => {
    const path = freshPath();
    const reader = new SqliteStorage({ path, pollMs: 20 });
    const writer = new SqliteStorage({ path });
    await writer.pause("alpha", T0);
    const read = reader.readEvents({
      queues: ["alpha"],
      after: { alpha: "1" },
      limit: 10,
      maxWaitMs: 5_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the read is waiting by now
    await writer.resume("alpha", T0 + 1);
    const started = Date.now();
    const page = await read;
    assert.ok(Date.now() - started < 1_000, "well before maxWaitMs");
    assert.deepEqual(page.events.map((event) => event.type), ["resumed"]);
    assert.deepEqual(page.cursors, { alpha: "2" });
    await reader.close();
    await writer.close();
  });

  test("a wait from a read's version misses no commit made after the read", async () => {
    const path = freshPath();
    (await SqliteStorage.open({ path })).close();
    const db = await openDatabase(path);
    const watch = new ChangeWatch(db, 60_000); // a poll would come far too late to count
    const signal = new AbortController().signal;
    const settled = async (wait: Promise<void>) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        wait.then(() => "resolved" as const),
        new Promise<"waiting">((resolve) => timer = setTimeout(() => resolve("waiting"), 300)),
      ]);
      clearTimeout(timer);
      return outcome;
    };
    // Nothing committed since the read: it waits, until this process's next commit.
    let version = watch.version();
    const quiet = watch.wait("events", ["alpha"], 10_000, signal, version);
    assert.equal(await settled(quiet), "waiting");
    watch.notify({ work: [], events: ["alpha"] });
    assert.equal(await settled(quiet), "resolved");
    // Another connection (process) committed after the read: at once.
    version = watch.version();
    await onFile(path, (other) => other.exec("INSERT INTO counters (name, value) VALUES ('x', 1)"));
    assert.equal(
      await settled(watch.wait("events", ["alpha"], 10_000, signal, version)),
      "resolved",
    );
    // This process committed (on another stream) after the read: at once too.
    version = watch.version();
    watch.notify({ work: ["beta"], events: [] });
    assert.equal(
      await settled(watch.wait("events", ["alpha"], 10_000, signal, version)),
      "resolved",
    );
    watch.close();
    db.close();
  });

  test("two instances on one file never reserve a job twice", async () => {
    const path = freshPath();
    const a = new SqliteStorage({ path });
    const b = new SqliteStorage({ path });
    const ids = Array.from({ length: 200 }, (_, i) => `j${i}`);
    await a.enqueue(ids.map((id) => newJob(id)), T0);
    const taken: string[] = [];
    const drain = async (storage: SqliteStorage, owner: string) => {
      for (;;) {
        const { jobs } = await storage.reserve({
          queues: ["alpha"],
          limit: 7,
          owner,
          leaseMs: 30_000,
          now: T0,
        });
        if (jobs.length === 0) return;
        for (const job of jobs) taken.push(job.id);
      }
    };
    await Promise.all([drain(a, "a"), drain(b, "b")]);
    assert.equal(taken.length, ids.length);
    assert.deepEqual(taken.slice().sort(), ids.slice().sort());
    await a.close();
    await b.close();
  });

  test("under steady load with retention the file stops growing (pages are reused)", async () => {
    const path = freshPath();
    const storage = new SqliteStorage({ path, eventBacklog: 5_000 });
    const keep = { count: 500, age: 60_000 };
    const retention = { completed: keep, failed: keep };
    const pages: number[] = [];
    let now = T0;
    for (let round = 0; round < 12; round++) {
      const jobs = Array.from({ length: 1_000 }, (_, i) => newJob(`r${round}-${i}`));
      await storage.enqueue(jobs, now);
      const { jobs: reserved } = await storage.reserve({
        queues: ["alpha"],
        limit: 1_000,
        owner: "w",
        leaseMs: 30_000,
        now,
      });
      assert.equal(reserved.length, 1_000);
      await storage.settle(
        reserved.map((job) => ({ kind: "complete", id: job.id, token: job.lease!.token })),
        { now, retention },
      );
      now += 10;
      pages.push(
        await onFile(path, (db) => {
          db.exec("PRAGMA wal_checkpoint(TRUNCATE)"); // count the file's pages, WAL included
          return Number(db.prepare("PRAGMA page_count").get()!.page_count);
        }),
      );
    }
    assert.equal((await storage.counts("alpha")).completed, 500);
    // Past the first rounds (the backlog of events and the kept jobs filling up), flat.
    assert.ok(pages[11] <= pages[3] * 1.1, `pages per round: ${pages.join(", ")}`);
    await storage.close();
  });

  test("the WAL file is cut back after a large write is checkpointed", async () => {
    const path = freshPath();
    const storage = await SqliteStorage.open({ path, eventBacklog: 0 });
    const pad = "x".repeat(200);
    await storage.enqueue(
      Array.from({ length: 100_000 }, (_, i) => newJob(`w${i}`, { payload: { i, pad } })),
      T0,
    );
    const grown = statSync(`${path}-wal`).size;
    assert.ok(grown > WAL_SIZE_LIMIT, `the batch made a WAL of ${grown} bytes`);
    // Small writes after the automatic checkpoint start the WAL over, cut back.
    for (let i = 0; i < 5; i++) await storage.pause(`q${i}`, T0);
    const after = statSync(`${path}-wal`).size;
    assert.ok(after <= WAL_SIZE_LIMIT, `the WAL is ${after} bytes`);
    assert.equal((await storage.counts("alpha")).waiting, 100_000);
    await storage.close();
  });

  test("calls after close fail with a StorageError; waits resolve at once", async () => {
    const storage = new SqliteStorage({ path: ":memory:" });
    await storage.queues();
    await storage.close();
    await assert.rejects(storage.getJob("a"), /SqliteStorage is closed/);
    await storage.waitForWork(["alpha"], 60_000, new AbortController().signal);
  });

  test("a refused file fails every call with the SqliteFileError, unchanged", async () => {
    const path = freshPath();
    await onFile(path, (db) => db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)"));
    const storage = new SqliteStorage({ path });
    await assert.rejects(storage.counts("alpha"), { name: "SqliteFileError", problem: "foreign" });
    await assert.rejects(SqliteStorage.open({ path }), { name: "SqliteFileError" });
    const tables = await onFile(
      path,
      (db) =>
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) =>
          row.name
        ),
    );
    assert.deepEqual(tables, ["users"]);
    await storage.close();
  });
});
