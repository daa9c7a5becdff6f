/**
 * `taskmill stats`: jobs per state of every queue in the store, or of the
 * queues `--queue` names, as a table or (`--json`) one JSON object keyed by
 * queue name: `{ "default": { "waiting": 1, ..., "paused": false } }`.
 *
 * @example
 * ```ts
 * import { stats } from "./stats.ts";
 *
 * await stats({ "redis-url": "redis://127.0.0.1:6379", json: true });
 * ```
 *
 * @module
 */

import * as rt from "../_runtime.ts";
import type { Queue } from "../../core/queue.ts";
import { JOB_STATES } from "../../core/task.ts";
import type { FlagValues } from "../flags.ts";
import { escapeText, toJsonLine } from "../output.ts";
import { withStorage } from "../storage.ts";
import { table } from "../table.ts";
import { emptyQueueNote, hasNoJobs } from "../empty_queue.ts";

type QueueStats = Record<string, number | boolean>;

/** What the store says of every queue it knows, by name. */
async function everyQueue(queue: Queue): Promise<Record<string, QueueStats>> {
  const result: Record<string, QueueStats> = {};
  for (const summary of await queue.storage.queues()) {
    result[summary.name] = { ...summary.counts, paused: summary.paused };
  }
  return result;
}

/** The counts of the queues asked for by name. */
async function namedQueues(queue: Queue, names: string[]): Promise<Record<string, QueueStats>> {
  const result: Record<string, QueueStats> = {};
  for (const name of names) {
    result[name] = { ...(await queue.counts(name)), paused: await queue.isPaused(name) };
  }
  return result;
}

/**
 * Prints the counts and resolves to 0. Queues asked for by name that have no
 * jobs get a note (on stderr with `--json`): the name may be misspelt.
 *
 * @example
 * ```ts
 * await stats({ "redis-url": "redis://127.0.0.1:6379", queue: ["default", "emails"] });
 * ```
 */
export async function stats(flags: FlagValues): Promise<number> {
  const named = flags.queue === undefined ? undefined : [...new Set(flags.queue as string[])];
  return await withStorage(flags, "stats", async (queue) => {
    const result = named === undefined ? await everyQueue(queue) : await namedQueues(queue, named);
    // Only a queue asked for by name can be a typo; one the store lists exists.
    const empty = named === undefined ? [] : named.filter((name) => hasNoJobs(result[name]));
    if (flags.json) {
      // The counts stay as they are for scripts; the person reading is told on stderr.
      rt.out(toJsonLine(result));
      for (const name of empty) rt.err(`taskmill: ${emptyQueueNote(name, !!result[name].paused)}`);
      return 0;
    }
    if (named === undefined && Object.keys(result).length === 0) {
      rt.out("no queues in this store (none was ever enqueued to, paused or resumed)");
      return 0;
    }
    const rows = [["queue", ...JOB_STATES, "paused"]];
    const shown = Object.entries(result).filter(([name]) => !empty.includes(name));
    for (const [name, counts] of shown) {
      rows.push([
        escapeText(name),
        ...JOB_STATES.map((s) => String(counts[s] ?? 0)),
        counts.paused ? "yes" : "no",
      ]);
    }
    if (shown.length > 1) {
      const paused = shown.filter(([, counts]) => counts.paused).length;
      rows.push([
        "(total)",
        ...JOB_STATES.map((s) => String(shown.reduce((sum, [, c]) => sum + Number(c[s] ?? 0), 0))),
        String(paused),
      ]);
    }
    if (rows.length > 1) table(rows).forEach((line) => rt.out(line));
    for (const name of empty) rt.out(emptyQueueNote(name, !!result[name].paused));
    return 0;
  });
}
