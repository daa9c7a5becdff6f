import { type Clock, systemClock } from "../../core/clock.ts";
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
  promised,
} from "../../core/storage_checks.ts";
import type { EventPage, EventRead, QueueSummary, WorkerInfo } from "../../core/storage_events.ts";
import { DEFAULT_EVENT_BACKLOG, WORKER_STREAM } from "../../core/storage_events.ts";
import type { JobRecord, JobState, JsonValue } from "../../core/task.ts";
import { checkInt, checkKeys, optionNames } from "../../core/_validate.ts";
import {
  checkReadEvents,
  checkRegisterWorker,
  checkUnregisterWorker,
  checkWorkersNow,
} from "../../core/storage_event_checks.ts";
import { EventLog } from "./event_log.ts";
import { JobStore } from "./job_store.ts";
import { WorkerRegistry } from "./worker_registry.ts";
import { ScheduleBook } from "./schedule_book.ts";
import type {
  DueSchedules,
  FireResult,
  NewSchedule,
  ScheduleFire,
  ScheduleRecord,
  UpsertScheduleResult,
} from "../../core/storage_schedules.ts";
import type { GroupInfo, GroupLimits, QueueLimits } from "../../core/storage_limits.ts";
import {
  checkGroups,
  checkSetGroupLimits,
  checkSetLimits,
} from "../../core/storage_limit_checks.ts";
import {
  checkDueSchedules,
  checkFireSchedule,
  checkScheduleId,
  checkUpsertSchedule,
} from "../../core/storage_schedule_checks.ts";

/**
 * Options of {@linkcode MemoryStorage}.
 *
 * @example
 * ```ts
 * import type { MemoryStorageOptions } from "@taskmill/taskmill/memory";
 * import { FakeClock } from "@taskmill/taskmill/testing";
 *
 * const options: MemoryStorageOptions = { clock: new FakeClock() };
 * ```
 */
export interface MemoryStorageOptions {
  /**
   * Clock for the `maxWaitMs` bound of `waitForWork` (nothing else reads
   * time: every other method takes `now`). Default: the system clock. Pass the
   * `FakeClock` your `Queue` and `Worker` use so idle waits follow fake time.
   */
  clock?: Clock;
  /**
   * Events kept per stream (an integer >= 0; default `DEFAULT_EVENT_BACKLOG`,
   * 10 000). Exactly this many of each stream's newest events are kept; 0
   * turns events off (nothing is written, `readEvents` finds nothing).
   */
  eventBacklog?: number;
}

const MEMORY_OPTIONS = optionNames<MemoryStorageOptions>()(["clock", "eventBacklog"]);

/** A pending `waitForWork`: the queues it waits on, and how to end it. */
interface Waiter {
  queues: readonly string[];
  wake: () => void;
}

/**
 * The in-memory {@linkcode Storage}: shared state for one `Queue` and any
 * number of `Worker`s in one process. Every method runs synchronously inside
 * its promise, so each call is atomic by construction. It checks the input
 * and runs the waits; the jobs and their changes are its `JobStore`'s.
 *
 * Costs: enqueue, reserve and settle are O(1) per job for jobs of one
 * priority (O(log n) for delayed jobs and lease expiries, O(p) for a job of a
 * priority not seen before, p distinct priorities); retention pruning is
 * O(removed). `list` and the reclaim of expired leases cost what they return.
 *
 * It follows the port's decisions (see `core/storage.ts`); its own are:
 * - `waitForWork` resolves (never rejects) on abort, on `close()`, on a wake
 *   and after `maxWaitMs` on the injected clock; a non-finite `maxWaitMs`
 *   means no bound. It never resolves spuriously otherwise.
 * - After `close()` the stored jobs stay readable and writable; only waits
 *   end (at once).
 * - Events: each stream keeps exactly its last `eventBacklog` events (no
 *   slack). Events are stored without copies and copied for each reader,
 *   so writing them costs a small object per change. A blocking
 *   `readEvents` is woken in-process; its `maxWaitMs` runs on the injected
 *   clock, like `waitForWork`'s. `unregisterWorker` of an id not registered
 *   does nothing (no event).
 *
 * @example Enqueue, reserve and complete by hand (what `Queue` and `Worker` do)
 * ```ts
 * import { MemoryStorage } from "@taskmill/taskmill/memory";
 *
 * const storage = new MemoryStorage();
 * const now = Date.now();
 * await storage.enqueue([{
 *   id: "job-1", name: "hello", queue: "default", payload: { to: "world" },
 *   priority: 0, maxAttempts: 3, maxStalls: 1, timeout: 0, runAt: now,
 * }], now);
 * const { jobs } = await storage.reserve({
 *   queues: ["default"], limit: 10, owner: "worker-1", leaseMs: 30_000, now,
 * });
 * const [done] = await storage.settle(
 *   [{ kind: "complete", id: jobs[0].id, token: jobs[0].lease!.token, result: "hi" }],
 *   { now },
 * );
 * console.log(done, (await storage.getJob("job-1"))?.state); // true "completed"
 * ```
 */
