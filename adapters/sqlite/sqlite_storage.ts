import { type Clock, systemClock } from "../../core/clock.ts";
import { StorageError } from "../../core/errors.ts";
import type {
  Counts,
  EnqueueResult,
  ListOptions,
  NewJob,
  ReserveRequest,
  ReserveResult,
  Retention,
  Settlement,
  SettleOptions,
  Storage,
} from "../../core/storage.ts";
import {
  checkEnqueue,
  checkExtendLeases,
  checkList,
  checkPromote,
  checkPrune,
  checkQueueName,
  checkReserve,
  checkRetryFailed,
  checkSettle,
  checkTime,
  checkWaitForWork,
} from "../../core/storage_checks.ts";
import type { EventPage, EventRead, QueueSummary, WorkerInfo } from "../../core/storage_events.ts";
import { DEFAULT_EVENT_BACKLOG } from "../../core/storage_events.ts";
import {
  checkReadEvents,
  checkRegisterWorker,
  checkUnregisterWorker,
  checkWorkersNow,
} from "../../core/storage_event_checks.ts";
import type { GroupInfo, GroupLimits, QueueLimits } from "../../core/storage_limits.ts";
import {
  checkGroups,
  checkSetGroupLimits,
  checkSetLimits,
} from "../../core/storage_limit_checks.ts";
import type {
  DueSchedules,
  FireResult,
  NewSchedule,
  ScheduleFire,
  ScheduleRecord,
  UpsertScheduleResult,
} from "../../core/storage_schedules.ts";
import {
  checkDueSchedules,
  checkFireSchedule,
  checkScheduleId,
  checkUpsertSchedule,
} from "../../core/storage_schedule_checks.ts";
import type { JobRecord, JobState, JsonValue } from "../../core/task.ts";
import { checkInt, checkKeys, optionNames } from "../../core/_validate.ts";
import { ChangeWatch, type Version } from "./change_watch.ts";
import { type Database, openDatabase } from "./database.ts";
import { shownPath } from "./errors.ts";
import { collectEvents, startCursors, streamsOf } from "./event_reader.ts";
import { Flow } from "./flow.ts";
import { JobTable } from "./job_table.ts";
import { ScheduleTable } from "./schedule_table.ts";
import { openSchema, type Synchronous } from "./schema.ts";
import { Step } from "./step.ts";
import {
  type BusyPolicy,
  DEFAULT_BUSY_POLICY,
  readTransaction,
  writeTransaction,
} from "./transaction.ts";
import { WorkerTable } from "./worker_table.ts";

/**
 * Options of {@linkcode SqliteStorage}.
 *
 * @example
 * ```ts
 * import type { SqliteStorageOptions } from "./sqlite_storage.ts";
 *
 * const options: SqliteStorageOptions = { path: "jobs.db", synchronous: "FULL" };
 * ```
 */
export interface SqliteStorageOptions {
  /** The database file (created when missing), or `":memory:"` for a private in-memory one. */
  path: string;
  /**
   * SQLite's `synchronous` level. Default `"NORMAL"`: in WAL mode a
   * committed call (an enqueue that returned) survives a crash or SIGKILL of
   * the process; only a power loss or an OS crash may lose the last
   * transactions before a checkpoint. `"FULL"` survives those too, with an
   * fsync per write. See `schema.ts`.
   */
  synchronous?: Synchronous;
  /**
   * Events kept per stream (an integer >= 0; default `DEFAULT_EVENT_BACKLOG`,
   * 10 000); 0 turns events off.
   */
  eventBacklog?: number;
  /**
   * How often an idle `waitForWork` or `readEvents` looks for commits of
   * other processes on the file (`PRAGMA data_version`), ms; default 100.
   * Work enqueued by another process wakes a waiting worker within this
   * bound; work of this process wakes it at once.
   */
  pollMs?: number;
  /**
   * Clock for the `maxWaitMs` bounds of `waitForWork` and `readEvents`, and
   * the `now` of `setProgress`, `remove`, `pause` and `resume` when the
   * caller passes none. Default: the system clock.
   */
  clock?: Clock;
  /** Waiting for the write lock (see `transaction.ts`); default `DEFAULT_BUSY_POLICY`. */
  busy?: Partial<BusyPolicy>;
}

