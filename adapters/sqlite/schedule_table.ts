/**
 * Schedules (`schedules` table): each record as JSON, with the queue and
 * `nextRunAt` it is selected by. As MemoryStorage's `ScheduleBook`, in SQL;
 * a fire's compare-and-set and its enqueue run in one transaction.
 *
 * @module
 */

import type { EnqueueResult, NewJob } from "../../core/storage.ts";
import type {
  DueSchedules,
  FireResult,
  NewSchedule,
  ScheduleFire,
  ScheduleRecord,
  UpsertScheduleResult,
} from "../../core/storage_schedules.ts";
import { upsertedSchedule } from "../../core/storage_schedules.ts";
import type { Database } from "./database.ts";

/**
 * The schedules of one database.
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { ScheduleTable } from "./schedule_table.ts";
 * import { openSchema } from "./schema.ts";
 * import { DEFAULT_BUSY_POLICY } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * await openSchema(db, { busy: DEFAULT_BUSY_POLICY });
 * console.log(new ScheduleTable(db).get("nope")); // null
 * db.close();
 * ```
 */
export class ScheduleTable {
  readonly #db: Database;

  /** The schedules of `db`. */
  constructor(db: Database) {
    this.#db = db;
  }

  /** Creates or updates a schedule (see `Storage.upsertSchedule`). */
  upsert(schedule: NewSchedule, now: number): UpsertScheduleResult {
    const old = this.get(schedule.id);
    const record = upsertedSchedule(old, schedule, now); // #put stores it as JSON text: a copy
    this.#put(record);
    return { schedule: this.get(record.id)!, created: old === null };
  }

  /** Deletes a schedule; false if there was none. */
  remove(id: string): boolean {
    return this.#db.prepare("DELETE FROM schedules WHERE id = ?").run(id).changes > 0;
  }

  /** The schedule, or null. */
  get(id: string): ScheduleRecord | null {
    const row = this.#db.prepare("SELECT record FROM schedules WHERE id = ?").get(id);
    return row === undefined ? null : JSON.parse(String(row.record));
  }

  /** Every schedule, by id. */
  all(): ScheduleRecord[] {
    return this.#db.prepare("SELECT record FROM schedules ORDER BY id").all()
      .map((row) => JSON.parse(String(row.record)));
  }

  /** The due schedules of `queues`, earliest first, at most `limit`, and the next one's time. */
  due(queues: readonly string[], now: number, limit: number): DueSchedules {
    const wanted = [...new Set(queues)];
    if (wanted.length === 0) return { due: [], nextAt: null };
    // The first `limit + 1` by (nextRunAt, id) decide: the due ones, then the one after.
    const rows = this.#db.prepare(
      `SELECT record, next_run_at FROM schedules WHERE queue IN (${
        wanted.map(() => "?").join(", ")
      }) ORDER BY next_run_at, id LIMIT ?`,
    ).all(...wanted, limit + 1);
    const due: ScheduleRecord[] = [];
    let nextAt: number | null = null;
    for (const row of rows) {
      const nextRunAt = Number(row.next_run_at);
      if (nextRunAt <= now && due.length < limit) due.push(JSON.parse(String(row.record)));
      else {
        nextAt = nextRunAt;
        break;
      }
    }
    return { due, nextAt };
  }

  /** Fires a due schedule if nobody changed or fired it since it was read. */
  fire(fire: ScheduleFire, enqueue: (jobs: readonly NewJob[]) => EnqueueResult[]): FireResult {
    const record = this.get(fire.id);
    if (
      record === null || record.revision !== fire.revision || record.nextRunAt !== fire.nextRunAt
    ) {
      return { fired: false, jobs: [] };
    }
    const jobs = fire.jobs.length === 0 ? [] : enqueue(fire.jobs);
    record.nextRunAt = fire.next;
    record.lastTickAt = fire.lastTickAt;
    if (fire.jobs.length > 0) record.lastJobId = fire.jobs[fire.jobs.length - 1].id;
    this.#put(record);
    return { fired: true, jobs };
  }

  #put(record: ScheduleRecord): void {
    this.#db.prepare(
      "INSERT INTO schedules (id, queue, next_run_at, record) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET queue = excluded.queue, " +
        "next_run_at = excluded.next_run_at, record = excluded.record",
    ).run(record.id, record.job.queue, record.nextRunAt, JSON.stringify(record));
  }
}
