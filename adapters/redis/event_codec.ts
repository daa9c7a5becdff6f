/**
 * Stream entries to events: each entry of a stream holds the events of one
 * script call as a JSON array of short arrays (written by `lua/events.ts`),
 * its id is the number of its last event, and its field `t` their time.
 *
 * @module
 */

import {
  type QueueEvent,
  type StorageEvent,
  WORKER_STREAM,
  type WorkerEvent,
  type WorkerInfo,
} from "../../core/storage_events.ts";
import type { JobError, JsonValue } from "../../core/task.ts";

/** One entry as ioredis returns it: id and flat field/value pairs. */
export type StreamEntry = [id: string, fields: string[]];

type Row = [string, ...unknown[]];

/** A "w" (waiting) row's reason by its number, as `lua/` scripts write it. */
const WAITING_REASONS = ["released", "retried", "promoted"] as const;

/** Rows that stand for many events, and where their job ids are. */
const GROUPS: Record<string, number> = { E: 3, A: 1, C: 1 };

/**
 * Appends the events of `entry` (of `stream`: a queue, or `WORKER_STREAM`)
 * numbered above `after`, at most until `out` holds `limit` of this stream's
 * events (`taken` of them are there already). Returns how many it appended
 * and the number of the last one (or `after`).
 *
 * @example
 * ```ts ignore
 * const { added, last } = decodeEntry("default", ["3-0", ["t", "5", "e", '[["x","a"]]']], 2, out, 0, 100);
 * ```
 */
export function decodeEntry(
  stream: string,
  entry: StreamEntry,
  after: number,
  out: StorageEvent[],
  taken: number,
  limit: number,
): { added: number; last: number } {
  const [entryId, fields] = entry;
  const lastNo = parseInt(entryId, 10);
  let at = 0;
  let rows: Row[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === "t") at = Number(fields[i + 1]);
    else if (fields[i] === "e") rows = JSON.parse(fields[i + 1]) as Row[];
  }
  let added = 0;
  let last = after;
  let count = 0;
  for (const row of rows) count += GROUPS[row[0]] ? (row[GROUPS[row[0]]] as string[]).length : 1;
  let no = lastNo - count;
  for (let i = 0; i < rows.length && taken + added < limit; i++) {
    const row = rows[i];
    if (row[0] === "E") {
      // Every job stored by one run of an enqueue: ["E", runAt, name, [ids]].
      const [, runAt, name, ids] = row as [string, number, string, string[]];
      for (let j = 0; j < ids.length && taken + added < limit; j++) {
        if (++no <= after) continue;
        out.push({
          type: "enqueued",
          id: String(no),
          at,
          queue: stream,
          jobId: ids[j],
          runAt,
          name,
        });
        added++;
        last = no;
      }
      continue;
    }
    if (row[0] === "A" || row[0] === "C") {
      // Jobs reserved by one call (["A", [ids], [attempts], owner]) or
      // completed without a result (["C", [ids]]), in order.
      const ids = row[1] as string[];
      for (let j = 0; j < ids.length && taken + added < limit; j++) {
        if (++no <= after) continue;
        const id = String(no);
        out.push(
          row[0] === "A"
            ? {
              type: "active",
              id,
              at,
              queue: stream,
              jobId: ids[j],
              attempt: (row[2] as number[])[j],
              workerId: row[3] as string,
            }
            : { type: "completed", id, at, queue: stream, jobId: ids[j] },
        );
        added++;
        last = no;
      }
      continue;
    }
    if (++no <= after) continue;
    out.push(stream === WORKER_STREAM ? workerEvent(row, no, at) : queueEvent(stream, row, no, at));
    added++;
    last = no;
  }
  return { added, last };
}

function queueEvent(queue: string, row: Row, no: number, at: number): QueueEvent {
  const id = String(no);
  const jobId = row[1] as string;
  switch (row[0]) {
    case "p":
      return { type: "progress", id, at, queue, jobId, progress: row[2] as JsonValue };
    case "c":
      return row.length > 2
        ? { type: "completed", id, at, queue, jobId, result: row[2] as JsonValue }
        : { type: "completed", id, at, queue, jobId };
    case "r":
      return {
        type: "retrying",
        id,
        at,
        queue,
        jobId,
        error: row[2] as JobError,
        runAt: row[3] as number,
      };
    case "f":
      return { type: "failed", id, at, queue, jobId, error: row[2] as JobError };
    case "s":
      return { type: "stalled", id, at, queue, jobId, failed: row[2] === 1 };
    case "w":
      return {
        type: "waiting",
        id,
        at,
        queue,
        jobId,
        reason: WAITING_REASONS[row[2] as number] ?? "released",
      };
    case "x":
      return { type: "removed", id, at, queue, jobId };
    case "b":
      // A debounce: ["b", id, runAt].
      return { type: "debounced", id, at, queue, jobId, runAt: row[2] as number };
    case "P":
      return { type: "paused", id, at, queue };
    case "R":
      return { type: "resumed", id, at, queue };
  }
  throw new Error(`unknown event code ${JSON.stringify(row[0])} in the stream of queue ${queue}`);
}

function workerEvent(row: Row, no: number, at: number): WorkerEvent {
  const id = String(no);
  const worker = row[1] as WorkerInfo;
  switch (row[0]) {
    case "o":
      return { type: "online", id, at, worker };
    case "h":
      return { type: "heartbeat", id, at, worker };
    case "d":
      return { type: "offline", id, at, worker, reason: row[2] === 1 ? "expired" : "stopped" };
  }
  throw new Error(`unknown event code ${JSON.stringify(row[0])} in the workers' stream`);
}
