/**
 * A worker's accepted outcomes: the counters and throughput its metrics
 * report, and the `completed`, `retrying` and `failed` events.
 *
 * @module
 */

import type { Emitter, WorkerEvents } from "./events.ts";
import type { HeldJob } from "./held_job.ts";
import type { MetricRegistry } from "./metric_registry.ts";
import { RateMeter } from "./metrics.ts";
import { completedRecord } from "./settle_batch.ts";
import type { Settlement } from "./storage.ts";

/**
 * Counts the outcomes storage accepted and announces them. What each one
 * says is read from fields on its `HeldJob` (`settledAt`, `duration`,
 * `delay`): no closure or wrapper object per job.
 *
 * @example
 * ```ts ignore
 * const outcomes = new Outcomes(events, clock.now(), new MetricRegistry());
 * outcomes.accepted(held, held.settlement!, clock.now()); // once storage took it
 * console.log(outcomes.succeeded, outcomes.throughput(clock.now()));
 * ```
 */
export class Outcomes {
  #succeeded = 0;
  #failed = 0;
  #retried = 0;
  readonly #events: Emitter<WorkerEvents>;
  readonly #rate: RateMeter;
  readonly #metrics: MetricRegistry;

  /** Counts from `now` on, emitting on `events`, per queue and task in `metrics`. */
  constructor(events: Emitter<WorkerEvents>, now: number, metrics: MetricRegistry) {
    this.#events = events;
    this.#rate = new RateMeter(now);
    this.#metrics = metrics;
  }

  /** Jobs completed. */
  get succeeded(): number {
    return this.#succeeded;
  }

  /** Jobs failed for good. */
  get failed(): number {
    return this.#failed;
  }

  /** Attempts failed and retried. */
  get retried(): number {
    return this.#retried;
  }

  /** Outcomes (releases aside) per second over the last minute. */
  throughput(now: number): number {
    return this.#rate.rate(now);
  }

  /** Storage accepted `settlement` for `held` at `now`: count it and emit its event. */
  accepted(held: HeldJob, settlement: Settlement, now: number): void {
    if (settlement.kind === "release") {
      if (settlement.holdUntil !== undefined && this.#events.has("rateLimited")) {
        const holdUntil = settlement.holdUntil;
        this.#events.emit("rateLimited", { job: held.job, retryAfter: held.delay, holdUntil });
      }
      return;
    }
    this.#rate.mark(now);
    const { job } = held;
    // A job of a task this worker does not know never started: no series yet.
    const series = held.series ?? this.#metrics.series(job.queue, job.name);
    switch (settlement.kind) {
      case "complete": {
        this.#succeeded++;
        series.completed++;
        if (!this.#events.has("completed")) return;
        const result = settlement.result;
        this.#events.emit("completed", {
          job: completedRecord(job, result, held.settledAt),
          result,
          duration: held.duration,
        });
        return;
      }
      case "retry": {
        this.#retried++;
        series.retried++;
        const { error, runAt } = settlement;
        this.#events.emit("retrying", {
          job: { ...job, state: "delayed", runAt, error },
          error,
          runAt,
          delay: held.delay,
        });
        return;
      }
      case "fail": {
        this.#failed++;
        series.failed++;
        const { error } = settlement;
        this.#events.emit("failed", {
          job: { ...job, state: "failed", error, finishedAt: held.settledAt },
          error,
          duration: held.duration,
        });
        return;
      }
    }
  }
}
