/**
 * The consumer side: a Worker reserves jobs, runs their handlers with
 * concurrency, leases, timeouts and retries, and reports what happened.
 * Here: its lifecycle and the fetch loop; one attempt is `attempt.ts`, lease
 * renewal `lease_keeper.ts`, storing outcomes `settle_batch.ts` (counted in
 * `outcomes.ts`), the held jobs `held_jobs.ts`, health `worker_health.ts`.
 *
 * @module
 */

import { type Clock, sleepUnlessAborted } from "./clock.ts";
import { WorkerStoppedError } from "./errors.ts";
import { Emitter } from "./events.ts";
import type { WorkerEvents } from "./events.ts";
import type { WorkerMetrics } from "./metrics.ts";
import { MetricRegistry, type TaskSeriesSnapshot } from "./metric_registry.ts";
import { Outcomes } from "./outcomes.ts";
import { type AttemptHost, AttemptRunner } from "./attempt.ts";
import type { HeldJob } from "./held_job.ts";
import { HeldJobs } from "./held_jobs.ts";
import { type LeaseHost, LeaseKeeper } from "./lease_keeper.ts";
import { WorkerPresence } from "./worker_presence.ts";
import { ScheduleFirer } from "./schedule_firer.ts";
import { Notifier } from "./notifier.ts";
import { prefetchFor } from "./prefetch.ts";
import { SkewCheck } from "./skew.ts";
import { coalesce, SettleBatch, type SettleHost } from "./settle_batch.ts";
import { every, failureBackoff, waitFirst } from "./scheduler.ts";
import type { Retention, Storage, TaskSettings } from "./storage.ts";
import type { JobError } from "./task.ts";
import { trackedStorage } from "./_tracked_storage.ts";
import { checkInt, checkKeys } from "./_validate.ts";

export type { Middleware, MiddlewareContext } from "./middleware.ts";
export { AUTO_PREFETCH_MAX, AUTO_PREFETCH_MS } from "./prefetch.ts";
export { STOP_GRACE_MS } from "./worker_options.ts";
export type { StopOptions, WorkerOptions } from "./worker_options.ts";
export type { WorkerDuty, WorkerHealth, WorkerState } from "./worker_health.ts";
import {
  type DutyFailures,
  healthOf,
  noFailures,
  type WorkerHealth,
  type WorkerState,
} from "./worker_health.ts";
import {
  readWorkerOptions,
  STOP_GRACE_MS,
  STOP_OPTIONS,
  type StopOptions,
  type WorkerOptions,
} from "./worker_options.ts";

/**
 * Runs jobs. Start it, and it reserves jobs from its queues (most important
 * first) up to its concurrency, renews their leases while they run, settles
 * their outcomes in batches, retries failures with backoff and sends jobs out
 * of attempts to the dead-letter set.
 *
 * @example
 * ```ts
 * import { defineTask, MemoryStorage, Queue, Worker } from "@taskmill/taskmill";
 *
 * const storage = new MemoryStorage();
 * const double = defineTask({ name: "double", handler: (n: number) => n * 2 });
 * const worker = new Worker({ storage, tasks: [double], concurrency: 50 });
 * worker.on("completed", ({ job, result }) => console.log(job.id, result));
 * await worker.start();
 * const queue = new Queue({ storage });
 * const job = await queue.enqueue(double, 21);
 * console.log(await queue.result(job.id, { timeout: 1_000 })); // 42
 * await worker.stop();
 * ```
 */
export class Worker {
  readonly #storage: Storage;
  readonly #clock: Clock;
  /** The tasks' settings, for jobs enqueued by name (built once: see `ReserveRequest.taskDefaults`). */
  readonly #taskDefaults = new Map<string, TaskSettings>();
  readonly #queues: readonly string[];
  readonly #concurrency: number;
  /** A fixed prefetch, or null for auto (see `#prefetch`). */
  readonly #fixedPrefetch: number | null;
  readonly #id: string;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #maxTasks: number;
  readonly #retention: Retention;
  readonly #idleWaitMs: number;
  readonly #sweepMs: number;
  readonly #fireSchedules: boolean;
  readonly #events = new Emitter<WorkerEvents>();

