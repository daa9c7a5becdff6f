/**
 * `taskmill failed list|retry|remove`: the dead-letter set of a queue.
 *
 * @example
 * ```ts
 * import { failed } from "./failed.ts";
 *
 * await failed({ "redis-url": "redis://127.0.0.1:6379" }, ["list"]);
 * ```
 *
 * @module
 */

import * as rt from "../_runtime.ts";
import { CliError, UsageError } from "../errors.ts";
import { type FlagValues, nonNegative } from "../flags.ts";
import { escapeText, toJsonLine } from "../output.ts";
import { withStorage } from "../storage.ts";
import { table } from "../table.ts";
import { emptyQueueNote, hasNoJobs } from "../empty_queue.ts";

/**
 * Lists, retries or removes failed jobs (`positional`: the action and an ID).
 *
 * @example
 * ```ts
 * await failed({ "redis-url": "redis://127.0.0.1:6379", all: true }, ["retry"]);
 * ```
 */
export async function failed(flags: FlagValues, positional: string[]): Promise<number> {
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
      const emptyNote = counts !== undefined && hasNoJobs(counts)
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
