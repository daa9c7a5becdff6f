/**
 * The `taskmill` command line: run a worker over a module of tasks, enqueue
 * jobs, read queue counts and manage the dead-letter set.
 *
 * ```sh
 * deno run -A jsr:@taskmill/taskmill/cli worker --tasks ./tasks.ts --redis-url redis://127.0.0.1:6379
 * npx taskmill enqueue send_email '{"to":"a@b.c"}' --delay 5000
 * bunx --bun taskmill stats --queue default --json
 * ```
 *
 * Run `taskmill --help` for every command and option. Exit codes: 0 done (a
 * worker stopped cleanly), 1 failed (Redis unreachable, a tasks module that
 * does not load, a job that is not there), 2 bad arguments.
 *
 * The tasks module exports tasks made with `defineTask()`: as a default
 * export (an array of tasks, or one task) or as named exports. Deno and Bun
 * import a `.ts` module natively, and so does Node from 22.18 (erasable
 * TypeScript only); on Node 20 pass a `.js` or `.mjs` module.
 *
 * @example Run the CLI from code (as the `taskmill` binary does)
 * ```ts
 * import { main } from "@taskmill/taskmill/cli";
 *
 * const code = await main(["--help"]);
 * console.log(code); // 0
 * ```
 *
 * @module
 */

import * as rt from "./_runtime.ts";
import { Queue } from "../core/queue.ts";
import { Worker } from "../core/worker.ts";
import type { Storage } from "../core/storage.ts";
import type { JobRecord, Task } from "../core/task.ts";
import { JOB_STATES } from "../core/task.ts";
import { MemoryStorage } from "../adapters/memory/mod.ts";
import { COMMAND_HELP, commandUsage, USAGE } from "./help.ts";
import { CliError, UsageError } from "./errors.ts";
import { closest, COMMAND_FLAGS, type FlagValues, nonNegative, parseFlags } from "./flags.ts";
import { escapeText, firstLine, redact, toJsonLine } from "./output.ts";
import { serveMetrics } from "./metrics_server.ts";

interface StorageChoice {
  storage: Storage;
  /** How to name it in messages (password redacted). */
  label: string;
  url: string | undefined;
}

/**
 * Opens Redis and checks it answers. Setup warnings (an eviction policy that
 * can drop jobs) go to `onWarning`; by default one stderr line each.
 */
async function openRedis(
  url: string,
  prefix: string | undefined,
  onWarning: (warning: Error) => void = (warning) =>
    rt.err(`taskmill: warning: ${escapeText(redact(warning.message, url))}`),
): Promise<StorageChoice> {
  let mod: typeof import("../adapters/redis/mod.ts");
  try {
    mod = await import("../adapters/redis/mod.ts");
  } catch (error) {
    throw new CliError(
      `cannot use Redis: the ioredis package did not load (${
        firstLine(error)
      }); install it next to taskmill (npm install ioredis)`,
    );
  }
  let storage: Storage;
  try {
    storage = new mod.RedisStorage({ url, prefix, onWarning });
  } catch (error) {
    throw new UsageError(`--redis-url: ${redact(firstLine(error), url)}`);
  }
  const label = `redis ${redact(url, url)}${prefix === undefined ? "" : ` prefix ${prefix}`}`;
  try {
    await storage.isPaused("default"); // one round trip: is the server there?
  } catch (error) {
    await storage.close().catch(() => {});
    throw new CliError(
      `cannot reach Redis at ${redact(url, url)}: ${
        redact(firstLine(error), url).replace(/^.*Cannot connect to \S+: /, "")
      }`,
    );
  }
  await (storage as { checkSetup?: () => Promise<unknown> }).checkSetup?.().catch(() => {});
  return { storage, label, url };
}

/** The Redis URL and prefix of a command that needs Redis, or a usage error. */
function redisTarget(flags: FlagValues, command: string): { url: string; prefix?: string } {
  const url = (flags["redis-url"] as string | undefined) ?? rt.env("TASKMILL_REDIS_URL");
  if (url === undefined) {
    throw new UsageError(
      `${command} needs a storage that outlives this process: give --redis-url URL or set ` +
        "TASKMILL_REDIS_URL (the in-memory store would be empty here)",
    );
  }
  return { url, prefix: (flags.prefix as string | undefined) ?? rt.env("TASKMILL_PREFIX") };
}

// ---- worker ------------------------------------------------------------------

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

function isTask(value: unknown): value is Task {
  return typeof value === "object" && value !== null &&
    typeof (value as Task).name === "string" &&
    typeof (value as Task).handler === "function" &&
    typeof (value as Task).queue === "string";
}