  #state: WorkerState = "idle";
  #life = new AbortController(); // aborted when the worker has fully stopped
  #interrupt = new AbortController(); // aborted to wake the fetch loop (pause, stop)
  /** Every job this worker holds a lease on, started or not (see `HeldJobs`). */
  readonly #held = new HeldJobs();
  #buffer: HeldJob[] = [];
  #running = 0;
  #reserved = 0;
  #slotFreed = new Notifier();
  #idle = new Notifier();
  #resumed = new Notifier();
  readonly #settles: SettleBatch;
  readonly #leases: LeaseKeeper;
  readonly #skew: SkewCheck;
  readonly #attempts: AttemptRunner;
  /** Consecutive failed storage calls per duty. */
  readonly #failures: DutyFailures = noFailures();
  #lastHeartbeatAt: number | null = null;
  #stopping: Promise<void> | null = null;
  #stopped: { promise: Promise<void>; resolve: () => void };
  #stopReason: "stop" | "maxTasks" | "maxFailures" | null = null;
  /** Counts failed attempts in a row, with `maxFailures` (see `#stopOnFailures`). */
  #attempted: ((error: JobError | null) => void) | undefined = undefined;

  readonly #outcomes: Outcomes;
  readonly #series = new MetricRegistry();
  /** Its entry in the storage's registry of live workers (see `WorkerPresence`). */
  #presence!: WorkerPresence;

