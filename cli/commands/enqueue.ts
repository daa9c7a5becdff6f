/**
 * `taskmill enqueue TASK JSON`: stores one job and prints its id (or, with
 * `--json`, the stored job).
 *
 * @example
 * ```ts
 * import { enqueue } from "./enqueue.ts";
 *
 * await enqueue({ "redis-url": "redis://127.0.0.1:6379" }, ["send_email", '{"to":"a@b.c"}']);
 * ```
 *
 * @module
 */

import * as rt from "../_runtime.ts";
import type { Task } from "../../core/task.ts";
import { UsageError } from "../errors.ts";
import { closest, type FlagValues, nonNegative } from "../flags.ts";
import { escapeText, firstLine, toJsonLine } from "../output.ts";
import { withStorage } from "../storage.ts";
import { loadTasks } from "../tasks_module.ts";

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

/**
 * Enqueues one job of `positional[0]` with the JSON payload `positional[1]`.
 *
 * @example
 * ```ts
 * await enqueue({ "redis-url": "redis://127.0.0.1:6379", delay: 5000 }, ["sleepy", "{}"]);
 * ```
 */
export async function enqueue(flags: FlagValues, positional: string[]): Promise<number> {
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
    group: flags.group as string | undefined,
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
