/**
 * What a handler runs inside: its `ctx` and the middleware wrapped around
 * it, composed once per task.
 *
 * @module
 */

import type { HeldJob } from "./held_job.ts";
import type { JobInfo, JsonValue, Task, TaskContext } from "./task.ts";

/** What a middleware sees: the handler's context plus the payload and task. */
export interface MiddlewareContext extends TaskContext {
  /** The job's payload. */
  readonly payload: unknown;
  /** The task being run. */
  readonly task: Task;
}

/**
 * Wraps every handler call: code before `next()` runs before the handler,
 * code after it sees the result, and a `catch` around it sees the error.
 * Return (or rethrow) what `next()` gave to keep the outcome.
 *
 * @example
 * ```ts
 * import type { Middleware } from "@taskmill/taskmill";
 * const timed: Middleware = async (ctx, next) => {
 *   const started = Date.now();
 *   try {
 *     return await next();
 *   } finally {
 *     console.log(ctx.job.id, Date.now() - started, "ms");
 *   }
 * };
 * ```
 */
export type Middleware = (ctx: MiddlewareContext, next: () => Promise<unknown>) => Promise<unknown>;

/** Records a handler's progress for `held` (the worker's `ctx.progress`). */
export type ReportProgress = (held: HeldJob, value: JsonValue) => Promise<void>;

/**
 * The `ctx` a handler gets (and, with middleware, the middleware's too).
 *
 * @example
 * ```ts ignore
 * const ctx = new Context(held, task, report); // one per attempt, made by the AttemptRunner
 * ```
 */
export class Context implements MiddlewareContext {
  readonly payload: unknown;
  // deno-lint-ignore no-explicit-any
  readonly task: Task<any, any>;
  readonly #held: HeldJob;
  readonly #report: ReportProgress;
  #job: JobInfo | undefined = undefined;

  // deno-lint-ignore no-explicit-any
  constructor(held: HeldJob, task: Task<any, any>, report: ReportProgress) {
    this.payload = held.job.payload;
    this.task = task;
    this.#held = held;
    this.#report = report;
  }

  /** Built on first use: most handlers never read it, and it is one object per job. */
  get job(): JobInfo {
    if (this.#job === undefined) {
      const job = this.#held.job;
      this.#job = {
        id: job.id,
        name: job.name,
        queue: job.queue,
        attempt: job.attempt,
        maxAttempts: job.maxAttempts!, // set for known tasks (see the worker's execute)
        enqueuedAt: job.enqueuedAt,
        priority: job.priority,
      };
      if (job.group !== undefined) (this.#job as { group?: string }).group = job.group;
    }
    return this.#job;
  }

  get signal(): AbortSignal {
    return this.#held.signal;
  }

  progress(value: JsonValue): Promise<void> {
    return this.#report(this.#held, value);
  }
}

/**
 * `task`'s handler wrapped in `middleware` (outermost first), as one
 * function returning a promise that never throws synchronously. Each
 * middleware may call `next()` once: the handler runs once per attempt.
 *
 * @example
 * ```ts
 * import { compose } from "./middleware.ts";
 * import { defineTask } from "./task.ts";
 * const task = defineTask({ name: "double", handler: (n: number) => n * 2 });
 * const run = compose(task, [(_ctx, next) => next()]);
 * // deno-lint-ignore no-explicit-any
 * console.log(await run(21, {} as any)); // 42
 * ```
 */
export function compose(
  // deno-lint-ignore no-explicit-any
  task: Task<any, any>,
  middleware: readonly Middleware[],
): (payload: unknown, ctx: TaskContext) => Promise<unknown> {
  const handler = task.handler;
  if (middleware.length === 0) {
    return (payload, ctx) => {
      try {
        return Promise.resolve(handler(payload, ctx));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  }
  return (payload, ctx) => {
    const mctx = ctx as Context; // a Context is a MiddlewareContext too
    const step = (i: number): Promise<unknown> => {
      try {
        if (i === middleware.length) return Promise.resolve(handler(payload, ctx));
        let called = false;
        const next = () => {
          if (called) {
            return Promise.reject(
              new Error(
                `middleware[${i}] called next() twice for job ${mctx.job.id}: ` +
                  "the handler runs once per attempt",
              ),
            );
          }
          called = true;
          return step(i + 1);
        };
        return Promise.resolve(middleware[i](mctx, next));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return step(0);
  };
}
