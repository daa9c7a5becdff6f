/**
 * The Storage port: the contract between taskmill's core and a storage
 * adapter (`MemoryStorage`, `RedisStorage`, or your own).
 *
 * The port is batch-first and takes `now` from the caller on every call: the
 * core owns time, so the whole system, Redis included, runs on a fake clock in
 * tests, and an adapter needs one round trip per step. Every adapter must pass
 * the conformance suite in `tests/storage_contract.ts`, which proves each
 * promise written here.
 *
 * Ordering promises shared by every method:
 * - Within one queue, waiting jobs are reserved highest `priority` first, then
 *   in the order they became waiting (first in, first out).
 * - Across the queues of one {@linkcode ReserveRequest}, earlier queues are
 *   drained first.
 * - A delayed job becomes waiting once `runAt <= now`; due delayed jobs enter
 *   the waiting order by `runAt`, then by the order they were delayed.
 * - A job reclaimed from an expired lease, released, or retried goes to the
 *   back of its priority's line: "the order they became waiting".
 *
 * Atomicity: each method call is atomic with respect to every other call on
 * any instance sharing the same backing store: no job is reserved twice for
 * overlapping leases, and no settle is applied twice.
 *
 * ## Decisions every adapter makes the same way
 *
 * What the method docs below leave open, decided once here, so that a test
 * written against one adapter reads the same on every other (the contract
 * suites prove these too):
 *
 * - Time: an adapter never reads a clock for a job's state: every time is
 *   the `now` of the call (so a fake clock drives a real server). It must
 *   not assume `now` only grows (it comes from many machines): ties are
 *   broken by the adapter's own sequence, never by time. The one time an
 *   adapter measures is the `maxWaitMs` bound of `waitForWork`.
 * - Input: every method checks its arguments before it changes anything,
 *   with the shared checks of `core/storage_checks.ts` (one per method), so
 *   a bad entry refuses the whole batch with the same error everywhere. An
 *   adapter may refuse more than they do (RedisStorage: queue names that
 *   fit its keys, well-formed ids), never less.
 * - Copies: payloads, results and progress are stored as JSON and read back
 *   as a `JSON.parse(JSON.stringify(x))` would give them (a `Date` as its
 *   ISO string, `undefined` properties dropped); every read returns a fresh
 *   record that the caller may change.
 * - Order within a priority: "the order they became waiting" is the order
 *   of the calls that made them waiting, and within one call the order of
 *   its batch (a reserve's reclaims and promotions included). A queue named
 *   twice in one `ReserveRequest.queues` counts once.
 * - Paused queues: `reserve` still reclaims their expired leases and
 *   promotes their due delayed jobs (so `counts` stay truthful); it only
 *   takes no job from them, and they add nothing to `nextAt`. `enqueue`,
 *   `settle` and every other method work on them as usual. Pausing a queue
 *   that has no job yet is remembered.
 * - Leases and tokens: a token is an opaque string that no reservation of
 *   any job in the store ever had before (a reclaimed job's next lease has a
 *   new one). A lease is held while its job is `active` with that token;
 *   `extendLeases` keeps the token and moves the expiry (to `now + leaseMs`
 *   even if that is earlier). A lease whose `expiresAt <= now` is reclaimed
 *   by the next `reserve` of its queue, not before: until then its holder
 *   may still settle or extend it. A record carries `lease` only while it is
 *   `active`.
 * - A lost lease (the token differs, the job is gone or not active): `settle`
 *   returns false for that entry and changes nothing (no result, no error
 *   recorded, no retry); `extendLeases` and `setProgress` return false.
 *   The entries of one `settle` or `extendLeases` stand or fall on their own.
 * - Stalls: a reclaim that puts the job back records no error (the attempt
 *   that stalled has none to show); only a reclaim that fails the job
 *   records a `StalledError`. The attempt stays counted.
 * - Release: `attempt` goes back down by one (never below 0); without
 *   `runAt` the job keeps its own (already due) `runAt` and is waiting; with
 *   a `runAt` after `now` it is delayed.
 * - `retryFailed` makes the job due at `now` (`runAt = now`), clears
 *   `finishedAt`, and keeps `error` and `errors`.
 * - `promote` makes a delayed job due at `now` (`runAt = now`) and waiting
 *   in the same step, at the back of its priority's line (as a due delayed
 *   job that a reserve promotes), keeping `attempt`, `stalls`, `error` and
 *   `errors`: an admin's "run now" is not a fresh start.
 * - Wake-ups: an enqueue of a delayed job wakes `waitForWork` too (an idle
 *   worker sleeping until a later `nextAt` must learn of an earlier one), as
 *   do a retry or release (delayed or not), `retryFailed`, `promote` and
 *   `resume`.
 * - `nextAt` is computed after the call's own reservations, so the leases it
 *   just granted count. An adapter that bounds the work of one call (a
 *   reclaim or promotion budget) may return a `nextAt <= now`: work is left
 *   for the next call, and the caller should reserve again without sleeping.
 * - Retention (in `settle` for the queues it touched, and in `prune`):
 *   a finished job is dropped once its state holds more than `count` newer
 *   ones, or when `finishedAt < now - age`. A `completed.count` of 0 deletes
 *   a job as it completes: it is never seen as completed. `settle` may prune
 *   in bounded steps (what is left waits for the next call); `prune` removes
 *   all that is beyond. A deleted job's id can be enqueued again.
 * - `taskDefaults`: the same map object comes on every reserve of a worker;
 *   an adapter may check and encode it once per map (a `WeakMap`), so it
 *   must not be changed after its first use.
 * - Events (see `storage_events.ts`): every change a method makes to a
 *   job or a queue adds its event to the queue's stream in the same atomic
 *   step, so no event tells of a change that did not happen and no change
 *   happens without its event: `enqueue` (an `enqueued` per created job, a
 *   `debounced` per job a `"debounce"` dedupe updated, none for a duplicate),
 *   `reserve` (a `stalled` per reclaim, then `failed` if it failed the job;
 *   an `active` per reserved job), `settle` (`completed`, `retrying`,
 *   `failed`, or `waiting` for a release), `setProgress`, `retryFailed`
 *   (`waiting`, reason "retried"), `promote` (`waiting`, reason
 *   "promoted"), `remove` and `removeFailed` (`removed`), `pause` and
 *   `resume` (only when they change the flag). A reserve's promotions of
 *   due delayed jobs and retention make none. Each stream keeps at least its last
 *   `eventBacklog` events (an adapter option, default 10 000) and drops
 *   older ones; 0 turns events off (nothing is written, `readEvents`
 *   returns nothing).
 * - Workers: `registerWorker` records a worker as alive until `now + ttlMs`
 *   and adds its `online` or `heartbeat` event; `unregisterWorker` removes
 *   it at once with an `offline` (reason "stopped"). A registration that
 *   was not renewed in time is removed, with an `offline` (reason
 *   "expired"), by the next `registerWorker` or `workers` call whose `now`
 *   is past it: `workers(now)` never lists it.
 * - Flow control: `reserve` enforces each queue's stored limits and its
 *   groups' (`setLimits`, `setGroupLimits`, a release's `holdUntil`) as
 *   `storage_limits.ts` says, and takes turns between a queue's groups.
 *   A queue with neither limits nor groups reserves exactly as above.
 * - Queues: `queues()` names every queue that was ever enqueued to, paused
 *   or resumed in the store, in name order, without scanning keys.
 * - `close()`: pending waits resolve at once, and later ones resolve at
 *   once too. What other calls do after it is the adapter's (MemoryStorage
 *   keeps serving; RedisStorage has closed its connections).
 *
 * @module
 */

