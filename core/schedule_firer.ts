/**
 * The Worker's duty of firing schedules: it reads the due schedules of its
 * queues, computes each one's fire (which ticks make jobs, by its missed-
 * tick policy) and hands it to the storage's compare-and-set
 * `fireSchedule`, so a tick makes one job however many workers race for
 * it (see `storage_schedules.ts`). Then it sleeps until the next tick, or
 * one heartbeat at most, so a schedule created or changed by another
 * process is seen within a heartbeat.
 *
 * @module
 */

import { type Clock, sleepUnlessAborted } from "./clock.ts";
import type { Storage } from "./storage.ts";
import {
  MAX_MISSED_TICKS,
  type ScheduleFire,
  scheduleJobId,
  type ScheduleRecord,
  SKIP_GRACE_MS,
} from "./storage_schedules.ts";
import { lastTicks, nextTick, ticksOf } from "./schedule_timing.ts";
import { failureBackoff } from "./scheduler.ts";

/** Due schedules read per storage call. */
const DUE_BATCH = 100;

/**
 * The fire of a due `schedule` at `now`, by its policy: `"latest"` runs
 * the latest due tick, `"each"` every due tick (the latest
 * `MAX_MISSED_TICKS`), `"skip"` the latest only if it is at most
 * `SKIP_GRACE_MS` late. The next tick is the first after `now`.
 *
 * @example
 * ```ts
 * import { planFire } from "./schedule_firer.ts";
 *
 * const fire = planFire({
 *   id: "tick",
 *   job: { name: "t", queue: "default", payload: null, priority: 0, maxAttempts: null, maxStalls: null, timeout: null },
 *   cron: null, tz: null, every: 60_000, startAt: 60_000, missed: "latest",
 *   timing: "every 60000", nextRunAt: 60_000, revision: 1, createdAt: 0, updatedAt: 0,
 *   lastTickAt: null, lastJobId: null,
 * }, 185_000);
 * console.log(fire.jobs.map((j) => j.runAt), fire.next); // [180000] 240000
 * ```
 */
export function planFire(schedule: ScheduleRecord, now: number): ScheduleFire {
  const ticks = ticksOf(schedule);
  const from = schedule.nextRunAt;
  const policy = schedule.missed;
  const due = lastTicks(ticks, from, now, policy === "each" ? MAX_MISSED_TICKS : 1);
  // A due schedule always has its nextRunAt tick at least: due is never empty
  // unless the stored nextRunAt is no tick of its timing (then it moves on).
  const lastTickAt = due.length > 0 ? due[due.length - 1] : from;
  const fired = policy === "skip" && now - lastTickAt > SKIP_GRACE_MS ? [] : due;
  return {
    id: schedule.id,
    revision: schedule.revision,
    nextRunAt: schedule.nextRunAt,
    jobs: fired.map((tick) => ({
      ...schedule.job,
      id: scheduleJobId(schedule.id, tick),
      runAt: tick,
    })),
    lastTickAt,
    next: nextTick(ticks, Math.max(now, lastTickAt)),
  };
}

/** What the firer tells its worker. */
export interface FirerHost {
  /** A storage call failed, or a stored schedule could not be read. */
  failed(error: unknown): void;
}

/**
 * Fires the schedules of `queues` until `signal` aborts (see the module doc).
 *
 * @example
 * ```ts ignore
 * void new ScheduleFirer(storage, clock, ["default"], 10_000, host).run(signal);
 * ```
 */
export class ScheduleFirer {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #queues: readonly string[];
  readonly #checkMs: number;
  readonly #host: FirerHost;

  /** A firer for `queues`, looking again at least every `checkMs`. */
  constructor(
    storage: Storage,
    clock: Clock,
    queues: readonly string[],
    checkMs: number,
    host: FirerHost,
  ) {
    this.#storage = storage;
    this.#clock = clock;
    this.#queues = queues;
    this.#checkMs = checkMs;
    this.#host = host;
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let wait: number;
      try {
        wait = await this.#fireDue();
        failures = 0;
      } catch (error) {
        this.#host.failed(error);
        wait = failureBackoff(++failures);
      }
      if (signal.aborted) return;
      if (wait > 0) await sleepUnlessAborted(this.#clock, wait, signal);
    }
  }

  /** Fires what is due now; returns how long to sleep before looking again. */
  async #fireDue(): Promise<number> {
    const now = this.#clock.now();
    const { due, nextAt } = await this.#storage.dueSchedules(this.#queues, now, DUE_BATCH);
    let unreadable = false;
    let refused = false;
    let soonest = nextAt ?? Infinity;
    for (const schedule of due) {
      let fire: ScheduleFire;
      try {
        fire = planFire(schedule, now);
      } catch (error) {
        // A stored timing this version cannot read: report it, and do not
        // spin on it (it stays due until someone fixes the schedule).
        unreadable = true;
        this.#host.failed(
          new Error(`Cannot fire schedule "${schedule.id}": ${(error as Error).message}`),
        );
        continue;
      }
      // Refused: another worker fired it, or it changed; read it again.
      if ((await this.#storage.fireSchedule(fire, now)).fired) {
        soonest = Math.min(soonest, fire.next);
      } else {
        refused = true;
      }
    }
    if (unreadable) return this.#checkMs;
    if (refused || due.length === DUE_BATCH) return 0; // more may be due
    return Math.max(0, Math.min(this.#checkMs, soonest - this.#clock.now()));
  }
}
