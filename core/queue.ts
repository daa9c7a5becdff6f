/**
 * The producer side: enqueue jobs, inspect them, wait for results, and manage
 * the dead-letter set.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import { ResultTimeoutError } from "./errors.ts";
import type { Counts, ListOptions, NewJob, Retention, Storage } from "./storage.ts";
import { DEFAULT_RETENTION } from "./storage.ts";
import { MAX_DEDUPE_KEY_LENGTH } from "./storage_checks.ts";
import type { QueueSummary, WorkerInfo } from "./storage_events.ts";
import { checkEventStreamOptions, EventStream, type EventStreamOptions } from "./event_stream.ts";
import { finished, ResultWaiters } from "./result_waiters.ts";
import { trackedStorage } from "./_tracked_storage.ts";
import type { JobRecord, JobState, Task } from "./task.ts";
import { JOB_STATES } from "./task.ts";
import {
  checkInt,
  checkJson,
  checkKeys,
  checkNumber,
  checkRetentionKeys,
  describe,
  optionNames,
  validateJobId,
  validateName,
} from "./_validate.ts";
import { createIdGenerator } from "./_id.ts";
import { MISSED_TICKS, type MissedTicks, type ScheduleRecord } from "./storage_schedules.ts";
import { checkScheduleId } from "./storage_schedule_checks.ts";
import { nextTick, readTiming, type ScheduleTiming } from "./schedule_timing.ts";
import type { GroupInfo, QueueLimits } from "./storage_limits.ts";
import { checkGroupName } from "./storage_limit_checks.ts";
import {
  type GroupLimitOptions,
  type LimitOptions,
  toGroupLimits,
  toQueueLimits,
} from "./limit_options.ts";

/** Options of {@linkcode Queue}. */
export interface QueueOptions {
  /** Where jobs are kept. */
  storage: Storage;
  /** Source of time. Default: the system clock. */
  clock?: Clock;
  /** Largest accepted payload, in bytes of its JSON (UTF-8). Default 1 MiB. */
  maxPayloadBytes?: number;
}

/** Options of {@linkcode Queue.enqueue}. */
export interface EnqueueOptions {
  /** Run no sooner than this many ms from now. */
  delay?: number;
  /** Run no sooner than this time (epoch ms or Date). Exclusive with `delay`. */
  runAt?: number | Date;
  /** Higher runs first within its queue; an integer in [-1000, 1000]. Default 0. */
  priority?: number;
  /** Caller-chosen id: enqueueing an id that exists returns that job and stores nothing. */
  id?: string;
  /** Queue to use instead of the task's default. */
  queue?: string;
  /**
   * Overrides the task's `maxAttempts` for this job. Left out when enqueueing
   * by task name, the job's is null until a worker that knows the task
   * reserves it and stores the task's (so too `timeout` and `maxStalls`).
   */
  maxAttempts?: number;
  /** Overrides the task's `timeout` (ms) for this job. */
  timeout?: number;
  /**
   * Deduplicates by key within the job's queue, in the same atomic storage
   * step as the enqueue (see {@linkcode EnqueueDedupe}). A duplicate returns
   * the job that holds the key; a debounce returns the updated job.
   */
  dedupe?: EnqueueDedupe;
  /**
   * Its group within the queue, e.g. a tenant (A-Z a-z 0-9 _ . -): the
   * groups of a queue take turns for its workers, and may have limits of
   * their own (see {@linkcode Queue.setLimits}, "Flow control" in the README).
   */
  group?: string;
}

/**
 * Deduplication of one enqueue, by `key` within the job's queue:
 *
 * - `"unique"` (the default): while the key's job is waiting, delayed or
 *   active (and, with `ttl`, at least `ttl` ms after it was enqueued, even
 *   once it finished), an enqueue with the key stores nothing and returns
 *   that job.
 * - `"throttle"`: as `"unique"`, but only until the key's job starts (or,
 *   with `ttl`, for at least `ttl` ms after its enqueue): an enqueue while it
 *   is active creates a new job, which then holds the key.
 * - `"debounce"`: while the key's job is waiting or delayed, an enqueue with
 *   the key gives it the new payload and moves its run time to
 *   `now + delay` (so it runs once, `delay` ms after the last enqueue);
 *   otherwise it creates a job due at `now + delay`. `delay` is required,
 *   and the enqueue's own `delay` and `runAt` are refused.
 *
 * An `id` that exists still wins first: that job comes back unchanged.
 */
