/**
 * The Worker's options (and `stop()`'s), checked and defaulted.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import type { Middleware } from "./middleware.ts";
import type { Runner } from "./runner.ts";
import type { Retention, RetentionPolicy, Storage } from "./storage.ts";
import { DEFAULT_RETENTION } from "./storage.ts";
import type { Task } from "./task.ts";
import {
  checkInt,
  checkKeys,
  checkRetentionKeys,
  checkWellFormed,
  describe,
  optionNames,
  validateName,
} from "./_validate.ts";

/** Options of {@linkcode Worker}. */
export interface WorkerOptions {
  /** Where jobs are kept. */
  storage: Storage;
  /** The tasks this worker can run. Names must be unique. */
  // deno-lint-ignore no-explicit-any
  tasks: readonly Task<any, any>[];
  /** Queues to serve, most important first. Default: the tasks' queues, in task order. */
  queues?: readonly string[];
  /** Handlers running at once, 1-1000. Default 10. */
  concurrency?: number;
  /**
   * Jobs reserved ahead of free slots, so a handler finishing finds the next
   * job already local (fewer round trips): a number, 0-1000, or `"auto"`
   * (the default). Auto holds about {@linkcode AUTO_PREFETCH_MS} ms of work
   * ahead, judged from the handlers' recent durations: `concurrency` jobs
   * for slow handlers (and until the first job finishes), up to
   * `max(concurrency, AUTO_PREFETCH_MAX)` for fast ones. A prefetched job is
   * one no other worker can run meanwhile, so the bound is in time, not jobs.
   */
  prefetch?: number | "auto";
  /** Source of time. Default: the system clock. */
  clock?: Clock;
  /** This worker's id (recorded in leases). Default: a random UUID. */
  id?: string;
  /** Lease length in ms; a job whose worker stops renewing is reclaimed after it. Default 30 000. */
  leaseMs?: number;
  /** How often leases are renewed, in ms. Default `leaseMs / 3`. */
  heartbeatMs?: number;
  /**
   * Stop after starting this many jobs (and storing their outcomes). A
   * prefetched job whose lease is lost before it starts does not count.
   * Default: no limit.
   */
  maxTasks?: number;
  /**
   * Bounds on kept completed and failed jobs; what is left out keeps its
   * `DEFAULT_RETENTION` value. `{ completed: { count: 0 } }` deletes jobs as
   * they complete (other queues' "remove on complete").
   */
  retention?: {
    completed?: Partial<RetentionPolicy>;
    failed?: Partial<RetentionPolicy>;
  };
  /**
   * What to do with a job whose task this worker does not know: `"fail"` it
   * with a clear reason (default), or `"wait"`: hand it back (not counted as
   * an attempt) for a worker that knows it, looking again after `unknownTaskDelay`.
   */
  unknownTasks?: "fail" | "wait";
  /** Delay in ms before a handed-back unknown job is due again. Default 5 000. */
  unknownTaskDelay?: number;
  /** Wraps every handler, outermost first. */
  middleware?: readonly Middleware[];
  /** Longest real wait, in ms, of one idle wait on storage before looking again. Default 5 000. */
  idleWaitMs?: number;
  /** How often finished jobs are pruned to the retention, in ms. Default 60 000. */
  sweepMs?: number;
  /**
   * Whether this worker fires the schedules of its queues (see
   * `Queue.schedule`). Default true. Any number of workers may: each tick
   * still makes one job. With none running, nothing fires.
   */
  schedules?: boolean;
  /**
   * Where handlers run: a `threadPool` or `processPool` from `./runners`,
   * for every task without a `runner` of its own (each needs its `module`).
   * Default: in this worker's event loop.
   */
  runner?: Runner;
  /**
   * Stops the worker after this many failed attempts in a row (an error,
   * a timeout or a crash; a completed attempt resets the count), with a
   * `stopped` event whose reason says so and `stopReason` "maxFailures".
   * Default: never.
   */
  maxFailures?: number;
}

