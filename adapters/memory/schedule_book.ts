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
import { copyJson } from "./json_copy.ts";

/**
 * MemoryStorage's schedules: a map by id. `due` looks at every schedule of
 * the requested queues: O(schedules) per call, and schedules are few (a
 * worker asks once per tick and once per heartbeat).
 *
 * @example
 * ```ts
 * import { ScheduleBook } from "./schedule_book.ts";
 *
 * const book = new ScheduleBook();
 * book.upsert({
 *   id: "tick",
 *   job: { name: "t", queue: "default", payload: null, priority: 0, maxAttempts: null, maxStalls: null, timeout: null },
 *   cron: null, tz: null, every: 60_000, startAt: 60_000, missed: "latest",
 *   timing: "every 60000", nextRunAt: 60_000,
 * }, 0);
 * console.log(book.due(["default"], 60_000, 10).due.length); // 1
 * ```
 */
export class ScheduleBook {
  readonly #byId = new Map<string, ScheduleRecord>();

  /** Creates or updates (see `Storage.upsertSchedule`). */
  upsert(schedule: NewSchedule, now: number): UpsertScheduleResult {
    const old = this.#byId.get(schedule.id);
    const record = upsertedSchedule(old ?? null, {
      ...schedule,
      job: { ...schedule.job, payload: copyJson(schedule.job.payload) },
    }, now);
    this.#byId.set(record.id, record);
    return { schedule: copyOf(record), created: old === undefined };
  }

  /** Deletes; false if there was none. */
  remove(id: string): boolean {
    return this.#byId.delete(id);
  }

  /** A copy of the schedule, or null. */
  get(id: string): ScheduleRecord | null {
    const record = this.#byId.get(id);
    return record === undefined ? null : copyOf(record);
  }

  /** Copies of every schedule, by id. */
  all(): ScheduleRecord[] {
    return [...this.#byId.values()]
      .sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
      .map(copyOf);
  }

  /** The due schedules of `queues`, earliest first (ties by id), and the next time after. */
  due(queues: readonly string[], now: number, limit: number): DueSchedules {
    const wanted = new Set(queues);
    const mine = [...this.#byId.values()]
      .filter((record) => wanted.has(record.job.queue))
      .sort((a, b) => a.nextRunAt - b.nextRunAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const due: ScheduleRecord[] = [];
    let nextAt: number | null = null;
    for (const record of mine) {
      if (record.nextRunAt <= now && due.length < limit) {
        due.push(copyOf(record));
      } else {
        nextAt = record.nextRunAt;
        break;
      }
    }
    return { due, nextAt };
  }

  /**
   * Applies `fire` if it still matches the schedule, enqueuing its jobs
   * through `enqueue` in the same synchronous step.
   */
  fire(fire: ScheduleFire, enqueue: (jobs: readonly NewJob[]) => EnqueueResult[]): FireResult {
    const record = this.#byId.get(fire.id);
    if (
      record === undefined || record.revision !== fire.revision ||
      record.nextRunAt !== fire.nextRunAt
    ) {
      return { fired: false, jobs: [] };
    }
    const jobs = fire.jobs.length === 0 ? [] : enqueue(fire.jobs);
    record.nextRunAt = fire.next;
    record.lastTickAt = fire.lastTickAt;
    if (fire.jobs.length > 0) record.lastJobId = fire.jobs[fire.jobs.length - 1].id;
    return { fired: true, jobs };
  }
}

function copyOf(record: ScheduleRecord): ScheduleRecord {
  return { ...record, job: { ...record.job, payload: copyJson(record.job.payload) } };
}
