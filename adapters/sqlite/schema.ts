/**
 * The database file's schema: its tables, its version, and how a file is
 * checked, created and migrated when SqliteStorage opens it.
 *
 * The version is SQLite's `PRAGMA user_version` (in the file's header, so
 * reading it costs nothing), and a `taskmill_meta` table names the
 * application, so a SQLite file of some other program (whose own
 * `user_version` may be anything) is told apart from a taskmill file.
 *
 * Opening checks before it changes anything: it reads the version and the
 * table names, and refuses, leaving every byte of the file as it was, a
 * file that is not SQLite or is corrupt, a SQLite database of another
 * application, and a taskmill database of a newer schema. Only then does it
 * switch to WAL mode and create the schema (a new or empty file) or migrate
 * an older one, in one transaction.
 *
 * Space: SQLite reuses the pages that deleted rows free (retention, trimmed
 * events), so under steady load with retention the file stops growing; it
 * does not shrink (no VACUUM). The WAL is cut back to
 * {@linkcode WAL_SIZE_LIMIT} after each checkpoint.
 *
 * @module
 */

import type { Database } from "./database.ts";
import { shownPath, SQLITE_CORRUPT, SQLITE_NOTADB, sqliteCode, SqliteFileError } from "./errors.ts";
import { StorageError } from "../../core/errors.ts";
import { type BusyPolicy, readTransaction, retryOnBusy, writeTransaction } from "./transaction.ts";

/**
 * The size the WAL file is cut back to after a checkpoint, bytes (16 MiB):
 * SQLite otherwise keeps it as large as the largest write ever made it.
 */
export const WAL_SIZE_LIMIT: number = 16 * 1024 * 1024;

/** The `application` that `taskmill_meta` names in a taskmill database. */
export const APPLICATION = "taskmill";

/**
 * One step of the schema: the statements that take a file from
 * `version - 1` to `version`, run in the opening's one transaction.
 *
 * @example
 * ```ts
 * import type { Migration } from "./schema.ts";
 *
 * const addNote: Migration = { version: 2, sql: "ALTER TABLE jobs ADD COLUMN note TEXT" };
 * ```
 */
export interface Migration {
  /** The version the file has after it (1 is the first schema). */
  version: number;
  /** Its statements. */
  sql: string;
}

/**
 * Version 1, the first schema. Times are epoch ms as the port passes them
 * (REAL where a caller's `now` may be fractional); JSON is stored as text.
 * `seq` is the store's own sequence (the `counters` row `seq`): the order
 * in which jobs became waiting or delayed, or finished, never time (the
 * port's `now` may go backwards across machines).
 */
