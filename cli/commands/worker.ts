/**
 * `taskmill worker`: runs a worker over the tasks a module exports until
 * SIGTERM/SIGINT (or `--max-tasks`), logging each job's life on stdout.
 *
 * @example
 * ```ts
 * import { worker } from "./worker.ts";
 *
 * const code = await worker({ tasks: "./tasks.ts", "max-tasks": 1 });
 * ```
 *
 * @module
 */

import * as rt from "../_runtime.ts";
import { Worker } from "../../core/worker.ts";
import type { JobRecord } from "../../core/task.ts";
import { MemoryStorage } from "../../adapters/memory/mod.ts";
import { UsageError } from "../errors.ts";
import { type FlagValues, nonNegative } from "../flags.ts";
import { escapeText, firstLine, redact } from "../output.ts";
import { serveMetrics } from "../metrics_server.ts";
import { openRedis, type StorageChoice } from "../storage.ts";
import { loadTasks } from "../tasks_module.ts";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

/**
 * Runs a worker as the flags say and resolves to 0 once it stopped.
 *
 * @example
 * ```ts
 * await worker({ tasks: "./tasks.ts", "redis-url": "redis://127.0.0.1:6379" });
 * ```
 */
export async function worker(flags: FlagValues): Promise<number> {
  const tasksFile = flags.tasks as string | undefined;
  if (tasksFile === undefined) throw new UsageError("worker needs --tasks FILE");
  const level = (flags["log-level"] as string | undefined) ?? "info";
  if (!(level in LEVELS)) {
    throw new UsageError(`--log-level must be debug, info, warn or error, got "${level}"`);
  }
  const concurrency = nonNegative(flags, "concurrency", 1);
  const prefetchFlag = flags.prefetch as string | undefined;
  let prefetch: number | "auto" | undefined;
  if (prefetchFlag === "auto") prefetch = "auto";
  else if (prefetchFlag !== undefined) {
    prefetch = /^\d+$/.test(prefetchFlag) ? Number(prefetchFlag) : NaN;
    if (!(prefetch <= 1000)) {
      throw new UsageError(
        `--prefetch must be auto or a whole number 0-1000, got "${prefetchFlag}"`,
      );
    }
  }
  const maxTasks = nonNegative(flags, "max-tasks", 1);
  const leaseMs = nonNegative(flags, "lease-ms", 100);
  const stopTimeout = nonNegative(flags, "stop-timeout", 0) ?? 30_000;
  const url = (flags["redis-url"] as string | undefined) ?? rt.env("TASKMILL_REDIS_URL");
  const prefix = (flags.prefix as string | undefined) ?? rt.env("TASKMILL_PREFIX");

  const threshold = LEVELS[level as Level];
  const log = (at: Level, message: string) => {
    if (LEVELS[at] < threshold) return;
    rt.out(`${new Date().toISOString()} ${at.padEnd(5)} ${escapeText(redact(message, url))}`);
  };

  const tasks = await loadTasks(tasksFile);
  let choice: StorageChoice;
  if (url === undefined) {
    rt.err(
      "taskmill: no --redis-url or TASKMILL_REDIS_URL: running on the in-memory store " +
        "(jobs live only in this process)",
    );
    choice = { storage: new MemoryStorage(), label: "memory", url: undefined };
  } else {
    // The worker reports setup warnings as error events, logged below.
    choice = await openRedis(url, prefix, () => {});
  }

  let instance: Worker;
  try {
    instance = new Worker({
      storage: choice.storage,
      tasks,
      queues: flags.queues as string[] | undefined,
      concurrency,
      prefetch,
      maxTasks,
      leaseMs,
    });
  } catch (error) {
    await choice.storage.close().catch(() => {});
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new UsageError(firstLine(error).replace(/^Cannot create Worker: /, ""));
    }
    throw error;
  }

  const job = (j: JobRecord) =>
    `${j.name} id=${j.id} queue=${j.queue} attempt=${j.attempt}/${j.maxAttempts ?? "?"}`;
  instance.on("active", ({ job: j }) => log("info", `active ${job(j)}`));
  instance.on(
    "progress",
    ({ job: j, progress }) =>
      log("debug", `progress ${job(j)} progress=${JSON.stringify(progress)}`),
  );
  instance.on(
    "completed",
    ({ job: j, duration }) => log("info", `completed ${job(j)} duration=${duration}ms`),
  );
  instance.on(
    "retrying",
    ({ job: j, error, delay }) =>
      log("warn", `retrying ${job(j)} in ${delay}ms: ${error.name}: ${error.message}`),
  );
  instance.on(
    "failed",
    ({ job: j, error }) => log("error", `failed ${job(j)}: ${error.name}: ${error.message}`),
  );
  instance.on("stalled", ({ job: j, reason }) => log("warn", `stalled ${job(j)}: ${reason}`));
  instance.on(
    "error",
    ({ error, during }) => log("error", `error during ${during}: ${firstLine(error)}`),
  );
  instance.on("offline", ({ workerId }) => log("info", `worker ${workerId} stopped`));
  const metrics = await serveMetrics(flags, choice.storage, instance, (l) => log("info", l))
    .catch((error) => choice.storage.close().catch(() => {}).then(() => Promise.reject(error)));

  let stopping = false;
  const removeSignals = rt.onStopSignal((signal) => {
    if (stopping) {
      log("warn", `${signal} again: exiting now; running jobs return after their lease expires`);
      rt.exit(1);
    }
    stopping = true;
    log(
      "info",
      `${signal}: stopping; waiting up to ${stopTimeout}ms for running jobs, then handing ` +
        "them back",
    );
    instance.stop({ timeout: stopTimeout }).catch((error) =>
      log("error", `stop failed: ${firstLine(error)}`)
    );
  });

  await instance.start();
  log(
    "info",
    `worker ${instance.id} started on ${rt.runtimeName()}: storage ${choice.label}, queues ` +
      `${instance.queues.join(",")}, tasks ${tasks.map((t) => t.name).join(",")}, ` +
      `concurrency ${concurrency ?? 10}, prefetch ${prefetch ?? "auto"}`,
  );
  await instance.stopped();
  await metrics?.close();
  removeSignals();
  await choice.storage.close().catch(() => {});
  return 0;
}
