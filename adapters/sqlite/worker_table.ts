/**
 * The registry of live workers (`workers` table) and its events on the
 * workers' stream: as MemoryStorage's `WorkerRegistry`, in SQL.
 *
 * @module
 */

import type { WorkerInfo } from "../../core/storage_events.ts";
import { WORKER_STREAM } from "../../core/storage_events.ts";
import type { Database } from "./database.ts";
import type { Step } from "./step.ts";

/**
 * Registrations of live workers, each until its expiry.
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { openSchema } from "./schema.ts";
 * import { WorkerTable } from "./worker_table.ts";
 * import { DEFAULT_BUSY_POLICY } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * await openSchema(db, { busy: DEFAULT_BUSY_POLICY });
 * console.log(new WorkerTable(db).list()); // []
 * db.close();
 * ```
 */
export class WorkerTable {
  readonly #db: Database;

  /** The registry of `db`. */
  constructor(db: Database) {
    this.#db = db;
  }

  /** Records `worker` until `now + ttlMs`, with its `online` or `heartbeat` event. */
  register(
    step: Step,
    worker: WorkerInfo,
    kind: "online" | "heartbeat",
    ttlMs: number,
    now: number,
  ): void {
    this.expire(step, now);
    const info = { ...worker, queues: worker.queues.slice() };
    // An upsert keeps the row (its rowid: the order registrations expire in), as a Map's set.
    this.#db.prepare(
      "INSERT INTO workers (id, info, expires_at) VALUES (?, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET info = excluded.info, expires_at = excluded.expires_at",
    ).run(info.id, JSON.stringify(info), now + ttlMs);
    step.event(WORKER_STREAM, { type: kind, at: now, worker: info });
  }

  /** Removes `id`'s registration with an `offline` event (reason "stopped"); nothing if none. */
  unregister(step: Step, id: string, now: number): void {
    const row = this.#db.prepare("SELECT info FROM workers WHERE id = ?").get(id);
    if (row === undefined) return;
    this.#db.prepare("DELETE FROM workers WHERE id = ?").run(id);
    step.event(WORKER_STREAM, {
      type: "offline",
      at: now,
      worker: JSON.parse(String(row.info)),
      reason: "stopped",
    });
  }

  /** Removes registrations that expired at or before `now`, each with an `offline` event. */
  expire(step: Step, now: number): void {
    const rows = this.#db.prepare(
      "SELECT id, info FROM workers WHERE expires_at <= ? ORDER BY rowid",
    ).all(now);
    for (const row of rows) {
      this.#db.prepare("DELETE FROM workers WHERE id = ?").run(row.id);
      step.event(WORKER_STREAM, {
        type: "offline",
        at: now,
        worker: JSON.parse(String(row.info)),
        reason: "expired",
      });
    }
  }

  /** The registered workers, by id (call `expire` first in the same transaction). */
  list(): WorkerInfo[] {
    return this.#db.prepare("SELECT info FROM workers ORDER BY id").all()
      .map((row) => JSON.parse(String(row.info)) as WorkerInfo);
  }
}
