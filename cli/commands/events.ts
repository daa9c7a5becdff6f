/**
 * `taskmill events`: tails the store's events live, one line each (or one
 * JSON object per line with `--json`), until SIGINT or SIGTERM, then exits 0.
 *
 * @example
 * ```ts
 * import { events } from "./events.ts";
 *
 * // Every queue's events, and the workers', from the oldest still kept:
 * await events({ "redis-url": "redis://127.0.0.1:6379", workers: true, from: "0" });
 * ```
 *
 * @module
 */

import * as rt from "../_runtime.ts";
import type { Queue } from "../../core/queue.ts";
import { WORKER_STREAM } from "../../core/storage_events.ts";
import { validateName } from "../../core/_validate.ts";
import { UsageError } from "../errors.ts";
import type { FlagValues } from "../flags.ts";
import { firstLine, toJsonLine } from "../output.ts";
import { withStorage } from "../storage.ts";
import { eventLine } from "../event_line.ts";

/** `--from`: an event id ("0": every event still kept). */
function parseFrom(flags: FlagValues): string | undefined {
  const from = flags.from as string | undefined;
  if (from !== undefined && !/^\d+$/.test(from)) {
    throw new UsageError(
      `--from must be an event id (a whole number, 0 for every event kept), got ${
        JSON.stringify(from)
      }`,
    );
  }
  return from;
}

/**
 * The streams' starting cursors: `from` for each stream there is now, else
 * none (the end). Without `--queue`, a queue that appears later is read from
 * its oldest event anyway (Queue.events treats it as new); one created in the
 * moment between this list and the iterator's first starts at its end.
 */
async function startCursors(
  queue: Queue,
  queues: string[] | undefined,
  workers: boolean,
  from: string | undefined,
): Promise<Record<string, string> | undefined> {
  if (from === undefined) return undefined;
  const names = queues ?? (await queue.storage.queues()).map((q) => q.name);
  const after: Record<string, string> = {};
  for (const name of names) after[name] = from;
  if (workers) after[WORKER_STREAM] = from;
  return after;
}

/**
 * Prints events as they happen until a stop signal; resolves to 0.
 *
 * @example
 * ```ts
 * await events({ "redis-url": "redis://127.0.0.1:6379", queue: ["emails"], json: true });
 * ```
 */
export async function events(flags: FlagValues): Promise<number> {
  const from = parseFrom(flags);
  const queues = flags.queue === undefined ? undefined : [...new Set(flags.queue as string[])];
  const workers = flags.workers === true;
  for (const name of queues ?? []) {
    try {
      validateName(name, "--queue", "queue");
    } catch (error) {
      throw new UsageError(firstLine(error));
    }
  }
  return await withStorage(flags, "events", async (queue) => {
    const stop = new AbortController();
    const removeSignals = rt.onStopSignal((signal) => {
      // A read stuck on a dead connection does not end on the first signal: the second one
      // exits at once, as a worker's does.
      if (stop.signal.aborted) {
        rt.err(`taskmill: ${signal} again: exiting now`);
        rt.exit(1);
      }
      stop.abort();
    });
    try {
      const after = await startCursors(queue, queues, workers, from);
      for await (const event of queue.events({ queues, workers, after, signal: stop.signal })) {
        rt.out(flags.json ? toJsonLine(event) : eventLine(event));
        if (stop.signal.aborted) break;
      }
      return 0;
    } finally {
      removeSignals();
    }
  });
}
