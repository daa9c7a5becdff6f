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
import { openTarget, secretOf, type StorageChoice, storageTarget } from "../storage.ts";
import { loadTasks } from "../tasks_module.ts";
import { supervise } from "../supervisor.ts";
import { pathToFileURL } from "node:url";
import type { Task } from "../../core/task.ts";
import type { Runner } from "../../core/runner.ts";
import { processPool, threadPool } from "../../runners/mod.ts";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

/** The exit code of a worker that stopped after `--max-failures` failed attempts in a row. */
export const MAX_FAILURES_EXIT = 3;

/**
 * Runs a worker as the flags say and resolves to 0 once it stopped (3 when
 * `--max-failures` stopped it). With `--processes` or `--autoscale` it
 * supervises that many worker processes instead (see `../supervisor.ts`).
 *
 * @example
 * ```ts
 * await worker({ tasks: "./tasks.ts", "redis-url": "redis://127.0.0.1:6379" });
 * ```
 */
export async function worker(flags: FlagValues): Promise<number> {
  const tasksFile = flags.tasks as string | undefined;
  if (tasksFile === undefined) throw new UsageError("worker needs --tasks FILE");
  if (flags.processes !== undefined || flags.autoscale !== undefined) return await supervise(flags);
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
  const maxFailures = nonNegative(flags, "max-failures", 1);
  const makeRunner = runnerOf(flags);
  const target = storageTarget(flags);
  const url = secretOf(target);

  const threshold = LEVELS[level as Level];
  const log = (at: Level, message: string) => {
    if (LEVELS[at] < threshold) return;
    rt.out(`${new Date().toISOString()} ${at.padEnd(5)} ${escapeText(redact(message, url))}`);
  };

  let tasks: Task[] = await loadTasks(tasksFile);
  let runner: Runner | undefined;
  if (makeRunner !== undefined) {
    // A task without a module of its own is loaded in the pool from --tasks.
    const module = pathToFileURL(rt.absolutePath(tasksFile)).href;
    tasks = tasks.map((task) => task.module === undefined ? { ...task, module } : task);
    runner = makeRunner();
  }
  let choice: StorageChoice;
  if (target === undefined) {
    rt.err(
      "taskmill: no --redis-url or --sqlite (nor TASKMILL_REDIS_URL or TASKMILL_SQLITE): " +
        "running on the in-memory store (jobs live only in this process)",
    );
    choice = { storage: new MemoryStorage(), label: "memory", url: undefined };
  } else {
    // The worker reports setup warnings as error events, logged below.
    choice = await openTarget(target, () => {});
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
      runner,
      maxFailures,
    });
  } catch (error) {
    await choice.storage.close().catch(() => {});
    await runner?.close();
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
  instance.on("stopping", ({ message }) => log("warn", `stopping: ${message}`));
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

  // Under a supervisor (--processes): its end closes our stdin, and we stop.
  if (rt.env("TASKMILL_SUPERVISED") !== undefined) {
    rt.onStdinEnd(() => {
      if (stopping) return; // a signal came first: that stop is under way
      log("warn", "the supervisor closed this worker's stdin: stopping");
      void instance.stop({ timeout: stopTimeout });
    });
  }
  await instance.start();
  log(
    "info",
    `worker ${instance.id} started on ${rt.runtimeName()}: storage ${choice.label}, queues ` +
      `${instance.queues.join(",")}, tasks ${tasks.map((t) => t.name).join(",")}, ` +
      `concurrency ${concurrency ?? 10}, prefetch ${prefetch ?? "auto"}` +
      (runner === undefined ? "" : `, runner ${flags.runner}`),
  );
  await instance.stopped();
  await metrics?.close();
  removeSignals();
  await runner?.close();
  await choice.storage.close().catch(() => {});
  return instance.stopReason === "maxFailures" ? MAX_FAILURES_EXIT : 0;
}

/** A maker of the pool `--runner` asks for (with its pool flags), or undefined. */
function runnerOf(flags: FlagValues): (() => Runner) | undefined {
  const kind = flags.runner as string | undefined;
  const poolFlags = ["pool-size", "max-tasks-per-child", "max-memory-mb"] as const;
  if (kind === undefined || kind === "inline") {
    const given = poolFlags.find((name) => flags[name] !== undefined);
    if (given !== undefined) throw new UsageError(`--${given} needs --runner thread or process`);
    return undefined;
  }
  if (kind !== "thread" && kind !== "process") {
    throw new UsageError(`--runner must be inline, thread or process, got "${kind}"`);
  }
  const options = {
    size: nonNegative(flags, "pool-size", 1),
    maxTasksPerChild: nonNegative(flags, "max-tasks-per-child", 1),
    maxMemoryMb: nonNegative(flags, "max-memory-mb", 16),
  };
  const make = kind === "thread" ? threadPool : processPool;
  try {
    make(options).close(); // checks the options now (a pool starts nothing until used)
  } catch (error) {
    const names = { size: "--pool-size", maxTasksPerChild: "--max-tasks-per-child" } as const;
    const message = firstLine(error).replace(/^Cannot create \w+: /, "")
      .replace(/^(size|maxTasksPerChild)\b/, (o) => names[o as keyof typeof names])
      .replace(/^maxMemoryMb\b/, "--max-memory-mb");
    throw new UsageError(message);
  }
  return () => make(options);
}
