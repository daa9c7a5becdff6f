/**
 * Transactions: every write of SqliteStorage is one `BEGIN IMMEDIATE`
 * transaction, so each port call is atomic across every process on the
 * file (IMMEDIATE takes the write lock first, so a transaction never has to
 * upgrade a read lock, which in WAL mode can fail with SQLITE_BUSY however
 * long it waits).
 *
 * Two bounds keep writers from failing under load. SQLite's busy timeout
 * (`PRAGMA busy_timeout`) makes a `BEGIN IMMEDIATE` wait for the lock inside
 * SQLite; since the drivers are synchronous that wait blocks this thread, so
 * it is kept short. When it runs out, the transaction is rolled back and
 * tried again after an asynchronous backoff (doubling, with jitter) that
 * lets this process's other work run, up to a bounded number of tries;
 * only then does the call fail with a `StorageError`.
 *
 * @module
 */

import { StorageError } from "../../core/errors.ts";
import type { Database } from "./database.ts";
import { shownPath, SQLITE_BUSY, sqliteCode } from "./errors.ts";

/**
 * How long and how often a transaction waits for the write lock.
 *
 * @example
 * ```ts
 * import type { BusyPolicy } from "./transaction.ts";
 *
 * const patient: BusyPolicy = { busyTimeoutMs: 200, retries: 20, backoffMs: 5, maxBackoffMs: 500 };
 * ```
 */
export interface BusyPolicy {
  /** SQLite's busy timeout, ms: how long one try blocks waiting for the lock. */
  busyTimeoutMs: number;
  /** Tries after the first one that found the database locked. */
  retries: number;
  /** The first backoff between tries, ms (doubling each time, with jitter). */
  backoffMs: number;
  /** The longest backoff, ms. */
  maxBackoffMs: number;
}

/**
 * The default: 100 ms of busy timeout per try and 10 more tries with backoffs
 * from 5 ms doubling up to 1 s (jittered down by up to half): 2.7 to 4.4 s of
 * a lock held by others before a write gives up.
 */
export const DEFAULT_BUSY_POLICY: Readonly<BusyPolicy> = Object.freeze({
  busyTimeoutMs: 100,
  retries: 10,
  backoffMs: 5,
  maxBackoffMs: 1_000,
});

/**
 * Whether `error` is SQLite's SQLITE_BUSY (another connection holds the lock).
 *
 * @example
 * ```ts
 * import { isBusy } from "./transaction.ts";
 *
 * console.log(isBusy(new Error("database is locked"))); // true
 * console.log(isBusy(new Error("no such table"))); // false
 * ```
 */
export function isBusy(error: unknown): boolean {
  return sqliteCode(error) === SQLITE_BUSY;
}

/**
 * Runs `fn` in one `BEGIN IMMEDIATE` transaction and commits it; on an
 * error rolls back and rethrows; on SQLITE_BUSY rolls back and tries again
 * (see the module doc), and fails with a `StorageError` naming `what` and
 * the file once the tries run out. `fn` is synchronous, so no other call of
 * this process runs inside the transaction; it may run more than once, so
 * it must do nothing but its statements (side effects go after the commit).
 * The connection must have `PRAGMA busy_timeout` set (see `schema.ts`).
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { DEFAULT_BUSY_POLICY, writeTransaction } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * db.exec("CREATE TABLE t (a)");
 * const changes = await writeTransaction(db, "insert", DEFAULT_BUSY_POLICY, () =>
 *   db.prepare("INSERT INTO t VALUES (1)").run().changes
 * );
 * console.log(changes); // 1
 * db.close();
 * ```
 */
export async function writeTransaction<T>(
  db: Database,
  what: string,
  policy: BusyPolicy,
  fn: () => T,
): Promise<T> {
  return await run(db, "BEGIN IMMEDIATE", what, policy, fn);
}

/**
 * Runs `fn` in one read transaction (`BEGIN DEFERRED`): its statements see
 * one snapshot of the file, whatever other processes commit meanwhile. In
 * WAL mode readers do not wait for writers; a rare SQLITE_BUSY (while
 * another connection recovers the WAL) is retried as in `writeTransaction`.
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { DEFAULT_BUSY_POLICY, readTransaction } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * const row = await readTransaction(db, "read", DEFAULT_BUSY_POLICY, () =>
 *   db.prepare("SELECT 1 AS one").get()
 * );
 * console.log(row); // { one: 1 }
 * db.close();
 * ```
 */
export async function readTransaction<T>(
  db: Database,
  what: string,
  policy: BusyPolicy,
  fn: () => T,
): Promise<T> {
  return await run(db, "BEGIN DEFERRED", what, policy, fn);
}

function run<T>(
  db: Database,
  begin: string,
  what: string,
  policy: BusyPolicy,
  fn: () => T,
): Promise<T> {
  return retryOnBusy(db, what, policy, () => once(db, begin, fn));
}

/**
 * Runs `attempt` until it does not fail with SQLITE_BUSY, with the backoff
 * of the module doc between tries; after the last try fails with a
 * `StorageError` naming `what` and the file. For statements that cannot run
 * in a transaction (`PRAGMA journal_mode`); `attempt` must be safe to repeat.
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { DEFAULT_BUSY_POLICY, retryOnBusy } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * await retryOnBusy(db, "set the journal mode", DEFAULT_BUSY_POLICY, () =>
 *   db.exec("PRAGMA journal_mode = WAL")
 * );
 * db.close();
 * ```
 */
export async function retryOnBusy<T>(
  db: Database,
  what: string,
  policy: BusyPolicy,
  attempt: () => T,
): Promise<T> {
  const started = Date.now();
  for (let tries = 0;; tries++) {
    try {
      return attempt();
    } catch (error) {
      if (!isBusy(error)) throw error;
      if (tries >= policy.retries) {
        const waited = Date.now() - started;
        throw new StorageError(
          `Cannot ${what}: the SQLite database ${shownPath(db.path)} stayed locked by ` +
            `another connection (SQLITE_BUSY) through ${tries + 1} tries over ${waited} ms`,
          { cause: error },
        );
      }
      const backoff = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** tries);
      // Jitter: processes that collided do not all come back at once.
      await sleep(backoff / 2 + Math.random() * backoff / 2);
    }
  }
}

/** One try: begin, `fn`, commit; anything thrown rolls back first. */
function once<T>(db: Database, begin: string, fn: () => T): T {
  db.exec(begin);
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // SQLite already rolled back (it does on some errors): nothing is open.
    }
    throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
