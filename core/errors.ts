/**
 * Error classes callers are meant to catch or throw. Bad arguments are plain
 * `TypeError` / `RangeError`; these are for conditions of the job system.
 *
 * @module
 */

import type { JobError } from "./task.ts";

/**
 * Throw from a handler when a service it calls says "too many requests"
 * (an HTTP 429 with `Retry-After`): the job goes back to waiting without
 * counting an attempt, and its group, or its queue when it has none, takes
 * no job for `retryAfter` ms, on every worker (see the README, "Flow control").
 *
 * @example
 * ```ts
 * import { defineTask, RateLimitedError } from "@taskmill/taskmill";
 *
 * const sync = defineTask({
 *   name: "sync",
 *   handler: async (payload: { url: string }) => {
 *     const response = await fetch(payload.url);
 *     if (response.status === 429) {
 *       throw new RateLimitedError(Number(response.headers.get("retry-after") ?? 1) * 1_000);
 *     }
 *     return response.status;
 *   },
 * });
 * ```
 */
export class RateLimitedError extends Error {
  /** How long the job's group (or queue) is held, in ms. */
  readonly retryAfter: number;
  /** Holds the job's group, or its queue, for `retryAfter` ms (an integer from 0 to a year). */
  constructor(retryAfter: number, message?: string) {
    if (
      typeof retryAfter !== "number" || !Number.isInteger(retryAfter) || retryAfter < 0 ||
      retryAfter > MAX_RETRY_AFTER
    ) {
      throw new RangeError(
        `Cannot create RateLimitedError: retryAfter must be an integer from 0 to ${MAX_RETRY_AFTER} ms, got ${
          String(retryAfter)
        }`,
      );
    }
    super(message ?? `Rate limited: retry after ${retryAfter} ms`);
    this.name = "RateLimitedError";
    this.retryAfter = retryAfter;
  }
}

/** The longest `RateLimitedError.retryAfter`, ms (a year). */
const MAX_RETRY_AFTER = 365 * 24 * 60 * 60 * 1000;

/**
 * Throw from a handler to fail the job at once, skipping remaining attempts.
 *
 * @example
 * ```ts
 * import { defineTask, UnrecoverableError } from "@taskmill/taskmill";
 *
 * const charge = defineTask({
 *   name: "charge",
 *   handler: (payload: { card: string }) => {
 *     if (payload.card === "") throw new UnrecoverableError("no card on file");
 *     return "ok";
 *   },
 * });
 * ```
 */