import type { StorageWarning } from "./errors.ts";
import type { EventPage, EventRead, QueueSummary, WorkerInfo } from "./storage_events.ts";
import type {
  DueSchedules,
  FireResult,
  NewSchedule,
  ScheduleFire,
  ScheduleRecord,
  UpsertScheduleResult,
} from "./storage_schedules.ts";
import type { GroupInfo, GroupLimits, QueueLimits } from "./storage_limits.ts";
import type { JobError, JobRecord, JobState, JsonValue } from "./task.ts";

/** A job to store, as built by `Queue.enqueue`. */
export interface NewJob {
  /** Id: unique in the store. Enqueuing an id that exists stores nothing. */
  id: string;
  /** Task name. */
  name: string;
  /** Queue name: A-Z a-z 0-9 _ . - (as `Queue` checks; RedisStorage refuses others). */
  queue: string;
  /** The payload, already checked to be JSON. */
  payload: unknown;
  /** Higher runs first. */
  priority: number;
  /**
   * Attempts allowed in all; null = the task's (a job enqueued by task name
   * whose enqueue did not set it): filled in at reserve from
   * {@linkcode ReserveRequest.taskDefaults}.
   */
  maxAttempts: number | null;
  /** Lease reclaims allowed before the job fails; null = the task's (as `maxAttempts`). */
  maxStalls: number | null;
  /** Per-attempt timeout in ms (0 = none); null = the task's (as `maxAttempts`). */
  timeout: number | null;
  /** When it may first run; `<= now` means waiting at once, later means delayed. */
  runAt: number;
  /** Deduplication by key within the job's queue (see {@linkcode JobDedupe}); absent = none. */
  dedupe?: JobDedupe;
  /**
   * Its group within the queue (a name as a queue's: A-Z a-z 0-9 _ . -, at
   * most 100 characters): groups share the queue's workers fairly and have
   * limits of their own (see `storage_limits.ts`). Absent = none.
   */
  group?: string;
}