const SCHEMA_1 = `
CREATE TABLE taskmill_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per job (core/task.ts JobRecord; core/storage.ts NewJob).
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  name TEXT NOT NULL,
  payload TEXT,              -- JSON; NULL when the payload was undefined
  state TEXT NOT NULL CHECK (state IN ('waiting', 'delayed', 'active', 'completed', 'failed')),
  priority REAL NOT NULL,
  seq INTEGER NOT NULL,      -- order within the state (see above); active: reservation order
  run_at REAL NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER,      -- NULL: the task's, filled in at reserve
  stalls INTEGER NOT NULL DEFAULT 0,
  max_stalls INTEGER,
  timeout INTEGER,
  enqueued_at REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  lease_owner TEXT,          -- the lease, while active
  lease_token TEXT,
  lease_until REAL,
  lease_seq INTEGER,         -- the lease grant's order among equal expiries (moves on renewal)
  progress TEXT,             -- JSON
  result TEXT,               -- JSON
  error TEXT,                -- JSON JobError: the last one
  errors TEXT,               -- JSON JobError[]: the last 10
  dedupe_key TEXT,
  hold_until REAL,           -- enqueued_at + the dedupe ttl
  grp TEXT,                  -- the job's group
  raw TEXT                   -- a record that could not be parsed, kept as it was
) WITHOUT ROWID;

-- Reserve: the next waiting job of a queue by priority, then the order it became waiting.
CREATE INDEX jobs_waiting ON jobs (queue, priority DESC, seq) WHERE state = 'waiting';
CREATE INDEX jobs_waiting_group ON jobs (queue, grp, priority DESC, seq)
  WHERE state = 'waiting' AND grp IS NOT NULL;
-- The turns of a queue with groups take its ungrouped jobs apart from the lanes'.
CREATE INDEX jobs_waiting_ungrouped ON jobs (queue, priority DESC, seq)
  WHERE state = 'waiting' AND grp IS NULL;
-- Promotion and the delayed listing: by run_at, then the order they were delayed.
CREATE INDEX jobs_delayed ON jobs (queue, run_at, seq) WHERE state = 'delayed';
-- Reclaims and nextAt: the earliest lease expiry; the active listing by startedAt.
CREATE INDEX jobs_leases ON jobs (queue, lease_until, lease_seq) WHERE state = 'active';
CREATE INDEX jobs_started ON jobs (queue, started_at, seq) WHERE state = 'active';
CREATE INDEX jobs_active_group ON jobs (queue, grp) WHERE state = 'active' AND grp IS NOT NULL;
-- Counts per state; listing (newest first) and retention (oldest first) of finished jobs.
CREATE INDEX jobs_state ON jobs (queue, state, seq);

-- Every queue the store knows, its pause flag, limits and hold.
CREATE TABLE queues (
  name TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  limits TEXT,               -- JSON QueueLimits
  hold_until REAL,           -- a release's holdUntil of an ungrouped job
  ungrouped_turn INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- A queue's groups (their lanes): override, hold and place in the turns
-- ('idle', 'ready' from turn, 'full' until a job leaves active, 'timed' until free_at).
CREATE TABLE groups (
  queue TEXT NOT NULL,
  name TEXT NOT NULL,
  born INTEGER NOT NULL,     -- creation order (seq)
  override TEXT,             -- JSON GroupLimits
  hold_until REAL,
  place TEXT NOT NULL DEFAULT 'idle',
  turn INTEGER NOT NULL DEFAULT 0, -- ready: its turn; timed: its order among equal free_at
  free_at REAL,
  PRIMARY KEY (queue, name)
) WITHOUT ROWID;
CREATE INDEX groups_place ON groups (queue, place, turn);

-- The sliding rate logs: one row per counted start ('' = the queue's own log).
CREATE TABLE rate_starts (
  queue TEXT NOT NULL,
  grp TEXT NOT NULL,
  at REAL NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (queue, grp, seq)
) WITHOUT ROWID;
CREATE INDEX rate_starts_at ON rate_starts (queue, grp, at);

-- Which job holds a dedupe key of a queue.
CREATE TABLE dedupe_keys (
  queue TEXT NOT NULL,
  key TEXT NOT NULL,
  job_id TEXT NOT NULL,
  hold_until REAL,           -- set once its job finished with a ttl still holding
  PRIMARY KEY (queue, key)
) WITHOUT ROWID;
CREATE INDEX dedupe_keys_held ON dedupe_keys (queue, hold_until) WHERE hold_until IS NOT NULL;
CREATE INDEX dedupe_keys_job ON dedupe_keys (job_id);

-- Event streams: one per queue and '@workers'; ids count 1, 2, ... per stream.
CREATE TABLE streams (
  name TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE events (
  stream TEXT NOT NULL,
  id INTEGER NOT NULL,
  body TEXT NOT NULL,        -- JSON StorageEvent without its id
  PRIMARY KEY (stream, id)
) WITHOUT ROWID;

-- Live workers (a rowid table: expiry goes in the order they registered).
CREATE TABLE workers (
  id TEXT NOT NULL UNIQUE,
  info TEXT NOT NULL,        -- JSON WorkerInfo
  expires_at REAL NOT NULL
);
CREATE INDEX workers_expiry ON workers (expires_at);

-- Schedules: the record as JSON, with what dueSchedules selects by.
CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  next_run_at REAL NOT NULL,
  record TEXT NOT NULL       -- JSON ScheduleRecord
) WITHOUT ROWID;
CREATE INDEX schedules_due ON schedules (queue, next_run_at);
`;

/**
 * Version 2: fewer index entries per job, and events in chunks. A job's
 * changes of state cost index writes, so the jobs' indexes are cut to one
 * per state a query reads by: the waiting jobs by lane (the jobs without a
 * group, `grp` NULL, sort first), which both plain reserves and the turns
 * read, and the finished jobs by state; the active listing sorts the few
 * active jobs instead of indexing them twice. Events were one row each
 * (three writes and three deletes per job); now each transaction appends
 * one chunk per stream (`body` a JSON array of the events `first_id` to
 * `last_id`), trimmed a chunk at a time, and `streams.kept_from` is the
 * oldest event id still kept, so readers see exactly the backlog.
 */
