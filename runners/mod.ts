/**
 * Runners: CPU-bound handlers off the worker's event loop, in a pool of
 * threads (`threadPool`) or child processes (`processPool`), on Deno, Bun
 * and Node. See the README, "CPU-bound work".
 *
 * @example
 * ```ts ignore
 * import { defineTask, Worker } from "@taskmill/taskmill";
 * import { MemoryStorage } from "@taskmill/taskmill/memory";
 * import { threadPool } from "@taskmill/taskmill/runners";
 *
 * export const hash = defineTask({
 *   name: "hash",
 *   module: import.meta.url, // the module that exports the task: the threads import it
 *   handler: (rounds: number) => rounds * 2,
 * });
 * const worker = new Worker({ storage: new MemoryStorage(), tasks: [hash], runner: threadPool() });
 * ```
 *
 * @module
 */

export { threadPool } from "./thread_pool.ts";
export { processPool } from "./process_pool.ts";
export type { PoolOptions } from "./pool_options.ts";
export type { Pool } from "./pool.ts";
export { RunnerCrashError } from "./runner_crash_error.ts";
export type { Runner } from "../core/runner.ts";