/** Finds the tasks a module exports: a default array (or task), or named tasks. */
function tasksOf(mod: Record<string, unknown>): Task[] {
  const found: Task[] = [];
  const add = (value: unknown) => {
    if (isTask(value) && !found.includes(value)) found.push(value);
  };
  const fallback = mod.default;
  if (Array.isArray(fallback)) fallback.forEach(add);
  else add(fallback);
  for (const [name, value] of Object.entries(mod)) {
    if (name === "default") continue;
    if (Array.isArray(value)) value.forEach(add);
    else add(value);
  }
  return found;
}

async function loadTasks(file: string): Promise<Task[]> {
  const path = rt.absolutePath(file);
  let mod: Record<string, unknown>;
  try {
    mod = await rt.importModule(path);
  } catch (error) {
    let reason = firstLine(error);
    const code = (error as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && reason.includes(path)) reason = "no such file";
    if (code === "ERR_UNKNOWN_FILE_EXTENSION" && /\.[cm]?tsx?$/.test(path)) {
      reason += rt.startedByBunx()
        ? " (bunx ran taskmill on Node, as its bin's #!/usr/bin/env node says: " +
          "run `bunx --bun taskmill ...` to run it on Bun, which imports TypeScript)"
        : " (this Node cannot import TypeScript: use Node 22.18+, Deno or Bun, " +
          "or pass the compiled .js module)";
    }
    throw new CliError(`cannot load tasks module ${path}: ${reason}`);
  }
  const tasks = tasksOf(mod);
  if (tasks.length === 0) {
    throw new CliError(
      `cannot load tasks module ${path}: it exports no tasks (export tasks made with ` +
        "defineTask(), as a default array or as named exports)",
    );
  }
  return tasks;
}

async function worker(flags: FlagValues): Promise<number> {
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

// ---- enqueue, stats, failed --------------------------------------------------

async function withStorage<T>(
  flags: FlagValues,
  command: string,
  run: (queue: Queue) => Promise<T>,
  beforeConnect?: () => Promise<void>,
): Promise<T> {
  const { url, prefix } = redisTarget(flags, command);
  await beforeConnect?.();
  const { storage } = await openRedis(url, prefix);
  try {
    return await run(new Queue({ storage }));
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new UsageError(firstLine(error));
    }
    throw error;
  } finally {
    await storage.close().catch(() => {});
  }
}