  /** Creates a worker; it does nothing until {@linkcode Worker.start}. */
  constructor(options: WorkerOptions) {
    const read = readWorkerOptions(options);
    this.#clock = read.clock;
    // On a FakeClock, the clock waits for this worker's storage calls.
    this.#storage = trackedStorage(read.storage, this.#clock);
    this.#queues = read.queues;
    this.#concurrency = read.concurrency;
    this.#fixedPrefetch = read.fixedPrefetch;
    this.#id = read.id;
    this.#leaseMs = read.leaseMs;
    this.#heartbeatMs = read.heartbeatMs;
    this.#maxTasks = read.maxTasks;
    this.#retention = read.retention;
    this.#idleWaitMs = read.idleWaitMs;
    this.#sweepMs = read.sweepMs;
    this.#fireSchedules = read.schedules;
    for (const task of read.tasks.values()) {
      const { maxAttempts, maxStalls, timeout } = task;
      this.#taskDefaults.set(task.name, Object.freeze({ maxAttempts, maxStalls, timeout }));
    }
    let resolve!: () => void;
    this.#stopped = { promise: new Promise<void>((r) => (resolve = r)), resolve };
    this.#outcomes = new Outcomes(this.#events, this.#clock.now(), this.#series);
    // Stalls are rare: counted from the event, wherever it is emitted.
    this.#events.on("stalled", ({ job }) => void this.#series.series(job.queue, job.name).stalls++);
    this.#settles = new SettleBatch(
      this.#storage,
      this.#clock,
      this.#retention,
      this.#settleHost(),
    );
    this.#attempts = new AttemptRunner(
      this.#storage,
      this.#clock,
      this.#events,
      this.#settles,
      read,
      this.#attemptHost(),
      this.#series,
    );
    this.#skew = new SkewCheck(
      this.#storage,
      this.#clock,
      this.#id,
      this.#leaseMs,
      this.#heartbeatMs,
      this.#events,
    );
    this.#leases = new LeaseKeeper(this.#storage, this.#clock, this.#leaseMs, this.#leaseHost());
    if (read.maxFailures !== Infinity) this.#stopOnFailures(read.maxFailures);
  }

  /**
   * Why the worker stopped or is stopping: `"stop"` (a `stop()` call),
   * `"maxTasks"`, `"maxFailures"`; null while it runs.
   *
   * @example
   * ```ts
   * import { defineTask, MemoryStorage, Worker } from "@taskmill/taskmill";
   * const noop = defineTask({ name: "noop", handler: () => {} });
   * const worker = new Worker({ storage: new MemoryStorage(), tasks: [noop], maxFailures: 5 });
   * console.log(worker.stopReason); // null
   * ```
   */
  get stopReason(): "stop" | "maxTasks" | "maxFailures" | null {
    return this.#stopReason;
  }

  /** Stops after `max` failed attempts in a row (a completed one resets the count). */
  #stopOnFailures(max: number): void {
    let inRow = 0;
    // Counted as each outcome is decided (not when storage took it), so no
    // job starts after the one that made `max`.
    this.#attempted = (error) => {
      if (error === null) {
        inRow = 0;
        return;
      }
      if (++inRow < max || this.#stopReason !== null) return;
      this.#stopReason = "maxFailures";
      const message = `${inRow} failed attempts in a row (maxFailures ${max}); the last: ` +
        `${error.name}: ${error.message}`;
      this.#events.emit("stopping", { workerId: this.#id, reason: "maxFailures", message });
      void this.stop();
    };
  }

  /** This worker's id. */
  get id(): string {
    return this.#id;
  }

  /** Lifecycle state. */
  get state(): WorkerState {
    return this.#state;
  }

  /** Queues served, most important first. */
  get queues(): readonly string[] {
    return this.#queues;
  }

  /** Adds a typed event listener; returns a function that removes it. */
  on<K extends keyof WorkerEvents>(
    name: K,
    listener: (event: WorkerEvents[K]) => void | Promise<void>,
  ): () => void {
    return this.#events.on(name, listener);
  }

  /** Adds a listener that runs once. */
  once<K extends keyof WorkerEvents>(
    name: K,
    listener: (event: WorkerEvents[K]) => void | Promise<void>,
  ): () => void {
    return this.#events.once(name, listener);
  }

  /** Removes a listener. */
  off<K extends keyof WorkerEvents>(
    name: K,
    listener: (event: WorkerEvents[K]) => void | Promise<void>,
  ): void {
    this.#events.off(name, listener);
  }

  /**
   * Starts fetching and running jobs. Resolves once the worker is running
   * and in the storage's registry of live workers (a registration that
   * fails is an `error` event during "worker registry", not a rejection).
   */
  start(): Promise<void> {
    if (this.#state !== "idle") {
      return Promise.reject(
        new Error(`Cannot start worker ${this.#id}: it is ${this.#state}; create a new Worker`),
      );
    }
    this.#state = "running";
    this.#lastHeartbeatAt = this.#clock.now();
    const signal = this.#life.signal;
    const report = (during: string) => (error: unknown) =>
      this.#events.emit("error", { error, during });
    // Not awaited anywhere: stop() ends them (see `#shutdown`).
    void this.#fetchLoop();
    void every(
      this.#clock,
      this.#heartbeatMs,
      () => this.#heartbeat(),
      signal,
      report("heartbeat"),
    );
    void every(this.#clock, this.#sweepMs, () => this.#sweep(), signal, report("retention sweep"));
    // A storage written before the port had schedules cannot hold any: nothing to fire.
    if (this.#fireSchedules && typeof this.#storage.dueSchedules === "function") {
      // Looks again at least once a heartbeat: a schedule changed elsewhere is seen within one.
      const failed = report("schedules");
      void new ScheduleFirer(this.#storage, this.#clock, this.#queues, this.#heartbeatMs, {
        failed,
      })
        .run(signal);
    }
    this.#presence = new WorkerPresence(this.#storage, this.#clock, {
      id: this.#id,
      queues: this.#queues,
      concurrency: this.#concurrency,
      heartbeatMs: this.#heartbeatMs,
    }, () => ({
      running: this.#running,
      processed: this.#outcomes.succeeded + this.#outcomes.failed + this.#outcomes.retried,
      failed: this.#outcomes.failed,
    }));
    const registry = report("worker registry");
    const registered = this.#presence.online().catch(registry);
    void every(this.#clock, this.#heartbeatMs, () => this.#presence.heartbeat(), signal, registry);
    this.#events.emit("online", { workerId: this.#id });
    void this.#checkStorage();
    return registered;
  }

  /** Stops taking new jobs; running ones go on. */
  pause(): void {
    if (this.#state !== "running") return;
    this.#state = "paused";
    this.#wakeLoop();
  }

  /** Takes jobs again after {@linkcode Worker.pause}. */
  resume(): void {
    if (this.#state !== "paused") return;
    this.#state = "running";
    this.#resumed.notify();
  }

  /** Resolves once the worker has stopped (by `stop()`, or after `maxTasks`). */
  stopped(): Promise<void> {
    return this.#stopped.promise;
  }

  /**
   * Graceful stop: takes no new jobs, hands back prefetched ones, waits up to
   * `timeout` ms for running handlers, then aborts the rest (their
   * `ctx.signal`) and hands their jobs back so another worker takes them at
   * once. Resolves when everything is settled. Safe to call more than once.
   */
  stop(options: StopOptions = {}): Promise<void> {
    checkKeys(options ?? {}, STOP_OPTIONS, "Cannot stop worker");
    if (this.#state === "idle") {
      this.#state = "stopped";
      this.#life.abort();
      this.#stopped.resolve();
    }
    if (this.#state === "stopped") return Promise.resolve();
    this.#stopReason ??= "stop";
    const timeout = options.timeout ?? (this.#clock.manual ? 0 : 30_000);
    checkInt(timeout, 0, Number.MAX_SAFE_INTEGER, "Cannot stop worker: timeout");
    this.#stopping ??= this.#shutdown(timeout);
    return this.#stopping;
  }

  /** A snapshot of counters and recent latencies. */
  metrics(): WorkerMetrics {
    const outcomes = this.#outcomes;
    return {
      processed: outcomes.succeeded + outcomes.failed + outcomes.retried,
      succeeded: outcomes.succeeded,
      failed: outcomes.failed,
      retried: outcomes.retried,
      inFlight: this.#held.size,
      duration: {
        p50: this.#attempts.durations.percentile(50),
        p95: this.#attempts.durations.percentile(95),
        p99: this.#attempts.durations.percentile(99),
      },
      queueWait: {
        p50: this.#attempts.waits.percentile(50),
        p95: this.#attempts.waits.percentile(95),
      },
      throughput: outcomes.throughput(this.#clock.now()),
    };
  }

  /**
   * Counters and histograms per queue and task, as plain data (what
   * `prometheusText({ workers })` exposes).
   *
   * @example
   * ```ts
   * import { defineTask, MemoryStorage, Worker } from "@taskmill/taskmill";
   * const noop = defineTask({ name: "noop", handler: () => {} });
   * const worker = new Worker({ storage: new MemoryStorage(), tasks: [noop] });
   * console.log(worker.metricSeries()); // [] until a job finishes
   * ```
   */
  metricSeries(): TaskSeriesSnapshot[] {
    return this.#series.snapshot();
  }

  /** Whether the worker is running and its storage answers. */
  health(): WorkerHealth {
    return healthOf(this.#id, this.#state, this.#running, this.#failures, this.#lastHeartbeatAt);
  }

  // ---- fetching ----

  async #fetchLoop(): Promise<void> {
    while (this.#stopping === null) {
      if (this.#state === "paused") {
        await this.#resumed.wait(this.#interrupt.signal);
        continue;
      }
      if (this.#failures.settle > 0 || this.#failures["lease renewal"] > 0) {
        // Outcomes or leases cannot be stored: more jobs would only pile up
        // leases this worker cannot keep. Wait until storage takes them.
        await this.#slotFreed.next(); // notified on recovery, and by `#wakeLoop`
        continue;
      }
      const left = this.#maxTasks - this.#reserved;
      if (left <= 0) {
        // maxTasks reserved: once they are finished and stored, stop. A
        // prefetched job lost before it started frees its place again.
        if (this.#held.size === 0 && !this.#settles.flushing) {
          if (this.#stopReason === null) {
            this.#stopReason = "maxTasks";
            const message = `${this.#maxTasks} jobs taken (maxTasks)`;
            this.#events.emit("stopping", { workerId: this.#id, reason: "maxTasks", message });
          }
          void this.stop();
          return;
        }
        await Promise.race([this.#slotFreed.next(), this.#idle.next()]);
        continue;
      }
      const want = Math.min(
        left,
        this.#concurrency + this.#prefetch() - this.#running - this.#buffer.length,
      );
      if (want <= 0) {
        await this.#slotFreed.next(); // `#wakeLoop` notifies it too
        // Handlers finishing in the same turn free their slots one microtask
        // apart: let them all land, so one reserve asks for all the room.
        await coalesce();
        continue;
      }
      let nextAt: number | null;
      let got: number;
      let more: boolean | undefined;
      try {
        const result = await this.#storage.reserve({
          queues: this.#queues,
          limit: want,
          owner: this.#id,
          leaseMs: this.#leaseMs,
          now: this.#clock.now(),
          taskDefaults: this.#taskDefaults,
        });
        this.#failures.reserve = 0;
        nextAt = result.nextAt;
        more = result.more;
        got = result.jobs.length;
        const now = this.#clock.now();
        // A reply that arrives once stop() has begun (not waited for: a
        // frozen server would hold stop) is handed back whole.
        const stopping = this.#stopping !== null;
        for (const job of result.jobs) {
          const held = this.#held.hold(job);
          if (stopping) {
            this.#release(held);
            continue;
          }
          if (job.lease!.expiresAt - now <= this.#heartbeatMs) {
            // The reply came so late (a frozen server, a stalled network)
            // that the lease runs out before the next heartbeat could renew
            // it: another worker may reclaim the job at any moment, so
            // running it here could run it twice. Hand it back, uncounted.
            this.#release(held);
            this.#events.emit("stalled", {
              job,
              reason: "lease expired before the reservation arrived; handed back",
            });
            continue;
          }
          this.#reserved++;
          this.#buffer.push(held);
        }
        this.#dispatch();
      } catch (error) {
        this.#failures.reserve++;
        this.#events.emit("error", { error, during: "reserve" });
        await sleepUnlessAborted(
          this.#clock,
          failureBackoff(this.#failures.reserve),
          this.#interrupt.signal,
        );
        continue;
      }
      // A short batch with `more` had records quarantined in it: look again at once.
      if (got < want && more !== true && this.#stopping === null && this.#state === "running") {
        // The queues are drained: sleep until work arrives, the next delayed
        // job or lease expiry is due, or pause/stop wakes us. The storage's
        // own wait is bounded by the due time too, so on a real clock it ends
        // by itself rather than by abort (Redis then keeps its connection).
        const maxWaitMs = nextAt === null
          ? this.#idleWaitMs
          : Math.min(this.#idleWaitMs, Math.max(1, nextAt - this.#clock.now()));
        let waitError: unknown = undefined;
        let waitFailed = false;
        await waitFirst(
          this.#clock,
          nextAt,
          (signal) =>
            this.#storage.waitForWork(this.#queues, maxWaitMs, signal).catch((error) => {
              waitFailed = true;
              waitError = error;
            }),
          this.#interrupt.signal,
        );
        if (!waitFailed) {
          this.#failures["wait for work"] = 0;
          continue;
        }
        // A wait that cannot wait (the server refuses BLPOP, the connection
        // is gone) must not turn into a busy loop of reserves. It keeps the
        // worker unhealthy until a wait succeeds (a reserve does not clear it).
        const failures = ++this.#failures["wait for work"];
        this.#events.emit("error", { error: waitError, during: "wait for work" });
        await sleepUnlessAborted(this.#clock, failureBackoff(failures), this.#interrupt.signal);
      }
    }
  }

  #prefetch(): number {
    return prefetchFor(
      this.#fixedPrefetch,
      this.#concurrency,
      this.#attempts.meanDuration,
      this.#leaseMs,
    );
  }

  #wakeLoop(): void {
    this.#interrupt.abort();
    this.#interrupt = new AbortController();
    this.#slotFreed.notify(); // the loop may wait on it with no signal (see `Notifier.next`)
  }

  #dispatch(): void {
    if (this.#running >= this.#concurrency || this.#buffer.length === 0) return;
    const now = this.#clock.now();
    while (this.#running < this.#concurrency && this.#buffer.length > 0) {
      const held = this.#buffer.shift()!;
      if (held.state !== "reserved") continue; // never start a job whose lease is gone
      if (held.expiresAt <= now) {
        // Renewals failed until the lease ran out: another worker may hold it now.
        this.#dropUnstarted(held, "lease expired before the job started");
        continue;
      }
      this.#running++;
      this.#attempts.run(held);
    }
  }

  /** A prefetched job that will not start here: forgotten, its place in `maxTasks` freed. */
  #dropUnstarted(held: HeldJob, reason: string): void {
    held.lose();
    this.#reserved--;
    this.#forget(held);
    this.#events.emit("stalled", { job: held.job, reason });
    this.#slotFreed.notify(); // the fetch loop may reserve in its place
  }

  // ---- running (see `AttemptRunner`) ----

  /** A running handler's slot is free: start the next job, wake the fetch loop. */
  #slotDone(): void {
    this.#running--;
    this.#dispatch();
    this.#slotFreed.notify();
  }

  /** What an attempt tells this worker (one object, made once: see `AttemptHost`). */
  #attemptHost(): AttemptHost {
    return {
      slotDone: () => this.#slotDone(),
      forget: (held) => this.#forget(held),
      attempted: (error) => this.#attempted?.(error),
    };
  }

  // ---- settling (group commit: settles that arrive while one is in flight go in the next batch) ----

  /** What the settle batch reports back (one object, made once: see `SettleHost`). */
  #settleHost(): SettleHost {
    return {
      life: this.#life.signal,
      running: () => this.#running,
      failed: (error) => {
        const failures = ++this.#failures.settle; // counted first: health() in a listener shows it
        this.#events.emit("error", { error, during: "settle" });
        return failures;
      },
      recovered: () => {
        if (this.#failures.settle === 0) return;
        this.#failures.settle = 0;
        this.#slotFreed.notify(); // the fetch loop waits for settles to work again
      },
      stored: (held, accepted, now) => {
        const settlement = held.settlement!;
        this.#forget(held);
        if (accepted) {
          this.#outcomes.accepted(held, settlement, now);
        } else if (settlement.kind !== "release") {
          this.#events.emit("stalled", {
            job: held.job,
            reason: "lease lost before the outcome was stored",
          });
        }
      },
      idle: () => this.#idle.notify(),
    };
  }

  #forget(held: HeldJob): void {
    this.#held.remove(held);
    if (this.#held.size === 0) this.#idle.notify();
  }

  // ---- periodic duties ----

  /** Each heartbeat: the clock skew now and then, then the leases (see `LeaseKeeper`). */
  #heartbeat(): Promise<void> {
    const now = this.#clock.now();
    if (this.#skew.due(now)) void this.#skew.check();
    return this.#leases.renew(now);
  }

  /** What the lease keeper asks of this worker (one object, made once: see `LeaseHost`). */
  #leaseHost(): LeaseHost {
    return {
      held: () => this.#held.inOrder(),
      dropIfUnstarted: (held, reason) => {
        const b = this.#buffer.indexOf(held);
        if (b < 0) return false;
        this.#buffer.splice(b, 1);
        this.#dropUnstarted(held, reason);
        return true;
      },
      failed: (error) => {
        this.#failures["lease renewal"]++;
        this.#events.emit("error", { error, during: "lease renewal" });
      },
      recovered: () => {
        if (this.#failures["lease renewal"] === 0) return;
        this.#failures["lease renewal"] = 0;
        this.#slotFreed.notify(); // the fetch loop waits for renewals to work again
      },
      renewed: (now) => {
        this.#lastHeartbeatAt = now;
        this.#events.emit("heartbeat", { workerId: this.#id, active: this.#running, at: now });
      },
    };
  }

  // ---- storage checks (warnings, never fatal) ----

  /** At start: the storage's setup warnings, then the clock skew. */
  async #checkStorage(): Promise<void> {
    try {
      const warnings = await this.#storage.checkSetup?.() ?? [];
      for (const warning of warnings) {
        this.#events.emit("error", { error: warning, during: "storage check" });
      }
    } catch {
      // Storage unreachable: the fetch loop reports that, with backoff.
    }
    await this.#skew.check();
  }

  async #sweep(): Promise<void> {
    const now = this.#clock.now();
    for (const queue of this.#queues) await this.#storage.prune(queue, this.#retention, now);
  }

  // ---- stopping ----

  async #shutdown(timeout: number): Promise<void> {
    this.#state = "stopping";
    this.#wakeLoop();
    // The fetch loop sees `#stopping` and ends. It is not waited for: a
    // reserve held by a frozen server would hold stop() too; a reply that
    // comes later is handed back by the loop itself.
    // Prefetched jobs never started: hand them back at once.
    for (const held of this.#buffer.splice(0)) this.#release(held);
    const never = new AbortController().signal;
    if (this.#running > 0) {
      // Timeout 0 waits not at all: even a 0 ms sleep needs a manual clock advanced.
      if (timeout > 0) {
        const waitRunning = async (signal: AbortSignal) => {
          while (this.#running > 0 && !signal.aborted) await this.#slotFreed.wait(signal);
        };
        await waitFirst(this.#clock, this.#clock.now() + timeout, waitRunning, never);
      }
      // Out of time: hand back what still runs, then abort it.
      // A snapshot: aborting a handler may forget its job at once.
      for (const held of this.#held.inOrder()) {
        if (held.index < 0) continue;
        if (held.state === "reserved" || held.state === "running") {
          this.#release(held);
          held.abort(new WorkerStoppedError());
        }
      }
    }
    // Store what is pending, for at most the grace: what storage has not
    // taken by then is abandoned (its leases expire and it is reclaimed).
    const flushed = async (signal: AbortSignal) => {
      while (this.#settles.flushing && !signal.aborted) await this.#idle.wait(signal);
    };
    await waitFirst(this.#clock, this.#clock.now() + STOP_GRACE_MS, flushed, never);
    // Ends the heartbeat and sweep loops (and a flush backing off). A loop
    // inside a storage call ends when the call returns; it is not waited for.
    this.#life.abort();
    // Leaves the registry, waiting no longer than the grace for a storage that does not answer.
    const left = this.#presence.offline().catch((error) =>
      this.#events.emit("error", { error, during: "worker registry" })
    );
    await waitFirst(this.#clock, this.#clock.now() + STOP_GRACE_MS, () => left, never);
    this.#state = "stopped";
    this.#events.emit("offline", { workerId: this.#id });
    this.#stopped.resolve();
  }

  #release(held: HeldJob): void {
    held.release({ kind: "release", id: held.job.id, token: held.token });
    this.#settles.add(held);
  }
}