/**
 * After `stop()`'s timeout (or once its handlers have ended, if sooner),
 * how long in ms it waits for storage to take the outcomes and hand-backs
 * still pending. What storage has not taken by then is abandoned: its
 * leases expire and other workers reclaim the jobs. So `stop({ timeout })`
 * resolves within `timeout + STOP_GRACE_MS` whatever the storage does.
 */
export const STOP_GRACE_MS = 1_000;

/** Options of {@linkcode Worker.stop}. */
export interface StopOptions {
  /**
   * Ms to wait for running handlers before aborting their signals and
   * handing their jobs back to the queue. Default 30 000; on a manual clock
   * (`FakeClock`) 0, since nobody may be advancing it (a test's `finally`):
   * pass a timeout, and advance the clock, to test a graceful stop there.
   * `stop()` resolves within `timeout` + {@linkcode STOP_GRACE_MS}.
   */
  timeout?: number;
}

// Every option name (a compile error names one left out): others are refused.
const WORKER_OPTIONS = optionNames<WorkerOptions>()([
  "storage",
  "tasks",
  "queues",
  "concurrency",
  "prefetch",
  "clock",
  "id",
  "leaseMs",
  "heartbeatMs",
  "maxTasks",
  "retention",
  "unknownTasks",
  "unknownTaskDelay",
  "middleware",
  "idleWaitMs",
  "sweepMs",
  "schedules",
  "runner",
  "maxFailures",
]);
export const STOP_OPTIONS = optionNames<StopOptions>()(["timeout"]);

/** A {@linkcode WorkerOptions} checked, with every default filled in. */
export interface WorkerSettings {
  storage: Storage;
  clock: Clock;
  // deno-lint-ignore no-explicit-any
  tasks: Map<string, Task<any, any>>;
  queues: readonly string[];
  concurrency: number;
  /** A fixed prefetch, or null for auto (see `prefetchFor`). */
  fixedPrefetch: number | null;
  id: string;
  leaseMs: number;
  heartbeatMs: number;
  maxTasks: number;
  retention: Retention;
  unknownTasks: "fail" | "wait";
  unknownTaskDelay: number;
  middleware: readonly Middleware[];
  idleWaitMs: number;
  sweepMs: number;
  schedules: boolean;
  runner: Runner | undefined;
  maxFailures: number;
}

/**
 * Checks `options` (clear errors naming the bad one, in the order below)
 * and fills in the defaults.
 *
 * @example
 * ```ts
 * import { defineTask, MemoryStorage } from "@taskmill/taskmill";
 * import { readWorkerOptions } from "./worker_options.ts";
 * const task = defineTask({ name: "t", handler: () => {} });
 * const read = readWorkerOptions({ storage: new MemoryStorage(), tasks: [task] });
 * console.log(read.concurrency, read.leaseMs); // 10 30000
 * ```
 */
