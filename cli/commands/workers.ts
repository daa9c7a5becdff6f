/**
 * `taskmill workers`: the live workers of the store (those whose last
 * registration has not expired), as a table or (`--json`) a JSON array.
 *
 * @example
 * ```ts
 * import { workers } from "./workers.ts";
 *
 * await workers({ "redis-url": "redis://127.0.0.1:6379" });
 * ```
 *
 * @module
 */

import * as rt from "../_runtime.ts";
import type { WorkerInfo } from "../../core/storage_events.ts";
import type { FlagValues } from "../flags.ts";
import { escapeText, toJsonLine } from "../output.ts";
import { withStorage } from "../storage.ts";
import { table } from "../table.ts";

/** How long ago `at` was, in whole seconds ("0s ago" for a clock ahead of ours). */
function ago(at: number, now: number): string {
  return `${Math.max(0, Math.round((now - at) / 1000))}s ago`;
}

/** The columns of words (left-aligned); the numbers are right-aligned. */
const TEXT_COLUMNS: ReadonlySet<number> = new Set([0, 1, 3, 4, 9, 10]);

function row(w: WorkerInfo, now: number): string[] {
  return [
    w.id,
    w.host,
    String(w.pid),
    `${w.runtime} ${w.runtimeVersion}`,
    w.queues.join(","),
    String(w.concurrency),
    String(w.running),
    String(w.processed),
    String(w.failed),
    new Date(w.startedAt).toISOString(),
    ago(w.lastSeen, now),
  ].map((cell) => escapeText(cell));
}

/**
 * Prints the live workers and resolves to 0.
 *
 * @example
 * ```ts
 * await workers({ "redis-url": "redis://127.0.0.1:6379", json: true });
 * ```
 */
export async function workers(flags: FlagValues): Promise<number> {
  return await withStorage(flags, "workers", async (queue) => {
    const now = Date.now();
    const live = await queue.storage.workers(now);
    if (flags.json) {
      rt.out(toJsonLine(live));
      return 0;
    }
    if (live.length === 0) {
      rt.out("no live workers");
      return 0;
    }
    const header = [
      "id",
      "host",
      "pid",
      "runtime",
      "queues",
      "concurrency",
      "running",
      "processed",
      "failed",
      "started",
      "last seen",
    ];
    const rows = [header, ...live.map((w) => row(w, now))];
    table(rows, TEXT_COLUMNS).forEach((line) => rt.out(line));
    return 0;
  });
}
