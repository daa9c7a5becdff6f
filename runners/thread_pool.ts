/**
 * `threadPool`: handlers in `node:worker_threads` threads.
 *
 * @module
 */

import { Worker as Thread } from "node:worker_threads";
import { CHILD_URL } from "./child_url.ts";
import { Pool, type Spawn } from "./pool.ts";
import { type PoolOptions, readPoolOptions, runtimeName } from "./pool_options.ts";

/**
 * A runner whose handlers run in a pool of threads (`node:worker_threads`,
 * on Deno, Bun and Node): the worker's event loop stays free for leases,
 * timeouts and new jobs while they burn CPU. A task runs there when it has
 * `module` (the module that exports it) and this runner as its `runner`,
 * or the worker's. A handler that ignores its aborted signal has its
 * thread terminated after `killGraceMs`; a thread that dies fails only
 * its attempt. `maxMemoryMb` is Node's V8 resource limit (refused on Deno
 * and Bun, whose threads do not apply one: use `processPool` there).
 *
 * @example
 * ```ts ignore
 * import { defineTask, MemoryStorage, Worker } from "@taskmill/taskmill";
 * import { threadPool } from "@taskmill/taskmill/runners";
 *
 * // tasks.ts: the worker and the threads both import it.
 * export const hash = defineTask({
 *   name: "hash",
 *   module: import.meta.url,
 *   handler: (text: string) => text.length,
 * });
 * const pool = threadPool({ size: 2 });
 * const worker = new Worker({ storage: new MemoryStorage(), tasks: [hash], runner: pool });
 * ```
 */
export function threadPool(options: PoolOptions = {}): Pool {
  const settings = readPoolOptions(options, "threadPool");
  const runtime = runtimeName();
  if (settings.maxMemoryMb !== undefined && runtime !== "Node") {
    throw new RangeError(
      `Cannot create threadPool: maxMemoryMb is not supported on ${runtime}, whose ` +
        "worker_threads apply no heap limit (resourceLimits); use processPool({ maxMemoryMb })" +
        (runtime === "Deno" ? ", which sets V8's --max-old-space-size" : " on Node or Deno"),
    );
  }
  const spawn: Spawn = (events) => {
    const thread = new Thread(CHILD_URL, {
      workerData: { taskmillChild: true },
      ...(settings.maxMemoryMb === undefined
        ? {}
        : { resourceLimits: { maxOldGenerationSizeMb: settings.maxMemoryMb } }),
    });
    let cause: string | undefined;
    thread.on("message", events.message);
    thread.on("error", (error: Error & { code?: string }) => {
      cause ??= error.code === "ERR_WORKER_OUT_OF_MEMORY"
        ? `it ran out of memory (maxMemoryMb ${settings.maxMemoryMb})`
        : `it threw outside the handler's promise: ${error.name}: ${error.message}`;
    });
    thread.on("exit", (code: number) => events.exit(cause ?? `it exited with code ${code}`));
    return {
      send: (message) => thread.postMessage(message),
      kill: () => void thread.terminate(),
      ref: () => thread.ref(),
      unref: () => thread.unref(),
    };
  };
  return new Pool("thread", spawn, settings);
}