/**
 * How an enqueue is deduplicated: by `key`, within the job's queue, in the
 * same atomic step as the enqueue.
 *
 * - `"unique"`: while the key's job is waiting, delayed or active (and, with
 *   `ttl`, until `ttl` ms after it was enqueued, whatever its state), an
 *   enqueue with the key stores nothing and returns that job.
 * - `"throttle"`: as `"unique"`, but only while the key's job has not started
 *   (waiting or delayed; with `ttl`, at least `ttl` ms after it was enqueued).
 * - `"debounce"`: while the key's job is waiting or delayed, an enqueue with
 *   the key replaces its payload with the new one and moves its `runAt` to
 *   `now + delay` (it becomes delayed again, and joins the back of its
 *   line when due; a delay of 0 makes it waiting at once, at the back);
 *   otherwise it creates the job, due at `now + delay` (the `NewJob`'s
 *   `runAt` is not used). The updated job keeps its id, name, priority,
 *   settings, `enqueuedAt`, attempts and errors.
 *
 * Decided the same way by every adapter:
 * - The job that holds a key is the last one created with it (a throttle's
 *   or a debounce's new job takes the key over). Whether the key still
 *   holds is decided by that job's current state, by the mode of the new
 *   enqueue, and by the `ttl` the holding job was enqueued with
 *   (`enqueuedAt + ttl > now` holds it). A job that is deleted (`remove`,
 *   retention) frees its key at once, ttl or not: a duplicate always
 *   returns a job that exists.
 * - An existing `id` is checked first: that job comes back with
 *   `created: false` and no `deduplicated`, and the key is not looked at.
 * - Within one `enqueue` batch, a job sees the key taken by an earlier one.
 * - A duplicate writes no event; a debounce writes a `debounced` event (with
 *   the new `runAt`) and wakes waiting workers as an enqueue does.
 * - The job record shows the key as `dedupeKey`. The adapter drops what it
 *   keeps for a key once the key is free: when its job finishes or is
 *   deleted, or, for a finished job whose ttl still held, in bounded steps
 *   of later `prune` and `settle` (with retention) calls of the queue and
 *   its dedupe enqueues: nothing grows with keys no job holds.
 */
export interface JobDedupe {
  /** The key: a non-empty string of at most 512 characters. */
  key: string;
  /** See the interface doc. */
  mode: "unique" | "throttle" | "debounce";
  /**
   * `"unique"` and `"throttle"`: the least time the key is held after the
   * enqueue, ms (an integer >= 0); null = none. `"debounce"`: null.
   */
  ttl: number | null;
  /** `"debounce"` (required there): ms from the latest enqueue to the run (an integer >= 0); null otherwise. */
  delay: number | null;
}

/** The outcome of storing one {@linkcode NewJob}. */
export interface EnqueueResult {
  /** The stored job: the new one, or the one already stored under that id. */
  job: JobRecord;
  /** False when a job with that id already existed (nothing was stored). */
  created: boolean;
  /**
   * Set when `dedupe` decided (with `created: false`): `"duplicate"` when
   * the key's job was returned and nothing stored, `"debounced"` when the
   * key's pending job took the new payload and run time.
   */
  deduplicated?: "duplicate" | "debounced";
}