const SCHEMA_2 = `
DROP INDEX jobs_waiting;
DROP INDEX jobs_waiting_group;
DROP INDEX jobs_waiting_ungrouped;
DROP INDEX jobs_started;
DROP INDEX jobs_state;
-- Reserve, the turns, counts and the waiting listing: a queue's lanes (NULL first), each in
-- priority order, then the order its jobs became waiting. Plain reserves read the NULL lane:
-- a queue with grouped waiting jobs has their lanes, so it reserves through the turns.
CREATE INDEX jobs_waiting ON jobs (queue, grp, priority DESC, seq) WHERE state = 'waiting';
-- Counts, listing (newest first) and retention (oldest first) of finished jobs.
CREATE INDEX jobs_completed ON jobs (queue, seq) WHERE state = 'completed';
CREATE INDEX jobs_failed ON jobs (queue, seq) WHERE state = 'failed';

ALTER TABLE streams ADD COLUMN kept_from INTEGER NOT NULL DEFAULT 1;
UPDATE streams SET kept_from = coalesce(
  (SELECT min(id) FROM events WHERE events.stream = streams.name), last_id + 1);
ALTER TABLE events RENAME TO events_1;
CREATE TABLE events (
  stream TEXT NOT NULL,
  last_id INTEGER NOT NULL,
  first_id INTEGER NOT NULL,
  body TEXT NOT NULL,        -- JSON array: the StorageEvents first_id..last_id without their ids
  PRIMARY KEY (stream, last_id)
) WITHOUT ROWID;
INSERT INTO events (stream, last_id, first_id, body)
  SELECT stream, id, id, '[' || body || ']' FROM events_1;
DROP TABLE events_1;
`;

/**
 * Every schema step, in order: the file's version is the number of steps
 * applied. A new step goes at the end (never change one that shipped).
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, sql: SCHEMA_1 },
  { version: 2, sql: SCHEMA_2 },
]);

/** The schema version this taskmill writes: the last migration's. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * SQLite's `synchronous` level, which decides what a committed transaction
 * survives (see {@linkcode SchemaOptions.synchronous}).
 */
export type Synchronous = "OFF" | "NORMAL" | "FULL" | "EXTRA";

/** Every {@linkcode Synchronous} level. */
export const SYNCHRONOUS_LEVELS: readonly Synchronous[] = Object.freeze([
  "OFF",
  "NORMAL",
  "FULL",
  "EXTRA",
]);

/**
 * How {@linkcode openSchema} sets the connection up.
 *
 * @example
 * ```ts
 * import type { SchemaOptions } from "./schema.ts";
 * import { DEFAULT_BUSY_POLICY } from "./transaction.ts";
 *
 * const options: SchemaOptions = { synchronous: "FULL", busy: DEFAULT_BUSY_POLICY };
 * ```
 */
export interface SchemaOptions {
  /**
   * Default `"NORMAL"`, which in WAL mode means: a committed transaction
   * survives a crash of the process (a SIGKILL included), since it is in
   * the WAL file; it may be lost only if the machine loses power or the OS
   * crashes before the next checkpoint syncs the WAL (the database is never
   * corrupted by that: the last transactions are missing). `"FULL"` syncs
   * the WAL at every commit, so a committed transaction survives those too,
   * at the cost of an fsync per write. `"EXTRA"` is FULL plus a sync of the
   * directory; `"OFF"` leaves syncing to the OS (fastest, and a power loss
   * may corrupt the file).
   */
  synchronous?: Synchronous;
  /** Locking (see `transaction.ts`). */
  busy: BusyPolicy;
  /** The schema steps (default {@linkcode MIGRATIONS}; tests pass their own). */
  migrations?: readonly Migration[];
}

/** What {@linkcode openSchema} found and did. */
export interface SchemaState {
  /** The file's schema version now. */
  version: number;
  /** The version it had before (0 for a new or empty file). */
  from: number;
}

/**
 * Checks the database of `db`, then sets it up: WAL mode, the `synchronous`
 * level, and the schema created or migrated (see the module doc). Throws a
 * {@linkcode SqliteFileError}, having changed nothing, for a file it
 * refuses; a `StorageError` if a migration fails (rolled back whole).
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { openSchema, SCHEMA_VERSION } from "./schema.ts";
 * import { DEFAULT_BUSY_POLICY } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * const state = await openSchema(db, { busy: DEFAULT_BUSY_POLICY });
 * console.log(state.from, state.version === SCHEMA_VERSION); // 0 true
 * db.close();
 * ```
 */
