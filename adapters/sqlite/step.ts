/**
 * One port call's transaction: the store's sequence, the events the call
 * writes, and the queues it made work on, gathered while its statements run
 * and written (the sequence, the events) just before it commits. The wakes
 * are for after the commit: a transaction retried on SQLITE_BUSY starts a
 * fresh step, so nothing of a rolled-back try leaks out.
 *
 * @module
 */

import type { Database } from "./database.ts";

/** Events a stream's kept start moves past between two trims of its chunks. */
const TRIM_EVERY = 256;

/** An event as stored: the public event without its `id` (its place in the stream). */
export type StoredEvent = Record<string, unknown> & { type: string; at: number };

/**
 * The state of one transaction (see the module doc).
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { openSchema } from "./schema.ts";
 * import { Step } from "./step.ts";
 * import { DEFAULT_BUSY_POLICY } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * await openSchema(db, { busy: DEFAULT_BUSY_POLICY });
 * db.exec("BEGIN IMMEDIATE");
 * const step = new Step(db, 10_000);
 * console.log(step.seq(), step.seq()); // 1 2
 * step.event("default", { type: "paused", at: 0, queue: "default" });
 * step.finish();
 * db.exec("COMMIT");
 * console.log(step.streams); // Set { "default" }
 * db.close();
 * ```
 */
export class Step {
  readonly #db: Database;
  readonly #backlog: number;
  #seq: number | undefined;
  #seqStart = 0;
  #events = new Map<string, StoredEvent[]>();
  /** Queues on which work may have arrived (wake their waiting workers after the commit). */
  readonly work: Set<string> = new Set();
  /** Streams written to (wake their readers after the commit). */
  readonly streams: Set<string> = new Set();

  /** A step on `db` (in a transaction), keeping `backlog` events per stream (0: none). */
  constructor(db: Database, backlog: number) {
    this.#db = db;
    this.#backlog = backlog;
  }

  /** The next number of the store's sequence. */
  seq(): number {
    if (this.#seq === undefined) {
      const row = this.#db.prepare("SELECT value FROM counters WHERE name = 'seq'").get();
      this.#seq = this.#seqStart = row === undefined ? 0 : Number(row.value);
    }
    return ++this.#seq;
  }

  /** Adds `event` to `stream` (nothing when events are off). */
  event(stream: string, event: StoredEvent): void {
    if (this.#backlog === 0) return;
    let list = this.#events.get(stream);
    if (list === undefined) this.#events.set(stream, list = []);
    list.push(event);
  }

  /** Writes the sequence and the events; call last, inside the transaction. */
  finish(): void {
    if (this.#seq !== undefined && this.#seq !== this.#seqStart) {
      this.#db.prepare(
        "INSERT INTO counters (name, value) VALUES ('seq', ?) " +
          "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      ).run(this.#seq);
    }
    for (const [stream, events] of this.#events) this.#append(stream, events);
  }

  /**
   * Appends `events` to `stream` as one chunk (see schema 2), and drops the
   * chunks wholly beyond the backlog; `kept_from` marks the exact start.
   */
  #append(stream: string, events: StoredEvent[]): void {
    const db = this.#db;
    const row = db.prepare("SELECT last_id, kept_from FROM streams WHERE name = ?").get(stream);
    const first = (row === undefined ? 0 : Number(row.last_id)) + 1;
    const last = first + events.length - 1;
    const keptBefore = row === undefined ? 1 : Number(row.kept_from);
    // Events that the backlog would drop at once are counted, never written.
    const keptFrom = Math.max(keptBefore, last - this.#backlog + 1);
    const writeFrom = Math.max(first, keptFrom);
    const body = writeFrom === first ? events : events.slice(writeFrom - first);
    db.prepare("INSERT INTO events (stream, last_id, first_id, body) VALUES (?, ?, ?, ?)")
      .run(stream, last, writeFrom, JSON.stringify(body));
    db.prepare(
      "INSERT INTO streams (name, last_id, kept_from) VALUES (?, ?, ?) " +
        "ON CONFLICT (name) DO UPDATE SET last_id = excluded.last_id, kept_from = excluded.kept_from",
    ).run(stream, last, keptFrom);
    // Whole chunks go once the kept start has passed another TRIM_EVERY ids
    // (readers never see what is before kept_from, so the backlog stays exact).
    if (Math.floor(keptFrom / TRIM_EVERY) !== Math.floor(keptBefore / TRIM_EVERY)) {
      db.prepare("DELETE FROM events WHERE stream = ? AND last_id < ?").run(stream, keptFrom);
    }
    this.streams.add(stream);
  }
}
