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
