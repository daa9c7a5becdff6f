/**
 * The options of `threadPool` and `processPool`, checked and defaulted.
 *
 * @module
 */

import { availableParallelism } from "node:os";
import { checkInt, checkKeys, optionNames } from "../core/_validate.ts";

/**
 * How a pool of threads or processes runs handlers.
 *
 * @example
 * ```ts
 * import type { PoolOptions } from "./pool_options.ts";
 * const options: PoolOptions = { size: 2, maxTasksPerChild: 100, idleMs: 10_000 };
 * ```
 */
export interface PoolOptions {
  /** Threads or processes at most, each running one handler at a time. Default: the cores. */
  size?: number;
  /** Replace a thread or process after this many jobs (a leak's bound). Default: never. */
  maxTasksPerChild?: number;
  /**
   * Heap limit of each thread or process, MiB: threads get V8 resource
   * limits (Node only), processes the runtime's heap flag (Node and Deno).
   * A handler past it fails its attempt with a `RunnerCrashError`.
   */
  maxMemoryMb?: number;
  /** End a thread or process idle this long, ms (real time). Default 30 000. */
  idleMs?: number;
  /**
   * After a job is aborted (timeout, lost lease, forced stop), how long its
   * handler has to return before its thread or process is ended, ms (real
   * time). Default 1 000.
   */
  killGraceMs?: number;
}

/** {@linkcode PoolOptions} with every default filled in. */
export interface PoolSettings {
  size: number;
  maxTasksPerChild: number;
  maxMemoryMb: number | undefined;
  idleMs: number;
  killGraceMs: number;
}

const POOL_OPTIONS = optionNames<PoolOptions>()([
  "size",
  "maxTasksPerChild",
  "maxMemoryMb",
  "idleMs",
  "killGraceMs",
]);

/**
 * Checks `options` (errors name the pool and the option) and fills in the defaults.
 *
 * @example
 * ```ts
 * import { readPoolOptions } from "./pool_options.ts";
 * console.log(readPoolOptions({ size: 2 }, "threadPool").idleMs); // 30000
 * ```
 */
export function readPoolOptions(options: PoolOptions, pool: string): PoolSettings {
  const where = `Cannot create ${pool}`;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${where}: options must be an object`);
  }
  checkKeys(options, POOL_OPTIONS, where);
  const size = options.size ?? availableParallelism();
  checkInt(size, 1, 1024, `${where}: size`);
  const maxTasksPerChild = options.maxTasksPerChild ?? Infinity;
  if (maxTasksPerChild !== Infinity) {
    checkInt(maxTasksPerChild, 1, Number.MAX_SAFE_INTEGER, `${where}: maxTasksPerChild`);
  }
  const maxMemoryMb = options.maxMemoryMb;
  if (maxMemoryMb !== undefined) checkInt(maxMemoryMb, 16, 1_048_576, `${where}: maxMemoryMb`);
  const idleMs = options.idleMs ?? 30_000;
  checkInt(idleMs, 1, 2_147_483_647, `${where}: idleMs`);
  const killGraceMs = options.killGraceMs ?? 1_000;
  checkInt(killGraceMs, 0, 2_147_483_647, `${where}: killGraceMs`);
  return { size, maxTasksPerChild, maxMemoryMb, idleMs, killGraceMs };
}

/**
 * The runtime this code runs on.
 *
 * @example
 * ```ts
 * import { runtimeName } from "./pool_options.ts";
 * console.log(["Deno", "Bun", "Node"].includes(runtimeName())); // true
 * ```
 */
export function runtimeName(): "Deno" | "Bun" | "Node" {
  if ("Deno" in globalThis) return "Deno";
  if ("Bun" in globalThis) return "Bun";
  return "Node";
}
