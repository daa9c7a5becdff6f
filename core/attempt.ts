/**
 * One attempt of a job on a worker: its handler started (through the task's
 * middleware, with a timeout), its outcome turned into a settlement
 * (complete, retry with backoff, fail, or release for an unknown task) and
 * queued for the settle batch.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import { JobTimeoutError, RateLimitedError, toJobError, UnrecoverableError } from "./errors.ts";
import type { Emitter, WorkerEvents } from "./events.ts";
import type { HeldJob } from "./held_job.ts";
import type { MetricRegistry, TaskEntry } from "./metric_registry.ts";
import { SampleWindow } from "./metrics.ts";
import { compose, Context, type Middleware } from "./middleware.ts";
import { defaultRetry } from "./retry.ts";
import type { Runner } from "./runner.ts";
import type { SettleBatch } from "./settle_batch.ts";
import type { Settlement, Storage } from "./storage.ts";
import type { JobError, JsonValue, Task, TaskContext } from "./task.ts";
import { checkJson, toJson } from "./_validate.ts";

const pathOfRoot = (root: string) => root;

/** A task as an attempt runs it: looked up once per job, by its name. */
interface Prepared {
  // deno-lint-ignore no-explicit-any
  readonly run: (payload: any, ctx: TaskContext) => Promise<unknown>;
  readonly metrics: TaskEntry;
}

/**
 * What an {@linkcode AttemptRunner} tells its worker. One object per worker,
 * built once, so the per-job calls always meet the same shape.
 *
 * @example
 * ```ts
 * import type { AttemptHost } from "./attempt.ts";
 * const host: AttemptHost = {
 *   slotDone: () => console.log("a handler ended"),
 *   forget: (held) => console.log("no outcome to store for", held.job.id),
 *   attempted: (error) => console.log(error === null ? "completed" : error.message),
 * };
 * ```
 */
export interface AttemptHost {
  /** A handler's slot is free (it ended, or never started: unknown task). */
  slotDone(): void;
  /** `held` ends here with nothing to store (released or lost): let go of it. */
  forget(held: HeldJob): void;
  /** An attempt's outcome is decided: null when it completed, else its error (not a release). */
  attempted(error: JobError | null): void;
}

/** How a worker runs attempts (from its options, read once). */
export interface AttemptSettings {
  /** The worker's id (named in an unknown task's error). */
  readonly id: string;
  // deno-lint-ignore no-explicit-any
  readonly tasks: ReadonlyMap<string, Task<any, any>>;
  readonly middleware: readonly Middleware[];
  /** What to do with a job whose task this worker does not know. */
  readonly unknownTasks: "fail" | "wait";
  /** With `unknownTasks: "wait"`: how long such a job is handed back for, in ms. */
  readonly unknownTaskDelay: number;
  /** Where the handlers of tasks without a runner of their own run (undefined: here). */
  readonly runner?: Runner;
}

/**
 * Runs attempts: starts a job's handler and settles its outcome. It keeps
 * the handler latencies the worker's metrics and prefetch read.
 *
 * @example
 * ```ts ignore
 * const attempts = new AttemptRunner(storage, clock, events, settles, settings, host, registry);
 * attempts.run(held); // the worker counted the slot as running
 * ```
 */
export class AttemptRunner {
  /** Handler durations in ms (for `metrics().duration`). */
  readonly durations: SampleWindow = new SampleWindow();
  /** Waits from due to started in ms (for `metrics().queueWait`). */
  readonly waits: SampleWindow = new SampleWindow();
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #events: Emitter<WorkerEvents>;
  readonly #settles: SettleBatch;
  readonly #host: AttemptHost;
  readonly #id: string;
  // deno-lint-ignore no-explicit-any
  readonly #tasks: ReadonlyMap<string, Task<any, any>>;
  /** Per task name: its handler through the middleware, and its metric series' entry. */
  readonly #prepared = new Map<string, Prepared>();
  readonly #unknownTasks: "fail" | "wait";
  readonly #unknownTaskDelay: number;
  /** Recent mean handler duration in ms (moving average), or null before the first. */
  #meanDuration: number | null = null;

