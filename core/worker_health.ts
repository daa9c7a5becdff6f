/**
 * What a worker reports about itself: its lifecycle state and its health
 * (see `worker.health()`).
 *
 * @module
 */

/** A storage duty of the worker that can fail (see {@linkcode WorkerHealth.failing}). */
export type WorkerDuty = "reserve" | "wait for work" | "settle" | "lease renewal";

/** What `worker.health()` reports. */
export interface WorkerHealth {
  /** The worker's id. */
  workerId: string;
  /** Lifecycle state. */
  state: WorkerState;
  /** True when running (or paused) and no storage duty is failing. */
  healthy: boolean;
  /** Handlers running now. */
  running: number;
  /** Consecutive failures of the duty failing longest (0 when storage is fine). */
  storageFailures: number;
  /**
   * The duties whose last storage call failed. While settles or lease
   * renewals fail the worker reserves nothing: jobs it cannot finish would
   * only pile up as leases it cannot keep.
   */
  failing: WorkerDuty[];
  /**
   * Clock time the worker last knew its leases were kept: its start, then
   * each heartbeat whose renewal succeeded (or had nothing to renew).
   */
  lastHeartbeatAt: number | null;
}

/** A worker's lifecycle. */
export type WorkerState = "idle" | "running" | "paused" | "stopping" | "stopped";

/** Consecutive failed storage calls per duty (all 0: storage is fine). */
export type DutyFailures = Record<WorkerDuty, number>;

/**
 * A fresh failure count per duty, all 0.
 *
 * @example
 * ```ts
 * import { noFailures } from "./worker_health.ts";
 * console.log(noFailures().settle); // 0
 * ```
 */
export function noFailures(): DutyFailures {
  return { reserve: 0, "wait for work": 0, settle: 0, "lease renewal": 0 };
}

/**
 * The health report of a worker in `state`, with `running` handlers,
 * `failures` per duty, and its leases last known kept at `lastHeartbeatAt`.
 *
 * @example
 * ```ts
 * import { healthOf, noFailures } from "./worker_health.ts";
 * const failures = { ...noFailures(), settle: 2 };
 * const health = healthOf("w1", "running", 3, failures, 1_000);
 * console.log(health.healthy, health.failing, health.storageFailures); // false ["settle"] 2
 * ```
 */
export function healthOf(
  workerId: string,
  state: WorkerState,
  running: number,
  failures: DutyFailures,
  lastHeartbeatAt: number | null,
): WorkerHealth {
  const failing = (Object.keys(failures) as WorkerDuty[]).filter((duty) => failures[duty] > 0);
  return {
    workerId,
    state,
    healthy: (state === "running" || state === "paused") && failing.length === 0,
    running,
    storageFailures: Math.max(0, ...failing.map((duty) => failures[duty])),
    failing,
    lastHeartbeatAt,
  };
}