export interface EnqueueDedupe {
  /** The key: a non-empty string of at most 512 characters, scoped to the job's queue. */
  key: string;
  /** Default "unique". */
  mode?: "unique" | "throttle" | "debounce";
  /** `"unique"` and `"throttle"`: hold the key at least this many ms after the enqueue. */
  ttl?: number;
  /** `"debounce"` (required there): ms from the latest enqueue to the run. */
  delay?: number;
}

/** What {@linkcode Queue.enqueueOutcome} returns: the job and what the enqueue did. */
export interface EnqueueOutcome<P = unknown> {
  /** The new job, the existing one (same id, or a duplicate by key), or the debounced one. */
  job: JobRecord<P>;
  /** True when a new job was stored. */
  created: boolean;
  /**
   * Set when `dedupe` decided (`created` is then false): `"duplicate"` when
   * the key's job came back and nothing was stored, `"debounced"` when the
   * key's pending job took the new payload and run time.
   */
  deduplicated?: "duplicate" | "debounced";
}

/** Options of {@linkcode Queue.schedule}: those of each job it makes, and its missed-tick policy. */
export interface ScheduleOptions {
  /** Queue of its jobs instead of the task's default (the workers of this queue fire it). */
  queue?: string;
  /** Priority of its jobs, as in `enqueue`. */
  priority?: number;
  /** Overrides the task's `maxAttempts` for its jobs. */
  maxAttempts?: number;
  /** Overrides the task's `timeout` (ms) for its jobs. */
  timeout?: number;
  /**
   * Ticks that came due while no worker fired them (all workers down):
   * `"latest"` (default) runs the latest once, `"each"` runs every one (the
   * latest 100 at most: `MAX_MISSED_TICKS`), `"skip"` runs none (a tick
   * more than a minute late, `SKIP_GRACE_MS`, is skipped).
   */
  missed?: MissedTicks;
}

/** A task, or just its name (for producers that do not import the handler code). */
// deno-lint-ignore no-explicit-any
export type TaskRef<P> = Task<P, any> | string;

/** Options of {@linkcode Queue.result}. */
export interface ResultOptions {
  /** Give up after this many ms (throws `ResultTimeoutError`). Default: wait forever. */
  timeout?: number;
  /**
   * How often to look, in ms, on a storage with events off
   * (`eventBacklog` 0), where `result()` polls. Default 50. With events on,
   * `result()` does not poll: it follows the job's queue's events.
   */
  pollInterval?: number;
  /** Stop waiting when this aborts (rejects with its reason). */
  signal?: AbortSignal;
}

/** What a job enqueued by task name starts from: every setting left to the task. */
const BY_NAME = Object.freeze({
  queue: "default",
  maxAttempts: null,
  timeout: null,
  maxStalls: null,
});

const QUEUE_OPTIONS = optionNames<QueueOptions>()(["storage", "clock", "maxPayloadBytes"]);
const ENQUEUE_OPTIONS = optionNames<EnqueueOptions>()([
  "delay",
  "runAt",
  "priority",
  "id",
  "queue",
  "maxAttempts",
  "timeout",
  "dedupe",
  "group",
]);
const SCHEDULE_OPTIONS = optionNames<ScheduleOptions>()([
  "queue",
  "priority",
  "maxAttempts",
  "timeout",
  "missed",
]);
const DEDUPE_OPTIONS = optionNames<EnqueueDedupe>()(["key", "mode", "ttl", "delay"]);
const DEDUPE_MODES = ["unique", "throttle", "debounce"] as const;
/** The longest time a dedupe `ttl` or `delay` may take, ms (as `delay`: 100 years). */
const MAX_DELAY = 100 * 365 * 86_400_000;
const RESULT_OPTIONS = optionNames<ResultOptions>()(["timeout", "pollInterval", "signal"]);
const LIST_OPTIONS = optionNames<ListOptions>()(["offset", "limit"]);

/** Largest priority magnitude: storage adapters rely on this range. */
export const MAX_PRIORITY = 1000;

/**
 * Enqueues and inspects jobs. Any number of Queues (in any process) may share
 * one storage with any number of Workers.
 *
 * @example
 * ```ts
 * import { defineTask, MemoryStorage, Queue } from "@taskmill/taskmill";
 *
 * const resize = defineTask({ name: "resize", handler: (p: { url: string }) => p.url });
 * const queue = new Queue({ storage: new MemoryStorage() });
 * const job = await queue.enqueue(resize, { url: "a.png" }, { delay: 5_000, priority: 1 });
 * await queue.enqueue(resize, { url: "a.png" }, { id: job.id }); // idempotent: same job back
 * console.log(await queue.counts("default")); // { waiting: 0, delayed: 1, ... }
 * ```
 */