/** `--run-at`: epoch ms, or an ISO 8601 date or date-time. */
function parseTime(text: string): number {
  if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/i;
  const at = iso.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) {
    throw new UsageError(
      `--run-at must be an ISO 8601 time like 2026-12-02T10:00:00Z, or epoch ms, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return at;
}

/** At most `max` names, comma-separated, then how many more. */
function nameList(names: string[], max = 20): string {
  const shown = names.slice(0, max).join(", ");
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

async function enqueue(flags: FlagValues, positional: string[]): Promise<number> {
  if (positional.length !== 2) {
    throw new UsageError('enqueue needs TASK and JSON, e.g. enqueue send_email \'{"to":"a@b.c"}\'');
  }
  const [name, text] = positional;
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`enqueue: the payload is not valid JSON (${firstLine(error)})`);
  }
  if (flags.delay !== undefined && flags["run-at"] !== undefined) {
    throw new UsageError("enqueue: give --delay or --run-at, not both");
  }
  const runAt = flags["run-at"] === undefined ? undefined : parseTime(flags["run-at"] as string);
  const options = {
    queue: flags.queue as string | undefined,
    delay: nonNegative(flags, "delay"),
    runAt,
    id: flags.id as string | undefined,
    priority: flags.priority as number | undefined,
    maxAttempts: nonNegative(flags, "max-attempts", 1),
    timeout: nonNegative(flags, "timeout"),
  };
  const tasksFile = flags.tasks as string | undefined;
  let task: Task | string = name;
  const findTask = async () => {
    if (tasksFile === undefined) return;
    const tasks = await loadTasks(tasksFile);
    const found = tasks.find((t) => t.name === name);
    if (found === undefined) {
      const names = tasks.map((t) => t.name);
      const guess = closest(name, names);
      throw new UsageError(
        `enqueue: no task "${name}" in ${rt.absolutePath(tasksFile)}, which exports ${
          nameList(names)
        }${guess === undefined ? "" : ` (did you mean ${guess}?)`}`,
      );
    }
    task = found;
  };
  return await withStorage(flags, "enqueue", async (queue) => {
    const job = await queue.enqueue(task, payload, options);
    rt.out(flags.json ? toJsonLine(job) : escapeText(job.id));
    // A queue no worker has served yet is often a misspelt one, or a task
    // whose module puts it elsewhere. Without a registry of live workers the
    // cheapest sign of service is a job some worker took: one active,
    // completed or failed (within retention). A paused queue was set up on
    // purpose. The queue a --tasks module gives is the one its workers serve.
    if (typeof task !== "string" && job.queue === task.queue) return 0;
    const counts = await queue.counts(job.queue);
    if (
      counts.active + counts.completed + counts.failed === 0 && !(await queue.isPaused(job.queue))
    ) {
      rt.err(
        `taskmill: warning: no worker seems to have served queue "${job.queue}" yet (none of ` +
          "its jobs is active, completed or failed): check the queue name, or give --tasks FILE " +
          "to take the task's queue from its module",
      );
    }
    return 0;
  }, findTask);
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
      .trimEnd()
  );
}

/** What stats and failed list say of a queue with no job in any state. */
function emptyQueueNote(name: string, paused: boolean): string {
  return `queue "${name}": no jobs in any state${paused ? " (paused)" : ""}; check the name ` +
    "(taskmill cannot list queues yet)";
}

const isEmpty = (counts: Record<string, number | boolean>) =>
  JOB_STATES.every((s) => counts[s] === 0);

async function stats(flags: FlagValues): Promise<number> {
  const queues = [...new Set((flags.queue as string[] | undefined) ?? ["default"])];
  return await withStorage(flags, "stats", async (queue) => {
    const result: Record<string, Record<string, number | boolean>> = {};
    for (const name of queues) {
      result[name] = { ...(await queue.counts(name)), paused: await queue.isPaused(name) };
    }
    const empty = Object.keys(result).filter((name) => isEmpty(result[name]));
    if (flags.json) {
      // The counts stay as they are for scripts; the person reading is told on stderr.
      rt.out(toJsonLine(result));
      for (const name of empty) rt.err(`taskmill: ${emptyQueueNote(name, !!result[name].paused)}`);
      return 0;
    }
    const rows = [["queue", ...JOB_STATES, "paused"]];
    for (const [name, counts] of Object.entries(result)) {
      if (empty.includes(name)) continue;
      rows.push([
        name,
        ...JOB_STATES.map((s) => String(counts[s] ?? 0)),
        counts.paused ? "yes" : "no",
      ]);
    }
    if (rows.length > 1) table(rows).forEach((line) => rt.out(line));
    for (const name of empty) rt.out(emptyQueueNote(name, !!result[name].paused));
    return 0;
  });
}

async function failed(flags: FlagValues, positional: string[]): Promise<number> {
  const [action, id, ...rest] = positional;
  if (action !== "list" && action !== "retry" && action !== "remove") {
    throw new UsageError(
      action === undefined
        ? "failed needs list, retry or remove"
        : `failed: unknown action "${action}" (list, retry or remove)`,
    );
  }
  if (rest.length > 0) throw new UsageError(`failed ${action}: unexpected ${rest.join(" ")}`);
  const name = (flags.queue as string | undefined) ?? "default";
  if (action === "list") {
    if (id !== undefined) throw new UsageError("failed list takes no ID (use --queue)");
    const limit = nonNegative(flags, "limit", 1) ?? 50;
    return await withStorage(flags, "failed list", async (queue) => {
      const jobs = await queue.list(name, "failed", { limit });
      const counts = jobs.length === 0 ? await queue.counts(name) : undefined;
      const emptyNote = counts !== undefined && isEmpty(counts)
        ? emptyQueueNote(name, await queue.isPaused(name))
        : undefined;
      if (flags.json) {
        rt.out(toJsonLine(jobs));
        if (emptyNote !== undefined) rt.err(`taskmill: ${emptyNote}`);
        return 0;
      }
      if (emptyNote !== undefined) {
        rt.out(emptyNote);
        return 0;
      }
      if (jobs.length === 0) {
        rt.out(`queue "${name}": no failed jobs`);
        return 0;
      }
      const total = jobs.length < limit ? jobs.length : (await queue.counts(name)).failed;
      rt.out(
        `queue "${name}": ${total} failed job${total === 1 ? "" : "s"}` +
          (total > jobs.length ? `, the newest ${jobs.length} (--limit)` : ", newest first"),
      );
      const rows = [["id", "task", "attempts", "failed at", "error"]];
      for (const j of jobs) {
        const error = escapeText(j.error ? `${j.error.name}: ${j.error.message}` : "");
        rows.push([
          escapeText(j.id),
          escapeText(j.name),
          `${j.attempt}/${j.maxAttempts ?? "?"}`,
          j.finishedAt === undefined ? "" : new Date(j.finishedAt).toISOString(),
          error.length > 80 ? `${error.slice(0, 77)}...` : error,
        ]);
      }
      table(rows.map((r) => r.map((c, i) => (i === 0 ? c : ` ${c}`)))).forEach((l) => rt.out(l));
      return 0;
    });
  }
  if ((id === undefined) === (flags.all !== true)) {
    throw new UsageError(`failed ${action} needs a job ID or --all (not both)`);
  }
  return await withStorage(flags, `failed ${action}`, async (queue) => {
    const act = async (jobId: string): Promise<boolean> => {
      if (action === "retry") return await queue.retryFailed(jobId);
      return await queue.removeFailed(jobId);
    };
    const verb = action === "retry" ? "retried" : "removed";
    if (id !== undefined) {
      if (!(await act(id))) throw new CliError(`job ${id} is not in the failed set`);
      rt.out(`${verb} ${id}`);
      return 0;
    }
    let done = 0;
    for (;;) {
      const batch = await queue.list(name, "failed", { limit: 500 });
      let moved = 0;
      for (const job of batch) if (await act(job.id)) moved++;
      done += moved;
      if (batch.length < 500 || moved === 0) break;
    }
    rt.out(`${verb} ${done} failed job${done === 1 ? "" : "s"} of queue ${name}`);
    return 0;
  });
}

/**
 * Runs the `taskmill` command line with `argv` (the arguments after the
 * program name) and resolves to the exit code: 0 done, 1 failed, 2 bad
 * arguments. Messages go to standard output and error; a `worker` resolves
 * once it has stopped (SIGTERM, SIGINT or `--max-tasks`).
 *
 * @example
 * ```ts
 * import { main } from "@taskmill/taskmill/cli";
 *
 * console.log(await main(["stats"])); // 2: stats needs --redis-url
 * ```
 *
 * @param argv The command line arguments, without the runtime and script.
 * @returns The process exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const known = command !== undefined && Object.hasOwn(COMMAND_FLAGS, command);
  try {
    if (command === undefined) throw new UsageError("no command given");
    if (command === "--help" || command === "-h") {
      rt.out(USAGE);
      return 0;
    }
    if (command === "help") {
      const [topic, ...extra] = rest;
      if (topic === undefined) rt.out(USAGE);
      else if (Object.hasOwn(COMMAND_HELP, topic) && extra.length === 0) {
        rt.out(commandUsage(topic));
      } else throw new UsageError(`help: no command "${rest.join(" ")}"`);
      return 0;
    }
    if (!known) {
      const guess = closest(command, Object.keys(COMMAND_FLAGS));
      throw new UsageError(
        command.startsWith("-")
          ? `${command} is not a command; options come after the command`
          : `unknown command "${command}"${guess === undefined ? "" : ` (did you mean ${guess}?)`}`,
      );
    }
    const spec = COMMAND_FLAGS[command];
    const end = rest.indexOf("--");
    const options = end === -1 ? rest : rest.slice(0, end);
    if (options.includes("--help") || options.includes("-h")) {
      rt.out(commandUsage(command));
      return 0;
    }
    const { flags, positional } = parseFlags(rest, spec, command);
    switch (command) {
      case "worker":
        if (positional.length > 0) throw new UsageError(`worker: unexpected ${positional[0]}`);
        return await worker(flags);
      case "enqueue":
        return await enqueue(flags, positional);
      case "stats":
        if (positional.length > 0) throw new UsageError(`stats: unexpected ${positional[0]}`);
        return await stats(flags);
      default:
        return await failed(flags, positional);
    }
  } catch (error) {
    const flag = argv.find((a) => a.startsWith("--redis-url="))?.slice(12) ??
      argv[argv.indexOf("--redis-url") + 1];
    const url = argv.includes("--redis-url") || flag ? flag : rt.env("TASKMILL_REDIS_URL");
    if (error instanceof UsageError) {
      // One line, and where to read more: the full usage would bury the message.
      const help = known ? `taskmill ${command} --help` : "taskmill --help";
      rt.err(`taskmill: ${escapeText(redact(error.message, url))}; see ${help}`);
      return 2;
    }
    if (error instanceof CliError) {
      rt.err(`taskmill: ${escapeText(redact(error.message, url))}`);
      return 1;
    }
    rt.err(`taskmill: ${escapeText(redact(firstLine(error), url))}`);
    return 1;
  }
}

if (rt.isMain(import.meta)) {
  main(rt.args()).then((code) => rt.exit(code), (error) => {
    rt.err(`taskmill: ${escapeText(firstLine(error))}`);
    rt.exit(1);
  });
}
