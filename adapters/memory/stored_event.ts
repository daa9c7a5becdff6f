import type { JobError, JsonValue } from "../../core/task.ts";
import type { StorageEvent, WorkerInfo } from "../../core/storage_events.ts";
import { copyJson } from "./json_copy.ts";
import { copyError } from "../../core/errors.ts";

/**
 * Event kinds as stored (numbers: one small monomorphic record per event
 * is what keeps MemoryStorage's write path fast; see {@linkcode StoredEvent}).
 */
export const Kind = {
  enqueued: 0,
  active: 1,
  progress: 2,
  completed: 3,
  retrying: 4,
  failed: 5,
  stalled: 6,
  waiting: 7,
  removed: 8,
  paused: 9,
  resumed: 10,
  online: 11,
  heartbeat: 12,
  offline: 13,
  debounced: 14,
} as const;

/** One of {@linkcode Kind}'s values. */
export type KindCode = typeof Kind[keyof typeof Kind];

/**
 * An event as MemoryStorage keeps it: its kind, time, job, and one number
 * and one value whose meaning the kind gives (see `toStorageEvent`). The
 * queue and the id are the stream's (its name, the event's place), so they
 * are not stored; the public event is built, with copies, only when read.
 *
 * | kind      | `n`                      | `data`              |
 * | --------- | ------------------------ | ------------------- |
 * | enqueued  | runAt                    | the task name       |
 * | active    | attempt                  | the worker id       |
 * | progress  |                          | the progress (JSON) |
 * | completed |                          | the result (JSON)   |
 * | retrying  | runAt                    | the error           |
 * | failed    |                          | the error           |
 * | stalled   | 1: it failed the job     |                     |
 * | waiting   | 0: released, 1: retried, 2: promoted |         |
 * | debounced | runAt                    |                     |
 * | online, heartbeat, offline | offline: 0 stopped, 1 expired | the WorkerInfo |
 *
 * @example
 * ```ts
 * import { Kind, StoredEvent, toStorageEvent } from "./stored_event.ts";
 *
 * const stored = new StoredEvent(Kind.active, 5, "job-1", 2, "worker-1");
 * console.log(toStorageEvent(stored, "default", "7"));
 * // { id: "7", at: 5, queue: "default", jobId: "job-1", type: "active", attempt: 2, workerId: "worker-1" }
 * ```
 */
export class StoredEvent {
  readonly kind: KindCode;
  readonly at: number;
  readonly jobId: string;
  readonly n: number;
  readonly data: unknown;

  constructor(kind: KindCode, at: number, jobId: string, n: number, data: unknown) {
    this.kind = kind;
    this.at = at;
    this.jobId = jobId;
    this.n = n;
    this.data = data;
  }
}

/** A `waiting` event's reason by its stored number. */
const WAITING_REASONS = ["released", "retried", "promoted"] as const;

/** The public event of `stored`, read from the stream `stream`, with copies of what it carries. */
export function toStorageEvent(stored: StoredEvent, stream: string, id: string): StorageEvent {
  return buildEvent(stored.kind, stored.at, stored.jobId, stored.n, stored.data, stream, id);
}

/**
 * The public event of a stored one given field by field (as `EventStream`
 * keeps them, in parallel arrays), with copies of what it carries.
 *
 * @example
 * ```ts
 * import { buildEvent, Kind } from "./stored_event.ts";
 *
 * console.log(buildEvent(Kind.paused, 5, "", 0, undefined, "default", "1"));
 * // { id: "1", at: 5, queue: "default", type: "paused" }
 * ```
 */
export function buildEvent(
  kind: KindCode,
  at: number,
  jobId: string,
  n: number,
  data: unknown,
  stream: string,
  id: string,
): StorageEvent {
  const queue = stream;
  switch (kind) {
    case Kind.enqueued:
      return { id, at, queue, jobId, type: "enqueued", name: data as string, runAt: n };
    case Kind.active:
      return { id, at, queue, jobId, type: "active", attempt: n, workerId: data as string };
    case Kind.progress:
      return { id, at, queue, jobId, type: "progress", progress: copyJson(data) as JsonValue };
    case Kind.completed:
      return data === undefined
        ? { id, at, queue, jobId, type: "completed" }
        : { id, at, queue, jobId, type: "completed", result: copyJson(data) as JsonValue };
    case Kind.retrying:
      return {
        id,
        at,
        queue,
        jobId,
        type: "retrying",
        error: copyError(data as JobError),
        runAt: n,
      };
    case Kind.failed:
      return { id, at, queue, jobId, type: "failed", error: copyError(data as JobError) };
    case Kind.stalled:
      return { id, at, queue, jobId, type: "stalled", failed: n === 1 };
    case Kind.waiting:
      return { id, at, queue, jobId, type: "waiting", reason: WAITING_REASONS[n] };
    case Kind.removed:
      return { id, at, queue, jobId, type: "removed" };
    case Kind.debounced:
      return { id, at, queue, jobId, type: "debounced", runAt: n };
    case Kind.paused:
      return { id, at, queue, type: "paused" };
    case Kind.resumed:
      return { id, at, queue, type: "resumed" };
    default: {
      const info = data as WorkerInfo;
      const worker = { ...info, queues: info.queues.slice() };
      if (kind === Kind.offline) {
        return { id, at, type: "offline", worker, reason: n === 1 ? "expired" : "stopped" };
      }
      return { id, at, type: kind === Kind.online ? "online" : "heartbeat", worker };
    }
  }
}
