/**
 * One event as one line for a person: time, stream, type, job id and the
 * fields that matter for that type, long values cut short. Events come from
 * the store, so the whole line is escaped: no job id, task name, error or
 * result can reach the terminal as control characters.
 *
 * @example
 * ```ts
 * import { eventLine } from "./event_line.ts";
 *
 * eventLine({ id: "3", at: 0, queue: "default", jobId: "j1", type: "completed", result: "ok" });
 * // '1970-01-01T00:00:00.000Z default completed job=j1 result="ok"'
 * ```
 *
 * @module
 */

import type { StorageEvent, WorkerInfo } from "../core/storage_events.ts";
import type { JobError } from "../core/task.ts";
import { escapeText } from "./output.ts";

/** Longest a value (a result, progress, an error message) is shown before it is cut. */
const MAX_VALUE = 80;

function cut(text: string, max = MAX_VALUE): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** A JSON value, one line, cut short. */
function summary(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return cut(text);
}

const time = (at: number) => {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? String(at) : date.toISOString();
};

const errorText = (error: JobError | undefined) =>
  cut(error === undefined ? "" : `${error.name}: ${error.message}`);

const workerText = (w: WorkerInfo) =>
  `worker=${w.id} host=${w.host} pid=${w.pid} queues=${w.queues.join(",")} ` +
  `running=${w.running}/${w.concurrency} processed=${w.processed} failed=${w.failed}`;

/** The type-specific fields of an event. */
function details(event: StorageEvent): string[] {
  switch (event.type) {
    case "enqueued":
      return [
        `task=${event.name}`,
        ...(event.runAt > event.at ? [`runAt=${time(event.runAt)}`] : []),
      ];
    case "active":
      return [`attempt=${event.attempt}`, `worker=${event.workerId}`];
    case "progress":
      return [`progress=${summary(event.progress)}`];
    case "completed":
      return event.result === undefined ? [] : [`result=${summary(event.result)}`];
    case "retrying":
      return [`runAt=${time(event.runAt)}`, `error=${errorText(event.error)}`];
    case "failed":
      return [`error=${errorText(event.error)}`];
    case "stalled":
      return [event.failed ? "then=failed" : "then=waiting"];
    case "waiting":
      return [`reason=${event.reason}`];
    case "debounced":
      return [`runAt=${time(event.runAt)}`];
    case "online":
    case "heartbeat":
    case "offline":
      return [
        workerText(event.worker),
        ...(event.reason === undefined ? [] : [`reason=${event.reason}`]),
      ];
    default:
      return [];
  }
}

/**
 * The line `taskmill events` prints for `event`, escaped for a terminal.
 *
 * @example
 * ```ts
 * eventLine({ id: "1", at: 0, queue: "q", type: "paused" }); // "1970-01-01T00:00:00.000Z q paused"
 * ```
 */
export function eventLine(event: StorageEvent): string {
  const stream = "queue" in event ? event.queue : "@workers";
  const job = "jobId" in event ? [`job=${event.jobId}`] : [];
  return escapeText([time(event.at), stream, event.type, ...job, ...details(event)].join(" "));
}
