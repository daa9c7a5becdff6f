/**
 * Tasks and jobs: {@linkcode defineTask} declares what a worker can run, and
 * {@linkcode JobRecord} is what storage keeps for each enqueued run of a task.
 *
 * @module
 */

import type { RetryStrategy } from "./retry.ts";
import type { Runner } from "./runner.ts";
import { checkInt, checkKeys, optionNames, validateName } from "./_validate.ts";

/** The states a job moves through. See the README's state diagram. */
export type JobState = "waiting" | "delayed" | "active" | "completed" | "failed";

/** Every {@linkcode JobState}, in lifecycle order. */
export const JOB_STATES: readonly JobState[] = [
  "waiting",
  "delayed",
  "active",
  "completed",
  "failed",
];

/** A value that survives `JSON.stringify` / `JSON.parse` unchanged. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A recorded failure of one attempt, kept readable whatever was thrown. */
export interface JobError {
  /** The error's message (or a readable rendering of a non-Error throw). */
  message: string;
  /** The error's class name, `"NonError"` when something other than an Error was thrown. */
  name: string;
  /** The stack trace, when there was one. */
  stack?: string;
  /** The attempt (1-based) that failed. */
  attempt: number;
  /** When it failed, epoch ms on the core's clock. */
  at: number;
}

/** The lease a worker holds on an active job. */
export interface Lease {
  /** The worker's id. */
  owner: string;
  /** Unique per reservation: a settle or renewal with any other token is refused. */
  token: string;
  /** Epoch ms after which the job may be reclaimed by another worker. */
  expiresAt: number;
}

/**
 * The stored record of a job. Storage adapters return fresh copies; mutating
 * one changes nothing stored.
 */
export interface JobRecord<P = unknown, R = unknown> {
  /** Unique id: given by the producer (idempotent enqueue) or generated, sortable by time. */
  id: string;
  /** The task's name. */
  name: string;
  /** The queue the job lives in. */
  queue: string;
  /** The payload, as JSON. */
  payload: P;
  /** Higher runs first within a queue; ties run first-in first-out. Default 0. */
  priority: number;
  /** Attempts started so far (0 until first reserved). */
  attempt: number;
  /**
   * Attempts allowed in all, the first included. Null for a job enqueued by
   * task name without this option, until a worker that knows the task
   * reserves it: that worker's task setting is then stored (see the README,
   * "Enqueue by name").
   */
  maxAttempts: number | null;
  /** Times the job's lease expired and it was reclaimed. */
  stalls: number;
  /** Reclaims allowed before the job fails as a poison pill. Null as `maxAttempts`. */
  maxStalls: number | null;
  /** Per-attempt timeout in ms the worker enforces (0 = none). Null as `maxAttempts`. */
  timeout: number | null;
  /** When it was enqueued. */
  enqueuedAt: number;
  /** When it is (or was) due to run. */
  runAt: number;
  /** Where it is now. */
  state: JobState;
  /** Start of the current or last attempt. */
  startedAt?: number;
  /** When it completed or failed for good. */
  finishedAt?: number;
  /** Present while active. */
  lease?: Lease;
  /** Last progress reported by the handler through `ctx.progress()`. */
  progress?: JsonValue;
  /** The handler's return value, once completed. */
  result?: R;
  /** The last error, once an attempt failed. */
  error?: JobError;
  /** The most recent attempt errors, oldest first (bounded). */
  errors: JobError[];
  /** Raw stored text of a record that could not be parsed (moved to failed). */
  raw?: string;
  /** The deduplication key it was enqueued with (`EnqueueOptions.dedupe`), if any (see the README, "Deduplication"). */
  dedupeKey?: string;
  /** Its group within the queue (`EnqueueOptions.group`), if any (see the README, "Flow control"). */
  group?: string;
}

/** What the handler sees of its job through `ctx.job`. */
export interface JobInfo {
  /** The job's id. */
  readonly id: string;
  /** The task's name. */
  readonly name: string;
  /** The queue it was taken from. */
  readonly queue: string;
  /** This attempt, 1-based; above 1 means an earlier attempt failed or its worker died. */
  readonly attempt: number;
  /** Attempts allowed in all. */
  readonly maxAttempts: number;
  /** When the job was enqueued, epoch ms. */
  readonly enqueuedAt: number;
  /** Its priority. */
  readonly priority: number;
  /** Its group within the queue (`EnqueueOptions.group`), if any. */
  readonly group?: string;
}

/** The second argument of every handler. */
export interface TaskContext {
  /** The job being run. */
  readonly job: JobInfo;
  /** Aborted on timeout, on a forced stop, or when the lease is lost. */
  readonly signal: AbortSignal;
  /** Records progress (any JSON value, usually a number 0..100); emits `progress`. */
  progress(value: JsonValue): Promise<void>;
}

/** A task's handler: receives the payload and a context, returns the result (JSON). */
export type Handler<P, R> = (payload: P, ctx: TaskContext) => Promise<R> | R;