export class UnrecoverableError extends Error {
  /** Creates the error; `cause` is kept. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnrecoverableError";
  }
}

/**
 * Recorded when an attempt ran past its task's `timeout`.
 *
 * @example
 * ```ts
 * import { JobTimeoutError } from "@taskmill/taskmill";
 *
 * const error = new JobTimeoutError(5_000);
 * console.log(error.message); // "Job timed out after 5000 ms"
 * ```
 */
export class JobTimeoutError extends Error {
  /** The timeout that was exceeded, in ms. */
  readonly timeout: number;
  /**
   * Creates the error for a timeout of `timeout` ms; `ran`, when given, is
   * how long a handler that could not be aborted (it kept the event loop
   * busy) actually ran.
   */
  constructor(timeout: number, ran?: number) {
    super(
      ran === undefined
        ? `Job timed out after ${timeout} ms`
        : `Job ran ${ran} ms, past its ${timeout} ms timeout (it kept the event loop busy, ` +
          "so it could not be aborted sooner)",
    );
    this.name = "JobTimeoutError";
    this.timeout = timeout;
  }
}

/**
 * A job failed for good; thrown by `Queue.result()` and carried by `failed`
 * events.
 *
 * @example
 * ```ts
 * import { JobFailedError } from "@taskmill/taskmill";
 *
 * const error = new JobFailedError("job-1", { message: "boom", name: "Error", attempt: 3, at: 0 });
 * console.log(error.message); // 'Job job-1 failed: boom'
 * ```
 */
export class JobFailedError extends Error {
  /** The failed job's id. */
  readonly jobId: string;
  /** The recorded last error. */
  readonly jobError: JobError;
  /** Creates the error for job `jobId` whose last attempt failed with `jobError`. */
  constructor(jobId: string, jobError: JobError) {
    super(`Job ${jobId} failed: ${jobError.message}`);
    this.name = "JobFailedError";
    this.jobId = jobId;
    this.jobError = jobError;
  }
}

/**
 * Thrown by `Queue.result()` when the wait ran out before the job finished.
 *
 * @example
 * ```ts
 * import { ResultTimeoutError } from "@taskmill/taskmill";
 *
 * console.log(new ResultTimeoutError("job-1", 100).message);
 * ```
 */
export class ResultTimeoutError extends Error {
  /** The job waited for. */
  readonly jobId: string;
  /** Creates the error. */
  constructor(jobId: string, timeout: number) {
    super(`Job ${jobId} did not finish within ${timeout} ms`);
    this.name = "ResultTimeoutError";
    this.jobId = jobId;
  }
}

/**
 * A storage operation failed (connection lost, server error). The worker
 * emits it as an `error` event and retries with backoff; it never dies of it.
 *
 * @example
 * ```ts
 * import { StorageError } from "@taskmill/taskmill";
 *
 * const error = new StorageError("Cannot reserve jobs: connection lost");
 * console.log(error.name); // "StorageError"
 * ```
 */
export class StorageError extends Error {
  /** Creates the error; pass the underlying error as `cause`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StorageError";
  }
}

/**
 * Something about the storage's setup that fails no call today but puts jobs
 * at risk: a Redis that may evict keys, a clock too far from the storage's.
 * `RedisStorage` reports it through its `onWarning` option and `warnings`;
 * the worker emits it as an `error` event (during "storage check" or
 * "clock skew") and goes on.
 *
 * @example
 * ```ts
 * import { StorageWarning } from "@taskmill/taskmill";
 *
 * const warning = new StorageWarning("eviction-policy", "Redis may evict keys");
 * console.log(warning.name, warning.code); // "StorageWarning" "eviction-policy"
 * ```
 */
export class StorageWarning extends Error {
  /** What kind of risk: `"eviction-policy"`, `"eviction-policy-unknown"`, `"clock-skew"`. */
  readonly code: string;
  /** Creates the warning. */
  constructor(code: string, message: string) {
    super(message);
    this.name = "StorageWarning";
    this.code = code;
  }
}

/**
 * A copy of a stored {@linkcode JobError} that shares nothing with it (what
 * an adapter hands out, so a caller's change cannot reach the store).
 *
 * @example
 * ```ts
 * import { copyError } from "./errors.ts";
 * console.log(copyError({ message: "boom", name: "Error", attempt: 1, at: 0 }));
 * // { message: "boom", name: "Error", attempt: 1, at: 0 }
 * ```
 */
export function copyError(error: JobError): JobError {
  const copy: JobError = {
    message: error.message,
    name: error.name,
    attempt: error.attempt,
    at: error.at,
  };
  if (error.stack !== undefined) copy.stack = error.stack;
  return copy;
}

/** Converts anything thrown into a readable {@linkcode JobError}. */
export function toJobError(thrown: unknown, attempt: number, at: number): JobError {
  if (thrown instanceof Error) {
    const error: JobError = {
      message: String(thrown.message),
      name: thrown.name || "Error",
      attempt,
      at,
    };
    if (typeof thrown.stack === "string") error.stack = thrown.stack.slice(0, 4_000);
    return error;
  }
  return { message: renderThrown(thrown), name: "NonError", attempt, at };
}

function renderThrown(thrown: unknown): string {
  if (typeof thrown === "string") return thrown;
  if (thrown === undefined) return "undefined was thrown";
  if (typeof thrown === "object" && thrown !== null) {
    try {
      return `Non-error thrown: ${JSON.stringify(thrown)?.slice(0, 1_000)}`;
    } catch {
      return `Non-error thrown: ${Object.prototype.toString.call(thrown)}`;
    }
  }
  return `Non-error thrown: ${String(thrown)}`;
}

/**
 * The abort reason of `ctx.signal` when the worker lost the job's lease (it
 * was reclaimed after the lease expired): the attempt's outcome is discarded.
 *
 * @example
 * ```ts
 * import { LeaseLostError } from "@taskmill/taskmill";
 *
 * console.log(new LeaseLostError("job-1").name); // "LeaseLostError"
 * ```
 */
export class LeaseLostError extends Error {
  /** Creates the error for job `jobId`. */
  constructor(jobId: string) {
    super(`Lost the lease of job ${jobId}: it ran past its lease and may run elsewhere`);
    this.name = "LeaseLostError";
  }
}

/**
 * The abort reason of `ctx.signal` when `worker.stop()` ran out of time: the
 * job was handed back to the queue for another worker.
 *
 * @example
 * ```ts
 * import { WorkerStoppedError } from "@taskmill/taskmill";
 *
 * console.log(new WorkerStoppedError().name); // "WorkerStoppedError"
 * ```
 */
export class WorkerStoppedError extends Error {
  /** Creates the error. */
  constructor() {
    super("The worker stopped before this job finished; the job was handed back");
    this.name = "WorkerStoppedError";
  }
}