const SQLITE_OPTIONS = optionNames<SqliteStorageOptions>()([
  "path",
  "synchronous",
  "eventBacklog",
  "pollMs",
  "clock",
  "busy",
]);

/** What an open storage holds. */
interface Opened {
  db: Database;
  jobs: JobTable;
  flow: Flow;
  workers: WorkerTable;
  schedules: ScheduleTable;
}

/**
 * The SQLite {@linkcode Storage}: durable jobs in one file, on the runtime's
 * own SQLite (`node:sqlite` on Node 22.5+ and Deno, `bun:sqlite` on Bun),
 * shared by any number of processes on one machine.
 *
 * Every port call is one transaction (`BEGIN IMMEDIATE` for writes), so a
 * call is atomic across processes, and a process killed mid-call leaves
 * nothing half-applied. The file is opened, checked and migrated at the
 * first call (or by {@linkcode SqliteStorage.open}); a file it refuses
 * (not SQLite, corrupt, another application's, a newer schema) fails every
 * call with a `SqliteFileError` and is left unchanged.
 *
 * Waiting for work: commits of this instance wake its waits at once; those
 * of other processes within `pollMs` (see `change_watch.ts`).
 *
 * @example Enqueue, reserve and complete by hand (what `Queue` and `Worker` do)
 * ```ts
 * import { SqliteStorage } from "./sqlite_storage.ts";
 *
 * const storage = new SqliteStorage({ path: ":memory:" });
 * const now = Date.now();
 * await storage.enqueue([{
 *   id: "job-1", name: "hello", queue: "default", payload: { to: "world" },
 *   priority: 0, maxAttempts: 3, maxStalls: 1, timeout: 0, runAt: now,
 * }], now);
 * const { jobs } = await storage.reserve({
 *   queues: ["default"], limit: 10, owner: "worker-1", leaseMs: 30_000, now,
 * });
 * await storage.settle([{ kind: "complete", id: "job-1", token: jobs[0].lease!.token }], { now });
 * console.log((await storage.getJob("job-1"))?.state); // "completed"
 * await storage.close();
 * ```
 */
export class SqliteStorage implements Storage {
  /**
   * Events kept per stream (0: events are off).
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * console.log(new SqliteStorage({ path: ":memory:", eventBacklog: 0 }).eventBacklog); // 0
   * ```
   */
  readonly eventBacklog: number;
  /**
   * The database file's path, as given.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * console.log(new SqliteStorage({ path: ":memory:" }).path); // ":memory:"
   * ```
   */
  readonly path: string;
  readonly #synchronous: Synchronous | undefined;
  readonly #busy: BusyPolicy;
  readonly #clock: Clock;
  readonly #pollMs: number;
  #opening: Promise<Opened> | undefined;
  #opened: Opened | undefined;
  #watch: ChangeWatch | undefined;
  #closed = false;

