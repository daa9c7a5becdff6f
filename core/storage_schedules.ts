/**
 * The schedules half of the Storage port: repeating jobs that the workers
 * fire, each tick exactly once, whatever the number of workers, processes
 * and machines.
 *
 * The storage keeps each schedule's timing (a cron expression and zone, or
 * an interval) as text it never interprets, and `nextRunAt`, the first tick
 * not yet fired. The core computes ticks (`core/cron.ts`); the storage makes
 * firing safe: {@linkcode ScheduleFire} is a compare-and-set on the
 * schedule's `revision` and `nextRunAt`, applied in one atomic step with
 * the enqueue of the tick's jobs. Two workers that read the same due
 * schedule both try to fire it; the storage takes the first and refuses
 * the second (its expected `nextRunAt` is gone), so a tick makes one job.
 * The job of a tick has an id derived from the schedule and the tick
 * (`scheduleJobId`), so even a fire that is applied twice stores one job.
 *
 * @module
 */

import type { EnqueueResult, NewJob } from "./storage.ts";

/** What a schedule does with ticks that came due while no worker fired them. */
export type MissedTicks = "latest" | "each" | "skip";

/** Every {@linkcode MissedTicks} policy, the default first. */
export const MISSED_TICKS: readonly MissedTicks[] = Object.freeze(["latest", "each", "skip"]);

/** Most missed ticks that policy "each" runs at once (the latest ones). */
export const MAX_MISSED_TICKS = 100;

/**
 * How late a tick may be and still run under policy "skip" (ms): a tick
 * found later than this is skipped.
 */
export const SKIP_GRACE_MS = 60_000;

/** The job each tick of a schedule makes: a {@linkcode NewJob} without `id`, `runAt` and `dedupe`. */
export type ScheduleJob = Omit<NewJob, "id" | "runAt" | "dedupe">;

/** A schedule to create or update, as built by `Queue.schedule`. */
export interface NewSchedule {
  /** Unique in the store (across queues). */
  id: string;
  /** What each tick enqueues. */
  job: ScheduleJob;
  /** A cron expression (5 or 6 fields, or an `@` name), or null for `every`. */
  cron: string | null;
  /** The IANA zone of `cron` (null for `every`). */
  tz: string | null;
  /** The interval in ms, or null for `cron`. */
  every: number | null;
  /** `every`: the first tick; ticks are `startAt + k * every`. Null for `cron`. */
  startAt: number | null;
  /** What to do with missed ticks. */
  missed: MissedTicks;
  /**
   * The timing as canonical text (see `timingKey` in `core/schedule.ts`).
   * When an update's `timing` equals the stored one, the stored
   * `nextRunAt` and `startAt` are kept: re-declaring a schedule at every
   * application start neither drops a missed tick nor moves the next one.
   * When it differs, the update's `nextRunAt` and `startAt` are taken.
   */
  timing: string;
  /** The first tick after the call's `now` under this timing. */
  nextRunAt: number;
}

/** A stored schedule. */
export interface ScheduleRecord extends NewSchedule {
  /** 1 when created, one more at every update. */
  revision: number;
  /** When it was created. */
  createdAt: number;
  /** When it was last created or updated. */
  updatedAt: number;
  /** The latest tick fired or skipped, or null before the first. */
  lastTickAt: number | null;
  /** The id of the job the latest fired tick made, or null. */
  lastJobId: string | null;
}

/** The outcome of {@linkcode Storage.upsertSchedule}. */
export interface UpsertScheduleResult {
  /** The schedule as stored now. */
  schedule: ScheduleRecord;
  /** False when a schedule with that id existed and was updated. */
  created: boolean;
}

/** What {@linkcode Storage.dueSchedules} returns. */
export interface DueSchedules {
  /** Schedules of the requested queues with `nextRunAt <= now`, earliest first. */
  due: ScheduleRecord[];
  /**
   * The earliest `nextRunAt` after `now` among the requested queues'
   * schedules not returned, or null if there is none.
   */
  nextAt: number | null;
}

/**
 * One firing of a due schedule, computed by the core from the record that
 * {@linkcode Storage.dueSchedules} returned.
 */
export interface ScheduleFire {
  /** The schedule's id. */
  id: string;
  /** The revision read: an update since then refuses the fire. */
  revision: number;
  /** The `nextRunAt` read: a fire by another worker since then refuses this one. */
  nextRunAt: number;
  /** The jobs of the ticks fired (none when every due tick is skipped). */
  jobs: NewJob[];
  /** The latest tick this fire covers (fired or skipped). */
  lastTickAt: number;
  /** The new `nextRunAt`: the first tick after `lastTickAt`. */
  next: number;
}

/** What {@linkcode Storage.fireSchedule} returns. */
export interface FireResult {
  /** False when refused (missing, updated, or fired by someone else): nothing changed. */
  fired: boolean;
  /** One entry per job of the fire, as `enqueue` returns them; empty when refused. */
  jobs: EnqueueResult[];
}

/**
 * The id of the job a schedule's tick makes: the same for the same tick,
 * whoever fires it.
 *
 * @example
 * ```ts
 * import { scheduleJobId } from "@taskmill/taskmill";
 *
 * console.log(scheduleJobId("report", Date.UTC(2026, 0, 1))); // "schedule:report:1767225600000"
 * ```
 */
export function scheduleJobId(scheduleId: string, tick: number): string {
  return `schedule:${scheduleId}:${tick}`;
}

/**
 * The record an upsert stores, from the one stored before (null: none) and
 * the new definition: the revision counts up, the creation and last tick
 * stay, and the place in time (`startAt`, `nextRunAt`) stays unless the
 * timing changed. The same on every adapter; the payload is not copied.
 *
 * @example
 * ```ts
 * import { upsertedSchedule } from "./storage_schedules.ts";
 *
 * const job = { name: "report", queue: "default", payload: null, priority: 0, maxAttempts: 3,
 *   maxStalls: 1, timeout: 0 };
 * const schedule = { id: "r", job, cron: null, tz: null, every: 60_000, missed: "latest" as const,
 *   timing: "every 60000", startAt: 0, nextRunAt: 60_000 };
 * const first = upsertedSchedule(null, schedule, 0);
 * console.log(first.revision, upsertedSchedule(first, schedule, 5).revision); // 1 2
 * ```
 */
export function upsertedSchedule(
  old: ScheduleRecord | null,
  schedule: NewSchedule,
  now: number,
): ScheduleRecord {
  const same = old !== null && old.timing === schedule.timing;
  return {
    id: schedule.id,
    job: schedule.job,
    cron: schedule.cron,
    tz: schedule.tz,
    every: schedule.every,
    startAt: same ? old.startAt : schedule.startAt,
    missed: schedule.missed,
    timing: schedule.timing,
    nextRunAt: same ? old.nextRunAt : schedule.nextRunAt,
    revision: old === null ? 1 : old.revision + 1,
    createdAt: old?.createdAt ?? now,
    updatedAt: now,
    lastTickAt: old?.lastTickAt ?? null,
    lastJobId: old?.lastJobId ?? null,
  };
}
