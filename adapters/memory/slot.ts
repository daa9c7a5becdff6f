import type { NewJob } from "../../core/storage.ts";
import type { JobError, JobState } from "../../core/task.ts";
import { copyJson } from "./json_copy.ts";
import type { LeaseGrant } from "./lease_grant.ts";
import type { QueueData } from "./queue_data.ts";
import type { Spec } from "./spec.ts";

/**
 * The stored form of one job: a monomorphic class, copied into a fresh
 * `JobRecord` on read (`toRecord`). What it shares with the jobs enqueued
 * with it is in its {@linkcode Spec}.
 *
 * @example
 * ```ts
 * import { QueueData } from "./queue_data.ts";
 * import { Slot } from "./slot.ts";
 * import { Spec } from "./spec.ts";
 *
 * const job = { id: "a", name: "send", queue: "default", payload: { to: "x" }, priority: 0,
 *   maxAttempts: null, maxStalls: 1, timeout: 0, runAt: 0 };
 * const slot = new Slot(job, new Spec(job, new QueueData("default"), 0), 0);
 * console.log(slot.state, slot.name, slot.payload); // "waiting" "send" { to: "x" }
 * ```
 */
export class Slot {
  readonly id: string;
  /** Replaced once, at reserve, when its task fills unset settings. */
  spec: Spec;
  /** Replaced by a `"debounce"` enqueue (on a clone: see `JobStore`). */
  payload: unknown;
  attempt = 0;
  stalls = 0;
  runAt: number;
  state: JobState;
  startedAt: number | undefined = undefined;
  finishedAt: number | undefined = undefined;
  lease: LeaseGrant | undefined = undefined;
  progress: unknown = undefined;
  result: unknown = undefined;
  error: JobError | undefined = undefined;
  /** Attempt errors, oldest first; undefined until the first (most jobs never fail). */
  errors: JobError[] | undefined = undefined;
  /**
   * Order among jobs that became waiting (or delayed) in the same queue, or
   * when it finished, the mark of its finished-list entry; reset on each move.
   */
  seq = 0;
  /** Set once the job is deleted, so lazily deleted heap entries are skipped. */
  removed = false;

  constructor(job: NewJob, spec: Spec, now: number) {
    this.id = job.id;
    this.spec = spec;
    this.payload = copyJson(job.payload);
    this.runAt = job.runAt;
    this.state = job.runAt <= now ? "waiting" : "delayed";
  }

  get name(): string {
    return this.spec.name;
  }
  get queue(): QueueData {
    return this.spec.queue;
  }
  get priority(): number {
    return this.spec.priority;
  }
  get maxAttempts(): number | null {
    return this.spec.maxAttempts;
  }
  get maxStalls(): number | null {
    return this.spec.maxStalls;
  }
  get timeout(): number | null {
    return this.spec.timeout;
  }
  get enqueuedAt(): number {
    return this.spec.enqueuedAt;
  }
}
