/**
 * What a storage records for every process to see: job and queue events,
 * worker events, the registry of live workers, and the queues of a store.
 * The types of the observability half of the Storage port
 * (`readEvents`, `registerWorker`, `unregisterWorker`, `workers`, `queues`).
 *
 * Delivery is at least once and in order per stream: each queue has one
 * stream, and the workers share one. An event's id is the decimal number
 * of its place in its stream, counted from 1 without gaps, so a reader that
 * sees a jump knows how many events it missed (they fell out of the
 * bounded backlog). A reader passes the last id it saw to read on.
 *
 * @module
 */

import type { Counts } from "./storage.ts";
import type { JobError, JsonValue } from "./task.ts";

/** The stream key of worker events in {@linkcode EventRead.after} and {@linkcode EventPage.cursors}. */
export const WORKER_STREAM = "@workers";

/** Events kept per stream when the storage is not told otherwise. */
export const DEFAULT_EVENT_BACKLOG = 10_000;

/** What every event carries. */
export interface EventBase {
  /** Its place in its stream: "1", "2", ... (see the module doc). */
  id: string;
  /** When it happened: the `now` of the storage call that made it. */
  at: number;
}

/** What every event of a queue's stream carries. */
export interface QueueEventBase extends EventBase {
  /** The queue it happened on. */
  queue: string;
}

/** What every event about one job carries. */
export interface JobEventBase extends QueueEventBase {
  /** The job's id. */
  jobId: string;
}

/**
 * An event of a queue's stream: a job's lifecycle, or the queue paused or
 * resumed. Written by the storage in the same atomic step as the change it
 * describes. Jobs deleted by retention make no `removed` event.
 */
export type QueueEvent =
  /** The job was stored: waiting, or delayed when `runAt > at`. */
  | JobEventBase & { type: "enqueued"; name: string; runAt: number }
  /** A worker reserved the job and its attempt `attempt` starts. */
  | JobEventBase & { type: "active"; attempt: number; workerId: string }
  /** The handler reported progress. */
  | JobEventBase & { type: "progress"; progress: JsonValue }
  /** The job completed; `result` as stored (JSON; undefined when none). */
  | JobEventBase & { type: "completed"; result?: JsonValue }
  /** An attempt failed and the job runs again at `runAt`. */
  | JobEventBase & { type: "retrying"; error: JobError; runAt: number }
  /** The job failed for good (the dead-letter set). */
  | JobEventBase & { type: "failed"; error: JobError }
  /**
   * The job's lease expired and it was reclaimed: back to waiting, or, when
   * `failed`, to the dead-letter set (a `failed` event follows).
   */
  | JobEventBase & { type: "stalled"; failed: boolean }
  /**
   * The job is waiting without a failed attempt: given back unrun
   * ("released"), retried from failed ("retried"), or a delayed job made
   * due now by `promote` ("promoted").
   */
  | JobEventBase & { type: "waiting"; reason: "released" | "retried" | "promoted" }
  /**
   * A `"debounce"` enqueue hit the job while it was waiting or delayed: it
   * took the enqueue's payload and runs at `runAt` (delayed again).
   */
  | JobEventBase & { type: "debounced"; runAt: number }
  /** The job was deleted by `remove` or `removeFailed`. */
  | JobEventBase & { type: "removed" }
  /** The queue was paused. */
  | QueueEventBase & { type: "paused" }
  /** The queue was resumed. */
  | QueueEventBase & { type: "resumed" };

/** What a live worker tells the registry about itself. */
export interface WorkerInfo {
  /** The worker's id (its leases' owner). */
  id: string;
  /** The machine's host name ("" when the runtime does not tell). */
  host: string;
  /** The process id (0 when the runtime does not tell). */
  pid: number;
  /** "deno", "bun", "node" or "unknown". */
  runtime: string;
  /** The runtime's version. */
  runtimeVersion: string;
  /** The queues it takes jobs from, most important first. */
  queues: string[];
  /** Most jobs it runs at once. */
  concurrency: number;
  /** Jobs running now. */
  running: number;
  /** Attempts finished (completed, failed and retried). */
  processed: number;
  /** Jobs failed for good. */
  failed: number;
  /** When it started (epoch ms, its clock). */
  startedAt: number;
  /** Its last registration (epoch ms, its clock). */
  lastSeen: number;
}

/** An event of the workers' stream. */
export type WorkerEvent = EventBase & {
  /** `online` at start, `heartbeat` while running, `offline` when it stopped or expired. */
  type: "online" | "heartbeat" | "offline";
  /** What the worker last told the registry. */
  worker: WorkerInfo;
  /** `offline` only: "stopped" (it said so) or "expired" (it went silent). */
  reason?: "stopped" | "expired";
};

/** Any event a storage records. */
export type StorageEvent = QueueEvent | WorkerEvent;

/** What {@linkcode Storage.readEvents} reads. */
export interface EventRead {
  /** Queues whose streams to read. */
  queues: readonly string[];
  /** Whether to read the workers' stream too (its cursor is `WORKER_STREAM`). */
  workers?: boolean;
  /**
   * Per stream (a queue name, or `WORKER_STREAM`): the id of the last event
   * already seen, "0" for everything still kept. A stream left out is read
   * from its end: only events after this call, and its cursor tells where
   * that end is.
   */
  after: Readonly<Record<string, string>>;
  /** Most events to return from each stream (>= 1). */
  limit: number;
  /**
   * When there is nothing to return: wait this many ms of real time at
   * most for an event (0: do not wait). Adapters may return earlier.
   */
  maxWaitMs: number;
  /** Ends a wait at once (resolves with what there is). */
  signal?: AbortSignal;
}

/** What {@linkcode Storage.readEvents} returns. */
export interface EventPage {
  /** Events after the cursors, in order within each stream. */
  events: StorageEvent[];
  /** Per stream read: the id of the last event returned, or the cursor to read on from. */
  cursors: Record<string, string>;
}

/** A queue of the store, from {@linkcode Storage.queues}. */
export interface QueueSummary {
  /** The queue's name. */
  name: string;
  /** Its jobs in each state. */
  counts: Counts;
  /** Whether it is paused. */
  paused: boolean;
}