/** What {@linkcode defineTask} takes. */
export interface TaskOptions<P, R> {
  /** Unique name, stored with each job (functions are not stored). 1-200 chars of `[A-Za-z0-9_.:/@-]`. */
  name: string;
  /** Queue used when `enqueue` names none. Default `"default"`. */
  queue?: string;
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** Delay before each retry. Default `exponential()`: 1 s, 2 s, 4 s ... capped at 1 h. */
  retry?: RetryStrategy;
  /** Per-attempt timeout in ms; aborts `ctx.signal` and fails the attempt. Default 0 (none). */
  timeout?: number;
  /** Lease reclaims allowed before the job fails (poison pill guard). Default 1. */
  maxStalls?: number;
  /** Return false to skip the remaining attempts for this error. */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Runs the job. */
  handler: Handler<P, R>;
  /**
   * The URL of the module that exports this task, usually `import.meta.url`:
   * a runner's thread or process imports it to find the task by name. Needed
   * only with a runner (see the README, "CPU-bound work").
   */
  module?: string | URL;
  /**
   * Where the handler runs: a `threadPool` or `processPool` from
   * `./runners`. Default: the worker's `runner`, else in the worker itself.
   */
  runner?: Runner;
}

/** A task declared with {@linkcode defineTask}. */
export interface Task<P = unknown, R = unknown> {
  /** The task's name. */
  readonly name: string;
  /** The default queue. */
  readonly queue: string;
  /** Attempts in all. */
  readonly maxAttempts: number;
  /** Retry delay strategy, if set (the worker falls back to its default). */
  readonly retry?: RetryStrategy;
  /** Per-attempt timeout in ms (0 = none). */
  readonly timeout: number;
  /** Lease reclaims allowed. */
  readonly maxStalls: number;
  /** Whether an error may be retried. */
  readonly retryIf?: (error: unknown, attempt: number) => boolean;
  /** The handler. */
  readonly handler: Handler<P, R>;
  /** The URL of the module that exports it, if given. */
  readonly module?: string;
  /** Its runner, if it has one of its own. */
  readonly runner?: Runner;
}

const TASK_OPTIONS = optionNames<TaskOptions<unknown, unknown>>()([
  "name",
  "queue",
  "maxAttempts",
  "retry",
  "timeout",
  "maxStalls",
  "retryIf",
  "handler",
  "module",
  "runner",
]);

/** Default number of attempts for a task. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Default number of lease reclaims a job survives. */
export const DEFAULT_MAX_STALLS = 1;

/**
 * Declares a task: a named handler with its retry, timeout and queue settings.
 *
 * @example Define a task and enqueue it
 * ```ts
 * import { defineTask, exponential, MemoryStorage, Queue } from "@taskmill/taskmill";
 *
 * const sendEmail = defineTask({
 *   name: "send_email",
 *   maxAttempts: 5,
 *   retry: exponential({ base: 1_000, factor: 2, max: 60_000 }),
 *   timeout: 30_000,
 *   handler: (payload: { to: string }) => ({ sent: payload.to }),
 * });
 * const queue = new Queue({ storage: new MemoryStorage() });
 * const job = await queue.enqueue(sendEmail, { to: "a@b.c" });
 * console.log(job.state); // "waiting"
 * ```
 */
export function defineTask<P, R>(options: TaskOptions<P, R>): Task<P, R> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Cannot define task: options must be an object");
  }
  const where = "Cannot define task";
  validateName(options.name, `${where}: name`, "task");
  checkKeys(options, TASK_OPTIONS, `${where} "${options.name}"`);
  const queue = options.queue ?? "default";
  validateName(queue, `${where} "${options.name}": queue`, "queue");
  if (typeof options.handler !== "function") {
    throw new TypeError(`${where} "${options.name}": handler must be a function`);
  }
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  checkInt(maxAttempts, 1, 1_000_000, `${where} "${options.name}": maxAttempts`);
  const timeout = options.timeout ?? 0;
  checkInt(timeout, 0, 2_147_483_647, `${where} "${options.name}": timeout`);
  const maxStalls = options.maxStalls ?? DEFAULT_MAX_STALLS;
  checkInt(maxStalls, 0, 1_000_000, `${where} "${options.name}": maxStalls`);
  if (options.retry !== undefined && typeof options.retry !== "function") {
    throw new TypeError(
      `${where} "${options.name}": retry must be a strategy such as fixed(ms) or exponential()`,
    );
  }
  if (options.retryIf !== undefined && typeof options.retryIf !== "function") {
    throw new TypeError(`${where} "${options.name}": retryIf must be a function`);
  }
  const module = options.module === undefined ? undefined : String(options.module);
  if (module !== undefined && !URL.canParse(module)) {
    throw new TypeError(
      `${where} "${options.name}": module must be a URL such as import.meta.url, got ${
        JSON.stringify(module)
      }`,
    );
  }
  const runner = options.runner;
  if (runner !== undefined && (typeof runner !== "object" || typeof runner?.run !== "function")) {
    throw new TypeError(`${where} "${options.name}": runner must be a threadPool or processPool`);
  }
  return Object.freeze({
    name: options.name,
    queue,
    maxAttempts,
    retry: options.retry,
    timeout,
    maxStalls,
    retryIf: options.retryIf,
    handler: options.handler,
    ...(module === undefined ? {} : { module }),
    ...(runner === undefined ? {} : { runner }),
  });
}
