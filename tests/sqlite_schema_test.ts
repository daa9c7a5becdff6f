// SqliteStorage's foundation: the driver handle, transactions, and the
// schema's checks, creation and migrations, on a temp-dir file and :memory:.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, openDatabase } from "../adapters/sqlite/database.ts";
import { SqliteFileError } from "../adapters/sqlite/errors.ts";
import {
  APPLICATION,
  type Migration,
  MIGRATIONS,
  openSchema,
  SCHEMA_VERSION,
} from "../adapters/sqlite/schema.ts";
import {
  type BusyPolicy,
  DEFAULT_BUSY_POLICY,
  isBusy,
  readTransaction,
  writeTransaction,
} from "../adapters/sqlite/transaction.ts";
import { StorageError } from "../core/errors.ts";
import { SqliteStorage } from "../adapters/sqlite/mod.ts";

const dir = mkdtempSync(join(tmpdir(), "taskmill-sqlite-schema-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A fresh path in the temp dir (no file there yet). */
function freshPath(): string {
  return join(dir, `db-${++files}.sqlite`);
}

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** Opens `path` and sets its schema up; the caller closes it. */
async function openTaskmill(
  path: string,
  options: { synchronous?: "OFF" | "NORMAL" | "FULL" | "EXTRA"; migrations?: Migration[] } = {},
): Promise<{ db: Database; from: number; version: number }> {
  const db = await openDatabase(path);
  try {
    const state = await openSchema(db, { busy: DEFAULT_BUSY_POLICY, ...options });
    return { db, ...state };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opening `path` is refused with a SqliteFileError of `problem`, and the file is unchanged. */
async function assertRefused(path: string, problem: string, found: RegExp): Promise<void> {
  const before = readFileSync(path);
  await assert.rejects(openTaskmill(path), (error: unknown) => {
    assert.ok(error instanceof SqliteFileError, `a SqliteFileError, got ${error}`);
    assert.ok(error instanceof StorageError);
    assert.equal(error.problem, problem);
    assert.ok(error.message.includes(path), `the message names the path: ${error.message}`);
    assert.match(error.message, found);
    return true;
  });
  assert.deepEqual(readFileSync(path), before, "the file's bytes are unchanged");
}

function tableNames(db: Database): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()
    .map((row) => String(row.name));
}

describe("SQLite database handle", () => {
  test("runs on the runtime's own SQLite", async () => {
    const db = await openDatabase(":memory:");
    assert.equal(db.driver, isBun ? "bun:sqlite" : "node:sqlite");
    db.close();
    db.close(); // idempotent
  });

  test("exec, prepared statements with run, get and all", async () => {
    const db = await openDatabase(":memory:");
    db.exec("CREATE TABLE t (a, b); CREATE TABLE u (c)");
    const insert = db.prepare("INSERT INTO t VALUES (?, ?)");
    assert.deepEqual(insert.run(1, "x"), { changes: 1 });
    assert.deepEqual(insert.run(2.5, null), { changes: 1 });
    assert.equal(db.prepare("INSERT INTO t VALUES (?, ?)"), insert, "statements are cached");
    assert.deepEqual({ ...db.prepare("SELECT a, b FROM t WHERE a = ?").get(1) }, { a: 1, b: "x" });
    assert.equal(db.prepare("SELECT a FROM t WHERE a = ?").get(3), undefined);
    assert.deepEqual(
      db.prepare("SELECT a, b FROM t ORDER BY a").all().map((row) => ({ ...row })),
      [{ a: 1, b: "x" }, { a: 2.5, b: null }],
    );
    assert.deepEqual(db.prepare("UPDATE t SET b = 'y'").run(), { changes: 2 });
    db.close();
  });
});

describe("SQLite transactions", () => {
  test("commit what the function did, and return its result", async () => {
    const db = await openDatabase(":memory:");
    db.exec("CREATE TABLE t (a)");
    const result = await writeTransaction(db, "insert", DEFAULT_BUSY_POLICY, () => {
      db.prepare("INSERT INTO t VALUES (1)").run();
      return "done";
    });
    assert.equal(result, "done");
    assert.equal(db.prepare("SELECT count(*) AS n FROM t").get()!.n, 1);
    db.close();
  });

  test("roll back on an error and rethrow it; the connection stays usable", async () => {
    const db = await openDatabase(":memory:");
    db.exec("CREATE TABLE t (a)");
    const boom = new Error("boom");
    await assert.rejects(
      writeTransaction(db, "insert", DEFAULT_BUSY_POLICY, () => {
        db.prepare("INSERT INTO t VALUES (1)").run();
        throw boom;
      }),
      (error) => error === boom,
    );
    assert.equal(db.prepare("SELECT count(*) AS n FROM t").get()!.n, 0);
    // A failing statement (not ours to throw) rolls back too.
    await assert.rejects(
      writeTransaction(db, "insert", DEFAULT_BUSY_POLICY, () => {
        db.prepare("INSERT INTO t VALUES (2)").run();
        db.exec("INSERT INTO missing VALUES (1)");
      }),
      /missing/,
    );
    assert.equal(db.prepare("SELECT count(*) AS n FROM t").get()!.n, 0);
    await writeTransaction(db, "insert", DEFAULT_BUSY_POLICY, () => {
      db.prepare("INSERT INTO t VALUES (3)").run();
    });
    assert.equal(db.prepare("SELECT count(*) AS n FROM t").get()!.n, 1);
    db.close();
  });

  test("take the write lock at BEGIN (IMMEDIATE), before any write", async () => {
    const path = freshPath();
    const { db } = await openTaskmill(path);
    const other = await openDatabase(path);
    other.exec("PRAGMA busy_timeout = 0");
    await writeTransaction(db, "hold", DEFAULT_BUSY_POLICY, () => {
      assert.throws(() => other.exec("BEGIN IMMEDIATE"), (error) => isBusy(error));
    });
    other.exec("BEGIN IMMEDIATE"); // free again after the commit
    other.exec("ROLLBACK");
    other.close();
    db.close();
  });

  test("retry on SQLITE_BUSY with backoff until the lock frees", async () => {
    const path = freshPath();
    const { db } = await openTaskmill(path);
    db.exec("CREATE TABLE t (a)");
    const holder = await openDatabase(path);
    holder.exec("BEGIN IMMEDIATE");
    const release = setTimeout(() => holder.exec("COMMIT"), 150);
    const policy: BusyPolicy = { busyTimeoutMs: 10, retries: 50, backoffMs: 5, maxBackoffMs: 20 };
    db.exec(`PRAGMA busy_timeout = ${policy.busyTimeoutMs}`);
    const started = Date.now();
    let runs = 0;
    await writeTransaction(db, "insert", policy, () => {
      runs++;
      db.prepare("INSERT INTO t VALUES (1)").run();
    });
    const waited = Date.now() - started;
    clearTimeout(release);
    assert.ok(waited >= 100, `it waited for the holder (${waited} ms), beyond one busy timeout`);
    assert.equal(runs, 1, "the function ran once: only BEGIN found the lock taken");
    assert.equal(db.prepare("SELECT count(*) AS n FROM t").get()!.n, 1);
    holder.close();
    db.close();
  });

  test("give up after the bounded tries with a StorageError naming the file", async () => {
    const path = freshPath();
    const { db } = await openTaskmill(path);
    const holder = await openDatabase(path);
    holder.exec("BEGIN IMMEDIATE");
    const policy: BusyPolicy = { busyTimeoutMs: 5, retries: 3, backoffMs: 5, maxBackoffMs: 10 };
    db.exec(`PRAGMA busy_timeout = ${policy.busyTimeoutMs}`);
    let runs = 0;
    await assert.rejects(
      writeTransaction(db, "enqueue jobs", policy, () => runs++),
      (error: unknown) => {
        assert.ok(error instanceof StorageError);
        assert.match(error.message, /^Cannot enqueue jobs: /);
        assert.ok(error.message.includes(path));
        assert.match(error.message, /SQLITE_BUSY\) through 4 tries/);
        return true;
      },
    );
    assert.equal(runs, 0);
    holder.exec("ROLLBACK");
    holder.close();
    db.close();
  });

  test("a read transaction sees one snapshot", async () => {
    const path = freshPath();
    const { db } = await openTaskmill(path);
    db.exec("CREATE TABLE t (a)");
    const writer = await openDatabase(path);
    const counts = await readTransaction(db, "read", DEFAULT_BUSY_POLICY, () => {
      const first = db.prepare("SELECT count(*) AS n FROM t").get()!.n;
      writer.exec("INSERT INTO t VALUES (1)"); // another connection commits meanwhile
      const second = db.prepare("SELECT count(*) AS n FROM t").get()!.n;
      return [first, second];
    });
    assert.deepEqual(counts, [0, 0]);
    assert.equal(db.prepare("SELECT count(*) AS n FROM t").get()!.n, 1);
    writer.close();
    db.close();
  });
});

describe("SQLite schema", () => {
  for (const where of ["file", ":memory:"]) {
    test(`creates the schema on a new database (${where})`, async () => {
      const path = where === "file" ? freshPath() : ":memory:";
      const { db, from, version } = await openTaskmill(path);
      assert.equal(from, 0);
      assert.equal(version, SCHEMA_VERSION);
      assert.equal(db.prepare("PRAGMA user_version").get()!.user_version, SCHEMA_VERSION);
      assert.equal(
        db.prepare("SELECT value FROM taskmill_meta WHERE key = 'application'").get()!.value,
        APPLICATION,
      );
      assert.equal(
        db.prepare("PRAGMA journal_mode").get()!.journal_mode,
        where === "file" ? "wal" : "memory",
      );
      for (const table of ["jobs", "queues", "events", "streams", "workers", "schedules"]) {
        assert.ok(tableNames(db).includes(table), `table ${table}`);
      }
      db.close();
    });
  }

  test("the jobs table holds every field of a JobRecord and a NewJob", async () => {
    const { db } = await openTaskmill(":memory:");
    const columns = db.prepare("SELECT name FROM pragma_table_info('jobs')").all()
      .map((row) => String(row.name));
    const expected = [
      "id queue name payload state priority seq run_at attempt max_attempts stalls max_stalls",
      "timeout enqueued_at started_at finished_at lease_owner lease_token lease_until lease_seq",
      "progress result error errors dedupe_key hold_until grp raw",
    ].join(" ").split(" ");
    assert.deepEqual(columns.slice().sort(), expected.slice().sort());
    assert.throws(
      () =>
        db.prepare(
          "INSERT INTO jobs (id, queue, name, state, priority, seq, run_at, enqueued_at) " +
            "VALUES ('a', 'q', 't', 'sleeping', 0, 1, 0, 0)",
        ).run(),
      /CHECK constraint/,
      "a state outside JobState is refused",
    );
    db.close();
  });

  test("reserve, settle, counts and the listings run on indexes, without sorting", async () => {
    const { db } = await openTaskmill(":memory:");
    const plans: Record<string, string> = {
      reserve: "SELECT * FROM jobs WHERE queue = ? AND grp IS NULL AND state = 'waiting' " +
        "ORDER BY priority DESC, seq LIMIT ?",
      reserveUngrouped: "SELECT * FROM jobs WHERE queue = ? AND state = 'waiting' " +
        "AND grp IS NULL ORDER BY priority DESC, seq LIMIT 1",
      reserveGroup: "SELECT * FROM jobs WHERE queue = ? AND state = 'waiting' AND grp = ? " +
        "ORDER BY priority DESC, seq LIMIT 1",
      promote: "SELECT id, grp FROM jobs WHERE queue = ? AND state = 'delayed' AND run_at <= ? " +
        "ORDER BY run_at, seq",
      reclaim: "SELECT * FROM jobs WHERE queue = ? AND state = 'active' AND lease_until <= ? " +
        "ORDER BY lease_until, lease_seq",
      waiting: "SELECT * FROM jobs WHERE queue = ? AND state = 'waiting' " +
        "ORDER BY grp, priority DESC, seq LIMIT ? OFFSET ?",
      delayed: "SELECT * FROM jobs WHERE queue = ? AND state = 'delayed' " +
        "ORDER BY run_at, seq LIMIT ? OFFSET ?",
      completed: "SELECT * FROM jobs WHERE queue = ? AND state = 'completed' " +
        "ORDER BY seq DESC LIMIT ? OFFSET ?",
      failed: "SELECT * FROM jobs WHERE queue = ? AND state = 'failed' " +
        "ORDER BY seq DESC LIMIT ? OFFSET ?",
      pruneOldest: "SELECT id, finished_at, dedupe_key FROM jobs WHERE queue = ? " +
        "AND state = 'completed' ORDER BY seq LIMIT ?",
      settle: "DELETE FROM jobs WHERE id = ? AND state = 'active' AND lease_token = ? " +
        "RETURNING queue, grp, dedupe_key",
      counts: ["waiting", "delayed", "active", "completed", "failed"].map((state) =>
        `SELECT count(*) FROM jobs WHERE queue = ?1 AND state = '${state}'`
      ).join(" UNION ALL "),
    };
    for (const [name, sql] of Object.entries(plans)) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(
        ...Array.from(sql.matchAll(/\?(?!1)/g), () => "x"),
      ).map((row) => String(row.detail)).join("; ");
      assert.match(plan, /USING (COVERING )?(INDEX jobs_|PRIMARY KEY)/, `${name}: ${plan}`);
      assert.doesNotMatch(plan, /TEMP B-TREE|SCAN jobs\b(?! USING)/, `${name}: ${plan}`);
    }
    // The active listing sorts the active jobs (few: what workers hold) on the leases' index.
    const active = db.prepare(
      "EXPLAIN QUERY PLAN SELECT * FROM jobs WHERE queue = ? AND state = 'active' " +
        "ORDER BY started_at, seq LIMIT ? OFFSET ?",
    ).all("x", 1, 0).map((row) => String(row.detail)).join("; ");
    assert.match(active, /USING INDEX jobs_leases/, active);
    db.close();
  });

  test("synchronous is NORMAL by default, FULL when asked, and checked", async () => {
    const normal = await openTaskmill(freshPath());
    assert.equal(normal.db.prepare("PRAGMA synchronous").get()!.synchronous, 1);
    normal.db.close();
    const full = await openTaskmill(freshPath(), { synchronous: "FULL" });
    assert.equal(full.db.prepare("PRAGMA synchronous").get()!.synchronous, 2);
    full.db.close();
    await assert.rejects(
      openTaskmill(freshPath(), { synchronous: "SOMETIMES" as "FULL" }),
      /synchronous must be one of OFF, NORMAL, FULL, EXTRA/,
    );
  });

  test("reopens its own file without migrating, keeping the data", async () => {
    const path = freshPath();
    const first = await openTaskmill(path);
    first.db.prepare("INSERT INTO counters (name, value) VALUES ('seq', 7)").run();
    first.db.close();
    const again = await openTaskmill(path);
    assert.equal(again.from, SCHEMA_VERSION);
    assert.equal(again.version, SCHEMA_VERSION);
    assert.equal(again.db.prepare("SELECT value FROM counters WHERE name = 'seq'").get()!.value, 7);
    again.db.close();
  });

  test("an empty existing file is a new database", async () => {
    const path = freshPath();
    writeFileSync(path, "");
    const { db, from } = await openTaskmill(path);
    assert.equal(from, 0);
    assert.ok(tableNames(db).includes("jobs"));
    db.close();
  });

  test("migrates an older version in one transaction, keeping the data", async () => {
    const path = freshPath();
    const v1 = await openTaskmill(path, { migrations: [MIGRATIONS[0]] });
    assert.equal(v1.version, 1);
    v1.db.prepare("INSERT INTO counters (name, value) VALUES ('seq', 3)").run();
    v1.db.close();
    const steps: Migration[] = [
      MIGRATIONS[0],
      { version: 2, sql: "ALTER TABLE jobs ADD COLUMN note TEXT" },
      { version: 3, sql: "CREATE TABLE notes (id TEXT PRIMARY KEY, text TEXT)" },
    ];
    const v3 = await openTaskmill(path, { migrations: steps });
    assert.deepEqual([v3.from, v3.version], [1, 3]);
    assert.equal(v3.db.prepare("PRAGMA user_version").get()!.user_version, 3);
    const columns = v3.db.prepare("SELECT name FROM pragma_table_info('jobs')").all();
    assert.ok(columns.some((row) => row.name === "note"));
    assert.ok(tableNames(v3.db).includes("notes"));
    assert.equal(v3.db.prepare("SELECT value FROM counters WHERE name = 'seq'").get()!.value, 3);
    v3.db.close();
  });

  test("migrates a schema 1 store to the current one: jobs, events and the backlog kept", async () => {
    const path = freshPath();
    const v1 = await openTaskmill(path, { migrations: [MIGRATIONS[0]] });
    const insert = v1.db.prepare(
      "INSERT INTO jobs (id, queue, name, payload, state, priority, seq, run_at, max_attempts, " +
        "max_stalls, timeout, enqueued_at, finished_at, grp) " +
        "VALUES (?, 'q', 't', ?, ?, ?, ?, 0, 3, 1, 0, 0, ?, ?)",
    );
    insert.run("w-low", "1", "waiting", 0, 1, null, null);
    insert.run("w-high", "2", "waiting", 5, 2, null, null);
    insert.run("w-group", "3", "waiting", 9, 3, null, "g");
    insert.run("done", "4", "completed", 0, 4, 10, null);
    insert.run("broke", "5", "failed", 0, 5, 11, null);
    v1.db.prepare(
      "INSERT INTO groups (queue, name, born, place, turn) VALUES ('q', 'g', 3, " +
        "'ready', 3)",
    ).run();
    v1.db.prepare("INSERT INTO queues (name) VALUES ('q')").run();
    v1.db.prepare("INSERT INTO counters (name, value) VALUES ('seq', 5)").run();
    // A stream whose events 1-4 the backlog dropped: 5, 6, 7 kept.
    for (const id of [5, 6, 7]) {
      v1.db.prepare("INSERT INTO events (stream, id, body) VALUES ('q', ?, ?)").run(
        id,
        JSON.stringify({ type: "paused", at: id, queue: "q" }),
      );
    }
    v1.db.prepare("INSERT INTO streams (name, last_id) VALUES ('q', 7)").run();
    v1.db.close();

    const storage = new SqliteStorage({ path });
    const read = async (after: string) =>
      (await storage.readEvents({ queues: ["q"], after: { q: after }, limit: 10, maxWaitMs: 0 }))
        .events.map((event) => [event.id, event.at]);
    try {
      assert.deepEqual(await storage.counts("q"), {
        waiting: 3,
        delayed: 0,
        active: 0,
        completed: 1,
        failed: 1,
      });
      assert.deepEqual(
        (await storage.list("q", "waiting")).map((job) => job.id),
        ["w-high", "w-low", "w-group"],
      );
      assert.deepEqual((await storage.list("q", "failed")).map((job) => job.id), ["broke"]);
      assert.deepEqual(await read("0"), [["5", 5], ["6", 6], ["7", 7]]);
      assert.deepEqual(await read("6"), [["7", 7]]);
      // New events go on from the stream's last id; the queue still takes its lanes in turns.
      await storage.pause("q", 20);
      await storage.resume("q", 21);
      assert.deepEqual(await read("7"), [["8", 20], ["9", 21]]);
      const reserved = await storage.reserve({
        queues: ["q"],
        limit: 3,
        owner: "w",
        leaseMs: 1_000,
        now: 30,
      });
      assert.deepEqual(reserved.jobs.map((job) => job.id).sort(), ["w-group", "w-high", "w-low"]);
    } finally {
      await storage.close();
    }
    const db = await openDatabase(path);
    assert.equal(db.prepare("PRAGMA user_version").get()!.user_version, SCHEMA_VERSION);
    assert.ok(!tableNames(db).includes("events_1"));
    db.close();
  });

  test("a failing migration rolls back every step and leaves the old version", async () => {
    const path = freshPath();
    (await openTaskmill(path, { migrations: [MIGRATIONS[0]] })).db.close();
    const steps: Migration[] = [
      MIGRATIONS[0],
      { version: 2, sql: "CREATE TABLE notes (id TEXT PRIMARY KEY)" },
      { version: 3, sql: "ALTER TABLE nowhere ADD COLUMN x TEXT" },
    ];
    await assert.rejects(openTaskmill(path, { migrations: steps }), (error: unknown) => {
      assert.ok(error instanceof StorageError);
      assert.ok(error.message.includes(path));
      assert.match(error.message, /from schema version 1 to 3: .*nowhere.*keeps version 1/);
      return true;
    });
    const db = await openDatabase(path);
    assert.equal(db.prepare("PRAGMA user_version").get()!.user_version, 1);
    assert.ok(!tableNames(db).includes("notes"), "step 2 was rolled back with step 3");
    db.close();
    const reopened = await openTaskmill(path, { migrations: [MIGRATIONS[0]] });
    assert.equal(reopened.from, 1);
    reopened.db.close();
  });

  test("refuses a newer version, unchanged", async () => {
    const path = freshPath();
    const { db } = await openTaskmill(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    await assertRefused(
      path,
      "newer",
      new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than .* ${SCHEMA_VERSION}`),
    );
  });

  test("refuses a SQLite database of another application, unchanged", async () => {
    const path = freshPath();
    const other = await openDatabase(path);
    other.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); PRAGMA user_version = 4");
    other.exec("INSERT INTO users (name) VALUES ('ada'), ('grace')");
    other.close();
    await assertRefused(path, "foreign", /another application.*tables users, user_version 4/);
    // Its journal mode was not switched to WAL either (that would rewrite the header).
    const db = await openDatabase(path);
    assert.equal(db.prepare("PRAGMA journal_mode").get()!.journal_mode, "delete");
    db.close();
  });

  test("refuses a file whose taskmill_meta names another application, unchanged", async () => {
    const path = freshPath();
    const other = await openDatabase(path);
    other.exec("CREATE TABLE taskmill_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    other.exec(
      "INSERT INTO taskmill_meta VALUES ('application', 'jobrunner'); PRAGMA user_version = 1",
    );
    other.close();
    await assertRefused(path, "foreign", /names the application "jobrunner"/);
  });

  test("refuses a file that is not SQLite, unchanged", async () => {
    const path = freshPath();
    writeFileSync(path, "id,name\n1,ada\n".repeat(200));
    await assertRefused(path, "not-sqlite", /is not a SQLite database/);
  });

  test("refuses a corrupt SQLite database, unchanged", async () => {
    const path = freshPath();
    (await openTaskmill(path)).db.close();
    const bytes = readFileSync(path);
    // Keep the 100-byte header, overwrite the rest of page 1 (the schema's b-tree).
    bytes.fill(0xa5, 100, 4096);
    writeFileSync(path, bytes);
    await assertRefused(path, "corrupt", /corrupt \(.*malformed/);
  });

  test("errors never show the query of a file: URI (where a key would be)", () => {
    const error = new SqliteFileError("foreign", "file:/data/jobs.db?key=hunter2", "tables x");
    assert.ok(!error.message.includes("hunter2"), error.message);
    assert.ok(!error.path.includes("hunter2"));
    assert.ok(error.message.includes("file:/data/jobs.db"));
  });
});
