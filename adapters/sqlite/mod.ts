/**
 * `SqliteStorage`: durable jobs in one SQLite file, on the runtime's own
 * SQLite (`node:sqlite` on Node 22.5+ and Deno, `bun:sqlite` on Bun, found
 * by detecting the runtime), with no dependency and no server.
 *
 * - **Durable**: the file is in WAL mode and every port call is one
 *   transaction, so a call that returned is in the file, and a process
 *   killed in the middle of one (an enqueue of many jobs, a settle batch)
 *   leaves it applied whole or not at all. `synchronous: "NORMAL"` (the
 *   default) survives a crash of the process; `"FULL"` survives a power loss
 *   or an OS crash too, for an fsync per write.
 * - **Many processes, one machine**: workers in any number of processes may
 *   share the file; writes take the lock at `BEGIN IMMEDIATE`, wait for it
 *   (a short busy timeout, then a bounded backoff) and so do not fail under
 *   load. An idle worker learns of work committed by another process within
 *   `pollMs` (default 100 ms, one cheap `PRAGMA data_version` read per poll
 *   while it waits), and of its own process's at once. The processes must
 *   share the machine: WAL needs shared memory, so not a network file system.
 * - **Versioned**: the file records its schema; an older one is migrated in
 *   one transaction, and a newer one, another application's SQLite file, a
 *   file that is not SQLite or a corrupt one is refused (`SqliteFileError`),
 *   unchanged.
 * - **Bounded**: retention deletes finished jobs as on the other adapters,
 *   and SQLite reuses the freed pages, so under steady load the file stops
 *   growing; the WAL is cut back after checkpoints.
 *
 * Choose it over MemoryStorage when jobs must survive a restart, and over
 * RedisStorage when there is one machine and no Redis to run.
 *
 * @example One queue, one worker, one file
 * ```ts
 * import { defineTask, Queue, Worker } from "../../mod.ts";
 * import { SqliteStorage } from "./mod.ts";
 *
 * const storage = new SqliteStorage({ path: ":memory:" });
 * const hello = defineTask({ name: "hello", handler: (who: string) => `hello ${who}` });
 * const queue = new Queue({ storage });
 * const worker = new Worker({ storage, tasks: [hello] });
 * await worker.start();
 * const job = await queue.enqueue(hello, "world");
 * console.log(await queue.result(job.id)); // "hello world"
 * await worker.stop();
 * await storage.close();
 * ```
 *
 * @module
 */

export { SqliteStorage, type SqliteStorageOptions } from "./sqlite_storage.ts";
export { SqliteFileError, type SqliteFileProblem } from "./errors.ts";
export { SCHEMA_VERSION, type Synchronous } from "./schema.ts";
export { type BusyPolicy, DEFAULT_BUSY_POLICY } from "./transaction.ts";