export function readWorkerOptions(options: WorkerOptions): WorkerSettings {
  const read = { tasks: new Map() } as WorkerSettings;
  const where = "Cannot create Worker";
  if (typeof options !== "object" || options === null || !options.storage) {
    throw new TypeError(`${where}: options.storage is required`);
  }
  checkKeys(options, WORKER_OPTIONS, where);
  checkRetentionKeys(options.retention, where);
  if (!Array.isArray(options.tasks) || options.tasks.length === 0) {
    throw new TypeError(
      `${where}: options.tasks must be a non-empty array of tasks from defineTask()`,
    );
  }
  read.storage = options.storage;
  read.clock = options.clock ?? systemClock;
  for (const [i, task] of options.tasks.entries()) {
    if (typeof task !== "object" || task === null || typeof task.handler !== "function") {
      throw new TypeError(
        `${where}: tasks[${i}] is ${describe(task)}, not a task from defineTask()`,
      );
    }
    if (read.tasks.has(task.name)) {
      throw new TypeError(`${where}: tasks[${i}] repeats the task name "${task.name}"`);
    }
    read.tasks.set(task.name, task);
  }
  const queues = options.queues ?? [...new Set(options.tasks.map((t) => t.queue))];
  if (!Array.isArray(queues) || queues.length === 0) {
    throw new TypeError(`${where}: queues must be a non-empty array of queue names`);
  }
  queues.forEach((q, i) => validateName(q, `${where}: queues[${i}]`, "queue"));
  read.queues = Object.freeze([...new Set(queues)]);
  read.concurrency = options.concurrency ?? 10;
  checkInt(read.concurrency, 1, 1000, `${where}: concurrency`);
  const prefetch = options.prefetch ?? "auto";
  if (prefetch !== "auto") checkInt(prefetch, 0, 1000, `${where}: prefetch`);
  read.fixedPrefetch = prefetch === "auto" ? null : prefetch;
  read.id = options.id ?? crypto.randomUUID();
  if (typeof read.id !== "string" || read.id.length === 0 || read.id.length > 200) {
    throw new TypeError(`${where}: id must be a string of 1-200 characters`);
  }
  checkWellFormed(read.id, `${where}: id`);
  read.leaseMs = options.leaseMs ?? 30_000;
  checkInt(read.leaseMs, 100, 86_400_000, `${where}: leaseMs`);
  read.heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(read.leaseMs / 3));
  checkInt(read.heartbeatMs, 1, read.leaseMs - 1, `${where}: heartbeatMs`);
  read.maxTasks = options.maxTasks ?? Infinity;
  if (read.maxTasks !== Infinity) {
    checkInt(read.maxTasks, 1, Number.MAX_SAFE_INTEGER, `${where}: maxTasks`);
  }
  read.retention = {
    completed: { ...DEFAULT_RETENTION.completed, ...options.retention?.completed },
    failed: { ...DEFAULT_RETENTION.failed, ...options.retention?.failed },
  };
  for (const state of ["completed", "failed"] as const) {
    checkInt(
      read.retention[state].count,
      0,
      Number.MAX_SAFE_INTEGER,
      `${where}: retention.${state}.count`,
    );
    checkInt(
      read.retention[state].age,
      0,
      Number.MAX_SAFE_INTEGER,
      `${where}: retention.${state}.age`,
    );
  }
  read.unknownTasks = options.unknownTasks ?? "fail";
  if (read.unknownTasks !== "fail" && read.unknownTasks !== "wait") {
    throw new RangeError(
      `${where}: unknownTasks must be "fail" or "wait", got ${describe(read.unknownTasks)}`,
    );
  }
  read.unknownTaskDelay = options.unknownTaskDelay ?? 5_000;
  checkInt(read.unknownTaskDelay, 0, 86_400_000, `${where}: unknownTaskDelay`);
  read.middleware = options.middleware ?? [];
  read.middleware.forEach((m, i) => {
    if (typeof m !== "function") {
      throw new TypeError(`${where}: middleware[${i}] must be a function`);
    }
  });
  read.idleWaitMs = options.idleWaitMs ?? 5_000;
  checkInt(read.idleWaitMs, 1, 3_600_000, `${where}: idleWaitMs`);
  read.sweepMs = options.sweepMs ?? 60_000;
  checkInt(read.sweepMs, 1, 86_400_000, `${where}: sweepMs`);
  read.schedules = options.schedules ?? true;
  if (typeof read.schedules !== "boolean") {
    throw new TypeError(
      `${where}: schedules must be true or false, got ${describe(read.schedules)}`,
    );
  }
  read.runner = options.runner;
  if (
    read.runner !== undefined &&
    (typeof read.runner !== "object" || typeof read.runner?.run !== "function")
  ) {
    throw new TypeError(`${where}: runner must be a threadPool or processPool from ./runners`);
  }
  for (const task of read.tasks.values()) {
    if ((task.runner ?? read.runner) !== undefined && task.module === undefined) {
      throw new TypeError(
        `${where}: task "${task.name}" runs in a runner but has no module: give its defineTask ` +
          "`module: import.meta.url` (the module that exports it), so the runner's thread or " +
          "process can load it",
      );
    }
  }
  read.maxFailures = options.maxFailures ?? Infinity;
  if (read.maxFailures !== Infinity) {
    checkInt(read.maxFailures, 1, Number.MAX_SAFE_INTEGER, `${where}: maxFailures`);
  }
  return read;
}