  constructor(
    storage: Storage,
    clock: Clock,
    events: Emitter<WorkerEvents>,
    settles: SettleBatch,
    settings: AttemptSettings,
    host: AttemptHost,
    metrics: MetricRegistry,
  ) {
    this.#storage = storage;
    this.#clock = clock;
    this.#events = events;
    this.#settles = settles;
    this.#host = host;
    this.#id = settings.id;
    this.#tasks = settings.tasks;
    this.#unknownTasks = settings.unknownTasks;
    this.#unknownTaskDelay = settings.unknownTaskDelay;
    for (const task of this.#tasks.values()) {
      // With a runner, the middleware runs here and the handler there.
      const runner = task.runner ?? settings.runner;
      const runs = runner === undefined ? task : {
        ...task,
        handler: (payload: unknown, ctx: TaskContext) => runner.run(task, payload, ctx),
      };
      this.#prepared.set(task.name, {
        run: compose(runs, settings.middleware),
        metrics: metrics.task(task.name),
      });
    }
  }

  /** Recent mean handler duration in ms (moving average), or null before the first. */
  get meanDuration(): number | null {
    return this.#meanDuration;
  }

  /**
   * Starts the handler. Its outcome (or an abort, whichever comes first)
   * arrives in `#ran`, through callbacks rather than an async function
   * racing a fresh promise: that saves a promise and four closures per job.
   */
  run(held: HeldJob): void {
    const { job } = held;
    held.start();
    const task = this.#tasks.get(job.name);
    const startedAt = held.startedAt = this.#clock.now();
    if (task === undefined) {
      this.#unknownTask(held);
      this.#host.slotDone();
      return;
    }
    // A storage that does not apply `taskDefaults` leaves a by-name job's
    // settings null: the task's hold for this attempt all the same.
    if (job.maxAttempts === null || job.timeout === null || job.maxStalls === null) {
      job.maxAttempts ??= task.maxAttempts;
      job.timeout ??= task.timeout;
      job.maxStalls ??= task.maxStalls;
    }
    const wait = Math.max(0, startedAt - job.runAt);
    this.waits.add(wait);
    const prepared = this.#prepared.get(job.name)!;
    const series = held.series = prepared.metrics.forQueue(job.queue);
    series.queueWait.observe(wait);
    if (this.#events.has("active")) this.#events.emit("active", { job });
    if (job.timeout! > 0) held.timeoutCancel = this.#armTimeout(held, job.timeout!);
    const work = prepared.run(
      job.payload,
      new Context(held, task, this.#report),
    );
    // A handler that ignores its signal is not waited for once aborted
    // (timeout, lost lease, forced stop): abort ends the wait at once.
    work.then((value) => this.#ran(held, true, value), (error) => this.#ran(held, false, error));
    if (held.aborted) this.#ran(held, false, held.reason);
    else held.onAbort = this.#ran;
  }

  /** The handler of `held` returned `value` (`ok`) or threw it (or was aborted with it). */
  readonly #ran = (held: HeldJob, ok: boolean, value: unknown): void => {
    const state = held.state;
    // The handler ended after an abort, or the other way round: the first
    // of the two moved it on (a released or lost job's handler only once).
    if (state !== "running" && state !== "released" && state !== "lost") return;
    held.onAbort = undefined;
    held.timeoutCancel?.abort();
    this.#host.slotDone();
    const { job } = held;
    if (state !== "running") {
      held.drop();
      if (state === "lost") {
        this.#events.emit("stalled", { job, reason: "lease lost while running" });
      }
      this.#host.forget(held);
      return;
    }
    const now = this.#clock.now();
    const duration = now - held.startedAt;
    this.durations.add(duration);
    held.series!.duration.observe(duration); // set by `run` for every started handler
    // Moving average over about the last 16 handlers: recent enough to follow
    // a change of workload, smooth enough that one outlier moves it little.
    const mean = this.#meanDuration;
    this.#meanDuration = mean === null ? duration : mean + (duration - mean) / 16;
    if (!ok) return this.#failAttempt(held, value, now, duration);
    const timeout = job.timeout!; // filled in by `run`
    if (timeout > 0 && duration > timeout) {
      // It returned, but past its timeout: a handler that keeps the event
      // loop busy (synchronous work) leaves the timer no turn to abort it.
      return this.#failAttempt(held, new JobTimeoutError(timeout, duration), now, duration);
    }
    try {
      // Storage copies the result as JSON as it stores it; check it is JSON.
      if (value !== undefined) checkJson(value, "result", pathOfRoot, "Cannot store result");
    } catch (error) {
      return this.#failAttempt(held, error, now, duration);
    }
    held.settledAt = now;
    held.duration = duration;
    this.#host.attempted(null);
    this.#settle(held, { kind: "complete", id: job.id, token: held.token, result: value });
  };

  #failAttempt(held: HeldJob, thrown: unknown, now: number, duration: number): void {
    const { job } = held;
    if (thrown instanceof RateLimitedError) {
      // Not a failure: the job waits again, its group (or queue) held.
      held.delay = thrown.retryAfter;
      const holdUntil = now + thrown.retryAfter;
      this.#settle(held, { kind: "release", id: job.id, token: held.token, holdUntil });
      return;
    }
    const task = this.#tasks.get(job.name)!;
    const error = toJobError(thrown, job.attempt, now);
    this.#host.attempted(error);
    let retry = !(thrown instanceof UnrecoverableError) && job.attempt < job.maxAttempts!;
    if (retry && task.retryIf) {
      try {
        retry = Boolean(task.retryIf(thrown, job.attempt));
      } catch (e) {
        this.#events.emit("error", { error: e, during: `retryIf of task "${task.name}"` });
      }
    }
    if (retry) {
      let delay = 0;
      try {
        delay = (task.retry ?? defaultRetry)(job.attempt, thrown);
      } catch (e) {
        this.#events.emit("error", { error: e, during: `retry strategy of task "${task.name}"` });
      }
      if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0) delay = 0;
      const runAt = now + Math.ceil(delay);
      held.delay = delay;
      this.#settle(held, { kind: "retry", id: job.id, token: held.token, error, runAt });
    } else {
      held.settledAt = now;
      held.duration = duration;
      this.#settle(held, { kind: "fail", id: job.id, token: held.token, error });
    }
  }

  #unknownTask(held: HeldJob): void {
    const { job } = held;
    const now = this.#clock.now();
    if (this.#unknownTasks === "wait") {
      this.#settle(held, {
        kind: "release",
        id: job.id,
        token: held.token,
        runAt: now + this.#unknownTaskDelay,
      });
      return;
    }
    const known = [...this.#tasks.keys()].join(", ");
    const error = {
      name: "UnknownTaskError",
      message:
        `No task named "${job.name}" is registered on worker ${this.#id} (it knows: ${known})`,
      attempt: job.attempt,
      at: now,
    };
    held.settledAt = now;
    held.duration = 0;
    this.#settle(held, { kind: "fail", id: job.id, token: held.token, error });
  }

  #armTimeout(held: HeldJob, timeout: number): AbortController {
    const cancel = new AbortController();
    this.#clock.sleep(timeout, cancel.signal).then(
      () => held.abort(new JobTimeoutError(timeout)),
      () => {}, // cancelled: the handler finished first
    );
    return cancel;
  }

  /** Records a handler's progress (`ctx.progress`) and emits `progress`. */
  readonly #report = async (held: HeldJob, value: JsonValue): Promise<void> => {
    const { job } = held;
    const progress = JSON.parse(toJson(value, "progress", "Cannot record progress")) as JsonValue;
    const kept = await this.#storage.setProgress(job.id, held.token, progress, this.#clock.now());
    if (kept) this.#events.emit("progress", { job: { ...job, progress }, progress });
  };

  /** Queues the outcome of `held` for the next settle batch. */
  #settle(held: HeldJob, settlement: Settlement): void {
    held.settle(settlement);
    this.#settles.add(held);
  }
}
