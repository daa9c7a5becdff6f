/**
 * A job a worker holds a lease on, from its reservation until its outcome
 * is stored, with the one state it is in.
 *
 * @module
 */

import type { TaskSeries } from "./metric_registry.ts";
import type { Settlement } from "./storage.ts";
import type { JobRecord } from "./task.ts";

/**
 * Where a held job is. Every change goes through a method of
 * {@linkcode HeldJob}, which refuses one the worker should never make:
 *
 * - `reserved`: leased and waiting for a slot (prefetched);
 * - `running`: its handler runs;
 * - `settling`: its outcome is queued for storage, or being stored;
 * - `released`: handed back to the queue (stop); a handler still running is dropped;
 * - `lost`: its lease is gone; a handler still running is dropped;
 * - `dropped`: released or lost, and the handler's end has come and been discarded;
 * - `orphaned`: lost while its outcome was being stored (storage will refuse it).
 *
 * @example
 * ```ts
 * import type { HeldState } from "./held_job.ts";
 * const live = (state: HeldState) => state === "reserved" || state === "running";
 * console.log(live("running")); // true
 * ```
 */
export type HeldState =
  | "reserved"
  | "running"
  | "settling"
  | "released"
  | "lost"
  | "dropped"
  | "orphaned";

/**
 * A job this worker holds a lease on. Its `state` changes only through
 * `start`, `settle`, `release`, `lose` and `drop`.
 *
 * @example
 * ```ts
 * import { HeldJob } from "./held_job.ts";
 * import type { JobRecord } from "./task.ts";
 * const job = {
 *   id: "j1", name: "t", queue: "default", payload: null, priority: 0, attempt: 1,
 *   maxAttempts: 3, stalls: 0, maxStalls: 1, timeout: 0, enqueuedAt: 0, runAt: 0,
 *   state: "active", errors: [], lease: { owner: "w", token: "k", expiresAt: 30_000 },
 * } as JobRecord;
 * const held = new HeldJob(job, 1);
 * held.start();
 * console.log(held.state); // "running"
 * ```
 */
export class HeldJob {
  readonly job: JobRecord;
  readonly token: string;
  /** Reservation order in this worker (what its held list is iterated in). */
  readonly seq: number;
  /** Its place in the worker's held list; -1 once forgotten. */
  index = -1;
  #state: HeldState = "reserved";
  /** When the lease runs out unless renewed (clock time), as last granted. */
  expiresAt: number;
  /**
   * Set while the handler runs: ends the wait for it at once on abort. One
   * function shared by every job (the `AttemptRunner`'s), not a closure per job.
   */
  onAbort: ((held: HeldJob, ok: boolean, value: unknown) => void) | undefined = undefined;
  /** Cancels the job's timeout timer, if it has one. */
  timeoutCancel: AbortController | null = null;
  /** When the handler started (clock time). */
  startedAt = 0;
  /** The outcome queued for storage, and what its event needs once it is accepted. */
  settlement: Settlement | undefined = undefined;
  settledAt = 0;
  duration = 0;
  delay = 0;
  /** Its (queue, task) metric series, once its handler started. */
  series: TaskSeries | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #aborted = false;
  #reason: unknown = undefined;

  constructor(job: JobRecord, seq: number) {
    this.job = job;
    this.token = job.lease!.token;
    this.expiresAt = job.lease!.expiresAt;
    this.seq = seq;
  }

  get state(): HeldState {
    return this.#state;
  }

  /** Its handler starts. */
  start(): void {
    if (this.#state !== "reserved") this.#illegal("start");
    this.#state = "running";
  }

  /** Its outcome (`settlement`) is queued for storage. */
  settle(settlement: Settlement): void {
    if (this.#state !== "running") this.#illegal("settle");
    this.#state = "settling";
    this.settlement = settlement;
  }

  /** Handed back to the queue: an outcome of its handler will be discarded. */
  release(settlement: Settlement): void {
    if (this.#state !== "reserved" && this.#state !== "running") this.#illegal("release");
    this.#state = "released";
    this.settlement = settlement;
  }

  /**
   * Its lease is gone: an outcome of its handler will be discarded, storage
   * refuses one queued. A job already let go (released, lost) stays as it
   * is: a renewal answered late may report one the worker gave up meanwhile.
   */
  lose(): void {
    const state = this.#state;
    if (state === "reserved" || state === "running") this.#state = "lost";
    else if (state === "settling") this.#state = "orphaned";
  }

  /** The handler of a released or lost job has ended: its outcome is discarded. */
  drop(): void {
    if (this.#state !== "released" && this.#state !== "lost") this.#illegal("drop");
    this.#state = "dropped";
  }

  #illegal(action: string): never {
    throw new Error(
      `Internal error: held job ${this.job.id} cannot ${action} while ${this.#state}`,
    );
  }

  /**
   * The handler's `ctx.signal`, made on first use: most handlers never read
   * it, and an AbortController per job is a measurable cost at high rates.
   */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** Aborts the handler's signal (timeout, lost lease, forced stop); the first reason wins. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.onAbort?.(this, false, reason);
  }
}
