/**
 * Group commit of a worker's outcomes: settles that arrive while one batch
 * is being stored go in the next, and a failed batch is retried with backoff.
 *
 * @module
 */

import { type Clock, sleepUnlessAborted } from "./clock.ts";
import type { HeldJob } from "./held_job.ts";
import { failureBackoff } from "./scheduler.ts";
import type { Retention, Storage } from "./storage.ts";
import type { JobRecord } from "./task.ts";

/**
 * What a {@linkcode SettleBatch} tells its worker. One object per worker,
 * so the per-job call (`stored`) always meets the same shape.
 *
 * @example
 * ```ts
 * import type { SettleHost } from "./settle_batch.ts";
 * const host: SettleHost = {
 *   life: new AbortController().signal,
 *   running: () => 0,
 *   failed: () => 1,
 *   recovered: () => {},
 *   stored: (held, accepted) => console.log(held.job.id, accepted),
 *   idle: () => {},
 * };
 * ```
 */
export interface SettleHost {
  /** Aborted once the worker has stopped for good: a failed batch is then abandoned. */
  readonly life: AbortSignal;
  /** Handlers running now (their outcomes may join the batch). */
  running(): number;
  /** A batch failed: report `error`; returns the consecutive failures so far. */
  failed(error: unknown): number;
  /** A batch was stored (after failures, or not). */
  recovered(): void;
  /** Storage answered for `held`: `accepted`, or refused (its lease was gone). */
  stored(held: HeldJob, accepted: boolean, now: number): void;
  /** Nothing is being stored any more. */
  idle(): void;
}

/**
 * The outcomes queued for storage (each on its `HeldJob.settlement`), sent
 * in batches: one `storage.settle` call in flight at a time.
 *
 * @example
 * ```ts ignore
 * const settles = new SettleBatch(storage, clock, retention, host);
 * held.settle({ kind: "complete", id: held.job.id, token: held.token, result: 42 });
 * settles.add(held); // stored with whatever else arrives meanwhile
 * ```
 */
export class SettleBatch {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #retention: Retention;
  readonly #host: SettleHost;
  #pending: HeldJob[] = [];
  #flushing: Promise<void> | null = null;

  constructor(storage: Storage, clock: Clock, retention: Retention, host: SettleHost) {
    this.#storage = storage;
    this.#clock = clock;
    this.#retention = retention;
    this.#host = host;
  }

  /** Whether a batch is being stored (or waiting to be retried). */
  get flushing(): boolean {
    return this.#flushing !== null;
  }

  /** Queues `held`, whose `settlement` is set, for the next batch. */
  add(held: HeldJob): void {
    this.#pending.push(held);
    this.#flushing ??= this.#flush();
  }

  async #flush(): Promise<void> {
    const host = this.#host;
    // Outcomes of handlers finishing in the same turn arrive a microtask
    // apart: while other handlers run, gather theirs into this batch rather
    // than sending the first alone.
    if (host.running() > this.#pending.length) await coalesce();
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      let accepted: boolean[];
      try {
        accepted = await this.#storage.settle(batch.map((held) => held.settlement!), {
          now: this.#clock.now(),
          retention: this.#retention,
        });
      } catch (error) {
        const failures = host.failed(error);
        this.#pending = batch.concat(this.#pending);
        if (host.life.aborted) break; // stopped for good: leases will expire and be reclaimed
        await sleepUnlessAborted(this.#clock, failureBackoff(failures), host.life);
        continue;
      }
      host.recovered();
      const now = this.#clock.now();
      for (let i = 0; i < batch.length; i++) host.stored(batch[i], accepted[i], now);
    }
    this.#flushing = null;
    host.idle();
  }
}

/**
 * `job` as stored once completed: its fields without `lease`, plus the
 * outcome. A fresh object rather than `delete job.lease` on the worker's own
 * copy: `delete` turns a record into a slow dictionary-mode object (about a
 * kilobyte more per job, which at high rates shows up as GC time). Written
 * field by field (every `JobRecord` field) so it builds as one fast literal.
 *
 * @example
 * ```ts ignore
 * const record = completedRecord(held.job, 42, clock.now()); // the `completed` event's job
 * ```
 */
export function completedRecord(job: JobRecord, result: unknown, finishedAt: number): JobRecord {
  const record: JobRecord = {
    id: job.id,
    name: job.name,
    queue: job.queue,
    payload: job.payload,
    priority: job.priority,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    stalls: job.stalls,
    maxStalls: job.maxStalls,
    timeout: job.timeout,
    enqueuedAt: job.enqueuedAt,
    runAt: job.runAt,
    state: "completed",
    errors: job.errors,
  };
  if (job.startedAt !== undefined) record.startedAt = job.startedAt;
  if (job.progress !== undefined) record.progress = job.progress;
  if (job.error !== undefined) record.error = job.error;
  if (job.raw !== undefined) record.raw = job.raw;
  if (job.dedupeKey !== undefined) record.dedupeKey = job.dedupeKey;
  if (job.group !== undefined) record.group = job.group;
  record.result = result;
  record.finishedAt = finishedAt;
  return record;
}

/**
 * Resolves after the microtasks queued so far (and the few they queue in
 * turn) have run: a group-commit window that needs no timer, so it works the
 * same on a fake clock.
 *
 * @example
 * ```ts
 * import { coalesce } from "./settle_batch.ts";
 * await coalesce(); // what was queued before has run
 * ```
 */
export async function coalesce(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}
