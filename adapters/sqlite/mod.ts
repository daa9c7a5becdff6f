/**
 * `SqliteStorage`: durable jobs in one SQLite file, on the runtime's own
 * SQLite (`node:sqlite` on Node 22.5+ and Deno, `bun:sqlite` on Bun), with
 * no dependency and no server. Any number of processes on one machine may
 * share the file; every port call is one transaction.
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