/** A task's own settings, which fill a job's unset (null) ones at reserve. */
export interface TaskSettings {
  /** Attempts allowed in all (>= 1). */
  readonly maxAttempts: number;
  /** Lease reclaims allowed (>= 0). */
  readonly maxStalls: number;
  /** Per-attempt timeout in ms (>= 0, 0 = none). */
  readonly timeout: number;
}

/** What a worker asks for when it has free slots. */
export interface ReserveRequest {
  /** Queues in priority order: the first is drained before the second is looked at. */
  queues: readonly string[];
  /** Most jobs to return (>= 1). */
  limit: number;
  /** The worker's id, recorded in each lease. */
  owner: string;
  /** Lease length in ms: each returned job's lease expires at `now + leaseMs`. */
  leaseMs: number;
  /** The core's clock. */
  now: number;
  /**
   * The worker's tasks' settings by task name (a worker builds it once and
   * passes the same map every time; adapters may cache what they derive
   * from it, so do not change it after use). A reserved job whose
   * `maxAttempts`, `maxStalls` or `timeout` is null (enqueued by name) gets
   * its task's value, stored with the reservation, so every later step
   * (reclaim included) sees it. A job whose task is not in the map keeps
   * null: a reclaim then counts the built-in defaults, 3 attempts
   * (`DEFAULT_MAX_ATTEMPTS`) and 1 stall (`DEFAULT_MAX_STALLS`).
   */
  taskDefaults?: ReadonlyMap<string, TaskSettings>;
}

/** What {@linkcode Storage.reserve} returns. */
export interface ReserveResult {
  /**
   * Reserved jobs, now `active`, with `attempt` incremented, `startedAt = now`
   * and a fresh lease whose token no other reservation of the job ever had.
   */
  jobs: JobRecord[];
  /**
   * The earliest time after `now` at which a job in the requested queues
   * becomes reservable without any other call (a delayed job's `runAt`, or an
   * active job's lease expiry, the end of a rate window or of a hold that
   * keeps waiting jobs back: see `storage_limits.ts`), or `null` if there is
   * none. Paused queues do not count. Workers sleep until then (or until woken).
   */
  nextAt: number | null;
  /**
   * True when fewer than `limit` jobs came back although more may be waiting:
   * records that could not be parsed were quarantined (moved to failed) in
   * place of jobs. The caller should reserve again at once rather than take
   * the short batch for an empty queue. Absent or false otherwise.
   */
  more?: boolean;
}

/** A finished attempt, reported with the lease token it ran under. */
export type Settlement =
  | {
    /** The attempt succeeded: the job becomes `completed`. */
    kind: "complete";
    id: string;
    token: string;
    /** The handler's result, already checked to be JSON (undefined = none). */
    result?: unknown;
  }
  | {
    /** The attempt failed and will be retried: `delayed` until `runAt` (`waiting` if due). */
    kind: "retry";
    id: string;
    token: string;
    error: JobError;
    runAt: number;
  }
  | {
    /** The attempt failed for good: the job becomes `failed` (the dead-letter set). */
    kind: "fail";
    id: string;
    token: string;
    error: JobError;
  }
  | {
    /**
     * The worker gives the job back unrun (graceful stop, unknown task, a
     * `RateLimitedError`): the attempt is not counted (`attempt` is
     * decremented) and the job becomes waiting, or delayed until `runAt`
     * when given.
     */
    kind: "release";
    id: string;
    token: string;
    runAt?: number;
    /**
     * Holds the job's group, or its queue when it has none, until then
     * (epoch ms): no reserve takes their jobs before (see
     * `storage_limits.ts`). A later hold never shortens an earlier one.
     */
    holdUntil?: number;
  };

/** Bounds on kept completed and failed jobs, per queue. */
export interface RetentionPolicy {
  /** Keep at most this many (the newest). */
  count: number;
  /** Drop those finished more than this many ms ago. */
  age: number;
}

/** Retention for both finished states. */
export interface Retention {
  /** For completed jobs. */
  completed: RetentionPolicy;
  /** For failed jobs (the dead-letter set). */
  failed: RetentionPolicy;
}

