/**
 * Reading the event streams (`events`, `streams` tables) that every
 * {@linkcode Step} appends to: a page of events after each cursor.
 *
 * @module
 */

import type { EventRead, StorageEvent } from "../../core/storage_events.ts";
import { WORKER_STREAM } from "../../core/storage_events.ts";
import type { Database } from "./database.ts";

/** Chunks read per statement: a chunk holds at least one event, often hundreds. */
const CHUNKS_PER_READ = 4;

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
  const keptFrom = db.prepare("SELECT kept_from FROM streams WHERE name = ?");
  const chunks = db.prepare(
    "SELECT last_id, first_id, body FROM events WHERE stream = ? AND last_id > ? " +
      "ORDER BY last_id LIMIT ?",
  );
  for (const name of streams) {
    const stream = keptFrom.get(name);
    if (stream === undefined) continue;
    // Past the cursor, and not before the oldest event the backlog keeps.
    let from = Math.max(Number(cursors[name]) + 1, Number(stream.kept_from));
    const start = events.length;
    read: for (;;) {
      const rows = chunks.all(name, from - 1, CHUNKS_PER_READ);
      for (const row of rows) {
        const first = Number(row.first_id);
        const body = JSON.parse(String(row.body)) as Record<string, unknown>[];
        for (let id = Math.max(from, first); id <= Number(row.last_id); id++) {
          events.push({ id: String(id), ...body[id - first] } as StorageEvent);
          if (events.length - start === limit) break read;
        }
        from = Number(row.last_id) + 1;
      }
      if (rows.length < CHUNKS_PER_READ) break;
    }
    if (events.length > start) cursors[name] = events[events.length - 1].id;
  }
  return events;
}
