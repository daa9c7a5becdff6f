/**
 * Reading the event streams (`events`, `streams` tables) that every
 * {@linkcode Step} appends to: a page of events after each cursor.
 *
 * @module
 */

import type { EventRead, StorageEvent } from "../../core/storage_events.ts";
import { WORKER_STREAM } from "../../core/storage_events.ts";
import type { Database } from "./database.ts";

/**
 * The streams a read covers: its queues, and the workers' when asked.
 *
 * @example
 * ```ts
 * import { streamsOf } from "./event_reader.ts";
 *
 * console.log(streamsOf({ queues: ["a"], workers: true, after: {}, limit: 1, maxWaitMs: 0 }));
 * // ["a", "@workers"]
 * ```
 */
export function streamsOf(request: EventRead): string[] {
  return request.workers ? [...request.queues, WORKER_STREAM] : [...request.queues];
}

/**
 * The cursors a read starts from: the request's, or each stream's end for
 * a stream it left out (so it reads only what comes after the call).
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { startCursors } from "./event_reader.ts";
 * import { openSchema } from "./schema.ts";
 * import { DEFAULT_BUSY_POLICY } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * await openSchema(db, { busy: DEFAULT_BUSY_POLICY });
 * console.log(startCursors(db, ["a", "b"], { a: "5" })); // { a: "5", b: "0" }
 * db.close();
 * ```
 */
export function startCursors(
  db: Database,
  streams: readonly string[],
  after: Readonly<Record<string, string>>,
): Record<string, string> {
  const cursors: Record<string, string> = {};
  const last = db.prepare("SELECT last_id FROM streams WHERE name = ?");
  for (const name of streams) {
    cursors[name] = after[name] ?? String(last.get(name)?.last_id ?? 0);
  }
  return cursors;
}

/**
 * Up to `limit` events of each stream after its cursor, in order; moves
 * each cursor to the last event returned.
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { collectEvents } from "./event_reader.ts";
 * import { openSchema } from "./schema.ts";
 * import { DEFAULT_BUSY_POLICY } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * await openSchema(db, { busy: DEFAULT_BUSY_POLICY });
 * console.log(collectEvents(db, ["a"], { a: "0" }, 10)); // []
 * db.close();
 * ```
 */
export function collectEvents(
  db: Database,
  streams: readonly string[],
  cursors: Record<string, string>,
  limit: number,
): StorageEvent[] {
  const events: StorageEvent[] = [];
  const after = db.prepare(
    "SELECT id, body FROM events WHERE stream = ? AND id > ? ORDER BY id LIMIT ?",
  );
  for (const name of streams) {
    const rows = after.all(name, Number(cursors[name]), limit);
    if (rows.length === 0) continue;
    for (const row of rows) {
      const event = JSON.parse(String(row.body));
      events.push({ id: String(row.id), ...event });
    }
    cursors[name] = String(rows[rows.length - 1].id);
  }
  return events;
}
