/**
 * The messages between a pool and its threads or processes, and errors
 * carried across as data (a thread or process cannot send an Error object
 * that keeps its class).
 *
 * @module
 */

import { RateLimitedError, UnrecoverableError } from "../core/errors.ts";
import type { JobInfo, JsonValue } from "../core/task.ts";

/**
 * From the pool: run a task's handler, abort it, acknowledge a progress report.
 *
 * @example
 * ```ts
 * import type { ToChild } from "./protocol.ts";
 * const abort: ToChild = { t: "abort", id: 1, reason: "Job timed out" };
 * ```
 */
export type ToChild =
  | { t: "run"; id: number; module: string; name: string; payload: unknown; job: JobInfo }
  | { t: "abort"; id: number; reason: string }
  | { t: "progressed"; id: number; n: number };

/**
 * From a thread or process: it is ready, a handler's progress, its outcome.
 *
 * @example
 * ```ts
 * import type { FromChild } from "./protocol.ts";
 * const done: FromChild = { t: "done", id: 1, ok: true, value: 42 };
 * ```
 */
export type FromChild =
  | { t: "ready" }
  | { t: "progress"; id: number; n: number; value: JsonValue }
  | { t: "done"; id: number; ok: true; value?: unknown }
  | { t: "done"; id: number; ok: false; error: ErrorData };

/**
 * An error as data: its class name, message and stack, and a
 * `RateLimitedError`'s retryAfter.
 *
 * @example
 * ```ts
 * import { errorData } from "./protocol.ts";
 * console.log(errorData(new TypeError("bad")).name); // "TypeError"
 * ```
 */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  retryAfter?: number;
}

/**
 * `error` (anything thrown) as data.
 *
 * @example
 * ```ts
 * import { errorData } from "./protocol.ts";
 * console.log(errorData("text").message); // "text"
 * ```
 */
export function errorData(error: unknown): ErrorData {
  if (error instanceof Error) {
    const data: ErrorData = { name: error.name, message: error.message };
    if (error.stack !== undefined) data.stack = error.stack;
    if (error instanceof RateLimitedError) data.retryAfter = error.retryAfter;
    return data;
  }
  return { name: "NonError", message: String(error) };
}

/**
 * The error `data` describes, as the worker's retry rules read it:
 * `UnrecoverableError` and `RateLimitedError` keep their classes, others
 * become an `Error` with the same name, message and stack.
 *
 * @example
 * ```ts
 * import { errorOf } from "./protocol.ts";
 * console.log(errorOf({ name: "RangeError", message: "too big" }).name); // "RangeError"
 * ```
 */
export function errorOf(data: ErrorData): Error {
  let error: Error;
  if (data.name === "UnrecoverableError") error = new UnrecoverableError(data.message);
  else if (data.name === "RateLimitedError" && data.retryAfter !== undefined) {
    error = new RateLimitedError(data.retryAfter, data.message);
  } else {
    error = new Error(data.message);
    error.name = data.name;
  }
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}