/** Options of {@linkcode Storage.settle}. */
export interface SettleOptions {
  /** The core's clock: `finishedAt` of completed/failed jobs. */
  now: number;
  /**
   * When given, the adapter prunes finished jobs of the touched queues beyond
   * it in the same call (bounded work per call, so pruning never stalls).
   */
  retention?: Retention;
}

/** Number of jobs in each state of one queue. */
export type Counts = Record<JobState, number>;

/** Paging for {@linkcode Storage.list}. */
export interface ListOptions {
  /** Jobs to skip. Default 0. */
  offset?: number;
  /** Jobs to return at most. Default 100. */
  limit?: number;
}

/**
 * The storage port. Every method is atomic (see the module doc). Methods that
 * take a batch return one entry per input, in input order.
 */
export interface Storage {
  /**
   * Stores new jobs. Idempotent by id: a job whose id exists is not stored
   * again, and its entry returns the stored job with `created: false` (this
   * holds within one batch too: the first of two equal ids wins). Wakes
   * workers waiting in {@linkcode Storage.waitForWork} on the jobs' queues.
   */
  enqueue(jobs: readonly NewJob[], now: number): Promise<EnqueueResult[]>;

  /**
   * In one atomic step: reclaims active jobs of the requested queues whose
   * lease expired at or before `now` (each reclaim adds 1 to `stalls`; a job
   * whose `stalls` exceeds `maxStalls` or whose `attempt` reached
   * `maxAttempts` becomes `failed` with a `StalledError`, otherwise `waiting`
   * with no error recorded),
   * promotes due delayed jobs, and reserves up to `limit` waiting jobs from
   * unpaused queues in order, filling their null settings from
   * `taskDefaults` (see there). Records whose stored text cannot be parsed are
   * moved to `failed` with the text kept in `raw`, and are not returned.
   */
  reserve(request: ReserveRequest): Promise<ReserveResult>;

  /**
   * Applies finished attempts. Each entry returns true if applied, false if
   * refused: the job is gone, is not active, or its lease token differs (the
   * lease was lost and the job reclaimed, so a late attempt cannot overwrite
   * a newer one). Keeps the last 10 attempt errors in `errors`.
   */
  settle(settlements: readonly Settlement[], options: SettleOptions): Promise<boolean[]>;

  /**
   * Heartbeat: sets each lease's expiry to `now + leaseMs`. Each entry returns
   * false when the lease is no longer held (the token differs or the job is
   * not active), which tells the worker to abort that attempt.
   */
  extendLeases(
    leases: readonly { id: string; token: string }[],
    leaseMs: number,
    now: number,
  ): Promise<boolean[]>;

  /**
   * Records a handler's progress on an active job. False if the lease token
   * no longer matches.
   */
  setProgress(id: string, token: string, progress: JsonValue, now?: number): Promise<boolean>;

  /**
   * Resolves when work may have arrived on one of `queues` (a job enqueued,
   * released, retried, promoted, or a queue resumed), or after at most `maxWaitMs` of
   * real time (adapters may return earlier), or when `signal` aborts. It may
   * resolve spuriously; callers re-check with `reserve`. It must not miss a
   * wake-up that happens after the call began. A wake-up may wake only one of
   * several waiting workers (Redis pops one marker per blocked connection);
   * the woken worker's reserve takes what it can, and idle workers look again
   * after `maxWaitMs` at the latest.
   *
   * On abort it resolves at once; an adapter may let the blocking call
   * behind it run on to its own end (RedisStorage does, to keep the
   * connection), as long as no wake-up is lost for the next call. The Worker
   * passes `maxWaitMs` bounded by the next due time, so on a real clock a
   * wait usually ends by itself. It rejects with a `StorageError` when the
   * storage cannot wait at all (e.g. the server refuses the command): the
   * Worker reports that as an `error` event (during "wait for work") and
   * backs off, rather than reserving in a busy loop.
   */
  waitForWork(queues: readonly string[], maxWaitMs: number, signal: AbortSignal): Promise<void>;

  /** The job, or null if there is none with that id. */
  getJob(id: string): Promise<JobRecord | null>;

  /** Jobs in each state in one queue. */
  counts(queue: string): Promise<Counts>;

