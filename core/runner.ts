/**
 * Where a task's handler runs. The in-process default calls it on the
 * worker's own event loop; a {@linkcode Runner} (`threadPool` or
 * `processPool` from `./runners`) runs it in another thread or process, so a
 * CPU-bound handler leaves the worker free to renew leases, time out jobs
 * and take new ones.
 *
 * @module
 */

import type { Task, TaskContext } from "./task.ts";

/**
 * Runs handlers somewhere else than the worker's event loop. The worker
 * calls `run` once per attempt, in place of the task's handler (the
 * middleware still runs around it, in the worker): payload and result
 * cross as JSON, `ctx.progress()` and `ctx.job` work, and when `ctx.signal`
 * aborts (timeout, lost lease, forced stop) the runner aborts the handler's
 * signal there and ends its thread or process if it does not return.
 *
 * @example
 * ```ts
 * import type { Runner } from "./runner.ts";
 *
 * // A runner that runs the handler in place, as the default does.
 * const inline: Runner = {
 *   run: (task, payload, ctx) => Promise.resolve(task.handler(payload, ctx)),
 *   close: () => Promise.resolve(),
 * };
 * ```
 */
export interface Runner {
  /** Runs one attempt of `task`'s handler; settles as the handler does. */
  // deno-lint-ignore no-explicit-any
  run(task: Task<any, any>, payload: unknown, ctx: TaskContext): Promise<unknown>;
  /** Ends every thread or process it started; later runs start new ones. */
  close(): Promise<void>;
}
