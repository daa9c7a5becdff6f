/**
 * `taskmill schedules [list|remove ID]`: the store's schedules with their
 * next run (a table, or `--json`), or one removed.
 *
 * @example
 * ```ts
 * import { schedules } from "./schedules.ts";
 *
 * await schedules({ "redis-url": "redis://127.0.0.1:6379" }, ["list"]);
 * ```
 *
 * @module
 */

import * as rt from "../_runtime.ts";
import { CliError, UsageError } from "../errors.ts";
import type { ScheduleRecord } from "../../core/storage_schedules.ts";
import type { FlagValues } from "../flags.ts";
import { escapeText, toJsonLine } from "../output.ts";
import { withStorage } from "../storage.ts";
import { table } from "../table.ts";

/** The columns of words (left-aligned); the rest are times. */
const TEXT_COLUMNS: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 7]);

function iso(at: number | null): string {
  return at === null ? "-" : new Date(at).toISOString();
}

function row(s: ScheduleRecord): string[] {
  const timing = s.cron !== null ? `cron ${s.cron} (${s.tz})` : `every ${s.every} ms`;
  return [
    s.id,
    s.job.name,
    s.job.queue,
    timing,
    s.missed,
    iso(s.nextRunAt),
    iso(s.lastTickAt),
    s.lastJobId ?? "-",
  ].map((cell) => escapeText(cell));
}

/**
 * Lists the schedules, or removes one, and resolves to the exit code.
 *
 * @example
 * ```ts
 * await schedules({ "redis-url": "redis://127.0.0.1:6379" }, ["remove", "nightly"]);
 * ```
 */
export async function schedules(flags: FlagValues, positional: string[]): Promise<number> {
  const [action = "list", id, ...rest] = positional;
  if (action !== "list" && action !== "remove") {
    throw new UsageError(`schedules: unknown action "${action}" (list or remove)`);
  }
  if (rest.length > 0) throw new UsageError(`schedules ${action}: unexpected ${rest[0]}`);
  if (action === "list" && id !== undefined) {
    throw new UsageError(`schedules list: unexpected ${id}`);
  }
  if (action === "remove" && id === undefined) {
    throw new UsageError("schedules remove needs a schedule ID");
  }
  return await withStorage(flags, `schedules ${action}`, async (queue) => {
    if (action === "remove") {
      if (!(await queue.unschedule(id!))) throw new CliError(`no schedule ${id}`);
      rt.out(`removed schedule ${id}`);
      return 0;
    }
    const all = await queue.schedules();
    if (flags.json) {
      rt.out(toJsonLine(all));
      return 0;
    }
    if (all.length === 0) {
      rt.out("no schedules");
      return 0;
    }
    const header = ["id", "task", "queue", "timing", "missed", "next run", "last tick", "last job"];
    table([header, ...all.map(row)], TEXT_COLUMNS).forEach((line) => rt.out(line));
    return 0;
  });
}