export async function openSchema(db: Database, options: SchemaOptions): Promise<SchemaState> {
  const migrations = options.migrations ?? MIGRATIONS;
  const latest = migrations.length;
  const synchronous = options.synchronous ?? "NORMAL";
  if (!SYNCHRONOUS_LEVELS.includes(synchronous)) {
    throw new TypeError(
      `Cannot open SQLite database: synchronous must be one of ${SYNCHRONOUS_LEVELS.join(", ")}`,
    );
  }
  // Setting the busy timeout changes nothing in the file.
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busy.busyTimeoutMs))}`);
  const path = shownPath(db.path);
  // One snapshot for every read of the inspection: another process may be
  // creating the file meanwhile, and must be seen before or after, never half.
  const from = await readTransaction(db, `open ${path}`, options.busy, () => inspect(db, latest));
  await retryOnBusy(db, `open ${path}`, options.busy, () => db.exec(`PRAGMA journal_mode = WAL`));
  db.exec(`PRAGMA synchronous = ${synchronous}`);
  // The WAL file keeps the size of the largest write between checkpoints
  // (an enqueue of 100 000 jobs: some 30 MB) unless told otherwise: after a
  // checkpoint it is cut back to this.
  db.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT}`);
  if (from === latest) return { version: latest, from };
  try {
    await writeTransaction(db, `migrate ${path}`, options.busy, () => {
      // Another process may have created or migrated the file since it was inspected.
      const now = userVersion(db);
      if (now > latest) throw new SqliteFileError("newer", db.path, newer(now, latest));
      for (const migration of migrations.slice(now)) db.exec(migration.sql);
      if (now === 0) {
        db.prepare("INSERT INTO taskmill_meta (key, value) VALUES ('application', ?)")
          .run(APPLICATION);
      }
      db.exec(`PRAGMA user_version = ${latest}`);
    });
  } catch (error) {
    if (error instanceof SqliteFileError || error instanceof StorageError) throw error;
    throw new StorageError(
      `Cannot migrate SQLite database ${path} from schema version ${from} to ${latest}: ` +
        `${(error as Error)?.message ?? error} (rolled back: the file keeps version ${from})`,
      { cause: error },
    );
  }
  return { version: latest, from };
}

/**
 * The version of a file SqliteStorage may open (0: new or empty), read
 * without writing; throws a SqliteFileError for one it must refuse.
 */
function inspect(db: Database, latest: number): number {
  let version: number;
  let tables: string[];
  let application: string | undefined;
  try {
    version = userVersion(db);
    tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all().map((row) => String(row.name));
    if (tables.includes("taskmill_meta")) {
      const row = db.prepare("SELECT value FROM taskmill_meta WHERE key = 'application'").get();
      application = row === undefined ? undefined : String(row.value);
    }
  } catch (error) {
    const code = sqliteCode(error);
    if (code === SQLITE_NOTADB) {
      throw new SqliteFileError("not-sqlite", db.path, "the file is not a SQLite database", {
        cause: error,
      });
    }
    if (code === SQLITE_CORRUPT) {
      throw new SqliteFileError(
        "corrupt",
        db.path,
        `the SQLite database is corrupt (${(error as Error).message})`,
        { cause: error },
      );
    }
    throw error;
  }
  if (application !== APPLICATION) {
    if (version === 0 && tables.length === 0) return 0; // new or empty: ours to create
    const found = application !== undefined
      ? `taskmill_meta names the application "${application}"`
      : `tables ${listed(tables)}${version === 0 ? "" : `, user_version ${version}`}`;
    throw new SqliteFileError(
      "foreign",
      db.path,
      `a SQLite database of another application, not taskmill (${found})`,
    );
  }
  if (version === 0) {
    throw new SqliteFileError(
      "foreign",
      db.path,
      "a taskmill_meta table but no schema version (user_version 0): not a database taskmill wrote",
    );
  }
  if (version > latest) throw new SqliteFileError("newer", db.path, newer(version, latest));
  return version;
}

function userVersion(db: Database): number {
  return Number(db.prepare("PRAGMA user_version").get()!.user_version);
}

function newer(version: number, latest: number): string {
  return `a taskmill database of schema version ${version}, newer than this taskmill's ` +
    `${latest}: upgrade taskmill to open it`;
}

/** Up to five names, and how many more. */
function listed(names: string[]): string {
  const shown = names.slice(0, 5).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown || "none";
}