  /**
   * Jobs of one queue in one state. Order: waiting in reservation order,
   * delayed by `runAt`, active by `startedAt`, completed and failed newest
   * finished first.
   */
  list(queue: string, state: JobState, options?: ListOptions): Promise<JobRecord[]>;

  /**
   * Moves a failed job back to waiting with a fresh budget of attempts
   * (`attempt` and `stalls` reset to 0, errors kept). False if it is not failed.
   */
  retryFailed(id: string, now: number): Promise<boolean>;

  /**
   * Makes a delayed job due now: it becomes waiting (`runAt = now`), joining
   * the waiting order as a due delayed job would. False if it is missing or
   * not delayed (and nothing changes). Its attempts, stalls and errors are
   * kept. Adds a `waiting` event (reason "promoted") and wakes waiting
   * workers.
   */
  promote(id: string, now: number): Promise<boolean>;

  /**
   * Deletes a job that is not active. False if it is missing or active.
   * `now` dates its `removed` event (as in `setProgress`, `pause` and
   * `resume`: the core always passes it; without it, an adapter dates the
   * event by its own clock).
   */
  remove(id: string, now?: number): Promise<boolean>;

  /**
   * Deletes a job only if it is failed, in one atomic step (the dead-letter
   * set's "remove"): a job retried or revived meanwhile is left alone. False
   * if it is missing or not failed.
   */
  removeFailed(id: string, now?: number): Promise<boolean>;

  /** Stops reservations from a queue (enqueue still works). */
  pause(queue: string, now?: number): Promise<void>;

  /** Lets reservations from a queue happen again, and wakes waiting workers. */
  resume(queue: string, now?: number): Promise<void>;

  /** Whether a queue is paused. */
  isPaused(queue: string): Promise<boolean>;

  /** Removes finished jobs of a queue beyond `retention`. Returns how many were removed. */
  prune(queue: string, retention: Retention, now: number): Promise<number>;

  /** Releases what the adapter opened itself. Idempotent. */
  close(): Promise<void>;

  /**
   * Reads events after the request's cursors (see `storage_events.ts` and
   * the module doc). Resolves at once with what there is; when there is
   * nothing, waits up to `maxWaitMs` of real time for an event, or until
   * `signal` aborts. Every stream read gets a cursor in the page. Delivery
   * is at least once and in order per stream: ids count 1, 2, ... without
   * gaps, so a jump from the cursor means events were dropped from the
   * backlog before they were read.
   */
  readEvents(request: EventRead): Promise<EventPage>;

  /**
   * Records `worker` as alive until `now + ttlMs`, replacing what it said
   * before, and adds an `online` event (`kind`) or a `heartbeat` event.
   * Removes registrations that expired at or before `now` (each with an
   * `offline` event, reason "expired").
   */
  registerWorker(
    worker: WorkerInfo,
    kind: "online" | "heartbeat",
    ttlMs: number,
    now: number,
  ): Promise<void>;

  /** Removes a worker's registration at once, with an `offline` event (reason "stopped"). */
  unregisterWorker(id: string, now: number): Promise<void>;

  /** Workers registered and not expired at `now`, by id (removing the expired, as `registerWorker`). */
  workers(now: number): Promise<WorkerInfo[]>;

  /** Every queue the store knows (see the module doc), with its counts and paused flag. */
  queues(): Promise<QueueSummary[]>;

  /** Events kept per stream: 0 when events are off (see the module doc). */
  readonly eventBacklog: number;

  /**
   * Creates a schedule, or updates the one with its id (idempotent: never
   * a second one). An update whose `timing` equals the stored one keeps
   * the stored `nextRunAt` and `startAt`; everything else is replaced, and
   * `revision` goes up by one. An update may move the schedule to another
   * queue. See `storage_schedules.ts`.
   */
  upsertSchedule(schedule: NewSchedule, now: number): Promise<UpsertScheduleResult>;

  /** Deletes a schedule (the jobs it made stay). False if there is none with that id. */
  removeSchedule(id: string): Promise<boolean>;

  /** The schedule, or null. */
  getSchedule(id: string): Promise<ScheduleRecord | null>;

  /** Every schedule of the store, by id. */
  schedules(): Promise<ScheduleRecord[]>;