export class Queue {
  readonly #storage: Storage;
  /** The storage as given (`#storage` may be its tracked view). */
  readonly #given: Storage;
  readonly #clock: Clock;
  readonly #maxPayloadBytes: number;
  readonly #nextId: (now: number) => string;
  /** Every pending `result()` of this queue, and their one event reader. */
  readonly #results: ResultWaiters;

  /** Creates a producer over `options.storage`. */
  constructor(options: QueueOptions) {
    if (typeof options !== "object" || options === null || !options.storage) {
      throw new TypeError("Cannot create Queue: options.storage is required");
    }
    checkKeys(options, QUEUE_OPTIONS, "Cannot create Queue");
    this.#clock = options.clock ?? systemClock;
    this.#given = options.storage;
    this.#storage = trackedStorage(options.storage, this.#clock);
    this.#maxPayloadBytes = options.maxPayloadBytes ?? 1024 * 1024;
    checkInt(this.#maxPayloadBytes, 1, 512 * 1024 * 1024, "Cannot create Queue: maxPayloadBytes");
    this.#nextId = createIdGenerator();
    this.#results = new ResultWaiters(this.#storage, this.#clock);
  }

  /** The storage this queue writes to. */
  get storage(): Storage {
    return this.#given;
  }

  /**
   * Enqueues one job and returns its stored record. The payload must be plain
   * JSON no larger than `maxPayloadBytes`; otherwise a TypeError/RangeError
   * names the bad path and nothing is stored. When nothing new is stored
   * (an existing `id`, a `dedupe` duplicate or debounce), the job returned
   * is the one that was already there (as it is now); use
   * {@linkcode Queue.enqueueOutcome} to learn which happened.
   *
   * @example Deduplication by key
   * ```ts
   * import { defineTask, MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const sync = defineTask({ name: "sync", handler: (p: { user: string }) => p.user });
   * const queue = new Queue({ storage: new MemoryStorage() });
   * const first = await queue.enqueue(sync, { user: "ada" }, { dedupe: { key: "sync:ada" } });
   * const again = await queue.enqueue(sync, { user: "ada" }, { dedupe: { key: "sync:ada" } });
   * console.log(again.id === first.id); // true: the key's job is still waiting
   * console.log((await queue.counts("default")).waiting); // 1
   * ```
   */
  async enqueue<P>(
    task: TaskRef<P>,
    payload: P,
    options: EnqueueOptions = {},
  ): Promise<JobRecord<P>> {
    return (await this.enqueueOutcome(task, payload, options)).job;
  }

  /**
   * As {@linkcode Queue.enqueue}, but tells what the enqueue did: `created`
   * is true when a job was stored, and `deduplicated` is `"duplicate"` or
   * `"debounced"` when the `dedupe` key decided.
   *
   * @example Debounce: one run, 1 s after the last of a burst of enqueues
   * ```ts
   * import { defineTask, MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const reindex = defineTask({ name: "reindex", handler: (p: { rev: number }) => p.rev });
   * const queue = new Queue({ storage: new MemoryStorage() });
   * const dedupe = { key: "doc:1", mode: "debounce", delay: 1_000 } as const;
   * const a = await queue.enqueueOutcome(reindex, { rev: 1 }, { dedupe });
   * const b = await queue.enqueueOutcome(reindex, { rev: 2 }, { dedupe });
   * console.log(a.created, b.created, b.deduplicated); // true false "debounced"
   * console.log(b.job.id === a.job.id, b.job.payload); // true { rev: 2 }
   * ```
   */
  async enqueueOutcome<P>(
    task: TaskRef<P>,
    payload: P,
    options: EnqueueOptions = {},
  ): Promise<EnqueueOutcome<P>> {
    const now = this.#clock.now();
    const job = this.#prepare(task, options, now)(payload, -1);
    const [result] = await this.#storage.enqueue([job], now);
    return result as EnqueueOutcome<P>;
  }

  /**
   * Enqueues many jobs of one task in one storage call (one round trip on
   * Redis). Every payload is checked before anything is stored: one bad
   * payload stores none. With `dedupe`, every job of the call has the same
   * key, so the first one decides and the others see it (they come back as
   * its duplicates, or debounce it to the last payload).
   */
  async enqueueMany<P>(
    task: TaskRef<P>,
    payloads: readonly P[],
    options: Omit<EnqueueOptions, "id"> = {},
  ): Promise<JobRecord<P>[]> {
    if (!Array.isArray(payloads)) {
      throw new TypeError(
        `Cannot enqueue jobs: payloads must be an array, got ${describe(payloads)}`,
      );
    }
    if ("id" in options && options.id !== undefined) {
      throw new TypeError(
        "Cannot enqueue jobs: enqueueMany takes no id option; use enqueue() per id",
      );
    }
    const now = this.#clock.now();
    const build = this.#prepare(task, options, now);
    const jobs = new Array<NewJob>(payloads.length);
    for (let i = 0; i < payloads.length; i++) jobs[i] = build(payloads[i], i);
    if (jobs.length === 0) return [];
    const results = await this.#storage.enqueue(jobs, now);
    return results.map((r) => r.job as JobRecord<P>);
  }

  /** The job with `id`, or null. */
  async getJob<P = unknown, R = unknown>(id: string): Promise<JobRecord<P, R> | null> {
    validateJobId(id, "Cannot get job: id");
    return (await this.#storage.getJob(id)) as JobRecord<P, R> | null;
  }

  /** How many jobs of `queue` are in each state. */
  async counts(queue = "default"): Promise<Counts> {
    validateName(queue, "Cannot count jobs: queue", "queue");
    return await this.#storage.counts(queue);
  }

  /** Jobs of `queue` in `state`, paged (see `Storage.list` for the order). */
  async list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    validateName(queue, "Cannot list jobs: queue", "queue");
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Cannot list jobs: options must be an object, got ${describe(options)}`);
    }
    checkKeys(options, LIST_OPTIONS, "Cannot list jobs");
    if (!JOB_STATES.includes(state)) {
      throw new RangeError(
        `Cannot list jobs: state must be one of ${JOB_STATES.join(", ")}, got ${describe(state)}`,
      );
    }
    if (options.offset !== undefined) {
      checkInt(options.offset, 0, Number.MAX_SAFE_INTEGER, "Cannot list jobs: offset");
    }
    if (options.limit !== undefined) checkInt(options.limit, 1, 10_000, "Cannot list jobs: limit");
    return await this.#storage.list(queue, state, options);
  }

  /**
   * Waits for the job to finish and returns its result. Throws
   * `JobFailedError` if it failed for good, `ResultTimeoutError` if
   * `timeout` ms pass first, and a RangeError if there is no such job.
   */
  async result<R = unknown>(id: string, options: ResultOptions = {}): Promise<R> {
    validateJobId(id, "Cannot wait for result: id");
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot wait for result: options must be an object, got ${describe(options)}`,
      );
    }
    checkKeys(options, RESULT_OPTIONS, "Cannot wait for result");
    const { timeout, pollInterval = 50, signal } = options;
    if (timeout !== undefined) {
      checkNumber(timeout, 0, Number.MAX_SAFE_INTEGER, "Cannot wait for result: timeout");
    }
    checkNumber(pollInterval, 1, 3_600_000, "Cannot wait for result: pollInterval");
    const deadline = timeout === undefined ? Infinity : this.#clock.now() + timeout;
    const storage = this.#storage;
    const withEvents = storage.eventBacklog > 0 && typeof storage.readEvents === "function";
    for (;;) {
      signal?.throwIfAborted();
      const job = await storage.getJob(id);
      const outcome = finished(id, job);
      if (outcome !== undefined) {
        if (outcome.ok) return outcome.value as R;
        throw outcome.error;
      }
      if (withEvents) {
        const left = deadline - this.#clock.now();
        if (left <= 0) throw new ResultTimeoutError(id, timeout!);
        return await this.#results.wait(
          id,
          job!.queue,
          timeout === undefined ? undefined : left,
          signal,
        ) as R;
      }
      // Events are off: poll.
      const now = this.#clock.now();
      if (now >= deadline) throw new ResultTimeoutError(id, timeout!);
      await this.#clock.sleep(Math.min(pollInterval, deadline - now), signal);
    }
  }

  /**
   * The storage's events as they happen: job lifecycles and pause/resume of
   * queues, and with `workers: true` the workers' `online`, `heartbeat` and
   * `offline`. Without `queues` it follows every queue of the store,
   * including queues that appear later. It ends when `signal` aborts or
   * the loop breaks; a reader that falls more than the storage's
   * `eventBacklog` behind is told by `onMissed` (and the iterator's
   * `missed` count). Throws a TypeError on a storage with events off.
   *
   * @example
   * ```ts
   * import { MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const queue = new Queue({ storage: new MemoryStorage() });
   * const stop = new AbortController();
   * const events = queue.events({ queues: ["default"], signal: stop.signal });
   * await queue.enqueue("send_email", { to: "a@b.c" }); // after events(): it is seen
   * const first = events.next();
   * console.log((await first).value?.type); // "enqueued"
   * stop.abort();
   * ```
   */
  events(options: EventStreamOptions = {}): EventStream {
    checkEventStreamOptions(options);
    if (!(this.#storage.eventBacklog > 0)) {
      throw new TypeError("Cannot read events: the storage keeps none (its eventBacklog is 0)");
    }
    return new EventStream(this.#storage, options);
  }

  /**
   * The workers alive now (registered and not expired), by id. A worker
   * killed without `stop()` leaves the list within 3 of its heartbeats.
   *
   * @example
   * ```ts
   * import { MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const queue = new Queue({ storage: new MemoryStorage() });
   * console.log(await queue.workers()); // []
   * ```
   */
  async workers(): Promise<WorkerInfo[]> {
    return await this.#storage.workers(this.#clock.now());
  }

  /**
   * Every queue of the store (enqueued to, paused or resumed), by name,
   * with its counts and whether it is paused.
   *
   * @example
   * ```ts
   * import { MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const queue = new Queue({ storage: new MemoryStorage() });
   * await queue.pause("mail");
   * console.log((await queue.queues()).map((q) => [q.name, q.paused])); // [["mail", true]]
   * ```
   */
  async queues(): Promise<QueueSummary[]> {
    return await this.#storage.queues();
  }

  /** Moves a failed job back to waiting with a fresh budget of attempts. False if it is not failed. */
  async retryFailed(id: string): Promise<boolean> {
    validateJobId(id, "Cannot retry job: id");
    return await this.#storage.retryFailed(id, this.#clock.now());
  }

  /**
   * Runs a delayed job now: it becomes waiting in one atomic step, keeping
   * its attempts and errors (a job delayed by a retry stays on its attempt).
   * False if it is missing or not delayed.
   *
   * @example
   * ```ts
   * import { defineTask, MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const queue = new Queue({ storage: new MemoryStorage() });
   * const report = defineTask({ name: "report", handler: () => {} });
   * const job = await queue.enqueue(report, null, { delay: 60_000 });
   * console.log(await queue.promote(job.id)); // true
   * console.log((await queue.getJob(job.id))?.state); // waiting
   * ```
   */
  async promote(id: string): Promise<boolean> {
    validateJobId(id, "Cannot promote job: id");
    return await this.#storage.promote(id, this.#clock.now());
  }

  /** Deletes a job that is not running. False if it is missing or active. */
  async remove(id: string): Promise<boolean> {
    validateJobId(id, "Cannot remove job: id");
    return await this.#storage.remove(id, this.#clock.now());
  }

  /**
   * Deletes a job only if it is failed (the dead-letter set's "remove"), in
   * one atomic storage step: a job retried meanwhile stays. False if it is
   * missing or not failed.
   */
  async removeFailed(id: string): Promise<boolean> {
    validateJobId(id, "Cannot remove job: id");
    return await this.#storage.removeFailed(id, this.#clock.now());
  }

  /** Stops workers from taking jobs from `queue`; enqueueing still works. */
  async pause(queue = "default"): Promise<void> {
    validateName(queue, "Cannot pause queue", "queue");
    return await this.#storage.pause(queue, this.#clock.now());
  }

  /** Lets workers take jobs from `queue` again. */
  async resume(queue = "default"): Promise<void> {
    validateName(queue, "Cannot resume queue", "queue");
    return await this.#storage.resume(queue, this.#clock.now());
  }

  /** Whether `queue` is paused. */
  async isPaused(queue = "default"): Promise<boolean> {
    validateName(queue, "Cannot check queue", "queue");
    return await this.#storage.isPaused(queue);
  }

  /** Removes finished jobs of `queue` beyond the retention (default: `DEFAULT_RETENTION`). */
  async prune(queue = "default", retention: Retention = DEFAULT_RETENTION): Promise<number> {
    validateName(queue, "Cannot prune queue", "queue");
    checkRetentionKeys(retention, "Cannot prune queue");
    return await this.#storage.prune(queue, retention, this.#clock.now());
  }

  /**
   * Creates or updates (by `id`) a schedule that enqueues `task` with
   * `payload` on every tick of `timing`: `{ cron, tz? }` or `{ every,
   * startAt? }`. Calling it again with the same id changes that schedule,
   * never adds a second; with the same timing its next run is kept (so
   * declaring schedules at every start loses no missed tick). The workers
   * of the job's queue fire it, each tick exactly once however many run.
   * Returns the stored schedule, with its `nextRunAt`.
   *
   * @example
   * ```ts
   * import { defineTask, MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const report = defineTask({ name: "report", handler: (p: { to: string }) => p.to });
   * const queue = new Queue({ storage: new MemoryStorage() });
   * const nightly = await queue.schedule("nightly-report", report, { to: "ops@example.com" }, {
   *   cron: "30 2 * * *",
   *   tz: "Europe/Berlin",
   * });
   * console.log(new Date(nightly.nextRunAt).toISOString()); // the next 02:30 in Berlin
   * await queue.schedule("heartbeat", "ping", null, { every: 60_000 }, { missed: "skip" });
   * console.log((await queue.schedules()).map((s) => s.id)); // ["heartbeat", "nightly-report"]
   * ```
   */
  async schedule<P>(
    id: string,
    task: TaskRef<P>,
    payload: P,
    timing: ScheduleTiming,
    options: ScheduleOptions = {},
  ): Promise<ScheduleRecord> {
    checkScheduleId(id, "Cannot schedule");
    const where = `Cannot schedule ${JSON.stringify(id)}`;
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
    }
    checkKeys(options, SCHEDULE_OPTIONS, where);
    const { missed = "latest", ...jobOptions } = options;
    if (!MISSED_TICKS.includes(missed)) {
      throw new RangeError(
        `${where}: missed must be one of ${MISSED_TICKS.join(", ")}, got ${describe(missed)}`,
      );
    }
    const now = this.#clock.now();
    const read = readTiming(timing, now, where);
    const { id: _id, runAt: _runAt, ...job } = this.#prepare(
      task,
      jobOptions,
      now,
      `${where}: job of`,
    )(
      payload,
      -1,
    );
    const { schedule } = await this.#storage.upsertSchedule({
      id,
      job,
      cron: read.cron,
      tz: read.tz,
      every: read.every,
      startAt: read.startAt,
      missed,
      timing: read.timing,
      // A tick at this very millisecond counts: it has not been fired yet.
      nextRunAt: nextTick(read.ticks, now - 1),
    }, now);
    return schedule;
  }

  /**
   * Deletes a schedule (the jobs it already made stay). False if there is none.
   *
   * @example
   * ```ts
   * import { MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const queue = new Queue({ storage: new MemoryStorage() });
   * await queue.schedule("tick", "ping", null, { every: 1_000 });
   * console.log(await queue.unschedule("tick"), await queue.unschedule("tick")); // true false
   * ```
   */
  async unschedule(id: string): Promise<boolean> {
    checkScheduleId(id, "Cannot unschedule");
    return await this.#storage.removeSchedule(id);
  }

  /**
   * Every schedule of the store, by id, each with its `nextRunAt`, its last
   * tick and the id of the job that tick made.
   *
   * @example
   * ```ts
   * import { MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const queue = new Queue({ storage: new MemoryStorage() });
   * console.log(await queue.schedules()); // []
   * ```
   */
  async schedules(): Promise<ScheduleRecord[]> {
    return await this.#storage.schedules();
  }

  /**
   * The schedule with `id`, or null.
   *
   * @example
   * ```ts
   * import { MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const queue = new Queue({ storage: new MemoryStorage() });
   * console.log(await queue.getSchedule("nightly")); // null
   * ```
   */
  async getSchedule(id: string): Promise<ScheduleRecord | null> {
    checkScheduleId(id, "Cannot get schedule");
    return await this.#storage.getSchedule(id);
  }

  /**
   * Sets the limits of `queue`, kept in storage so every worker of every
   * process honours them from its next reserve: at most `concurrency` of
   * its jobs active at once, at most `rate.max` started in any `rate.per`
   * ms (a sliding window), and `group`: the same per group. A field left
   * out is no bound; the call replaces all of the queue's limits, and null
   * clears them.
   *
   * @example
   * ```ts
   * import { MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const queue = new Queue({ storage: new MemoryStorage() });
   * await queue.setLimits("api", { rate: { max: 10, per: 1_000 }, group: { concurrency: 1 } });
   * console.log(await queue.getLimits("api"));
   * // { concurrency: null, rate: { max: 10, per: 1000 }, group: { concurrency: 1, rate: null } }
   * await queue.setLimits("api", null);
   * ```
   */
  async setLimits(queue: string, limits: LimitOptions | null): Promise<void> {
    const where = `Cannot set limits of queue ${describe(queue)}`;
    validateName(queue, `${where}: queue`, "queue");
    await this.#storage.setLimits(queue, toQueueLimits(limits, where), this.#clock.now());
  }

  /**
   * The limits of `queue` (every field given, null for none), or null.
   *
   * @example
   * ```ts
   * import { MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * console.log(await new Queue({ storage: new MemoryStorage() }).getLimits("api")); // null
   * ```
   */
  async getLimits(queue: string): Promise<QueueLimits | null> {
    validateName(queue, "Cannot get limits of queue: queue", "queue");
    return await this.#storage.getLimits(queue);
  }

  /**
   * Gives one group of `queue` limits of its own in place of the queue's
   * `group` limits (null removes them, and the queue's apply again).
   *
   * @example
   * ```ts
   * import { MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const queue = new Queue({ storage: new MemoryStorage() });
   * await queue.setLimits("api", { group: { concurrency: 1 } });
   * await queue.setGroupLimits("api", "tenant-big", { concurrency: 4 });
   * ```
   */
  async setGroupLimits(
    queue: string,
    group: string,
    limits: GroupLimitOptions | null,
  ): Promise<void> {
    const where = `Cannot set limits of group ${describe(group)} of queue ${describe(queue)}`;
    validateName(queue, `${where}: queue`, "queue");
    checkGroupName(group, `${where}: group`);
    await this.#storage.setGroupLimits(
      queue,
      group,
      toGroupLimits(limits, where),
      this.#clock.now(),
    );
  }

  /**
   * The groups of `queue` by name, each with its waiting and active jobs,
   * its own limits and its hold; paged (default: the first 100).
   *
   * @example
   * ```ts
   * import { defineTask, MemoryStorage, Queue } from "@taskmill/taskmill";
   *
   * const sync = defineTask({ name: "sync", queue: "api", handler: () => {} });
   * const queue = new Queue({ storage: new MemoryStorage() });
   * await queue.enqueue(sync, null, { group: "tenant-42" });
   * console.log(await queue.groups("api"));
   * // [{ name: "tenant-42", waiting: 1, active: 0, limits: null, heldUntil: null }]
   * ```
   */
  async groups(queue: string, options: ListOptions = {}): Promise<GroupInfo[]> {
    return await this.#storage.groups(queue, this.#clock.now(), options);
  }

  /** Checks the task and options once for a whole call; returns a per-payload job builder. */
  #prepare(
    // deno-lint-ignore no-explicit-any
    task: TaskRef<any>,
    options: EnqueueOptions,
    now: number,
    what = "Cannot enqueue job",
  ): (payload: unknown, index: number) => NewJob {
    let where = what;
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
    }
    let name: string;
    let defaults: {
      queue: string;
      maxAttempts: number | null;
      timeout: number | null;
      maxStalls: number | null;
    };
    if (typeof task === "string") {
      validateName(task, `${where}: task name`, "task");
      name = task;
      // The task's settings are not known here: null leaves each to the
      // worker that knows the task, which fills it in at reserve.
      defaults = BY_NAME;
    } else if (typeof task === "object" && task !== null && typeof task.name === "string") {
      name = task.name;
      defaults = task;
    } else {
      throw new TypeError(
        `${where}: the first argument must be a task from defineTask() or a task name, got ${
          describe(task)
        }`,
      );
    }
    where = `${where} "${name}"`;
    checkKeys(options, ENQUEUE_OPTIONS, where); // once per call, not per payload
    const queue = options.queue ?? defaults.queue;
    validateName(queue, `${where}: queue`, "queue");
    const priority = options.priority ?? 0;
    checkInt(priority, -MAX_PRIORITY, MAX_PRIORITY, `${where}: priority`);
    const maxAttempts = options.maxAttempts ?? defaults.maxAttempts;
    if (maxAttempts !== null) checkInt(maxAttempts, 1, 1_000_000, `${where}: maxAttempts`);
    const timeout = options.timeout ?? defaults.timeout;
    if (timeout !== null) checkInt(timeout, 0, 2_147_483_647, `${where}: timeout`);
    let runAt = now;
    let dedupe: NewJob["dedupe"];
    if (options.dedupe !== undefined) {
      dedupe = prepareDedupe(options.dedupe, where);
      if (dedupe.mode === "debounce") {
        if (options.delay !== undefined || options.runAt !== undefined) {
          throw new TypeError(
            `${where}: a "debounce" dedupe takes no delay or runAt option (dedupe.delay sets the run time)`,
          );
        }
        runAt = now + dedupe.delay!;
      }
    }
    if (options.delay !== undefined && options.runAt !== undefined) {
      throw new TypeError(`${where}: give delay or runAt, not both`);
    }
    if (options.delay !== undefined) {
      checkNumber(options.delay, 0, 100 * 365 * 86_400_000, `${where}: delay`);
      runAt = now + Math.ceil(options.delay);
    } else if (options.runAt !== undefined) {
      const at = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
      checkNumber(at, 0, 8.64e15, `${where}: runAt`);
      runAt = Math.max(now, Math.ceil(at));
    }
    const group = options.group;
    if (group !== undefined) checkGroupName(group, `${where}: group`);
    const givenId = options.id;
    if (givenId !== undefined) validateJobId(givenId, `${where}: id`);
    const maxStalls = defaults.maxStalls;
    const maxBytes = this.#maxPayloadBytes;
    const nextId = this.#nextId;
    const pathOf = (index: number) => index < 0 ? "payload" : `payloads[${index}]`;
    return (payload, index) => {
      if (payload === undefined) {
        throw new TypeError(`${where}: ${pathOf(index)} is undefined; pass null for "no payload"`);
      }
      checkJson(payload, index, pathOf, where, maxBytes);
      const job: NewJob = {
        id: givenId ?? nextId(now),
        name,
        queue,
        // Adapters copy the payload as they store it (MemoryStorage as if by a
        // JSON round trip, Redis as JSON text), so the caller may mutate its
        // object afterwards.
        payload,
        priority,
        maxAttempts,
        maxStalls,
        timeout,
        runAt,
      };
      if (dedupe !== undefined) job.dedupe = dedupe;
      if (group !== undefined) job.group = group;
      return job;
    };
  }
}

