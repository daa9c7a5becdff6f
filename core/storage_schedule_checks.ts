/**
 * The shared input checks (see `storage_checks.ts`) of the port's schedule
 * methods: `upsertSchedule`, `removeSchedule`, `getSchedule`,
 * `dueSchedules` and `fireSchedule`. The timing itself (is the cron
 * expression valid?) is the core's to check: the storage keeps it as text.
 *
 * @example
 * ```ts
 * import { checkDueSchedules } from "./storage_schedule_checks.ts";
 *
 * checkDueSchedules(["default"], 0, 100);
 * ```
 *
 * @module
 */

import { checkEnqueue, checkQueueName, checkTime } from "./storage_checks.ts";
import type { NewSchedule, ScheduleFire } from "./storage_schedules.ts";
import { MISSED_TICKS } from "./storage_schedules.ts";
import { checkInt, describe } from "./_validate.ts";

/**
 * Checks a schedule id: a non-empty string of at most 256 characters.
 *
 * @example
 * ```ts
 * import { checkScheduleId } from "./storage_schedule_checks.ts";
 *
 * checkScheduleId("nightly-report", "Cannot remove schedule"); // fine
 * ```
 */
export function checkScheduleId(id: unknown, where: string): void {
  if (typeof id !== "string" || id === "" || id.length > 256) {
    throw new TypeError(
      `${where}: the schedule id must be a non-empty string of at most 256 characters, got ${
        describe(id)
      }`,
    );
  }
}

/**
 * Checks `Storage.upsertSchedule`'s schedule and time: an id, a job
 * template that `enqueue` would take, exactly one of `cron` (with `tz`) and
 * `every` (with `startAt`), a missed-tick policy, the timing text, and a
 * `nextRunAt`.
 *
 * @example
 * ```ts
 * import { checkUpsertSchedule } from "./storage_schedule_checks.ts";
 *
 * checkUpsertSchedule({
 *   id: "tick",
 *   job: { name: "t", queue: "default", payload: null, priority: 0, maxAttempts: null, maxStalls: null, timeout: null },
 *   cron: null, tz: null, every: 60_000, startAt: 0, missed: "latest",
 *   timing: "every 60000", nextRunAt: 60_000,
 * }, 0);
 * ```
 */
export function checkUpsertSchedule(schedule: NewSchedule, now: number): void {
  const where = "Cannot store schedule";
  if (typeof schedule !== "object" || schedule === null) {
    throw new TypeError(`${where}: the schedule must be an object, got ${describe(schedule)}`);
  }
  checkScheduleId(schedule.id, where);
  const job = schedule.job;
  if (typeof job !== "object" || job === null) {
    throw new TypeError(`${where}: job must be an object, got ${describe(job)}`);
  }
  // The template is checked as the job it makes would be.
  checkEnqueue([{ ...job, id: schedule.id, runAt: 0 }], 0);
  const isCron = schedule.cron !== null;
  if (isCron) {
    if (typeof schedule.cron !== "string" || schedule.cron === "") {
      throw new TypeError(`${where}: cron must be a non-empty string or null`);
    }
    if (typeof schedule.tz !== "string" || schedule.tz === "") {
      throw new TypeError(
        `${where}: tz must be a zone name with cron, got ${describe(schedule.tz)}`,
      );
    }
    if (schedule.every !== null || schedule.startAt !== null) {
      throw new TypeError(`${where}: every and startAt must be null with cron`);
    }
  } else {
    checkInt(schedule.every, 1, Number.MAX_SAFE_INTEGER, `${where}: every`);
    checkTime(schedule.startAt, `${where}: startAt`);
    if (schedule.tz !== null) throw new TypeError(`${where}: tz must be null with every`);
  }
  if (!MISSED_TICKS.includes(schedule.missed)) {
    throw new TypeError(
      `${where}: missed must be one of ${MISSED_TICKS.join(", ")}, got ${
        describe(schedule.missed)
      }`,
    );
  }
  if (typeof schedule.timing !== "string" || schedule.timing === "") {
    throw new TypeError(`${where}: timing must be a non-empty string`);
  }
  checkTime(schedule.nextRunAt, `${where}: nextRunAt`);
  checkTime(now, `${where}: now`);
}

/**
 * Checks `Storage.dueSchedules`'s queues, time and limit (1 to 10 000).
 *
 * @example
 * ```ts
 * import { checkDueSchedules } from "./storage_schedule_checks.ts";
 *
 * checkDueSchedules(["emails", "reports"], 1_700_000_000_000, 100);
 * ```
 */
export function checkDueSchedules(queues: readonly string[], now: number, limit: number): void {
  const where = "Cannot read due schedules";
  if (!Array.isArray(queues)) throw new TypeError(`${where}: queues must be an array`);
  for (const queue of queues) checkQueueName(queue, where);
  checkTime(now, `${where}: now`);
  checkInt(limit, 1, 10_000, `${where}: limit`);
}

/**
 * Checks `Storage.fireSchedule`'s fire: an id, a revision, the times, and
 * jobs that `enqueue` would take, all in one queue.
 *
 * @example
 * ```ts
 * import { checkFireSchedule } from "./storage_schedule_checks.ts";
 *
 * checkFireSchedule({ id: "tick", revision: 1, nextRunAt: 60_000, jobs: [], lastTickAt: 60_000, next: 120_000 }, 60_000);
 * ```
 */
export function checkFireSchedule(fire: ScheduleFire, now: number): void {
  const where = "Cannot fire schedule";
  if (typeof fire !== "object" || fire === null) {
    throw new TypeError(`${where}: the fire must be an object, got ${describe(fire)}`);
  }
  checkScheduleId(fire.id, where);
  checkInt(fire.revision, 1, Number.MAX_SAFE_INTEGER, `${where}: revision`);
  checkTime(fire.nextRunAt, `${where}: nextRunAt`);
  checkTime(fire.lastTickAt, `${where}: lastTickAt`);
  checkTime(fire.next, `${where}: next`);
  if (!(fire.next > fire.lastTickAt)) {
    throw new RangeError(
      `${where}: next (${fire.next}) must be after lastTickAt (${fire.lastTickAt})`,
    );
  }
  if (!Array.isArray(fire.jobs)) throw new TypeError(`${where}: jobs must be an array`);
  checkEnqueue(fire.jobs, now);
  const queues = new Set(fire.jobs.map((job) => job.queue));
  if (queues.size > 1) throw new RangeError(`${where}: every job must be in one queue`);
}