  /**
   * The schedules of `queues` due at `now` (`nextRunAt <= now`), earliest
   * first, at most `limit`, and the earliest `nextRunAt` of the others.
   */
  dueSchedules(queues: readonly string[], now: number, limit: number): Promise<DueSchedules>;

  /**
   * In one atomic step: if the schedule exists with the fire's `revision`
   * and `nextRunAt`, enqueues its jobs (as `enqueue`, idempotent by id, with
   * their `enqueued` events and wake-ups) and sets `nextRunAt = next`,
   * `lastTickAt` and `lastJobId` (the last job's id; kept when there is no
   * job). Otherwise changes nothing and returns `fired: false`.
   */
  fireSchedule(fire: ScheduleFire, now: number): Promise<FireResult>;

  /**
   * Replaces a queue's limits (null clears them), enforced by every later
   * `reserve` of every worker, and wakes waiting workers. See
   * `storage_limits.ts`.
   */
  setLimits(queue: string, limits: QueueLimits | null, now: number): Promise<void>;

  /** A queue's limits, or null when it has none. */
  getLimits(queue: string): Promise<QueueLimits | null>;

  /**
   * Replaces one group's override of the queue's `group` limits (null
   * removes it, and the queue's apply again), and wakes waiting workers.
   */
  setGroupLimits(
    queue: string,
    group: string,
    limits: GroupLimits | null,
    now: number,
  ): Promise<void>;

  /**
   * The groups of a queue by name, paged (see {@linkcode GroupInfo}): each
   * with its waiting and active jobs, its override and its hold at `now`.
   */
  groups(queue: string, now: number, options?: ListOptions): Promise<GroupInfo[]>;

  /**
   * Optional. Checks the backing store's setup for what fails no call but
   * puts jobs at risk (RedisStorage: a `maxmemory-policy` other than
   * `noeviction`), connecting if needed, and returns one warning per
   * problem: empty when all is well. The Worker calls it when it starts and
   * emits each warning as an `error` event (during "storage check").
   */
  checkSetup?(): Promise<StorageWarning[]>;

  /**
   * Optional. The backing store's own clock, epoch ms (RedisStorage: TIME).
   * Leases are compared across machines through the `now` each worker
   * passes, so a worker measures its clock's skew against this one: when it
   * starts, and on heartbeats at most once a minute, warning (an `error`
   * event during "clock skew") when the skew nears `leaseMs - heartbeatMs`,
   * the most a lease holds against. Adapters kept in one process
   * (MemoryStorage) have no other clock and leave it out.
   */
  serverTime?(): Promise<number>;
}

/** Attempt errors kept per job in `errors`. */
export const MAX_ERROR_HISTORY = 10;

/** The retention used when none is configured: bounded, never forever. */
export const DEFAULT_RETENTION: Retention = Object.freeze({
  completed: Object.freeze({ count: 1_000, age: 24 * 60 * 60 * 1000 }),
  failed: Object.freeze({ count: 10_000, age: 7 * 24 * 60 * 60 * 1000 }),
});

/**
 * The record an enqueue returns for a job it stored: nothing run yet,
 * waiting or delayed by its `runAt`. The same on every adapter; `payload`
 * is the stored payload as the caller may keep it (a copy).
 *
 * @example
 * ```ts
 * import { enqueuedRecord } from "./storage.ts";
 *
 * const job = { id: "a", name: "send", queue: "default", payload: 1, priority: 0,
 *   maxAttempts: 3, maxStalls: 1, timeout: 0, runAt: 5 };
 * console.log(enqueuedRecord(job, 1, 0).state); // "delayed"
 * ```
 */
export function enqueuedRecord(
  job: NewJob,
  payload: JsonValue | undefined,
  now: number,
): JobRecord {
  const record: JobRecord = {
    id: job.id,
    name: job.name,
    queue: job.queue,
    payload,
    priority: job.priority,
    attempt: 0,
    maxAttempts: job.maxAttempts,
    stalls: 0,
    maxStalls: job.maxStalls,
    timeout: job.timeout,
    enqueuedAt: now,
    runAt: job.runAt,
    state: job.runAt <= now ? "waiting" : "delayed",
    errors: [],
  };
  if (job.dedupe !== undefined) record.dedupeKey = job.dedupe.key;
  if (job.group !== undefined) record.group = job.group;
  return record;
}