/** Checks `EnqueueOptions.dedupe` and builds the port's `JobDedupe` from it. */
function prepareDedupe(given: EnqueueDedupe, where: string): NonNullable<NewJob["dedupe"]> {
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw new TypeError(
      `${where}: dedupe must be an object { key, mode?, ttl?, delay? }, got ${describe(given)}`,
    );
  }
  checkKeys(given, DEDUPE_OPTIONS, where, "options.dedupe");
  const { key, mode = "unique", ttl, delay } = given;
  if (typeof key !== "string" || key === "" || key.length > MAX_DEDUPE_KEY_LENGTH) {
    throw new TypeError(
      `${where}: dedupe.key must be a non-empty string of at most ${MAX_DEDUPE_KEY_LENGTH} characters, got ${
        describe(key)
      }`,
    );
  }
  if (!(DEDUPE_MODES as readonly unknown[]).includes(mode)) {
    throw new TypeError(
      `${where}: dedupe.mode must be one of ${DEDUPE_MODES.join(", ")}, got ${describe(mode)}`,
    );
  }
  if (mode === "debounce") {
    if (delay === undefined) {
      throw new TypeError(`${where}: a "debounce" dedupe needs dedupe.delay (ms)`);
    }
    if (ttl !== undefined) {
      throw new TypeError(`${where}: a "debounce" dedupe takes no dedupe.ttl`);
    }
    checkInt(delay, 0, MAX_DELAY, `${where}: dedupe.delay`);
    return { key, mode, ttl: null, delay };
  }
  if (delay !== undefined) {
    throw new TypeError(`${where}: dedupe.delay is for mode "debounce" only (mode is "${mode}")`);
  }
  if (ttl !== undefined) checkInt(ttl, 0, MAX_DELAY, `${where}: dedupe.ttl`);
  return { key, mode, ttl: ttl ?? null, delay: null };
}