  /**
   * A storage on the file at `options.path`; nothing is opened until the
   * first call.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:", synchronous: "FULL" });
   * await storage.close();
   * ```
   */
  constructor(options: SqliteStorageOptions) {
    const where = "Cannot create SqliteStorage";
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${where}: options must be an object`);
    }
    checkKeys(options, SQLITE_OPTIONS, where);
    if (typeof options.path !== "string" || options.path === "") {
      throw new TypeError(`${where}: path must be a non-empty string (or ":memory:")`);
    }
    this.path = options.path;
    this.#synchronous = options.synchronous;
    const backlog = options.eventBacklog ?? DEFAULT_EVENT_BACKLOG;
    checkInt(backlog, 0, Number.MAX_SAFE_INTEGER, `${where}: eventBacklog`);
    this.eventBacklog = backlog;
    const pollMs = options.pollMs ?? 100;
    checkInt(pollMs, 1, 60_000, `${where}: pollMs`);
    this.#pollMs = pollMs;
    const clock = options.clock ?? systemClock;
    if (typeof clock?.now !== "function" || typeof clock.sleep !== "function") {
      throw new TypeError(`${where}: clock must have now() and sleep()`);
    }
    this.#clock = clock;
    const busy = { ...DEFAULT_BUSY_POLICY, ...options.busy };
    checkInt(busy.busyTimeoutMs, 0, 60_000, `${where}: busy.busyTimeoutMs`);
    checkInt(busy.retries, 0, 1_000, `${where}: busy.retries`);
    checkInt(busy.backoffMs, 0, 60_000, `${where}: busy.backoffMs`);
    checkInt(busy.maxBackoffMs, 0, 600_000, `${where}: busy.maxBackoffMs`);
    this.#busy = busy;
  }

  /**
   * A storage on `options.path`, opened now: the file is checked, created
   * or migrated before this resolves, so a refused file fails here.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = await SqliteStorage.open({ path: ":memory:" });
   * console.log(await storage.queues()); // []
   * await storage.close();
   * ```
   */
  static async open(options: SqliteStorageOptions): Promise<SqliteStorage> {
    const storage = new SqliteStorage(options);
    await storage.#open();
    return storage;
  }

  /**
   * Stores new jobs, idempotent by id, in one transaction.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * const job = { id: "a", name: "t", queue: "q", payload: 1, priority: 0, maxAttempts: 1,
   *   maxStalls: 1, timeout: 0, runAt: 0 };
   * const [first, again] = await storage.enqueue([job, job], 0);
   * console.log(first.created, again.created); // true false
   * await storage.close();
   * ```
   */
  enqueue(jobs: readonly NewJob[], now: number): Promise<EnqueueResult[]> {
    return this.#write(
      "enqueue jobs",
      () => checkEnqueue(jobs, now),
      (step, o) => o.jobs.enqueue(step, jobs, now),
    );
  }