export class MemoryStorage implements Storage {
  #clock: Clock;
  #waiters = new Set<Waiter>();
  #store: JobStore;
  #events: EventLog;
  #registry: WorkerRegistry;
  #schedules = new ScheduleBook();
  #closed = false;

  /**
   * Events kept per stream (0: events are off).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(new MemoryStorage({ eventBacklog: 0 }).eventBacklog); // 0
   * ```
   */
  readonly eventBacklog: number;

  /**
   * Creates an empty store.
   *
   * @example With a fake clock for tests
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   * import { FakeClock } from "@taskmill/taskmill/testing";
   *
   * const storage = new MemoryStorage({ clock: new FakeClock() });
   * ```
   */
  constructor(options: MemoryStorageOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Cannot create MemoryStorage: options must be an object`);
    }
    checkKeys(options, MEMORY_OPTIONS, "Cannot create MemoryStorage");
    const clock = options.clock ?? systemClock;
    if (typeof clock?.now !== "function" || typeof clock.sleep !== "function") {
      throw new TypeError(`Cannot create MemoryStorage: clock must have now() and sleep()`);
    }
    this.#clock = clock;
    const backlog = options.eventBacklog ?? DEFAULT_EVENT_BACKLOG;
    checkInt(backlog, 0, Number.MAX_SAFE_INTEGER, "Cannot create MemoryStorage: eventBacklog");
    this.eventBacklog = backlog;
    // With events off the log still runs the waits of `readEvents`, but has no stream.
    this.#events = new EventLog(backlog, clock);
    const on = backlog > 0;
    this.#store = new JobStore((queue) => this.#wake(queue), on ? this.#events : undefined);
    this.#registry = new WorkerRegistry(on ? this.#events.stream(WORKER_STREAM) : undefined);
  }

  /**
   * Stores new jobs, idempotent by id (the first of equal ids in one batch
   * wins). The whole batch is checked before anything is stored.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const job = { id: "a", name: "t", queue: "q", payload: 1, priority: 0, maxAttempts: 1,
   *   maxStalls: 1, timeout: 0, runAt: 0 };
   * const [first, again] = await storage.enqueue([job, job], 0);
   * console.log(first.created, again.created); // true false
   * ```
   */
  enqueue(jobs: readonly NewJob[], now: number): Promise<EnqueueResult[]> {
    return promised(() => {
      checkEnqueue(jobs, now);
      return this.#store.enqueue(jobs, now);
    });
  }

  /**
   * Reclaims expired leases, promotes due delayed jobs and reserves up to
   * `limit` waiting jobs, queue by queue in the order given.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const { jobs, nextAt } = await storage.reserve({
   *   queues: ["high", "default"], limit: 10, owner: "worker-1", leaseMs: 30_000, now: 0,
   * });
   * console.log(jobs.length, nextAt); // 0 null
   * ```
   */
  reserve(request: ReserveRequest): Promise<ReserveResult> {
    return promised(() => {
      checkReserve(request);
      return this.#store.reserve(request);
    });
  }

  /**
   * Applies finished attempts; each entry is applied or refused on its own.
   * The batch is checked for well-formed entries before any is applied.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const applied = await storage.settle(
   *   [{ kind: "complete", id: "missing", token: "t" }],
   *   { now: 0 },
   * );
   * console.log(applied); // [false]
   * ```
   */
  settle(settlements: readonly Settlement[], options: SettleOptions): Promise<boolean[]> {
    return promised(() => {
      checkSettle(settlements, options);
      return this.#store.settle(settlements, options.now, options.retention);
    });
  }

  /**
   * Renews leases still held: each expires `leaseMs` after `now`.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * console.log(await storage.extendLeases([{ id: "gone", token: "t" }], 30_000, 0)); // [false]
   * ```
   */
  extendLeases(
    leases: readonly { id: string; token: string }[],
    leaseMs: number,
    now: number,
  ): Promise<boolean[]> {
    return promised(() => {
      checkExtendLeases(leases, leaseMs, now);
      return this.#store.extendLeases(leases, leaseMs, now);
    });
  }

  /**
   * Records progress of an active job whose lease `token` still holds.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * console.log(await storage.setProgress("gone", "t", 50)); // false
   * ```
   */
  setProgress(id: string, token: string, progress: JsonValue, now?: number): Promise<boolean> {
    return promised(() =>
      this.#store.setProgress(id, token, progress, this.#now(now, "Cannot set progress"))
    );
  }

  /**
   * Resolves when a job is enqueued, retried, released or promoted into one
   * of `queues`, when one of them is resumed, after `maxWaitMs` on the clock,
   * when `signal` aborts, or on `close()`. It never rejects.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const idle = new AbortController();
   * const woken = storage.waitForWork(["default"], 5_000, idle.signal);
   * await storage.enqueue([{ id: "a", name: "t", queue: "default", payload: null, priority: 0,
   *   maxAttempts: 1, maxStalls: 1, timeout: 0, runAt: 0 }], 0);
   * await woken; // resolved by the enqueue
   * ```
   */
  waitForWork(queues: readonly string[], maxWaitMs: number, signal: AbortSignal): Promise<void> {
    try {
      checkWaitForWork(queues, maxWaitMs, signal);
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal.aborted || this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const stopTimer = new AbortController();
      const waiter: Waiter = {
        queues: queues.slice(),
        wake: () => {
          if (!this.#waiters.delete(waiter)) return;
          signal.removeEventListener("abort", waiter.wake);
          stopTimer.abort();
          resolve();
        },
      };
      this.#waiters.add(waiter);
      signal.addEventListener("abort", waiter.wake, { once: true });
      if (Number.isFinite(maxWaitMs)) {
        this.#clock.sleep(maxWaitMs, stopTimer.signal).then(waiter.wake, () => {});
      }
    });
  }

  /**
   * A copy of the job, or null.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().getJob("nope")); // null
   * ```
   */
  getJob(id: string): Promise<JobRecord | null> {
    return Promise.resolve(this.#store.getJob(id));
  }

  /**
   * Jobs in each state in `queue` (all zero for a queue never used).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().counts("default"));
   * // { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 }
   * ```
   */
  counts(queue: string): Promise<Counts> {
    return Promise.resolve(this.#store.counts(queue));
  }

  /**
   * Jobs of `queue` in `state`, in the port's order, paged.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const failed = await new MemoryStorage().list("default", "failed", { offset: 0, limit: 20 });
   * console.log(failed.length); // 0
   * ```
   */
  list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    return promised(() => {
      const { offset, limit } = checkList(state, options);
      return this.#store.list(queue, state, offset, limit);
    });
  }

  /**
   * Moves a failed job back to waiting with `attempt` and `stalls` reset.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().retryFailed("nope", 0)); // false
   * ```
   */
  retryFailed(id: string, now: number): Promise<boolean> {
    return promised(() => {
      checkRetryFailed(now);
      return this.#store.retryFailed(id, now);
    });
  }

  /**
   * Makes a delayed job waiting now, keeping its attempts and errors.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.enqueue([{ id: "a", name: "t", queue: "default", payload: null, priority: 0,
   *   maxAttempts: 1, maxStalls: 1, timeout: 0, runAt: 60_000 }], 0);
   * console.log(await storage.promote("a", 5)); // true
   * console.log((await storage.getJob("a"))?.state); // waiting
   * ```
   */
  promote(id: string, now: number): Promise<boolean> {
    return promised(() => {
      checkPromote(now);
      return this.#store.promote(id, now);
    });
  }

  /**
   * Deletes a job that is not active.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().remove("nope")); // false
   * ```
   */
  remove(id: string, now?: number): Promise<boolean> {
    return promised(() => this.#store.remove(id, false, this.#now(now, "Cannot remove job")));
  }

  /**
   * Deletes a job only if it is failed.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().removeFailed("nope")); // false
   * ```
   */
  removeFailed(id: string, now?: number): Promise<boolean> {
    return promised(() => this.#store.remove(id, true, this.#now(now, "Cannot remove job")));
  }

  /**
   * Stops reservations from `queue`.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.pause("default");
   * console.log(await storage.isPaused("default")); // true
   * ```
   */
  pause(queue: string, now?: number): Promise<void> {
    return promised(() => {
      checkQueueName(queue, "Cannot pause queue");
      this.#store.pause(queue, this.#now(now, "Cannot pause queue"));
    });
  }

  /**
   * Lets reservations from `queue` happen again and wakes its waiting workers.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.pause("default");
   * await storage.resume("default");
   * console.log(await storage.isPaused("default")); // false
   * ```
   */
  resume(queue: string, now?: number): Promise<void> {
    return promised(() => {
      checkQueueName(queue, "Cannot resume queue");
      this.#store.resume(queue, this.#now(now, "Cannot resume queue"));
    });
  }

  /**
   * Whether `queue` is paused.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().isPaused("default")); // false
   * ```
   */
  isPaused(queue: string): Promise<boolean> {
    return Promise.resolve(this.#store.isPaused(queue));
  }

  /**
   * Removes finished jobs of `queue` beyond `retention`; returns how many.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const removed = await storage.prune("default", {
   *   completed: { count: 1_000, age: 24 * 60 * 60 * 1000 },
   *   failed: { count: 10_000, age: 7 * 24 * 60 * 60 * 1000 },
   * }, Date.now());
   * console.log(removed); // 0
   * ```
   */
  prune(queue: string, retention: Retention, now: number): Promise<number> {
    return promised(() => {
      checkPrune(retention, now);
      return this.#store.prune(queue, retention, now);
    });
  }

  /**
   * Ends every pending `waitForWork` (they resolve). Stored jobs stay.
   * Idempotent.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.close();
   * await storage.close(); // no-op
   * ```
   */
  close(): Promise<void> {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.wake();
    this.#events.close();
    return Promise.resolve();
  }

  /**
   * Events after the request's cursors; when there are none, waits up to
   * `maxWaitMs` on the clock for one (see `Storage.readEvents`).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.pause("default", 0);
   * const page = await storage.readEvents({
   *   queues: ["default"], after: { default: "0" }, limit: 100, maxWaitMs: 0,
   * });
   * console.log(page.events.map((event) => event.type), page.cursors); // ["paused"] { default: "1" }
   * ```
   */
  readEvents(request: EventRead): Promise<EventPage> {
    try {
      checkReadEvents(request);
    } catch (error) {
      return Promise.reject(error);
    }
    // With events off no stream exists: the read finds nothing, but still waits.
    return this.#events.read(request);
  }

  /**
   * Records a live worker until `now + ttlMs`, with its `online` or
   * `heartbeat` event, removing expired registrations.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.registerWorker({ id: "w1", host: "", pid: 0, runtime: "deno",
   *   runtimeVersion: "", queues: ["default"], concurrency: 1, running: 0, processed: 0,
   *   failed: 0, startedAt: 0, lastSeen: 0 }, "online", 15_000, 0);
   * console.log((await storage.workers(1)).map((worker) => worker.id)); // ["w1"]
   * ```
   */
  registerWorker(
    worker: WorkerInfo,
    kind: "online" | "heartbeat",
    ttlMs: number,
    now: number,
  ): Promise<void> {
    return promised(() => {
      checkRegisterWorker(worker, kind, ttlMs, now);
      this.#registry.register(worker, kind, ttlMs, now);
    });
  }

  /**
   * Removes a worker's registration at once, with an `offline` event.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * await new MemoryStorage().unregisterWorker("w1", 0); // not registered: nothing happens
   * ```
   */
  unregisterWorker(id: string, now: number): Promise<void> {
    return promised(() => {
      checkUnregisterWorker(id, now);
      this.#registry.unregister(id, now);
    });
  }

  /**
   * Workers registered and alive at `now`, by id.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().workers(0)); // []
   * ```
   */
  workers(now: number): Promise<WorkerInfo[]> {
    return promised(() => {
      checkWorkersNow(now);
      return this.#registry.workers(now);
    });
  }

  /**
   * Every queue ever enqueued to, paused or resumed, by name, with counts.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.pause("mail", 0);
   * console.log(await storage.queues());
   * // [{ name: "mail", counts: { waiting: 0, ... }, paused: true }]
   * ```
   */
  queues(): Promise<QueueSummary[]> {
    return Promise.resolve(this.#store.summaries());
  }

  /**
   * Creates or updates a schedule (see `Storage.upsertSchedule`).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const { created } = await storage.upsertSchedule({
   *   id: "tick",
   *   job: { name: "t", queue: "default", payload: null, priority: 0, maxAttempts: null, maxStalls: null, timeout: null },
   *   cron: null, tz: null, every: 60_000, startAt: 60_000, missed: "latest",
   *   timing: "every 60000", nextRunAt: 60_000,
   * }, 0);
   * console.log(created); // true
   * ```
   */
  upsertSchedule(schedule: NewSchedule, now: number): Promise<UpsertScheduleResult> {
    return promised(() => {
      checkUpsertSchedule(schedule, now);
      return this.#schedules.upsert(schedule, now);
    });
  }

  /**
   * Deletes a schedule; false if there was none.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().removeSchedule("nope")); // false
   * ```
   */
  removeSchedule(id: string): Promise<boolean> {
    return promised(() => {
      checkScheduleId(id, "Cannot remove schedule");
      return this.#schedules.remove(id);
    });
  }

  /**
   * The schedule, or null.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().getSchedule("nope")); // null
   * ```
   */
  getSchedule(id: string): Promise<ScheduleRecord | null> {
    return promised(() => {
      checkScheduleId(id, "Cannot get schedule");
      return this.#schedules.get(id);
    });
  }

  /**
   * Every schedule, by id.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().schedules()); // []
   * ```
   */
  schedules(): Promise<ScheduleRecord[]> {
    return Promise.resolve(this.#schedules.all());
  }

  /**
   * The due schedules of `queues`, and when the next one is due.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().dueSchedules(["default"], 0, 10)); // { due: [], nextAt: null }
   * ```
   */
  dueSchedules(queues: readonly string[], now: number, limit: number): Promise<DueSchedules> {
    return promised(() => {
      checkDueSchedules(queues, now, limit);
      return this.#schedules.due(queues, now, limit);
    });
  }

  /**
   * Fires a due schedule if nobody changed or fired it since it was read
   * (see `Storage.fireSchedule`).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const fire = { id: "gone", revision: 1, nextRunAt: 0, jobs: [], lastTickAt: 0, next: 1 };
   * console.log((await storage.fireSchedule(fire, 0)).fired); // false
   * ```
   */
  fireSchedule(fire: ScheduleFire, now: number): Promise<FireResult> {
    return promised(() => {
      checkFireSchedule(fire, now);
      return this.#schedules.fire(fire, (jobs) => this.#store.enqueue(jobs, now));
    });
  }

  /**
   * Replaces a queue's limits (null clears them), enforced from the next
   * reserve, and wakes its waiting workers (see `Storage.setLimits`).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.setLimits("api", { concurrency: 5, rate: { max: 10, per: 1_000 }, group: null }, 0);
   * console.log((await storage.getLimits("api"))?.rate); // { max: 10, per: 1000 }
   * ```
   */
  setLimits(queue: string, limits: QueueLimits | null, now: number): Promise<void> {
    return promised(() => {
      checkSetLimits(queue, limits, now);
      this.#store.setLimits(queue, limits, now);
    });
  }

  /**
   * A queue's limits, or null.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().getLimits("api")); // null
   * ```
   */
  getLimits(queue: string): Promise<QueueLimits | null> {
    return Promise.resolve(this.#store.getLimits(queue));
  }

  /**
   * Replaces one group's override of the queue's `group` limits (null
   * removes it), and wakes the queue's waiting workers.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.setGroupLimits("api", "tenant-42", { concurrency: 1, rate: null }, 0);
   * console.log((await storage.groups("api", 0))[0].limits); // { concurrency: 1, rate: null }
   * ```
   */
  setGroupLimits(
    queue: string,
    group: string,
    limits: GroupLimits | null,
    now: number,
  ): Promise<void> {
    return promised(() => {
      checkSetGroupLimits(queue, group, limits, now);
      this.#store.setGroupLimits(queue, group, limits, now);
    });
  }

  /**
   * The groups of a queue by name, with their waiting and active jobs, paged.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.enqueue([{ id: "a", name: "t", queue: "api", payload: null, priority: 0,
   *   maxAttempts: 1, maxStalls: 1, timeout: 0, runAt: 0, group: "tenant-42" }], 0);
   * console.log(await storage.groups("api", 0));
   * // [{ name: "tenant-42", waiting: 1, active: 0, limits: null, heldUntil: null }]
   * ```
   */
  groups(queue: string, now: number, options: ListOptions = {}): Promise<GroupInfo[]> {
    return promised(() => {
      const { offset, limit } = checkGroups(queue, now, options);
      return this.#store.groups(queue, now, offset, limit);
    });
  }

  /** `now` checked, or the clock's when the caller passed none. */
  #now(now: number | undefined, where: string): number {
    if (now === undefined) return this.#clock.now();
    checkTime(now, `${where}: now`);
    return now;
  }

  #wake(queue: string): void {
    if (this.#waiters.size === 0) return;
    // Deleting the current entry while iterating a Set is safe.
    for (const waiter of this.#waiters) {
      if (waiter.queues.includes(queue)) waiter.wake();
    }
  }
}
