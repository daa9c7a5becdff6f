/**
 * `MemoryStorage`: the embedded, zero-dependency {@linkcode Storage} adapter.
 * It keeps every job in this process's memory, so it suits tests, scripts and
 * single-process apps (one `Queue` and any number of `Worker`s sharing one
 * instance). Nothing survives a restart; use `RedisStorage` for that.
 *
 * It speaks only web standards and never reads global time: every time comes
 * from the `now` the core passes, and the only timer (the `maxWaitMs` bound
 * of `waitForWork`) runs on the injected clock.
 *
 * @example One queue, one worker, one process
 * ```ts
 * import { defineTask, Queue, Worker } from "@taskmill/taskmill";
 * import { MemoryStorage } from "@taskmill/taskmill/memory";
 *
 * const storage = new MemoryStorage();
 * const hello = defineTask({ name: "hello", handler: (who: string) => `hello ${who}` });
 * const queue = new Queue({ storage });
 * const worker = new Worker({ storage, tasks: [hello] });
 * await worker.start();
 * const job = await queue.enqueue(hello, "world");
 * console.log(await queue.result(job.id)); // "hello world"
 * await worker.stop();
 * ```
 *
 * @module
 */

export { MemoryStorage, type MemoryStorageOptions } from "./memory_storage.ts";