  /**
   * Reclaims expired leases, promotes due delayed jobs and reserves up to
   * `limit` waiting jobs, in one transaction.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * const { jobs, nextAt } = await storage.reserve({
   *   queues: ["default"], limit: 10, owner: "worker-1", leaseMs: 30_000, now: 0,
   * });
   * console.log(jobs.length, nextAt); // 0 null
   * await storage.close();
   * ```
   */
  reserve(request: ReserveRequest): Promise<ReserveResult> {
    return this.#write(
      "reserve jobs",
      () => checkReserve(request),
      (step, o) => o.jobs.reserve(step, request),
    );
  }

  /**
   * Applies finished attempts (each on its own), then retention, in one transaction.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.settle([{ kind: "complete", id: "gone", token: "t" }], { now: 0 }));
   * // [false]
   * await storage.close();
   * ```
   */
  settle(settlements: readonly Settlement[], options: SettleOptions): Promise<boolean[]> {
    return this.#write(
      "settle jobs",
      () => checkSettle(settlements, options),
      (step, o) => o.jobs.settle(step, settlements, options.now, options.retention),
    );
  }

  /**
   * Renews leases still held: each expires `leaseMs` after `now`.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.extendLeases([{ id: "gone", token: "t" }], 30_000, 0)); // [false]
   * await storage.close();
   * ```
   */
  extendLeases(
    leases: readonly { id: string; token: string }[],
    leaseMs: number,
    now: number,
  ): Promise<boolean[]> {
    return this.#write(
      "extend leases",
      () => checkExtendLeases(leases, leaseMs, now),
      (step, o) => o.jobs.extendLeases(step, leases, leaseMs, now),
    );
  }

  /**
   * Records progress of an active job whose lease `token` still holds.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.setProgress("gone", "t", 50)); // false
   * await storage.close();
   * ```
   */
  setProgress(id: string, token: string, progress: JsonValue, now?: number): Promise<boolean> {
    let at = 0;
    return this.#write(
      "set progress",
      () => at = this.#now(now, "Cannot set progress"),
      (step, o) => o.jobs.setProgress(step, id, token, progress, at),
    );
  }

  /**
   * Resolves when work may have arrived on one of `queues` (at once for this
   * instance's commits, within `pollMs` for other processes'), after
   * `maxWaitMs` on the clock, when `signal` aborts, or on `close()`.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * const woken = storage.waitForWork(["default"], 5_000, new AbortController().signal);
   * await storage.enqueue([{ id: "a", name: "t", queue: "default", payload: null, priority: 0,
   *   maxAttempts: 1, maxStalls: 1, timeout: 0, runAt: 0 }], 0);
   * await woken; // resolved by the enqueue
   * await storage.close();
   * ```
   */
  waitForWork(queues: readonly string[], maxWaitMs: number, signal: AbortSignal): Promise<void> {
    try {
      checkWaitForWork(queues, maxWaitMs, signal);
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal.aborted || this.#closed) return Promise.resolve();
    // Open already: wait at once (synchronously), so no commit after this call is missed.
    if (this.#watch !== undefined) return this.#watch.wait("work", queues, maxWaitMs, signal);
    return this.#open().then(
      () => this.#closed ? undefined : this.#watch!.wait("work", queues, maxWaitMs, signal),
    );
  }

  /**
   * The job, or null.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.getJob("nope")); // null
   * await storage.close();
   * ```
   */
  getJob(id: string): Promise<JobRecord | null> {
    return this.#read("get job", (o) => o.jobs.getJob(id));
  }

  /**
   * Jobs in each state in `queue` (all zero for a queue never used).
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.counts("default"));
   * // { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 }
   * await storage.close();
   * ```
   */
  counts(queue: string): Promise<Counts> {
    return this.#read("count jobs", (o) => o.jobs.counts(queue));
  }

  /**
   * Jobs of `queue` in `state`, in the port's order, paged.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.list("default", "failed", { limit: 20 })); // []
   * await storage.close();
   * ```
   */
  list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    let page = { offset: 0, limit: 0 };
    return this.#read(
      "list jobs",
      (o) => o.jobs.list(queue, state, page.offset, page.limit),
      () => page = checkList(state, options),
    );
  }

  /**
   * Moves a failed job back to waiting with `attempt` and `stalls` reset.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.retryFailed("nope", 0)); // false
   * await storage.close();
   * ```
   */
  retryFailed(id: string, now: number): Promise<boolean> {
    return this.#write(
      "retry job",
      () => checkRetryFailed(now),
      (step, o) => o.jobs.retryFailed(step, id, now),
    );
  }

  /**
   * Makes a delayed job waiting now, keeping its attempts and errors.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.promote("nope", 0)); // false
   * await storage.close();
   * ```
   */
  promote(id: string, now: number): Promise<boolean> {
    return this.#write(
      "promote job",
      () => checkPromote(now),
      (step, o) => o.jobs.promote(step, id, now),
    );
  }

  /**
   * Deletes a job that is not active.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.remove("nope")); // false
   * await storage.close();
   * ```
   */
  remove(id: string, now?: number): Promise<boolean> {
    let at = 0;
    return this.#write(
      "remove job",
      () => at = this.#now(now, "Cannot remove job"),
      (step, o) => o.jobs.remove(step, id, false, at),
    );
  }

  /**
   * Deletes a job only if it is failed.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.removeFailed("nope")); // false
   * await storage.close();
   * ```
   */
  removeFailed(id: string, now?: number): Promise<boolean> {
    let at = 0;
    return this.#write(
      "remove job",
      () => at = this.#now(now, "Cannot remove job"),
      (step, o) => o.jobs.remove(step, id, true, at),
    );
  }

  /**
   * Stops reservations from `queue`.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * await storage.pause("default");
   * console.log(await storage.isPaused("default")); // true
   * await storage.close();
   * ```
   */
  pause(queue: string, now?: number): Promise<void> {
    let at = 0;
    return this.#write("pause queue", () => {
      checkQueueName(queue, "Cannot pause queue");
      at = this.#now(now, "Cannot pause queue");
    }, (step, o) => o.jobs.pause(step, queue, at));
  }

  /**
   * Lets reservations from `queue` happen again and wakes its waiting workers.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * await storage.pause("default");
   * await storage.resume("default");
   * console.log(await storage.isPaused("default")); // false
   * await storage.close();
   * ```
   */
  resume(queue: string, now?: number): Promise<void> {
    let at = 0;
    return this.#write("resume queue", () => {
      checkQueueName(queue, "Cannot resume queue");
      at = this.#now(now, "Cannot resume queue");
    }, (step, o) => o.jobs.resume(step, queue, at));
  }

  /**
   * Whether `queue` is paused.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.isPaused("default")); // false
   * await storage.close();
   * ```
   */
  isPaused(queue: string): Promise<boolean> {
    return this.#read("read queue", (o) => o.jobs.isPaused(queue));
  }

  /**
   * Removes finished jobs of `queue` beyond `retention`; returns how many.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * const keep = { count: 1_000, age: 86_400_000 };
   * console.log(await storage.prune("default", { completed: keep, failed: keep }, 0)); // 0
   * await storage.close();
   * ```
   */
  prune(queue: string, retention: Retention, now: number): Promise<number> {
    return this.#write(
      "prune jobs",
      () => checkPrune(retention, now),
      (_step, o) => o.jobs.prune(queue, retention, now),
    );
  }

  /**
   * Ends every pending wait and closes the database (idempotent). Later
   * calls fail with a `StorageError`; later waits resolve at once.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * await storage.close();
   * await storage.close(); // no-op
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch?.close();
    const opening = this.#opening;
    if (opening === undefined) return;
    try {
      (await opening).db.close();
    } catch {
      // It never opened (a refused file): nothing to close.
    }
  }

  /**
   * Events after the request's cursors; when there are none, waits up to
   * `maxWaitMs` for one (see `Storage.readEvents`).
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * await storage.pause("default", 0);
   * const page = await storage.readEvents({
   *   queues: ["default"], after: { default: "0" }, limit: 100, maxWaitMs: 0,
   * });
   * console.log(page.events.map((event) => event.type)); // ["paused"]
   * console.log(page.cursors); // { default: "1" }
   * await storage.close();
   * ```
   */
  async readEvents(request: EventRead): Promise<EventPage> {
    checkReadEvents(request);
    const streams = streamsOf(request);
    let cursors: Record<string, string> = {};
    const collect = (o: Opened) => collectEvents(o.db, streams, cursors, request.limit);
    let version: Version | undefined;
    let events = await this.#read("read events", (o) => {
      cursors = startCursors(o.db, streams, request.after);
      const found = collect(o);
      version = this.#watch!.version(); // of this read's snapshot
      return found;
    });
    if (events.length === 0 && request.maxWaitMs > 0 && !this.#closed) {
      await this.#watch!.wait("events", streams, request.maxWaitMs, request.signal, version);
      if (!this.#closed) events = await this.#read("read events", collect);
    }
    return { events, cursors };
  }

  /**
   * Records a live worker until `now + ttlMs`, with its `online` or
   * `heartbeat` event, removing expired registrations.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * await storage.registerWorker({ id: "w1", host: "", pid: 0, runtime: "deno",
   *   runtimeVersion: "", queues: ["default"], concurrency: 1, running: 0, processed: 0,
   *   failed: 0, startedAt: 0, lastSeen: 0 }, "online", 15_000, 0);
   * console.log((await storage.workers(1)).map((worker) => worker.id)); // ["w1"]
   * await storage.close();
   * ```
   */
  registerWorker(
    worker: WorkerInfo,
    kind: "online" | "heartbeat",
    ttlMs: number,
    now: number,
  ): Promise<void> {
    return this.#write(
      "register worker",
      () => checkRegisterWorker(worker, kind, ttlMs, now),
      (step, o) => o.workers.register(step, worker, kind, ttlMs, now),
    );
  }

  /**
   * Removes a worker's registration at once, with an `offline` event.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * await storage.unregisterWorker("w1", 0); // not registered: nothing happens
   * await storage.close();
   * ```
   */
  unregisterWorker(id: string, now: number): Promise<void> {
    return this.#write(
      "unregister worker",
      () => checkUnregisterWorker(id, now),
      (step, o) => o.workers.unregister(step, id, now),
    );
  }

  /**
   * Workers registered and alive at `now`, by id (the expired removed, with their events).
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.workers(0)); // []
   * await storage.close();
   * ```
   */
  workers(now: number): Promise<WorkerInfo[]> {
    return this.#write("list workers", () => checkWorkersNow(now), (step, o) => {
      o.workers.expire(step, now);
      return o.workers.list();
    });
  }

  /**
   * Every queue ever enqueued to, paused or resumed, by name, with counts.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * await storage.pause("mail", 0);
   * console.log((await storage.queues()).map((queue) => queue.name)); // ["mail"]
   * await storage.close();
   * ```
   */
  queues(): Promise<QueueSummary[]> {
    return this.#read("list queues", (o) => o.jobs.summaries());
  }

  /**
   * Creates or updates a schedule (see `Storage.upsertSchedule`).
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * const { created } = await storage.upsertSchedule({
   *   id: "tick",
   *   job: { name: "t", queue: "default", payload: null, priority: 0, maxAttempts: null,
   *     maxStalls: null, timeout: null },
   *   cron: null, tz: null, every: 60_000, startAt: 60_000, missed: "latest",
   *   timing: "every 60000", nextRunAt: 60_000,
   * }, 0);
   * console.log(created); // true
   * await storage.close();
   * ```
   */
  upsertSchedule(schedule: NewSchedule, now: number): Promise<UpsertScheduleResult> {
    return this.#write(
      "upsert schedule",
      () => checkUpsertSchedule(schedule, now),
      (_step, o) => o.schedules.upsert(schedule, now),
    );
  }

  /**
   * Deletes a schedule; false if there was none.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.removeSchedule("nope")); // false
   * await storage.close();
   * ```
   */
  removeSchedule(id: string): Promise<boolean> {
    return this.#write(
      "remove schedule",
      () => checkScheduleId(id, "Cannot remove schedule"),
      (_step, o) => o.schedules.remove(id),
    );
  }

  /**
   * The schedule, or null.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.getSchedule("nope")); // null
   * await storage.close();
   * ```
   */
  getSchedule(id: string): Promise<ScheduleRecord | null> {
    return this.#read(
      "get schedule",
      (o) => o.schedules.get(id),
      () => checkScheduleId(id, "Cannot get schedule"),
    );
  }

  /**
   * Every schedule, by id.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.schedules()); // []
   * await storage.close();
   * ```
   */
  schedules(): Promise<ScheduleRecord[]> {
    return this.#read("list schedules", (o) => o.schedules.all());
  }

  /**
   * The due schedules of `queues`, and when the next one is due.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.dueSchedules(["default"], 0, 10)); // { due: [], nextAt: null }
   * await storage.close();
   * ```
   */
  dueSchedules(queues: readonly string[], now: number, limit: number): Promise<DueSchedules> {
    return this.#read(
      "read due schedules",
      (o) => o.schedules.due(queues, now, limit),
      () => checkDueSchedules(queues, now, limit),
    );
  }

  /**
   * Fires a due schedule if nobody changed or fired it since it was read,
   * enqueuing its jobs in the same transaction (see `Storage.fireSchedule`).
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * const fire = { id: "gone", revision: 1, nextRunAt: 0, jobs: [], lastTickAt: 0, next: 1 };
   * console.log((await storage.fireSchedule(fire, 0)).fired); // false
   * await storage.close();
   * ```
   */
  fireSchedule(fire: ScheduleFire, now: number): Promise<FireResult> {
    return this.#write(
      "fire schedule",
      () => checkFireSchedule(fire, now),
      (step, o) => o.schedules.fire(fire, (jobs) => o.jobs.enqueue(step, jobs, now)),
    );
  }

  /**
   * Replaces a queue's limits (null clears them), enforced from the next
   * reserve of every process, and wakes its waiting workers.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * const limits = { concurrency: 5, rate: { max: 10, per: 1_000 }, group: null };
   * await storage.setLimits("api", limits, 0);
   * console.log((await storage.getLimits("api"))?.rate); // { max: 10, per: 1000 }
   * await storage.close();
   * ```
   */
  setLimits(queue: string, limits: QueueLimits | null, now: number): Promise<void> {
    return this.#write("set limits", () => checkSetLimits(queue, limits, now), (step, o) => {
      o.jobs.ensureQueue(queue);
      o.flow.setLimits(step, queue, limits, now);
    });
  }

  /**
   * A queue's limits, or null.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.getLimits("api")); // null
   * await storage.close();
   * ```
   */
  getLimits(queue: string): Promise<QueueLimits | null> {
    return this.#read("get limits", (o) => o.flow.getLimits(queue));
  }

  /**
   * Replaces one group's override of the queue's `group` limits (null
   * removes it), and wakes the queue's waiting workers.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * await storage.setGroupLimits("api", "tenant-42", { concurrency: 1, rate: null }, 0);
   * console.log((await storage.groups("api", 0))[0].limits); // { concurrency: 1, rate: null }
   * await storage.close();
   * ```
   */
  setGroupLimits(
    queue: string,
    group: string,
    limits: GroupLimits | null,
    now: number,
  ): Promise<void> {
    return this.#write(
      "set group limits",
      () => checkSetGroupLimits(queue, group, limits, now),
      (step, o) => {
        o.jobs.ensureQueue(queue);
        o.flow.setGroupLimits(step, queue, group, limits, now);
      },
    );
  }

  /**
   * The groups of a queue by name, with their waiting and active jobs, paged.
   *
   * @example
   * ```ts
   * import { SqliteStorage } from "./sqlite_storage.ts";
   *
   * const storage = new SqliteStorage({ path: ":memory:" });
   * console.log(await storage.groups("api", 0)); // []
   * await storage.close();
   * ```
   */
  groups(queue: string, now: number, options: ListOptions = {}): Promise<GroupInfo[]> {
    let page = { offset: 0, limit: 0 };
    return this.#read(
      "list groups",
      (o) => o.flow.groups(queue, now, page.offset, page.limit),
      () => page = checkGroups(queue, now, options),
    );
  }

  /** `now` checked, or the clock's when the caller passed none. */
  #now(now: number | undefined, where: string): number {
    if (now === undefined) return this.#clock.now();
    checkTime(now, `${where}: now`);
    return now;
  }

  /** The open database (opened, checked and migrated on first use). */
  #open(): Promise<Opened> {
    if (this.#closed) return Promise.reject(new StorageError("SqliteStorage is closed"));
    this.#opening ??= (async () => {
      const db = await openDatabase(this.path);
      try {
        await openSchema(db, { synchronous: this.#synchronous, busy: this.#busy });
      } catch (error) {
        db.close();
        throw error;
      }
      const flow = new Flow(db);
      const opened: Opened = {
        db,
        flow,
        jobs: new JobTable(db, flow),
        workers: new WorkerTable(db),
        schedules: new ScheduleTable(db),
      };
      // Nothing else can write to a private in-memory database: no polling.
      const pollMs = this.path === ":memory:" ? Infinity : this.#pollMs;
      this.#watch = new ChangeWatch(db, pollMs, this.#clock);
      if (this.#closed) this.#watch.close();
      this.#opened = opened;
      return opened;
    })();
    return this.#opening;
  }

  /** Checks the input (`check`), runs `fn` in one write transaction, then wakes the waits. */
  async #write<T>(
    what: string,
    check: () => unknown,
    fn: (step: Step, opened: Opened) => T,
  ): Promise<T> {
    check();
    const opened = this.#opened ?? await this.#open();
    if (this.#closed) throw new StorageError("SqliteStorage is closed");
    let step!: Step;
    const result = await this.#guard(
      what,
      () =>
        writeTransaction(opened.db, what, this.#busy, () => {
          step = new Step(opened.db, this.eventBacklog);
          const result = fn(step, opened);
          step.finish();
          return result;
        }),
    );
    this.#watch!.notify({ work: step.work, events: step.streams });
    return result;
  }

  /** Checks the input (`check`), then runs `fn` in one read transaction. */
  async #read<T>(what: string, fn: (opened: Opened) => T, check?: () => unknown): Promise<T> {
    check?.();
    const opened = this.#opened ?? await this.#open();
    if (this.#closed) throw new StorageError("SqliteStorage is closed");
    return await this.#guard(
      what,
      () => readTransaction(opened.db, what, this.#busy, () => fn(opened)),
    );
  }

  /** SQLite's errors as `StorageError`s: `Cannot <what>: ...`, naming the file. */
  async #guard<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw new StorageError(
        `Cannot ${what} in SQLite database ${shownPath(this.path)}: ${
          (error as Error)?.message ?? error
        }`,
        { cause: error },
      );
    }
  }
}
